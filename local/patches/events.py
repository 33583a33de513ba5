"""EventBridge: Lambda, Step Functions and SNS targets go to the runner; DISABLED and schedule-only rules
deliver nothing; events carry `account`; an event is flattened once for all the rules it meets.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import logging
from typing import Any

from local.patches.state import local_hooks

log = logging.getLogger("local.patches")

RUNNER_TARGET_SERVICES = ("lambda", "states", "sns")


def patch() -> None:
    from moto.events.models import Rule
    from moto.events.utils import EventTemplateParser

    # AWS events carry `account`; moto's default input template drops it.
    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = (
        '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
        '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
        '"detail": <detail>}'
    )
    original_send = Rule.send_to_targets

    @functools.wraps(original_send)
    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        hooks = local_hooks()
        if hooks is None:
            return original_send(self, original_event, transform_input)
        if getattr(self, "state", "ENABLED") == "DISABLED":
            return None
        if getattr(self, "scheduled_expression", None) and not self.event_pattern.get_pattern():
            return None
        if not self.event_pattern.matches_event(original_event):
            return None
        ours = [t for t in self.targets if _arn_service(t.get("Arn", "")) in RUNNER_TARGET_SERVICES]
        if len(ours) < len(self.targets):
            moto_rule = copy.copy(self)
            moto_rule.targets = [t for t in self.targets if t not in ours]
            original_send(moto_rule, original_event, transform_input)
        for target in ours:
            event = json.loads(json.dumps(original_event, default=str))
            event.pop("ingestion-time", None)
            if isinstance(event.get("time"), (int, float)):
                moment = datetime.datetime.fromtimestamp(float(event["time"]), tz=datetime.UTC)
                event["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            try:
                hooks.deliver_rule_target(self, target, event)
            except Exception:
                log.exception("delivering to rule target %s failed", target.get("Arn"))
        return None

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]
    _flatten_each_event_once()


FLATTENED_EVENTS = 256  # distinct events kept flattened (PutEvents meets every rule with each)


def _flatten_each_event_once() -> None:
    """moto matches an event against a rule by copying it through JSON and flattening it, for every
    rule on the bus (twice for a rule that matches: this module's check, then moto's): a fifth of a
    PutEvents. The flattened event depends only on the event's JSON text and the match only reads
    it, so it is kept per text. Checked against moto's matching in tests/local/test_expression_patches.py."""
    from moto.events.models import EventPattern

    original = EventPattern.matches_event
    if hasattr(original, "flattened"):
        return

    @functools.lru_cache(maxsize=FLATTENED_EVENTS)
    def flattened(text: str) -> dict[str, Any]:
        return EventPattern._flatten_dict(json.loads(text))

    @functools.wraps(original)
    def matches_event(self: Any, event: Any) -> bool:
        if not self._pattern:
            return True
        return bool(self._does_event_match(flattened(json.dumps(event)), self._pattern))

    matches_event.flattened = flattened  # type: ignore[attr-defined]
    EventPattern.matches_event = matches_event  # type: ignore[method-assign]


def _arn_service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""
