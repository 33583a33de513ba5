"""The event catalog in docs/ is generated from the models and the template, and complete."""

from __future__ import annotations

from cdk.catalog import CATALOG, render, routes
from shared.events import EVENT_TYPES


def test_committed_catalog_matches_the_models_and_the_template(synthesized):
    assert CATALOG.read_text() == render(synthesized.template_json), "run `make catalog`"


def test_catalog_lists_every_rule_of_the_template(synthesized):
    text = CATALOG.read_text()
    rules = synthesized.resources("AWS::Events::Rule")
    assert rules
    for logical_id in rules:
        assert f"`{logical_id}`" in text, logical_id


def test_every_routed_event_has_a_producer(synthesized):
    for route in routes(synthesized.template_json):
        for detail_type in route.detail_types:
            if detail_type == "*":
                continue
            assert detail_type in EVENT_TYPES, f"{route.rule} routes {detail_type}, which nobody produces"
            assert EVENT_TYPES[detail_type].SOURCE in route.sources, route
