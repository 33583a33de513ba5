"""AWS::DynamoDB::Table and GlobalTable (TableV2): keys, indexes, billing, stream, TTL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local.provisioned import ProvisionedResource

if TYPE_CHECKING:
    from local.provision import Provisioner


def dynamodb_table(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    name = props.get("TableName") or provisioner.name_for(logical_id, 255)
    billing = props.get("BillingMode", "PROVISIONED")
    throughput = props.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props.get("AttributeDefinitions", []),
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = throughput

    def index(definition: dict[str, Any], with_throughput: bool) -> dict[str, Any]:
        result: dict[str, Any] = {
            key: definition[key] for key in ("IndexName", "KeySchema", "Projection") if key in definition
        }
        if with_throughput and billing == "PROVISIONED":
            result["ProvisionedThroughput"] = definition.get("ProvisionedThroughput", throughput)
        return result

    if props.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [index(gsi, True) for gsi in props["GlobalSecondaryIndexes"]]
    if props.get("LocalSecondaryIndexes"):
        request["LocalSecondaryIndexes"] = [index(lsi, False) for lsi in props["LocalSecondaryIndexes"]]
    stream = props.get("StreamSpecification", {})
    if stream.get("StreamViewType"):
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    dynamodb = provisioner.client("dynamodb")
    table = dynamodb.create_table(**request)["TableDescription"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled", True) and ttl.get("AttributeName"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    attributes = {"Arn": table["TableArn"], "TableName": name, "TableId": table.get("TableId", name)}
    if table.get("LatestStreamArn"):
        attributes["StreamArn"] = table["LatestStreamArn"]
    return ProvisionedResource(logical_id, "AWS::DynamoDB::Table", name, attributes)


PROVISIONERS = {
    "AWS::DynamoDB::Table": dynamodb_table,
    "AWS::DynamoDB::GlobalTable": dynamodb_table,
}
