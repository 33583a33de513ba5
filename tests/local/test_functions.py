"""Functions run for real: their own environment and code, Lambda's context, errors and limits."""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from typing import Any

from tests.local.conftest import LEAK_CANARY

RUNTIME_VARIABLES = {
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
    "PYTHONPATH",
    "TZ",
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
}
LOCAL_REDIRECTIONS = {
    "AWS_ENDPOINT_URL",
    "AWS_DISABLE_HOST_PREFIX_INJECTION",
    "POWERTOOLS_TRACE_DISABLED",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
}
BASICS = {"PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP"}


def echo(cloud: Any, function: str, event: Any = None) -> dict[str, Any]:
    result = cloud.invoke(function, event if event is not None else {"hello": function})
    assert not result.errored, result.payload
    return result.json()


def test_each_function_sees_exactly_its_environment(cloud: Any) -> None:
    seen_a = echo(cloud, "EchoA")["env"]
    seen_b = echo(cloud, "EchoB")["env"]
    assert seen_a["SECRET_A"] == "alpha" and "SECRET_B" not in seen_a
    assert seen_b["SECRET_B"] == "bravo" and "SECRET_A" not in seen_b
    for seen, own in (
        (seen_a, {"SECRET_A", "POWERTOOLS_SERVICE_NAME"}),
        (seen_b, {"SECRET_B", "POWERTOOLS_SERVICE_NAME"}),
    ):
        assert LEAK_CANARY not in seen
        assert set(seen) <= own | RUNTIME_VARIABLES | LOCAL_REDIRECTIONS | BASICS, set(seen) - own - RUNTIME_VARIABLES
        assert seen["AWS_ENDPOINT_URL"] == cloud.endpoint_url
        assert seen["AWS_DISABLE_HOST_PREFIX_INJECTION"] == "true"
        assert seen["POWERTOOLS_TRACE_DISABLED"] == "true"
        assert seen["AWS_REGION"] == cloud.region
    assert seen_a["AWS_LAMBDA_FUNCTION_NAME"] == cloud.function_name("EchoA")
    assert seen_a["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert seen_a["_HANDLER"] == "handlers.echo"
    assert os.environ.get(LEAK_CANARY)  # the canary really was there to leak


def test_code_runs_from_the_asset_with_lambdas_context(cloud: Any) -> None:
    answer = echo(cloud, "EchoA")
    code_dir = cloud.functions[cloud.function_name("EchoA")].spec.code_dir
    assert Path(answer["helper_file"]).parent == code_dir
    assert Path(answer["cwd"]) == code_dir
    context = answer["context"]
    name = cloud.function_name("EchoA")
    assert context["function_name"] == name
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == cloud.find(path_contains="/EchoA/Resource").arn
    assert context["memory_limit_in_mb"] == "256"
    assert context["log_group_name"] == f"/aws/lambda/{name}"
    assert "[$LATEST]" in context["log_stream_name"]
    assert 0 < context["remaining_ms"] <= 10_000
    assert len(context["aws_request_id"]) == 36


def test_workers_stay_warm_and_cold_start_once(cloud: Any) -> None:
    first = cloud.invoke("EchoB", {"n": 1})
    second = cloud.invoke("EchoB", {"n": 2})
    assert second.json()["pid"] == first.json()["pid"]
    assert second.json()["cold_start_at"] == first.json()["cold_start_at"]
    assert not second.cold_start


def test_concurrency_is_capped_per_function(cloud: Any) -> None:
    pool = cloud.functions[cloud.function_name("Slow")]
    results = []

    def run() -> None:
        results.append(cloud.invoke("Slow", {"sleep": 0.3}))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.errored for r in results] == [False] * 6
    assert 2 <= pool.workers <= cloud.max_concurrency == 4


def test_timeout_kills_the_environment_and_reports_sandbox_timedout(cloud: Any) -> None:
    result = cloud.invoke("Slow", {"sleep": 5})
    assert result.errored
    payload = result.json()
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    assert 900 <= result.duration_ms < 3000
    assert not cloud.invoke("Slow", {"sleep": 0}).errored  # a fresh environment serves the next one


def test_a_crashing_runtime_reports_runtime_exit_error(cloud: Any) -> None:
    exited = cloud.invoke("Crash", {"code": 3})
    assert exited.errored and exited.json()["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in exited.json()["errorMessage"]
    crashed = cloud.invoke("Crash", {"signal": True})
    assert crashed.json()["errorType"] == "Runtime.ExitError"
    assert "signal: segmentation fault" in crashed.json()["errorMessage"]


def test_handler_errors_are_reported_like_lambda(cloud: Any) -> None:
    result = cloud.invoke("Flaky", {"key": "always", "always_fail": True})
    payload = result.json()
    assert result.errored
    assert payload["errorType"] == "FlakyError"
    assert payload["errorMessage"].startswith("attempt ")
    assert any("handlers.py" in frame for frame in payload["stackTrace"])
    marshal = cloud.invoke("Unserializable", {})
    assert marshal.json()["errorType"] == "Runtime.MarshalError"
    assert any("[ERROR] FlakyError" in line for line in cloud.logs("Flaky"))


def test_lambda_invoke_through_the_aws_api(cloud: Any) -> None:
    client = cloud.client("lambda")
    ok = client.invoke(FunctionName=cloud.function_name("EchoA"), Payload=json.dumps({"via": "api"}), LogType="Tail")
    assert "FunctionError" not in ok
    assert json.loads(ok["Payload"].read())["event"] == {"via": "api"}
    assert "echo" in base64.b64decode(ok["LogResult"]).decode()
    failed = client.invoke(
        FunctionName=cloud.function_name("Flaky"), Payload=json.dumps({"key": "x", "always_fail": True})
    )
    assert failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorType"] == "FlakyError"


def test_asynchronous_invocations_return_at_once_and_run(cloud: Any, unique: str) -> None:
    client = cloud.client("lambda")
    response = client.invoke(
        FunctionName=cloud.function_name("EchoB"), InvocationType="Event", Payload=json.dumps({unique: True})
    )
    assert response["StatusCode"] == 202
    cloud.wait_idle()
    assert any(unique in line for line in cloud.logs("EchoB"))  # the handler logs the event's keys


def test_logs_are_captured_in_memory_and_in_files(cloud: Any) -> None:
    echo(cloud, "EchoA", {"log": "me"})
    lines = cloud.logs("EchoA")
    assert "not a protocol line {" in lines
    structured = [json.loads(line[line.index("{") :]) for line in lines if '"message":"echo"' in line]
    assert structured and structured[-1]["service"] == "EchoA" and structured[-1]["level"] == "INFO"
    log_file = cloud.log_dir / f"{cloud.function_name('EchoA')}.log"
    text = log_file.read_text()
    assert "not a protocol line {" in text and "REPORT RequestId:" in text


def test_the_worker_times_the_handler_and_every_request_it_sends(cloud: Any, unique: str) -> None:
    quiet = cloud.invoke("EchoA", {"hello": unique})
    assert quiet.timing is not None and quiet.timing.sends == []
    assert 0 < (quiet.timing.ended - quiet.timing.started) * 1000 <= quiet.handler_ms

    writing = cloud.invoke("GrantedWriter", {"pk": unique})
    timing = writing.timing
    assert not writing.errored and timing is not None
    assert len(timing.sends) >= 1 and timing.cpu > 0  # the PutItem (a retry would be a second request)
    assert all(timing.started <= start <= end <= timing.ended for start, end in timing.sends)
