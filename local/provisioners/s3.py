"""AWS::S3::Bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local.provisioned import ProvisionedResource

if TYPE_CHECKING:
    from local.provision import Provisioner


def s3_bucket(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    name = props.get("BucketName") or provisioner.name_for(logical_id, 63).lower()
    s3 = provisioner.client("s3")
    if provisioner.region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": provisioner.region})
    return ProvisionedResource(
        logical_id,
        "AWS::S3::Bucket",
        name,
        {
            "Arn": f"arn:{provisioner.partition}:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{provisioner.region}.amazonaws.com",
        },
    )


PROVISIONERS = {
    "AWS::S3::Bucket": s3_bucket,
}
