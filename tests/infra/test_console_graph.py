"""The console's graph document, read from the synthesized template (console.graph)."""

from __future__ import annotations

import json

from cdk.catalog import routes
from console.graph import ANNOUNCES, build


def test_the_state_machines_are_drawn_whole(synthesized) -> None:
    graph = build(synthesized.template_json, stack=synthesized.stack_name)
    assert graph["stack"] == synthesized.stack_name
    json.dumps(graph)  # served as graph.json
    machines = {m["role"]: m for m in graph["state_machines"]}
    assert set(machines) >= {"saga", "payment-workflow"}
    assert machines["saga"]["type"] == "EXPRESS"
    for machine in machines.values():
        names = {s["name"] for s in machine["states"]}
        assert machine["start"] in names
        assert all(e["from"] in names and e["to"] in names for e in machine["edges"])
        assert any(s["terminal"] for s in machine["states"])
        # every state but the start is reached by some transition
        assert names - {machine["start"]} <= {e["to"] for e in machine["edges"]}
        tasks = [s for s in machine["states"] if s["type"] == "Task" and s["action"]]
        assert tasks and all(s["function"] in synthesized.template_json["Resources"] for s in tasks)


def test_every_event_the_saga_announces_lights_one_of_its_tasks(synthesized) -> None:
    """The console tells the states an order passed through from its events: each event a saga task
    announces must name an action the saga has (ANNOUNCES follows the saga's task contracts)."""
    machines = {m["role"]: m for m in build(synthesized.template_json)["state_machines"]}
    saga_actions = {s["action"] for s in machines["saga"]["states"] if s["action"]}
    workflow_actions = {s["action"] for s in machines["payment-workflow"]["states"] if s["action"]}
    for event in ("InventoryReserved", "InventoryRejected", "InventoryReleased", "PaymentCompleted", "PaymentFailed"):
        assert set(ANNOUNCES[event]) & saga_actions, event
    for event in ("OrderConfirmed", "OrderRejected", "PaymentRefunded"):
        assert set(ANNOUNCES[event]) & saga_actions, event
    for event in ("PaymentCompleted", "PaymentFailed"):
        assert set(ANNOUNCES[event]) & workflow_actions, event


def test_the_event_flow_is_the_catalogs(synthesized) -> None:
    flow = build(synthesized.template_json)["event_flow"]
    assert len(flow["buses"]) == 1
    drawn = {
        (rule["id"], queue, mapping["function"])
        for rule in flow["rules"]
        for queue in rule["queues"]
        for mapping in flow["mappings"]
        if mapping["queue"] == queue
    }
    handlers = {f["id"]: f["handler"] for f in flow["functions"]}
    catalog = {(r.rule, r.queue, r.handler) for r in routes(synthesized.template_json)}
    assert {(rule, queue, handlers[function]) for rule, queue, function in drawn} == catalog
    timeline = next(r for r in flow["rules"] if "Timeline" in r["id"])
    assert timeline["detail_types"] == [] and timeline["sources"] == ["orderflow.*"]
