"""The state schema as an ordered list of migrations; `PRAGMA user_version` says where a file is."""

from __future__ import annotations

from skytui.store import usage_sums

# Each entry moves the schema from version i to i+1. Never edit a released step: add one.
MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE clusters(
        name TEXT PRIMARY KEY,
        cloud TEXT NOT NULL,
        region TEXT,
        zone TEXT,
        status TEXT NOT NULL,
        status_reason TEXT,
        spot INTEGER NOT NULL DEFAULT 0,
        num_nodes INTEGER NOT NULL DEFAULT 1,
        instance_type TEXT,
        accelerator TEXT,
        accelerator_count INTEGER NOT NULL DEFAULT 0,
        vcpus REAL,
        memory_gib REAL,
        price_per_hour REAL,
        on_demand_price_per_hour REAL,
        launched_at REAL,
        updated_at REAL NOT NULL,
        autostop_minutes INTEGER,
        autostop_down INTEGER NOT NULL DEFAULT 0,
        job_id INTEGER,
        user TEXT NOT NULL,
        request_id TEXT,
        task_json TEXT,
        is_dev INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX clusters_status ON clusters(status);
    CREATE TABLE nodes(
        cluster TEXT NOT NULL,
        rank INTEGER NOT NULL,
        instance_id TEXT,
        host TEXT,
        port INTEGER,
        host_key TEXT,
        PRIMARY KEY(cluster, rank)
    );
    CREATE TABLE cluster_jobs(
        cluster TEXT NOT NULL,
        id INTEGER NOT NULL,
        name TEXT,
        command TEXT,
        status TEXT NOT NULL,
        submitted_at REAL NOT NULL,
        ended_at REAL,
        exit_code INTEGER,
        PRIMARY KEY(cluster, id)
    );
    CREATE TABLE jobs(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        task_json TEXT NOT NULL,
        cluster TEXT,
        cloud TEXT,
        region TEXT,
        zone TEXT,
        spot INTEGER NOT NULL DEFAULT 0,
        recoveries INTEGER NOT NULL DEFAULT 0,
        restarts_on_errors INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        submitted_at REAL NOT NULL,
        started_at REAL,
        ended_at REAL,
        last_event TEXT,
        task_id TEXT NOT NULL,
        user TEXT NOT NULL,
        next_try_at REAL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX jobs_status ON jobs(status);
    CREATE TABLE attempts(
        job_id INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        cluster TEXT NOT NULL,
        cloud TEXT,
        region TEXT,
        zone TEXT,
        request_id TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        end_reason TEXT,
        exit_code INTEGER,
        PRIMARY KEY(job_id, attempt)
    );
    CREATE TABLE usage_intervals(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        cluster TEXT NOT NULL,
        node INTEGER NOT NULL,
        job_id INTEGER,
        attempt INTEGER,
        user TEXT NOT NULL,
        cloud TEXT NOT NULL,
        region TEXT NOT NULL,
        zone TEXT,
        instance_type TEXT NOT NULL,
        accelerator TEXT,
        accelerator_count INTEGER NOT NULL DEFAULT 0,
        spot INTEGER NOT NULL DEFAULT 0,
        price_per_hour REAL NOT NULL,
        on_demand_price_per_hour REAL NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        end_reason TEXT,
        estimate_source TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT 'compute'
    );
    CREATE INDEX usage_open ON usage_intervals(cluster, ended_at);
    CREATE INDEX usage_time ON usage_intervals(started_at);
    CREATE TABLE events(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts REAL NOT NULL,
        kind TEXT NOT NULL,
        cluster TEXT,
        job_id INTEGER,
        message TEXT NOT NULL,
        reason TEXT
    );
    CREATE INDEX events_ts ON events(ts);
    CREATE TABLE gpu_minutes(
        cluster TEXT NOT NULL,
        node INTEGER NOT NULL,
        gpu_index INTEGER NOT NULL,
        minute INTEGER NOT NULL,
        utilization REAL,
        memory_used_mib REAL,
        power_w REAL,
        PRIMARY KEY(cluster, node, gpu_index, minute)
    );
    """,
    # 2: open usage intervals (a handful) found without scanning the whole history, for the
    # dashboard's spend rate, which is read on every store change.
    """
    CREATE INDEX usage_still_open ON usage_intervals(started_at) WHERE ended_at IS NULL;
    """,
    # 3 (nearest region): the last latency probe of each (cloud, region), with the URL and the
    # network it was measured from, so a new network or a changed target is not served stale.
    """
    CREATE TABLE region_latency(
        cloud TEXT NOT NULL,
        region TEXT NOT NULL,
        url TEXT NOT NULL,
        network TEXT NOT NULL,
        rtt_ms REAL,
        first_ms REAL,
        samples INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        measured_at REAL NOT NULL,
        PRIMARY KEY(cloud, region)
    );
    """,
    # 4 (storage mounts): the buckets skytui created, so that only those are ever deleted
    # (`persistent: false`, on `down` of their cluster or at the end of their managed job).
    """
    CREATE TABLE buckets(
        store TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at REAL NOT NULL,
        cluster TEXT,
        job_id INTEGER,
        user TEXT NOT NULL,
        persistent INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY(store, name)
    );
    """,
    # 5 (hardening, issue 12): this store's identity. Every instance it launches carries it as a
    # tag, so a store started afresh (the old file lost or moved aside) never takes the old
    # store's instances for its own: job ids restart, identities do not. And an index so the
    # per-minute GPU history can be pruned by age (store/retention.py).
    """
    CREATE TABLE store_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO store_meta(key, value) VALUES ('store_id', lower(hex(randomblob(16))));
    CREATE INDEX gpu_minutes_minute ON gpu_minutes(minute);
    """,
    # 6 (recovery without loss, issue 13): when the cloud's preemption notice reached an
    # attempt's node, so the Events view and `skytui jobs ID` can show notice -> preempted.
    """
    ALTER TABLE attempts ADD COLUMN notice_at REAL;
    """,
    # 7 (Costs view, issue 15): per-day sums of closed usage intervals kept by triggers, so the
    # Costs view reads a few thousand sums instead of pricing every interval of the window.
    usage_sums.MIGRATION,
)

SCHEMA_VERSION = len(MIGRATIONS)
