"""Shell commands that put a bucket at a path on a node; every value goes through shlex.quote.

Which tool does what (README "Storage mounts" lists the prerequisites on the image):

| store | MOUNT | MOUNT_CACHED | COPY (at launch) | create / delete |
| --- | --- | --- | --- | --- |
| local | symlink to the bucket dir | symlink | `cp -a` from the bucket dir | on the host |
| s3 | `mount-s3` (Mountpoint for S3) | `mount-s3 --cache` | `aws s3 sync` | `aws s3 mb` / `aws s3 rb --force` |
| gcs | `gcsfuse` | `gcsfuse` with a file cache | `gcloud storage rsync` | `gcloud storage buckets create` / `gcloud storage rm -r` |

A COPY of an s3:// or gs:// URL onto a node of another cloud (or the local cloud) runs the
same CLI on this host (`fetch_command`), with this host's credentials, and sends the result
to each node over SSH: a node's own credentials only reach its own cloud's store.

Mountpoint and gcsfuse are the clouds' own FUSE clients; their reads are streamed, and
writes become visible in the bucket when a file is closed (Mountpoint writes new files
sequentially and cannot rename, so a trainer that saves `tmp` then renames should use COPY
plus its own upload, or MOUNT_CACHED on GCS).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from skytui.task.storage import StorageMount

# Printed by the create step when this command made the bucket: the proof of ownership.
CREATED_MARK = "skytui-bucket-created"
_TOOLS = {"s3": {"MOUNT": "mount-s3", "MOUNT_CACHED": "mount-s3", "COPY": "aws"},
          "gcs": {"MOUNT": "gcsfuse", "MOUNT_CACHED": "gcsfuse", "COPY": "gcloud"}}
_CREATE_TOOL = {"s3": "aws", "gcs": "gcloud"}


WORKDIR = "sky_workdir"  # as the launcher's: SkyPilot puts relative mount paths under it


def node_path(path: str) -> str:
    """The mount path as a shell word: '~/x' is under the node's $HOME, a relative path under
    the synced workdir (~/sky_workdir), as SkyPilot places them."""
    if path.startswith("/"):
        return shlex.quote(path.rstrip("/") or "/")
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:].rstrip("/"))
    rel = path.removeprefix("./")
    return f'"$HOME"/{WORKDIR}/' + shlex.quote(rel.rstrip("/"))


def _prelude(target: str, src: str | None = None) -> str:
    lines = ["set -e", f"t={target}"]
    if src is not None:
        lines.append(f"src={shlex.quote(src)}")
    return "\n".join(lines) + "\n"


def _need(tool: str, what: str) -> str:
    return (f"command -v {shlex.quote(tool)} >/dev/null 2>&1 || {{ echo "
            + shlex.quote(f"skytui: {tool} is not installed on this node; {what} needs it "
                          "(see README: Storage mounts)")
            + " >&2; exit 3; }\n")


# The mount point must be free: an empty directory is taken over, a symlink we left on an
# earlier launch is replaced, anything else is left alone and the launch stops.
_FREE_MOUNT_POINT = """mkdir -p "$(dirname "$t")"
if [ -L "$t" ]; then rm -f "$t"
elif [ -d "$t" ]; then rmdir "$t" 2>/dev/null || { echo "skytui: $t is not empty on the node: cannot mount a bucket over it" >&2; exit 3; }
elif [ -e "$t" ]; then echo "skytui: $t is a file on the node: cannot mount a bucket there" >&2; exit 3
fi
"""


def local_command(m: StorageMount, bucket_path: Path) -> str:
    """Local store: MOUNT (and MOUNT_CACHED) link the node path to the bucket directory, so
    writes land in the bucket at once; COPY copies the bucket's contents at launch."""
    script = _prelude(node_path(m.path), str(bucket_path))
    if m.mode == "COPY":  # a URL may name one file, as SkyPilot allows
        return script + ('if [ -f "$src" ]; then mkdir -p "$(dirname "$t")"; cp -a "$src" "$t"\n'
                         'else mkdir -p "$t"; cp -a "$src"/. "$t"/\nfi\n')
    return script + _FREE_MOUNT_POINT + 'ln -s "$src" "$t"\n'


def cloud_url(store: str, bucket: str, sub_path: str = "") -> str:
    scheme = "s3" if store == "s3" else "gs"
    return f"{scheme}://{bucket}" + (f"/{sub_path}" if sub_path else "")


def _copy_script(m: StorageMount, store: str, target: str) -> str:
    """COPY of an s3 / gcs URL to `target` (a shell word) with the cloud's CLI."""
    script = _prelude(target) + _need(_TOOLS[store]["COPY"], f"COPY of {cloud_url(store, m.bucket)}")
    url = cloud_url(store, m.bucket, m.sub_path)
    copy = (["aws", "s3", "sync", "--only-show-errors", url] if store == "s3"
            else ["gcloud", "storage", "rsync", "--recursive", url])
    tree = 'mkdir -p "$t"\n' + " ".join(shlex.quote(a) for a in copy) + ' "$t"\n'
    if not m.sub_path:
        return script + tree
    # A URL may name one object (SkyPilot copies it to the path) or a prefix (a tree).
    if store == "s3":
        probe = ["aws", "s3api", "head-object", "--bucket", m.bucket, "--key", m.sub_path]
        one = ["aws", "s3", "cp", "--only-show-errors", url]
    else:
        probe = ["gcloud", "storage", "objects", "describe", url]
        one = ["gcloud", "storage", "cp", url]
    return (script + "if " + " ".join(shlex.quote(a) for a in probe) + " >/dev/null 2>&1; then\n"
            + 'mkdir -p "$(dirname "$t")"\n' + " ".join(shlex.quote(a) for a in one) + ' "$t"\n'
            + "else\n" + tree + "fi\n")


def fetch_command(m: StorageMount, store: str, target: Path) -> str:
    """COPY of an s3 / gcs URL into `target` on THIS host, for nodes of another cloud (whose
    own credentials cannot read that store); the result then goes to each node over SSH."""
    return _copy_script(m, store, shlex.quote(str(target)))


def relay_staging(bucket: str) -> str:
    """Where a bucket copied through this host waits on a node (HOME-relative)."""
    return f".skytui/relay/{bucket}"


def staged_copy_command(m: StorageMount, staged: str) -> str:
    """Move what `fetch_command` brought (a file or a tree, sent to `staged`) to the mount path,
    as a COPY on the node itself would have placed it; the staging copy is removed."""
    return (f"set -e\nt={node_path(m.path)}\nsrc=\"$HOME\"/{shlex.quote(staged)}\n"
            + 'if [ -f "$src" ]; then mkdir -p "$(dirname "$t")"; cp -a "$src" "$t"\n'
            + 'else mkdir -p "$t"; cp -a "$src"/. "$t"/\nfi\nrm -rf "$src"\n')


def cloud_command(m: StorageMount, store: str) -> str:
    """s3 / gcs: mount with the cloud's FUSE client, or copy with its CLI (see module doc)."""
    if m.mode == "COPY":
        return _copy_script(m, store, node_path(m.path))
    tool = _TOOLS[store][m.mode]
    script = _prelude(node_path(m.path)) + _need(tool, f"{m.mode} of {cloud_url(store, m.bucket)}")
    cache = '"$HOME"/' + shlex.quote(f".cache/skytui-mounts/{m.bucket}")
    if store == "s3":
        argv = ["mount-s3", "--allow-delete", "--allow-overwrite"]
        if m.sub_path:
            argv += ["--prefix", m.sub_path + "/"]
        line = " ".join(shlex.quote(a) for a in argv)
        if m.mode == "MOUNT_CACHED":
            line += f" --cache {cache}"
        line += f" {shlex.quote(m.bucket)} \"$t\""
    else:
        argv = ["gcsfuse", "--implicit-dirs"]
        if m.sub_path:
            argv += ["--only-dir", m.sub_path]
        line = " ".join(shlex.quote(a) for a in argv)
        if m.mode == "MOUNT_CACHED":
            line += f" --cache-dir {cache} --file-cache-max-size-mb -1"
        line += f" {shlex.quote(m.bucket)} \"$t\""
    pre = f"mkdir -p {cache}\n" if m.mode == "MOUNT_CACHED" else ""
    return script + _FREE_MOUNT_POINT + 'mkdir -p "$t"\n' + pre + line + "\n"


def create_command(store: str, bucket: str) -> str:
    """Make the bucket if it is missing; print CREATED_MARK only when this command made it."""
    url = shlex.quote(cloud_url(store, bucket))
    need = _need(_CREATE_TOOL[store], f"creating {cloud_url(store, bucket)}")
    if store == "s3":
        probe = f"aws s3api head-bucket --bucket {shlex.quote(bucket)}"
        make = f"aws s3 mb {url}"
    else:
        probe = f"gcloud storage buckets describe {url}"
        make = f"gcloud storage buckets create {url}"
    return (f"set -e\n{need}if ! {probe} >/dev/null 2>&1; then\n  {make} >&2\n"
            f"  echo {CREATED_MARK}\nfi\n")


def delete_command(store: str, bucket: str) -> str:
    url = shlex.quote(cloud_url(store, bucket))
    need = _need(_CREATE_TOOL[store], f"deleting {cloud_url(store, bucket)}")
    if store == "s3":
        return f"set -e\n{need}aws s3 rb --force {url}\n"
    return f"set -e\n{need}gcloud storage rm --recursive {url}\n"


def upload_staging(bucket: str) -> str:
    """Where a local `source:` waits on the head node (HOME-relative) before it goes up."""
    return f".skytui/uploads/{bucket}"


def upload_command(store: str, bucket: str, sub_path: str = "") -> str:
    """Copy the staged local source from the head node into the bucket (nothing deleted there)."""
    tool = _CREATE_TOOL[store]
    url = cloud_url(store, bucket, sub_path)
    argv = (["aws", "s3", "sync", "--only-show-errors"] if store == "s3"
            else ["gcloud", "storage", "rsync", "--recursive"])
    staged = '"$HOME"/' + shlex.quote(upload_staging(bucket))
    return (f"set -e\n{_need(tool, f'uploading into {url}')}"
            + " ".join(shlex.quote(a) for a in argv) + f" {staged} {shlex.quote(url)}\n")
