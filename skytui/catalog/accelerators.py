"""Accelerator names skytui knows, and how user spellings map onto them."""

from __future__ import annotations

import difflib

# Canonical names as the bundled catalog spells them (AWS and GCP snapshots).
KNOWN: tuple[str, ...] = (
    "A100", "A100-80GB", "A10G", "B200", "H100", "H100-MEGA", "H200",
    "L4", "L40S", "P100", "P4", "T4", "V100",
    "Inferentia", "Inferentia2", "Trainium",  # AWS Neuron chips (inf1, inf2, trn1), not GPUs
)
# Accelerators that are not NVIDIA GPUs: nodes with them have no nvidia-smi telemetry.
NEURON: tuple[str, ...] = ("Inferentia", "Inferentia2", "Trainium")
_BY_FOLDED = {n.lower(): n for n in KNOWN}
# Other spellings of the same accelerator (SkyPilot's A100 is the 40 GB part).
_ALIASES = {"a100-40gb": "A100", "a100-80g": "A100-80GB", "a100_80gb": "A100-80GB"}


def canonical(name: str, extra: tuple[str, ...] = ()) -> str | None:
    """The canonical spelling of `name` (case-insensitive), or None if unknown."""
    folded = name.strip().lower()
    if folded in _BY_FOLDED:
        return _BY_FOLDED[folded]
    if folded in _ALIASES:
        return _ALIASES[folded]
    for e in extra:
        if e.lower() == folded:
            return e
    return None


# Real accelerators that skytui's bundled AWS/GCP catalog does not carry, so that a name
# among them is never "corrected" into a different GPU (A10 is not A10G).
OTHER_ACCELERATORS = frozenset(n.lower() for n in (
    "A10", "A40", "A6000", "A5000", "A4000", "L40", "K80", "M60", "K520", "P40",
    "MI300", "MI300X", "MI325X", "MI250", "MI250X", "MI210", "MI100", "RTX4090", "RTX3090",
    "RTX6000", "RTXPRO6000", "RTX6000-Ada", "B100", "GB200", "GH200", "H100-80GB", "H20",
    "Gaudi", "Gaudi2", "Gaudi3", "Trainium2",
    "T4g", "Radeon", "A2", "A16", "L20",
))


def _squash(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def closest(name: str, extra: tuple[str, ...] = ()) -> str | None:
    """The known name a typo most likely meant, for 'did you mean' hints.

    A real accelerator of another kind is never "corrected" (A10 is not A10G), so a name
    that is itself a real accelerator gets no hint.
    """
    folded_name = name.strip().lower()
    if not folded_name or folded_name in OTHER_ACCELERATORS or folded_name.startswith("tpu"):
        return None
    names = list(KNOWN) + list(extra)
    squashed = _squash(name)
    for n in names:
        if _squash(n) == squashed:
            return n
    folded = {n.lower(): n for n in names}
    hit = difflib.get_close_matches(folded_name, list(folded), n=1, cutoff=0.5)
    return folded[hit[0]] if hit else None
