"""One dispatch path: every parser names its handler, flags are strict per subcommand, and the
status table stays off asyncio."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest
from test_cli import skytui

from skytui.cli.main import build_parser


def _parsers(p: argparse.ArgumentParser, path: str = "skytui") -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, p)]
    for action in p._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _parsers(child, f"{path} {name}")
    return found


def test_every_parser_names_a_handler_that_exists() -> None:
    parsers = _parsers(build_parser())
    assert len(parsers) > 20  # the walk really reached the subcommands, jobs' included
    assert "skytui jobs cancel" in dict(parsers)
    for path, p in parsers:
        target = p.get_default("handler")
        assert isinstance(target, str) and ":" in target, path
        module, _, name = target.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), path


@pytest.mark.parametrize("argv", [
    ("jobs", "cancel", "3", "--gpus", "H100"),
    ("jobs", "logs", "3", "--spot"),
    ("jobs", "3", "--follow"),
    ("jobs", "cancel", "three"),
    ("jobs", "launch"),
    ("jobs", "frobnicate"),
])
def test_jobs_flags_are_strict(argv: tuple[str, ...]) -> None:
    done = skytui(*argv)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("skytui: error: "), done.stderr
    assert "Traceback" not in done.stderr


def test_jobs_id_is_short_for_show() -> None:
    short, long = skytui("jobs", "41"), skytui("jobs", "show", "41")
    assert short.returncode == long.returncode == 2  # no job 41 in a fresh sandbox
    assert short.stderr == long.stderr and "no managed job 41" in short.stderr


def test_status_table_imports_no_asyncio() -> None:
    # sys.modules sees every import; -X importtime lists those made by import statements (not
    # importlib's), with who pulled them in, for when this fails.
    code = ("import sys\nfrom skytui.cli.main import main\ncode = main(['status'])\n"
            "print('ASYNCIO', 'asyncio' in sys.modules, 'STATUS', 'skytui.cli.status' in sys.modules)\n"
            "raise SystemExit(code)")
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "No clusters" in done.stdout  # the table path really ran
    assert "ASYNCIO False STATUS True" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "skytui.store" in imported  # importtime output was read as intended
    assert "asyncio" not in imported
