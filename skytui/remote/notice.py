"""The preemption-notice watcher that skytui starts on every spot node.

Clouds warn before they reclaim a spot VM: AWS two minutes ahead through the instance
metadata (`spot/instance-action` answers 200 once the notice is out), GCP about 30 s ahead
(ACPI soft-off, and the metadata value `instance/preempted` turns TRUE). The local cloud
plays the metadata server with a file it writes onto the node's disk. A small shell loop on
the node polls that source; on a notice it

1. records the moment in `~/.skytui/notice/at` (epoch seconds) and the source in `.../source`,
2. appends one line to every running job's log, so the notice sits in the log at its place,
3. sends SIGTERM to each running job's process group (what `cancel` signals too),

and exits. The job's `run` can trap SIGTERM to write a checkpoint (see
docs/recovery.md). The watcher on this machine reads `~/.skytui/notice/at` with its node
check and treats a job that exits after a notice as preempted, never as failed.
"""

from __future__ import annotations

import shlex

from skytui.errors import RemoteError
from skytui.remote.exec import run
from skytui.remote.jobs import JOBS_DIR
from skytui.remote.pool import NodeAddress, SSHPool

NOTICE_DIR = ".skytui/notice"  # relative to the node user's HOME
LOCAL_NOTICE_FILE = ".skytui/cloud/preemption-notice"  # the local cloud's stand-in for metadata

# How to ask each cloud whether a notice is out (exit status 0: it is), and how often.
_AWS = ('t=$(curl -s -m 2 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" '
        "http://169.254.169.254/latest/api/token)\n"
        '  curl -s -f -m 2 -H "X-aws-ec2-metadata-token: $t" -o /dev/null '
        "http://169.254.169.254/latest/meta-data/spot/instance-action")
_GCP = ('[ "$(curl -s -m 2 -H "Metadata-Flavor: Google" '
        'http://metadata.google.internal/computeMetadata/v1/instance/preempted)" = TRUE ]')
_CHECKS = {
    "aws": (_AWS, 5.0),
    "gcp": (_GCP, 2.0),
    "local": (f'[ -f "$HOME"/{LOCAL_NOTICE_FILE} ]', 0.5),
}


def notice_script(cloud: str) -> str:
    """The node-side loop for `cloud` (bash); one per node, idempotent by its pid file."""
    if cloud not in _CHECKS:
        raise ValueError(f"no preemption notice source for cloud {cloud!r}")
    check, every = _CHECKS[cloud]
    return f"""n="$HOME"/{NOTICE_DIR}
notice() {{
  {check}
}}
while ! notice; do sleep {every}; done
date +%s.%N > "$n/at.tmp" && mv "$n/at.tmp" "$n/at"
echo {shlex.quote(cloud)} > "$n/source"
for d in "$HOME"/{JOBS_DIR}/*; do
  [ -d "$d" ] && [ ! -f "$d/exit_code" ] || continue
  g=$(cat "$d/pgid" 2>/dev/null)
  [ -n "$g" ] || continue
  echo "[skytui] preemption notice from the cloud at $(date -u +%H:%M:%S) UTC: sending SIGTERM to the job" >> "$d/log"
  kill -TERM -- "-$g" 2>/dev/null && basename "$d" >> "$n/signalled"
done
exit 0
"""


async def install(pool: SSHPool, addr: NodeAddress, cloud: str) -> None:
    """Start the notice watcher on the node, detached (setsid), unless one already runs."""
    script = notice_script(cloud)
    command = f"""set -e
n="$HOME"/{NOTICE_DIR}
mkdir -p "$n"
cd "$n"
if [ -s pid ] && kill -0 "$(cat pid)" 2>/dev/null; then cat > /dev/null; exit 0; fi
cat > watch.sh
if command -v setsid > /dev/null 2>&1; then s=setsid; else s=; fi
$s nohup bash watch.sh > /dev/null 2>&1 < /dev/null &
echo $! > pid
"""
    result = await run(pool, addr, command, input=script.encode())
    if not result.ok:
        why = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.exit_status}"]
        raise RemoteError(f"{addr.alias}: cannot start the preemption-notice watcher: {why[0]}")


def notice_probe_command() -> str:
    """Shell lines printing `@@notice@@ EPOCH` when the node had a notice (for the node check)."""
    return f'[ -f "$HOME"/{NOTICE_DIR}/at ] && echo "@@notice@@ $(cat "$HOME"/{NOTICE_DIR}/at)"\n'


def parse_notice(stdout: str) -> float | None:
    for line in stdout.splitlines():
        if line.startswith("@@notice@@ "):
            try:
                return float(line.split()[1])
            except (IndexError, ValueError):
                return None
    return None
