"""The local store: `local://BUCKET/path` is a directory under skytui's data dir.

It lives outside every node's disk, so it outlives the nodes: a local-cloud node sees it
through a symlink (MOUNT) or a copy made at launch (COPY). Paths are resolved and checked
here, on the host, so no bucket path can point outside its bucket (`..` is refused by the
loader; a symlink planted inside a bucket is caught by the realpath check).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from skytui.task.storage import check_bucket_name, check_sub_path


class BucketPathError(ValueError):
    """A local bucket path that leaves its bucket, or a bucket that is not a plain directory."""


def buckets_root() -> Path:
    from skytui.paths import data_dir

    root = data_dir() / "buckets"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def bucket_dir(name: str) -> Path:
    return buckets_root() / check_bucket_name(name)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve(name: str, sub_path: str = "", *, create: bool = False) -> Path:
    """The real directory of `local://name/sub_path`; BucketPathError if it would leave the
    bucket. `create` makes the bucket and the path (the caller records ownership)."""
    root = buckets_root().resolve()
    bucket = root / check_bucket_name(name)
    if bucket.is_symlink() or (bucket.exists() and not bucket.is_dir()):
        raise BucketPathError(f"local bucket {name!r} ({bucket}) is not a plain directory; "
                              "move it aside, skytui only uses directories it can vouch for")
    sub = check_sub_path(sub_path, strict=True)
    target = bucket.joinpath(*sub.split("/")) if sub else bucket
    _check(target, bucket, name, sub)
    if create and not target.is_file():  # a URL may name one file in the bucket
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        _check(target, bucket, name, sub)  # a symlink swapped in meanwhile is caught here
    return target


def _check(target: Path, bucket: Path, name: str, sub: str) -> None:
    probe = target
    while not probe.exists() and not probe.is_symlink() and probe != bucket:
        probe = probe.parent  # the deepest part that exists is the one a symlink could hide in
    if probe.exists() and not _inside(Path(os.path.realpath(probe)), bucket):
        raise BucketPathError(f"local://{name}/{sub} leads outside its bucket (through a "
                              f"symlink at {probe}); remove the symlink or use another path")
    if probe.is_symlink() and not probe.exists():
        raise BucketPathError(f"local://{name}/{sub} goes through a dangling symlink at {probe}; "
                              "remove it")


def exists(name: str) -> bool:
    return (buckets_root() / check_bucket_name(name)).is_dir()


def upload(source: Path, target: Path) -> None:
    """Copy a local directory (or file) into a bucket path, keeping what is already there."""
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(source, target / source.name)


def delete(name: str) -> bool:
    """Remove a local bucket; False if it is gone or is not a directory skytui would have made."""
    bucket = buckets_root() / check_bucket_name(name)
    if bucket.is_symlink() or not bucket.is_dir():
        return False
    shutil.rmtree(bucket)  # rmtree unlinks symlinks inside; it never follows them
    return True
