"""Load a task YAML file (SkyPilot's dialect) into a validated `Task`, or fail on one line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skytui.errors import TaskError
from skytui.task import compat
from skytui.task.envsub import REFERENCE, Clash, fill_node
from skytui.task.fields import ENV_NAME, Reader
from skytui.task.resources import RESOURCE_FIELDS, resolve_resources
from skytui.task.spec import GitWorkdir, Task
from skytui.task.storage import StorageMount, is_bucket_url, read_mapping_mount, read_url_mount
from skytui.task.yamlnodes import MAX_CHARS, Node, compose_all, line_col

TASK_FIELDS = ("name", "workdir", "num_nodes", "envs", "secrets", "file_mounts", "setup", "run",
               "resources", "config")

# Keys people put at the top level of SkyPilot files that skytui reads differently or not at all.
_HINTS = {
    **{n: f"'{n}' belongs under resources:" for n in RESOURCE_FIELDS},
    **{n: f"skytui does not support SkyPilot's '{n}'; remove it"
       for n in ("event_callback", "file_mounts_mapping", "managed_secrets")},
}


def load_task(path: str | Path, *, env_overrides: dict[str, str] | None = None,
              extra_accelerators: tuple[str, ...] = ()) -> Task:
    """Read and validate the task file at `path`; `env_overrides` are the `--env` values."""
    text = _read(path)
    return load_task_text(text, str(path), env_overrides=env_overrides,
                          extra_accelerators=extra_accelerators)


def load_pipeline(path: str | Path, *, env_overrides: dict[str, str] | None = None,
                  extra_accelerators: tuple[str, ...] = ()) -> Pipeline:
    """Read a file of one task or of several ('---' between them, run one after another)."""
    return load_pipeline_text(_read(path), str(path), env_overrides=env_overrides,
                              extra_accelerators=extra_accelerators)


def _read(path: str | Path) -> str:
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
    return text


@dataclass
class Pipeline:
    """The tasks of one file, run one after another (one task: a pipeline of one)."""

    tasks: list[Task]
    name: str | None = None  # from the header document (`name:` alone), if any
    source: str | None = None

    @property
    def is_chain(self) -> bool:
        return len(self.tasks) > 1


def load_task_text(text: str, source: str = "<task>", *,
                   env_overrides: dict[str, str] | None = None,
                   extra_accelerators: tuple[str, ...] = ()) -> Task:
    """Validate task YAML given as text; `source` names it in error messages."""
    pipe = load_pipeline_text(text, source, env_overrides=env_overrides,
                              extra_accelerators=extra_accelerators)
    if pipe.is_chain:
        names = ", ".join(t.name or f"#{i}" for i, t in enumerate(pipe.tasks, 1))
        raise TaskError(f"the file holds a pipeline of {len(pipe.tasks)} tasks ({names})",
                        f"run it as one managed job with `skytui jobs launch {source}`",
                        file=source)
    return pipe.tasks[0]


def load_pipeline_text(text: str, source: str = "<task>", *,
                       env_overrides: dict[str, str] | None = None,
                       extra_accelerators: tuple[str, ...] = ()) -> Pipeline:
    """Validate a file of one task or a chain of tasks given as text."""
    try:
        return _load_all(text, source, env_overrides or {}, tuple(extra_accelerators))
    except TaskError:
        raise
    except RecursionError:
        raise TaskError("the YAML nests too deeply", "simplify the file", file=source) from None
    except Exception as e:  # noqa: BLE001 - bad input must never show a traceback
        raise TaskError(f"internal error reading the task ({type(e).__name__}: {e})",
                        "please report this with the file", file=source) from None


def _load_all(text: str, source: str, env_overrides: dict[str, str],
              extra: tuple[str, ...]) -> Pipeline:
    text = text.removeprefix("\ufeff")
    docs = [d for d in compose_all(text, source) if not _is_null_doc(d)]
    if not docs:
        raise TaskError("the task file is empty", "give at least `run:` or `resources:`",
                        file=source)
    r = Reader(source)
    name = None
    if len(docs) > 1 and docs[0] is not None and docs[0].kind == "map":
        head: dict[str, Node] = docs[0].value
        for key in compat.JOB_GROUP_KEYS:
            if key in head:
                raise r.fail(docs[0].keys[key], key, *compat.JOB_GROUP_REFUSAL)
        if set(head) <= {"name"}:  # a pipeline's header: its name only
            name = r.text(head["name"], "name", what="a name") if head else None
            docs = docs[1:]
    tasks = [_load(doc, source, env_overrides, extra) for doc in docs]
    return Pipeline(tasks, name, source)


def _is_null_doc(node: Node | None) -> bool:
    return node is None or _is_null(node)


def _load(root: Node | None, source: str, env_overrides: dict[str, str],
          extra: tuple[str, ...]) -> Task:
    r = Reader(source)
    if root is None:
        raise TaskError("the task file is empty", "give at least `run:` or `resources:`",
                        file=source)
    if root.kind != "map":
        raise r.fail(root, "", f"a task file is a mapping of fields, got {root.describe()}",
                     "start with fields such as 'resources:' and 'run:'")
    fields: dict[str, Node] = root.value
    for key in fields:  # a feature left out on purpose: one line, before anything else
        if key in compat.TOP_LEVEL:
            raise r.fail(root.keys[key], key, *compat.TOP_LEVEL[key])
    r.check_keys(root, "", TASK_FIELDS, _HINTS)
    task = Task(source=source)
    # Resources first: a task no cloud skytui runs on can meet is refused in one line,
    # whatever else the file holds.
    got = None
    with r.gather():
        got = resolve_resources(r, fields.get("resources"), extra)
    config_notes: list[str] = []
    with r.gather():
        if "config" in fields:
            config_notes = _config(r, fields["config"])
    with r.gather():
        if "name" in fields:
            task.name = r.text(fields["name"], "name", what="a name")
    with r.gather():
        if "num_nodes" in fields and not _is_null(fields["num_nodes"]):
            task.num_nodes = r.integer(fields["num_nodes"], "num_nodes", minimum=1,
                                       what="the number of nodes")
    with r.gather():
        if "envs" in fields:
            task.envs = r.env_map(fields["envs"], "envs")
    with r.gather():
        if "secrets" in fields:
            task.secrets = r.env_map(fields["secrets"], "secrets")
            for name in task.secrets:
                if name in task.envs:
                    raise r.fail(fields["secrets"].keys[name], "secrets",
                                 f"{name} is in both envs and secrets", "keep it in one of them")
    # SkyPilot fills the envs and secrets (after --env) into workdir and file_mounts.
    values = _env_values(task, env_overrides)
    with r.gather():
        if "workdir" in fields:
            _workdir(r, _filled(r, fields["workdir"], "workdir", values), task)
    with r.gather():
        if "file_mounts" in fields:
            _no_secrets(r, fields["file_mounts"], "file_mounts", tuple(task.secrets))
            task.file_mounts, task.storage_mounts = _file_mounts(
                r, _filled(r, fields["file_mounts"], "file_mounts", values),
                tuple(k for k, v in values.items() if v is None))
    for script in ("setup", "run"):
        with r.gather():
            if script in fields:
                setattr(task, script, r.text(fields[script], script, what="a shell script"))
    r.finish()
    assert got is not None  # finish() raised otherwise
    task.resources, task.resources_ordered = got.resources, got.ordered
    task.notes = got.notes + tuple(config_notes)
    _apply_env_overrides(task, env_overrides, source)
    return task


def _config(r: Reader, node: Node) -> list[str]:
    """SkyPilot settings inside a task: noted and left out. `config.kubernetes` (pod specs and
    the like) applies only when SkyPilot runs the task on Kubernetes, which skytui does not;
    SkyPilot itself ignores it on AWS and GCP, so the task runs as it would there."""
    if _is_null(node):
        return []
    fields = r.mapping(node, "config")
    notes = []
    for k in fields:
        why = ("it applies only on Kubernetes, where skytui does not run tasks" if k == "kubernetes"
               else "skytui does not apply SkyPilot settings given in a task")
        notes.append(f"{r.source}:{node.keys[k].line}:{node.keys[k].col}: left out config.{k}: {why}")
    return notes


def _workdir(r: Reader, node: Node, task: Task) -> None:
    """A local directory, or `{url, ref}`: a git checkout made on the node."""
    if node.kind != "map":
        task.workdir = r.text(node, "workdir", what="a directory path")
        return
    fields = r.mapping(node, "workdir")
    r.check_keys(node, "workdir", ("url", "ref"))
    if "url" not in fields:
        raise r.fail(node, "workdir", "a git workdir needs its `url`",
                     "write workdir: {url: https://github.com/org/repo.git, ref: main}")
    url = r.text(fields["url"], "workdir.url", allow_null=False, what="a git URL") or ""
    if url.startswith("-") or any(ch.isspace() for ch in url):
        raise r.fail(fields["url"], "workdir.url", f"{url!r} is not a git URL",
                     "give an https:// or git@ URL")
    ref = r.text(fields["ref"], "workdir.ref", what="a branch, tag or commit") \
        if "ref" in fields else None
    if ref is not None and (ref.startswith("-") or any(ch.isspace() for ch in ref)):
        raise r.fail(fields["ref"], "workdir.ref", f"{ref!r} is not a git ref",
                     "give a branch, tag or commit")
    task.workdir_git = GitWorkdir(url, ref)


def _is_null(node: Node) -> bool:
    return node.kind == "scalar" and node.value is None


def _env_values(task: Task, overrides: dict[str, str]) -> dict[str, str | None]:
    """What `$NAME` means in file_mounts and workdir: the task's envs, `--env` winning.

    Secrets are left out on purpose (SkyPilot's docs also name envs only): a bucket name or a
    path is shown in plans, Events and the state store, and a secret must never reach those.
    """
    values: dict[str, str | None] = dict(task.envs)
    values.update((k, str(v)) for k, v in overrides.items() if k not in task.secrets)
    return values


def _no_secrets(r: Reader, node: Node, where: str, secrets: tuple[str, ...]) -> None:
    """Refuse a `$SECRET` in file_mounts at its place, saying why (see `_env_values`).

    SkyPilot fills secrets there too; skytui does not, as a bucket name or path is shown in
    plans, Events and the state store. A one-line refusal beats an "invalid name" later.
    """
    if not secrets:
        return
    texts: list[tuple[Node, str, str]] = []
    if node.kind == "map":
        for key, value in node.value.items():
            texts.append((node.keys[key], where, key))
            sub = f"{where}.{key}"
            if value.kind == "map":
                texts += [(v, f"{sub}.{k}", v.value) for k, v in value.value.items()
                          if v.kind == "scalar" and isinstance(v.value, str)]
                texts += [(item, f"{sub}.{k}", item.value) for k, v in value.value.items()
                          if v.kind == "seq" for item in v.value
                          if item.kind == "scalar" and isinstance(item.value, str)]
            elif value.kind == "scalar" and isinstance(value.value, str):
                texts.append((value, sub, value.value))
    for at, field, text in texts:
        for m in REFERENCE.finditer(text):
            name = m.group(1) or m.group(2)
            if name in secrets:
                raise r.fail(at, field, f"${name} is a secret, and skytui fills only envs into "
                             "file_mounts (bucket names and paths show in plans and the state)",
                             f"declare {name} under envs instead (then --env can give it)")


def _filled(r: Reader, node: Node, field: str, values: dict[str, str | None]) -> Node:
    try:
        return fill_node(node, values)
    except Clash as e:
        raise r.fail(e.node, field, f"two entries are both {e.key!r} once envs are filled in",
                     "give each a different path") from None


def _file_mounts(r: Reader, node: Node, unset_envs: tuple[str, ...] = ()
                 ) -> tuple[dict[str, str], dict[str, StorageMount]]:
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
            buckets[remote] = read_mapping_mount(r, remote, value, field, unset_envs)
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
