"""SkyPilot compatibility: load and plan every task file of a folder, as `launch --dry-run` would.

    python -m bench.bench_compat /path/to/skypilot/checkout [--list]

Give it a checkout of SkyPilot (its `examples/` and `llm/` are read) or any folder of task
YAMLs. Each file is classified from its raw YAML, independently of skytui's loader:

- not a task: a YAML file that is no SkyPilot task (Kubernetes manifests, configs, ...);
- out of scope: uses a feature skytui leaves out on purpose (SkyServe, pools, Kubernetes,
  other clouds, including a bucket in another cloud's object store such as `store: nebius`
  or `r2://`, TPUs, parallel job groups, SkyPilot volumes, legacy inputs/outputs);
- in scope: everything else; "storage" marks files with storage mounts (mapping-form
  file_mounts), a feature that lands separately.

"Plan" is what `launch --dry-run` does with every cloud enabled: load the file, plan its
resources, and keep only clouds whose nodes can mount every bucket (the storage check that
`launch` applies; before it was run here, files whose buckets no offered cloud could mount
were counted as planned).

It prints how many in-scope files plan, how out-of-scope files were refused (in one line
naming the feature), crashes, and the median load + plan time. No SkyPilot file is copied.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SKY_TASK_KEYS = {
    "name", "workdir", "event_callback", "num_nodes", "resources", "file_mounts", "service",
    "pool", "setup", "run", "envs", "secrets", "managed_secrets", "inputs", "outputs",
    "volumes", "config",
}
HEADER_KEYS = {"name", "execution", "primary_tasks", "termination_delay"}
OURS = {"aws", "gcp", "local"}
# What a refusal must name, per out-of-scope feature (case-insensitive).
FEATURE_WORDS = {
    "SkyServe": "skyserve", "pool": "pool", "volumes": "volumes",
    "inputs/outputs": "inputs", "job group": "job group", "Kubernetes": "kubernetes",
    "other cloud": "aws, gcp and local", "TPU": "tpu",
}

# Other clouds' object stores, as SkyPilot names them in `store:` and as bucket URL schemes
# (Azure's URLs are https://ACCOUNT.blob.core.windows.net/...).
OTHER_STORES = {"azure", "r2", "ibm", "oci", "nebius", "coreweave", "cos", "cw"}
OTHER_SCHEMES = {"r2", "cos", "oci", "nebius", "cw"}
_ENV_REF = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_AZURE_URL = re.compile(r"https://[a-z0-9]+\.blob\.core\.windows\.net(/|$)", re.IGNORECASE)


def task_files(folder: Path) -> list[Path]:
    roots = [folder / d for d in ("examples", "llm") if (folder / d).is_dir()] or [folder]
    return sorted(p for r in roots for p in r.rglob("*") if p.suffix in (".yaml", ".yml")
                  and p.is_file())


def _docs(path: Path) -> list[Any] | None:
    try:
        return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError):
        return None


def is_task(docs: list[Any] | None) -> bool:
    if not docs or not all(isinstance(d, dict) for d in docs):
        return False
    body = docs[1:] if len(docs) > 1 and set(docs[0]) <= HEADER_KEYS else docs
    return bool(body) and all(set(d) <= SKY_TASK_KEYS and set(d) - {"name"} for d in body)


def _alternatives(res: Any) -> list[dict[str, Any]]:
    if not isinstance(res, dict):
        return [{}]
    alts = res.get("any_of") or res.get("ordered")
    if not isinstance(alts, list):
        return [res]
    return [{**res, **(a if isinstance(a, dict) else {})} for a in alts]


def _accelerator_names(acc: Any) -> list[str]:
    if isinstance(acc, dict):
        return [str(k).split(":")[0] for k in acc]
    if isinstance(acc, list):
        return [n for a in acc for n in _accelerator_names(a)]
    if isinstance(acc, str):
        return [p.strip(" {}'\"").split(":")[0] for p in acc.split(",")]
    return []


def _alt_reason(alt: dict[str, Any]) -> str | None:
    cloud = alt.get("cloud") or str(alt.get("infra") or "").split("/")[0]
    cloud = str(cloud or "").strip().lower()
    if cloud in ("kubernetes", "k8s"):
        return "Kubernetes"
    if cloud and cloud not in OURS and cloud != "*":
        return "other cloud"
    names = _accelerator_names(alt.get("accelerators") or alt.get("gpus"))
    if names and all(n.lower().startswith("tpu") for n in names):
        return "TPU"
    return None


def _other_cloud_store(doc: dict[str, Any]) -> bool:
    """Whether a storage mount needs another cloud's object store (after the file's envs)."""
    envs = doc.get("envs") if isinstance(doc.get("envs"), dict) else {}

    def sub(v: Any) -> str:
        return _ENV_REF.sub(lambda m: str(envs.get(m.group(1) or m.group(2), m.group(0))), str(v))

    def other_url(v: Any) -> bool:
        text = sub(v).strip()
        return text.split("://")[0].lower() in OTHER_SCHEMES or bool(_AZURE_URL.match(text))

    mounts = doc.get("file_mounts")
    for v in (mounts.values() if isinstance(mounts, dict) else ()):
        if isinstance(v, str) and other_url(v):
            return True
        if isinstance(v, dict):
            if sub(v.get("store") or "").lower() in OTHER_STORES:
                return True
            src = v.get("source")
            if any(other_url(x) for x in (src if isinstance(src, list) else [src]) if x):
                return True
    return False


def out_of_scope(docs: list[Any]) -> set[str]:
    reasons: set[str] = set()
    if len(docs) > 1 and set(docs[0]) & (HEADER_KEYS - {"name"}):
        reasons.add("job group")
    for d in docs:
        for key, reason in (("service", "SkyServe"), ("pool", "pool"), ("volumes", "volumes"),
                            ("inputs", "inputs/outputs"), ("outputs", "inputs/outputs")):
            if key in d:
                reasons.add(reason)
        if _other_cloud_store(d):
            reasons.add("other cloud")
        res = d.get("resources")
        if isinstance(res, dict) and "volumes" in res:
            reasons.add("volumes")
        if "resources" in d or "run" in d:
            why = [_alt_reason(a) for a in _alternatives(res)]
            if why and all(why):
                reasons.update(w for w in why if w)
        # A task's `config.kubernetes` (pod specs) applies only when SkyPilot runs it on
        # Kubernetes; on AWS and GCP SkyPilot ignores it, so it does not make a task Kubernetes's.
    return reasons


def has_storage_mounts(docs: list[Any]) -> bool:
    return any(isinstance(d.get("file_mounts"), dict)
               and any(isinstance(v, dict) for v in d["file_mounts"].values()) for d in docs)


def without_storage_mounts(docs: list[Any]) -> str:
    """The file with its storage mounts (mapping-form file_mounts) taken out, as YAML text."""
    out = []
    for d in docs:
        d = dict(d)
        if isinstance(d.get("file_mounts"), dict):
            d["file_mounts"] = {k: v for k, v in d["file_mounts"].items()
                                if not isinstance(v, dict)} or None
        out.append(d)
    return yaml.safe_dump_all(out, sort_keys=False)


def load_and_plan(path: Path, text: str | None = None) -> tuple[str, str, float]:
    """('planned' | 'refused' | 'crash', message, seconds for load + plan)."""
    from skytui.core.planner import plan
    from skytui.core.storage.attach import restrict_plan
    from skytui.errors import SkytuiError
    from skytui.task.loader import load_pipeline, load_pipeline_text

    t0 = time.process_time()
    try:
        pipe = load_pipeline(path) if text is None else load_pipeline_text(text, str(path))
        for task in pipe.tasks:
            envs = dict.fromkeys(task.missing_envs(), "x")  # as --env would give them
            task.envs.update({k: v for k, v in envs.items() if k in task.envs})
            p = plan(task.resources, ordered=task.resources_ordered, num_nodes=task.num_nodes,
                     enabled_clouds=("aws", "gcp", "local"), limit=None)
            if task.storage_mounts:  # as `launch --dry-run`: only clouds that mount every bucket
                restrict_plan(task, p)
    except SkytuiError as e:
        text = str(e)
        kind = "crash" if "internal error" in text else "refused"
        return kind, text, time.process_time() - t0
    except Exception as e:  # noqa: BLE001 - a crash is what this bench counts
        return "crash", f"{type(e).__name__}: {e}", time.process_time() - t0
    return "planned", "", time.process_time() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--list", action="store_true", help="list every file that did not plan")
    args = ap.parse_args(argv)
    from skytui.catalog import for_cloud

    for c in ("aws", "gcp", "local"):
        for_cloud(c)  # the catalog is loaded once, before timing
    files = task_files(args.folder)
    counts: Counter[str] = Counter()
    refused_by: Counter[str] = Counter()
    oos_by: Counter[str] = Counter()
    oos_bad: list[str] = []
    in_fail: list[tuple[str, str, bool]] = []
    crashes: list[str] = []
    times: list[float] = []
    floors: list[float] = []
    storage_total = storage_planned = storage_aside = 0
    for path in files:
        rel = str(path.relative_to(args.folder))
        docs = _docs(path)
        if not is_task(docs):
            counts["not a task"] += 1
            continue
        assert docs is not None
        outcome, msg, secs = load_and_plan(path)
        # Timing: the best of three (the machine may be shared), against the floor of
        # parsing the same text with libyaml alone.
        times.append(min(secs, *(load_and_plan(path)[2] for _ in range(2))))
        floors.append(_parse_floor(path))
        if outcome == "crash":
            crashes.append(f"{rel}: {msg}")
        reasons = out_of_scope(docs)
        if reasons:
            counts["out of scope"] += 1
            for r_ in reasons:
                oos_by[r_] += 1
            words = [FEATURE_WORDS[r_] for r_ in reasons]
            one_line = outcome == "refused" and "\n" not in msg
            named = any(w in msg.lower() for w in words) and "unknown field" not in msg
            if not (one_line and named):
                oos_bad.append(f"{rel} [{', '.join(sorted(reasons))}] {outcome}: {msg}")
            continue
        storage = has_storage_mounts(docs)
        counts["in scope"] += 1
        storage_total += storage
        if outcome == "planned":
            counts["in scope planned"] += 1
            storage_planned += storage
        else:
            in_fail.append((rel, msg, storage))
            if not storage:
                refused_by[_reason(msg)] += 1
        if storage:
            storage_aside += load_and_plan(path, without_storage_mounts(docs))[0] == "planned"
    n_in = counts["in scope"]
    n_in_ns = n_in - storage_total
    planned_ns = counts["in scope planned"] - storage_planned
    print(f"corpus: {args.folder} ({len(files)} YAML files)")
    print(f"not a task file: {counts['not a task']}; task files: {n_in + counts['out of scope']}")
    print(f"in scope: {counts['in scope planned']}/{n_in} plan "
          f"({100 * counts['in scope planned'] / max(n_in, 1):.1f} %)")
    print(f"in scope without storage mounts: {planned_ns}/{n_in_ns} plan "
          f"({100 * planned_ns / max(n_in_ns, 1):.1f} %); with storage mounts: "
          f"{storage_planned}/{storage_total}; of those, {storage_aside}/{storage_total} plan "
          "once their storage mounts are set aside (what they need besides storage mounts)")
    ok = counts["out of scope"] - len(oos_bad)
    print(f"out of scope: {ok}/{counts['out of scope']} refused in one line naming the feature "
          f"(" + ", ".join(f"{k} {v}" for k, v in oos_by.most_common()) + ")")
    print(f"crashes: {len(crashes)}")
    for c in crashes:
        print(f"  CRASH {c}")
    if refused_by:
        print("in-scope refusals (without storage mounts), by reason:")
        for reason, n in refused_by.most_common():
            print(f"  {n:3d}  {reason}")
    if times:
        times.sort()
        med, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
        floor = statistics.median(floors)
        print(f"load + plan per task file (CPU time, best of 3): median {med * 1e3:.2f} ms "
              f"({med / floor:.1f}x the floor), p95 {p95 * 1e3:.2f} ms, max "
              f"{times[-1] * 1e3:.2f} ms; target under 20 ms. Floor: libyaml parse of the "
              f"same file, median {floor * 1e3:.3f} ms")
    if args.list:
        for rel, msg, storage in in_fail:
            print(f"  IN {'[storage] ' if storage else ''}{rel}: {msg.splitlines()[0][:200]}")
        for line in oos_bad:
            print(f"  OOS {line[:240]}")
    return 0


def _parse_floor(path: Path) -> float:
    text = path.read_text()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        list(yaml.load_all(text, Loader=loader))
        best = min(best, time.process_time() - t0)
    return best


def _reason(msg: str) -> str:
    """A refusal without its file position and values, to group alike ones."""
    first = msg.splitlines()[0]
    parts = first.split(": ", 2)
    text = parts[-1] if len(parts) > 1 else first
    return text.split(";")[0][:90]


if __name__ == "__main__":
    raise SystemExit(main())
