"""Accelerator names skytui knows, and how user spellings map onto them."""

from __future__ import annotations

import difflib

# Canonical names as the bundled catalog spells them (AWS and GCP snapshots).
KNOWN: tuple[str, ...] = (
    "A100", "A100-80GB", "A10G", "B200", "H100", "H100-MEGA", "H200",
    "L4", "L40S", "P100", "P4", "T4", "V100",
)
_BY_FOLDED = {n.lower(): n for n in KNOWN}


def canonical(name: str, extra: tuple[str, ...] = ()) -> str | None:
    """The canonical spelling of `name` (case-insensitive), or None if unknown."""
    folded = name.strip().lower()
    if folded in _BY_FOLDED:
        return _BY_FOLDED[folded]
    for e in extra:
        if e.lower() == folded:
            return e
    return None


def closest(name: str, extra: tuple[str, ...] = ()) -> str | None:
    """The known name a typo most likely meant, for 'did you mean' hints."""
    names = list(KNOWN) + list(extra)
    folded = {n.lower(): n for n in names}
    hit = difflib.get_close_matches(name.lower(), list(folded), n=1, cutoff=0.5)
    return folded[hit[0]] if hit else None
