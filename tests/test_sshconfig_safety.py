"""SSH config: the user's ~/.ssh/config keeps its mode, content and links; names and users are
checked before they are written (issue 12, faults 4, 8 and 9)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from skytui.core.sshconfig import HostEntry, SSHConfig
from skytui.errors import SkytuiError


def _entry(alias: str = "work", user: str = "alice") -> HostEntry:
    return HostEntry(alias=alias, host="127.0.0.1", port=2222, user=user, key_path="/k/id",
                     known_hosts="/k/known_hosts-work")


def _cfg(tmp_path: Path) -> tuple[SSHConfig, Path]:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    d = tmp_path / "ours"
    d.mkdir()
    return SSHConfig(d, home=home), home / ".ssh" / "config"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_a_read_only_config_is_left_alone_and_the_user_told_once(tmp_path: Path) -> None:
    cfg, user = _cfg(tmp_path)
    user.write_text("Host mine\n  HostName example.org\n")
    os.chmod(user, 0o444)
    first = cfg.set_cluster("work", [_entry()])
    again = cfg.set_cluster("work", [_entry()])
    assert stat.S_IMODE(user.stat().st_mode) == 0o444
    assert user.read_text() == "Host mine\n  HostName example.org\n"
    assert any(cfg.include_line() in n and "by hand" in n for n in first)
    assert not any("by hand" in n for n in again)  # said once
    assert _leftovers(user.parent) == []
    assert "Host work" in cfg.path.read_text()  # our own file is still written


def test_a_writable_config_keeps_its_mode_and_content(tmp_path: Path) -> None:
    cfg, user = _cfg(tmp_path)
    user.write_text("Host mine\n  HostName example.org\n")
    os.chmod(user, 0o640)
    assert cfg.set_cluster("work", [_entry()]) == []
    assert stat.S_IMODE(user.stat().st_mode) == 0o640
    text = user.read_text()
    assert text.startswith("# Added by skytui") and text.endswith("Host mine\n  HostName example.org\n")


def test_a_symlinked_config_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    cfg, user = _cfg(tmp_path)
    real = tmp_path / "dotfiles" / "ssh_config"
    real.parent.mkdir()
    real.write_text("Host mine\n")
    user.symlink_to(real)
    cfg.set_cluster("work", [_entry()])
    assert user.is_symlink() and os.readlink(user) == str(real)
    assert cfg.include_line() in real.read_text()


def test_a_symlink_into_a_read_only_place_fails_nothing(tmp_path: Path) -> None:
    """A Nix/home-manager link into a read-only store: the launch goes on, nothing is left behind."""
    cfg, user = _cfg(tmp_path)
    store = tmp_path / "store"
    store.mkdir()
    (store / "ssh_config").write_text("Host mine\n")
    mounted = False
    if os.geteuid() == 0:
        r = subprocess.run(["mount", "--bind", "-o", "ro", str(store), str(store)], capture_output=True)
        mounted = r.returncode == 0 and subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(store)], capture_output=True).returncode == 0
        if not mounted:
            pytest.skip("cannot make a read-only folder as root here")
    else:
        os.chmod(store / "ssh_config", 0o444)
        os.chmod(store, 0o555)
    try:
        user.symlink_to(store / "ssh_config")
        notes = cfg.set_cluster("work", [_entry()])
        assert any("by hand" in n for n in notes)
        assert user.is_symlink() and (store / "ssh_config").read_text() == "Host mine\n"
        assert _leftovers(store) == [] and _leftovers(user.parent) == []
    finally:
        if mounted:
            subprocess.run(["umount", str(store)], check=False)
        else:
            os.chmod(store, 0o755)


def test_an_immutable_config_fails_nothing(tmp_path: Path) -> None:
    cfg, user = _cfg(tmp_path)
    user.write_text("Host mine\n")
    if subprocess.run(["chattr", "+i", str(user)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        notes = cfg.set_cluster("work", [_entry()])
        assert any("by hand" in n for n in notes)
        assert _leftovers(user.parent) == []
    finally:
        subprocess.run(["chattr", "-i", str(user)], check=False)
    assert user.read_text() == "Host mine\n"


# -- fault 8: the user name goes into the file only when it is a user name ------------------------------
@pytest.mark.parametrize("bad", ["al ice", "alice\n  ProxyCommand touch /tmp/pwned", "-oProxy", "", "a\"b",
                                 "x" * 40, "alice\n"])
def test_a_bad_user_name_is_refused_before_it_is_written(tmp_path: Path, bad: str) -> None:
    cfg, _ = _cfg(tmp_path)
    with pytest.raises(SkytuiError):
        cfg.set_cluster("work", [_entry(user=bad)])
    assert "ProxyCommand" not in (cfg.path.read_text() if cfg.path.exists() else "")


def test_ssh_user_in_config_is_checked_as_a_user_name(tmp_path: Path) -> None:
    from skytui.config import load_config
    from skytui.errors import ConfigError

    path = tmp_path / "config.yaml"
    path.write_text('ssh_user: "bob smith"\n')
    with pytest.raises(ConfigError, match="ssh_user"):
        load_config(path)
    path.write_text("ssh_user: ubuntu\n")
    assert load_config(path).ssh_user == "ubuntu"


def test_a_bad_login_name_stops_the_launch_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from skytui.config_model import Config
    from skytui.core.context import Core
    from skytui.core.launcher import ssh_user

    monkeypatch.setenv("LOGNAME", "bob\nProxyCommand x")
    monkeypatch.setenv("USER", "bob\nProxyCommand x")
    with pytest.raises(SkytuiError, match="LOGNAME"):
        ssh_user(Core(Config()), "local")


# -- fault 9: a cluster never takes over the user's own Host alias -------------------------------------
def test_a_cluster_named_like_a_users_host_is_refused(tmp_path: Path) -> None:
    cfg, user = _cfg(tmp_path)
    user.write_text("Host prod gpu-box\n  HostName 10.0.0.5\n\nHost *.internal\n  User me\n")
    assert cfg.taken_by_user("prod") == "prod"
    assert cfg.taken_by_user("gpu") is None
    assert cfg.taken_by_user("gpu-box") == "gpu-box"


async def test_launching_a_cluster_named_like_a_users_host_is_refused_before_anything_runs() -> None:
    from test_watcher_support import make_core

    from skytui.core import clusters as ops
    from skytui.task.spec import Resources, Task

    ssh = Path(os.environ["HOME"]) / ".ssh"
    ssh.mkdir(exist_ok=True)
    (ssh / "config").write_text("Host prod\n  HostName 10.0.0.5\n")
    core = make_core()
    with pytest.raises(SkytuiError, match="prod"):
        await ops.launch(core, "prod", Task(resources=(Resources(cloud="local"),)), ops.LaunchOptions())
    assert core.store.cluster("prod") is None
    assert (ssh / "config").read_text() == "Host prod\n  HostName 10.0.0.5\n"


def test_a_block_the_user_already_has_is_left_out_and_said(tmp_path: Path) -> None:
    """The last guard: if a Host appeared after the launch, the user's entry wins."""
    cfg, user = _cfg(tmp_path)
    user.write_text("Host work-worker1\n  HostName 10.0.0.9\n")
    notes = cfg.set_cluster("work", [_entry("work"), _entry("work-worker1")])
    ours = cfg.path.read_text()
    assert "Host work\n" in ours and "Host work-worker1" not in ours
    assert any("work-worker1" in n and "your own" in n for n in notes)
