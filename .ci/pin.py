"""Write .ci/constraints.txt: the exact versions, in this environment, of everything
`pip install -e '.[test,lint]'` pulls in (skytui's dependencies, its test and lint extras, and
theirs, transitively). Run it where `.ci/run` passes, after an intended upgrade:

    python3 .ci/pin.py

Constraints pin versions without asking for anything, so the README's own install command
(`pip install -e '.[test]'`) resolves the same versions under them.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

EXTRAS = ("test", "lint")
ROOT = Path(__file__).resolve().parent.parent
# Build tools are left to pip: PIP_CONSTRAINT reaches build environments too, where an old pin
# would clash with [build-system] requires.
UNPINNED = {"pip", "setuptools", "wheel"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _own_requirements() -> list[str]:
    """skytui's requirements from pyproject.toml (the installed metadata may be another tree's)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    return list(project["dependencies"]) + [r for e in EXTRAS for r in extras.get(e, [])]


def closure() -> dict[str, str]:
    env = default_environment()
    pinned: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = []
    for line in _own_requirements():
        req = Requirement(line)
        todo.append((req.name, frozenset(req.extras)))
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            sys.exit(f"pin: {name} is required but not installed here; install it first")
        if _norm(name) not in UNPINNED:
            pinned[_norm(name)] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            wanted = [{**env, "extra": e} for e in (extras or {""})]
            if req.marker is None or any(req.marker.evaluate(w) for w in wanted):
                todo.append((req.name, frozenset(req.extras)))
    return pinned


def main() -> None:
    pins = closure()
    out = Path(__file__).with_name("constraints.txt")
    head = (f"# Written by .ci/pin.py (Python {sys.version_info.major}.{sys.version_info.minor}); "
            "used by .ci/run. Do not edit by hand.\n")
    out.write_text(head + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
    print(f"pin: {len(pins)} packages -> {out}")


if __name__ == "__main__":
    main()
