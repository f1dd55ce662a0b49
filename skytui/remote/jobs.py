"""Detached jobs on a node, kept under `~/.skytui/jobs/<job_id>/` so they outlive SSH.

A job directory holds `run.sh` (the user's script), `env.sh` (its exports), `wrapper.sh`,
`log` (stdout+stderr), `pid` (the wrapper, which records the exit), `pgid` (the process group
of the user's script, what cancel signals) and, once it ends, `exit_code` (128+N when killed
by signal N). The wrapper lives in its own session and outside the script's process group, so
neither a dropped connection nor a cancel can stop it from writing `exit_code`; only the loss
of the whole machine can, and that is what "gone" means.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from skytui.errors import RemoteError
from skytui.remote.exec import run, with_env
from skytui.remote.marks import as_probe
from skytui.remote.pool import NodeAddress, SSHPool

JOBS_DIR = ".skytui/jobs"  # relative to the node user's HOME
_JOB_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")

JobStatus = Literal["running", "exited", "gone", "missing"]


@dataclass(frozen=True)
class JobState:
    """Where a job is: running, exited (with its code), gone (died unrecorded) or missing."""

    status: JobStatus
    exit_code: int | None = None


# Runs in the job directory, as the leader of its own session. `set -m` puts the script in a
# process group of its own. With job control, `wait` also returns when the script is merely
# stopped (SIGSTOP), so wait again while it still exists.
_WRAPPER = """\
echo $$ > pid.tmp && mv pid.tmp pid
d=$(pwd)
[ -f env.sh ] && . ./env.sh
set -m
(cd "$HOME" && exec bash "$d/run.sh") < /dev/null >> "$d/log" 2>&1 &
c=$!
echo $c > pgid.tmp && mv pgid.tmp pgid
while :; do
  wait $c; rc=$?
  if [ $rc -gt 128 ] && kill -0 $c 2>/dev/null; then sleep 1; continue; fi
  break
done
echo $rc > exit_code.tmp && mv exit_code.tmp exit_code
"""

# One line per job: "<id> <running|exited|gone> <exit code or ->". The exit code is checked
# again after a dead pid: the wrapper may have written it in between.
# `kill -0` says yes to a zombie (a killed wrapper nobody reaped yet): where /proc exists, a
# process counts as alive only when its state is not Z, and a group only when one of its
# members is not.
_STATE_OF_DIR = """\
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0
  [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}
group_alive() {
  kill -0 -- "-$1" 2>/dev/null || return 1
  [ -d /proc/self ] || return 0
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$1" '{ sub(/.*\\) /, ""); if ($3 == g && $1 != "Z") { f = 1; exit } } END { exit !f }'
}
state_of() {
  if [ -f "$1/exit_code" ]; then echo "$1 exited $(cat "$1/exit_code")"; return; fi
  p=$(cat "$1/pid" 2>/dev/null); g=$(cat "$1/pgid" 2>/dev/null)
  if [ -n "$p" ] && alive "$p"; then echo "$1 running -"; return; fi
  if [ -n "$g" ] && group_alive "$g"; then echo "$1 running -"; return; fi
  if [ -f "$1/exit_code" ]; then echo "$1 exited $(cat "$1/exit_code")"; return; fi
  echo "$1 gone -"
}
"""


def check_job_id(job_id: str) -> str:
    """Refuse job ids that could name anything but one directory."""
    if not _JOB_ID_RE.match(job_id):
        raise ValueError(f"invalid job id {job_id!r}: use letters, digits, '.', '_' and '-'")
    return job_id


def job_dir(job_id: str) -> str:
    """The job's directory as a shell word (HOME-relative, quoted)."""
    return f'"$HOME"/{JOBS_DIR}/{shlex.quote(check_job_id(job_id))}'


def _env_script(env: Mapping[str, str]) -> str:
    return with_env(":", env).removesuffix("; :") + "\n" if env else ""


async def start_detached(pool: SSHPool, addr: NodeAddress, job_id: str, script: str,
                         env: Mapping[str, str] | None = None) -> None:
    """Start `script` (bash) on the node so it survives the SSH connection; idempotent per id.

    Starting a job id that already started does nothing, so a launch retried after a crash
    never runs the script twice. Returns once the job's `pid` and `pgid` are written.
    """
    d = job_dir(job_id)
    command = f"""set -e
d={d}
mkdir -p "$d"
cd "$d"
if [ -s pid ]; then cat > /dev/null; exit 0; fi
cat > run.sh
printf '%s' {shlex.quote(_env_script(env or {}))} > env.sh
printf '%s' {shlex.quote(_WRAPPER)} > wrapper.sh
: >> log
if command -v setsid > /dev/null 2>&1; then s=setsid; else s=; fi
$s nohup bash wrapper.sh > /dev/null 2>&1 < /dev/null &
i=0
while {{ [ ! -s pid ] || [ ! -s pgid ]; }} && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done
[ -s pgid ] || [ -s exit_code ] || {{ echo "the job's wrapper did not start" >&2; exit 1; }}
"""
    result = await run(pool, addr, command, input=script.encode())
    if not result.ok:
        why = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.exit_status}"]
        raise RemoteError(f"{addr.alias}: cannot start job {job_id}: {why[0]}")


def parse_states(output: str) -> dict[str, JobState]:
    states: dict[str, JobState] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        job_id, status, code = parts
        if status == "exited":
            try:
                states[job_id] = JobState("exited", int(code))
            except ValueError:
                states[job_id] = JobState("gone")
        elif status in ("running", "gone"):
            states[job_id] = JobState(status)  # type: ignore[arg-type]
    return states


def states_command() -> str:
    """One shell command printing the state line of every job on the node."""
    return (_STATE_OF_DIR + f'cd "$HOME"/{JOBS_DIR} 2>/dev/null || exit 0\n'
            'for j in *; do [ -d "$j" ] && state_of "$j"; done; exit 0\n')


async def states(pool: SSHPool, addr: NodeAddress) -> dict[str, JobState]:
    """Every job on the node and its state, in one round trip (cheap enough to poll)."""
    result = await run(pool, addr, as_probe(states_command()))
    if not result.ok:
        raise RemoteError(f"{addr.alias}: cannot read job states: {result.stderr.strip()}")
    return parse_states(result.stdout)


async def job_state(pool: SSHPool, addr: NodeAddress, job_id: str) -> JobState:
    """One job's state; "missing" if the node has never heard of it."""
    quoted = shlex.quote(check_job_id(job_id))
    command = (_STATE_OF_DIR + f'cd "$HOME"/{JOBS_DIR} 2>/dev/null || exit 0\n'
               f"[ -d {quoted} ] && state_of {quoted}; exit 0\n")
    result = await run(pool, addr, command)
    if not result.ok:
        raise RemoteError(f"{addr.alias}: cannot read job {job_id}: {result.stderr.strip()}")
    return parse_states(result.stdout).get(job_id, JobState("missing"))


async def cancel(pool: SSHPool, addr: NodeAddress, job_id: str, *,
                 grace: float = 5.0) -> JobState:
    """SIGTERM the job's process group, SIGKILL it after `grace` seconds, and return its state."""
    ticks = max(0, int(grace * 10))
    command = f"""d={job_dir(job_id)}
[ -d "$d" ] || exit 0
[ -f "$d/exit_code" ] && exit 0
g=$(cat "$d/pgid" 2>/dev/null)
[ -n "$g" ] || exit 0
kill -TERM -- "-$g" 2>/dev/null || exit 0
i=0
while kill -0 -- "-$g" 2>/dev/null && [ $i -lt {ticks} ]; do sleep 0.1; i=$((i+1)); done
kill -KILL -- "-$g" 2>/dev/null
p=$(cat "$d/pid" 2>/dev/null)
i=0
while [ ! -f "$d/exit_code" ] && kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
  sleep 0.1; i=$((i+1))
done
exit 0
"""
    result = await run(pool, addr, command)
    if not result.ok:
        raise RemoteError(f"{addr.alias}: cannot cancel job {job_id}: {result.stderr.strip()}")
    return await job_state(pool, addr, job_id)
