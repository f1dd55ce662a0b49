"""Upload a local file or directory tree to a node over SFTP, skipping what is already there.

Like `rsync -a` without `--delete`: a directory given as a str ending in "/" (or with
`contents=True`) copies its contents into `remote`; otherwise the directory itself lands in
`remote/<name>`. Files whose size and mtime (whole seconds) match are skipped; modes and mtimes
are preserved; symlinks are recreated as symlinks. Remote paths may start with "~/" (HOME).
"""

from __future__ import annotations

import asyncio
import os
import posixpath
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skytui.errors import RemoteError
from skytui.remote.pool import NodeAddress, SSHPool, connect_error


@dataclass
class SyncResult:
    """What a sync did: files sent, files already up to date, bytes sent."""

    uploaded: int = 0
    skipped: int = 0
    bytes: int = 0


def remote_path(path: str) -> str:
    """An SFTP path: "~" and "~/x" become HOME-relative ("." and "x"), SFTP's starting dir."""
    if path in ("~", "~/"):
        return "."
    if path.startswith("~/"):
        return path[2:] or "."
    return path


class _Uploader:
    def __init__(self, sftp: Any, parallel: int,
                 exclude: Callable[[str], bool] | None) -> None:
        self.sftp = sftp
        self.gate = asyncio.Semaphore(parallel)
        self.exclude = exclude
        self.result = SyncResult()

    async def listing(self, rdir: str) -> dict[str, Any]:
        import asyncssh

        try:
            return {n.filename: n.attrs for n in await self.sftp.readdir(rdir)
                    if n.filename not in (".", "..")}
        except asyncssh.SFTPNoSuchFile:
            return {}

    async def ensure_dir(self, rdir: str, mode: int) -> None:
        import asyncssh

        try:
            await self.sftp.makedirs(rdir, exist_ok=True)
            await self.sftp.chmod(rdir, stat.S_IMODE(mode))
        except asyncssh.SFTPError as e:
            raise RemoteError(f"cannot create remote directory {rdir}: {e.reason}") from None

    async def file(self, local: str, rfile: str, st: os.stat_result, have: Any | None) -> None:
        import asyncssh

        if (have is not None and have.type == asyncssh.FILEXFER_TYPE_REGULAR
                and have.size == st.st_size and have.mtime == int(st.st_mtime)):
            self.result.skipped += 1
            return
        async with self.gate:
            try:
                await self.sftp.put(local, rfile, preserve=True)
            except (OSError, asyncssh.SFTPError) as e:
                raise RemoteError(f"cannot upload {local} to {rfile}: {e}") from None
        self.result.uploaded += 1
        self.result.bytes += st.st_size

    async def link(self, local: str, rfile: str, have: Any | None) -> None:
        import asyncssh

        target = os.readlink(local)
        if (have is not None and have.type == asyncssh.FILEXFER_TYPE_SYMLINK
                and await self.sftp.readlink(rfile) == target):
            self.result.skipped += 1
            return
        if have is not None:
            await self.sftp.remove(rfile)
        await self.sftp.symlink(target, rfile)
        self.result.uploaded += 1

    async def tree(self, local: Path, rdir: str, rel: str = "") -> None:
        await self.ensure_dir(rdir, local.stat().st_mode)
        have = await self.listing(rdir)
        work = []
        for entry in sorted(os.scandir(local), key=lambda e: e.name):
            sub_rel = posixpath.join(rel, entry.name)
            if self.exclude is not None and self.exclude(sub_rel):
                continue
            rpath = posixpath.join(rdir, entry.name)
            if entry.is_symlink():
                work.append(self.link(entry.path, rpath, have.get(entry.name)))
            elif entry.is_dir():
                work.append(self.tree(Path(entry.path), rpath, sub_rel))
            elif entry.is_file():
                work.append(self.file(entry.path, rpath, entry.stat(), have.get(entry.name)))
        await asyncio.gather(*work)


async def sync_up(pool: SSHPool, addr: NodeAddress, local: Path | str, remote: str, *,
                  contents: bool | None = None, exclude: Callable[[str], bool] | None = None,
                  parallel: int = 8) -> SyncResult:
    """Copy `local` (file or directory) to `remote` on the node; see the module doc for rules.

    `exclude(relative_posix_path)` returning True skips that file or whole directory.
    """
    import asyncssh

    src = Path(local)
    if not src.exists():
        raise RemoteError(f"{local}: no such file or directory", "check the path to upload")
    into_contents = contents if contents is not None else str(local).endswith("/")
    dest = remote_path(remote)
    conn = await pool.connection(addr)
    try:
        async with conn.start_sftp_client() as sftp:
            up = _Uploader(sftp, parallel, exclude)
            if src.is_dir():
                root = dest if into_contents else posixpath.join(dest, src.name)
                await up.tree(src, root)
            else:
                if remote.endswith("/") or await sftp.isdir(dest):
                    dest = posixpath.join(dest, src.name)
                parent = posixpath.dirname(dest)
                if parent:
                    await sftp.makedirs(parent, exist_ok=True)
                try:
                    have = await sftp.stat(dest)
                except asyncssh.SFTPNoSuchFile:
                    have = None
                await up.file(str(src), dest, src.stat(), have)
            return up.result
    except (OSError, asyncssh.Error) as e:
        if isinstance(e, asyncssh.SFTPError):
            raise RemoteError(f"{addr.alias}: sync to {remote} failed: {e.reason}") from None
        raise connect_error(addr, e) from None
