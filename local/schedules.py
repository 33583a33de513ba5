"""Schedule rules fire: `rate(...)` rules of the template invoke their targets on time.

moto stores a rule's ScheduleExpression but never fires it. The scheduler reads the template's
scheduled rules and, every period, delivers EventBridge's "Scheduled Event" to each target
through the same path event rules use (a Lambda target is invoked asynchronously). `fire()`
delivers one such event at a chosen time, as EventBridge would when the schedule comes due then:
tests use it instead of waiting minutes. `cron(...)` schedules are reported and not fired.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.cloud import LocalCloud

log = logging.getLogger(__name__)

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class ScheduledRule:
    logical_id: str
    name: str
    arn: str
    period_seconds: float
    targets: list[dict[str, Any]]


def period_seconds(expression: str) -> float | None:
    """Seconds between firings of a `rate(...)` expression; None for what is not a rate."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


class Scheduler:
    def __init__(self, cloud: LocalCloud) -> None:
        self._cloud = cloud
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.rules = self._read_rules()

    def _read_rules(self) -> dict[str, ScheduledRule]:
        rules: dict[str, ScheduledRule] = {}
        for logical_id, resource in self._cloud.stack.template.get("Resources", {}).items():
            properties = resource.get("Properties") or {}
            if resource.get("Type") != "AWS::Events::Rule" or "ScheduleExpression" not in properties:
                continue
            expression = str(properties["ScheduleExpression"])
            period = period_seconds(expression)
            if period is None:
                log.warning("rule %s: schedule %s is not a rate(...); it does not fire locally", logical_id, expression)
                continue
            provisioned = self._cloud.resources[logical_id]
            rule = self._cloud.client("events").describe_rule(Name=provisioned.attributes["Name"])
            targets = self._cloud.client("events").list_targets_by_rule(Rule=rule["Name"])["Targets"]
            rules[logical_id] = ScheduledRule(logical_id, rule["Name"], rule["Arn"], period, targets)
        return rules

    def start(self) -> None:
        for rule in self.rules.values():
            thread = threading.Thread(target=self._run, args=(rule,), name=f"schedule-{rule.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()

    def _run(self, rule: ScheduledRule) -> None:
        while not self._stop.wait(rule.period_seconds):
            self.fire(rule.logical_id)

    def find(self, name_or_id: str) -> ScheduledRule:
        for rule in self.rules.values():
            if name_or_id in (rule.logical_id, rule.name) or rule.logical_id.startswith(name_or_id):
                return rule
        raise KeyError(f"no scheduled rule {name_or_id!r}; scheduled rules: {sorted(self.rules)}")

    def fire(self, name_or_id: str, at: datetime | None = None) -> dict[str, Any]:
        """Deliver the rule's Scheduled Event (at `at`, default now) to each of its targets."""
        rule = self.find(name_or_id)
        moment = (at or datetime.now(UTC)).astimezone(UTC)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self._cloud.account_id,
            "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self._cloud.region,
            "resources": [rule.arn],
            "detail": {},
        }
        for target in rule.targets:
            self._cloud.deliver_rule_target(rule, target, event)
        return event
