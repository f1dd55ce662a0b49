"""The offline fallback: the user's place from the time zone, regions' places, distance -> RTT."""

from __future__ import annotations

from pathlib import Path

import pytest

from skytui.catalog.places import region_places
from skytui.config_model import NearestSettings
from skytui.core.regions import geo
from skytui.core.regions.latency import estimate, region_latencies
from skytui.store import open_store


def test_iso6709_coordinates() -> None:
    assert geo.parse_iso6709("+5230+01322") == pytest.approx((52.5, 13.3667), abs=1e-3)
    assert geo.parse_iso6709("-3352+15113") == pytest.approx((-33.8667, 151.2167), abs=1e-3)
    assert geo.parse_iso6709("+404251-0740023") == pytest.approx((40.7142, -74.0064), abs=1e-3)


def test_zones_links_and_placeless_zones() -> None:
    berlin = geo.zone_place("Europe/Berlin")
    assert berlin is not None and berlin.latitude == pytest.approx(52.5, abs=0.1)
    la = geo.zone_place("US/Pacific")  # an old name, through the bundled links
    assert la is not None and la.longitude == pytest.approx(-118.24, abs=0.1)
    oslo = geo.zone_place("Europe/Oslo")  # folded into Berlin by zone1970.tab; zone.tab keeps Oslo
    assert oslo is not None and oslo.latitude == pytest.approx(59.9, abs=0.1)
    assert geo.zone_place("Etc/UTC") is None and geo.zone_place("UTC") is None
    with pytest.raises(geo.TimeZoneUnknown):
        geo.zone_place("Mars/Olympus_Mons")


def test_system_zone_reads_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", ":Asia/Tokyo")
    assert geo.system_zone() == "Asia/Tokyo"
    monkeypatch.setenv("TZ", "/usr/share/zoneinfo/America/New_York")
    assert geo.system_zone() == "America/New_York"


def test_distance_and_estimate_are_plausible() -> None:
    places = region_places()
    fra, iad = places[("aws", "eu-central-1")], places[("aws", "us-east-1")]
    km = geo.distance_km(fra, iad)
    assert 6400 < km < 6700
    # Measured Frankfurt <-> N. Virginia round trips are about 85-95 ms.
    assert 70 < geo.rtt_estimate_ms(km) < 110
    assert geo.rtt_estimate_ms(0) == geo.ACCESS_MS


def test_every_catalog_region_has_a_place() -> None:
    from skytui.catalog import load

    places = region_places()
    for cloud in ("aws", "gcp"):
        missing = sorted({o.region for o in load(cloud)} - {r for c, r in places if c == cloud})
        assert missing == [], f"{cloud} regions without coordinates in catalog/places.csv: {missing}"


def test_estimate_notes_weak_time_zones() -> None:
    keys = [("aws", "eu-central-1"), ("aws", "ap-southeast-2")]
    got, note = estimate(keys, "Europe/Berlin")
    assert note is None and got[keys[0]] < got[keys[1]]
    got, note = estimate(keys, "Etc/UTC")
    assert got == {} and "names no place" in (note or "")
    assert "not in the tz database" in (estimate(keys, "Nowhere/Atlantis")[1] or "")


def test_offline_regions_fall_back_to_geo_with_a_fixed_time_zone(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    dead = "http://127.0.0.1:1/ping"  # connection refused: as good as offline
    regions = [("aws", "us-east-1"), ("aws", "eu-central-1"), ("aws", "ap-northeast-1"), ("gcp", "europe-west3")]
    urls = {f"{c}/{r}": dead for c, r in regions}
    out = region_latencies(lambda: store, NearestSettings(urls=urls), regions, network=lambda: "offline",
                           zone="Europe/Berlin")
    assert [r.method for r in out.regions] == ["geo"] * 4
    assert [r.key for r in out.regions][-1] == ("aws", "ap-northeast-1")
    assert {r.key for r in out.regions[:2]} == {("aws", "eu-central-1"), ("gcp", "europe-west3")}
    assert all(r.error == "connection refused" and r.measured_at is None for r in out.regions)
    tokyo = region_latencies(lambda: store, NearestSettings(urls=urls), regions, network=lambda: "offline",
                             zone="Asia/Tokyo")
    assert tokyo.regions[0].key == ("aws", "ap-northeast-1")


def test_measured_regions_rank_before_estimated_ones(tmp_path: Path) -> None:
    from regions_server import RegionServers

    store = open_store(tmp_path / "s.db")
    with RegionServers([0.08]) as srv:
        urls = {"aws/us-east-1": srv.urls[0], "aws/eu-central-1": "http://127.0.0.1:1/ping"}
        out = region_latencies(lambda: store, NearestSettings(urls=urls), [("aws", "eu-central-1"), ("aws", "us-east-1")],
                               network=lambda: "n", zone="Europe/Berlin")
    # Frankfurt is ~10 ms away by distance, but it did not answer; Virginia did, at 80 ms.
    assert [(r.region, r.method) for r in out.regions] == [("us-east-1", "http"), ("eu-central-1", "geo")]
    assert out.regions[1].rtt_ms is not None and out.regions[1].rtt_ms < out.regions[0].rtt_ms
