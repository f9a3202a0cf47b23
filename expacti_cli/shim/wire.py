"""The broker's JSON-lines protocol, spoken with C-level stdlib modules only.

`expacti-sh` runs once per agent command, so its start-up is on the agent's hot path. The
`json` and `socket` packages import `re` and `enum` (about 15 ms together); their C cores
`_json` and `_socket` cost nothing. This module mirrors broker.protocol.encode,
broker.protocol.command_hash and broker.sockets.socket_path/addressable, and
tests/test_shim_wire.py checks it against them so the two cannot drift apart.
"""

from __future__ import annotations

# CPython's C cores of socket, json and hashlib: importing them costs nothing.
import _socket
import os
from _json import encode_basestring_ascii as _quote
from _json import make_scanner as _make_scanner

try:
    import _sha256 as _sha_module  # Python 3.11
except ImportError:  # pragma: no cover - 3.12+ keeps it in _sha2; hashlib picks the fastest
    import hashlib as _sha_module

_sha256 = _sha_module.sha256

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

VERSION = 1  # broker.protocol.VERSION
SOCKET_NAME = "broker.sock"  # broker.sockets.SOCKET_NAME
_MAX_SUN_PATH = 100  # broker.sockets._MAX_SUN_PATH


class WireError(Exception):
    """The broker cannot be reached, or what it sent cannot be read."""


class _ScanContext:
    """The attributes `_json.make_scanner` reads (what json.JSONDecoder would hold)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = None
    memo: dict[str, Any] = {}


_scan = _make_scanner(_ScanContext())  # type: ignore[arg-type]  # duck-typed context


def _value(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str):
        return str(_quote(value))
    raise TypeError(f"the shim only sends strings, integers, booleans and null, not {value!r}")


def encode(message: dict[str, object]) -> bytes:
    """One flat message as a line, like protocol.encode (ASCII JSON, `"v"` first)."""
    body = {"v": VERSION, **message}
    fields = ",".join(f"{_quote(key)}:{_value(value)}" for key, value in body.items())
    return ("{" + fields + "}\n").encode("ascii")


def decode(line: bytes) -> dict[str, Any] | None:
    """One received line as a dict; None when it is not a JSON object."""
    try:
        text = line.decode("utf-8")
        start = len(text) - len(text.lstrip())
        obj, end = _scan(text, start)
    except (UnicodeDecodeError, ValueError, StopIteration):
        return None
    if text[end:].strip():
        return None
    return obj if isinstance(obj, dict) else None


def _raw(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def command_hash(command: str, cwd: str) -> str:
    """What a decision is bound to (protocol.command_hash): sha256(command NUL cwd)."""
    return str(_sha256(_raw(command) + b"\0" + _raw(cwd)).hexdigest())


def socket_path() -> str:
    """Where the broker listens (sockets.socket_path), without importing pathlib."""
    home = os.environ.get("EXPACTI_HOME", "").strip()
    if home:
        home = os.path.expanduser(home)
        if not os.path.isabs(home):
            home = os.path.join(os.getcwd(), home)  # Path.absolute(): no normalisation
        return os.path.join(home, "run", SOCKET_NAME)
    xdg = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    if xdg:
        return os.path.join(xdg, "expacti", SOCKET_NAME)
    from expacti_cli.broker import sockets  # platformdirs decides; rare, so pay for it here

    return str(sockets.socket_path())


class Connection:
    """A blocking JSON-lines connection to the broker."""

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self._buffer = b""

    def fileno(self) -> int:
        return int(self.sock.fileno())

    def close(self) -> None:
        self.sock.close()

    def withdraw(self) -> None:
        """From another thread: wake a `receive` blocked on this connection (it returns None)
        and hang up, so the broker withdraws the request waiting on it. shutdown, not close:
        closing does not wake a blocked recv."""
        try:
            self.sock.shutdown(_socket.SHUT_RDWR)
        except OSError:
            pass

    def send(self, message: dict[str, object]) -> None:
        try:
            self.sock.sendall(encode(message))
        except OSError as exc:
            raise WireError(f"lost the connection to the broker: {exc}") from None

    def receive(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message; None when the broker closed the connection.

        Raises TimeoutError when `timeout` seconds pass first."""
        while b"\n" not in self._buffer:
            self.sock.settimeout(timeout)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise
            except OSError:
                return None
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        message = decode(line)
        if message is None:
            raise WireError("the broker sent something that is not a JSON object")
        return message


def _connect_once(path: str) -> Connection:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        if len(os.fsencode(path)) < _MAX_SUN_PATH:
            sock.connect(path)
        else:  # too long for sun_path: go through a descriptor of the directory
            fd = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY)
            try:
                sock.connect(f"/proc/self/fd/{fd}/{os.path.basename(path)}")
            finally:
                os.close(fd)
    except BaseException:
        sock.close()
        raise
    return Connection(sock)


def connect(autostart: bool = True, start_timeout: float = 10.0) -> Connection:
    """A connection to the broker, starting one first (like broker.client.connect)."""
    path = socket_path()
    try:
        return _connect_once(path)
    except OSError as exc:
        if not autostart:
            raise WireError(f"no broker is running ({path}: {exc.strerror})") from None
    import time

    from expacti_cli.broker import client  # the slow path: only when no broker runs yet

    try:
        started = client.start_broker()
    except client.BrokerUnavailable as exc:
        raise WireError(str(exc)) from None
    deadline = time.monotonic() + start_timeout
    delay = 0.005
    while True:
        try:
            return _connect_once(path)
        except OSError as exc:
            failed = started.poll() not in (None, 0)  # 0: another broker won the lock
            if failed or time.monotonic() > deadline:
                why = (
                    f"exited with status {started.returncode}"
                    if failed
                    else f"did not start within {start_timeout:g} s ({exc.strerror})"
                )
                from expacti_cli.broker import sockets

                raise WireError(f"the broker {why}; see {sockets.log_path()}") from None
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
