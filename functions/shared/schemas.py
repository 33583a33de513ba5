"""JSON Schemas of the orderflow events, generated from the pydantic models in ``shared.events``.

Each schema describes one event's EventBridge ``detail`` exactly as producers put it on the bus
(``{"metadata": ..., "data": ...}``), so consumers in any language can validate against it.
The files under ``docs/events/schemas`` are the published contract, one per event type and major
version (each event type is versioned on its own, ``EventData.SCHEMA_VERSION``); a test fails
when a model changes and they were not regenerated. Files of an older major stay published while
consumers migrate.

    python -m shared.schemas            # (re)write docs/events/schemas/<DetailType>.v<major>.json
    python -m shared.schemas --check    # exit 1 and list the differences, write nothing

Run with ``functions`` on the path (``PYTHONPATH=functions`` from the repository root).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from shared.events import EVENT_TYPES, EventData, metadata_model, schema_major

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_FILE = re.compile(r"^(?P<detail_type>[A-Za-z0-9]+)\.v(?P<major>[0-9]+)\.json$")
DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "docs" / "events" / "schemas"


class _WireSchema(GenerateJsonSchema):
    """The serialized form: producers always emit every field, defaults and nulls included."""

    def field_is_required(
        self,
        field: core_schema.ModelField | core_schema.DataclassField | core_schema.TypedDictField,
        total: bool,
    ) -> bool:
        return True


def _major(detail_type: str) -> str:
    return schema_major(EVENT_TYPES[detail_type].SCHEMA_VERSION)


def schema_id(detail_type: str) -> str:
    return f"urn:orderflow:events:{detail_type}:v{_major(detail_type)}"


def file_name(detail_type: str) -> str:
    return f"{detail_type}.v{_major(detail_type)}.json"


def _superseded(path: Path) -> bool:
    """A file that no model produces any more: an event type that is gone, or a major ahead of
    its model's. An older major of a current event type is not: it stays published."""
    match = _FILE.match(path.name)
    if match is None:
        return False
    model = EVENT_TYPES.get(match["detail_type"])
    return model is None or int(match["major"]) > int(schema_major(model.SCHEMA_VERSION))


def detail_schema(model: type[EventData]) -> dict[str, Any]:
    """The JSON Schema of the ``detail`` of one event type."""
    detail: type[BaseModel] = create_model(
        f"{model.DETAIL_TYPE}Detail",
        __config__=ConfigDict(extra="forbid"),
        metadata=(metadata_model(model.SCHEMA_VERSION), ...),
        data=(model, ...),
    )
    schema = detail.model_json_schema(mode="serialization", schema_generator=_WireSchema)
    schema.update(
        {
            "$schema": JSON_SCHEMA_DIALECT,
            "$id": schema_id(model.DETAIL_TYPE),
            "title": model.DETAIL_TYPE,
            "description": (
                f"EventBridge detail of {model.DETAIL_TYPE} (source {model.SOURCE}), "
                f"schema version {model.SCHEMA_VERSION}. Generated from shared.events by python -m shared.schemas."
            ),
            "x-source": model.SOURCE,
            "x-detail-type": model.DETAIL_TYPE,
            "x-schema-version": model.SCHEMA_VERSION,
        }
    )
    return schema


def generate() -> dict[str, dict[str, Any]]:
    """Every event's detail schema, keyed by detail-type."""
    return {detail_type: detail_schema(model) for detail_type, model in sorted(EVENT_TYPES.items())}


def render(schema: dict[str, Any]) -> str:
    """Stable text, so that a diff of the files is a diff of the contract."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    return {file_name(detail_type): render(schema) for detail_type, schema in generate().items()}


def differences(directory: Path = DEFAULT_DIRECTORY) -> list[str]:
    """What differs between ``directory`` and freshly generated schemas; empty when in sync."""
    expected = expected_files()
    problems: list[str] = []
    for name, text in expected.items():
        path = directory / name
        if not path.exists():
            problems.append(f"missing: {path}")
            continue
        current = path.read_text(encoding="utf-8")
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True), text.splitlines(keepends=True), f"{path} (committed)", "generated"
            )
            problems.append(f"outdated: {path}\n{''.join(diff)}")
    if directory.exists():
        # A schema file without a model is a contract nobody produces any more. Older majors are
        # left alone: they stay published while consumers migrate.
        problems.extend(
            f"stale: {path}"
            for path in sorted(directory.glob("*.json"))
            if path.name not in expected and _superseded(path)
        )
    return problems


def write(directory: Path = DEFAULT_DIRECTORY) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    expected = expected_files()
    for path in directory.glob("*.json"):
        if path.name not in expected and _superseded(path):
            path.unlink()
    written = []
    for name, text in expected.items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.schemas", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the files differ from the models")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIRECTORY, help="schema directory (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.check:
        problems = differences(args.dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(f"{len(problems)} schema file(s) out of date: run python -m shared.schemas", file=sys.stderr)
            return 1
        print(f"{len(EVENT_TYPES)} event schemas up to date in {args.dir}")
        return 0
    written = write(args.dir)
    print(f"{len(written)} of {len(EVENT_TYPES)} event schemas written to {args.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
