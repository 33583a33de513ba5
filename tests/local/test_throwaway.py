"""Acceptance: a throwaway function, queue and route in a test-only stack run with no runner change.

The stack is defined here, its code written here; the runner learns everything from the
synthesized template. It runs next to the session's cloud in the same moto server, which also
shows that a stopped stack leaves nothing behind (it starts again under the same names). It keeps
the faithful default: a failed message comes back only after the queue's visibility timeout. And
its API shapes API Gateway's own errors with a gateway response, as a deployed API would.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import requests

HANDLER = """
import json
import os
import time


def handler(event, context):
    if "Records" in event:
        for record in event["Records"]:
            count = record["attributes"]["ApproximateReceiveCount"]
            print(json.dumps({"body": record["body"], "count": count, "at": time.time()}))
            if count == "1":
                raise RuntimeError("the first delivery fails")
        return None
    return {"statusCode": 200, "body": json.dumps({"greeting": os.environ["GREETING"], "path": event["path"]})}
"""


THROWAWAY_ASSEMBLY = Path(__file__).resolve().parents[2] / ".local" / "throwaway-test.out"


@pytest.fixture(scope="module")
def throwaway_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Synthesized like the runner's test stack (tests/local/conftest.py): kept in `.local/` and
    synthesized again only when this module or the CDK version changes."""
    import shutil

    from local import synth_cache

    root = THROWAWAY_ASSEMBLY.parents[1]
    inputs = {"watch": {"include": ["tests/local/test_throwaway.py"]}}
    digest = synth_cache.fingerprint(root, inputs, ["tests/local/test_throwaway.py::throwaway_assembly"], {})

    def synthesize() -> None:
        shutil.rmtree(THROWAWAY_ASSEMBLY, ignore_errors=True)
        _synthesize(THROWAWAY_ASSEMBLY, tmp_path_factory.mktemp("throwaway-code"))

    synth_cache.synthesize_once(THROWAWAY_ASSEMBLY, digest, synthesize)
    return THROWAWAY_ASSEMBLY


def _synthesize(outdir: Path, code: Path) -> None:
    import aws_cdk as cdk
    from aws_cdk import aws_apigateway as apigw
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_lambda_event_sources as sources
    from aws_cdk import aws_sqs as sqs

    (code / "throwaway.py").write_text(textwrap.dedent(HANDLER))
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Throwaway")
    function = lambda_.Function(
        stack,
        "ThrowawayFn",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="throwaway.handler",
        code=lambda_.Code.from_asset(str(code)),
        environment={"GREETING": "hello from a throwaway"},
    )
    queue = sqs.Queue(stack, "ThrowawayQueue", visibility_timeout=cdk.Duration.seconds(2))
    function.add_event_source(sources.SqsEventSource(queue, batch_size=1))
    api = apigw.RestApi(stack, "ThrowawayApi")
    route = api.root.add_resource("throwaway")
    route.add_method("GET", apigw.LambdaIntegration(function))
    route.add_method(
        "POST",
        apigw.LambdaIntegration(function),
        request_validator=api.add_request_validator("Body", validate_request_body=True),
        request_models={
            "application/json": api.add_model(
                "Thing",
                content_type="application/json",
                schema=apigw.JsonSchema(
                    schema=apigw.JsonSchemaVersion.DRAFT4, type=apigw.JsonSchemaType.OBJECT, required=["name"]
                ),
            )
        },
    )
    # The deployed API's own errors get the app's error shape.
    api.add_gateway_response(
        "Default4xx",
        type=apigw.ResponseType.DEFAULT_4_XX,
        response_headers={"X-Shaped": "'yes'"},
        templates={
            "application/json": '{"error": $context.error.messageString, '
            '"details": "$context.error.validationErrorString", "request": "$context.requestId"}'
        },
    )
    app.synth()


def run_throwaway(assembly: Path, work_dir: Path) -> None:
    from local.cloud import LocalCloud

    with LocalCloud.from_assembly(assembly, work_dir=work_dir) as cloud:  # faithful: no redelivery_delay
        response = requests.get(f"{cloud.api_url}/throwaway", timeout=30)
        assert response.status_code == 200
        assert response.json() == {"greeting": "hello from a throwaway", "path": "/throwaway"}
        assert requests.get(f"{cloud.api_url}/prod/throwaway", timeout=30).status_code == 200

        unknown = requests.delete(f"{cloud.api_url}/throwaway", timeout=30)
        assert unknown.status_code == 403 and unknown.headers["X-Shaped"] == "yes"
        assert unknown.json() == {
            "error": "Missing Authentication Token",
            "details": "",
            "request": unknown.headers["x-amzn-RequestId"],
        }
        invalid = requests.post(f"{cloud.api_url}/throwaway", json={"other": 1}, timeout=30)
        assert invalid.status_code == 400
        assert invalid.json()["error"] == "Invalid request body"
        assert "'name' is a required property" in invalid.json()["details"]

        queue_url = cloud.find(type="AWS::SQS::Queue").physical_id
        cloud.client("sqs").send_message(QueueUrl=queue_url, MessageBody="throwaway message")
        cloud.wait_idle(timeout=20)
        deliveries = [json.loads(line) for line in cloud.logs("ThrowawayFn") if line.startswith('{"body"')]
        assert [d["count"] for d in deliveries] == ["1", "2"]
        assert deliveries[1]["at"] - deliveries[0]["at"] >= 1.9  # the queue's 2 s visibility timeout


def test_throwaway_stack_runs_beside_the_session_cloud(cloud: Any, throwaway_assembly: Path, tmp_path: Path) -> None:
    run_throwaway(throwaway_assembly, tmp_path / "first")
    run_throwaway(throwaway_assembly, tmp_path / "second")  # teardown left no name taken
    # The session's cloud was never disturbed.
    assert not cloud.invoke("EchoA", {"still": "here"}).errored
    assert cloud.client("dynamodb").describe_table(TableName="local-runner-records")["Table"]["TableStatus"] == "ACTIVE"
