"""The shim under CLAUDE_CODE_SHELL_PREFIX: Claude Code's `PREFIX 'WRAPPER'` call is shown to
the reviewer as the command inside, with a note that it runs through the prefix program; the
same call without the prefix in the environment stays an ordinary (whole) command."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from expacti_cli.shim.launcher import write_launcher

CAPTURED = json.loads(
    (Path(__file__).parent / "shim_data" / "claude-2.1.197-shell-prefix-calls.json").read_text()
)


def _start(shim: Path, script: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(shim), "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize("with_prefix", [True, False])
def test_a_prefixed_call_is_unwrapped_only_with_its_prefix(
    broker, run_cli, tmp_path: Path, with_prefix: bool
) -> None:  # type: ignore[no-untyped-def]
    call = CAPTURED[0]
    shim = write_launcher(tmp_path / "shims")
    env = dict(os.environ, HOME=call["home"])
    env.pop("CLAUDE_CONFIG_DIR", None)
    env.pop("CLAUDE_CODE_SHELL_PREFIX", None)
    if with_prefix:
        env["CLAUDE_CODE_SHELL_PREFIX"] = call["prefix"]
    proc = _start(shim, call["script"], env)
    try:
        [request] = broker.wait_pending()
        if with_prefix:
            assert request["command"] == call["command"]
            assert f"CLAUDE_CODE_SHELL_PREFIX {call['prefix']}" in request["context"]
        else:
            assert request["command"] == call["script"]
        assert run_cli("deny", request["id"], "--reason", "not now").returncode == 0
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 126, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
