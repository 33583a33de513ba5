"""The hooks that observe moto's calls: every traced request to the server timed (`AwsCall`), SQS
requests and EventBridge PutEvents entries and rule deliveries counted; DynamoDB's are in
`local.meter.dynamodb`. `register` installs them once and records into a meter."""

from __future__ import annotations

import functools
import re
import threading
import time
from typing import Any

from local import patches
from local.meter.attribution import chunks, correlation_ids, trace_root
from local.meter.dynamodb import install_dynamodb
from local.meter.recorder import Meter
from local.meter.records import AwsCall
from local.meter.registry import METERS, METERS_LOCK, active, count_all

_installed: list[bool] = []  # [True] once installed
_install_lock = threading.Lock()
_batch = threading.local()  # inside a batch call: its per-entry calls are not requests of their own


def register(meter: Meter) -> None:
    install()
    with METERS_LOCK:
        METERS.append(meter)


def install() -> None:
    """Wraps moto's SQS, EventBridge and DynamoDB so that their requests are counted (once)."""
    with _install_lock:
        if _installed:
            return
        patches.install()
        _install_sqs()
        _install_events()
        install_dynamodb()
        _install_call_timer()
        _installed.append(True)


_SIGNING_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def _install_call_timer() -> None:
    """Times every traced request to the server (see `AwsCall`); untraced ones belong to no function."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    application: Any = DomainDispatcherApplication
    original_call = application.__call__

    @functools.wraps(original_call)
    def __call__(self: Any, environ: Any, start_response: Any) -> Any:
        root = trace_root(environ.get("HTTP_X_AMZN_TRACE_ID")) if METERS else None
        if not root:
            return original_call(self, environ, start_response)
        start = time.monotonic()
        try:
            return original_call(self, environ, start_response)
        finally:
            match = _SIGNING_SERVICE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
            operation = str(environ.get("HTTP_X_AMZ_TARGET", "")).rpartition(".")[2]
            call = AwsCall(match.group(1) if match else "?", start, time.monotonic(), operation)
            with METERS_LOCK:
                meters = list(METERS)
            for meter in meters:
                meter.aws_call(root, call)

    application.__call__ = __call__


def _install_sqs() -> None:
    from moto.sqs.models import SQSBackend

    backend: Any = SQSBackend
    original_send = backend.send_message
    original_send_batch = backend.send_message_batch
    original_receive = backend.receive_message
    original_delete = backend.delete_message
    original_delete_batch = backend.delete_message_batch
    original_visibility = backend.change_message_visibility

    @functools.wraps(original_send)
    def send_message(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        if not getattr(_batch, "active", False):
            count_all("sqs_send", chunks(len(str(message_body).encode())), correlation_ids(message_body))
        return original_send(self, queue_name, message_body, *args, **kwargs)

    @functools.wraps(original_send_batch)
    def send_message_batch(self: Any, queue_name: str, entries: Any, *args: Any, **kwargs: Any) -> Any:
        # moto passes the batch as {index: entry}
        listed = list(entries.values()) if isinstance(entries, dict) else list(entries or [])
        bodies = [str(entry.get("MessageBody", "")) for entry in listed]
        cids = [cid for body in bodies for cid in correlation_ids(body)]
        count_all("sqs_send", chunks(sum(len(body.encode()) for body in bodies)), cids)
        _batch.active = True
        try:
            return original_send_batch(self, queue_name, entries, *args, **kwargs)
        finally:
            _batch.active = False

    @functools.wraps(original_receive)
    def receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        messages = original_receive(self, queue_name, *args, **kwargs)
        meters = active()
        if not messages:
            for meter in meters:
                meter.count("sqs_empty_receives", 1)
        for meter in meters:
            cids = meter.remember_receipts(messages)
            if messages:
                size = sum(len(str(getattr(m, "body", "")).encode()) for m in messages)
                meter.count("sqs_receive", chunks(size), cids)
        return messages

    @functools.wraps(original_delete)
    def delete_message(self: Any, queue_name: str, receipt_handle: str) -> None:
        if not getattr(_batch, "active", False):
            for meter in active():
                meter.count("sqs_delete", 1, meter.receipt_cids([receipt_handle]))
        original_delete(self, queue_name, receipt_handle)

    @functools.wraps(original_delete_batch)
    def delete_message_batch(self: Any, queue_name: str, receipts: Any) -> Any:
        listed = list(receipts.values()) if isinstance(receipts, dict) else list(receipts or [])
        handles = [str(entry.get("ReceiptHandle", "")) for entry in listed]
        for meter in active():
            meter.count("sqs_delete", 1, meter.receipt_cids(handles))
        _batch.active = True
        try:
            return original_delete_batch(self, queue_name, receipts)
        finally:
            _batch.active = False

    @functools.wraps(original_visibility)
    def change_message_visibility(self: Any, queue_name: str, receipt_handle: str, *args: Any, **kwargs: Any) -> Any:
        for meter in active():
            meter.count("sqs_change_visibility", 1, meter.receipt_cids([receipt_handle]))
        return original_visibility(self, queue_name, receipt_handle, *args, **kwargs)

    for counted in (
        send_message,
        send_message_batch,
        receive_message,
        delete_message,
        delete_message_batch,
        change_message_visibility,
    ):
        setattr(backend, counted.__name__, counted)


def _install_events() -> None:
    from moto.events.models import EventsBackend, Rule

    from local.limits import put_events_size

    events_backend: Any = EventsBackend
    rule_class: Any = Rule
    original_put = events_backend.put_events
    original_send = rule_class.send_to_targets

    @functools.wraps(original_put)
    def put_events(self: Any, events: list[dict[str, Any]]) -> Any:
        for entry in events or []:
            size = put_events_size([entry])
            count_all("putevents_entries", chunks(size), correlation_ids(entry.get("Detail")))
            count_all("event_bytes", size, correlation_ids(entry.get("Detail")))
        return original_put(self, events)

    @functools.wraps(original_send)
    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> Any:
        meters = active()
        if meters and getattr(self, "state", "ENABLED") != "DISABLED" and self.targets:
            try:
                matched = self.event_pattern.get_pattern() and self.event_pattern.matches_event(original_event)
            except Exception:
                matched = False
            if matched:
                cids = correlation_ids(original_event.get("detail"))
                for meter in meters:
                    meter.count("rule_deliveries", len(self.targets), cids)
        return original_send(self, original_event, transform_input)

    events_backend.put_events = put_events
    rule_class.send_to_targets = send_to_targets
