"""`expacti mcp --print-config` read by the agents themselves: Claude Code registers the JSON
snippet and its health check connects to the server; Codex reads the TOML snippet.

Needs the CLIs (npm @anthropic-ai/claude-code, @openai/codex): on PATH, or EXPACTI_TEST_CLAUDE
/ EXPACTI_TEST_CODEX; each test skips with the reason when its CLI is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from claude_standin import claude_binary
from codex_standin import codex_binary

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")

CLAUDE = claude_binary()
CODEX = codex_binary()


@pytest.mark.skipif(
    CLAUDE is None, reason="Claude Code CLI not installed (set EXPACTI_TEST_CLAUDE)"
)
def test_claude_code_registers_the_snippet_and_connects(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    printed = run_cli("mcp", "--print-config", "claude", "--context", "fix the login bug")
    assert printed.returncode == 0, printed.stderr
    server = json.loads(printed.stdout)["mcpServers"]["expacti"]
    env = dict(
        os.environ,
        HOME=str(tmp_path),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
    )
    env.pop("CLAUDE_CONFIG_DIR", None)

    def claude(*args: str) -> subprocess.CompletedProcess[str]:
        assert CLAUDE is not None
        return subprocess.run(
            [CLAUDE, "mcp", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            timeout=90,
        )

    added = claude("add-json", "-s", "user", "expacti", json.dumps(server))
    assert added.returncode == 0, added.stdout + added.stderr
    listed = claude("list")  # the health check starts `expacti mcp` and initializes it
    assert listed.returncode == 0, listed.stdout + listed.stderr
    [line] = [row for row in listed.stdout.splitlines() if row.startswith("expacti:")]
    assert "Connected" in line, listed.stdout


@pytest.mark.skipif(CODEX is None, reason="Codex CLI not installed (set EXPACTI_TEST_CODEX)")
def test_codex_reads_the_toml_snippet(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    printed = run_cli("mcp", "--print-config", "codex", "--context", "fix the login bug")
    assert printed.returncode == 0, printed.stderr
    codex_home = tmp_path / "codex-home"
    codex_home.mkdir()
    (codex_home / "config.toml").write_text(printed.stdout)
    assert CODEX is not None
    shown = subprocess.run(
        [CODEX, "mcp", "get", "expacti", "--json"],
        capture_output=True,
        text=True,
        env=dict(os.environ, CODEX_HOME=str(codex_home), HOME=str(tmp_path)),
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    server = json.loads(shown.stdout)
    assert server["enabled"] is True
    transport = server["transport"]
    assert (transport["type"], Path(transport["command"]).name, transport["args"]) == (
        "stdio",
        "expacti",
        ["mcp"],
    )
    assert transport["env"] == {
        "EXPACTI_CONTEXT": "fix the login bug",
        "EXPACTI_HOME": os.environ["EXPACTI_HOME"],
    }
    assert server["tool_timeout_sec"] > 600  # a human may take the whole approval timeout
