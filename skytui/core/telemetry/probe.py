"""The one shell command that samples a node's GPUs, load and memory in a single SSH round trip."""

from __future__ import annotations

import shlex

# Fields from `nvidia-smi --help-query-gpu` (see tests/fixtures/gpu/h200/help-query-gpu.txt).
# `power.draw` is used rather than `power.draw.average`/`.instant`: it exists on every
# generation (a 1 s average on Ampere and newer, instantaneous before), while
# `.average` is missing on GA100 and older parts and `.instant` on old drivers.
PROBE_FIELDS_GPU: tuple[str, ...] = (
    "index",
    "name",
    "uuid",
    "utilization.gpu",
    "utilization.memory",
    "memory.used",
    "memory.total",
    "temperature.gpu",
    "power.draw",
    "power.limit",
    "mig.mode.current",
)

# Drivers older than MIG (before R450) reject the whole query over one unknown field.
PROBE_FIELDS_GPU_FALLBACK: tuple[str, ...] = tuple(
    f for f in PROBE_FIELDS_GPU if f != "mig.mode.current"
)

# From `nvidia-smi --help-query-compute-apps`; process_name stays the only free-text field.
PROBE_FIELDS_APPS: tuple[str, ...] = ("gpu_uuid", "pid", "process_name", "used_memory")

# Every section of the probe's output starts with a line `MARK <section> [info]`.
MARK = "@@skytui"

# nvidia-smi hangs for minutes on a GPU that fell off the bus; cap each call.
TOOL_TIMEOUT_S = 15

ROCM_SMI_ARGS: tuple[str, ...] = (
    "--showuse",
    "--showmemuse",
    "--showpower",
    "--showmaxpower",
    "--showtemp",
    "--showmeminfo",
    "vram",
    "--showproductname",
    "--showuniqueid",
    "--json",
)


def _q(words: tuple[str, ...] | list[str]) -> str:
    """Join words into a shell command line, each one quoted."""
    return " ".join(shlex.quote(w) for w in words)


def probe_script(timeout_s: int = TOOL_TIMEOUT_S) -> str:
    """Return the POSIX sh script (dash-safe) that prints the probe's delimited sections."""
    mark = shlex.quote(MARK)
    gpu = shlex.quote(",".join(PROBE_FIELDS_GPU))
    gpu_old = shlex.quote(",".join(PROBE_FIELDS_GPU_FALLBACK))
    apps = shlex.quote(",".join(PROBE_FIELDS_APPS))
    fmt = shlex.quote("--format=csv,noheader,nounits")
    secs = shlex.quote(str(int(timeout_s)))
    rocm = _q(ROCM_SMI_ARGS)
    return f"""\
M={mark}
T=
if command -v timeout >/dev/null 2>&1; then T="timeout {secs}"; fi
sec() {{ n=$1; shift; echo "$M $n"; $T "$@" 2>&1; echo "$M $n-rc $?"; }}
echo "$M begin 1"
if command -v nvidia-smi >/dev/null 2>&1; then
  F={gpu}
  out=$($T nvidia-smi --query-gpu="$F" {fmt} 2>&1); rc=$?
  case $out in
    *'not a valid field'*) F={gpu_old}; out=$($T nvidia-smi --query-gpu="$F" {fmt} 2>&1); rc=$? ;;
  esac
  echo "$M gpu $F"
  printf '%s\\n' "$out"
  echo "$M gpu-rc $rc"
  if [ "$rc" -eq 0 ]; then
    echo "$M apps "{apps}
    $T nvidia-smi --query-compute-apps={apps} {fmt} 2>&1
    echo "$M apps-rc $?"
  fi
else
  echo "$M no-nvidia"
  if command -v amd-smi >/dev/null 2>&1; then
    sec amd-smi-list amd-smi list --json
    sec amd-smi-metric amd-smi metric --json
  elif command -v rocm-smi >/dev/null 2>&1; then
    sec rocm-smi rocm-smi {rocm}
  fi
fi
echo "$M loadavg"
# Shell built-ins only: a probe runs on every node every few seconds, and each process counts.
[ -r /proc/loadavg ] && read -r l < /proc/loadavg && echo "$l"
echo "$M meminfo"
if [ -r /proc/meminfo ]; then
  while read -r k v u; do
    case $k in MemTotal:|MemAvailable:) echo "$k $v $u" ;; esac
  done < /proc/meminfo
fi
echo "$M end"
"""


def probe_command(timeout_s: int = TOOL_TIMEOUT_S) -> str:
    """Return the probe as one command line that runs under `sh` whatever the login shell is."""
    return "sh -c " + shlex.quote(probe_script(timeout_s))
