"""`skytui --daemon`: the watcher detached from the terminal, logging to a rotated file."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from logging.handlers import RotatingFileHandler
from typing import TYPE_CHECKING

from skytui.core.daemon_start import log_file

if TYPE_CHECKING:
    from skytui.core.context import Core, Progress

LOG_BYTES, LOG_BACKUPS = 5 * 1024 * 1024, 3


def start(args: argparse.Namespace) -> int:
    """Detach a daemon (or run in the foreground with --foreground) unless one is running."""
    from skytui.core.watcher import lock_holder

    holder = lock_holder()
    if holder is not None and holder.kind == "daemon":
        print(f"skytui daemon is already running (pid {holder.pid})")
        return 0
    if getattr(args, "foreground", False):
        return run_foreground(to_stderr=True)
    state, pid = spawn()
    if state == "running":
        print(f"skytui daemon is already running (pid {pid})")
    else:
        print(f"skytui daemon started (pid {pid})")
        if holder is not None:
            print(f"the dashboard (pid {holder.pid}) is watching now; the daemon takes over when it closes")
    return 0


def spawn() -> tuple[str, int]:
    """Double-fork a daemon; returns ("started" | "running", pid) once it has the lock or knows who does."""
    r, w = os.pipe()
    child = os.fork()
    if child > 0:
        os.close(w)
        with os.fdopen(r) as f:
            line = f.read().strip()
        os.waitpid(child, 0)
        state, _, pid = line.partition(" ")
        if state not in ("started", "running") or not pid.isdigit():
            from skytui.errors import SkytuiError

            raise SkytuiError(f"the daemon did not start ({line or 'no word from it'})",
                              f"see its log: {log_file()}")
        return state, int(pid)
    os.close(r)
    try:
        os.setsid()  # a new session: no controlling terminal, immune to the shell's hangups
        if os.fork() > 0:
            os._exit(0)
        os.umask(0o077)
        os.chdir("/")
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        rc = run_foreground(to_stderr=False, ready_fd=w)
    except BaseException:  # noqa: BLE001 - the grandchild must never return into the CLI's code
        rc = 1
    os._exit(rc)


def _setup_logging(to_stderr: bool) -> None:
    handler = RotatingFileHandler(log_file(), maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS)
    os.chmod(log_file(), 0o600)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    if to_stderr:
        root.addHandler(logging.StreamHandler(sys.stderr))
    root.setLevel(logging.INFO)
    logging.getLogger("asyncssh").setLevel(logging.WARNING)


async def sample_gpus(core: Core, stop: asyncio.Event, log: logging.Logger) -> None:
    """Sample the fleet's GPUs until `stop` (per-minute history for idle-waste reports); failures are logged."""
    from skytui.core.telemetry.sampler import run_sampler

    try:
        await run_sampler(core, stop)
    except Exception:
        log.exception("GPU telemetry stopped")


def run_foreground(*, to_stderr: bool, ready_fd: int | None = None) -> int:
    """The daemon's body: take the lock, watch until SIGTERM, finish the step in hand, exit."""
    from skytui.core.context import Core
    from skytui.core.watcher import run_watcher
    from skytui.core.watcher.loop import WatcherStatus

    _setup_logging(to_stderr)
    log = logging.getLogger("skytui.daemon")

    def tell(word: str, pid: int | None) -> None:
        nonlocal ready_fd
        if ready_fd is not None:
            os.write(ready_fd, f"{word} {pid}\n".encode())
            os.close(ready_fd)
            ready_fd = None

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        core = Core()
        # The watcher logs its own decisions; the rest (launch stages) is logged here.
        def log_progress(p: Progress) -> None:
            if p.stage != "watcher":
                log.info("%s: %s", p.stage, p.message)

        core.listeners.append(log_progress)
        sampling: list[asyncio.Task[None]] = []

        def on_status(s: WatcherStatus) -> None:
            if s.role == "active":
                tell("started", os.getpid())
                if not sampling:  # GPU telemetry beside the watcher, only while we act: one sampler per user
                    sampling.append(asyncio.ensure_future(sample_gpus(core, stop, log)))
            elif s.role == "observer" and s.holder is not None:
                if s.holder.kind == "daemon":
                    tell("running", s.holder.pid)
                    stop.set()  # another daemon watches already: nothing for us to do
                else:
                    tell("started", os.getpid())
                    log.info("the dashboard (pid %s) holds the watcher lock; waiting to take over",
                             s.holder.pid)

        try:
            await run_watcher(core, kind="daemon", stop_event=stop, on_status=on_status)
        finally:
            stop.set()  # the watcher returns only once told to stop, or never acted
            if sampling:
                await asyncio.gather(*sampling, return_exceptions=True)
            await core.aclose()

    log.info("skytui daemon starting (pid %s)", os.getpid())
    try:
        asyncio.run(main())
    except Exception:
        log.exception("the daemon stopped on an error")
        return 1
    finally:
        if ready_fd is not None:
            os.close(ready_fd)
    log.info("skytui daemon stopped (pid %s)", os.getpid())
    return 0
