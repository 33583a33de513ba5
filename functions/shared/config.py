"""One configuration style for every function: a pydantic model validated from the environment.

Each function gets only the variables its role needs, so a service has one ``Settings`` model per
kind of function (``config.py``). ``load(Model)`` validates the environment once per cold start
and caches the result; ``reset()`` forgets it (tests change the environment between cases).
Logic never reads ``os.environ``: it receives what it needs from ``dependencies.py``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self, TypeVar

from pydantic import BaseModel, ConfigDict

TABLE_NAME = r"^[A-Za-z0-9_.-]{3,255}$"
STATE_MACHINE_ARN = r"^arn:aws[a-z-]*:states:"


class Settings(BaseModel):
    """A function's configuration: fields aliased to environment variables, frozen."""

    # Built on first validation: a function validates only its own model of its service's few.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Raises pydantic.ValidationError naming every missing or malformed variable."""
        return cls.model_validate(dict(os.environ if environ is None else environ))


SettingsT = TypeVar("SettingsT", bound=Settings)
_loaded: dict[type[Settings], Settings] = {}


def load(model: type[SettingsT]) -> SettingsT:
    """The function's configuration, validated on first use and then cached."""
    if model not in _loaded:
        _loaded[model] = model.from_environment()
    return _loaded[model]  # type: ignore[return-value]


def reset() -> None:
    """Forget every loaded configuration."""
    _loaded.clear()
