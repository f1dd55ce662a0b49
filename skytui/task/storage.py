"""Storage mounts in a task file: SkyPilot's bucket forms of `file_mounts`, read and checked.

Two forms, as SkyPilot accepts them:

    file_mounts:
      /data: s3://bucket/path             # a bucket URL as the value: copied onto the node
      ~/ckpt:                             # a mapping: a bucket, mounted or copied
        name: my-ckpt                     # a bucket skytui creates when missing
        source: local://team/ckpt         # or an existing bucket URL (or a local dir to upload,
                                          #  or a list of local paths, each uploaded by name)
        store: s3 | gcs | local           # where `name` lives (default: the node's cloud)
        mode: MOUNT | COPY | MOUNT_CACHED # default MOUNT
        persistent: true                  # false: `down` deletes a bucket skytui created

`local://BUCKET/path` is skytui's own store: a directory outside every node's disk (see
`skytui.core.storage`). Everything here is syntax; whether a bucket exists, who owns it and
where it can be mounted are decided at plan and launch time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stored form (managed jobs) reads mounts back without PyYAML
    from skytui.errors import TaskError
    from skytui.task.fields import Reader
    from skytui.task.yamlnodes import Node

# URL scheme -> the store it names.
SCHEMES = {"s3": "s3", "gs": "gcs", "local": "local"}
STORES = ("s3", "gcs", "local")
MODES = ("MOUNT", "COPY", "MOUNT_CACHED")
# Stores SkyPilot knows that skytui does not mount: refused by name, never "unknown".
OTHER_STORES = ("azure", "r2", "ibm", "oci", "nebius", "coreweave", "cos", "cw")
# Their URL schemes (Azure's are https://ACCOUNT.blob.core.windows.net/...). These are other
# clouds' object stores, and skytui runs on AWS, GCP and local only: see OTHER_CLOUD_STORE.
OTHER_SCHEMES = ("r2", "cos", "oci", "nebius", "cw")
_AZURE_BLOB = re.compile(r"[a-z0-9]+\.blob\.core\.windows\.net(/.*)?", re.IGNORECASE | re.DOTALL)
# Problem and fix (';'-joined) for a bucket in another cloud's object store.
OTHER_CLOUD_STORE = ("{what} is another cloud's object store (skytui runs on AWS, GCP and local); "
                     "copy the data to an s3 or gcs bucket, or run this task with SkyPilot")
FIELDS = ("name", "source", "store", "mode", "persistent", "config", "_bucket_sub_path")
_INTERNAL = ("_is_sky_managed", "_force_delete")

# S3's rules (3-63 of lowercase letters, digits, '.', '-'; alphanumeric at both ends) plus
# '_' for GCS; the same rule for local buckets so a task can swap local:// for s3:// later.
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class StorageMount:
    """One bucket mount; `store` None means "the store of the cloud the node runs on"."""

    path: str  # where on the node ("~/ckpt", "/data")
    bucket: str
    store: str | None = None
    sub_path: str = ""  # inside the bucket, without leading or trailing '/'
    mode: str = "MOUNT"
    persistent: bool = True
    named: bool = False  # given by `name:` (skytui may create it), not by a bucket URL
    upload: str | None = None  # a local directory `source:` to upload into a named bucket
    line: int = field(default=0, compare=False)  # where the task file wrote it, for errors
    col: int = field(default=0, compare=False)
    # What must be given before a real launch, when the file leaves it open: `--env NAME=...`
    # (an env without a value in name/store), or a field path (a `name:` left empty). A dry
    # run plans without it: where a mount can go does not depend on its bucket's name.
    pending: str = ""
    # `source: [a, b]`: several local paths uploaded into one named bucket, as SkyPilot does:
    # a directory lands under its own name (bucket/b/...), a file at the bucket's top.
    uploads: tuple[str, ...] = ()

    def url(self, store: str | None = None) -> str:
        scheme = {v: k for k, v in SCHEMES.items()}[store or self.store or "local"]
        return f"{scheme}://{self.bucket}" + (f"/{self.sub_path}" if self.sub_path else "")


@dataclass(frozen=True)
class BucketURL:
    store: str
    bucket: str
    sub_path: str


def is_bucket_url(text: str) -> bool:
    """Whether a `file_mounts` value is a URL (a bucket), not a local path."""
    return _URL.fullmatch(text.strip()) is not None


def parse_bucket_url(text: str) -> BucketURL:
    """Split and check `SCHEME://BUCKET/path`; ValueError with the problem and fix, ';'-joined."""
    m = _URL.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a bucket URL; write s3://BUCKET/path, gs://... or local://...")
    scheme, rest = m.group(1).lower(), m.group(2)
    if scheme in OTHER_SCHEMES:
        raise ValueError(OTHER_CLOUD_STORE.format(what=f"{scheme}://"))
    if scheme == "https" and _AZURE_BLOB.fullmatch(rest):
        raise ValueError(OTHER_CLOUD_STORE.format(what="Azure Blob Storage"))
    if scheme not in SCHEMES:
        raise ValueError(f"unknown bucket scheme '{scheme}://'; skytui mounts s3://, gs:// and "
                         "local:// buckets")
    bucket, _, sub = rest.partition("/")
    check_bucket_name(bucket)
    return BucketURL(SCHEMES[scheme], bucket, check_sub_path(sub, strict=scheme == "local"))


def check_bucket_name(name: str) -> str:
    if not BUCKET_NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"invalid bucket name {name!r}; use 3-63 lowercase letters, digits, "
                         "'.', '-' or '_', starting and ending with a letter or digit")
    return name


def check_sub_path(sub: str, *, strict: bool) -> str:
    """A path inside a bucket. `strict` (local buckets, which are directories): every
    component must be a plain name, so the path cannot climb out of its bucket."""
    if _CONTROL.search(sub):
        raise ValueError("the path inside the bucket has a control character; remove it")
    trimmed = sub.rstrip("/")
    if not trimmed:
        return ""
    if strict:
        for part in trimmed.split("/"):
            if part in ("", ".", ".."):
                raise ValueError(f"the path {sub!r} inside a local bucket has an empty, '.' or "
                                 "'..' part; write a plain path such as local://BUCKET/dir/sub")
            if "\\" in part:
                raise ValueError(f"the path {sub!r} inside a local bucket has a backslash; use '/'")
    return trimmed


def check_node_path(path: str) -> str:
    """Where the mount goes on the node: absolute, or under HOME ('~/x' or a relative path)."""
    if not path.strip() or _CONTROL.search(path):
        raise ValueError("the mount path is empty or has a control character; write e.g. ~/ckpt or /data")
    if path.startswith("~") and not (path == "~" or path.startswith("~/")):
        raise ValueError(f"{path!r}: only '~/' (the node user's HOME) is understood; write ~/path")
    if path.rstrip("/") in ("", "~"):
        raise ValueError(f"cannot mount over {path!r}; mount at a directory below it, e.g. ~/ckpt")
    return path


def read_url_mount(r: Reader, path: str, node: Node, where: str) -> StorageMount:
    """`PATH: s3://bucket/path`: the bucket's contents copied onto the node at launch."""
    text = r.text(node, where, allow_null=False, what="a bucket URL") or ""
    url = _url(r, node, where, text)
    _node_path(r, node, where, path)
    return StorageMount(path=path, bucket=url.bucket, store=url.store, sub_path=url.sub_path,
                        mode="COPY", line=node.line, col=node.col)


def read_mapping_mount(r: Reader, path: str, node: Node, where: str,
                       unset_envs: tuple[str, ...] = ()) -> StorageMount:
    """The mapping form; see the module doc for the fields and their defaults. `unset_envs`:
    the task's envs that have no value yet (`$NAME` in name or store is then left open)."""
    fields = r.mapping(node, where)
    for internal in _INTERNAL:
        if internal in fields:
            raise r.fail(node.keys[internal], where, f"'{internal}' is SkyPilot's internal field",
                         "remove it")
    r.check_keys(node, where, FIELDS)
    _node_path(r, node, where, path)
    name = _scalar(r, fields, "name", where)
    open_envs: list[str] = []  # envs without a value that name or store still needs
    name_open = name is not None and _refers(name, unset_envs, open_envs)
    store_text = _scalar(r, fields, "store", where)
    store = None if store_text is not None and _refers(store_text, unset_envs, open_envs) \
        else _store(r, fields, where)
    mode = "MOUNT"
    if "mode" in fields and not _null(fields["mode"]):
        text = r.text(fields["mode"], f"{where}.mode", what="a mode") or ""
        mode = text.upper()
        if mode not in MODES:
            raise r.fail(fields["mode"], f"{where}.mode", f"unknown mode {text!r}",
                         "use MOUNT, COPY or MOUNT_CACHED")
    persistent = True
    if "persistent" in fields and not _null(fields["persistent"]):
        persistent = r.boolean(fields["persistent"], f"{where}.persistent")
    sub_path = ""
    if "_bucket_sub_path" in fields:
        sub = _scalar(r, fields, "_bucket_sub_path", where) or ""
        try:
            sub_path = check_sub_path(sub, strict=True)
        except ValueError as e:
            raise _fail(r, fields["_bucket_sub_path"], f"{where}._bucket_sub_path", e) from None
    src_node = fields.get("source")
    if src_node is not None and src_node.kind == "seq" and len(src_node.value) == 1:
        src_node = src_node.value[0]  # a list of one: that one source
    uploads: tuple[str, ...] = ()
    if src_node is not None and src_node.kind == "seq":
        uploads = _source_list(r, src_node, f"{where}.source")
        src_node = None
    source = None if src_node is None or _null(src_node) else \
        r.text(src_node, f"{where}.source", what="a source")
    if source is not None and src_node is not None and _PLACEHOLDER.fullmatch(source.strip()):
        raise _placeholder(r, src_node, f"{where}.source", source)
    common: dict[str, Any] = {"path": path, "mode": mode, "persistent": persistent,
                              "line": node.line, "col": node.col,
                              "pending": ", ".join(f"--env {n}=..." for n in open_envs),
                              "uploads": uploads}
    if source is not None and is_bucket_url(source):
        assert src_node is not None
        url = _url(r, src_node, f"{where}.source", source)
        if name is not None and not name_open and name != url.bucket:
            raise r.fail(fields["name"], f"{where}.name",
                         f"name {name!r} differs from the bucket of source ({url.bucket!r})",
                         "give either a name or a bucket URL as source, not both")
        if store is not None and store != url.store:
            raise r.fail(fields["store"], f"{where}.store",
                         f"store {store!r} does not match the source URL ({source})",
                         "remove store: the URL names the store")
        sub = "/".join(p for p in (url.sub_path, sub_path) if p)
        return StorageMount(bucket=url.bucket, store=url.store, sub_path=sub, **common)
    if name is None and "name" in fields:  # `name:` left to fill in (source: a local dir)
        common["pending"] = ", ".join(p for p in (f"{where}.name", common["pending"]) if p)
        return StorageMount(bucket="", store=store, sub_path=sub_path, named=True,
                            upload=source, **common)
    if name is None and uploads:
        raise r.fail(fields["source"], f"{where}.source",
                     "a list of sources is uploaded into a bucket skytui creates, which needs a name",
                     "add name: BUCKET")
    if name is None:
        at = src_node or node
        raise r.fail(at, where, "a bucket mount needs a name (a bucket skytui creates) or a "
                     "bucket URL as source", "add name: BUCKET, or source: s3://BUCKET/path")
    try:
        if not name_open:
            check_bucket_name(name)
    except ValueError as e:
        raise _fail(r, fields["name"], f"{where}.name", e) from None
    return StorageMount(bucket=name, store=store, sub_path=sub_path, named=True, upload=source,
                        **common)


def mounts_from_dicts(items: dict[str, Any] | None) -> dict[str, StorageMount]:
    """The stored form (`dataclasses.asdict`) back into mounts, for managed jobs' relaunches."""
    return {path: StorageMount(**{**d, "uploads": tuple(d.get("uploads") or ())})
            for path, d in (items or {}).items()}


def _source_list(r: Reader, node: Node, where: str) -> tuple[str, ...]:
    """`source: [a, b]` (two or more): local paths, each landing in the bucket by its name."""
    paths: list[str] = []
    names: dict[str, str] = {}
    for item in node.value:
        text = r.text(item, where, allow_null=False, what="a local path") or ""
        if is_bucket_url(text):
            raise r.fail(item, where, f"{text!r}: a list of sources takes local paths only",
                         "mount the bucket with its own file_mounts entry (source: URL)")
        base = text.rstrip("/").rsplit("/", 1)[-1]
        if not text.strip() or base in ("", ".", "..", "~"):
            raise r.fail(item, where, f"{text!r} has no name to place it under in the bucket",
                         "list files or directories by a path that ends in a name, e.g. ~/data")
        if base in names:
            raise r.fail(item, where, f"{names[base]!r} and {text!r} would both land at "
                         f"'{base}' in the bucket", "list paths with different last names")
        names[base] = text
        paths.append(text)
    return tuple(paths)


# -- small helpers --------------------------------------------------------------------------------
# `<bucket-path-to-your-model-ckpt>`: an example file's "fill this in", not a path or a URL.
_PLACEHOLDER = re.compile(r"<[^<>]+>")


def _placeholder(r: Reader, node: Node, where: str, value: str) -> TaskError:
    from skytui.task.envsub import REFERENCE

    ref = REFERENCE.search(node.text or "")
    env = (ref.group(1) or ref.group(2)) if ref else None
    problem = f"{value!r}{f' (from ${env})' if env else ''} is a placeholder, not a bucket or a path"
    fix = (f"pass the real one with --env {env}=s3://BUCKET/path (or a local path)" if env
           else "put a bucket URL (s3://BUCKET/path) or a local path there")
    return r.fail(node, where, problem, fix)


def _refers(text: str, unset_envs: tuple[str, ...], found: list[str]) -> bool:
    """Whether `text` still names an env without a value; those names are added to `found`."""
    if not unset_envs or "$" not in text:
        return False
    from skytui.task.envsub import unset_in

    names = unset_in(text, dict.fromkeys(unset_envs))
    found.extend(n for n in names if n not in found)
    return bool(names)


def _null(node: Node) -> bool:
    return node.kind == "scalar" and node.value is None


def _scalar(r: Reader, fields: dict[str, Node], key: str, where: str) -> str | None:
    node = fields.get(key)
    if node is None or _null(node):
        return None
    return r.text(node, f"{where}.{key}", what=f"a {key}")


def _store(r: Reader, fields: dict[str, Node], where: str) -> str | None:
    text = _scalar(r, fields, "store", where)
    if text is None:
        return None
    store = text.lower()
    if store in STORES:
        return store
    if store in OTHER_STORES:
        problem, _, fix = OTHER_CLOUD_STORE.format(what=f"store {text!r}").partition("; ")
        raise r.fail(fields["store"], f"{where}.store", problem, fix)
    raise r.fail(fields["store"], f"{where}.store", f"unknown store {text!r}", "use s3, gcs or local")


def _url(r: Reader, node: Node, where: str, text: str) -> BucketURL:
    try:
        return parse_bucket_url(text)
    except ValueError as e:
        raise _fail(r, node, where, e) from None


def _node_path(r: Reader, node: Node, where: str, path: str) -> None:
    try:
        check_node_path(path)
    except ValueError as e:
        raise _fail(r, node, where, e) from None


def _fail(r: Reader, node: Node, where: str, e: ValueError) -> TaskError:
    problem, _, fix = str(e).partition("; ")
    return r.fail(node, where, problem, fix or "fix the value")
