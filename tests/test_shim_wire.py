"""The shim's lean protocol code must say exactly what broker/protocol.py and sockets.py say."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli.broker import protocol, sockets
from expacti_cli.shim import wire

texts = st.text(max_size=80)  # includes lone surrogates: escaped bytes of non-UTF-8 commands
values = st.one_of(texts, st.integers(-(2**40), 2**40), st.booleans(), st.none())


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["op", "command", "cwd", "session", "ttl", "x"]), values))
def test_encode_matches_the_broker_protocol(message: dict[str, object]) -> None:
    message.pop("v", None)
    assert wire.encode(message) == protocol.encode(message)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=10), st.one_of(values, st.lists(values, max_size=3))))
def test_decode_reads_what_json_writes(message: dict[str, object]) -> None:
    line = json.dumps(message).encode()
    assert wire.decode(line) == message


@pytest.mark.parametrize("line", [b"", b"[1]", b"{", b'{"a": 1} x', b"\xff", b"null"])
def test_decode_refuses_what_is_not_one_object(line: bytes) -> None:
    assert wire.decode(line) is None


@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_command_hash_matches_the_broker(command: str, cwd: str) -> None:
    assert wire.command_hash(command, cwd) == protocol.command_hash(command, cwd)


@pytest.mark.parametrize(
    "env",
    [
        {"EXPACTI_HOME": "/srv/x"},
        {"EXPACTI_HOME": "relative/dir"},
        {"EXPACTI_HOME": "~/h"},
        {"EXPACTI_HOME": "  ", "XDG_RUNTIME_DIR": "/run/user/1000"},
    ],
)
def test_socket_path_matches_sockets_module(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXPACTI_HOME", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert wire.socket_path() == str(sockets.socket_path())


def test_without_home_or_xdg_the_slow_path_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXPACTI_HOME", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert wire.socket_path() == str(sockets.socket_path())


HEAVY = ("rich", "tinydb", "tree_sitter", "prompt_toolkit", "click", "re", "json", "typing", "enum")


def test_shim_hot_path_imports_nothing_heavy(tmp_path: Path) -> None:
    """What `expacti-sh` loads before it asks the broker (measured in a fresh -I -S process)."""
    root = str(Path(wire.__file__).resolve().parents[2])
    code = (
        f"import sys; sys.path.insert(0, {root!r}); import expacti_cli.shim.main; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
