"""`skytui notify test`: send one alert through the configured channels, and say how it went."""

from __future__ import annotations

import argparse

from skytui.errors import SkytuiError


def run(args: argparse.Namespace) -> int:
    from skytui.config import load_config
    from skytui.core.notify.deliver import post_json, show_on_desktop

    n = load_config().notify
    if not (n.webhook or n.desktop):
        raise SkytuiError("no alert channel is configured",
                          "add `notify: {webhook: https://...}` or `notify: {desktop: true}` to config.yaml")
    text = "skytui: a test alert (skytui notify test)"
    if n.webhook:
        problem = post_json(n.webhook, {"text": text, "skytui": {"kind": "test"}}, n.timeout_seconds)
        if problem:
            raise SkytuiError(f"notify.webhook: {problem}", "check the URL and that the receiver is up")
        from urllib.parse import urlsplit

        # The host only: a webhook's path is often its secret (Slack's is).
        print(f"webhook: delivered to {urlsplit(n.webhook).hostname}")
    if n.desktop:
        problem = show_on_desktop("skytui: test", text)
        if problem:
            raise SkytuiError(problem, "install notify-send (libnotify) or set notify.desktop: false")
        print("desktop: shown (when notify-send or osascript is present)")
    return 0
