"""`expacti mcp` checked by a client no one here wrote: the MCP Inspector's CLI mode
(npm @modelcontextprotocol/inspector), over stdio and over streamable HTTP.

Needs EXPACTI_TEST_MCP_INSPECTOR, the path of its `mcp-inspector` binary (`.ci/run` sets it).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ("broker_support",)

ENV_INSPECTOR = "EXPACTI_TEST_MCP_INSPECTOR"


def _inspector() -> tuple[str | None, str]:
    path = os.environ.get(ENV_INSPECTOR, "").strip()
    if not path:
        return None, f"{ENV_INSPECTOR} is not set (path of npm @modelcontextprotocol/inspector)"
    if not os.access(path, os.X_OK):
        return None, f"{ENV_INSPECTOR}={path} is not an executable file"
    return path, ""


INSPECTOR, WHY_NOT = _inspector()
pytestmark = [
    pytest.mark.usefixtures("broker_env"),
    pytest.mark.skipif(INSPECTOR is None, reason=WHY_NOT),
]
SERVER = [sys.executable, "-m", "expacti_cli", "mcp"]
# The Inspector starts a stdio server with a minimal environment (PATH, HOME...): what the
# server needs of the test's environment is passed with -e.
PASSED = ("EXPACTI_HOME", "EXPACTI_TEST_MIN_TIMEOUT", "EXPACTI_BROKER_IDLE")


def stdio_server() -> list[str]:
    """The Inspector's arguments that start `expacti mcp` over stdio."""
    env = [arg for key in PASSED if key in os.environ for arg in ("-e", f"{key}={os.environ[key]}")]
    return [*env, *SERVER]


def inspect(tmp_path: Path, *args: str) -> dict[str, Any]:
    """Run the Inspector CLI once; the MCP result it prints. Its own files go under tmp_path."""
    assert INSPECTOR is not None
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "MCP_CATALOG_PATH": str(tmp_path / "catalog.json"),
        "MCP_CLIENT_CONFIG_PATH": str(tmp_path / "client.json"),
    }
    done = subprocess.run(
        [INSPECTOR, "--cli", *args, "--format", "json", "-q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout)["result"])


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_inspector_lists_the_tools_over_stdio(tmp_path, era) -> None:  # type: ignore[no-untyped-def]
    listed = inspect(tmp_path, *stdio_server(), "--protocol-era", era, "--method", "tools/list")
    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert set(tools) == {"exec", "score"}
    assert tools["exec"]["inputSchema"]["required"] == ["command"]
    assert "timeout_s" in tools["exec"]["inputSchema"]["properties"]


def test_inspector_calls_score(tmp_path) -> None:  # type: ignore[no-untyped-def]
    called = inspect(
        tmp_path,
        *stdio_server(),
        "--method",
        "tools/call",
        "--tool-name",
        "score",
        "--tool-arg",
        "command=kubectl delete deployment/api",
    )
    assert called.get("isError") in (None, False)
    data = called["structuredContent"]
    assert (data["level"], data["policy"]) == ("CRITICAL", "ask")
    assert data["score"] >= 85


def test_inspector_runs_a_whitelisted_exec(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("whitelist", "add", "echo from-inspector").returncode == 0
    called = inspect(
        tmp_path,
        *stdio_server(),
        "--method",
        "tools/call",
        "--tool-name",
        "exec",
        "--tool-arg",
        "command=echo from-inspector",
    )
    data = called["structuredContent"]
    assert (data["stdout"], data["exit_code"], data["decision"]) == (
        "from-inspector\n",
        0,
        "auto_approved_rule",
    )


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """`expacti mcp --http --port 0`; its URL (stopped after the test)."""
    env = {**os.environ, "EXPACTI_MCP_TOKEN": "test-token"}
    proc = subprocess.Popen(
        [*SERVER, "--http", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/mcp", line)
        assert found, line
        yield found.group(0)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def test_inspector_over_http_with_the_token(http_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    header = "Authorization: Bearer test-token"
    listed = inspect(tmp_path, http_server, "--header", header, "--method", "tools/list")
    assert {tool["name"] for tool in listed["tools"]} == {"exec", "score"}
    request = urllib.request.Request(http_server, data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
