"""Find the stack's resources by the logical ids CDK gave them.

CDK names a resource `<construct path without separators><8 hex digits of a hash>`, e.g.
`OrdersTable1F8332C7` or `ShippingEventsDeadLetterQueueB498991D`. The hash changes when a
construct moves, the prefix does not, so every lookup is "the one logical id that is this
prefix plus 8 hex digits". The same mapping (logical id -> physical id) comes from a deployed
stack (CloudFormation) or from the local runner's `<work dir>/resources.json` (`.local/` by
default), which also names the runner's endpoint, region and stack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

DEFAULT_STACK = "Orderflow"
DEFAULT_RESOURCES_FILE = Path(".local/resources.json")

# Logical-id prefixes of what the toolkit touches (checked against the synthesized template in tests).
ORDERS_TABLE = "OrdersTable"
INVENTORY_TABLE = "InventoryTable"
PAYMENTS_TABLE = "PaymentsTable"
SHIPMENTS_TABLE = "ShippingTable"
EVENT_BUS = "EventBus"
EVENT_ARCHIVE = "EventBusArchive"
SAGA_STATE_MACHINE = "OrderSagaStateMachine"
PAYMENT_WORKFLOW = "PaymentsWorkflow"
RELAY_FUNCTION = "OrdersRelayFunction"
# The same, by what each is (`python -m ops resources` lists them so).
PREFIXES = {
    "orders table": ORDERS_TABLE,
    "inventory table": INVENTORY_TABLE,
    "payments table": PAYMENTS_TABLE,
    "shipments table": SHIPMENTS_TABLE,
    "event bus": EVENT_BUS,
    "archive": EVENT_ARCHIVE,
    "saga": SAGA_STATE_MACHINE,
    "payment workflow": PAYMENT_WORKFLOW,
    "relay function": RELAY_FUNCTION,
}


class ResourceNotFound(LookupError):
    """No logical id, or more than one, matches the prefix."""


def logical_id_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(prefix)}[0-9A-F]{{8}}$")


def _name_from_arn(value: str, marker: str) -> str:
    """`arn:...:table/Name` -> `Name`; a plain name passes through."""
    if value.startswith("arn:") and marker in value:
        return value.split(marker, 1)[1].split("/", 1)[0]
    return value


class Resources:
    """logical id -> physical id of one orderflow stack.

    From the local runner's file, also where that cloud is: `endpoint_url`, `region`, `stack`.
    """

    def __init__(
        self,
        physical_ids: Mapping[str, str],
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        stack: str | None = None,
    ) -> None:
        self._ids = dict(physical_ids)
        self.endpoint_url = endpoint_url
        self.region = region
        self.stack = stack
        self.api_url: str | None = None  # the local runner's API, from its file

    # --- construction ------------------------------------------------------------------

    @classmethod
    def from_dict(cls, physical_ids: Mapping[str, Any]) -> Resources:
        return cls({str(k): str(v) for k, v in physical_ids.items() if v is not None})

    @classmethod
    def from_file(cls, path: str | Path) -> Resources:
        document = json.loads(Path(path).read_text())
        if not isinstance(document, dict):
            raise ValueError(f"{path}: expected a JSON object of logical id -> physical id")
        # The runner's {"endpoint_url": ..., "resources": {...}} as well as the bare mapping.
        if isinstance(document.get("resources"), dict):
            resources = cls.from_dict(document["resources"])
            for key in ("endpoint_url", "region", "stack", "api_url"):
                if isinstance(document.get(key), str):
                    setattr(resources, key, document[key])
            return resources
        return cls.from_dict(document)

    @classmethod
    def from_stack(cls, cloudformation: Any, stack_name: str = DEFAULT_STACK) -> Resources:
        """Every resource of the stack (ListStackResources pages; DescribeStackResources stops at 100)."""
        ids: dict[str, str] = {}
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
            for summary in page.get("StackResourceSummaries", []):
                if summary.get("PhysicalResourceId"):
                    ids[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
        return cls(ids)

    # --- lookups -----------------------------------------------------------------------

    @property
    def physical_ids(self) -> dict[str, str]:
        return dict(self._ids)

    def logical_id(self, prefix: str) -> str:
        pattern = logical_id_pattern(prefix)
        matches = sorted(k for k in self._ids if pattern.match(k))
        if len(matches) != 1:
            found = "none" if not matches else ", ".join(matches)
            raise ResourceNotFound(f"expected one logical id {pattern.pattern}, found {found}")
        return matches[0]

    def has(self, prefix: str) -> bool:
        pattern = logical_id_pattern(prefix)
        return sum(1 for k in self._ids if pattern.match(k)) == 1

    def physical_id(self, prefix: str) -> str:
        return self._ids[self.logical_id(prefix)]

    def table(self, prefix: str) -> str:
        return _name_from_arn(self.physical_id(prefix), ":table/")

    def queue_url(self, prefix: str, sqs: Any | None = None) -> str:
        """CloudFormation's physical id of a queue is its URL; a name or ARN is resolved with `sqs`."""
        value = self.physical_id(prefix)
        if value.startswith(("http://", "https://")):
            return value
        if sqs is None:
            raise ResourceNotFound(f"{self.logical_id(prefix)} is {value!r}, not a queue URL; pass an SQS client")
        if value.startswith("arn:"):
            account, name = value.split(":")[4], value.split(":")[5]
            return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])
        return str(sqs.get_queue_url(QueueName=value)["QueueUrl"])

    def _arn(self, prefix: str, from_name: Callable[[str], Any]) -> str:
        """The physical id if it is an ARN, else the ARN `from_name` finds for that name."""
        value = self.physical_id(prefix)
        return value if value.startswith("arn:") else str(from_name(value))

    def bus_name(self, prefix: str = EVENT_BUS) -> str:
        return _name_from_arn(self.physical_id(prefix), ":event-bus/")

    def bus_arn(self, events: Any, prefix: str = EVENT_BUS) -> str:
        return self._arn(prefix, lambda name: events.describe_event_bus(Name=name)["Arn"])

    def archive_name(self, prefix: str = EVENT_ARCHIVE) -> str:
        return _name_from_arn(self.physical_id(prefix), ":archive/")

    def archive_arn(self, events: Any, prefix: str = EVENT_ARCHIVE) -> str:
        return self._arn(prefix, lambda name: events.describe_archive(ArchiveName=name)["ArchiveArn"])

    def function_name(self, prefix: str) -> str:
        return _name_from_arn(self.physical_id(prefix), ":function:").split(":", 1)[0]

    def state_machine_arn(self, prefix: str, stepfunctions: Any | None = None) -> str:
        value = self.physical_id(prefix)
        if value.startswith("arn:"):
            return value
        if stepfunctions is None:
            raise ResourceNotFound(f"{self.logical_id(prefix)} is {value!r}, not an ARN; pass a Step Functions client")
        for page in stepfunctions.get_paginator("list_state_machines").paginate():
            for machine in page.get("stateMachines", []):
                if machine["name"] == value:
                    return str(machine["stateMachineArn"])
        raise ResourceNotFound(f"no state machine named {value!r}")
