"""A template process for local Lambda execution environments: it imports the runtime's libraries once
(boto3, Powertools, pydantic...) and forks a `local/worker.py` environment from itself on request,
so that starting one costs a fork rather than a fresh interpreter importing them again.

What a forked environment runs is exactly what a fresh `python -s local/worker.py` runs: the same
worker code, the function's own environment variables, working directory, session and pipes, and
its handler module imported after the fork. Only third-party modules are imported beforehand, with
nothing of a function's environment set; the runner forks from here only when the function's asset
directory does not ship a package of the same name (it would shadow it in a fresh process), and
keeps one template per set of the variables those modules read when imported. A cold start in a
forked environment is therefore shorter than Lambda's: `ops.coldstart` measures the real one.

Standard library only, like the worker. Arguments: the socket's descriptor, the modules to import,
and the names of the variables it was started with (any other is one the interpreter added).
Protocol, over a SOCK_SEQPACKET socket:
- to the runner, first: `{"loaded": [top-level package names]}`;
- from the runner: `{"id": n, "env": {...}, "cwd": "..."}` with three descriptors (the worker's
  stdin, stdout and stderr); answer `{"id": n, "pid": pid}` or `{"id": n, "error": "..."}`;
- to the runner, whenever an environment exits: `{"exited": pid, "code": returncode}` (negative:
  the signal that ended it, as subprocess reports it).
The template exits when the runner's end of the socket closes.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import socket
import sys
import traceback
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))


def _preload(modules: list[str]) -> None:
    # Nothing of the runner's package may shadow a library while it is imported.
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) not in (_HERE, os.path.dirname(_HERE))]
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: S112 - a library the functions do not have is simply not preloaded
            continue


def _send(channel: socket.socket, message: dict[str, Any]) -> None:
    channel.send(json.dumps(message).encode())


def _run_worker(worker: Any, request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: becomes the execution environment, and never returns."""
    code = 1
    try:
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        # What the interpreter adds at start-up (LC_CTYPE when it coerces a C locale), then the function's own.
        os.environ.update(_ADDED_AT_STARTUP)
        os.environ.update(request["env"])
        import time

        time.tzset()
        sys.argv[:] = [worker.__file__]
        code = 0
        worker.main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            import atexit
            import threading

            shutdown = getattr(threading, "_shutdown", None)
            if shutdown is not None:
                shutdown()  # join non-daemon threads, as interpreter exit does
            atexit._run_exitfuncs()
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
        finally:
            os._exit(code)


_ADDED_AT_STARTUP: dict[str, str] = {}


def main() -> None:
    channel = socket.socket(fileno=int(sys.argv[1]))
    modules = [name for name in sys.argv[2].split(",") if name]
    given = set(sys.argv[3].split(",")) if len(sys.argv) > 3 else set()
    _ADDED_AT_STARTUP.update({name: value for name, value in os.environ.items() if name not in given})
    import worker  # this directory's, before it leaves sys.path

    _preload(modules)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the runner, which closes the socket
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    _send(channel, {"loaded": sorted({name.split(".")[0] for name in sys.modules})})
    while True:
        try:
            ready, _, _ = select.select([channel.fileno(), wake_read], [], [])
        except InterruptedError:
            ready = []
        if wake_read in ready:
            os.read(wake_read, 512)
        while True:  # reap every environment that has exited
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            _send(channel, {"exited": pid, "code": os.waitstatus_to_exitcode(status)})
        if channel.fileno() not in ready:
            continue
        data, fds, _, _ = socket.recv_fds(channel, 1 << 20, 3)
        if not data:
            return  # the runner has gone
        request = json.loads(data)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
        except OSError as error:
            for fd in fds:
                os.close(fd)
            _send(channel, {"id": request["id"], "error": str(error)})
            continue
        if pid == 0:
            channel.close()
            os.close(wake_read)
            os.close(wake_write)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _run_worker(worker, request, fds)
        for fd in fds:
            os.close(fd)
        _send(channel, {"id": request["id"], "pid": pid})


if __name__ == "__main__":
    main()
