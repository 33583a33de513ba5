"""What provisioning a template resource gives: its `Ref` value, its `Fn::GetAtt` attributes, where it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class PlaceholderAttributes(dict[str, Any]):
    """Any attribute of a resource that has no local counterpart: a recognisable placeholder."""

    def __init__(self, logical_id: str) -> None:
        super().__init__()
        self._logical_id = logical_id

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return f"local-placeholder:{self._logical_id}.{key}"


@dataclass
class ProvisionedResource:
    """One template resource as it exists locally."""

    logical_id: str
    type: str
    physical_id: Any  # what `Ref` returns
    attributes: dict[str, Any] = field(default_factory=dict)  # what `Fn::GetAtt` returns
    path: str | None = None  # the construct path (aws:cdk:path)
    properties: dict[str, Any] = field(default_factory=dict)  # resolved template properties
    emulated: bool = True  # False: skipped, only placeholders exist

    @property
    def arn(self) -> str | None:
        for key in ("Arn", "TopicArn", "StateMachineArn"):
            if key in self.attributes and not isinstance(self.attributes, PlaceholderAttributes):
                return str(self.attributes[key])
        physical = str(self.physical_id)
        return physical if physical.startswith("arn:") else None

    @property
    def name(self) -> str:
        for key in ("Name", "QueueName", "TopicName", "TableName", "FunctionName"):
            if key in self.attributes and not isinstance(self.attributes, PlaceholderAttributes):
                return str(self.attributes[key])
        return str(self.physical_id)


@dataclass
class EventSourceMappingSpec:
    logical_id: str
    uuid: str
    function_name: str
    event_source_arn: str
    properties: dict[str, Any]
