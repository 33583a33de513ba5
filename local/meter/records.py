"""The meter's records: what one invocation, execution, AWS call or API request was, and the counts
of one order (`Usage`)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

CHUNK_64KB = 64 * 1024
UNATTRIBUTED = "-"


@dataclass
class Invocation:
    function: str
    request_id: str
    trace_root: str
    trigger: str  # api | sqs | sqs-fifo | stream | eventbridge | invoke
    start: float
    end: float
    duration_ms: float
    memory_mb: int
    errored: bool
    correlation_ids: list[str]
    decisions: list[str]  # correlation ids whose decision (TimeToDecision) this invocation wrote
    log_bytes: int
    # the HTTP requests the function sent, timed on its side (start, end), when its worker reports them
    client_calls: list[tuple[float, float]] = field(default_factory=list)
    cpu_ms: float | None = None  # CPU the function's process used during the run, when its worker reports it

    @property
    def gb_seconds(self) -> float:
        return self.memory_mb / 1024 * math.ceil(self.duration_ms) / 1000


@dataclass
class Execution:
    state_machine: str
    type: str  # EXPRESS | STANDARD
    start: float
    end: float
    transitions: int
    correlation_ids: list[str]
    dynamodb_tasks: int = 0  # tasks that called DynamoDB directly (a service integration, no function)


@dataclass
class AwsCall:
    """One request a function (or a state machine's own integration) made to the local cloud's server."""

    service: str  # the SigV4 signing name: dynamodb, events, sqs, kms, ssm, states, sns, ...
    start: float
    end: float
    operation: str = ""  # from X-Amz-Target where the protocol has one (StartSyncExecution, PutItem, ...)

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


@dataclass
class ApiRequest:
    method: str
    path: str
    status: int
    start: float
    end: float
    correlation_id: str


@dataclass
class Usage:
    """One order's (or everything's) counts; fractional where a record was split among orders."""

    counts: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, name: str, amount: float) -> None:
        self.counts[name] += amount

    def __getitem__(self, name: str) -> float:
        return self.counts.get(name, 0.0)
