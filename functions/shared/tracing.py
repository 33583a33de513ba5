"""X-Ray for Powertools' Tracer, loaded by the first traced call instead of at init.

Powertools' Tracer imports ``aws_xray_sdk.core`` and patches every supported library it finds
(botocore, sqlite3, requests, ...) while the handler module is imported, even with tracing off.
``XRayProvider`` is the same recorder behind Powertools' ``BaseProvider`` interface, imported the
first time a segment is opened (the handler's ``## lambda_handler`` subsegment, at the start of
the first invocation): ``patch`` records the modules and applies them then, before the handler
body makes any AWS call. With the SDK disabled (``POWERTOOLS_TRACE_DISABLED``, outside Lambda,
``AWS_XRAY_SDK_ENABLED=false``) it never loads: segments are no-ops, as X-Ray's own dummy
segments would be.

Only botocore is patched: orderflow calls other services through boto3 only, so the other
libraries' patches would add nothing to a trace.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

import aws_xray_sdk  # the package alone: its SDK switch, not the recorder
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

PATCHED = ("botocore",)


class NoSegment(BaseSegment):
    """What a traced call gets while the SDK is disabled: every operation does nothing."""

    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class XRayProvider(BaseProvider):
    """``aws_xray_sdk.core.xray_recorder``, imported and patched on first use."""

    def __init__(self) -> None:
        self._modules: tuple[str, ...] | None = ()
        self._recorder: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def enabled() -> bool:
        return bool(aws_xray_sdk.global_sdk_config.sdk_enabled())

    def recorder(self) -> Any:
        """The X-Ray recorder, with the recorded patches applied (once per process)."""
        if self._recorder is None:
            with self._lock:
                if self._recorder is None:
                    from aws_xray_sdk import core

                    if self._modules is None:
                        core.patch_all()
                    elif self._modules:
                        core.patch(self._modules)
                    # One subsegment per call rather than batches (what Powertools' Tracer sets up).
                    core.xray_recorder.configure(streaming_threshold=0)
                    self._recorder = core.xray_recorder
        return self._recorder

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[Any, None, None]:
        if not self.enabled():
            yield NoSegment()
            return
        with self.recorder().in_subsegment(name=name, **kwargs) as subsegment:
            yield subsegment

    def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AbstractAsyncContextManager[Any]:
        return self._in_subsegment_async(name, **kwargs)

    @asynccontextmanager
    async def _in_subsegment_async(self, name: str | None, **kwargs: Any) -> Any:
        if not self.enabled():
            yield NoSegment()
            return
        async with self.recorder().in_subsegment_async(name=name, **kwargs) as subsegment:
            yield subsegment

    def put_annotation(self, key: str, value: Any) -> None:
        if self.enabled():
            self.recorder().put_annotation(key=key, value=value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        if self.enabled():
            self.recorder().put_metadata(key=key, value=value, namespace=namespace)

    def patch(self, modules: Sequence[str]) -> None:
        """Applied when the recorder loads (at once if it already has)."""
        if self._recorder is not None:
            from aws_xray_sdk import core

            core.patch(tuple(modules))
            return
        if self._modules is not None:  # None: everything already
            self._modules = tuple(dict.fromkeys((*self._modules, *modules)))

    def patch_all(self) -> None:
        if self._recorder is not None:
            from aws_xray_sdk import core

            core.patch_all()
            return
        self._modules = None


# One per process: every Tracer of the process shares the recorder, as Powertools' Tracers do.
provider = XRayProvider()
