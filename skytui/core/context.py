"""The service layer's shared context: config, store, providers, SSH, and the event stream."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skytui.config_model import Config

if TYPE_CHECKING:
    from skytui.providers.base import Provider
    from skytui.remote.pool import SSHPool
    from skytui.store import Store


@dataclass(frozen=True)
class Progress:
    """One step of long work (a launch stage, a recovery decision) for the CLI or the app."""

    stage: str
    message: str
    cluster: str | None = None
    job_id: int | None = None


Listener = Callable[[Progress], None]


class Core:
    """Everything the entry points ask for goes through here; none of it imports Textual."""

    def __init__(self, config: Config | None = None, store: Store | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._store = store
        self.clock = clock
        self.listeners: list[Listener] = []
        self._providers: dict[str, Provider] = {}

    @cached_property
    def config(self) -> Config:
        if self._config is not None:
            return self._config
        from skytui.config import load_config

        return load_config()

    @cached_property
    def store(self) -> Store:
        if self._store is not None:
            return self._store
        from skytui.store import open_store

        return open_store(clock=self.clock)

    def provider(self, cloud: str) -> Provider:
        if cloud not in self._providers:
            from skytui.providers import make_provider

            self._providers[cloud] = make_provider(cloud, self.config)
        return self._providers[cloud]

    def providers_in_use(self) -> list[Provider]:
        """The adapters this process has made so far (the clouds it is watching)."""
        return list(self._providers.values())

    @cached_property
    def ssh(self) -> SSHPool:
        from skytui.remote.pool import SSHPool

        return SSHPool()

    @cached_property
    def user_key(self) -> tuple[str, str]:
        """(private key path, public key line): the one key that opens every node."""
        from skytui.paths import keys_dir
        from skytui.remote.keys import ensure_user_key

        path, public = ensure_user_key(keys_dir())
        return str(path), public

    def progress(self, stage: str, message: str, *, cluster: str | None = None,
                 job_id: int | None = None, record: bool = True, reason: str | None = None) -> None:
        """Tell listeners (a live CLI display, the app) and, for decisions, the event log."""
        if record:
            self.store.add_event(stage, message, cluster=cluster, job_id=job_id, reason=reason)
        p = Progress(stage, message, cluster, job_id)
        for listener in list(self.listeners):
            listener(p)

    async def aclose(self) -> None:
        if "ssh" in self.__dict__:
            await self.ssh.close()
        for p in self._providers.values():
            close: Any = getattr(p, "close", None)
            if close:
                close()


def ssh_dir() -> Path:
    from skytui.paths import ssh_dir as _ssh_dir

    return _ssh_dir()
