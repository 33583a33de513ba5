"""AWS::KMS::Key: a symmetric key in moto (its key policy is not evaluated)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local.provisioned import ProvisionedResource

if TYPE_CHECKING:
    from local.provision import Provisioner


def kms_key(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    # A real key in moto: Encrypt/Decrypt work, and moto binds the EncryptionContext to the
    # ciphertext as KMS does. The key policy is not enforced (moto does not evaluate IAM).
    request: dict[str, Any] = {
        "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
        "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
    }
    if props.get("Description"):
        request["Description"] = props["Description"]
    kms = provisioner.client("kms")
    metadata = kms.create_key(**request)["KeyMetadata"]
    if str(props.get("EnableKeyRotation", "")).lower() == "true":
        kms.enable_key_rotation(KeyId=metadata["KeyId"])
    return ProvisionedResource(
        logical_id, "AWS::KMS::Key", metadata["KeyId"], {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}
    )


PROVISIONERS = {
    "AWS::KMS::Key": kms_key,
}
