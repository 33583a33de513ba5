"""What a deployed stack's resources did in a time window, as CloudWatch counted it (GetMetricData, Sum).

The resources come from the stack (`Resources.from_stack`: logical id -> physical id) and its template
(`GetTemplate`: each logical id's type); a function's memory, architecture and log group from Lambda.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ops.resources import Resources

PERIOD = 60  # seconds: every namespace read here publishes one-minute data points
MAX_QUERIES = 500  # per GetMetricData call


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str = "Sum"

    @property
    def resource(self) -> str:
        return "/".join(value for _, value in self.dimensions)


@dataclass
class Function:
    name: str
    memory_mb: int = 128
    arch: str = "x86_64"
    log_group: str = ""


@dataclass
class Inventory:
    """The stack's resources that publish the metrics the comparison reads."""

    functions: list[Function] = field(default_factory=list)
    state_machines: dict[str, str] = field(default_factory=dict)  # ARN -> EXPRESS | STANDARD
    rules: list[tuple[str, str]] = field(default_factory=list)  # (bus name, rule name)
    queues: list[str] = field(default_factory=list)
    tables: dict[str, list[str]] = field(default_factory=dict)  # table -> its global secondary indexes
    apis: list[str] = field(default_factory=list)  # REST API names (ApiName)
    log_groups: list[str] = field(default_factory=list)  # every log group of the stack, functions' too
    topics: list[str] = field(default_factory=list)

    def metrics(self) -> list[Metric]:
        found: list[Metric] = []
        for function in self.functions:
            found += [_m("AWS/Lambda", n, FunctionName=function.name) for n in ("Invocations", "Duration")]
        for arn, kind in self.state_machines.items():
            found.append(_m("AWS/States", "ExecutionsStarted", StateMachineArn=arn))
            if kind == "EXPRESS":
                found.append(_m("AWS/States", "ExecutionTime", StateMachineArn=arn))
                found.append(Metric("AWS/States", "ExecutionTime", (("StateMachineArn", arn),), "SampleCount"))
        for bus, rule in self.rules:
            dims = {"RuleName": rule} if bus == "default" else {"EventBusName": bus, "RuleName": rule}
            found += [_m("AWS/Events", n, **dims) for n in ("MatchedEvents", "Invocations")]
        for queue in self.queues:
            found += [_m("AWS/SQS", n, QueueName=queue) for n in SQS_METRICS]
        for table, indexes in self.tables.items():
            for name in ("ConsumedWriteCapacityUnits", "ConsumedReadCapacityUnits"):
                found.append(_m("AWS/DynamoDB", name, TableName=table))
                found += [_m("AWS/DynamoDB", name, TableName=table, GlobalSecondaryIndexName=i) for i in indexes]
        found += [_m("AWS/ApiGateway", "Count", ApiName=api) for api in self.apis]
        found += [_m("AWS/Logs", "IncomingBytes", LogGroupName=group) for group in self.log_groups]
        found += [_m("AWS/SNS", "NumberOfMessagesPublished", TopicName=topic) for topic in self.topics]
        return found


SQS_METRICS = ("NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfMessagesDeleted", "NumberOfEmptyReceives")


def _m(namespace: str, name: str, **dimensions: str) -> Metric:
    return Metric(namespace, name, tuple(dimensions.items()))


def inventory(cloudformation: Any, lambda_: Any, stack: str, apigateway: Any = None) -> Inventory:
    """The stack's resources by type. A missing stack raises the ClientError of ListStackResources."""
    ids = Resources.from_stack(cloudformation, stack).physical_ids
    body = cloudformation.get_template(StackName=stack, TemplateStage="Processed")["TemplateBody"]
    template = body if isinstance(body, dict) else {}
    found = Inventory()
    for logical_id, resource in template.get("Resources", {}).items():
        physical, kind = ids.get(logical_id), resource.get("Type", "")
        properties = resource.get("Properties", {}) or {}
        if not physical:
            continue
        if kind == "AWS::Lambda::Function":
            config = lambda_.get_function_configuration(FunctionName=physical)
            found.functions.append(
                Function(
                    physical,
                    int(config.get("MemorySize", 128)),
                    (config.get("Architectures") or ["x86_64"])[0],
                    (config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{physical}",
                )
            )
        elif kind == "AWS::StepFunctions::StateMachine":
            found.state_machines[physical] = str(properties.get("StateMachineType", "STANDARD"))
        elif kind == "AWS::Events::Rule":
            found.rules.append(_rule(physical, properties.get("EventBusName")))
        elif kind == "AWS::SQS::Queue":
            found.queues.append(physical.rstrip("/").rsplit("/", 1)[-1])
        elif kind in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
            indexes = properties.get("GlobalSecondaryIndexes") or []
            found.tables[physical] = [str(i["IndexName"]) for i in indexes if isinstance(i.get("IndexName"), str)]
        elif kind == "AWS::ApiGateway::RestApi":
            name = properties.get("Name")
            if not isinstance(name, str) and apigateway is not None:
                name = apigateway.get_rest_api(restApiId=physical)["name"]
            if isinstance(name, str):
                found.apis.append(name)
        elif kind == "AWS::Logs::LogGroup":
            found.log_groups.append(physical)
        elif kind == "AWS::SNS::Topic":
            found.topics.append(physical.rsplit(":", 1)[-1])
    for function in found.functions:
        if function.log_group not in found.log_groups:
            found.log_groups.append(function.log_group)
    return found


def _rule(physical: str, bus: Any) -> tuple[str, str]:
    """A rule's physical id: `bus|rule` on a custom bus, else the rule's name (or its ARN)."""
    if "|" in physical:
        bus_name, rule = physical.split("|", 1)
        return bus_name, rule
    if physical.startswith("arn:"):
        parts = physical.split(":", 5)[5].split("/")[1:]  # rule/[bus/]name
        return (parts[0], parts[1]) if len(parts) == 2 else ("default", parts[0])
    return (bus if isinstance(bus, str) and not bus.startswith("arn:") else "default"), physical


def read_sums(cloudwatch: Any, metrics: list[Metric], start: datetime, end: datetime) -> dict[Metric, float]:
    """Each metric's statistic summed over [start, end): GetMetricData, 500 metrics a call, paged."""
    sums: dict[Metric, float] = dict.fromkeys(metrics, 0.0)
    for offset in range(0, len(metrics), MAX_QUERIES):
        batch = metrics[offset : offset + MAX_QUERIES]
        queries = [
            {
                "Id": f"q{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": metric.namespace,
                        "MetricName": metric.name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions],
                    },
                    "Period": PERIOD,
                    "Stat": metric.stat,
                },
                "ReturnData": True,
            }
            for index, metric in enumerate(batch)
        ]
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
            if token:
                kwargs["NextToken"] = token
            answer = cloudwatch.get_metric_data(**kwargs)
            for result in answer.get("MetricDataResults", []):
                sums[batch[int(result["Id"][1:])]] += float(sum(result.get("Values", [])))
            token = answer.get("NextToken")
            if not token:
                break
    return sums


def usage_of(sums: dict[Metric, float], found: Inventory) -> dict[str, float]:
    """The window's totals under the local meter's names (local.meter.usage), so the model prices them alike."""
    by: dict[tuple[str, str], float] = defaultdict(float)
    per_resource: dict[tuple[str, str, str], float] = defaultdict(float)
    for metric, value in sums.items():
        name = metric.name + ("#n" if metric.stat == "SampleCount" else "")
        by[metric.namespace, name] += value
        per_resource[metric.namespace, name, metric.resource] += value
    gb_seconds = sum(
        per_resource["AWS/Lambda", "Duration", f.name] / 1000 * f.memory_mb / 1024 for f in found.functions
    )
    express_gb_seconds = 0.0
    for arn, kind in found.state_machines.items():
        count = per_resource["AWS/States", "ExecutionTime#n", arn]
        if kind == "EXPRESS" and count:
            mean_ms = per_resource["AWS/States", "ExecutionTime", arn] / count
            # billed per 100 ms at 64 MB: the mean execution's rounding, for each execution
            express_gb_seconds += count * 0.0625 * math.ceil(mean_ms / 100) / 10
    started = {arn: per_resource["AWS/States", "ExecutionsStarted", arn] for arn in found.state_machines}
    matched = [per_resource["AWS/Events", "MatchedEvents", r] for r in (_resource(b, n) for b, n in found.rules)]
    function_logs = {f.log_group for f in found.functions}
    return {
        "api_requests": by["AWS/ApiGateway", "Count"],
        "lambda_invocations": by["AWS/Lambda", "Invocations"],
        "lambda_ms": by["AWS/Lambda", "Duration"],
        "lambda_gb_seconds": gb_seconds,
        "express_executions": sum(v for arn, v in started.items() if found.state_machines[arn] == "EXPRESS"),
        "express_gb_seconds": express_gb_seconds,
        "standard_executions": sum(v for arn, v in started.items() if found.state_machines[arn] != "EXPRESS"),
        # No per-bus PutEvents count: the rule that matched the most (the timeline rule matches every
        # orderflow.* event) stands for the events put on the bus.
        "putevents_entries": max(matched, default=0.0),
        "rule_matches": by["AWS/Events", "MatchedEvents"],
        "rule_invocations": by["AWS/Events", "Invocations"],
        "sqs_send": by["AWS/SQS", "NumberOfMessagesSent"],
        "sqs_receive": by["AWS/SQS", "NumberOfMessagesReceived"],
        "sqs_delete": by["AWS/SQS", "NumberOfMessagesDeleted"],
        "sqs_empty_receives": by["AWS/SQS", "NumberOfEmptyReceives"],
        "dynamodb_wru": by["AWS/DynamoDB", "ConsumedWriteCapacityUnits"],
        "dynamodb_rru": by["AWS/DynamoDB", "ConsumedReadCapacityUnits"],
        "log_bytes": by["AWS/Logs", "IncomingBytes"],
        "function_log_bytes": sum(per_resource["AWS/Logs", "IncomingBytes", g] for g in function_logs),
        "sns_publishes": by["AWS/SNS", "NumberOfMessagesPublished"],
    }


def _resource(bus: str, rule: str) -> str:
    return rule if bus == "default" else f"{bus}/{rule}"
