"""GPU telemetry: the probe command, its parsers (NVIDIA CSV, amd-smi, rocm-smi) and GPU history."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skytui.core.telemetry import (
    PROBE_FIELDS_APPS,
    PROBE_FIELDS_GPU,
    FleetHistory,
    GpuHistory,
    GpuProcess,
    GpuSample,
    join_processes,
    parse_apps_csv,
    parse_gpu_csv,
    parse_probe_output,
    probe_command,
    probe_script,
    sample_to_json,
)
from skytui.core.telemetry.amd import parse_amd_smi, parse_rocm_smi
from skytui.core.telemetry.parse import MIG_NOTE, parse_number
from skytui.core.telemetry.probe import MARK, PROBE_FIELDS_GPU_FALLBACK

H200 = Path(__file__).parent / "fixtures" / "gpu" / "h200"
UUID = "GPU-0fdcd1c1-533d-7cad-6721-d8f7237820e0"
T0 = 1_795_875_054.0  # 2026-11-28T14:10:54Z, when the idle fixtures were captured


def fixture_table(units_file: str, values_file: str) -> dict[str, str]:
    """Read a captured query as {field: value}, naming fields from the units file's header."""
    header = (H200 / units_file).read_text().splitlines()[0]
    names = [re.sub(r" \[.*\]$", "", f) for f in header.split(", ")]
    rows = list(csv.reader((H200 / values_file).read_text().splitlines(), skipinitialspace=True))
    assert len(rows) == 1 and len(rows[0]) == len(names)
    return dict(zip(names, rows[0]))


def probe_text(gpu_csv: str, apps_csv: str = "", *, rc: int = 0, fields=PROBE_FIELDS_GPU) -> str:
    """Build probe output the way probe_script() lays it out."""
    return "\n".join(
        [
            f"{MARK} begin 1",
            f"{MARK} gpu {','.join(fields)}",
            gpu_csv.rstrip("\n"),
            f"{MARK} gpu-rc {rc}",
            f"{MARK} apps {','.join(PROBE_FIELDS_APPS)}",
            apps_csv.rstrip("\n"),
            f"{MARK} apps-rc 0",
            f"{MARK} loadavg",
            (H200 / "loadavg-idle.txt").read_text().strip(),
            f"{MARK} meminfo",
            # free-idle.txt is `free -b`; /proc/meminfo says the same in kB.
            "MemTotal:       131981020 kB",
            "MemAvailable:   131468756 kB",
            f"{MARK} end",
            "",
        ]
    )


def row(values: dict[str, str], fields=PROBE_FIELDS_GPU) -> str:
    return ", ".join(values[f] for f in fields)


# --- fields come from the documented interface ---------------------------------------------


def test_probe_fields_are_documented_in_the_captured_help_texts() -> None:
    gpu_help = (H200 / "help-query-gpu.txt").read_text()
    apps_help = (H200 / "help-query-compute-apps.txt").read_text()
    for field in PROBE_FIELDS_GPU:
        assert re.search(rf'(^|or )"{re.escape(field)}"', gpu_help, re.MULTILINE), field
    for field in PROBE_FIELDS_APPS:
        assert re.search(rf'(^|or )"{re.escape(field)}"', apps_help, re.MULTILINE), field
    assert "mig.mode.current" not in PROBE_FIELDS_GPU_FALLBACK


# --- the real H200 captures ----------------------------------------------------------------


def test_idle_h200_query_without_units() -> None:
    table = fixture_table("query-gpu-idle.csv", "query-gpu-idle-nounits.csv")
    fields = list(table)
    [gpu] = parse_gpu_csv((H200 / "query-gpu-idle-nounits.csv").read_text(), fields)
    assert gpu.index == 0
    assert gpu.name == "NVIDIA H200"
    assert gpu.uuid == UUID
    assert (gpu.utilization_gpu, gpu.utilization_memory) == (0.0, 0.0)
    assert (gpu.memory_used_mib, gpu.memory_total_mib) == (0.0, 143771.0)
    assert gpu.temperature_c == 39.0
    assert gpu.power_w == 131.96
    assert gpu.power_limit_w == 700.0
    assert gpu.mig_mode is False
    assert gpu.processes == () and gpu.notes == ()


def test_idle_h200_query_with_units_and_header() -> None:
    text = (H200 / "query-gpu-idle.csv").read_text()
    fields = list(fixture_table("query-gpu-idle.csv", "query-gpu-idle-nounits.csv"))
    [gpu] = parse_gpu_csv(text, fields)  # the header line is skipped, units are stripped
    assert gpu.uuid == UUID
    assert gpu.memory_total_mib == 143771.0
    assert gpu.power_w == 131.95  # read a moment before the no-units capture
    assert gpu.power_limit_w == 700.0
    assert gpu.utilization_gpu == 0.0


def test_idle_h200_apps_queries_have_no_processes() -> None:
    assert parse_apps_csv((H200 / "query-apps-idle-nounits.csv").read_text()) == []
    header_only = (H200 / "query-apps-idle.csv").read_text()
    assert parse_apps_csv(header_only, ["pid", "process_name", "used_gpu_memory", "gpu_uuid"]) == []


def test_probe_output_from_idle_fixtures() -> None:
    table = fixture_table("query-gpu-idle.csv", "query-gpu-idle-nounits.csv")
    node = parse_probe_output(probe_text(row(table)), T0)
    assert node.status == "ok", node.detail
    assert node.sampled_at == T0
    assert node.load1 == 0.07
    assert node.mem_total_mib == 135148564480 / 1048576
    assert node.mem_available_mib == 131468756 / 1024
    [gpu] = node.gpus
    assert (gpu.name, gpu.uuid, gpu.memory_total_mib, gpu.power_w) == (
        "NVIDIA H200",
        UUID,
        143771.0,
        131.96,
    )


def test_busy_h200_with_its_process() -> None:
    # Crafted from smi-busy.txt (61C, 690W / 700W, 29623MiB / 143771MiB, 100%, python3 pid 447
    # using 29614MiB) and dmon-busy.txt (mem 22%): no busy --query-gpu CSV was captured.
    gpu_csv = f"0, NVIDIA H200, {UUID}, 100, 22, 29623, 143771, 61, 690.12, 700.00, Disabled\n"
    apps_csv = f"{UUID}, 447, python3, 29614\n"
    node = parse_probe_output(probe_text(gpu_csv, apps_csv), T0 + 17)
    assert node.status == "ok"
    [gpu] = node.gpus
    assert (gpu.utilization_gpu, gpu.utilization_memory) == (100.0, 22.0)
    assert (gpu.memory_used_mib, gpu.temperature_c, gpu.power_w) == (29623.0, 61.0, 690.12)
    assert gpu.processes == (GpuProcess(pid=447, name="python3", used_memory_mib=29614.0),)


# --- crafted edge cases ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "number", "reason"),
    [
        ("131.96", 131.96, None),
        ("131.96 W", 131.96, None),
        ("143771 MiB", 143771.0, None),
        ("0 %", 0.0, None),
        (" 39", 39.0, None),
        ("[N/A]", None, None),
        ("N/A", None, None),
        ("", None, None),
        ("[Not Supported]", None, "Not Supported"),
        ("[Insufficient Permissions]", None, "Insufficient Permissions"),
        ("[Unknown Error]", None, "Unknown Error"),
        ("[GPU requires reset]", None, "GPU requires reset"),
        ("Requested functionality has been deprecated", None, None),
        ("nan", None, "not a finite number"),
        ("inf W", None, "not a finite number"),
    ],
)
def test_number_forms(raw: str, number: float | None, reason: str | None) -> None:
    assert parse_number(raw) == (number, reason)


def test_unavailable_values_become_none_with_notes() -> None:
    line = (
        f"0, NVIDIA A10G, {UUID}, [N/A], N/A, [Insufficient Permissions], 23028, "
        "[Unknown Error], [Not Supported], [GPU requires reset], Disabled"
    )
    [gpu] = parse_gpu_csv(line)
    assert gpu.utilization_gpu is None and gpu.utilization_memory is None
    assert gpu.memory_used_mib is None and gpu.memory_total_mib == 23028.0
    assert gpu.temperature_c is None and gpu.power_w is None and gpu.power_limit_w is None
    assert gpu.notes == (
        "memory.used needs more permissions",
        "temperature.gpu unknown error",
        "power.draw not supported",
        "GPU requires reset",
    )


def test_mig_mode_has_no_utilisation_and_says_why() -> None:
    line = f"0, NVIDIA A100-SXM4-80GB, {UUID}, [N/A], [N/A], 13, 81920, 33, 61.47, 400.00, Enabled"
    [gpu] = parse_gpu_csv(line)
    assert gpu.mig_mode is True
    assert gpu.utilization_gpu is None and gpu.utilization_memory is None
    assert gpu.notes == (MIG_NOTE,)
    assert gpu.memory_used_mib == 13.0 and gpu.power_w == 61.47


def test_two_gpus_with_processes_joined_by_uuid() -> None:
    u0, u1 = "GPU-aaaaaaaa-0000-0000-0000-000000000000", "GPU-bbbbbbbb-1111-1111-1111-111111111111"
    gpu_csv = (
        f"0, NVIDIA H100 80GB HBM3, {u0}, 97, 40, 70000, 81559, 70, 650.5, 700.00, Disabled\n"
        f"1, NVIDIA H100 80GB HBM3, {u1}, 3, 1, 500, 81559, 35, 90.0, 700.00, Disabled\n"
    )
    apps_csv = (
        f"{u1}, 12, /usr/bin/python3, 490\n"
        f"{u0}, 10, torchrun, 35000\n"
        f"{u0}, 11, python, train.py, [N/A]\n"  # a name with ", " in it
        f"GPU-cccccccc-2222-2222-2222-222222222222, 99, ghost, 1\n"  # no such GPU: dropped
    )
    node = parse_probe_output(probe_text(gpu_csv, apps_csv), T0)
    g0, g1 = node.gpus
    assert [p.pid for p in g0.processes] == [10, 11]
    assert g0.processes[1] == GpuProcess(pid=11, name="python, train.py", used_memory_mib=None)
    assert g1.processes == (GpuProcess(pid=12, name="/usr/bin/python3", used_memory_mib=490.0),)
    # join_processes on its own gives the same answer.
    joined = join_processes(parse_gpu_csv(gpu_csv), parse_apps_csv(apps_csv))
    assert joined == node.gpus


def test_missing_nvidia_smi_is_no_nvidia() -> None:
    text = f"{MARK} begin 1\n{MARK} no-nvidia\n{MARK} loadavg\n1.50 1.00 0.5 2/100 7\n{MARK} end\n"
    node = parse_probe_output(text, T0)
    assert node.status == "no-nvidia"
    assert node.gpus == () and node.load1 == 1.5
    assert "nvidia-smi not found" in node.detail


def test_driver_failure_is_driver_error_with_its_message() -> None:
    msg = (
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
        "Make sure that the latest NVIDIA driver is installed and running."
    )
    node = parse_probe_output(probe_text(msg, rc=9), T0)
    assert node.status == "driver-error"
    assert node.gpus == ()
    assert node.detail.startswith("NVIDIA-SMI has failed")
    assert parse_probe_output(probe_text("", rc=124), T0).detail == "nvidia-smi timed out"


def test_one_lost_gpu_keeps_the_others() -> None:
    gpu_csv = (
        "Unable to determine the device handle for GPU0000:07:00.0: Unknown Error\n"
        f"0, NVIDIA L4, {UUID}, 5, 1, 300, 23034, 40, 30.1, 72.00, Disabled\n"
    )
    node = parse_probe_output(probe_text(gpu_csv, rc=15), T0)
    assert node.status == "ok" and len(node.gpus) == 1
    assert "Unable to determine the device handle" in node.detail


def test_older_driver_fields_without_mig() -> None:
    gpu_csv = f"0, Tesla V100-SXM2-16GB, {UUID}, 12, 3, 1000, 16160, 41, 55.2, 300.00\n"
    node = parse_probe_output(probe_text(gpu_csv, fields=PROBE_FIELDS_GPU_FALLBACK), T0)
    [gpu] = node.gpus
    assert gpu.name == "Tesla V100-SXM2-16GB" and gpu.utilization_gpu == 12.0 and not gpu.mig_mode


@pytest.mark.parametrize(
    "text",
    [
        "",
        "bash: line 1: syntax error near unexpected token\n",
        "\x00\xff garbage \n\n",
        f"{MARK} begin 1\n{MARK} gpu {','.join(PROBE_FIELDS_GPU)}\nnot csv\n{MARK} gpu-rc 0\n",
        f"{MARK} begin 1\n",  # the connection dropped right after the start
    ],
)
def test_garbage_is_reported_not_raised(text: str) -> None:
    node = parse_probe_output(text, T0)
    assert node.status == "garbage"
    assert node.gpus == ()


def test_cut_short_output_keeps_what_arrived() -> None:
    whole = probe_text(f"0, NVIDIA L4, {UUID}, 5, 1, 300, 23034, 40, 30.1, 72.00, Disabled")
    cut = whole.split(f"{MARK} gpu-rc")[0]
    node = parse_probe_output(cut, T0)
    assert node.status == "ok" and len(node.gpus) == 1
    assert node.detail == "probe output was cut short"


# --- JSON ------------------------------------------------------------------------------------


def test_sample_to_json_has_exactly_the_documented_keys() -> None:
    gpu = GpuSample(
        index=1,
        name="NVIDIA H200",
        uuid=UUID,
        utilization_gpu=None,
        utilization_memory=3.0,
        memory_used_mib=10.5,
        memory_total_mib=143771.0,
        temperature_c=39.0,
        power_w=131.96,
        power_limit_w=700.0,
        processes=(GpuProcess(447, "python3", 29614.0),),
    )
    obj = sample_to_json("dev", 0, gpu, T0 + 0.25)
    assert list(obj) == [
        "cluster",
        "node",
        "index",
        "name",
        "uuid",
        "utilization_gpu",
        "utilization_memory",
        "memory_used_mib",
        "memory_total_mib",
        "temperature_c",
        "power_w",
        "power_limit_w",
        "processes",
        "sampled_at",
    ]
    back = json.loads(json.dumps(obj, allow_nan=False))
    assert back["utilization_gpu"] is None
    assert back["power_w"] == 131.96 and back["index"] == 1 and back["node"] == 0
    assert back["processes"] == [{"pid": 447, "name": "python3", "used_memory_mib": 29614.0}]
    assert back["sampled_at"] == "2026-11-28T14:10:54.250Z"


# --- parsing never raises ----------------------------------------------------------------------

_pieces = st.sampled_from(
    [
        f"{MARK} begin 1",
        f"{MARK} gpu {','.join(PROBE_FIELDS_GPU)}",
        f"{MARK} gpu-rc 0",
        f"{MARK} gpu-rc x",
        f"{MARK} apps gpu_uuid,pid,process_name,used_memory",
        f"{MARK} apps",
        f"{MARK} no-nvidia",
        f"{MARK} amd-smi-metric",
        f"{MARK} rocm-smi",
        f"{MARK} loadavg",
        f"{MARK} meminfo",
        "MemTotal: x kB",
        "0, a, b, [N/A], 1 %, 2, 3, 4, 5 W, 6, Enabled",
        "0, 1, 2",
        ", , , , , , , , , , ",
        '{"card0": {"GPU use (%)": "x"}}',
        '[{"gpu": "z"}]',
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_pieces, st.text()), max_size=12))
def test_parse_probe_output_never_raises(lines: list[str]) -> None:
    node = parse_probe_output("\n".join(lines), T0)
    assert node.status in {"ok", "no-nvidia", "driver-error", "garbage"}
    for gpu in node.gpus:
        json.dumps(sample_to_json("c", 0, gpu, T0), allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_csv_parsers_never_raise(text: str) -> None:
    parse_gpu_csv(text)
    parse_apps_csv(text)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "gpu",
                    "card0",
                    "usage",
                    "gfx_activity",
                    "value",
                    "unit",
                    "power",
                    "mem_usage",
                    "gpu_data",
                    "GPU use (%)",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_amd_parsers_never_raise(data: object) -> None:
    text = json.dumps(data)
    assert isinstance(parse_amd_smi(text, text), list)
    assert isinstance(parse_rocm_smi(text), list)


# --- AMD layouts (crafted from the shapes the tools document and print) -------------------------

AMD_SMI_LIST = json.dumps(
    [{"gpu": 0, "bdf": "0000:0c:00.0", "uuid": "7eff74a1-0000-1000-80fe-e3bcc1d5f2cd"}]
)

AMD_SMI_VALUE_UNIT = json.dumps(
    [
        {
            "gpu": 0,
            "usage": {
                "gfx_activity": {"value": 42, "unit": "%"},
                "umc_activity": {"value": 7, "unit": "%"},
                "vcn_activity": [{"value": 0, "unit": "%"}, "N/A"],
            },
            "power": {
                "socket_power": {"value": 312, "unit": "W"},
                "power_limit": {"value": 750, "unit": "W"},
            },
            "temperature": {"edge": "N/A", "hotspot": {"value": 51, "unit": "C"}},
            "mem_usage": {
                "total_vram": {"value": 196592, "unit": "MB"},
                "used_vram": {"value": 1024, "unit": "MB"},
            },
        }
    ]
)

# Older amd-smi: one bare object, values as strings with units.
AMD_SMI_STRINGS = json.dumps(
    {
        "gpu": 0,
        "usage": {"gfx_activity": "42 %", "umc_activity": "7 %"},
        "power": {"average_socket_power": "312 W"},
        "temperature": {"edge": "45 C", "hotspot": "51 C"},
        "mem_usage": {"total_vram": "196592 MB", "used_vram": "1024 MB"},
    }
)

# Newer amd-smi: {"gpu_data": [...]}, power in mW and memory in GB.
AMD_SMI_WRAPPED = json.dumps(
    {
        "gpu_data": [
            {
                "gpu": 3,
                "usage": {
                    "gfx_activity": {"value": 42, "unit": "%"},
                    "umc_activity": {"value": 7, "unit": "%"},
                },
                "power": {"socket_power": {"value": 312000, "unit": "mW"}},
                "temperature": {"hotspot": {"value": 51, "unit": "C"}},
                "mem_usage": {
                    "total_vram": {"value": 192, "unit": "GB"},
                    "used_vram": {"value": 1, "unit": "GB"},
                },
            }
        ]
    }
)


def test_amd_smi_value_unit_layout() -> None:
    [gpu] = parse_amd_smi(AMD_SMI_VALUE_UNIT, AMD_SMI_LIST)
    assert gpu.index == 0 and gpu.uuid == "7eff74a1-0000-1000-80fe-e3bcc1d5f2cd"
    assert (gpu.utilization_gpu, gpu.utilization_memory) == (42.0, 7.0)
    assert (gpu.power_w, gpu.power_limit_w) == (312.0, 750.0)
    assert gpu.temperature_c == 51.0  # edge is N/A on MI300, hotspot is used
    assert (gpu.memory_used_mib, gpu.memory_total_mib) == (1024.0, 196592.0)


def test_amd_smi_string_and_wrapped_layouts() -> None:
    [old] = parse_amd_smi(AMD_SMI_STRINGS)
    assert (old.utilization_gpu, old.power_w, old.temperature_c, old.memory_total_mib) == (
        42.0,
        312.0,
        45.0,
        196592.0,
    )
    assert old.name == "AMD GPU" and old.uuid == ""
    [new] = parse_amd_smi(AMD_SMI_WRAPPED)
    assert new.index == 3
    assert (new.power_w, new.memory_used_mib, new.memory_total_mib) == (312.0, 1024.0, 196608.0)


def test_amd_smi_with_warnings_before_the_json() -> None:
    [gpu] = parse_amd_smi(
        "WARNING: User is missing the following required groups: render\n" + AMD_SMI_VALUE_UNIT
    )
    assert gpu.utilization_gpu == 42.0
    assert parse_amd_smi("AMDSMI_STATUS_DRIVER_NOT_LOADED") == []


ROCM_SMI = json.dumps(
    {
        "card1": {
            "GPU use (%)": "100",
            "GPU memory use (%)": "30",
            "Average Graphics Package Power (W)": "128.0",
            "Max Graphics Package Power (W)": "560.0",
            "Temperature (Sensor edge) (c)": "77.0",
            "VRAM Total Memory (B)": "68702699520",
            "VRAM Total Used Memory (B)": "10737418240",
            "Card series": "AMD INSTINCT MI250X",
            "Unique ID": "0x18f68e602b8a790f",
        },
        "card0": {
            "GPU use (%)": "19",
            "Current Socket Graphics Package Power (W)": "7.222",
            "Temperature (Sensor edge) (C)": "N/A",
            "Temperature (Sensor junction) (C)": "41.0",
            "Device Name": "Phoenix3",
        },
        "system": {"Driver version": "6.8.5"},
    }
)


def test_rocm_smi_cards() -> None:
    g0, g1 = parse_rocm_smi("WARNING: something\n" + ROCM_SMI)
    assert (g0.index, g0.name, g0.utilization_gpu, g0.power_w, g0.temperature_c) == (
        0,
        "Phoenix3",
        19.0,
        7.222,
        41.0,
    )
    assert g0.memory_total_mib is None and g0.power_limit_w is None
    assert (g1.index, g1.name, g1.uuid) == (1, "AMD INSTINCT MI250X", "0x18f68e602b8a790f")
    assert (g1.utilization_gpu, g1.utilization_memory, g1.power_w, g1.power_limit_w) == (
        100.0,
        30.0,
        128.0,
        560.0,
    )
    assert (g1.memory_used_mib, g1.memory_total_mib) == (10240.0, 65520.0)
    assert g1.temperature_c == 77.0


def test_probe_output_with_amd_sections() -> None:
    text = (
        f"{MARK} begin 1\n{MARK} no-nvidia\n"
        f"{MARK} amd-smi-list\n{AMD_SMI_LIST}\n{MARK} amd-smi-list-rc 0\n"
        f"{MARK} amd-smi-metric\n{AMD_SMI_VALUE_UNIT}\n{MARK} amd-smi-metric-rc 0\n{MARK} end\n"
    )
    node = parse_probe_output(text, T0)
    assert node.status == "ok" and node.gpus[0].power_w == 312.0
    rocm = f"{MARK} begin 1\n{MARK} no-nvidia\n{MARK} rocm-smi\n{ROCM_SMI}\n{MARK} rocm-smi-rc 0\n"
    assert [g.index for g in parse_probe_output(rocm, T0).gpus] == [0, 1]
    broken = (
        f"{MARK} begin 1\n{MARK} no-nvidia\n{MARK} rocm-smi\nERROR: no GPUs\n{MARK} rocm-smi-rc 2\n"
    )
    node = parse_probe_output(broken, T0)
    assert node.status == "no-nvidia" and "ERROR: no GPUs" in node.detail


# --- the probe command, run for real under sh ----------------------------------------------------

STAND_IN = '''#!{python}
"""A stand-in nvidia-smi that answers --query-* from the H200 captures."""
import os, re, sys
fx = {fixtures!r}
def table(units, values):
    header = open(os.path.join(fx, units)).read().splitlines()[0]
    names = [re.sub(r" \\[.*\\]$", "", f) for f in header.split(", ")]
    rows = [l.split(", ") for l in open(os.path.join(fx, values)).read().splitlines() if l.strip()]
    return names, rows
args = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
if os.environ.get("STAND_IN_BROKEN"):
    print("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
          "Make sure that the latest NVIDIA driver is installed and running.")
    sys.exit(9)
if args.get("--format") != "csv,noheader,nounits":
    sys.exit("stand-in only serves csv,noheader,nounits")
if "--query-gpu" in args:
    names, rows = table("query-gpu-idle.csv", "query-gpu-idle-nounits.csv")
    wanted = args["--query-gpu"].split(",")
elif "--query-compute-apps" in args:
    names, rows = table("query-apps-idle.csv", "query-apps-idle-nounits.csv")
    names = ["used_memory" if n == "used_gpu_memory" else n for n in names]
    wanted = args["--query-compute-apps"].split(",")
else:
    sys.exit("stand-in: unsupported arguments")
rejected = os.environ.get("STAND_IN_REJECT", "")
for f in wanted:
    if f not in names or f == rejected:
        print('Field "%s" is not a valid field to query.' % f)
        sys.exit(2)
for r in rows:
    print(", ".join(r[names.index(f)] for f in wanted))
'''


def minimal_bin(tmp_path: Path, with_stand_in: bool) -> Path:
    """A PATH folder with only the tools the probe needs (and no real nvidia-smi)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "cat", "grep", "timeout", "true"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    if with_stand_in:
        script = bin_dir / "nvidia-smi"
        script.write_text(STAND_IN.format(python=sys.executable, fixtures=str(H200)))
        script.chmod(0o755)
    return bin_dir


def run_probe(bin_dir: Path, shell: list[str] | None = None, **env: str) -> str:
    environ = {"PATH": str(bin_dir), "LC_ALL": "C", **env}
    if shell is None:  # the exact line the SSH layer sends
        # The node runs the line it is sent through a shell, as this does.
        done = subprocess.run(
            ["/bin/sh", "-c", probe_command()], env=environ, capture_output=True, text=True,
            timeout=60, check=False,
        )
    else:
        done = subprocess.run(
            [*shell, probe_script()],
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    return done.stdout


def proc_mem_total_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no MemTotal")


linux_only = pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="needs Linux /proc")
shells = [["sh", "-c"]] + [[s, "-c"] for s in ("dash", "bash") if shutil.which(s)]


@linux_only
@pytest.mark.parametrize(
    "shell", [None, *shells], ids=lambda s: "probe_command" if s is None else s[0]
)
def test_probe_runs_against_stand_in_nvidia_smi(tmp_path: Path, shell: list[str] | None) -> None:
    if shell is not None:
        shell = [shutil.which(shell[0]) or shell[0], shell[1]]
    out = run_probe(minimal_bin(tmp_path, with_stand_in=True), shell)
    node = parse_probe_output(out, T0)
    assert node.status == "ok", (node.detail, out)
    table = fixture_table("query-gpu-idle.csv", "query-gpu-idle-nounits.csv")
    [gpu] = node.gpus
    assert gpu.index == int(table["index"]) == 0
    assert gpu.name == table["name"] == "NVIDIA H200"
    assert gpu.uuid == table["uuid"] == UUID
    assert gpu.memory_total_mib == float(table["memory.total"]) == 143771.0
    assert gpu.memory_used_mib == float(table["memory.used"])
    assert gpu.temperature_c == float(table["temperature.gpu"]) == 39.0
    assert gpu.power_w == float(table["power.draw"]) == 131.96
    assert gpu.power_limit_w == float(table["power.limit"]) == 700.0
    assert gpu.utilization_gpu == 0.0 and gpu.mig_mode is False and gpu.processes == ()
    assert node.load1 is not None
    assert node.mem_total_mib == proc_mem_total_mib()
    assert node.mem_available_mib is not None


@linux_only
def test_probe_falls_back_when_driver_lacks_mig_field(tmp_path: Path) -> None:
    out = run_probe(minimal_bin(tmp_path, with_stand_in=True), STAND_IN_REJECT="mig.mode.current")
    assert f"{MARK} gpu {','.join(PROBE_FIELDS_GPU_FALLBACK)}" in out
    node = parse_probe_output(out, T0)
    assert node.status == "ok" and node.gpus[0].power_w == 131.96


@linux_only
def test_probe_with_broken_driver(tmp_path: Path) -> None:
    node = parse_probe_output(run_probe(minimal_bin(tmp_path, True), STAND_IN_BROKEN="1"), T0)
    assert node.status == "driver-error"
    assert "couldn't communicate with the NVIDIA driver" in node.detail
    assert node.load1 is not None


@linux_only
def test_probe_without_nvidia_smi(tmp_path: Path) -> None:
    bin_dir = minimal_bin(tmp_path, with_stand_in=False)
    node = parse_probe_output(run_probe(bin_dir), T0)
    assert node.status == "no-nvidia"
    assert node.gpus == ()
    assert node.mem_total_mib == proc_mem_total_mib()


def test_probe_command_is_one_sh_line() -> None:
    cmd = probe_command()
    assert cmd.startswith("sh -c '") and cmd.endswith("'")
    assert probe_script() in cmd.replace("'\"'\"'", "'")


# --- history -------------------------------------------------------------------------------------


def test_history_is_an_hour_long_ring() -> None:
    h = GpuHistory(interval_s=5)
    for i in range(1000):
        h.add(T0 + 5 * i, 50.0, 1000.0, 300.0)
    assert len(h) == 720  # one hour at 5 s
    assert next(iter(h)).t == T0 + 5 * 280
    h.add(T0, 0.0, 0.0, 0.0)  # out of order: ignored
    assert len(h) == 720 and list(h)[-1].t == T0 + 5 * 999


def test_minute_rollup_averages_each_minute() -> None:
    h = GpuHistory(interval_s=20)
    start = 1_795_875_000.0  # a whole minute
    for i, util in enumerate([10, 20, 30, 40, 50, None]):
        h.add(start + 20 * i, util, 100.0 * i, None)
    minutes = h.minute_rollup()
    assert [m.minute for m in minutes] == [start, start + 60]
    assert minutes[0].utilization_gpu == 20.0 and minutes[0].memory_used_mib == 100.0
    assert minutes[1].utilization_gpu == 45.0 and minutes[1].samples == 3
    assert minutes[0].power_w is None
    assert [m.minute for m in h.minute_rollup(complete_only=True)] == [start]


def test_idle_for_needs_a_covered_window_below_threshold() -> None:
    h = GpuHistory(interval_s=10)
    for i in range(60):  # ten minutes at 2% after one busy reading
        h.add(T0 + 10 * i, 90.0 if i == 0 else 2.0, 0.0, 80.0)
    end = T0 + 590
    assert h.idle_for(300)
    assert not h.idle_for(600)  # the window reaches the busy reading
    assert not h.idle_for(900)  # not watched that long
    assert not h.idle_for(300, threshold=1.0)
    assert not h.idle_for(300, now=end + 120)  # no readings for two minutes: unknown, not idle
    gap = GpuHistory(interval_s=10)
    for i in list(range(10)) + list(range(40, 60)):  # five minutes missing
        gap.add(T0 + 10 * i, 0.0, 0.0, 0.0)
    assert gap.idle_for(150) and not gap.idle_for(500)
    mig = GpuHistory(interval_s=10)
    for i in range(60):
        mig.add(T0 + 10 * i, None, 0.0, 0.0)
    assert not mig.idle_for(60)
    assert not GpuHistory(interval_s=10).idle_for(60)


def test_sparkline_values_per_minute() -> None:
    h = GpuHistory(interval_s=30)
    start = 1_795_875_000.0
    for i, util in enumerate([10, 30, 0, 0, 80, 100]):  # three minutes, two readings each
        h.add(start + 30 * i, util, 0.0, 0.0)
    assert h.sparkline_values(3) == [20.0, 0.0, 90.0]
    assert h.sparkline_values(5) == [0.0, 0.0, 20.0, 0.0, 90.0]
    assert h.sparkline_values(2, now=start + 180) == [90.0, 0.0]
    assert GpuHistory(interval_s=30).sparkline_values(2) == [0.0, 0.0]


def test_fleet_history_keys_gpus_by_node_and_uuid() -> None:
    gpu_csv = f"0, NVIDIA H200, {UUID}, 7, 1, 10, 143771, 39, 131.96, 700.00, Disabled\n"
    fleet = FleetHistory(interval_s=5)
    for i in range(3):
        fleet.record("train", 0, parse_probe_output(probe_text(gpu_csv), T0 + 5 * i))
    hist = fleet.get("train", 0, UUID)
    assert hist is not None and len(hist) == 3 and list(hist)[-1].utilization_gpu == 7.0
    assert fleet.get("train", 1, UUID) is None
    fleet.forget("train")
    assert fleet.get("train", 0, UUID) is None
