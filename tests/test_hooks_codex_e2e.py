"""The real Codex CLI against a stand-in Responses API, gated by `expacti hook codex`.

Needs the CLI (npm @openai/codex): `codex` on PATH or EXPACTI_TEST_CODEX. Hook trust is
bypassed with `--dangerously-bypass-hook-trust` (a user trusts it once in /hooks).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from codex_standin import ResponsesStandIn, codex_binary

from expacti_cli.integrations import settings

pytest_plugins = ("broker_support",)

CODEX = codex_binary()
pytestmark = [
    pytest.mark.usefixtures("broker_env"),
    pytest.mark.skipif(CODEX is None, reason="Codex CLI not installed (set EXPACTI_TEST_CODEX)"),
]

PROVIDER = """model = "gpt-standin"
model_provider = "standin"

[model_providers.standin]
name = "standin"
base_url = "{url}"
wire_api = "responses"
env_key = "STANDIN_API_KEY"
"""


def test_codex_exec_command_is_gated_by_the_hook(broker, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project, codex_home = tmp_path / "project", tmp_path / "codex-home"
    (project / "victim").mkdir(parents=True)
    codex_home.mkdir()
    assert run_cli("whitelist", "add", "ls").returncode == 0
    with ResponsesStandIn(["ls", "rm -rf victim"]) as model:
        config = codex_home / "config.toml"
        config.write_text(PROVIDER.format(url=model.base_url))
        assert settings.install("codex", config).changed
        env = dict(os.environ, CODEX_HOME=str(codex_home), HOME=str(tmp_path), STANDIN_API_KEY="x")
        proc = subprocess.Popen(
            [
                str(CODEX),
                "exec",
                "--dangerously-bypass-hook-trust",
                "--skip-git-repo-check",
                "do it",
            ],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not (pending := broker.wait_pending(0)):
                assert proc.poll() is None and time.monotonic() < deadline, "no request came"
                time.sleep(0.1)
            [request] = pending
            assert (request["command"], request["source"]) == ("rm -rf victim", "codex-hook")
            assert request["cwd"] == str(project)
            assert run_cli("deny", request["id"], "--reason", "leave it").returncode == 0
            out, _ = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, out
    assert (project / "victim").is_dir()
    blocked = model.outputs["call_2"]
    assert "blocked by PreToolUse hook" in blocked and "leave it" in blocked
    decisions = [(r["command"], r["decision"]) for r in broker.audit_records("decision")]
    assert decisions == [("ls", "auto_approved_rule"), ("rm -rf victim", "denied")]
