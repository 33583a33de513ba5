"""A meter for the local cloud: what each order would be billed for, counted as the calls happen.

`LocalCloud(..., metered=True)` records, per correlation id and in total:

- API requests (the local REST API, with the `X-Correlation-Id` header the caller sent);
- Lambda invocations per function with their measured duration and the template's MemorySize
  (GB-s), what triggered them (API, SQS, DynamoDB stream, EventBridge, Invoke) and the log bytes
  they wrote (handler lines plus the START/END/REPORT lines Lambda adds);
- Step Functions executions: Express duration, Standard state transitions (from the history);
- EventBridge PutEvents entries (64 KB chunks) and rule deliveries;
- SQS requests: send, receive (empty receives apart: they belong to no order), delete and
  change-visibility, each a request per 64 KB chunk, batches one request;
- DynamoDB request units from item sizes as DynamoDB bills them: writes per 1 KB of the larger of
  the item before and after (transactional x2), plus the writes each global secondary index's copy
  takes (none when the copy is unchanged, two when its key changes), reads per 4 KB (strongly consistent 1, eventually
  0.5, transactional 2), in all and per table (`dynamodb_wru:<table>`); the simulated card
  processor's own ledger (`SIM#` items) is counted apart as `processor_wru`/`processor_rru`: it
  stands in for the processor's systems, which orderflow does not pay for. moto's
  ReturnConsumedCapacity is a constant, so it is not used.

Attribution: invocations carry the correlation ids their log lines name (Powertools binds it on
every line); events, messages and execution inputs carry it in their payload; an AWS call a
function makes carries the invocation's X-Ray trace header (botocore adds `X-Amzn-Trace-Id` from
`_X_AMZN_TRACE_ID` inside Lambda), which resolves to that invocation's correlation ids; a state
machine's own service integrations (a DynamoDB or SQS task) carry a trace header naming their
execution (`execution_trace`), which resolves to the execution input's correlation ids. A record
with several ids (a batch of several orders) is split evenly among them.

AWS calls: every request to the local cloud's server that carries a trace header is timed there
(`Meter.aws_calls`: service, start, end, per trace root), so that an invocation's measured duration
can be split into its own time and the time moto took to answer it (`Meter.calls_of`).

The package: the records (`records`), the meter that keeps them (`recorder`), the counts per order
(`usage`), correlation ids and trace roots (`attribution`), the registered meters (`registry`), the
hooks on moto's SQS and EventBridge and the call timer (`hooks`), DynamoDB's hook (`dynamodb`) and
its request units (`dynamodb_units`).
"""

from __future__ import annotations

from local.meter.attribution import add_execution_trace, chunks, correlation_ids, execution_trace, trigger_of
from local.meter.dynamodb import Part
from local.meter.dynamodb_units import attribute_size, index_write_units, item_size, read_units, write_units
from local.meter.hooks import install, register
from local.meter.recorder import Meter
from local.meter.records import CHUNK_64KB, UNATTRIBUTED, ApiRequest, AwsCall, Execution, Invocation, Usage
from local.meter.registry import record_execution, unregister

__all__ = [
    "CHUNK_64KB",
    "UNATTRIBUTED",
    "ApiRequest",
    "AwsCall",
    "Execution",
    "Invocation",
    "Meter",
    "Part",
    "Usage",
    "add_execution_trace",
    "attribute_size",
    "chunks",
    "correlation_ids",
    "execution_trace",
    "index_write_units",
    "install",
    "item_size",
    "read_units",
    "record_execution",
    "register",
    "trigger_of",
    "unregister",
    "write_units",
]
