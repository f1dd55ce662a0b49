"""Uploading a workdir or a file to a node over SFTP."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from remote_helpers import RunningNode, node_fixture, pool_fixture  # noqa: F401  (fixtures)

from skytui.errors import RemoteError
from skytui.remote.pool import SSHPool
from skytui.remote.sync import SyncResult, sync_up

pytestmark = pytest.mark.slow


def make_tree(root: Path) -> None:
    (root / "src" / "pkg" / "deep").mkdir(parents=True)
    (root / "train.py").write_text("print('train')\n")
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(root / "run.sh", 0o755)
    (root / "src" / "pkg" / "__init__.py").write_text("")
    (root / "src" / "pkg" / "deep" / "weights.bin").write_bytes(os.urandom(1_500_000))
    (root / "latest").symlink_to("train.py")


def tree(root: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
    return out


async def test_contents_sync_then_unchanged_files_are_skipped(node: RunningNode, pool: SSHPool,
                                                              tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    make_tree(work)
    first = await sync_up(pool, node.addr, f"{work}/", "~/sky_workdir")
    assert first.uploaded == 5 and first.skipped == 0
    assert tree(node.disk / "sky_workdir") == tree(work)

    again = await sync_up(pool, node.addr, f"{work}/", "~/sky_workdir")
    assert again == SyncResult(uploaded=0, skipped=5, bytes=0)

    (work / "train.py").write_text("print('train v2, longer')\n")
    (work / "src" / "pkg" / "new.py").write_text("x = 1\n")
    third = await sync_up(pool, node.addr, work, "sky_workdir", contents=True)
    assert (third.uploaded, third.skipped) == (2, 4)
    assert tree(node.disk / "sky_workdir") == tree(work)


async def test_dir_without_trailing_slash_lands_inside(node: RunningNode, pool: SSHPool,
                                                       tmp_path: Path) -> None:
    work = tmp_path / "proj"
    work.mkdir()
    make_tree(work)
    await sync_up(pool, node.addr, work, "~/code")
    assert tree(node.disk / "code" / "proj") == tree(work)


async def test_single_file_to_a_path_or_into_a_dir(node: RunningNode, pool: SSHPool,
                                                   tmp_path: Path) -> None:
    f = tmp_path / "config.yaml"
    f.write_text("lr: 0.1\n")
    os.chmod(f, 0o640)
    await sync_up(pool, node.addr, f, "~/a/b/renamed.yaml")
    assert (node.disk / "a/b/renamed.yaml").read_text() == "lr: 0.1\n"
    assert stat.S_IMODE((node.disk / "a/b/renamed.yaml").stat().st_mode) == 0o640
    await sync_up(pool, node.addr, f, "~/a/")
    assert (node.disk / "a/config.yaml").read_text() == "lr: 0.1\n"
    assert (await sync_up(pool, node.addr, f, "~/a/")).skipped == 1


async def test_exclude_skips_paths(node: RunningNode, pool: SSHPool, tmp_path: Path) -> None:
    work = tmp_path / "w"
    (work / ".git").mkdir(parents=True)
    (work / ".git" / "HEAD").write_text("ref\n")
    (work / "a.py").write_text("a\n")
    await sync_up(pool, node.addr, work, "~/", contents=False,
                  exclude=lambda rel: rel.split("/")[0] == ".git")
    assert (node.disk / "w" / "a.py").exists()
    assert not (node.disk / "w" / ".git").exists()


async def test_missing_local_path_is_a_clear_error(node: RunningNode, pool: SSHPool,
                                                   tmp_path: Path) -> None:
    with pytest.raises(RemoteError, match="no such file or directory"):
        await sync_up(pool, node.addr, tmp_path / "nope", "~/x")
