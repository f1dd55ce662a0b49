"""How often the watcher looks and how patient it is; from the config, tunable for tests."""

from __future__ import annotations

from dataclasses import dataclass

from skytui.config_model import Config


@dataclass(frozen=True)
class WatcherSettings:
    poll_seconds: float = 5.0  # one list call per (cloud, region) per round
    job_check_seconds: float = 15.0  # (3 polls) how often a running job's node is asked for its state (SSH)
    # Node checks cost an SSH round trip (~3.4 ms of our CPU each): with many jobs they are
    # spread out so an idle watcher stays near 1% of a core (200 jobs: one check each 70 s).
    job_check_per_job_seconds: float = 0.35
    backoff_seconds: float = 5.0
    backoff_max_seconds: float = 120.0
    no_resource_timeout_seconds: float = 600.0
    unreachable_limit: int = 4  # consecutive failed checks of a node the provider says is running
    max_gone: int = 3  # consecutive attempts whose job vanished without an exit code
    autostop_check_seconds: float = 60.0
    minute_seconds: float = 60.0  # the length of an autostop minute (tests shorten it)
    stop_grace_seconds: float = 30.0  # how long SIGTERM waits for the step in hand
    # Live log capture (core/jobs/capture.py): concurrent streams, and with more running
    # attempts than that, how long each streams before the next waiting one takes its turn.
    log_streams: int = 64
    log_turn_seconds: float = 20.0

    @classmethod
    def from_config(cls, cfg: Config, **overrides: float) -> WatcherSettings:
        poll = cfg.watcher_poll_seconds
        values = {"poll_seconds": poll, "job_check_seconds": poll * 3,
                  "backoff_seconds": cfg.recovery_backoff_seconds,
                  "backoff_max_seconds": cfg.recovery_backoff_max_seconds,
                  "no_resource_timeout_seconds": cfg.no_resource_timeout_seconds}
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
