"""DynamoDB implementations: the PAY# payment records and the simulator's SIM# ledger.

Both live in the payments table (key ``pk``). Every write is conditional, so a retried or
concurrent step can never move a payment backwards or charge twice.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from botocore.exceptions import ClientError

from payments.data.ledger import SimAuthorization, SimCapture, SimRefund
from payments.domain.models import Payment, PaymentState
from shared import dynamodb
from shared.dynamodb import condition_failed, from_item, to_item

_STATE = {"#state": "state"}  # STATE is a DynamoDB reserved word


def _payment_item(payment: Payment) -> dict[str, Any]:
    values = asdict(payment)
    values["state"] = payment.state.value
    return to_item({"pk": f"PAY#{payment.order_id}", **values})


def _payment(item: dict[str, Any]) -> Payment:
    values = from_item(item)
    values.pop("pk")
    values["state"] = PaymentState(values["state"])
    return Payment(**values)


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


class DynamoPaymentRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or dynamodb.client()

    def get(self, order_id: str) -> Payment | None:
        item = self._client.get_item(TableName=self._table, Key=key(f"PAY#{order_id}"), ConsistentRead=True).get("Item")
        return _payment(item) if item else None

    def create(self, payment: Payment) -> bool:
        return self._put(payment, "attribute_not_exists(pk)", {})

    def transition(self, expected: PaymentState, payment: Payment) -> bool:
        return self._put(payment, "#state = :expected", {":expected": {"S": expected.value}})

    def _put(self, payment: Payment, condition: str, values: dict[str, Any]) -> bool:
        request: dict[str, Any] = {
            "TableName": self._table,
            "Item": _payment_item(payment),
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeNames"] = _STATE
            request["ExpressionAttributeValues"] = values
        try:
            self._client.put_item(**request)
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True


class DynamoSimulatorLedger:
    """``SIM#KEY#``: attempt counters; ``SIM#AUTH#``, ``SIM#CAP#``, ``SIM#REF#``: the processor's records."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or dynamodb.client()

    def _new(self, pk: str, record: Any) -> dict[str, Any]:
        """A transaction item that stores ``record`` (a dataclass) under ``pk``, if nothing is there yet."""
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item({"pk": pk, **asdict(record)}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _change(self, pk: str, update: str, condition: str, values: dict[str, Any]) -> dict[str, Any]:
        """A transaction item that updates the item at ``pk`` if ``condition`` holds."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": key(pk),
            "UpdateExpression": update,
            "ConditionExpression": condition,
        }
        if "#state" in update + condition:
            request["ExpressionAttributeNames"] = _STATE
        request["ExpressionAttributeValues"] = values
        return {"Update": request}

    def count_attempt(self, idempotency_key: str) -> int:
        response = self._client.update_item(
            TableName=self._table,
            Key=key(f"SIM#KEY#{idempotency_key}"),
            UpdateExpression="ADD attempts :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["attempts"]["N"])

    def get_authorization(self, authorization_id: str) -> SimAuthorization | None:
        values = self._get(f"SIM#AUTH#{authorization_id}")
        if not values:
            return None
        values.pop("max_capture_cents", None)  # written by earlier versions, which allowed 120 %
        return SimAuthorization(**values)

    def create_authorization(self, authorization: SimAuthorization) -> bool:
        return self._write(self._new(f"SIM#AUTH#{authorization.authorization_id}", authorization))

    def get_capture(self, capture_id: str) -> SimCapture | None:
        values = self._get(f"SIM#CAP#{capture_id}")
        return SimCapture(**values) if values else None

    def record_capture(self, capture: SimCapture) -> bool:
        return self._write(
            self._change(
                f"SIM#AUTH#{capture.authorization_id}",
                "SET #state = :captured, capture_id = :capture_id",
                "#state = :authorized AND amount_cents >= :amount",
                {
                    ":captured": {"S": "CAPTURED"},
                    ":authorized": {"S": "AUTHORIZED"},
                    ":capture_id": {"S": capture.capture_id},
                    ":amount": {"N": str(capture.amount_cents)},
                },
            ),
            self._new(f"SIM#CAP#{capture.capture_id}", capture),
        )

    def get_refund(self, refund_id: str) -> SimRefund | None:
        values = self._get(f"SIM#REF#{refund_id}")
        return SimRefund(**values) if values else None

    def record_refund(self, refund: SimRefund, *, refunded_at_most: int) -> bool:
        return self._write(
            self._change(
                f"SIM#CAP#{refund.capture_id}",
                "ADD refunded_cents :amount",
                "attribute_exists(pk) AND refunded_cents <= :limit",
                {":amount": {"N": str(refund.amount_cents)}, ":limit": {"N": str(refunded_at_most)}},
            ),
            self._new(f"SIM#REF#{refund.refund_id}", refund),
        )

    def record_void(self, authorization_id: str) -> bool:
        return self._write(
            self._change(
                f"SIM#AUTH#{authorization_id}",
                "SET #state = :voided",
                "#state = :authorized",
                {":voided": {"S": "VOIDED"}, ":authorized": {"S": "AUTHORIZED"}},
            )
        )

    def _get(self, pk: str) -> dict[str, Any] | None:
        item = self._client.get_item(TableName=self._table, Key=key(pk), ConsistentRead=True).get("Item")
        if not item:
            return None
        values = from_item(item)
        values.pop("pk")
        return values

    def _write(self, *actions: dict[str, Any]) -> bool:
        """One conditional write, or a transaction of several; False if a condition refused it."""
        try:
            if len(actions) == 1:
                [(kind, request)] = actions[0].items()
                if kind == "Put":
                    self._client.put_item(**request)
                else:
                    self._client.update_item(**request)
            else:
                self._client.transact_write_items(TransactItems=list(actions))
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True
