"""Identity-based IAM policy evaluation, as AWS does it for one principal's own policies.

A request is allowed when some statement allows it and none denies it (an explicit Deny wins).
A statement applies when its `Action` (or `NotAction`), its `Resource` (or `NotResource`) and
its `Condition` all match. Actions match case-insensitively, resources case-sensitively, and
both take the `*` and `?` wildcards.

Conditions are evaluated only over the context keys the request supplies (`Request.context`)
and the keys it declares it can tell are absent (`Request.known`); any other key, or an
operator not implemented here, can't be evaluated locally. Such a condition is reported
(`Decision.unevaluated`) and not guessed: an Allow statement applies as if it held, a Deny
statement does not apply, so an unknown condition never refuses what AWS might allow.

moto has statement matching too (moto.iam.access_control.IAMPolicyStatement), but it treats a
statement with `NotResource` as matching every resource, matches actions case-sensitively,
reads `.` in a resource pattern as a regex wildcard, and makes an Allow statement whose
condition fails deny the request; so the matching is written here.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Statement:
    """One statement of a policy, normalised (every element a tuple of strings)."""

    policy: str  # the policy's name: inline policy name, AWS::IAM::Policy logical id or managed policy ARN
    index: int  # position in its policy
    effect: str  # "Allow" or "Deny"
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sid: str | None = None

    @property
    def label(self) -> str:
        return f"{self.policy}#{self.sid or self.index}"

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"Effect": self.effect}
        if self.sid:
            document["Sid"] = self.sid
        if self.not_actions is not None:
            document["NotAction"] = list(self.not_actions)
        else:
            document["Action"] = list(self.actions)
        if self.not_resources is not None:
            document["NotResource"] = list(self.not_resources)
        elif self.resources is not None:
            document["Resource"] = list(self.resources)
        if self.condition:
            document["Condition"] = dict(self.condition)
        return document


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(item) for item in value)
    return (str(value),)


def statements_of(document: Mapping[str, Any] | str, policy: str) -> list[Statement]:
    """The statements of a policy document (a dict or its JSON text)."""
    parsed: Mapping[str, Any] = json.loads(document) if isinstance(document, str) else document
    raw = parsed.get("Statement", [])
    if isinstance(raw, Mapping):
        raw = [raw]
    found = []
    for index, item in enumerate(raw):
        found.append(
            Statement(
                policy=policy,
                index=index,
                effect=str(item.get("Effect", "Allow")),
                actions=_strings(item.get("Action")),
                not_actions=_strings(item["NotAction"]) if "NotAction" in item else None,
                resources=_strings(item["Resource"]) if "Resource" in item else None,
                not_resources=_strings(item["NotResource"]) if "NotResource" in item else None,
                condition=item.get("Condition") or {},
                sid=item.get("Sid"),
            )
        )
    return found


@functools.lru_cache(maxsize=8192)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: `*` any run of characters, `?` exactly one."""
    return _pattern(pattern, ignore_case).match(value) is not None


def action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(wildcard_match(pattern, action, ignore_case=True) for pattern in patterns)


def resource_matches(patterns: Iterable[str], resource: str) -> bool:
    return any(wildcard_match(pattern, resource) for pattern in patterns)


@dataclass(frozen=True)
class Request:
    """One authorization question: may the principal perform `action` on `resource`?

    `resource` None means the resource could not be derived: only statements that name the
    action are considered, whatever their resources (reported as `Decision.resource_unknown`).
    """

    action: str
    resource: str | None
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)
    known: tuple[str, ...] = ()  # context keys (or prefixes ending in ':') the request can tell are absent


@dataclass
class Decision:
    allowed: bool
    explicit_deny: bool = False
    allowed_by: list[Statement] = field(default_factory=list)
    denied_by: list[Statement] = field(default_factory=list)
    unevaluated: list[tuple[Statement, str]] = field(default_factory=list)  # (statement, "Operator key")
    resource_unknown: bool = False


def evaluate(statements: Iterable[Statement], request: Request) -> Decision:
    """Explicit Deny over Allow over the implicit deny."""
    decision = Decision(allowed=False, resource_unknown=request.resource is None)
    for statement in statements:
        if not _action_applies(statement, request.action):
            continue
        if request.resource is not None and not _resource_applies(statement, request.resource):
            continue
        holds, unknown = _conditions_hold(statement.condition, request)
        if unknown:
            decision.unevaluated.extend((statement, description) for description in unknown)
        if statement.effect == "Deny":
            # A Deny whose condition can't be evaluated is not applied (reported instead).
            if holds and not unknown and (request.resource is not None or _covers_everything(statement)):
                decision.denied_by.append(statement)
        elif holds:
            decision.allowed_by.append(statement)
    decision.explicit_deny = bool(decision.denied_by)
    decision.allowed = bool(decision.allowed_by) and not decision.explicit_deny
    return decision


def _action_applies(statement: Statement, action: str) -> bool:
    if statement.not_actions is not None:
        return not action_matches(statement.not_actions, action)
    return action_matches(statement.actions, action)


def _resource_applies(statement: Statement, resource: str) -> bool:
    if statement.not_resources is not None:
        return not resource_matches(statement.not_resources, resource)
    if statement.resources is None:
        return False  # an identity policy statement without Resource is invalid: it grants nothing
    return resource_matches(statement.resources, resource)


def _covers_everything(statement: Statement) -> bool:
    return statement.not_resources is None and "*" in (statement.resources or ())


# -- conditions ------------------------------------------------------------------------------


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], request: Request) -> tuple[bool, list[str]]:
    """(whether every evaluable condition holds, the conditions that can't be evaluated)."""
    holds = True
    unknown: list[str] = []
    for operator, block in conditions.items():
        for key, expected in (block or {}).items():
            result = _condition(operator, key, _strings(expected), request)
            if result is None:
                unknown.append(f"{operator} {key}")
            elif not result:
                holds = False
    return holds, unknown


def _knows(request: Request, key: str) -> bool:
    lowered = key.lower()
    return any(lowered == k.lower() or (k.endswith(":") and lowered.startswith(k.lower())) for k in request.known)


def _lookup(request: Request, key: str) -> Sequence[str] | None:
    for name, values in request.context.items():
        if name.lower() == key.lower():
            return values
    return None


def _condition(operator: str, key: str, expected: tuple[str, ...], request: Request) -> bool | None:  # noqa: PLR0911
    """True/False, or None when it can't be evaluated locally."""
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
        if qualifier not in ("ForAllValues", "ForAnyValue"):
            return None
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    base = operator[: -len("IfExists")] if if_exists else operator
    values = _lookup(request, key)
    if values is None and not _knows(request, key):
        return None
    present = values is not None and len(values) > 0
    if base == "Null":
        wanted_absent = expected[0].lower() == "true" if expected else True
        return (not present) == wanted_absent
    compare = _COMPARATORS.get(base)
    if compare is None:
        return None
    if not present:
        if qualifier == "ForAllValues" or if_exists:
            return True
        return base.startswith(("StringNot", "ArnNot", "NotIpAddress", "NumericNotEquals"))
    assert values is not None
    negated = base.startswith(("StringNot", "ArnNot", "NotIp", "NumericNotEquals"))

    def one(value: str) -> bool:
        matched = any(compare(str(e), value) for e in expected)
        return not matched if negated else matched

    if qualifier == "ForAllValues":
        return all(one(value) for value in values)
    if qualifier == "ForAnyValue":
        return any(one(value) for value in values)
    return any(one(value) for value in values) if not negated else all(one(value) for value in values)


def _numeric(check: Any) -> Any:
    def compare(expected: str, value: str) -> bool:
        try:
            return bool(check(float(value), float(expected)))
        except ValueError:
            return False

    return compare


def _ip(expected: str, value: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(expected, strict=False)
    except ValueError:
        return False


_COMPARATORS: dict[str, Any] = {
    "StringEquals": lambda e, v: e == v,
    "StringNotEquals": lambda e, v: e == v,
    "StringEqualsIgnoreCase": lambda e, v: e.lower() == v.lower(),
    "StringNotEqualsIgnoreCase": lambda e, v: e.lower() == v.lower(),
    "StringLike": wildcard_match,
    "StringNotLike": wildcard_match,
    "ArnEquals": wildcard_match,
    "ArnLike": wildcard_match,
    "ArnNotEquals": wildcard_match,
    "ArnNotLike": wildcard_match,
    "Bool": lambda e, v: e.lower() == v.lower(),
    "NumericEquals": _numeric(lambda v, e: v == e),
    "NumericNotEquals": _numeric(lambda v, e: v == e),
    "NumericLessThan": _numeric(lambda v, e: v < e),
    "NumericLessThanEquals": _numeric(lambda v, e: v <= e),
    "NumericGreaterThan": _numeric(lambda v, e: v > e),
    "NumericGreaterThanEquals": _numeric(lambda v, e: v >= e),
    "IpAddress": _ip,
    "NotIpAddress": _ip,
}
