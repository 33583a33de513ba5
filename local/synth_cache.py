"""A synthesis whose inputs have not changed since the last one into the same directory is skipped.

The inputs are the files cdk.json's `watch.include` names (less `watch.exclude`: what `cdk watch`
would react to), the app command, the context, the CDK library's version and the environment
variables a CDK app reads (`CDK_*` and the region). The fingerprint of the last synthesis is kept
beside the assembly; with no `watch` in cdk.json nothing is fingerprinted and every run synthesizes.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

FINGERPRINT_FILE = ".local-synth-fingerprint"
_ALWAYS_EXCLUDED = ("**/__pycache__/**", "*.pyc", "**/*.pyc")
_ENVIRONMENT = ("AWS_REGION", "AWS_DEFAULT_REGION")


def _files(root: Path, include: list[str], exclude: list[str]) -> list[Path]:
    found: set[Path] = set()
    for pattern in include:
        # cdk.json's patterns are watch globs: `dir/**` is every file below dir.
        glob = pattern + "/*" if pattern.endswith("**") else pattern
        found.update(path for path in root.glob(glob) if path.is_file())
    excluded = [*exclude, *_ALWAYS_EXCLUDED]
    return sorted(
        path
        for path in found
        if not any(fnmatch.fnmatch(path.relative_to(root).as_posix(), pattern) for pattern in excluded)
    )


def _cdk_version() -> str:
    try:
        return metadata.version("aws-cdk-lib")
    except metadata.PackageNotFoundError:
        return "unknown"


def fingerprint(root: Path, config: dict[str, Any], command: list[str], context: dict[str, Any]) -> str | None:
    """The inputs' digest, or None when cdk.json names no files to watch."""
    watch = config.get("watch") or {}
    include = list(watch.get("include") or [])
    if not include:
        return None
    digest = hashlib.sha256()
    environment = {
        name: value
        for name, value in os.environ.items()
        if (name.startswith("CDK_") and name not in ("CDK_OUTDIR", "CDK_CONTEXT_JSON")) or name in _ENVIRONMENT
    }
    header = {"command": command, "context": context, "cdk": _cdk_version(), "environment": environment}
    digest.update(json.dumps(header, sort_keys=True, default=str).encode())
    for path in _files(root, include, list(watch.get("exclude") or [])):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def is_current(assembly: Path, digest: str | None) -> bool:
    """True when `assembly` holds a complete synthesis of exactly these inputs."""
    if digest is None or not (assembly / "manifest.json").is_file():
        return False
    marker = assembly / FINGERPRINT_FILE
    return marker.is_file() and marker.read_text().strip() == digest


def remember(assembly: Path, digest: str | None) -> None:
    marker = assembly / FINGERPRINT_FILE
    if digest is None:
        marker.unlink(missing_ok=True)
    else:
        marker.write_text(digest + "\n")


def synthesize_once(assembly: Path, digest: str | None, synthesize: Callable[[], object]) -> bool:
    """Runs `synthesize` (which writes `assembly`) unless the assembly already holds these inputs'
    synthesis; processes sharing the directory take turns (a lock file beside it), so one writes
    and the others read. True when it synthesized."""
    import fcntl

    assembly.parent.mkdir(parents=True, exist_ok=True)
    with (assembly.parent / f"{assembly.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_current(assembly, digest):
            return False
        (assembly / FINGERPRINT_FILE).unlink(missing_ok=True)
        synthesize()
        remember(assembly, digest)
        return True
