"""The log screen: streaming through messages, follow, wrap, search, save, and resuming after a drop."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from test_tui_conf import wait_for
from textual.app import App

from skytui.errors import RemoteError
from skytui.tui.screens.logs import LogScreen


class Host(App[None]):
    def __init__(self, screen: LogScreen) -> None:
        super().__init__()
        self.log_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.log_screen)


async def test_a_dropped_stream_is_shown_and_resumed_without_duplicates(tmp_path: Path) -> None:
    calls = 0
    release = asyncio.Event()

    async def source(emit) -> None:  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        # The log on the node is append-only: every stream starts from its first line.
        emit("one\ntwo\nthr")
        if calls == 1:
            raise RemoteError("connection to box lost")
        emit("ee\nfour\n")
        await release.wait()

    screen = LogScreen("test", source, tmp_path)
    app = Host(screen)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: "four" in screen.lines, 10)
        body = [line for line in screen.lines if not line.startswith("[skytui]")]
        assert body == ["one", "two", "three", "four"]
        notes = [line for line in screen.lines if line.startswith("[skytui]")]
        assert any("connection lost: connection to box lost" in n for n in notes)
        assert any("reconnected" in n for n in notes)
        release.set()
        await wait_for(pilot, lambda: screen.lines[-1] == "[skytui] end of log", 5)


async def test_follow_wrap_search_and_save(tmp_path: Path) -> None:
    async def source(emit) -> None:  # type: ignore[no-untyped-def]
        for i in range(300):
            emit(f"step {i} " + ("x" * (150 if i == 7 else 5)) + ("  ERROR disk full" if i in (42, 250) else "")
                 + "\n")

    screen = LogScreen("test", source, tmp_path / "saved", slug="box")
    app = Host(screen)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: screen.lines[-1:] == ["[skytui] end of log"], 10)
        log = screen.query_one("#log")
        assert log.line_count == 301
        await pilot.press("w")  # wrap: the long line takes two rows now
        assert screen.wrap and log.line_count > 301
        await pilot.press("slash", *"error", "enter")
        assert screen.matches == [42, 250] and screen.match_at == 0
        assert not screen.follow  # looking at a match stops following
        assert abs(log.scroll_y - screen._starts[42]) <= 1
        await pilot.press("n")
        assert screen.match_at == 1
        await pilot.press("N")
        assert screen.match_at == 0
        await pilot.press("f")
        assert screen.follow
        await pilot.press("s")
        saved = screen.saved_to
        assert saved.read_text().splitlines()[42].endswith("ERROR disk full")
        assert os.stat(saved).st_mode & 0o077 == 0


async def test_keys_answer_while_a_big_log_streams(tmp_path: Path) -> None:
    async def source(emit) -> None:  # type: ignore[no-untyped-def]
        for chunk in range(100):
            emit("".join(f"line {chunk * 1000 + i}\n" for i in range(1000)))
            await asyncio.sleep(0)

    screen = LogScreen("big", source, tmp_path)
    app = Host(screen)
    async with app.run_test() as pilot:
        await pilot.press("w")
        await wait_for(pilot, lambda: len(screen.lines) >= 100_001, 60)
        assert screen.lines[99_999] == "line 99999"
        assert screen.wrap
