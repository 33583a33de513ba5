"""Infrastructure assertions over the synthesized template (the same one `cdk deploy` uses)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from cdk.retries import DYNAMODB_TRANSIENT_ERRORS, LAMBDA_SERVICE_ERRORS, TRANSIENT_ERRORS

EXPECTED_HANDLERS = {
    "orders.handlers.api.lambda_handler",
    "orders.handlers.saga_tasks.lambda_handler",
    "orders.handlers.outbox_relay.lambda_handler",
    "orders.handlers.projector.lambda_handler",
    "orders.handlers.timeline.lambda_handler",
    "orders.handlers.reconciler.lambda_handler",
    "inventory.handlers.api.lambda_handler",
    "inventory.handlers.saga_tasks.lambda_handler",
    "inventory.handlers.consumer.lambda_handler",
    "payments.handlers.tasks.lambda_handler",
    "payments.handlers.consumer.lambda_handler",
    "shipping.handlers.consumer.lambda_handler",
    "notifications.handlers.consumer.lambda_handler",
}


def _definition(synthesized, logical_prefix: str) -> dict[str, Any]:
    """The state machine definition with CloudFormation tokens replaced by placeholders."""
    for logical_id, resource in synthesized.resources("AWS::StepFunctions::StateMachine").items():
        if logical_id.startswith(logical_prefix):
            parts = resource["Properties"]["DefinitionString"]["Fn::Join"][1]
            text = "".join(p if isinstance(p, str) else "TOKEN" for p in parts)
            return json.loads(text)
    raise AssertionError(f"no state machine {logical_prefix}")


def test_every_service_function_exists_with_its_handler(synthesized):
    functions = synthesized.resources("AWS::Lambda::Function")
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    assert handlers == EXPECTED_HANDLERS


def test_functions_are_traced_json_logged_with_retention_and_the_powertools_layer(synthesized):
    for logical_id, fn in synthesized.resources("AWS::Lambda::Function").items():
        props = fn["Properties"]
        assert props["Runtime"].startswith("python3.1"), logical_id
        assert props["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert props["LoggingConfig"]["LogFormat"] == "JSON", logical_id
        assert props["LoggingConfig"]["ApplicationLogLevel"] == "INFO", logical_id
        assert props["LoggingConfig"]["SystemLogLevel"] == "WARN", logical_id
        log_group = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert synthesized.template_json["Resources"][log_group]["Properties"]["RetentionInDays"] > 0
        (layer,) = props["Layers"]
        assert "/aws/service/powertools/python/arm64/" in layer, logical_id
        assert props["Architectures"] == ["arm64"], logical_id
        assert props["MemorySize"] in (256, 512), logical_id
        assert props["Timeout"] <= 29


def test_each_function_has_its_own_role_without_managed_policies(synthesized):
    functions = synthesized.resources("AWS::Lambda::Function")
    roles = [fn["Properties"]["Role"]["Fn::GetAtt"][0] for fn in functions.values()]
    assert len(roles) == len(set(roles)), "two functions share a role"
    for role in roles:
        props = synthesized.template_json["Resources"][role]["Properties"]
        assert not props.get("ManagedPolicyArns"), f"{role} uses a managed policy"


def _statements(synthesized) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for logical_id, policy in synthesized.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            out.append((logical_id, statement))
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


WILDCARD_ALLOWED = {
    # Actions without resource-level permissions (X-Ray, CloudWatch Logs delivery).
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
    # The stream event source mapping lists the table's streams; ListStreams has no resource scope.
    "dynamodb:ListStreams",
}


def test_no_wildcard_actions_and_no_wildcard_resources_beyond_xray_and_log_delivery(synthesized):
    for logical_id, statement in _statements(synthesized):
        actions = _as_list(statement["Action"])
        assert "*" not in actions, logical_id
        assert not any(a.endswith(":*") for a in actions), (logical_id, actions)
        if "*" in _as_list(statement.get("Resource", [])):
            assert set(actions) <= WILDCARD_ALLOWED, (logical_id, actions)


def test_saga_is_an_express_state_machine_with_logging_and_tracing(synthesized):
    synthesized.template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "EXPRESS",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": False}),
        },
    )


def test_saga_states_in_order_with_compensation(synthesized):
    definition = _definition(synthesized, "OrderSaga")
    states = definition["States"]
    # The API recorded the order: the saga reads it with a consistent GetItem, no function.
    assert definition["StartAt"] == "ReadOrder"
    read = states["ReadOrder"]
    assert read["Resource"].endswith(":states:::dynamodb:getItem")
    assert read["Parameters"]["ConsistentRead"] is True
    assert read["Parameters"]["Key"] == {"order_id": {"S.$": "$.order_id"}}

    def choices(state: str) -> list[tuple[str, str, str]]:
        return [(c["Variable"], c["StringEquals"], c["Next"]) for c in states[state]["Choices"]]

    # An execution that finds its order decided (a redrive, the reconciler's compensation run)
    # only answers (CONFIRMED) or only compensates (REJECTED); it never reserves or charges again.
    assert read["Next"] == "AlreadyDecided?"
    decided = states["AlreadyDecided?"]["Choices"]
    assert (decided[0]["Variable"], decided[0]["IsPresent"], decided[0]["Next"]) == (
        "$.stored.Item",
        False,
        "RecordOrder",
    ), "an order never recorded is recorded by the orders function"
    assert decided[1]["And"][0] == {"Variable": "$.stored.Item.status.S", "StringEquals": "CONFIRMED"}
    assert decided[1]["Next"] == "StoredConfirmation" and states["StoredConfirmation"]["Next"] == "OrderConfirmed"
    assert decided[2]["And"][0] == {"Variable": "$.stored.Item.status.S", "StringEquals": "REJECTED"}
    assert decided[2]["Next"] == "StoredRejection" and states["StoredRejection"]["Next"] == "RefundPayment"
    assert states["AlreadyDecided?"]["Default"] == "ReserveInventory"
    assert choices("RecordedDecided?") == [
        ("$.order.result.status", "CONFIRMED", "OrderConfirmed"),
        ("$.order.result.status", "REJECTED", "RefundPayment"),
    ]
    assert states["RecordedDecided?"]["Default"] == "ReserveInventory"
    # Forward: reserve, charge (tax, authorize the full amount, capture) in one invocation, the pivot.
    assert states["ReserveInventory"]["Next"] == "StockReserved?"
    assert choices("StockReserved?") == [("$.reservation.result.status", "RESERVED", "ChargePayment")]
    charge = states["ChargePayment"]["Parameters"]["Payload"]
    assert charge["action"] == "charge" and charge["amount_cents.$"] == "$.total_cents"
    assert charge["payment_ref.$"] == "$.payment_ref"
    assert 0 < charge["budget_ms"] < states["ChargePayment"]["TimeoutSeconds"] * 1000
    assert choices("PaymentCaptured?") == [
        ("$.payment.result.status", "CAPTURED", "ConfirmOrder"),
        ("$.payment.result.status", "DECLINED", "RejectDeclined"),
    ]
    assert states["PaymentCaptured?"]["Default"] == "RejectPaymentUnavailable", "a final payment never confirms"
    # The pivot: after ConfirmOrder the saga only answers.
    assert states["ConfirmOrder"]["Parameters"]["Payload"]["tax_cents.$"] == "$.payment.result.tax_cents"
    assert states["ConfirmOrder"]["Next"] == "Confirmed?"
    assert choices("Confirmed?") == [("$.order.result.status", "CONFIRMED", "OrderConfirmed")]
    assert states["Confirmed?"]["Default"] == "RefundPayment", "rejected meanwhile (the reconciler): compensate"
    assert states["OrderConfirmed"]["Type"] == "Pass" and "Next" not in states["OrderConfirmed"]
    # At most three functions after the API on any path to a decision.
    lambdas = {name for name, state in states.items() if state.get("Resource", "").endswith(":lambda:invoke")}
    assert {"ReserveInventory", "ChargePayment", "ConfirmOrder"} <= lambdas
    assert not {"CalculateTax", "AuthorizePayment", "CapturePayment"} & set(states)
    # No announcement step: the outbox relay publishes the stored outcome.
    assert not [name for name, state in states.items() if state.get("Resource", "").endswith(":events:putEvents")]
    # Compensation makes the rejection durable first, and crosses the pivot never.
    for decision in ("RejectOutOfStock", "RejectDeclined", "RejectPaymentUnavailable", "RejectInternalError"):
        assert states[decision]["Next"] == "RejectOrder", decision
    assert states["RejectOrder"]["Next"] == "RejectionDurable?"
    durable = states["RejectionDurable?"]["Choices"]
    assert (durable[0]["Variable"], durable[0]["StringEquals"], durable[0]["Next"]) == (
        "$.order.result.status",
        "CONFIRMED",
        "OrderConfirmed",
    )
    # out of stock: nothing reserved nor charged, nothing to undo
    assert (durable[1]["Variable"], durable[1]["StringEquals"], durable[1]["Next"]) == (
        "$.decision.reason",
        "OUT_OF_STOCK",
        "OrderRejected",
    )
    assert states["RejectionDurable?"]["Default"] == "RefundPayment"
    assert states["RefundPayment"]["Next"] == "VoidAuthorization"
    assert states["VoidAuthorization"]["Next"] == "ReleaseInventory"
    assert states["ReleaseInventory"]["Next"] == "OrderRejected"
    assert states["OrderRejected"]["Parameters"]["reason.$"] == "$.order.result.reason", "the stored reason"


def test_every_task_has_a_timeout_and_retries_transient_errors(synthesized):
    for prefix in ("OrderSaga", "PaymentsWorkflow"):
        for name, state in _definition(synthesized, prefix)["States"].items():
            if state["Type"] != "Task":
                continue
            assert state.get("TimeoutSeconds"), f"{prefix}.{name} has no timeout"
            if state["Resource"].endswith(":sqs:sendMessage"):
                continue  # the parking step is the last resort; its own failure fails the execution
            retried = [error for retry in state.get("Retry", []) for error in retry["ErrorEquals"]]
            expected = (
                DYNAMODB_TRANSIENT_ERRORS
                if ":states:::dynamodb:" in state["Resource"]
                else [*LAMBDA_SERVICE_ERRORS, *TRANSIENT_ERRORS]
            )
            for error in expected:
                assert error in retried, f"{prefix}.{name} does not retry {error}"
            for retry in state["Retry"]:
                assert retry["BackoffRate"] >= 2 and retry["MaxAttempts"] >= 2


def test_saga_failures_are_caught_by_compensation(synthesized):
    states = _definition(synthesized, "OrderSaga")["States"]
    catches = {name: [c["Next"] for c in s.get("Catch", [])] for name, s in states.items()}
    assert catches["ReserveInventory"] == ["RejectInternalError"]
    assert catches["ChargePayment"] == ["RejectPaymentUnavailable"]
    # a confirm that failed through its retries may have landed: RejectOrder (conditional) finds out
    assert catches["ConfirmOrder"] == ["RejectInternalError"]
    for step in ("RefundPayment", "VoidAuthorization", "ReleaseInventory", "RejectOrder"):
        assert catches[step] == ["ParkCompensationFailed"], step
    assert catches["RecordOrder"] == ["ParkOrderNotRecorded"]
    assert catches["ReadOrder"] == ["ParkOrderNotRecorded"]
    assert states["ParkCompensationFailed"]["Next"] == "CompensationFailed"
    assert states["CompensationFailed"]["Type"] == "Fail"
    parked = states["ParkCompensationFailed"]["Parameters"]["MessageBody"]
    assert {"order_id.$", "items.$", "payment_ref.$", "correlation_id.$"} <= set(parked)
    assert not any("payment_token" in field for field in parked)


def test_payment_workflow_is_one_charge_step(synthesized):
    definition = _definition(synthesized, "PaymentsWorkflow")
    states = definition["States"]
    assert definition["StartAt"] == "ChargePayment"
    charge = states["ChargePayment"]["Parameters"]["Payload"]
    assert charge["action"] == "charge"
    assert charge["amount_cents.$"] == "$.amount_cents"
    assert charge["payment_ref.$"] == "$.payment_ref"
    assert states["ChargePayment"]["Next"] == "Captured?"
    captured = states["Captured?"]
    assert [(c["Variable"], c["StringEquals"], c["Next"]) for c in captured["Choices"]] == [
        ("$.capture.result.status", "CAPTURED", "PaymentCompleted"),
        ("$.capture.result.status", "DECLINED", "PaymentDeclined"),
    ]
    assert captured["Default"] == "VoidAuthorization", "only CAPTURED ends in PaymentCompleted"
    assert states["VoidAuthorization"]["Next"] == "AnnouncePaymentFailed"
    # the capture is the workflow's pivot: a failed charge asks whether its capture landed, never refunds blindly
    assert [c["Next"] for c in states["ChargePayment"]["Catch"]] == ["CaptureLanded"]
    assert states["CaptureLanded"]["Parameters"]["Payload"]["action"] == "settle"
    assert states["CaptureLanded"]["Next"] == "Captured?"
    assert [c["Next"] for c in states["CaptureLanded"]["Catch"]] == ["ParkUnsettledCapture"]
    assert states["ParkUnsettledCapture"]["Next"] == "CaptureUnsettled"
    # Express (docs/decisions.md): idempotent steps make at-least-once safe, at a fraction of the price
    workflows = [
        machine
        for logical_id, machine in synthesized.resources("AWS::StepFunctions::StateMachine").items()
        if logical_id.startswith("PaymentsWorkflow")
    ]
    assert [machine["Properties"]["StateMachineType"] for machine in workflows] == ["EXPRESS"]


def test_consumers_off_the_critical_path_batch_and_the_others_do_not(synthesized):
    mappings = {
        mapping["Properties"]["FunctionName"]["Ref"]: mapping["Properties"]
        for mapping in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if "BatchSize" in mapping["Properties"] and "StartingPosition" not in mapping["Properties"]
    }
    windows = {
        logical_id.split("Function")[0]: props.get("MaximumBatchingWindowInSeconds", 0)
        for logical_id, props in mappings.items()
    }
    assert windows["OrdersTimeline"] > 0 and windows["ShippingConsumer"] > 0 and windows["NotificationsConsumer"] > 0
    for on_the_path in ("InventoryConsumer", "PaymentsConsumer", "OrdersProjector"):
        assert windows[on_the_path] == 0, on_the_path


@pytest.mark.parametrize("value", [-1, 301, 0.5, "soon", True])
def test_a_batching_window_lambda_would_refuse_is_refused(value):
    from aws_cdk import App, Duration, Stack

    from cdk.batching import consumer_batching_window

    scope = Stack(App(context={"orderflow:batchingWindowSeconds": value}), "BadWindow")
    with pytest.raises(ValueError, match="batchingWindowSeconds must be whole seconds from 0 to 300"):
        consumer_batching_window(scope, Duration.seconds(2))


def test_a_batching_window_applies_only_where_a_consumer_batches():
    from aws_cdk import App, Duration, Stack

    from cdk.batching import consumer_batching_window

    scope = Stack(App(context={"orderflow:batchingWindowSeconds": "0"}), "NoWindow")
    window = consumer_batching_window(scope, Duration.seconds(2))
    assert window is not None and window.to_seconds() == 0
    assert consumer_batching_window(scope, None) is None
    assert consumer_batching_window(Stack(App(), "Default"), Duration.seconds(2)).to_seconds() == 2


def test_queues_are_encrypted_tls_only_and_consumers_have_dlqs(synthesized):
    queues = synthesized.resources("AWS::SQS::Queue")
    for logical_id, queue in queues.items():
        assert queue["Properties"].get("SqsManagedSseEnabled") or queue["Properties"].get("KmsMasterKeyId"), logical_id
    policies = synthesized.resources("AWS::SQS::QueuePolicy")
    tls_only = set()
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if (
                statement["Effect"] == "Deny"
                and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            ):
                tls_only.update(q["Ref"] for q in policy["Properties"]["Queues"])
    assert tls_only == set(queues), set(queues) - tls_only
    mappings = synthesized.resources("AWS::Lambda::EventSourceMapping")
    sqs_mapped = [m for m in mappings.values() if "Queue" in json.dumps(m["Properties"]["EventSourceArn"])]
    assert len(sqs_mapped) == 6
    for mapping in sqs_mapped:
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        queue = queues[mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]]
        redrive = queue["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == 5
        assert queue["Properties"]["VisibilityTimeout"] >= 6 * 10


def _event_rules(synthesized) -> dict[str, Any]:
    return {k: r for k, r in synthesized.resources("AWS::Events::Rule").items() if "EventPattern" in r["Properties"]}


def test_the_reconciler_runs_every_minute_and_saga_timeouts_are_alarmed(synthesized):
    rules = synthesized.resources("AWS::Events::Rule")
    [schedule] = [r for r in rules.values() if "ScheduleExpression" in r["Properties"]]
    assert schedule["Properties"]["ScheduleExpression"] == "rate(1 minute)"
    [target] = schedule["Properties"]["Targets"]
    reconciler = synthesized.template_json["Resources"][target["Arn"]["Fn::GetAtt"][0]]
    assert reconciler["Properties"]["Handler"] == "orders.handlers.reconciler.lambda_handler"
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    synthesized.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "GlobalSecondaryIndexes": [
                Match.object_like(
                    {
                        "IndexName": "undecided-by-deadline",
                        "KeySchema": [
                            {"AttributeName": "undecided", "KeyType": "HASH"},
                            {"AttributeName": "deadline", "KeyType": "RANGE"},
                        ],
                    }
                )
            ]
        },
    )
    alarms = synthesized.resources("AWS::CloudWatch::Alarm")
    [timeouts] = [a for lid, a in alarms.items() if lid.startswith("SagaTimeouts")]
    assert timeouts["Properties"]["MetricName"] == "ExecutionsTimedOut"


def test_a_task_timeout_the_functions_would_outlive_is_refused():
    from aws_cdk import App

    from cdk.app import build

    with pytest.raises(ValueError, match="sagaTaskTimeoutSeconds must be 2 to 9 seconds"):
        build(App(context={"orderflow:sagaTaskTimeoutSeconds": 12}), "TooLong")


def test_rules_feed_queues_with_a_retry_policy_and_a_dlq(synthesized):
    rules = _event_rules(synthesized)
    assert len(rules) == 9
    for logical_id, rule in rules.items():
        for target in rule["Properties"]["Targets"]:
            assert "Queue" in json.dumps(target["Arn"]), f"{logical_id} targets something other than a queue"
            assert target["DeadLetterConfig"]["Arn"], logical_id
            assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400


def test_choreography_rules_match_only_choreographed_events(synthesized):
    rules = _event_rules(synthesized)
    by_name = {lid: r["Properties"]["EventPattern"] for lid, r in rules.items()}
    choreographed = [
        p for lid, p in by_name.items() if any(k in lid for k in ("Reserve", "Release", "Charge", "Refund", "Project"))
    ]
    assert len(choreographed) == 6
    for pattern in choreographed:
        assert pattern["detail"] == {"metadata": {"flow": ["choreographed"]}}
    shipping = [p for lid, p in by_name.items() if "ShipOnOrderConfirmed" in lid]
    assert shipping == [{"detail-type": ["OrderConfirmed"], "source": ["orderflow.orders"]}]


def test_outbox_relay_reads_the_orders_stream_with_a_failure_destination(synthesized):
    synthesized.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "KeySchema": [{"AttributeName": "order_id", "KeyType": "HASH"}],
        },
    )
    synthesized.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "StartingPosition": "TRIM_HORIZON",
            "BisectBatchOnFunctionError": True,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "DestinationConfig": {"OnFailure": {"Destination": Match.any_value()}},
            "FilterCriteria": {
                "Filters": [{"Pattern": json.dumps({"eventName": ["INSERT", "MODIFY"]}, separators=(",", ":"))}]
            },
        },
    )


def test_tables_are_encrypted_with_point_in_time_recovery(synthesized):
    tables = synthesized.resources("AWS::DynamoDB::Table")
    assert len(tables) == 7
    for logical_id, table in tables.items():
        props = table["Properties"]
        assert props["SSESpecification"]["SSEEnabled"] is True, logical_id
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, logical_id
        assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_every_api_method_requires_iam_authorization(synthesized):
    methods = synthesized.resources("AWS::ApiGateway::Method")
    routes = set()
    for method in methods.values():
        props = method["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            continue
        assert props["AuthorizationType"] == "AWS_IAM"
        assert props["Integration"]["Type"] == "AWS_PROXY"
        assert props.get("RequestValidatorId"), "every method validates its request"
        routes.add(props["HttpMethod"])
    assert routes == {"GET", "PUT", "POST"}
    assert len(methods) == 6


def test_inventory_adjustments_route_requires_iam_authorization(synthesized):
    resources = synthesized.resources("AWS::ApiGateway::Resource")
    (adjustments,) = [rid for rid, r in resources.items() if r["Properties"]["PathPart"] == "adjustments"]
    parent = resources[adjustments]["Properties"]["ParentId"]["Ref"]
    assert resources[parent]["Properties"]["PathPart"] == "{sku}"
    (method,) = [
        m["Properties"]
        for m in synthesized.resources("AWS::ApiGateway::Method").values()
        if m["Properties"]["ResourceId"] == {"Ref": adjustments}
    ]
    assert method["HttpMethod"] == "POST"
    assert method["AuthorizationType"] == "AWS_IAM"
    assert method["Integration"]["Type"] == "AWS_PROXY"
    assert method.get("RequestValidatorId")
    assert method["RequestParameters"] == {
        "method.request.path.sku": True,
        "method.request.header.Idempotency-Key": False,  # the function answers 400 without it
    }


def test_inventory_api_may_write_the_adjustment_record_but_not_delete(synthesized):
    policies = synthesized.resources("AWS::IAM::Policy")
    api_role = synthesized.stack.get_logical_id(synthesized.stack.inventory.api.role.node.default_child)
    statements = [
        statement
        for policy in policies.values()
        if {"Ref": api_role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"} <= actions
    assert not {a for a in actions if a.startswith("dynamodb:") and "Delete" in a}


def test_api_stage_has_access_logs_throttling_and_tracing(synthesized):
    synthesized.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "v1",
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
            "MethodSettings": Match.array_with(
                [Match.object_like({"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100, "DataTraceEnabled": False})]
            ),
        },
    )


def test_event_bus_has_an_archive_and_no_open_policy(synthesized):
    synthesized.template.resource_count_is("AWS::Events::EventBus", 1)
    synthesized.template.has_resource_properties(
        "AWS::Events::Archive", {"EventPattern": {"source": [{"prefix": "orderflow."}]}, "RetentionDays": 30}
    )
    synthesized.template.resource_count_is("AWS::Events::EventBusPolicy", 0)
    for bus in synthesized.resources("AWS::Events::EventBus").values():
        assert "Policy" not in bus["Properties"]


def test_notifications_topic_is_kms_encrypted_and_tls_only(synthesized):
    synthesized.template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    synthesized.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_dead_letter_queues_are_alarmed(synthesized):
    alarms = synthesized.resources("AWS::CloudWatch::Alarm")
    dlq_alarms = [a for lid, a in alarms.items() if lid.startswith("DeadLetters")]
    assert len(dlq_alarms) == len(synthesized.stack.dead_letter_queues()) == 10


# --- the payment-reference key: orders-api seals card tokens, only payments-tasks opens them ---


def _payment_ref_key(synthesized) -> str:
    return synthesized.stack.get_logical_id(synthesized.stack.payment_ref_key.node.default_child)


def _role_of(synthesized, service_function) -> str:
    return synthesized.stack.get_logical_id(service_function.role.node.default_child)


def _kms_grants(synthesized, key: str) -> dict[str, set[str]]:
    """role logical id -> the kms: actions its policies allow on `key`."""
    grants: dict[str, set[str]] = {}
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = _as_list(statement.get("Resource", []))
            if {"Fn::GetAtt": [key, "Arn"]} not in resources and "*" not in resources:
                continue
            actions = {a for a in _as_list(statement["Action"]) if a.startswith("kms:")}
            for role in policy["Properties"]["Roles"]:
                grants.setdefault(role["Ref"], set()).update(actions)
    return {role: actions for role, actions in grants.items() if actions}


def test_the_payment_ref_key_rotates(synthesized):
    key = synthesized.template_json["Resources"][_payment_ref_key(synthesized)]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"].get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT"


def test_only_orders_api_makes_data_keys_and_only_payments_tasks_decrypts_payment_refs(synthesized):
    stack = synthesized.stack
    grants = _kms_grants(synthesized, _payment_ref_key(synthesized))

    assert grants == {
        _role_of(synthesized, stack.orders.api): {"kms:GenerateDataKey"},
        _role_of(synthesized, stack.payments.tasks): {"kms:Decrypt"},
    }
    # ...data keys only for payment references, and kms1 references only with an order id.
    data_key = {
        "StringEquals": {"kms:EncryptionContext:purpose": "payment_ref"},
        "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["purpose"]},
    }
    by_order = {
        "Null": {"kms:EncryptionContext:order_id": "false"},
        "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["order_id"]},
    }
    seen: dict[str, list[dict]] = {}
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if {"Fn::GetAtt": [_payment_ref_key(synthesized), "Arn"]} in _as_list(statement.get("Resource", [])):
                for action in _as_list(statement["Action"]):
                    seen.setdefault(action, []).append(statement["Condition"])
    assert seen == {"kms:GenerateDataKey": [data_key], "kms:Decrypt": [data_key, by_order]}


def test_no_other_role_can_decrypt_with_the_payment_ref_key(synthesized):
    key = _payment_ref_key(synthesized)
    payments_tasks = _role_of(synthesized, synthesized.stack.payments.tasks)
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = _as_list(statement["Action"])
            if not any(a in ("kms:Decrypt", "kms:*", "*") or a.startswith("kms:ReEncrypt") for a in actions):
                continue
            resources = _as_list(statement.get("Resource", []))
            if {"Fn::GetAtt": [key, "Arn"]} in resources or "*" in resources:
                assert [r["Ref"] for r in policy["Properties"]["Roles"]] == [payments_tasks]


def test_the_functions_that_need_it_get_the_key_by_environment(synthesized):
    key = _payment_ref_key(synthesized)
    with_key = {
        fn["Properties"]["Handler"]
        for fn in synthesized.resources("AWS::Lambda::Function").values()
        if fn["Properties"]["Environment"]["Variables"].get("PAYMENT_REF_KEY_ID") == {"Fn::GetAtt": [key, "Arn"]}
    }
    assert with_key == {"orders.handlers.api.lambda_handler", "payments.handlers.tasks.lambda_handler"}


def test_nothing_in_the_state_machines_names_a_card_token(synthesized):
    for prefix in ("OrderSaga", "PaymentsWorkflow"):
        assert "payment_token" not in json.dumps(_definition(synthesized, prefix)), prefix
