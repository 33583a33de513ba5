"""Resource resolution by logical-id prefix, tied to the synthesized template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ops.resources import (
    EVENT_ARCHIVE,
    EVENT_BUS,
    INVENTORY_TABLE,
    ORDERS_TABLE,
    PAYMENT_WORKFLOW,
    PAYMENTS_TABLE,
    RELAY_FUNCTION,
    SAGA_STATE_MACHINE,
    SHIPMENTS_TABLE,
    ResourceNotFound,
    Resources,
    logical_id_pattern,
)
from ops.topology import CONSUMER_QUEUES, DEAD_LETTER_QUEUES, DeadLetterKind
from tests.ops.world import World

IDS = {
    "OrdersTable1F8332C7": "Orderflow-OrdersTable1F8332C7-ABC",
    "OrdersEventsTableEACDAB66": "Orderflow-OrdersEventsTable-XYZ",
    "OrdersRelayFunction527D70FC": "arn:aws:lambda:us-east-1:123456789012:function:Orderflow-Relay-1",
    "ShippingEventsQueue8F158F3B": "https://sqs.us-east-1.amazonaws.com/123456789012/Orderflow-ShippingEventsQueue",
    "ShippingEventsDeadLetterQueueB498991D": "arn:aws:sqs:us-east-1:123456789012:Orderflow-ShippingDLQ",
    "EventBusEEC924FB": "arn:aws:events:us-east-1:123456789012:event-bus/OrderflowEventBus",
    "PaymentsTable9E001CC6": "arn:aws:dynamodb:us-east-1:123456789012:table/Orderflow-Payments",
}


def test_a_prefix_matches_only_itself_plus_eight_hex_digits() -> None:
    resources = Resources(IDS)
    # OrdersEventsTable... shares the "Orders" start but not the prefix + hash shape
    assert resources.logical_id("OrdersTable") == "OrdersTable1F8332C7"
    assert logical_id_pattern("ShippingEventsQueue").match("ShippingEventsQueue8F158F3B")
    assert not logical_id_pattern("ShippingEventsQueue").match("ShippingEventsQueue8F158F3BX")
    assert not logical_id_pattern("ShippingEventsQueue").match("ShippingEventsQueuePolicy8F158F3B")
    with pytest.raises(ResourceNotFound, match="found none"):
        resources.logical_id("Nothing")


def test_an_ambiguous_prefix_is_refused() -> None:
    resources = Resources({"OrdersTable1F8332C7": "a", "OrdersTable00000000": "b"})
    with pytest.raises(ResourceNotFound, match="OrdersTable00000000, OrdersTable1F8332C7"):
        resources.table("OrdersTable")
    assert not resources.has("OrdersTable")


def test_names_come_out_of_arns() -> None:
    resources = Resources(IDS)
    assert resources.table("OrdersTable") == "Orderflow-OrdersTable1F8332C7-ABC"
    assert resources.table("PaymentsTable") == "Orderflow-Payments"
    assert resources.function_name("OrdersRelayFunction") == "Orderflow-Relay-1"
    assert resources.bus_name() == "OrderflowEventBus"
    assert resources.bus_arn(events=None) == IDS["EventBusEEC924FB"]
    assert resources.queue_url("ShippingEventsQueue").endswith("/Orderflow-ShippingEventsQueue")


def test_a_queue_given_by_name_or_arn_is_resolved_with_sqs() -> None:
    calls: list[dict[str, Any]] = []

    class Sqs:
        def get_queue_url(self, **kwargs: Any) -> dict[str, str]:
            calls.append(kwargs)
            return {"QueueUrl": f"http://local/{kwargs['QueueName']}"}

    resources = Resources({**IDS, "InventoryEventsQueueA513FFEF": "inventory-queue"})
    with pytest.raises(ResourceNotFound, match="not a queue URL"):
        resources.queue_url("ShippingEventsDeadLetterQueue")
    assert resources.queue_url("ShippingEventsDeadLetterQueue", Sqs()) == "http://local/Orderflow-ShippingDLQ"
    assert resources.queue_url("InventoryEventsQueue", Sqs()) == "http://local/inventory-queue"
    assert calls == [
        {"QueueName": "Orderflow-ShippingDLQ", "QueueOwnerAWSAccountId": "123456789012"},
        {"QueueName": "inventory-queue"},
    ]


def test_from_file_takes_the_mapping_bare_or_wrapped(tmp_path: Path) -> None:
    (tmp_path / "bare.json").write_text(json.dumps(IDS))
    (tmp_path / "wrapped.json").write_text(json.dumps({"resources": IDS, "endpoint": "http://127.0.0.1:5000"}))
    assert Resources.from_file(tmp_path / "bare.json").physical_ids == IDS
    assert Resources.from_file(tmp_path / "wrapped.json").physical_ids == IDS
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(ValueError, match="JSON object"):
        Resources.from_file(tmp_path / "list.json")


def test_names_resolve_through_the_local_services(world: World) -> None:
    """Physical ids as plain names (what a local runner may write) resolve through the APIs."""
    saga = world.resources.logical_id(SAGA_STATE_MACHINE)
    names = {**world.ids, saga: "orderflow-OrderSagaStateMachine"}
    resources = Resources(names)
    clients = world.clients
    assert resources.state_machine_arn("OrderSagaStateMachine", clients.stepfunctions).endswith(
        ":stateMachine:orderflow-OrderSagaStateMachine"
    )
    assert resources.bus_arn(clients.events).endswith(":event-bus/orderflow-bus")
    assert resources.archive_arn(clients.events).endswith(":archive/orderflow-archive")


def test_from_stack_reads_every_page(world: World) -> None:
    """A CloudFormation stack on moto: more than one page of ListStackResources."""
    template = {
        "Resources": {
            f"Queue{n:02d}{n:08X}": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"q-{n}"}}
            for n in range(120)
        }
    }
    world.clients.cloudformation.create_stack(StackName="Orderflow", TemplateBody=json.dumps(template))
    resources = Resources.from_stack(world.clients.cloudformation, "Orderflow")
    assert len(resources.physical_ids) == 120
    assert resources.queue_url("Queue07").endswith("/q-7")


# --- the prefixes against the synthesized template ---------------------------------------------


def _expected_types() -> dict[str, str]:
    expected = {
        ORDERS_TABLE: "AWS::DynamoDB::Table",
        INVENTORY_TABLE: "AWS::DynamoDB::Table",
        PAYMENTS_TABLE: "AWS::DynamoDB::Table",
        SHIPMENTS_TABLE: "AWS::DynamoDB::Table",
        EVENT_BUS: "AWS::Events::EventBus",
        EVENT_ARCHIVE: "AWS::Events::Archive",
        SAGA_STATE_MACHINE: "AWS::StepFunctions::StateMachine",
        PAYMENT_WORKFLOW: "AWS::StepFunctions::StateMachine",
        RELAY_FUNCTION: "AWS::Lambda::Function",
    }
    expected |= dict.fromkeys(CONSUMER_QUEUES.values(), "AWS::SQS::Queue")
    expected |= {dlq.prefix: "AWS::SQS::Queue" for dlq in DEAD_LETTER_QUEUES.values()}
    return expected


def test_every_prefix_names_exactly_one_resource_of_its_type(synthesized: Any) -> None:
    resources = synthesized.template_json["Resources"]
    for prefix, resource_type in _expected_types().items():
        pattern = logical_id_pattern(prefix)
        matches = [k for k in resources if pattern.match(k)]
        assert len(matches) == 1, (prefix, matches)
        assert resources[matches[0]]["Type"] == resource_type, (prefix, matches[0])


def test_the_dlqs_are_the_stacks_dlqs(synthesized: Any) -> None:
    from aws_cdk import Stack

    stack = synthesized.stack
    dlqs = stack.dead_letter_queues()
    assert set(dlqs) == set(DEAD_LETTER_QUEUES)
    for name, queue in dlqs.items():
        logical_id = Stack.of(queue).resolve(queue.node.default_child.logical_id)
        assert logical_id_pattern(DEAD_LETTER_QUEUES[name].prefix).match(logical_id), (name, logical_id)


def test_consumer_dlqs_pair_with_the_queue_that_redrives_to_them(synthesized: Any) -> None:
    resources = synthesized.template_json["Resources"]
    for dlq in DEAD_LETTER_QUEUES.values():
        if dlq.kind is not DeadLetterKind.CONSUMER:
            continue
        [source] = [k for k in resources if logical_id_pattern(dlq.source_prefix or "").match(k)]
        [dead] = [k for k in resources if logical_id_pattern(dlq.prefix).match(k)]
        target = resources[source]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
        assert target == {"Fn::GetAtt": [dead, "Arn"]}, dlq.name


def test_the_relay_dlq_is_the_relays_on_failure_destination(synthesized: Any) -> None:
    resources = synthesized.template_json["Resources"]
    [relay_dlq] = [k for k in resources if logical_id_pattern(DEAD_LETTER_QUEUES["orders-relay"].prefix).match(k)]
    [relay] = [k for k in resources if logical_id_pattern(RELAY_FUNCTION).match(k)]
    [mapping] = [
        v
        for v in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if v["Properties"]["FunctionName"] == {"Ref": relay}
    ]
    assert mapping["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [relay_dlq, "Arn"]}
