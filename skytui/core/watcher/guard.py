"""Keep this process's calls to the local cloud from overlapping.

Two reasons, both in the local provider: it judges a node whose process id is not yet
recorded as lost (a launch records it only after spawning, so a listing in between marks
a booting node terminated), and its registry shares one SQLite connection between the
threads `asyncio.to_thread` uses (two transactions at once fail). Until the provider
handles both, the watcher (which lists while it launches and terminates) takes turns.
Other clouds are untouched.
"""

from __future__ import annotations

import asyncio
from typing import Any

from skytui.core.context import Core
from skytui.providers.base import Instance, LaunchSpec


class _TakingTurns:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._lock = asyncio.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def launch(self, spec: LaunchSpec) -> list[Instance]:
        async with self._lock:
            return await self._inner.launch(spec)  # type: ignore[no-any-return]

    async def list_instances(self, region: str) -> list[Instance]:
        async with self._lock:
            return await self._inner.list_instances(region)  # type: ignore[no-any-return]

    async def terminate(self, instance_ids: list[str]) -> None:
        async with self._lock:
            await self._inner.terminate(instance_ids)

    async def stop(self, instance_ids: list[str]) -> None:
        async with self._lock:
            await self._inner.stop(instance_ids)

    async def start(self, instance_ids: list[str]) -> list[Instance]:
        async with self._lock:
            return await self._inner.start(instance_ids)  # type: ignore[no-any-return]


def guard_local_cloud(core: Core) -> None:
    provider = core.provider("local")
    if not isinstance(provider, _TakingTurns):
        core._providers["local"] = _TakingTurns(provider)  # type: ignore[assignment]
