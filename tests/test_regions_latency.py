"""The latency probe against loopback servers that answer after injected per-region delays."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from regions_server import RegionServers

from skytui.config_model import LocalSettings, NearestSettings
from skytui.core.regions.latency import region_latencies
from skytui.store import open_store

REGIONS = {"near": ("a",), "middle": ("a",), "far": ("a",)}
TOLERANCE_MS = 150.0  # scheduling on a shared, loaded host; a round trip is never below its delay


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = open_store(tmp_path / "state.db")
    yield s
    s.db.close()


def settings(urls: dict[str, str], **kw: float) -> NearestSettings:
    return NearestSettings(urls=urls, **kw)  # type: ignore[arg-type]


def keys(*names: str) -> list[tuple[str, str]]:
    return [("local", n) for n in names]


def test_regions_rank_by_measured_rtt_within_tolerance_of_the_delay(store) -> None:  # type: ignore[no-untyped-def]
    delays = {"far": 0.6, "near": 0.02, "middle": 0.3}  # gaps far wider than scheduling jitter
    with RegionServers(list(delays.values())) as srv:
        urls = {f"local/{name}": url for name, url in zip(delays, srv.urls)}
        out = region_latencies(lambda: store, settings(urls), keys(*delays), network=lambda: "net-a")
    assert [r.region for r in out.regions] == ["near", "middle", "far"]
    for r in out.regions:
        injected = delays[r.region] * 1000
        assert r.method == "http" and r.samples == 3 and r.error is None
        assert injected <= r.rtt_ms <= injected + TOLERANCE_MS, (r.region, r.rtt_ms)
        assert r.first_ms is not None and r.first_ms >= injected  # connect + one exchange
    # Each region saw one connection's worth of requests: the first and three kept-alive ones.
    assert srv.requests == [4, 4, 4]


def test_a_region_that_never_answers_is_cut_at_the_bound(store) -> None:  # type: ignore[no-untyped-def]
    with RegionServers([0.01, None]) as srv:
        urls = {"local/near": srv.urls[0], "local/far": srv.urls[1]}
        t0 = time.monotonic()
        out = region_latencies(lambda: store, settings(urls, probe_seconds=0.8), keys("near", "far"),
                               network=lambda: "net-a", zone="Europe/Berlin")
        took = time.monotonic() - t0
    # Without the bound this would wait an hour for "far"; the margin is for a loaded host
    # (bench.bench_regions measures the real overhead).
    assert 0.8 <= took < 5
    near, far = out.regions
    assert (near.region, near.method) == ("near", "http")
    # The local cloud's regions have no place on a map, so no geographic guess either.
    assert (far.region, far.method, far.rtt_ms) == ("far", "unknown", None)
    assert far.error == "no answer within 0.8s"


def test_a_refused_connection_is_an_error_not_a_hang(store) -> None:  # type: ignore[no-untyped-def]
    out = region_latencies(lambda: store, settings({"local/near": "http://127.0.0.1:1/ping"}),
                           keys("near"), network=lambda: "net-a", zone="Etc/UTC")
    (r,) = out.regions
    assert (r.method, r.error) == ("unknown", "connection refused")


def test_the_local_cloud_answers_from_a_loopback_server(store) -> None:  # type: ignore[no-untyped-def]
    out = region_latencies(lambda: store, settings({}), keys("local-1", "local-2"), network=lambda: "n")
    assert {r.method for r in out.regions} == {"http"}
    assert all(r.rtt_ms is not None and r.rtt_ms < 50 for r in out.regions)


def test_cache_serves_the_same_network_and_is_invalidated_by_a_new_one(store) -> None:  # type: ignore[no-untyped-def]
    now = [1_000_000.0]
    with RegionServers([0.02, 0.06]) as srv:
        urls = {"local/near": srv.urls[0], "local/far": srv.urls[1]}
        cfg = settings(urls, ttl_hours=1)

        def run(net: str, **kw: bool) -> list[str]:
            out = region_latencies(lambda: store, cfg, keys("near", "far"), network=lambda: net,
                                   clock=lambda: now[0], **kw)
            by = {r.region: r.method for r in out.regions}
            return [by["near"], by["far"]]

        assert run("home") == ["http", "http"]
        assert srv.requests == [4, 4]
        assert run("home") == ["cached", "cached"]  # nothing asked
        assert srv.requests == [4, 4]
        assert run("cafe") == ["http", "http"]  # another network: measured again
        assert srv.requests == [8, 8]
        assert run("cafe", refresh=True) == ["http", "http"]
        assert srv.requests == [12, 12]
        now[0] += 3601  # past ttl_hours
        assert run("cafe") == ["http", "http"]
        assert srv.requests == [16, 16]
        now[0] -= 7200  # a clock that jumped back makes the rows suspect, not fresh
        assert run("cafe") == ["http", "http"]


def test_cache_is_invalidated_when_a_region_gets_another_url(store) -> None:  # type: ignore[no-untyped-def]
    with RegionServers([0.01, 0.01]) as srv:
        def run(url: str) -> str:
            out = region_latencies(lambda: store, settings({"local/near": url}), keys("near"),
                                   network=lambda: "n")
            return out.regions[0].method

        assert run(srv.urls[0]) == "http"
        assert run(srv.urls[0]) == "cached"
        assert run(srv.urls[1]) == "http"
        assert srv.requests == [4, 4]


def test_a_failure_is_cached_for_less_time_than_a_measurement(store) -> None:  # type: ignore[no-untyped-def]
    now = [5_000_000.0]
    urls = {"local/near": "http://127.0.0.1:1/ping"}
    cfg = settings(urls, ttl_hours=24)
    first = region_latencies(lambda: store, cfg, keys("near"), network=lambda: "n", clock=lambda: now[0])
    assert first.regions[0].error == "connection refused"
    row = store.db.conn.execute("SELECT measured_at FROM region_latency").fetchone()
    assert row["measured_at"] == now[0]
    now[0] += 3700  # past the one-hour failure TTL, well within the 24 h one
    region_latencies(lambda: store, cfg, keys("near"), network=lambda: "n", clock=lambda: now[0])
    row = store.db.conn.execute("SELECT measured_at FROM region_latency").fetchone()
    assert row["measured_at"] == now[0]  # probed again


def test_local_settings_regions_are_the_local_clouds_regions() -> None:
    from skytui.config_model import Config
    from skytui.core.regions.latency import enabled_regions

    cfg = Config(local=LocalSettings(regions=dict(REGIONS)), allowed_regions={"local": ("near", "far")})
    assert enabled_regions(cfg) == [("local", "near"), ("local", "far")]
    both = Config(clouds=("aws",), allowed_regions={"aws": ("us-east-1", "eu-west-1")})
    assert enabled_regions(both) == [("aws", "eu-west-1"), ("aws", "us-east-1"), ("local", "local-1"),
                                     ("local", "local-2")]
    assert enabled_regions(both, "aws") == [("aws", "eu-west-1"), ("aws", "us-east-1")]


@pytest.mark.parametrize("gpus", [None, "H100:1", "A100:8", "L4:1"])
def test_region_prices_follow_the_planners_rules(gpus: str | None) -> None:
    from skytui.config_model import Config
    from skytui.core.offerings import offerings_for
    from skytui.core.planner import DEFAULT_MIN_CPUS, plan
    from skytui.core.regions.latency import enabled_regions
    from skytui.core.regions.prices import MIN_DEV_VCPUS, cheapest
    from skytui.core.resources import parse_gpus
    from skytui.task.spec import Resources

    assert MIN_DEV_VCPUS == DEFAULT_MIN_CPUS
    cfg = Config(clouds=("aws", "gcp"))
    regions = enabled_regions(cfg)
    got = cheapest(cfg, regions, gpus)
    acc = (parse_gpus(gpus),) if gpus else ()
    for spot in (False, True):
        p = plan([Resources(accelerators=acc, use_spot=spot)], enabled_clouds=("aws", "gcp", "local"),
                 offerings=offerings_for(cfg))
        best: dict[tuple[str, str], float] = {}
        for c in p.candidates:
            best.setdefault((c.cloud, c.region), c.price_per_node)
        mine = {k: (v.spot_price_per_hour if spot else v.price_per_hour) for k, v in got.items()}
        assert {k: v for k, v in mine.items() if v is not None} == best


def test_network_fingerprint_is_stable_and_holds_no_address() -> None:
    from skytui.core.regions.network import OFFLINE, fingerprint, source_address

    first = fingerprint()
    assert first == fingerprint()
    assert first == OFFLINE or (len(first) == 8 and int(first, 16) >= 0)
    address = source_address()
    assert address is None or address not in first


def test_catalog_summary_lists_the_catalogs_regions() -> None:
    from skytui.catalog import CATALOG_CLOUDS, load
    from skytui.core.regions import prices

    assert prices.CATALOG_CLOUDS == CATALOG_CLOUDS
    for cloud in CATALOG_CLOUDS:
        assert set(prices.catalog_summary(cloud)) == {o.region for o in load(cloud)}
