"""`expacti mcp` end to end: the real CLI as a subprocess, driven by the MCP SDK's own client
over stdio, with a real broker per test and decisions made from other processes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextResourceContents

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")


@asynccontextmanager
async def mcp_client(*args: str, env: dict[str, str] | None = None) -> AsyncIterator[Client]:
    """`python -m expacti_cli mcp ARGS...` as a stdio subprocess, with the SDK's client."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "expacti_cli", "mcp", *args],
        env={**os.environ, **(env or {})},
    )
    async with Client(params) as client:
        yield client


def run(test: Callable[[], Awaitable[None]]) -> None:
    anyio.run(test)


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def writer(marker: Path) -> str:
    """A command that appends a line to `marker`: a second run would show."""
    return f"echo ran >> {marker}"


def group_members(pgid: int) -> list[int]:
    """Live processes of process group `pgid` (zombies count as gone)."""
    members = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    return await anyio.to_thread.run_sync(fn, *args)


def test_lists_its_tools_and_the_pending_resource() -> None:
    async def test() -> None:
        async with mcp_client() as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"exec", "score"}
            exec_schema = tools["exec"].input_schema
            assert set(exec_schema["properties"]) == {"command", "cwd", "context", "timeout_s"}
            assert exec_schema["required"] == ["command"]
            output = tools["exec"].output_schema or {}
            assert {"stdout", "exit_code", "decision", "decided_by", "risk_score"} <= set(
                output.get("properties", {})
            )
            assert tools["score"].annotations is not None
            assert tools["score"].annotations.read_only_hint is True
            resources = (await client.list_resources()).resources
            assert [str(r.uri) for r in resources] == ["expacti://pending"]

    run(test)


def test_whitelisted_exec_returns_output_exit_code_and_decision(broker, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    command = "echo hello; echo oops >&2; exit 3"
    assert run_cli("whitelist", "add", command).returncode == 0

    async def test() -> None:
        async with mcp_client() as client:
            result = await client.call_tool("exec", {"command": command, "cwd": str(tmp_path)})
        assert result.is_error is False, text_of(result)
        data = result.structured_content or {}
        assert (data["stdout"], data["stderr"], data["exit_code"]) == ("hello\n", "oops\n", 3)
        assert (data["ran"], data["decision"], data["cwd"]) == (
            True,
            "auto_approved_rule",
            str(tmp_path),
        )
        assert data["decided_by"].startswith("rule ")
        assert isinstance(data["risk_score"], int) and data["risk_level"]
        assert "exit code 3" in text_of(result) and "hello" in text_of(result)

    run(test)
    [decision] = broker.audit_records("decision")
    assert (decision["source"], decision["cwd"]) == ("mcp", str(tmp_path))
    assert [e["exit_code"] for e in broker.audit_records("exit")] == [3]


def test_risky_exec_waits_for_a_human_and_runs_once_approved(broker, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    context = "debugging /api/sessions"

    async def test() -> None:
        async with mcp_client(env={"EXPACTI_CONTEXT": context}) as client:
            results: list[CallToolResult] = []
            progress: list[str] = []

            async def on_progress(done: float, total: float | None, message: str | None) -> None:
                progress.append(message or "")

            async def call() -> None:
                arguments = {"command": writer(marker), "cwd": str(tmp_path)}
                results.append(
                    await client.call_tool("exec", arguments, progress_callback=on_progress)
                )

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(call)
                [request] = await in_thread(broker.wait_pending)
                assert (request["source"], request["context"]) == ("mcp", context)
                assert request["session_name"] == "mcp"
                assert not marker.exists()
                # The agent sees its own waiting request in the resource.
                read = await client.read_resource("expacti://pending")
                content = read.contents[0]
                assert isinstance(content, TextResourceContents)
                assert [r["id"] for r in json.loads(content.text)["pending"]] == [request["id"]]
                approved = await in_thread(run_cli, "approve", request["id"][:8])
                assert approved.returncode == 0, approved.stderr
            [result] = results
            assert result.is_error is False, text_of(result)
            # While it waited, the client was told so (and which request it is).
            assert progress and f"request {request['id'][:8]}" in progress[0]
            assert "waiting for a human" in progress[0]
            data = result.structured_content or {}
            assert (data["decision"], data["decided_by"]) == ("approved", "reviewer@example.com")
            assert data["exit_code"] == 0 and data["request_id"] == request["id"]
            assert data["risk_score"] == request["score"]
            read = await client.read_resource("expacti://pending")
            assert isinstance(read.contents[0], TextResourceContents)
            assert json.loads(read.contents[0].text)["pending"] == []

    run(test)
    assert marker.read_text() == "ran\n"
    assert [e["exit_code"] for e in broker.audit_records("exit")] == [0]


def test_denied_exec_returns_the_reason_and_runs_nothing(broker, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"

    async def test() -> None:
        async with mcp_client() as client:
            results: list[CallToolResult] = []

            async def call() -> None:
                arguments = {"command": writer(marker), "context": "clean up"}
                results.append(await client.call_tool("exec", arguments))

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(call)
                [request] = await in_thread(broker.wait_pending)
                assert request["context"] == "clean up"
                denied = await in_thread(
                    run_cli, "deny", request["id"], "--reason", "use the staging database"
                )
                assert denied.returncode == 0, denied.stderr
            [result] = results
            assert result.is_error is True
            assert "use the staging database" in text_of(result)
            assert "did not run" in text_of(result)
            data = result.structured_content or {}
            assert (data["ran"], data["decision"], data["exit_code"]) == (False, "denied", None)
            assert data["decided_by"] == "reviewer@example.com"

    run(test)
    assert not marker.exists()
    assert broker.audit_records("exit") == []


def test_a_deny_rule_refuses_at_once_with_its_reason(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"
    assert run_cli("whitelist", "add", "--deny", "--kind", "prefix", "echo ran").returncode == 0

    async def test() -> None:
        async with mcp_client() as client:
            result = await client.call_tool("exec", {"command": writer(marker)})
        assert result.is_error is True
        data = result.structured_content or {}
        assert (data["decision"], data["ran"]) == ("denied", False)
        assert data["decided_by"].startswith("rule ")

    run(test)
    assert not marker.exists()


def test_cancelled_call_withdraws_its_request_and_runs_nothing(broker, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran.txt"

    async def test() -> None:
        async with mcp_client() as client:
            with anyio.CancelScope() as scope:

                async def call() -> None:
                    await client.call_tool("exec", {"command": writer(marker)})

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(call)
                    await in_thread(broker.wait_pending)
                    scope.cancel()  # the client sends notifications/cancelled
            # The server stays usable, and the withdrawal reaches the broker.
            with anyio.fail_after(15):
                while True:
                    pending = await in_thread(run_cli, "pending", "--json")
                    assert pending.returncode == 0, pending.stderr
                    if json.loads(pending.stdout) == []:
                        break
                    await anyio.sleep(0.1)
            score = await client.call_tool("score", {"command": "ls"})
            assert score.is_error is False

    run(test)
    assert [d["decision"] for d in broker.audit_records("decision")] == ["withdrawn"]
    assert not marker.exists()


def test_cancelling_a_running_command_stops_it_and_records_the_interruption(  # type: ignore[no-untyped-def]
    broker, run_cli, tmp_path
) -> None:
    started, finished = tmp_path / "started", tmp_path / "finished"
    # $$ is the group leader: the command runs in a process group of its own.
    command = f"echo $$ > {started}; sleep 30; touch {finished}"
    assert run_cli("whitelist", "add", command).returncode == 0

    async def test() -> None:
        async with mcp_client() as client:
            with anyio.CancelScope() as scope:

                async def call() -> None:
                    await client.call_tool("exec", {"command": command})

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(call)
                    with anyio.fail_after(15):
                        while not started.exists() or not started.read_text().strip():
                            await anyio.sleep(0.05)
                    scope.cancel()
            with anyio.fail_after(15):  # the exit record follows the process group's end
                while not broker.audit_records("exit"):
                    await anyio.sleep(0.05)

    run(test)
    assert [e["exit_code"] for e in broker.audit_records("exit")] == [130]
    assert group_members(int(started.read_text())) == []  # bash and its sleep are gone
    assert not finished.exists()


def test_command_timeout_is_its_own_and_stops_the_command(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    command = "echo started; sleep 30; echo never"
    assert run_cli("whitelist", "add", command).returncode == 0

    async def test() -> None:
        async with mcp_client() as client:
            with anyio.fail_after(20):
                result = await client.call_tool("exec", {"command": command, "timeout_s": 1})
        data = result.structured_content or {}
        assert (data["timed_out"], data["stdout"], data["ran"]) == (True, "started\n", True)
        assert data["exit_code"] == 128 + 15  # SIGTERM

    run(test)


def test_long_output_is_capped_and_the_cut_marked(run_cli) -> None:  # type: ignore[no-untyped-def]
    command = "seq 1 100000"
    assert run_cli("config", "set", "mcp_output_limit", "1024").returncode == 0
    assert run_cli("whitelist", "add", command).returncode == 0

    async def test() -> None:
        async with mcp_client() as client:
            result = await client.call_tool("exec", {"command": command})
        data = result.structured_content or {}
        out = data["stdout"]
        assert data["stdout_truncated"] is True and data["stderr_truncated"] is False
        assert out.startswith("1\n2\n3\n") and out.endswith("99999\n100000\n")
        assert "bytes of output left out" in out
        assert len(out.encode()) < 1024 + 100

    run(test)


def test_bad_cwd_is_an_error_and_submits_nothing(broker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    async def test() -> None:
        async with mcp_client() as client:
            missing = str(tmp_path / "nowhere")
            result = await client.call_tool("exec", {"command": "ls", "cwd": missing})
        assert result.is_error is True
        assert "not a directory" in text_of(result)

    run(test)
    assert broker.audit_records("decision") == []


def test_score_judges_without_running(tmp_path) -> None:
    marker = tmp_path / "ran.txt"

    async def test() -> None:
        async with mcp_client() as client:
            result = await client.call_tool("score", {"command": f"rm -rf / && {writer(marker)}"})
        data = result.structured_content or {}
        assert (data["level"], data["score"], data["policy"]) == ("CRITICAL", 100, "ask")
        assert any(r["code"] == "category:file_delete" for r in data["reasons"])

    run(test)
    assert not marker.exists()


@pytest.mark.parametrize("client", ["claude", "cursor", "codex"])
def test_print_config_is_a_snippet_that_starts_this_server(run_cli, client) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("mcp", "--print-config", client, "--context", 'fix "the" bug')
    assert result.returncode == 0, result.stderr
    if client == "codex":
        import tomllib

        server = tomllib.loads(result.stdout)["mcp_servers"]["expacti"]
        assert server["tool_timeout_sec"] > 600
    else:
        server = json.loads(result.stdout)["mcpServers"]["expacti"]
    assert server["args"] == ["mcp"]
    assert Path(server["command"]).name == "expacti" and os.access(server["command"], os.X_OK)
    assert server["env"]["EXPACTI_CONTEXT"] == 'fix "the" bug'
    assert server["env"]["EXPACTI_HOME"] == os.environ["EXPACTI_HOME"]


def test_the_rest_of_the_cli_does_not_import_the_sdk() -> None:
    probe = (
        "import sys\n"
        "from expacti_cli.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('mcp' in sys.modules, file=sys.stderr)\n"
    )
    import subprocess

    for args in (["--help"], ["mcp", "--help"], ["mcp", "--print-config", "codex"]):
        done = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=30
        )
        assert done.stderr.strip().splitlines()[-1] == "False", (args, done.stderr)


def test_http_serves_loopback_only_and_needs_the_token() -> None:
    import re
    import subprocess

    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    proc = subprocess.Popen(
        [sys.executable, "-m", "expacti_cli", "mcp", "--http", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "EXPACTI_MCP_TOKEN": "test-token"},
    )
    try:
        assert proc.stderr is not None
        found = re.search(r"http://127\.0\.0\.1:\d+/mcp", proc.stderr.readline())
        assert found, "no address printed"
        url = found.group(0)

        async def test() -> None:
            headers = {"Authorization": "Bearer test-token"}
            async with httpx2.AsyncClient(headers=headers) as http:
                async with Client(streamable_http_client(url, http_client=http)) as client:
                    tools = (await client.list_tools()).tools
                    assert {t.name for t in tools} == {"exec", "score"}
            async with httpx2.AsyncClient() as http:
                for token in ("", "Bearer wrong-token"):
                    answer = await http.post(
                        url, json={}, headers={"Authorization": token} if token else {}
                    )
                    assert answer.status_code == 401

        run(test)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()
