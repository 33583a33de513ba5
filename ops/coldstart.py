"""`python -m ops.coldstart`: every handler's cold start against bare boto3, in one run.

A cold start here is what a fresh Lambda execution environment pays before the first event: a
new interpreter imports the handler module and runs its initialisation, with the environment
variables its function gets in the template (references become placeholder names) and the
variables Lambda itself sets (so Powertools behaves as in Lambda: tracing on unless the template
turns it off). The baseline is a fresh interpreter doing `import boto3` and creating one client.
Interpreter start-up is excluded from both. Samples interleave (baseline, every handler, again)
so that a busy machine weighs on all of them alike; each figure is the median of `--runs`.

The ratio is the figure to compare across machines and changes (`docs/benchmarks.md`). The CPU
columns (the process's own CPU time, medians too) are the same comparison with the waits for a
busy machine's other processes left out; they move less when the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
BASELINE = "import boto3 + one client"

# Runs in a fresh interpreter: the time of its statement (wall clock and the process's CPU time),
# and the process's peak memory.
_PROBE = """
import json, sys, time
started, cpu_started = time.perf_counter(), time.process_time()
if sys.argv[1] == "--baseline":
    import boto3
    boto3.client("dynamodb")
else:
    import importlib
    importlib.import_module(sys.argv[1])
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "max_rss_kb": hwm}))
"""


ACCOUNT = "000000000000"
# What `Ref` returns for the resource types whose reference is not simply a name.
_REF_FORMATS = {
    "AWS::SNS::Topic": "arn:aws:sns:{region}:{account}:{name}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:{region}:{account}:stateMachine:{name}",
    "AWS::SQS::Queue": "https://sqs.{region}.amazonaws.com/{account}/{name}",
}
# What `Fn::GetAtt <resource>.Arn` returns, by resource type.
_ARN_FORMATS = {
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::KMS::Key": "arn:aws:kms:{region}:{account}:key/{name}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "AWS::Events::EventBus": "arn:aws:events:{region}:{account}:event-bus/{name}",
}


def _placeholder(value: Any, resources: dict[str, Any], region: str) -> str:
    """A string for a template value: literals as they are, references shaped as AWS returns them."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        name = value["Ref"]
        kind = resources.get(name, {}).get("Type", "")
        return _REF_FORMATS.get(kind, "{name}").format(region=region, account=ACCOUNT, name=name)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        name = value["Fn::GetAtt"][0]
        kind = resources.get(name, {}).get("Type", "")
        service = kind.split("::")[1].lower() if kind.count("::") == 2 else "local"
        default = f"arn:aws:{service}:{{region}}:{{account}}:{{name}}"
        return _ARN_FORMATS.get(kind, default).format(region=region, account=ACCOUNT, name=name)
    return "local-value"


def handlers(template: dict[str, Any], region: str) -> list[tuple[str, dict[str, str]]]:
    """(handler module, its environment) for every Lambda function of the template, one per module."""
    seen: dict[str, dict[str, str]] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        properties = resource["Properties"]
        handler = properties.get("Handler", "")
        if "." not in handler:
            continue
        variables = properties.get("Environment", {}).get("Variables", {})
        resources = template.get("Resources", {})
        environment = {name: _placeholder(value, resources, region) for name, value in variables.items()}
        if properties.get("TracingConfig", {}).get("Mode") != "Active":
            environment.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        environment["AWS_LAMBDA_FUNCTION_NAME"] = logical_id
        seen.setdefault(handler.rsplit(".", 1)[0], environment)
    return sorted(seen.items())


def lambda_environment(region: str, functions: Path = FUNCTIONS) -> dict[str, str]:
    """What Lambda sets in every execution environment (credentials are dummies: nothing is called)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(functions),
        "LAMBDA_TASK_ROOT": str(functions),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def probe(target: str, environment: dict[str, str]) -> dict[str, float]:
    """One fresh interpreter, started in the code directory its environment names."""
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _PROBE, target],
        cwd=environment["LAMBDA_TASK_ROOT"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{target}: {completed.stderr[-2000:]}")
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def measure(template: dict[str, Any], region: str, runs: int, functions: Path = FUNCTIONS) -> list[dict[str, Any]]:
    base = lambda_environment(region, functions)
    targets = [(BASELINE, "--baseline", base)]
    targets += [(module, module, {**base, **environment}) for module, environment in handlers(template, region)]
    samples: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in targets}
    for _ in range(runs):
        for name, target, environment in targets:
            samples[name].append(probe(target, environment))
    baseline = statistics.median(s["seconds"] for s in samples[BASELINE])
    cpu_baseline = statistics.median(s["cpu_seconds"] for s in samples[BASELINE])
    rows = []
    for name, _, _ in targets:
        median = statistics.median(s["seconds"] for s in samples[name])
        cpu = statistics.median(s["cpu_seconds"] for s in samples[name])
        rows.append(
            {
                "module": name,
                "median_ms": median * 1000,
                "min_ms": min(s["seconds"] for s in samples[name]) * 1000,
                "ratio": median / baseline,
                "cpu_ms": cpu * 1000,
                "cpu_ratio": cpu / cpu_baseline,
                "max_rss_mb": max(s["max_rss_kb"] for s in samples[name]) / 1024,
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| handler module | median ms | min ms | × baseline | CPU ms | × baseline (CPU) | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| `{row['module']}` | {row['median_ms']:.0f} | {row['min_ms']:.0f} | {row['ratio']:.2f} | "
            f"{row['cpu_ms']:.0f} | {row['cpu_ratio']:.2f} | {row['max_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def _template(assembly: Path | None) -> dict[str, Any]:
    if assembly is not None:
        from local.assembly import CloudAssembly

        return CloudAssembly.load(assembly).stack(None).template
    from rich.console import Console

    from local.cli import synthesize

    with tempfile.TemporaryDirectory() as directory:
        synthesize(Path(directory), None, Console(stderr=True))
        from local.assembly import CloudAssembly

        return CloudAssembly.load(directory).stack(None).template


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.coldstart", description=__doc__.splitlines()[0])
    parser.add_argument("--assembly", type=Path, help="a synthesized cloud assembly (default: synthesize one now)")
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per figure (default 7)")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    parser.add_argument(
        "--functions",
        type=Path,
        default=FUNCTIONS,
        help="the functions' code (default: functions/); an earlier revision's, for a before and after: "
        "git archive <rev> functions | tar -x -C /tmp/before, then --functions /tmp/before/functions",
    )
    args = parser.parse_args(argv)

    rows = measure(_template(args.assembly), args.region, args.runs, args.functions.resolve())
    print(markdown(rows))
    worst = max(rows[1:], key=lambda row: row["ratio"], default=None)
    if worst is not None:
        print(
            f"\nslowest: {worst['module']} at {worst['ratio']:.2f}× {BASELINE} "
            f"({worst['cpu_ratio']:.2f}× in CPU time; medians of {args.runs})"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
