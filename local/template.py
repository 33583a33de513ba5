"""CloudFormation intrinsic functions, resolved over the template JSON against local values.

CDK writes ARNs, names and state machine definitions as `Fn::Join`s of `Ref`s and `Fn::GetAtt`s.
Resolving them here, with the names and ARNs the runner gave each resource, turns the same
template a deployment uses into concrete local configuration.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, ClassVar

NO_VALUE = object()  # AWS::NoValue: the property or list item disappears

PSEUDO_PARAMETERS = (
    "AWS::Region",
    "AWS::AccountId",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::NoValue",
    "AWS::NotificationARNs",
)
SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Unresolvable(Exception):
    """A reference the local cloud cannot produce (an import from another stack, an unknown id...)."""


def physical_name(stack_name: str, logical_id: str, max_length: int, suffix: str = "") -> str:
    """A deterministic stand-in for CloudFormation's generated names: `<stack>-<logicalId>`.

    CloudFormation appends a random suffix; locally the same template must give the same names
    on every run so that logs, CLI hints and tests can rely on them. Too long names are cut and
    made unique again with a short hash, within the service's limit (suffix such as `.fifo` included).
    """
    name = f"{stack_name}-{logical_id}"
    budget = max_length - len(suffix)
    if len(name) > budget:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: budget - 9]}-{digest}"
    return name + suffix


@dataclass(eq=False, repr=False)
class TemplateResolver:
    """Evaluates intrinsic functions; resources register their Ref value and attributes as they appear.

    `parameters`: values for the template's parameters (else their defaults); `ssm_lookup`: the
    value of an SSM parameter, for parameters of an `AWS::SSM::Parameter::Value<...>` type.
    """

    template: Mapping[str, Any]
    _: KW_ONLY
    stack_name: str
    region: str
    account_id: str
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    ssm_lookup: Callable[[str], str | None] | None = None
    refs: dict[str, Any] = field(default_factory=dict, init=False)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _conditions: dict[str, bool] = field(default_factory=dict, init=False)

    # -- registration --------------------------------------------------------------------

    def register(self, logical_id: str, ref: Any, attributes: Mapping[str, Any] | None = None) -> None:
        self.refs[logical_id] = ref
        self.attributes.setdefault(logical_id, {}).update(attributes or {})

    @property
    def stack_id(self) -> str:
        digest = hashlib.sha256(self.stack_name.encode()).hexdigest()
        uuid = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        return f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/{uuid}"

    # -- evaluation ----------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """Resolves every intrinsic in `value`; `AWS::NoValue` entries are dropped."""
        result = self._resolve(value)
        return None if result is NO_VALUE else result

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions = self.template.get("Conditions", {})
            if name not in definitions:
                raise Unresolvable(f"unknown condition {name!r}")
            self._conditions[name] = bool(self._resolve(definitions[name]))
        return self._conditions[name]

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = (self._resolve(item) for item in value)
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = self._INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::NotificationARNs": [],
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.refs:
            return self.refs[name]
        parameters = self.template.get("Parameters", {})
        if name in parameters:
            return self._parameter(name, parameters[name])
        raise Unresolvable(f"Ref to {name!r}, which is neither provisioned nor a parameter")

    def _parameter(self, name: str, definition: Mapping[str, Any]) -> Any:
        if name in self.parameters:
            value = self.parameters[name]
        elif "Default" in definition:
            value = definition["Default"]
        else:
            raise Unresolvable(f"parameter {name!r} has no default; pass it in `parameters`")
        kind = str(definition.get("Type", "String"))
        if kind.startswith("AWS::SSM::Parameter::Value") and self.ssm_lookup is not None:
            looked_up = self.ssm_lookup(str(value))
            if looked_up is not None:
                value = looked_up
        if kind.startswith("List<") or kind == "CommaDelimitedList":
            return [item.strip() for item in str(value).split(",")] if isinstance(value, str) else value
        return value

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            logical_id, _, attribute = arg.partition(".")
        else:
            logical_id, attribute = arg[0], self._resolve(arg[1])
        attributes = self.attributes.get(logical_id)
        if attributes is None:
            raise Unresolvable(f"Fn::GetAtt on {logical_id!r}, which is not provisioned")
        if attribute not in attributes:
            raise Unresolvable(f"Fn::GetAtt {logical_id}.{attribute}: attribute not available locally")
        return attributes[attribute]

    def _join(self, arg: list[Any]) -> str:
        delimiter, items = arg
        values = self._resolve(items)
        return str(delimiter).join(_as_text(item) for item in values)

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], self._resolve(arg[1]) if len(arg) > 1 else {}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _as_text(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return _as_text(self._get_att([logical_id, attribute]))
            return _as_text(self._ref(name))

        return SUB_VARIABLE.sub(replace, text)

    def _select(self, arg: list[Any]) -> Any:
        index, items = self._resolve(arg[0]), self._resolve(arg[1])
        return items[int(index)]

    def _split(self, arg: list[Any]) -> list[str]:
        delimiter, text = arg
        return str(self._resolve(text)).split(delimiter)

    def _if(self, arg: list[Any]) -> Any:
        name, when_true, when_false = arg
        return self._resolve(when_true if self.condition(name) else when_false)

    def _equals(self, arg: list[Any]) -> bool:
        left, right = (self._resolve(item) for item in arg)
        return _as_text(left) == _as_text(right)

    def _and(self, arg: Iterable[Any]) -> bool:
        return all(bool(self._resolve(item)) for item in arg)

    def _or(self, arg: Iterable[Any]) -> bool:
        return any(bool(self._resolve(item)) for item in arg)

    def _not(self, arg: list[Any]) -> bool:
        return not bool(self._resolve(arg[0]))

    def _find_in_map(self, arg: list[Any]) -> Any:
        map_name, top, second = (self._resolve(item) for item in arg[:3])
        try:
            return self.template["Mappings"][map_name][top][second]
        except KeyError as missing:
            if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                return self._resolve(arg[3]["DefaultValue"])
            raise Unresolvable(f"Fn::FindInMap {map_name}/{top}/{second}: not in Mappings") from missing

    def _get_azs(self, arg: Any) -> list[str]:
        region = self._resolve(arg) or self.region
        return [f"{region}{zone}" for zone in "abc"]

    def _base64(self, arg: Any) -> str:
        return base64.b64encode(_as_text(self._resolve(arg)).encode()).decode()

    def _import_value(self, arg: Any) -> Any:
        raise Unresolvable(f"Fn::ImportValue {self._resolve(arg)!r}: cross-stack imports are not provisioned locally")

    def _to_json_string(self, arg: Any) -> str:
        return json.dumps(self._resolve(arg), separators=(",", ":"))

    def _length(self, arg: Any) -> int:
        return len(self._resolve(arg))

    def _contains(self, arg: list[Any]) -> bool:
        items, item = self._resolve(arg[0]), self._resolve(arg[1])
        return item in items

    _INTRINSICS: ClassVar[dict[str, Callable[[TemplateResolver, Any], Any]]] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Join": _join,
        "Fn::Sub": _sub,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::If": _if,
        "Fn::Equals": _equals,
        "Fn::And": _and,
        "Fn::Or": _or,
        "Fn::Not": _not,
        "Fn::FindInMap": _find_in_map,
        "Fn::GetAZs": _get_azs,
        "Fn::Base64": _base64,
        "Fn::ImportValue": _import_value,
        "Fn::ToJsonString": _to_json_string,
        "Fn::Length": _length,
        "Fn::Contains": _contains,
    }


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
