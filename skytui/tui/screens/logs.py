"""A job's log, streamed live: follow on/off, wrap, search, save, and resume after a dropped stream."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar

from rich.highlighter import Highlighter
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Label, Log

from skytui.errors import NotFound
from skytui.tui.widgets.bars import KeyBar

Emit = Callable[[str], None]
LogSource = Callable[[Emit], Awaitable[None]]
NOTE = "[skytui]"  # lines we add to the log (drops, resumes, errors) start with this
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)


class NoteHighlighter(Highlighter):
    """Makes our own notes (drops, resumes, errors) stand out from the job's output."""

    def highlight(self, text: Text) -> None:
        if text.plain.startswith(NOTE):
            text.stylize("bold reverse")


class LogScreen(Screen[None]):
    """Streams from `source` in a worker; lines reach the widget through messages only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back"),
        Binding("f", "toggle_follow", "Follow"),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("n", "next_match", "Next"),
        Binding("N", "previous_match", "Prev"),
        Binding("s", "save", "Save"),
        Binding("R", "reconnect", "Reconnect"),
    ]

    class Arrived(Message):
        """New text is waiting in the screen's buffer."""

    class Ended(Message):
        def __init__(self, error: str | None, retry_in: float | None) -> None:
            super().__init__()
            self.error, self.retry_in = error, retry_in

    def __init__(self, title: str, source: LogSource, save_dir: Path, *, slug: str = "log") -> None:
        super().__init__()
        self.title_text, self.source, self.save_dir, self.slug = title, source, save_dir, slug
        self.lines: list[str] = []
        self.follow = True
        self.wrap = False
        self.pattern = ""
        self.matches: list[int] = []
        self.match_at = -1
        self._buffer: list[str] = []
        self._flush_pending = False
        self._partial = ""
        self._skip = 0
        self._starts: list[int] = []  # display row of each line when wrapped
        self._display_rows = 0

    def compose(self) -> ComposeResult:
        yield Label(self.title_text, id="log-title")
        log = Log(id="log", highlight=True, auto_scroll=True)
        log.highlighter = NoteHighlighter()
        yield log
        yield Input(placeholder="search (regex)", id="log-search", classes="hidden")
        yield Label("", id="log-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self._status()
        self.stream()

    # -- streaming ------------------------------------------------------------------------
    def _emit(self, text: str) -> None:
        """Called by the source; only buffers and posts, never touches a widget."""
        self._buffer.append(text)
        if not self._flush_pending:
            self._flush_pending = True
            self.post_message(self.Arrived())

    @work(exclusive=True, group="log-stream", exit_on_error=False)
    async def stream(self) -> None:
        attempt = 0
        while True:
            try:
                await self.source(self._emit)
            except asyncio.CancelledError:
                raise
            except NotFound as exc:  # nothing to stream (no job yet): say so once, no retrying
                self.post_message(self.Ended(str(exc), None))
                return
            except Exception as exc:  # noqa: BLE001 - SSH, provider or our own: shown in the log, never a crash
                retry = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                self.post_message(self.Ended(str(exc) or type(exc).__name__, retry))
                attempt += 1
                await asyncio.sleep(retry)
                self.post_message(self.Ended(None, -1.0))  # marks the resume
                continue
            self.post_message(self.Ended(None, None))
            return

    def on_log_screen_arrived(self, _msg: Arrived) -> None:
        self._flush_pending = False
        text = self._partial + "".join(self._buffer)
        self._buffer.clear()
        parts = text.split("\n")
        self._partial = parts.pop()
        if self._skip:
            dropped = min(self._skip, len(parts))
            parts = parts[dropped:]
            self._skip -= dropped
        self._append(parts)

    def on_log_screen_ended(self, msg: Ended) -> None:
        if msg.retry_in is not None and msg.retry_in < 0:
            # A fresh stream starts from the top: skip what we already show.
            self._skip = sum(1 for line in self.lines if not line.startswith(NOTE))
            self._partial = ""
            self._append([f"{NOTE} reconnected; resuming after line {self._skip}"])
        elif msg.error is not None and msg.retry_in is None:
            self._append([f"{NOTE} {msg.error}"])
        elif msg.error is not None:
            self._append([f"{NOTE} connection lost: {msg.error}; retrying in {msg.retry_in:.0f}s"])
        else:
            tail = [self._partial] if self._partial else []
            self._partial = ""
            self._append([*tail, f"{NOTE} end of log"])
        self._status()

    def _append(self, lines: list[str]) -> None:
        if not lines:
            return
        start = len(self.lines)
        self.lines.extend(lines)
        if self.pattern:
            rx = self._regex()
            self.matches.extend(start + i for i, line in enumerate(lines) if rx.search(line))
        self._write(lines)
        self._status()

    def _write(self, lines: list[str]) -> None:
        log = self.query_one("#log", Log)
        if not self.wrap:
            log.write_lines(lines, scroll_end=self.follow)
            return
        width = max(20, log.scrollable_content_region.width - 1)
        out: list[str] = []
        for line in lines:
            self._starts.append(self._display_rows + len(out))
            pieces = [line[i:i + width] for i in range(0, len(line), width)] or [""]
            out.extend(pieces)
        self._display_rows += len(out)
        log.write_lines(out, scroll_end=self.follow)

    def _rewrite(self) -> None:
        log = self.query_one("#log", Log)
        log.clear()
        self._starts, self._display_rows = [], 0
        self._write(self.lines)

    # -- keys -------------------------------------------------------------------------------
    def action_back(self) -> None:
        search = self.query_one("#log-search", Input)
        if search.has_focus:
            search.add_class("hidden")
            self.query_one("#log", Log).focus()
            return
        self.workers.cancel_group(self, "log-stream")
        self.dismiss(None)

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        log = self.query_one("#log", Log)
        log.auto_scroll = self.follow
        if self.follow:
            log.scroll_end(animate=False)
        self._status()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self._rewrite()
        self._status()

    def action_search(self) -> None:
        search = self.query_one("#log-search", Input)
        search.remove_class("hidden")
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.pattern = event.value
        rx = self._regex()
        self.matches = [i for i, line in enumerate(self.lines) if rx.search(line)] if self.pattern else []
        self.match_at = -1
        event.input.add_class("hidden")
        self.query_one("#log", Log).focus()
        self.action_next_match()

    def _regex(self) -> re.Pattern[str]:
        try:
            return re.compile(self.pattern, re.IGNORECASE)
        except re.error:
            return re.compile(re.escape(self.pattern), re.IGNORECASE)

    def action_next_match(self) -> None:
        self._jump(+1)

    def action_previous_match(self) -> None:
        self._jump(-1)

    def _jump(self, step: int) -> None:
        if not self.matches:
            self._status()
            return
        self.match_at = (self.match_at + step) % len(self.matches)
        line = self.matches[self.match_at]
        row = self._starts[line] if self.wrap and line < len(self._starts) else line
        if self.follow:
            self.action_toggle_follow()  # looking at a match: stop jumping to the end
        self.query_one("#log", Log).scroll_to(y=row, animate=False)
        self._status()

    def action_save(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.save_dir.mkdir(parents=True, exist_ok=True)
        path = self.save_dir / f"{self.slug}-{stamp}.log"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(self.lines) + ("\n" if self.lines else ""))
        self.saved_to = path
        self.notify(f"saved {len(self.lines)} lines to {path}", title="Log saved")

    def action_reconnect(self) -> None:
        self.on_log_screen_ended(self.Ended(None, -1.0))
        self.stream()

    def _status(self) -> None:
        bits = [f"{len(self.lines):,} lines", f"follow {'on' if self.follow else 'off'}",
                f"wrap {'on' if self.wrap else 'off'}"]
        if self.pattern:
            where = f"{self.match_at + 1}/{len(self.matches)}" if self.match_at >= 0 else f"{len(self.matches)}"
            bits.append(f"/{self.pattern}: {where} matches")
        if self.is_mounted:
            self.query_one("#log-status", Label).update(" │ ".join(bits))
