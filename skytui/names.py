"""Cluster and job names: validated before anything runs, so they are safe everywhere."""

from __future__ import annotations

import re

from skytui.errors import NameError_

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def validate_name(name: str, what: str = "cluster name") -> str:
    """Return `name` if it is a valid name, else raise a one-line error with the rule."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        shown = repr(name) if isinstance(name, str) else type(name).__name__
        raise NameError_(
            f"invalid {what} {shown}",
            "use 1-63 lowercase letters, digits and '-', starting with a letter",
        )
    return name
