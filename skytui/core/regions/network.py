"""A short fingerprint of the network this machine is on, so cached latencies follow the user.

A laptop that moves from the office to home to a hotel keeps its cache only while the
fingerprint holds. It is made of what identifies a network without sending a packet:
- on Linux, the default route's interface and gateway address (/proc/net/route), the
  gateway's hardware address (/proc/net/arp: two home networks both at 192.168.1.1 still
  differ there), and the Wi-Fi network name when that interface is wireless (`iwgetid`);
- elsewhere, the source address the kernel would use for the default route (a UDP `connect`
  only looks up the route; nothing is sent, and the address is a documentation one).
The parts are reduced to a checksum, so the state file holds no addresses or network names.
Reads only local files on Linux (no socket module to import: this runs on every warm
`skytui regions`), well under a millisecond off Wi-Fi.
"""

from __future__ import annotations

import zlib
from pathlib import Path

_PROBE_ADDRESS = ("198.51.100.1", 9)  # TEST-NET-2 (RFC 5737): routed by default, never contacted
OFFLINE = "offline"


def source_address() -> str | None:
    """The local address of the default route, or None when there is no route (offline)."""
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(_PROBE_ADDRESS)
            return str(s.getsockname()[0])
    except OSError:
        return None


def _linux_default_route() -> tuple[str, str] | None:
    """(interface, gateway IP) of the default route, or None without one; OSError without /proc."""
    lines = Path("/proc/net/route").read_text().splitlines()[1:]
    for line in lines:
        cols = line.split()
        if len(cols) > 2 and cols[1] == "00000000":
            gw = bytes.fromhex(cols[2])[::-1]  # little-endian hex
            return cols[0], ".".join(str(b) for b in gw)
    return None


def _gateway_mac(gateway: str) -> str | None:
    try:
        lines = Path("/proc/net/arp").read_text().splitlines()[1:]
    except OSError:
        return None
    for line in lines:
        cols = line.split()
        if len(cols) > 3 and cols[0] == gateway:
            return cols[3]
    return None


def _wifi_name(interface: str) -> str | None:
    if not Path(f"/sys/class/net/{interface}/wireless").exists():
        return None
    import shutil  # only on Wi-Fi: the wired path stays free of process machinery
    import subprocess

    exe = shutil.which("iwgetid")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, interface, "-r"], capture_output=True, text=True, timeout=1.0, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def fingerprint() -> str:
    """A short checksum of the parts above; OFFLINE when there is no default route at all."""
    try:
        route = _linux_default_route()
    except OSError:  # not Linux: the default route's source address
        source = source_address()
        parts = [source] if source else []
    else:
        parts = [route[0], route[1], _gateway_mac(route[1]) or "", _wifi_name(route[0]) or ""] if route else []
    if not parts:
        return OFFLINE
    return f"{zlib.crc32(chr(0).join(parts).encode()):08x}"
