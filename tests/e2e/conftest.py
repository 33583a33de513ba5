"""The end-to-end bed: the synthesized app running on the local cloud, reached over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from local.cloud import LocalCloud
from tests.e2e.faults import Faults, Ops


@dataclass
class Orderflow:
    """The running app: HTTP to its API, boto3 to its state, names from the template."""

    cloud: LocalCloud
    stack: Any
    http: requests.Session

    def url(self, path: str) -> str:
        return f"{self.cloud.api_url}{path}"

    def put_stock(self, sku: str, available: int, price_cents: int = 1000) -> requests.Response:
        response = self.http.put(
            self.url(f"/inventory/{sku}"), json={"available": available, "price_cents": price_cents}
        )
        assert response.status_code == 200, response.text
        return response

    def order(
        self,
        items: list[tuple[str, int]],
        token: str = "tok_visa",
        flow: str = "orchestrated",
        headers: dict[str, str] | None = None,
        customer_id: str = "c-1",
    ) -> requests.Response:
        body = {
            "customer_id": customer_id,
            "items": [{"sku": sku, "quantity": quantity} for sku, quantity in items],
            "payment": {"token": token},
            "flow": flow,
        }
        return self.http.post(self.url("/orders"), json=body, headers=headers or {}, timeout=60)

    def table_name(self, table: Any) -> str:
        return self.cloud.physical_id(self.stack.get_logical_id(table.node.default_child))

    def item(self, table: Any, key: dict[str, str]) -> dict[str, Any] | None:
        from boto3.dynamodb.types import TypeDeserializer

        raw = (
            self.cloud.client("dynamodb")
            .get_item(TableName=self.table_name(table), Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True)
            .get("Item")
        )
        if raw is None:
            return None
        deserializer = TypeDeserializer()
        return {k: deserializer.deserialize(v) for k, v in raw.items()}

    def scan(self, table: Any) -> list[dict[str, Any]]:
        from boto3.dynamodb.types import TypeDeserializer

        deserializer = TypeDeserializer()
        items = self.cloud.client("dynamodb").scan(TableName=self.table_name(table))["Items"]
        return [{k: deserializer.deserialize(v) for k, v in item.items()} for item in items]

    def stock(self, sku: str) -> dict[str, Any]:
        item = self.item(self.stack.inventory.table, {"pk": f"SKU#{sku}"})
        assert item is not None, sku
        return {k: int(item[k]) for k in ("available", "reserved", "stocked")}

    def payment(self, order_id: str) -> dict[str, Any] | None:
        return self.item(self.stack.payments.table, {"pk": f"PAY#{order_id}"})

    def shipment(self, order_id: str) -> dict[str, Any] | None:
        return self.item(self.stack.shipping.table, {"order_id": order_id})

    def order_item(self, order_id: str) -> dict[str, Any] | None:
        return self.item(self.stack.orders.table, {"order_id": order_id})


_HERE = Path(__file__).resolve().parent


class _Bed:
    """This test process's local cloud for the end-to-end tests: started when a module first asks
    for it, stopped after the last end-to-end test of a run of them (`pytest_runtest_teardown`).
    Under `make test` the suite is split into groups over the workers (tests/conftest.py); a
    worker that gets a second group later starts a fresh cloud for it."""

    def __init__(self) -> None:
        self.cloud: LocalCloud | None = None
        self.orderflow: Orderflow | None = None
        self._http: requests.Session | None = None

    def get(self, synthesized: Any, work_dir: Path) -> Orderflow:
        if self.orderflow is None:
            cloud = LocalCloud.from_assembly(
                str(synthesized.outdir),
                stack=synthesized.stack_name,
                api_port=0,
                # Its own logs and code: never the `.local/` of a `make local` or of another test process.
                work_dir=work_dir,
                redelivery_delay=0.2,
                prewarm=True,
                # Tests fire the reconciler's schedule themselves, at the time they choose.
                schedules=False,
            )
            cloud.start()
            self.cloud, self._http = cloud, requests.Session()
            self.orderflow = Orderflow(cloud=cloud, stack=synthesized.stack, http=self._http)
        return self.orderflow

    def stop(self) -> None:
        if self.cloud is not None:
            self.cloud.stop()
        if self._http is not None:
            self._http.close()
        self.cloud = self.orderflow = self._http = None


_BED = _Bed()


@pytest.fixture(scope="module")
def orderflow(synthesized, tmp_path_factory: pytest.TempPathFactory) -> Orderflow:
    return _BED.get(synthesized, tmp_path_factory.mktemp("local"))


@pytest.fixture(scope="session", autouse=True)
def _stop_the_bed_at_the_end() -> Iterator[None]:
    yield
    _BED.stop()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the cloud after the last end-to-end test of a run rather than at the end of the session:
    other suites use moto in-process (mock_aws), which resets every backend under it."""
    if nextitem is None or _HERE not in Path(nextitem.path).parents:
        _BED.stop()


@pytest.fixture(scope="module")
def ops(orderflow: Orderflow) -> Ops:
    """The ops toolkit (checker, redrive, replay) pointed at the module's local cloud."""
    return Ops.of(orderflow.cloud)


@pytest.fixture
def faults(orderflow: Orderflow) -> Iterator[Faults]:
    """Faults for one test; `{}` again afterwards (tests switch them in `with faults.injected(...)`,
    whose own `finally` resets them first; this teardown is the safety net)."""
    with Faults.cleared(orderflow.cloud) as controller:
        yield controller


@pytest.fixture
def sku() -> str:
    """A fresh sku per test, so tests never share stock."""
    return f"sku-{uuid.uuid4().hex[:10]}"
