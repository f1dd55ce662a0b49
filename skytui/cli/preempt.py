"""`skytui local preempt`: the local cloud reclaims spot nodes, with the notice real clouds give."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from skytui.errors import SkytuiError

if TYPE_CHECKING:
    from skytui.providers.base import Instance
    from skytui.providers.local.provider import LocalCloud


def preempt_with_notice(cloud: LocalCloud, victims: list[Instance], notice: float) -> int:
    """Send the notice to every victim, wait it out, then kill them (notice 0: kill at once)."""
    if not math.isfinite(notice) or notice < 0:
        raise SkytuiError(f"--notice must be 0 or more seconds, got {notice:g}",
                          "e.g. --notice 5 (0 preempts without warning)")
    if notice > 0:
        deadline = max(cloud.start_preemption(i.id, notice) for i in victims)
        for i in victims:
            print(f"notice sent to {i.id} ({i.cluster} node {i.node}): preempted in {notice:g}s")
        time.sleep(max(0.0, deadline - time.time()))
    for i in victims:
        cloud.preempt(i.id)
        print(f"preempted {i.id} ({i.cluster} node {i.node}, {i.region}/{i.zone})")
    return 0
