"""DynamoDB stream -> Lambda: one poller per mapping, as Lambda's stream poller does it (see local.mappings)."""

from __future__ import annotations

import base64
import datetime
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from local.functions import InvocationResult
from local.mappings import Activity, Backoff, BatchFailures, Invoke, send_to_destination
from local.patches.state import STREAM_ACTIVITY
from local.provisioned import EventSourceMappingSpec

log = logging.getLogger("local.mappings")


class StreamPoller:
    def __init__(
        self,
        spec: EventSourceMappingSpec,
        invoke: Invoke,
        client: Callable[[str], Any],
        *,
        function_arn: str,
        region: str,
        redelivery_delay: float | None,
        activity: Activity,
        shard_end: Callable[[], int],
    ) -> None:
        from moto.events.models import EventPattern

        props = spec.properties
        self.spec = spec
        self.stream_arn = spec.event_source_arn
        self.function_arn = function_arn
        self.region = region
        self.batch_size = int(props.get("BatchSize", 100))
        self.window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.report_failures = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
        self.max_retries = int(props.get("MaximumRetryAttempts", -1))
        self.max_age = int(props.get("MaximumRecordAgeInSeconds", -1))
        self.bisect = bool(props.get("BisectBatchOnFunctionError", False))
        self.on_failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        self.starting_position = props.get("StartingPosition", "LATEST")
        self.patterns = [
            EventPattern.load(f["Pattern"] if isinstance(f["Pattern"], str) else json.dumps(f["Pattern"]))
            for f in props.get("FilterCriteria", {}).get("Filters", [])
        ]
        if props.get("TumblingWindowInSeconds"):
            log.warning("%s: tumbling windows are not emulated locally", spec.logical_id)
        self.redelivery_delay = redelivery_delay
        self._invoke = invoke
        self._client = client
        self._streams = client("dynamodbstreams")
        self._activity = activity
        self._shard_end = shard_end
        self._stop = threading.Event()
        self._busy = False
        self.next_sequence: int | None = None
        self._thread = threading.Thread(target=self._run, name=f"stream-{spec.logical_id}", daemon=True)
        self._iterator: str | None = None
        self.invocations = 0
        self._open()

    def _open(self) -> None:
        """Takes the starting position now, as the mapping's creation does."""
        stream = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        shard = stream["Shards"][0]
        self.shard_id = shard["ShardId"]
        iterator_type = "TRIM_HORIZON" if self.starting_position == "TRIM_HORIZON" else "LATEST"
        self._iterator = self._streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=self.shard_id, ShardIteratorType=iterator_type
        )["ShardIterator"]
        start = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
        self.next_sequence = start if iterator_type == "TRIM_HORIZON" else self._shard_end()

    def _reopen(self) -> None:
        position = {"ShardIteratorType": "TRIM_HORIZON"}
        if self.next_sequence is not None and self.next_sequence < self._shard_end():
            position = {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": str(self.next_sequence)}
        elif self.next_sequence is not None:
            position = {"ShardIteratorType": "LATEST"}
        self._iterator = self._streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=self.shard_id, **position)[
            "ShardIterator"
        ]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with STREAM_ACTIVITY:
            STREAM_ACTIVITY.notify_all()

    @property
    def busy(self) -> bool:
        return self._busy or (self.next_sequence is not None and self.next_sequence < self._shard_end())

    def describe(self) -> str:
        table = self.stream_arn.split(":table/", 1)[-1].split("/stream/")[0]
        return f"DynamoDB stream {table} -> {self.spec.function_name}"

    def _run(self) -> None:
        backoff = Backoff(self.describe)
        while not self._stop.is_set():
            try:
                if self._iterator is None:
                    self._reopen()
                found = self._poll_once()
                backoff.succeeded()
                if not found:
                    with STREAM_ACTIVITY:
                        STREAM_ACTIVITY.wait_for(
                            lambda: (
                                self._stop.is_set()
                                or self.next_sequence is None
                                or self.next_sequence < self._shard_end()
                            ),
                            timeout=1.0,
                        )
            except Exception as error:
                if self._stop.is_set():
                    return
                self._iterator = None  # expired or unknown (moto reset?): reopen where we were
                backoff.failed(error, self._stop)

    def _read(self, limit: int) -> list[dict[str, Any]]:
        """`GetRecords` on moto's stream itself: Lambda's poller is part of the service, and over
        HTTP each read cost a request's parsing and serializing in the runner (a read per write
        while orders flow). The records are moto's own; `_record` copies what it uses."""
        if self._iterator is None:
            raise RuntimeError(f"{self.describe()}: no shard iterator")
        backend = self._streams_backend()
        iterator = self._iterator
        response = backend.get_records(iterator, limit)
        self._forget_iterator(iterator)
        self._iterator = response.get("NextShardIterator", iterator)
        return list(response.get("Records", []))

    def _streams_backend(self) -> Any:
        from moto.dynamodbstreams.models import dynamodbstreams_backends

        return dynamodbstreams_backends[self.stream_arn.split(":")[4]][self.region]

    def _forget_iterator(self, iterator: str | None) -> None:
        # moto keeps every shard iterator it ever issued; a long local run would leak them.
        self._streams_backend().shard_iterators.pop(iterator or "", None)

    def _poll_once(self) -> bool:
        """Reads and processes one batch; False when there was nothing to read."""
        raw = self._read(self.batch_size)
        if not raw:
            return False
        self._busy = True
        try:
            if self.window > 0 and len(raw) < self.batch_size:
                deadline = time.monotonic() + self.window
                while len(raw) < self.batch_size and time.monotonic() < deadline and not self._stop.is_set():
                    more = self._read(self.batch_size - len(raw))
                    raw += more
                    if not more:
                        self._stop.wait(0.05)
            last = int(raw[-1]["dynamodb"]["SequenceNumber"])
            records = [record for record in (self._record(item) for item in raw) if self._matches(record)]
            if records:
                self._process(records, attempts=0)
            self.next_sequence = last + 1
        finally:
            self._busy = False
            self._activity.bump()
        return True

    def _matches(self, record: dict[str, Any]) -> bool:
        return not self.patterns or any(pattern.matches_event(record) for pattern in self.patterns)  # type: ignore[arg-type]

    def _record(self, item: dict[str, Any]) -> dict[str, Any]:
        dynamodb = dict(item["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime.datetime):
            if created.tzinfo is None:  # moto's own record: naive UTC
                created = created.replace(tzinfo=datetime.UTC)
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        return {
            "eventID": item.get("eventID", uuid.uuid4().hex),
            "eventName": item["eventName"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": _json_safe(dynamodb),
            "eventSourceARN": self.stream_arn,
        }

    def _process(self, records: list[dict[str, Any]], attempts: int) -> None:
        pending = records
        while pending and not self._stop.is_set():
            if self._expired(pending):
                self._send_failure(pending, None, attempts, "RecordAgeExceeded")
                return
            result = self._invoke({"Records": pending})
            self.invocations += 1
            self._activity.bump()
            if not result.errored:
                if not self.report_failures:
                    return
                sequences = {r["dynamodb"]["SequenceNumber"] for r in pending}
                failures = BatchFailures(result, sequences)
                if not failures.invalid and not failures.ids:
                    return
                if not failures.invalid:
                    # Checkpoint before the lowest failed record; retry from there.
                    lowest = min(int(identifier) for identifier in failures.ids)
                    pending = [r for r in pending if int(r["dynamodb"]["SequenceNumber"]) >= lowest]
            elif self.bisect and len(pending) > 1:
                # Splitting does not count against the retry quota.
                middle = len(pending) // 2
                self._process(pending[:middle], attempts)
                self._process(pending[middle:], attempts)
                return
            attempts += 1
            if 0 <= self.max_retries < attempts:
                self._send_failure(pending, result, attempts, "RetryAttemptsExhausted")
                return
            self._stop.wait(self._retry_delay(attempts))

    def _retry_delay(self, attempts: int) -> float:
        if self.redelivery_delay is not None:
            return self.redelivery_delay
        return min(30.0, 2.0 ** (attempts - 1))

    def _expired(self, records: list[dict[str, Any]]) -> bool:
        if self.max_age < 0:
            return False
        oldest = records[0]["dynamodb"].get("ApproximateCreationDateTime", time.time())
        return time.time() - float(oldest) > self.max_age

    def _send_failure(
        self, records: list[dict[str, Any]], result: InvocationResult | None, attempts: int, condition: str
    ) -> None:
        """What Lambda sends to an OnFailure destination for a stream batch it gives up on."""
        log.warning("%s: giving up on %d record(s) (%s)", self.describe(), len(records), condition)
        if not self.on_failure:
            return

        def arrival(record: dict[str, Any]) -> str:
            seconds = float(record["dynamodb"].get("ApproximateCreationDateTime", time.time()))
            return _iso(datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC))

        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if result is not None and result.errored:
            response_context["functionError"] = "Unhandled"
        message = {
            "requestContext": {
                "requestId": result.request_id if result else str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": _iso(datetime.datetime.now(tz=datetime.UTC)),
            "DDBStreamBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": arrival(records[0]),
                "approximateArrivalOfLastRecord": arrival(records[-1]),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        send_to_destination(self._client, self.on_failure, message)


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json_safe(value: Any) -> Any:
    """boto3 hands binary attribute values back as bytes; the Lambda event carries them base64."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return value
