"""How a local cloud connects what it provisioned to the runner's parts: event source mappings to
pollers, the REST APIs to the gateway (metered when the cloud is); provisioning and the outputs."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from local import meter as metering
from local.apigateway import ApiGateway
from local.apigateway_routes import RestApi, build_rest_apis
from local.assembly import StackArtifact
from local.cloud_idle import shard_end
from local.functions import FunctionPool, InvocationResult
from local.mappings import Activity
from local.mappings_sqs import SqsPoller
from local.mappings_streams import StreamPoller
from local.provision import Provisioner
from local.provisioned import EventSourceMappingSpec, ProvisionedResource
from local.template import TemplateResolver

log = logging.getLogger("local.cloud")


def provision(
    stack: StackArtifact,
    client: Callable[[str], Any],
    *,
    region: str,
    account_id: str,
    parameters: dict[str, Any],
    work_dir: Path,
) -> tuple[Provisioner, dict[str, Any]]:
    """Provisions the stack into moto: the provisioner (resources, functions, mappings) and the outputs."""

    def ssm_value(name: str) -> str | None:
        try:
            return client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
        except Exception:
            return None

    resolver = TemplateResolver(
        stack.template,
        stack_name=stack.stack_name,
        region=region,
        account_id=account_id,
        parameters=parameters,
        ssm_lookup=ssm_value,
    )
    provisioner = Provisioner(stack, resolver, client, work_dir=work_dir)
    provisioner.provision_all()
    return provisioner, template_outputs(stack.template.get("Outputs", {}), resolver)


def template_outputs(outputs: Mapping[str, Any], resolver: TemplateResolver) -> dict[str, Any]:
    """The template's Outputs resolved locally (those that can't be are left out)."""
    resolved = {}
    for name, output in outputs.items():
        try:
            resolved[name] = resolver.resolve(output.get("Value"))
        except Exception as error:
            log.debug("output %s not resolvable locally: %s", name, error)
    return resolved


def start_pollers(
    mappings: Iterable[EventSourceMappingSpec],
    functions: Mapping[str, FunctionPool],
    invoke_pool: Callable[[FunctionPool, Any], InvocationResult],
    client: Callable[[str], Any],
    *,
    pollers: list[SqsPoller | StreamPoller],
    mapped_queues: list[str],
    account_id: str,
    region: str,
    redelivery_delay: float | None,
    max_concurrency: int,
    activity: Activity,
) -> None:
    """Starts a poller per enabled mapping, adding it to `pollers` (and an SQS source to `mapped_queues`)."""
    for mapping in mappings:
        props = mapping.properties
        if str(props.get("Enabled", True)).lower() == "false":
            log.info("event source mapping %s is disabled", mapping.logical_id)
            continue
        pool = functions.get(mapping.function_name)
        if pool is None:
            log.warning(
                "event source mapping %s targets unknown function %s", mapping.logical_id, mapping.function_name
            )
            continue
        arn = mapping.event_source_arn
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""

        def invoke(event: dict[str, Any], pool: FunctionPool = pool) -> InvocationResult:
            return invoke_pool(pool, event)

        poller: SqsPoller | StreamPoller
        if service == "sqs":
            queue_name = arn.rsplit(":", 1)[-1]
            client("sqs").get_queue_url(QueueName=queue_name)  # the queue exists (QueueDoesNotExist if not)
            poller = SqsPoller(
                mapping,
                invoke,
                queue_arn=arn,
                region=region,
                redelivery_delay=redelivery_delay,
                max_concurrency=max_concurrency,
                activity=activity,
                account_id=account_id,
            )
            mapped_queues.append(queue_name)
        elif service == "dynamodb" and "/stream/" in arn:
            table = arn.split(":table/", 1)[1].split("/stream/", 1)[0]
            poller = StreamPoller(
                mapping,
                invoke,
                client,
                function_arn=pool.spec.arn,
                region=region,
                redelivery_delay=redelivery_delay,
                activity=activity,
                shard_end=functools.partial(shard_end, account_id, region, table),
            )
        else:
            log.warning("event source mapping %s: source %s is not emulated locally", mapping.logical_id, arn)
            continue
        pollers.append(poller)
        poller.start()


def api_gateway(
    resources: dict[str, ProvisionedResource],
    invoke: Callable[[str, dict[str, Any]], InvocationResult],
    account_id: str,
    meter: metering.Meter | None,
) -> tuple[list[RestApi], ApiGateway | None]:
    """The stack's REST APIs and the gateway that serves them all (None without any)."""
    apis = build_rest_apis(resources)
    if not apis:
        return apis, None
    if len(apis) > 1:
        log.info("%d REST APIs: all served on one port, routes tried in template order", len(apis))
    gateway = ApiGateway(apis, invoke, account_id=account_id)
    if meter is not None:
        handle = gateway.handle

        def metered_handle(method: str, raw_path: str, headers: list[tuple[str, str]], *args: Any, **kw: Any) -> Any:
            return meter.api_request(method, raw_path, headers, lambda: handle(method, raw_path, headers, *args, **kw))

        gateway.handle = metered_handle  # type: ignore[method-assign]
    return apis, gateway
