"""Who is on the other end of a Unix socket, and which processes it descends from (Linux).

The broker refuses decisions from any process inside a gated session: a peer whose ancestry
(pid, parent, grandparent ... up to init) contains the pid of a connected gating client.
Processes are identified by (pid, start time) so a recycled pid is not mistaken for the
original process.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass

MAX_DEPTH = 256  # ancestry walks stop here (a cycle or a very deep tree)


@dataclass(frozen=True)
class Peer:
    """The credentials the kernel reports for a connected socket."""

    pid: int
    uid: int
    gid: int


@dataclass(frozen=True)
class ProcessId:
    """A process, robust against pid reuse: the pid and its start time in clock ticks."""

    pid: int
    start: int


def peer_credentials(sock: socket.socket) -> Peer | None:
    """SO_PEERCRED of a connected Unix socket (None where the platform has no such option)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    size = struct.calcsize("3i")
    pid, uid, gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, option, size))
    return Peer(pid, uid, gid)


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (which may hold spaces and parens)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    close = data.rfind(b")")
    if close < 0:
        return None
    return data[close + 2 :].decode("ascii", "replace").split()


def process_id(pid: int) -> ProcessId | None:
    """(pid, start time) of a live process, or None if it is gone."""
    fields = _stat_fields(pid)
    # After "pid (comm)": state is field 3 in proc(5), ppid 4, starttime 22.
    if fields is None or len(fields) < 20:
        return None
    return ProcessId(pid, int(fields[19]))


def parent_pid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields and len(fields) > 1 else None


def ancestry(pid: int) -> list[ProcessId]:
    """The process itself and every ancestor up to init, nearest first."""
    chain: list[ProcessId] = []
    seen: set[int] = set()
    current: int | None = pid
    while current and current not in seen and len(chain) < MAX_DEPTH:
        seen.add(current)
        ident = process_id(current)
        if ident is None:
            break
        chain.append(ident)
        current = parent_pid(current)
    return chain


def own_uid() -> int:
    return os.getuid()
