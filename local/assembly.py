"""Reads a synthesized CDK cloud assembly: which stacks it holds, their templates and assets.

The runner never imports the CDK app: everything it provisions comes from what `cdk synth`
wrote, so local runs exercise the same wiring a deployment would.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
ASSET_MANIFEST = "cdk:asset-manifest"


class AssemblyError(Exception):
    """The directory is not a usable cloud assembly, or the stack asked for is not in it."""


@dataclass(frozen=True)
class FileAsset:
    """A file asset as the asset manifest names it (a directory or a zip/file next to the template)."""

    asset_hash: str
    path: Path
    packaging: str  # "zip" (a directory CDK would zip) or "file" (already a file, maybe a .zip)


@dataclass
class StackArtifact:
    """One stack of the assembly with everything the runner needs to provision it."""

    artifact_id: str
    stack_name: str
    template_path: Path
    template: dict[str, Any]
    account: str | None
    region: str | None
    construct_paths: dict[str, str] = field(default_factory=dict)  # logical id -> construct path
    assets: dict[str, FileAsset] = field(default_factory=dict)  # asset hash -> asset

    @property
    def directory(self) -> Path:
        return self.template_path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})

    def asset_for(self, logical_id: str, code: Any) -> FileAsset | None:
        """Finds the asset behind a resource's code property.

        Prefers the `aws:asset:path` metadata (present when synthesized by the CLI), then the
        S3 object key, whose file name is the asset hash in the asset manifest: that always
        works, also for a bare `App().synth()` that emits no asset metadata.
        """
        metadata = self.resources.get(logical_id, {}).get("Metadata", {})
        asset_path = metadata.get("aws:asset:path")
        if isinstance(asset_path, str):
            path = Path(asset_path)
            if not path.is_absolute():
                path = self.directory / path
            packaging = "file" if path.is_file() else "zip"
            return FileAsset(asset_hash=path.name.removeprefix("asset."), path=path, packaging=packaging)
        if isinstance(code, dict):
            key = code.get("S3Key")
            if isinstance(key, str):
                asset_hash = Path(key).name.split(".", 1)[0]
                return self.assets.get(asset_hash)
        return None


class CloudAssembly:
    """The stacks of a `cdk.out` directory (nested assemblies of CDK stages included)."""

    def __init__(self, directory: Path, stacks: list[StackArtifact]) -> None:
        self.directory = directory
        self.stacks = stacks

    @classmethod
    def load(cls, directory: str | Path) -> CloudAssembly:
        root = Path(directory).resolve()
        manifest_path = root / "manifest.json"
        if not manifest_path.is_file():
            raise AssemblyError(f"{root} is not a cloud assembly (no manifest.json); run `cdk synth` first")
        stacks: list[StackArtifact] = []
        _collect_stacks(root, stacks)
        if not stacks:
            raise AssemblyError(f"the cloud assembly at {root} holds no CloudFormation stack")
        return cls(root, stacks)

    def stack(self, name: str | None = None) -> StackArtifact:
        """The stack called `name` (artifact id or stack name); without a name the only or first stack."""
        if name is None:
            if len(self.stacks) > 1:
                log.info("assembly has %d stacks; using the first, %s", len(self.stacks), self.stacks[0].stack_name)
            return self.stacks[0]
        for stack in self.stacks:
            if name in (stack.artifact_id, stack.stack_name):
                return stack
        names = ", ".join(s.stack_name for s in self.stacks)
        raise AssemblyError(f"no stack {name!r} in the assembly (it has: {names})")


def _collect_stacks(directory: Path, stacks: list[StackArtifact]) -> None:
    manifest = json.loads((directory / "manifest.json").read_text())
    artifacts: dict[str, Any] = manifest.get("artifacts", {})
    asset_manifests = {
        artifact_id: artifact for artifact_id, artifact in artifacts.items() if artifact.get("type") == ASSET_MANIFEST
    }
    for artifact_id, artifact in artifacts.items():
        kind = artifact.get("type")
        if kind == NESTED_ASSEMBLY:
            nested = directory / artifact.get("properties", {}).get("directoryName", "")
            if (nested / "manifest.json").is_file():
                _collect_stacks(nested, stacks)
            continue
        if kind != STACK_ARTIFACT:
            continue
        properties = artifact.get("properties", {})
        template_path = directory / properties["templateFile"]
        account, region = _parse_environment(artifact.get("environment", ""))
        stack = StackArtifact(
            artifact_id=artifact_id,
            stack_name=properties.get("stackName", artifact_id),
            template_path=template_path,
            template=json.loads(template_path.read_text()),
            account=account,
            region=region,
        )
        stack.construct_paths = _construct_paths(directory, artifact, stack.template)
        for dependency in artifact.get("dependencies", []):
            if dependency in asset_manifests:
                stack.assets.update(_file_assets(directory, asset_manifests[dependency]))
        stacks.append(stack)


def _parse_environment(environment: str) -> tuple[str | None, str | None]:
    """`aws://123456789012/eu-west-1` -> concrete parts; `unknown-*` parts are None."""
    if not environment.startswith("aws://"):
        return None, None
    account, _, region = environment.removeprefix("aws://").partition("/")
    return (
        None if account.startswith("unknown") else account,
        None if region.startswith("unknown") else region,
    )


def _construct_paths(directory: Path, artifact: dict[str, Any], template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> construct path, from the artifact metadata and the template's own metadata."""
    metadata: dict[str, list[dict[str, Any]]] = dict(artifact.get("metadata", {}))
    extra = artifact.get("additionalMetadataFile")
    if extra and (directory / extra).is_file():
        metadata.update(json.loads((directory / extra).read_text()))
    paths: dict[str, str] = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get("type") == "aws:cdk:logicalId" and isinstance(entry.get("data"), str):
                paths[entry["data"]] = path.lstrip("/")
    for logical_id, resource in template.get("Resources", {}).items():
        cdk_path = resource.get("Metadata", {}).get("aws:cdk:path")
        if isinstance(cdk_path, str):
            paths.setdefault(logical_id, cdk_path)
    return paths


def _file_assets(directory: Path, artifact: dict[str, Any]) -> dict[str, FileAsset]:
    manifest_file = directory / artifact.get("properties", {}).get("file", "")
    if not manifest_file.is_file():
        return {}
    files = json.loads(manifest_file.read_text()).get("files", {})
    assets = {}
    for asset_hash, entry in files.items():
        source = entry.get("source", {})
        if "path" not in source:
            continue  # built by a command at publish time; nothing local to run
        assets[asset_hash] = FileAsset(
            asset_hash=asset_hash, path=directory / source["path"], packaging=source.get("packaging", "file")
        )
    return assets
