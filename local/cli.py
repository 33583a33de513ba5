"""`python -m local`: synthesize the app, run it on the local cloud, serve until Ctrl-C.

python -m local                      # synth (app.py) into cdk.out, then serve on :3000
python -m local serve --no-synth --assembly cdk.out --port 3000 --redelivery-delay 1
python -m local iam-report           # after a run: what each role used, and granted but never used

While it serves, `<work dir>/resources.json` (default `.local/resources.json`) says where the
cloud is and what its resources are called, for tools that work on the running cloud.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.logging import RichHandler

from local import synth_cache

log = logging.getLogger("local")

# The CDK CLI adds these to every synthesis; without them there is no construct-path or asset
# metadata in the template (the runner copes, but `find(path_contains=...)` wants paths).
CLI_CONTEXT = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
# Added to every synthesis for the local cloud, so that an app can tell (cdk.json's context may
# override it): `self.node.try_get_context("local:cloud")`.
LOCAL_CONTEXT = {"local:cloud": True}
QUIET_JSII = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    "JSII_DEPRECATED": "quiet",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m local", description="Run the CDK app on a local cloud (moto).")
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "iam-report"],
        help="what to do (default: serve); iam-report: each role's use of its grants in the work dir's last run",
    )
    parser.add_argument("--assembly", default="cdk.out", help="cloud assembly directory (default: cdk.out)")
    parser.add_argument(
        "--synth",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="synthesize the app into the assembly directory first (default: yes; skipped when the files "
        "cdk.json's watch.include names, the context and the CDK version are those of the assembly's last "
        "synthesis here)",
    )
    parser.add_argument(
        "--force-synth",
        action="store_true",
        help="synthesize even when the assembly is current",
    )
    parser.add_argument(
        "--app",
        default=None,
        help="command that synthesizes the app (default: cdk.json's `app`, else `<python> app.py`)",
    )
    parser.add_argument("--stack", default=None, help="stack to run (default: the only or first one)")
    parser.add_argument("--port", type=int, default=3000, help="port of the REST API (default: 3000; 0: any free)")
    parser.add_argument(
        "--redelivery-delay",
        type=float,
        default=None,
        help="local-only: seconds before a failed message/batch is retried "
        "(default: AWS behaviour, the queue's visibility timeout)",
    )
    parser.add_argument("--max-concurrency", type=int, default=4, help="worker processes per function (default: 4)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION"), help="region of local ARNs")
    parser.add_argument(
        "--work-dir",
        default=".local",
        help="logs, scratch files and resources.json for `python -m ops` (default: .local)",
    )
    parser.add_argument(
        "--no-prewarm",
        dest="prewarm",
        action="store_false",
        help="do not start one worker per function ahead of the first request",
    )
    parser.add_argument(
        "--static",
        action="append",
        default=[],
        metavar="PREFIX=DIR",
        help="also serve the files of DIR under PREFIX on the API's port, e.g. /docs=site (repeatable)",
    )
    parser.add_argument(
        "--mount",
        action="append",
        default=[],
        metavar="PREFIX=MODULE:FUNCTION",
        help="also serve PREFIX on the API's port with the handler FUNCTION(cloud, prefix) returns (repeatable)",
    )
    parser.add_argument(
        "--no-iam",
        dest="iam",
        action="store_false",
        help="do not authorize the calls functions and workflows make against their roles (default: enforced)",
    )
    parser.add_argument(
        "--hint",
        action="append",
        default=[],
        metavar="TEXT",
        help="also print TEXT under 'try' once the cloud is up; {endpoint}, {api}, {region} and {resources} "
        "are filled in (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="iam-report: JSON instead of text")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def parse_mounts(statics: list[str], mounts: list[str]) -> list[tuple[str, str, str]]:
    """`--static PREFIX=DIR` and `--mount PREFIX=MODULE:FUNCTION` -> (prefix, kind, target)."""
    parsed = []
    for kind, values in (("static", statics), ("mount", mounts)):
        for value in values:
            prefix, separator, target = value.partition("=")
            if not separator or not prefix.strip("/") or not target:
                raise SystemExit(
                    f"--{kind} {value!r}: expected PREFIX={'DIR' if kind == 'static' else 'MODULE:FUNCTION'}"
                )
            if kind == "static" and not Path(target).is_dir():
                raise SystemExit(f"--static {value!r}: {target} is not a directory")
            if kind == "mount" and ":" not in target:
                raise SystemExit(f"--mount {value!r}: expected MODULE:FUNCTION after '='")
            parsed.append(("/" + prefix.strip("/"), kind, target))
    return parsed


def apply_mounts(cloud: Any, mounts: list[tuple[str, str, str]]) -> None:
    """Mounts each handler on the cloud's API port (see `LocalCloud.mount`)."""
    import importlib

    from local.apigateway_http import static_files

    for prefix, kind, target in mounts:
        if kind == "static":
            cloud.mount(prefix, static_files(target, prefix))
        else:
            module, _, function = target.partition(":")
            cloud.mount(prefix, getattr(importlib.import_module(module), function)(cloud, prefix))


def synthesize(assembly: Path, app: str | None, console: Console, *, reuse: bool = False) -> None:
    """Runs the CDK app the way `cdk synth` does: CDK_OUTDIR plus the CLI's context. With `reuse`,
    an assembly synthesized here from the same inputs is kept as it is (local.synth_cache)."""
    cdk_json = Path("cdk.json")
    config: dict[str, Any] = json.loads(cdk_json.read_text()) if cdk_json.is_file() else {}
    command = shlex.split(app or config.get("app") or f"{shlex.quote(sys.executable)} app.py")
    if command and command[0] in ("python", "python3"):
        command[0] = sys.executable  # the interpreter running the local cloud has the app's packages
    context: dict[str, Any] = dict(config.get("context", {}))
    cached = Path("cdk.context.json")
    if cached.is_file():
        context.update(json.loads(cached.read_text()))
    context.update(CLI_CONTEXT)
    context = {**LOCAL_CONTEXT, **context}
    digest = synth_cache.fingerprint(Path.cwd(), config, command, context) if reuse else None
    if synth_cache.is_current(assembly, digest):
        console.print(
            f"[green]✓[/] {assembly} is current: the app's files and context are unchanged since its synthesis"
        )
        return
    env = {**os.environ, **QUIET_JSII, "CDK_OUTDIR": str(assembly), "CDK_CONTEXT_JSON": json.dumps(context)}
    started = time.monotonic()
    with console.status(f"synthesizing: {' '.join(command)}"):
        completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        console.print(completed.stdout, completed.stderr, markup=False)
        raise SystemExit(f"synthesis failed (exit {completed.returncode})")
    synth_cache.remember(assembly, digest)
    console.print(f"[green]✓[/] synthesized into {assembly} in {time.monotonic() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "iam-report":
        from local import iam_report

        return iam_report.main(args.work_dir, as_json=args.json)
    console = Console()
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False, rich_tracebacks=True)],
    )
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "jsii"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    assembly = Path(args.assembly)
    mounts = parse_mounts(args.static, args.mount)
    if args.synth:
        synthesize(assembly, args.app, console, reuse=not args.force_synth)

    from local.cloud import LocalCloud
    from local.resources_file import remove_resources, write_resources
    from local.summary import print_summary

    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    cloud = LocalCloud.from_assembly(
        assembly,
        args.stack,
        api_port=args.port,
        redelivery_delay=args.redelivery_delay,
        max_concurrency=args.max_concurrency,
        region=args.region,
        work_dir=args.work_dir,
        prewarm=args.prewarm,
        iam=args.iam,
    )
    with console.status(f"starting stack {cloud.stack.stack_name}"):
        cloud.start(progress=lambda message: console.print(f"[green]✓[/] {message}"))
    resources_file = Path(args.work_dir) / "resources.json"
    try:
        apply_mounts(cloud, mounts)
        write_resources(cloud, resources_file)
        print_summary(cloud, console, resources_file, [prefix for prefix, _, _ in mounts], args.hint)
        while not stop.wait(0.5):
            pass
    finally:
        with console.status("stopping"):
            remove_resources(resources_file, cloud.endpoint_url)
            cloud.stop()
        console.print("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
