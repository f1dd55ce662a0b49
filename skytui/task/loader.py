"""Load a task YAML file (SkyPilot's dialect) into a validated `Task`, or fail on one line."""

from __future__ import annotations

from pathlib import Path

from skytui.errors import TaskError
from skytui.task.fields import ENV_NAME, Reader
from skytui.task.resources import RESOURCE_FIELDS, read_resources
from skytui.task.spec import Task
from skytui.task.storage import StorageMount, is_bucket_url, read_mapping_mount, read_url_mount
from skytui.task.yamlnodes import MAX_CHARS, Node, compose, line_col

TASK_FIELDS = ("name", "workdir", "num_nodes", "envs", "secrets", "file_mounts", "setup", "run",
               "resources")

# Keys people put at the top level of SkyPilot files that skytui reads differently or not at all.
_HINTS = {
    **{n: f"'{n}' belongs under resources:" for n in RESOURCE_FIELDS},
    **{n: f"skytui does not support SkyPilot's '{n}'; remove it"
       for n in ("service", "event_callback", "config", "volumes", "inputs", "outputs",
                 "file_mounts_mapping", "pool")},
}


def load_task(path: str | Path, *, env_overrides: dict[str, str] | None = None,
              extra_accelerators: tuple[str, ...] = ()) -> Task:
    """Read and validate the task file at `path`; `env_overrides` are the `--env` values."""
    source = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CHARS * 4 + 1)
    except FileNotFoundError:
        raise TaskError("task file not found", "check the path", file=source) from None
    except IsADirectoryError:
        raise TaskError("is a directory, not a task file", "give the YAML file's path",
                        file=source) from None
    except OSError as e:
        raise TaskError(f"cannot read task file: {e.strerror or e}", "check the file's permissions",
                        file=source) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = data[: e.start].decode("utf-8", "replace")
        line, col = line_col(before, len(before))
        raise TaskError(f"byte {data[e.start]:#04x} is not UTF-8 text", "save the file as UTF-8",
                        file=source, line=line, col=col) from None
    return load_task_text(text, source, env_overrides=env_overrides,
                          extra_accelerators=extra_accelerators)


def load_task_text(text: str, source: str = "<task>", *,
                   env_overrides: dict[str, str] | None = None,
                   extra_accelerators: tuple[str, ...] = ()) -> Task:
    """Validate task YAML given as text; `source` names it in error messages."""
    try:
        return _load(text, source, env_overrides or {}, tuple(extra_accelerators))
    except TaskError:
        raise
    except RecursionError:
        raise TaskError("the YAML nests too deeply", "simplify the file", file=source) from None
    except Exception as e:  # noqa: BLE001 - bad input must never show a traceback
        raise TaskError(f"internal error reading the task ({type(e).__name__}: {e})",
                        "please report this with the file", file=source) from None


def _load(text: str, source: str, env_overrides: dict[str, str],
          extra: tuple[str, ...]) -> Task:
    text = text.removeprefix("\ufeff")
    root = compose(text, source)
    r = Reader(source)
    if root is None:
        raise TaskError("the task file is empty", "give at least `run:` or `resources:`",
                        file=source)
    if root.kind != "map":
        raise r.fail(root, "", f"a task file is a mapping of fields, got {root.describe()}",
                     "start with fields such as 'resources:' and 'run:'")
    r.check_keys(root, "", TASK_FIELDS, _HINTS)
    fields: dict[str, Node] = root.value
    task = Task(source=source)
    if "name" in fields:
        task.name = r.text(fields["name"], "name", what="a name")
    if "workdir" in fields:
        node = fields["workdir"]
        if node.kind == "map":
            raise r.fail(node, "workdir", "a git workdir (mapping) is not supported",
                         "give a local directory path")
        task.workdir = r.text(node, "workdir", what="a directory path")
    if "num_nodes" in fields and not _is_null(fields["num_nodes"]):
        task.num_nodes = r.integer(fields["num_nodes"], "num_nodes", minimum=1,
                                   what="the number of nodes")
    if "envs" in fields:
        task.envs = r.env_map(fields["envs"], "envs")
    if "secrets" in fields:
        task.secrets = r.env_map(fields["secrets"], "secrets")
        for name in task.secrets:
            if name in task.envs:
                raise r.fail(fields["secrets"].keys[name], "secrets",
                             f"{name} is in both envs and secrets", "keep it in one of them")
    if "file_mounts" in fields:
        task.file_mounts, task.storage_mounts = _file_mounts(r, fields["file_mounts"])
    for script in ("setup", "run"):
        if script in fields:
            setattr(task, script, r.text(fields[script], script, what="a shell script"))
    task.resources, task.resources_ordered = read_resources(r, fields.get("resources"), extra)
    _apply_env_overrides(task, env_overrides, source)
    return task


def _is_null(node: Node) -> bool:
    return node.kind == "scalar" and node.value is None


def _file_mounts(r: Reader, node: Node) -> tuple[dict[str, str], dict[str, StorageMount]]:
    """Local paths to sync, and bucket mounts (a mapping, or a bucket URL as the value)."""
    if _is_null(node):
        return {}, {}
    out: dict[str, str] = {}
    buckets: dict[str, StorageMount] = {}
    for remote, value in r.mapping(node, "file_mounts").items():
        field = f"file_mounts.{remote}"
        if not remote.strip():
            raise r.fail(node.keys[remote], "file_mounts", "empty remote path",
                         "write 'remote path: local path'")
        if value.kind == "map":
            buckets[remote] = read_mapping_mount(r, remote, value, field)
            continue
        local = r.text(value, field, allow_null=False, what="a local path or bucket URL")
        if local and is_bucket_url(local):
            buckets[remote] = read_url_mount(r, remote, value, field)
            continue
        out[remote] = local or ""  # '~' is expanded by the launcher, on the right machine
    return out, buckets


def _apply_env_overrides(task: Task, overrides: dict[str, str], source: str) -> None:
    """`--env NAME=VALUE` fills a null or replaces a value; new names become envs."""
    for name, value in overrides.items():
        if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
            raise TaskError(f"invalid variable name {name!r} in --env",
                            "use letters, digits and '_', not starting with a digit",
                            file=source, field="envs")
        target = task.secrets if name in task.secrets else task.envs
        target[name] = str(value)
