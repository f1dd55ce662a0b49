"""`workdir: {url, ref}`: a git checkout made on the node itself, not uploaded from here."""

from __future__ import annotations

import shlex

from skytui.errors import RemoteError, SkytuiError
from skytui.remote.pool import NodeAddress, SSHPool

NOT_A_CHECKOUT = 3  # the script's exit status when the folder holds something else
CHECKOUT_TIMEOUT_S = 900.0


def checkout_script(url: str, ref: str | None, dest: str) -> str:
    """A POSIX shell script that leaves `dest` (under ~) at `ref` of `url`.

    A fresh folder gets `git init` + fetch, a re-launch fetches again into the same
    checkout; a folder that exists and is not a git checkout is never touched (exit 3).
    Fetching one ref shallowly keeps large histories off the node; a server that refuses
    to hand out a bare commit gets a full fetch, then the commit is checked out.
    """
    q_url, q_ref = shlex.quote(url), shlex.quote(ref or "HEAD")
    d = '"$HOME"/' + shlex.quote(dest)
    return "\n".join((
        "set -e",
        f"mkdir -p {d}",
        f"cd {d}",
        "if [ ! -d .git ]; then",
        f"  if [ -n \"$(ls -A)\" ]; then exit {NOT_A_CHECKOUT}; fi",
        "  git init -q",
        f"  git remote add origin {q_url}",
        "fi",
        f"git remote set-url origin {q_url}",
        f"if git fetch -q --depth 1 origin {q_ref} 2>/dev/null; then",
        "  git checkout -q --detach FETCH_HEAD",
        "else",
        "  git fetch -q origin",
        f"  git checkout -q --detach {q_ref}",
        "fi",
    ))


async def git_checkout(pool: SSHPool, addr: NodeAddress, url: str, ref: str | None,
                       dest: str) -> None:
    """Check out `url` at `ref` into ~/`dest` on the node, or fail in one line."""
    from skytui.remote.exec import run

    script = checkout_script(url, ref, dest)
    done = await run(pool, addr, "sh -c " + shlex.quote(script), timeout=CHECKOUT_TIMEOUT_S)
    if done.exit_status == NOT_A_CHECKOUT:
        raise SkytuiError(f"~/{dest} on {addr.alias or addr.host} holds files and is not a git "
                          "checkout; skytui leaves it as it is",
                          "move those files away on the node, or use a new cluster")
    if done.exit_status == 127:
        raise RemoteError(f"git is not installed on {addr.alias or addr.host}",
                          "install git in the image (or in `setup` of another task)")
    if done.exit_status != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1][:200]
        raise SkytuiError(f"git checkout of {url} at {ref or 'its default branch'} failed on "
                          f"{addr.alias or addr.host}: {last}",
                          "check the URL, the ref and that the node can reach the repository")
