"""The bundled catalog, its build from the raw price snapshots, and the local cloud's offerings."""

from __future__ import annotations

import csv
import os
import re
import stat
import statistics
from pathlib import Path

import pytest

from skytui.catalog import build, catalog, local
from skytui.catalog.catalog import Offering
from skytui.catalog.local import HostGpu, LocalPrices

MP = pytest.MonkeyPatch
RAW = Path(__file__).resolve().parents[2] / "shared" / "catalog"  # absent in CI


def _find(cloud: str, **match: object) -> list[Offering]:
    return [o for o in catalog.load(cloud)
            if all(getattr(o, k) == v for k, v in match.items())]


# ---- the bundled data -------------------------------------------------------------------

@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_bundled_files_have_the_uniform_header(cloud: str) -> None:
    with (catalog.DATA_DIR / f"{cloud}.csv").open() as f:
        assert tuple(next(csv.reader(f))) == build.COLUMNS


def test_h100_8_is_offered_on_both_clouds() -> None:
    for cloud in ("aws", "gcp"):
        rows = _find(cloud, accelerator_name="H100", accelerator_count=8)
        assert rows, cloud
        assert all(o.accelerator_memory_gib == 80.0 for o in rows)
    assert {o.instance_type for o in _find("aws", accelerator_name="H100", accelerator_count=8)
            } == {"p5.48xlarge"}


def test_gcp_l4_price_is_host_plus_gpus() -> None:
    # Raw us-central1-a rows: g2-standard-24 host 0.88075 (spot 0.35242) and L4 x2
    # 1.12008 (spot 0.4462); the g2-standard-24 machine type comes with two L4s.
    [o] = _find("gcp", instance_type="g2-standard-24", zone="us-central1-a")
    assert (o.accelerator_name, o.accelerator_count) == ("L4", 2)
    assert o.price == pytest.approx(0.88075 + 1.12008)
    assert o.spot_price == pytest.approx(0.35242 + 0.4462)
    assert (o.vcpus, o.memory_gib, o.accelerator_memory_gib) == (24.0, 96.0, 24.0)


def test_missing_spot_price_loads_as_none() -> None:
    # Raw us-east5-a: a3-ultragpu-8g host 13.81519 (spot 3.01627); H200 x8 36.60258, no spot.
    [o] = _find("gcp", instance_type="a3-ultragpu-8g", zone="us-east5-a")
    assert o.spot_price is None
    assert o.price == pytest.approx(13.81519 + 36.60258)


def test_rows_without_on_demand_price_are_dropped_and_said_so() -> None:
    assert not _find("aws", instance_type="p5e.48xlarge")
    sidecar = (catalog.DATA_DIR / "SOURCE.md").read_text()
    assert "p5e.48xlarge: no on-demand price" in sidecar
    assert "00148f2af3672e2229b4f7bf8157d5a3f36e3c35" in sidecar


def test_aws_zones_are_zone_ids_without_local_zones() -> None:
    zones = {o.zone for o in catalog.load("aws")}
    assert "use1-az1" in zones
    assert all(z and re.fullmatch(r"[a-z]+\d-az\d+", z) for z in zones)


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_every_offering_is_consistent(cloud: str) -> None:
    rows = catalog.load(cloud)
    # GCP n1 hosts appear once per attached GPU model and count, so those are part of the key.
    keys = {(o.instance_type, o.accelerator_name, o.accelerator_count, o.zone) for o in rows}
    assert len(keys) == len(rows)
    for o in rows:
        assert o.price > 0 and o.vcpus > 0 and o.memory_gib > 0
        assert (o.accelerator_name is None) == (o.accelerator_count == 0)
        if o.zone and cloud == "gcp":
            assert o.zone.startswith(o.region)


def test_gcp_n1_gpu_combinations_respect_vcpu_limits() -> None:
    v100_1 = {o.instance_type for o in _find("gcp", accelerator_name="V100", accelerator_count=1)}
    assert v100_1 == {"n1-standard-4", "n1-standard-8", "n1-highmem-4", "n1-highmem-8"}
    t4_4 = {o.instance_type for o in _find("gcp", accelerator_name="T4", accelerator_count=4)}
    assert "n1-highmem-16" in t4_4
    assert _find("gcp", instance_type="n1-standard-4", accelerator_name=None)  # CPU-only host


def test_load_is_cached_and_names_are_sorted() -> None:
    assert catalog.load("aws") is catalog.load("aws")
    names = catalog.accelerator_names()
    assert list(names) == sorted(names)
    assert {"A100", "A100-80GB", "H100", "H200", "L4", "T4"} <= set(names)
    assert len(catalog.offerings(["aws", "gcp"])) == len(catalog.load("aws")) + len(
        catalog.load("gcp"))
    with pytest.raises(ValueError):
        catalog.load("azure")


def test_bundled_data_stays_small() -> None:
    total = sum(p.stat().st_size for p in catalog.DATA_DIR.iterdir())
    assert total < 512 * 1024


@pytest.mark.skipif(not RAW.is_dir(), reason="raw price snapshots are not in this checkout")
def test_bundled_data_is_what_the_build_makes(tmp_path: Path) -> None:
    build.build(RAW, tmp_path)
    for cloud in ("aws", "gcp"):
        assert (tmp_path / f"{cloud}.csv").read_text() == (
            catalog.DATA_DIR / f"{cloud}.csv").read_text()


# ---- the build, on small raw files -------------------------------------------------------

AWS_HEADER = ("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,"
              "SpotPrice,Region,AvailabilityZone,Arch")
GCP_HEADER = ("InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,"
              "AvailabilityZone,Price,SpotPrice")
A10G_INFO = ("\"{'Gpus': [{'Name': 'A10G', 'Count': 1, 'MemoryInfo': {'SizeInMiB': 22888}}], "
             "'TotalGpuMemoryInMiB': 22888}\"")


def _raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "aws_vms.csv").write_text("\n".join([
        AWS_HEADER,
        f"g5.xlarge,A10G,1.0,4.0,16.0,{A10G_INFO},1.006,0.40,us-east-1,use1-az1,x86_64",
        f"g5.xlarge,A10G,1.0,4.0,16.0,{A10G_INFO},1.006,,us-east-1,use1-az2,x86_64",
        f"g5.xlarge,A10G,1.0,4.0,16.0,{A10G_INFO},1.2,0.5,us-east-1,use1-atl2-az1,x86_64",
        "p5e.48xlarge,H200,8.0,192.0,2048.0,,,,us-east-2,use2-az1,x86_64",
        "m6i.large,,,2.0,8.0,,0.096,0.03,us-east-1,use1-az1,x86_64",
    ]) + "\n")
    t4 = "{'Gpus': [{'MemoryInfo': {'SizeInMiB': 16384}}]}"
    l4 = "{'Gpus': [{'MemoryInfo': {'SizeInMiB': 24576}}]}"
    (raw / "gcp_vms.csv").write_text("\n".join([
        GCP_HEADER,
        "n1-standard-16,16.0,60.0,,,,us-west1,us-west1-b,0.76,0.16",
        f",,,T4,1,{t4},us-west1,us-west1-b,0.35,0.14",
        f",,,V100,1,{t4},us-west1,us-west1-b,2.48,0.99",
        f",,,V100,2,{t4},us-west1,us-west1-b,4.96,1.98",
        "g2-standard-48,48.0,192.0,,,,us-west1,us-west1-b,2.0,0.8",
        f",,,L4,4,{l4},us-west1,us-west1-b,2.24,",
        f",,,B200,8,{l4},us-west1,us-west1-b,90.0,30.0",
    ]) + "\n")
    return raw


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_build_keeps_whole_instance_prices_for_aws(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = build.build(_raw(tmp_path), out, extra_dir=tmp_path / "no-extra")
    rows = _rows(out / "aws.csv")
    assert [(r["instance_type"], r["zone"]) for r in rows] == [
        ("g5.xlarge", "use1-az1"), ("g5.xlarge", "use1-az2"), ("m6i.large", "use1-az1")]
    g5 = rows[0]
    assert (g5["accelerator_name"], g5["accelerator_count"], g5["price"], g5["spot_price"]) == (
        "A10G", "1", "1.006", "0.4")
    assert g5["accelerator_memory_gib"] == "22.35"
    assert rows[1]["spot_price"] == ""
    assert (rows[2]["accelerator_name"], rows[2]["accelerator_count"]) == ("", "0")
    assert report.rows["aws"] == 3
    assert any("p5e.48xlarge" in why for why in report.dropped)


def test_build_combines_gcp_hosts_with_gpus(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = build.build(_raw(tmp_path), out, extra_dir=tmp_path / "no-extra")
    rows = {(r["instance_type"], r["accelerator_name"], r["accelerator_count"]): r
            for r in _rows(out / "gcp.csv")}
    # V100:1 needs <= 12 vCPUs, so a 16-vCPU host takes only V100:2.
    assert set(rows) == {("n1-standard-16", "", "0"), ("n1-standard-16", "T4", "1"),
                         ("n1-standard-16", "V100", "2"), ("g2-standard-48", "L4", "4")}
    t4 = rows[("n1-standard-16", "T4", "1")]
    assert float(t4["price"]) == pytest.approx(0.76 + 0.35)
    assert float(t4["spot_price"]) == pytest.approx(0.16 + 0.14)
    assert t4["accelerator_memory_gib"] == "16"
    assert rows[("g2-standard-48", "L4", "4")]["spot_price"] == ""  # GPU part has no spot
    assert any("B200" in note for note in report.notes)
    sidecar = (out / "SOURCE.md").read_text()
    assert "gcp.csv: 4 rows" in sidecar and "aws.csv: 3 rows" in sidecar


def test_build_folds_in_the_extra_rows_and_the_raw_snapshot_wins(tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    info = ("\"{'Gpus': [{'Count': 1, 'Name': 'Inferentia2', "
            "'MemoryInfo': {'SizeInMiB': 32768}}]}\"")
    (extra / "aws_types.csv").write_text(
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Arch\n"
        f"inf2.xlarge,Inferentia2,1.0,4.0,16.0,{info},x86_64\n"
        "m6i.large,,,2.0,8.0,,x86_64\n")
    (extra / "aws_prices.csv").write_text(
        "InstanceType,Price,SpotPrice,Region,AvailabilityZone\n"
        "inf2.xlarge,0.7582,0.1614,us-east-1,use1-az2\n"
        "inf2.xlarge,0.7582,,us-west-2,usw2-lax1-az1\n"  # a Local Zone: left out
        "m6i.large,9.99,,us-east-1,use1-az1\n")  # the raw snapshot has this one
    out = tmp_path / "out"
    build.build(_raw(tmp_path), out, extra_dir=extra)
    rows = {(r["instance_type"], r["zone"]): r for r in _rows(out / "aws.csv")}
    inf2 = rows[("inf2.xlarge", "use1-az2")]
    assert (inf2["accelerator_name"], inf2["accelerator_count"], inf2["accelerator_memory_gib"],
            inf2["price"], inf2["spot_price"]) == ("Inferentia2", "1", "32", "0.7582", "0.1614")
    assert ("inf2.xlarge", "usw2-lax1-az1") not in rows
    assert rows[("m6i.large", "use1-az1")]["price"] == "0.096"


def test_extra_prices_need_their_type_row(tmp_path: Path) -> None:
    (tmp_path / "aws_types.csv").write_text(
        "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Arch\n")
    (tmp_path / "aws_prices.csv").write_text(
        "InstanceType,Price,SpotPrice,Region,AvailabilityZone\n"
        "inf1.xlarge,0.228,,us-east-1,use1-az1\n")
    with pytest.raises(ValueError, match="inf1.xlarge has no row"):
        build.read_extra_aws(tmp_path)


def test_extra_source_rows_are_whole_and_consistent() -> None:
    """The kept extra rows: every type priced, every zone row well formed, no duplicates."""
    rows = build.read_extra_aws()
    types = {r["InstanceType"] for r in rows}
    assert types >= {"inf1.xlarge", "inf1.24xlarge", "inf2.xlarge", "inf2.48xlarge",
                     "trn1.2xlarge", "trn1n.32xlarge", "m5.large", "m5.2xlarge", "m5.8xlarge",
                     "t2.small"}
    keys = [(r["InstanceType"], r["AvailabilityZone"]) for r in rows]
    assert len(keys) == len(set(keys))
    for r in rows:  # four trn1.32xlarge rows have no on-demand price upstream
        assert (float(r["Price"]) > 0 if r["Price"] else r["InstanceType"] == "trn1.32xlarge")
        assert r["AvailabilityZone"].startswith(
            {"af": "afs", "ap": "ap", "ca": "cac", "eu": "eu", "me": "me", "us": "us"}[
                r["Region"][:2]])


def test_inferentia_is_in_the_bundled_catalog_on_aws_only() -> None:
    inf = _find("aws", instance_type="inf2.24xlarge")
    assert inf and {(o.accelerator_name, o.accelerator_count) for o in inf} == {
        ("Inferentia2", 6)}
    assert {o.accelerator_count for o in _find("aws", accelerator_name="Inferentia")} == {
        1, 4, 16}
    assert {(o.instance_type, o.accelerator_count) for o in _find("aws", accelerator_name="Trainium")} \
        == {("trn1.2xlarge", 1), ("trn1.32xlarge", 16), ("trn1n.32xlarge", 16)}
    assert not [o for o in catalog.load("gcp")
                if (o.accelerator_name or "").startswith(("Inf", "Tra"))]
    assert _find("aws", instance_type="m5.2xlarge", zone="use1-az1")[0].price == 0.384


def test_gpu_memory_parses_literal_and_malformed_text() -> None:
    assert build.gpu_memory_gib("{'Gpus': [{'MemoryInfo': {'SizeInMiB': 81920}}]}") == 80.0
    assert build.gpu_memory_gib("{'Gpus': [{'MemoryInfo': {'SizeInMiB': 16384}}") == 16.0
    assert build.gpu_memory_gib("") is None
    assert build.gpu_memory_gib("{'Gpus': []}") is None


@pytest.mark.parametrize("machine, expected", [
    ("a2-highgpu-4g", ("A100", 4)), ("a2-megagpu-16g", ("A100", 16)),
    ("a2-ultragpu-8g", ("A100-80GB", 8)), ("a3-highgpu-2g", ("H100", 2)),
    ("a3-edgegpu-8g-nolssd", ("H100", 8)), ("a3-megagpu-8g", ("H100-MEGA", 8)),
    ("a3-ultragpu-8g", ("H200", 8)), ("g2-standard-4", ("L4", 1)), ("g2-standard-96", ("L4", 8)),
    ("n1-highmem-8", None),
])
def test_gcp_machine_types_map_to_their_gpus(machine: str,
                                             expected: tuple[str, int] | None) -> None:
    assert build.gcp_bundled_gpus(machine) == expected


def test_build_cli_refuses_a_missing_folder(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main([str(tmp_path / "nope")]) == 2
    assert "usage" in capsys.readouterr().err


# ---- the local cloud ---------------------------------------------------------------------

@pytest.mark.parametrize("raw, name", [
    ("NVIDIA H200", "H200"), ("NVIDIA A100-SXM4-80GB", "A100-80GB"),
    ("NVIDIA A100-SXM4-40GB", "A100"), ("NVIDIA A100 80GB PCIe", "A100-80GB"),
    ("NVIDIA GeForce RTX 4090", "RTX4090"), ("NVIDIA H100 80GB HBM3", "H100"),
    ("NVIDIA H100 PCIe", "H100"), ("Tesla V100-SXM2-32GB", "V100-32GB"),
    ("Tesla V100-SXM2-16GB", "V100"), ("Tesla T4", "T4"), ("NVIDIA A10G", "A10G"),
    ("NVIDIA L40S", "L40S"), ("NVIDIA GeForce GTX 1080 Ti", "GTX1080Ti"),
    ("Quadro RTX 8000", "RTX8000"), ("h100", "H100"),
])
def test_driver_gpu_names_normalise_to_catalog_names(raw: str, name: str) -> None:
    assert local.normalise_gpu_name(raw) == name


def _fake_smi(tmp_path: Path, body: str) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "nvidia-smi"
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return bindir


def test_host_gpus_reads_a_stand_in_nvidia_smi(tmp_path: Path, monkeypatch: MP) -> None:
    # Answers only the exact query skytui must send, like the real tool's CSV mode.
    bindir = _fake_smi(tmp_path, (
        '[ "$*" = "--query-gpu=index,name,memory.total,uuid --format=csv,noheader,nounits" ]'
        " || exit 6\n"
        "echo '0, NVIDIA H200, 143771, GPU-0fdcd1c1-533d-7cad-6721-d8f7237820e0'\n"
        "echo '1, NVIDIA A100-SXM4-80GB, 81920, GPU-1111'\n"))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert local.host_gpus() == [
        HostGpu(0, "H200", 143771, "GPU-0fdcd1c1-533d-7cad-6721-d8f7237820e0", "NVIDIA H200"),
        HostGpu(1, "A100-80GB", 81920, "GPU-1111", "NVIDIA A100-SXM4-80GB"),
    ]


def test_host_gpus_is_empty_without_nvidia_smi(tmp_path: Path, monkeypatch: MP) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert local.host_gpus() == []


def test_host_gpus_is_empty_when_nvidia_smi_fails(tmp_path: Path, monkeypatch: MP) -> None:
    bindir = _fake_smi(tmp_path, "echo 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    monkeypatch.setenv("PATH", str(bindir))
    assert local.host_gpus() == []


def test_host_gpus_gives_up_on_a_hung_nvidia_smi(tmp_path: Path, monkeypatch: MP) -> None:
    bindir = _fake_smi(tmp_path, "exec sleep 30\n")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(local, "NVIDIA_SMI_TIMEOUT_S", 0.3)
    assert local.host_gpus() == []


def test_parse_query_skips_noise_and_unknown_memory() -> None:
    text = "0, NVIDIA H200, [N/A], GPU-a\nNo devices were found\n\n"
    assert local.parse_query(text) == [HostGpu(0, "H200", None, "GPU-a", "NVIDIA H200")]


def test_local_offerings_slice_the_host() -> None:
    gpus = [HostGpu(0, "H200", 143771, "a"), HostGpu(1, "H200", 143771, "b"),
            HostGpu(2, "RTX4090", 24564, "c")]
    prices = LocalPrices(gpu_hour={"H200": 3.0})
    offers = local.local_offerings({"r1": ["r1-a", "r1-b"], "r2": []}, prices, host_cpus=16,
                                   host_mem_gib=128.0, gpus=gpus)
    types = sorted({o.instance_type for o in offers})
    assert types == sorted(["local-cpu1", "local-cpu2", "local-cpu4", "local-cpu8",
                            "local-cpu16", "local-h200x1", "local-h200x2", "local-rtx4090x1"])
    assert len(offers) == len(types) * 3  # every type in every zone (r2 has no zones)
    assert {o.zone for o in offers if o.region == "r2"} == {None}
    by_type = {o.instance_type: o for o in offers if o.zone == "r1-a"}
    cpu4 = by_type["local-cpu4"]
    assert (cpu4.vcpus, cpu4.memory_gib, cpu4.accelerator_name) == (4.0, 32.0, None)
    assert cpu4.price == pytest.approx(4 * 0.04 + 32 * 0.005)
    assert cpu4.spot_price == pytest.approx(cpu4.price * 0.35)
    h200x2 = by_type["local-h200x2"]
    assert (h200x2.accelerator_name, h200x2.accelerator_count) == ("H200", 2)
    assert h200x2.price == pytest.approx(6.0)
    assert h200x2.accelerator_memory_gib == pytest.approx(143771 / 1024, abs=0.01)
    assert by_type["local-rtx4090x1"].price == pytest.approx(2.0)  # no catalog price: default
    assert all(o.cloud == "local" for o in offers)


def test_local_gpu_price_defaults_to_the_catalog_median() -> None:
    per_gpu = [o.price / o.accelerator_count for o in catalog.offerings(["aws", "gcp"])
               if o.accelerator_name == "H100"]
    price = LocalPrices().per_gpu_hour("H100")
    assert price == pytest.approx(statistics.median(per_gpu))
    cpu1, h100 = local.local_offerings({"r": ["z"]}, host_cpus=1, host_mem_gib=4.0,
                                       gpus=[HostGpu(0, "H100", 81559, "u")])
    assert cpu1.instance_type == "local-cpu1"
    assert h100.instance_type == "local-h100x1"
    assert h100.price == pytest.approx(price, abs=1e-6)
    assert LocalPrices(default_gpu_hour=1.5).per_gpu_hour("NoSuchGpu") == 1.5


def test_local_offerings_without_gpus_are_cpu_only() -> None:
    offers = local.local_offerings({"r": ["z"]}, host_cpus=3, host_mem_gib=6.0, gpus=[])
    assert [(o.instance_type, o.vcpus, o.memory_gib) for o in offers] == [
        ("local-cpu1", 1.0, 2.0), ("local-cpu2", 2.0, 4.0)]
    assert all(o.accelerator_name is None for o in offers)
