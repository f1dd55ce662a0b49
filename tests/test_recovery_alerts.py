"""Alerts (issue 13): a loopback webhook receiver hears of preemption, recovery and failure."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_watcher_support import (
    FAST,
    console,
    job_task,
    live,
    make_core,
    skytui_cmd,
    wait_status,
    wait_until,
    watching,
    write_config,
)

from skytui.config import parse_config
from skytui.config_model import BudgetSettings, NotifySettings
from skytui.core.jobs import submit
from skytui.core.notify.deliver import Alert, Notifier
from skytui.errors import ConfigError

TRAPPING = "trap 'echo saved; exit 0' TERM; while :; do sleep 0.1; done"


class Receiver:
    """A webhook receiver on 127.0.0.1: records each JSON body; `delay` makes it slow."""

    def __init__(self, delay: float = 0.0, status: int = 200) -> None:
        self.bodies: list[dict] = []  # type: ignore[type-arg]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if delay:
                    threading.Event().wait(delay)
                outer.bodies.append(body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/secret-token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def kinds(self) -> list[str]:
        return [b["skytui"]["kind"] for b in self.bodies]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


async def test_the_webhook_hears_of_the_notice_the_preemption_the_recovery_and_a_failure(receiver: Receiver) -> None:
    core = make_core(notify=NotifySettings(webhook=receiver.url))
    job_id = submit(core, job_task(TRAPPING))
    async with watching(core, FAST):
        await wait_status(core, job_id, "RUNNING")
        (inst,) = live(core, job_id)
        console(core).start_preemption(inst.id, 30.0)
        await wait_until(lambda: "recovered" in receiver.kinds(), 40, "the recovery alert")
        failing = submit(core, job_task("exit 3", spot=False, name="broken"))
        await wait_status(core, failing, "FAILED")
        await wait_until(lambda: "failed" in receiver.kinds(), 20, "the failure alert")
    kinds = receiver.kinds()
    assert kinds.index("preemption") < kinds.index("recovered")
    assert any("preemption notice" in b["text"] for b in receiver.bodies)
    assert all(b["text"].startswith("skytui: ") for b in receiver.bodies)  # Slack's field
    failed = next(b for b in receiver.bodies if b["skytui"]["kind"] == "failed")
    assert failed["skytui"]["job_id"] == failing and "FAILED" in failed["text"]


async def test_a_webhook_that_times_out_is_retried_then_reported_without_blocking() -> None:
    slow = Receiver(delay=2.0)
    failures: list[str] = []
    try:
        n = Notifier(NotifySettings(webhook=slow.url, timeout_seconds=0.2), on_failure=failures.append,
                     retries=2, backoff_seconds=0.05)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        n.send(Alert("preemption", "x"))
        assert loop.time() - t0 < 0.05  # send only queues
        await wait_until(lambda: bool(failures), 20, "the failure report")
        assert "did not answer within 0.2s" in failures[0] and "after 3 tries" in failures[0]
        assert "secret-token" not in failures[0]
    finally:
        slow.close()


async def test_the_spend_guard_alerts_once_when_the_live_rate_crosses_the_budget(receiver: Receiver) -> None:
    core = make_core(notify=NotifySettings(webhook=receiver.url), budget=BudgetSettings(hourly_usd=0.0001))
    job_id = submit(core, job_task("sleep 60"))
    async with watching(core, FAST):
        await wait_status(core, job_id, "RUNNING")
        await wait_until(lambda: "budget" in receiver.kinds(), 90, "the budget alert")
        await asyncio.sleep(0.5)
    assert receiver.kinds().count("budget") == 1
    assert "over the $0.00/h budget" in next(b["text"] for b in receiver.bodies if b["skytui"]["kind"] == "budget")


@pytest.mark.parametrize("text, where", [
    ("notify: {webhook: ftp://example.com/x}", "notify.webhook"),
    ("notify: {webhook: 'https://'}", "notify.webhook"),
    ("local: {preemption_notice_seconds: -1}", "local.preemption_notice_seconds"),
    ("budget: {hourly_usd: -5}", "budget.hourly_usd"),
])
def test_bad_alert_settings_are_one_line_errors(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(text + "\n")
    assert where in str(exc.value) and "\n" not in str(exc.value)


def test_the_cli_refuses_bad_alert_settings_and_notices_with_exit_2(receiver: Receiver) -> None:
    write_config("notify: {webhook: ftp://example.com/x}\n")
    r = skytui_cmd("notify", "test")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "notify.webhook" in r.stderr
    write_config("")
    r = skytui_cmd("local", "preempt", "nope", "--notice", "-1")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    write_config(f"notify: {{webhook: '{receiver.url}'}}\n")
    r = skytui_cmd("notify", "test")
    assert r.returncode == 0 and receiver.kinds() == ["test"] and "secret-token" not in r.stdout
    receiver.close()
    r = skytui_cmd("notify", "test")
    assert r.returncode == 2 and "notify.webhook" in r.stderr and len(r.stderr.strip().splitlines()) == 1


async def test_an_unreachable_webhook_never_holds_up_a_recovery() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on: every delivery is refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    core = make_core(notify=NotifySettings(webhook=dead, timeout_seconds=0.5))
    job_id = submit(core, job_task(TRAPPING))
    async with watching(core, FAST):
        await wait_status(core, job_id, "RUNNING")
        (inst,) = live(core, job_id)
        console(core).start_preemption(inst.id, 30.0)
        await wait_until(lambda: core.store.job(job_id).attempts == 2  # type: ignore[union-attr]
                         and core.store.job(job_id).status == "RUNNING", 40, "the recovery, undelayed")
        await wait_until(lambda: any(e.reason == "notify-failed" for e in core.store.events()), 40,
                         "the delivery failure reported")
    failed = next(e for e in core.store.events() if e.reason == "notify-failed")
    assert "gave up after 5 tries" in failed.message and "\n" not in failed.message


def test_desktop_notes_go_through_notify_send(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from skytui.core.notify.deliver import show_on_desktop

    bindir = tmp_path / "bin"
    bindir.mkdir()
    seen = tmp_path / "seen"
    (bindir / "notify-send").write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {seen}\n')
    (bindir / "notify-send").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    monkeypatch.setattr("sys.platform", "linux")
    assert show_on_desktop("skytui: preemption", 'job 1 "train" preempted; $(rm -rf ~)') is None
    assert seen.read_text().splitlines() == ["--app-name=skytui", "skytui: preemption",
                                             'job 1 "train" preempted; $(rm -rf ~)']  # no shell in between
