"""`expacti mcp`: an MCP server whose `exec` tool goes through the approval queue.

Tools: `exec` (gate, run, return output and the decision; a denial is a tool error carrying
the reviewer's reason) and `score` (risk and what the policy would do, without running).
Resource: `expacti://pending`, this server's own requests waiting for a human.

The server registers one broker session (source "mcp", its context) for its whole life, so
the reviewer sees where the commands come from, and everything below this process counts as
gated (nothing it runs can approve anything). Built on the official MCP SDK's MCPServer;
only `expacti mcp` imports this module.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from expacti_cli import __version__
from expacti_cli.errors import ExpactiError
from expacti_cli.integrations import mcp_exec
from expacti_cli.shim import decide

PENDING_URI = "expacti://pending"
PROGRESS_EVERY = 5.0  # seconds between progress notifications while a human is asked

INSTRUCTIONS = """\
Run shell commands through expacti's approval gate with the `exec` tool. Each command is scored
for risk; whitelisted and low-risk commands run at once, the others wait until a human approves
or denies them (this can take minutes). A denied command did not run: the tool error carries
the reviewer's reason, so adjust the plan instead of retrying the same command. Give `context`
(why the command is needed) to help the reviewer. `score` shows the risk of a command without
running it; the `expacti://pending` resource lists your commands still waiting for a human."""


@dataclass(frozen=True)
class ServerSettings:
    """What one `expacti mcp` process needs to know."""

    session: str
    joined: bool = False  # the session is another process's (`expacti run`): do not register it
    context: str = ""
    approval_timeout: int | None = None  # None: the broker's approval_timeout from config
    output_limit: int = 65536  # bytes kept of each of stdout and stderr


EXEC_HELP = """\
Run a shell command (bash) once expacti allows it: whitelisted and low-risk commands run at \
once, others wait for a human reviewer. Returns stdout, stderr, the exit code, the decision, \
who decided and the risk score. A denied command does not run; the error says why."""

SCORE_HELP = """\
The risk of a command (0-100, with the reasons) and what `exec` would do with it now (allow: \
run at once, ask: wait for a human, deny), without running anything."""


class ExecResult(BaseModel):
    """The structured result of `exec`."""

    command: str
    cwd: str
    ran: bool = Field(description="Whether the command ran (false when denied)")
    exit_code: int | None = Field(description="Its exit status; 128+N when killed by signal N")
    stdout: str
    stderr: str
    stdout_truncated: bool = Field(description="Bytes were left out of the middle of stdout")
    stderr_truncated: bool = Field(description="Bytes were left out of the middle of stderr")
    timed_out: bool = Field(description="The command ran past timeout_s and was stopped")
    duration_ms: int | None
    decision: str = Field(
        description="approved, auto_approved_rule, auto_approved_threshold, timed_out, "
        "denied, withdrawn or error"
    )
    decided_by: str = Field(description="The reviewer, the rule or the policy that decided")
    reason: str
    risk_score: int | None
    risk_level: str | None
    request_id: str


class ScoreReason(BaseModel):
    code: str
    text: str
    points: int


class ScorePart(BaseModel):
    text: str
    category: str
    score: int


class ScoreResult(BaseModel):
    """The structured result of `score`."""

    command: str
    score: int = Field(description="0-100")
    level: str = Field(description="LOW 0-29, MEDIUM 30-59, HIGH 60-84, CRITICAL 85-100")
    summary: str
    reasons: list[ScoreReason]
    parts: list[ScorePart]
    anomalies: list[str] = Field(description="Unusual for this user, per the audit history")
    policy: str = Field(
        description="What exec would do now: allow (runs at once), ask (waits for a human) or deny"
    )
    policy_reason: str


def _resolve_cwd(cwd: str) -> str:
    """The absolute directory a command runs in (relative ones are under the server's)."""
    path = os.path.abspath(os.path.expanduser(cwd)) if cwd else os.getcwd()
    if not os.path.isdir(path):
        raise ToolError(f"cwd {cwd!r} is not a directory; nothing ran")
    return path


def _decided_by(verdict: decide.Verdict) -> str:
    answer = verdict.answer
    if answer.get("reviewer"):
        return str(answer["reviewer"])
    rule = answer.get("rule_id")
    if verdict.decision in ("auto_approved_rule", "denied") and rule:
        return f"rule {rule}"
    return {
        "auto_approved_threshold": "the auto_approve_below threshold",
        "auto_approved_rule": "a rule",
        "denied": "the policy",
        "timed_out": "nobody (approval timed out)",
        "withdrawn": "nobody (withdrawn)",
    }.get(verdict.decision, "expacti")


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _not_run(command: str, cwd: str, verdict: decide.Verdict) -> CallToolResult:
    """A tool error the model can read: who refused, why, and that nothing ran."""
    by = _decided_by(verdict)
    if verdict.decision == "timed_out":
        headline = "no one approved the command in time"
    elif verdict.decision == "error":
        headline = "the command could not be gated"
    else:
        headline = f"{verdict.decision} by {by}"
    result = ExecResult(
        command=command,
        cwd=cwd,
        ran=False,
        exit_code=None,
        stdout="",
        stderr="",
        stdout_truncated=False,
        stderr_truncated=False,
        timed_out=False,
        duration_ms=None,
        decision=verdict.decision,
        decided_by=by,
        reason=verdict.reason,
        risk_score=_int_or_none(verdict.answer.get("score")),
        risk_level=verdict.answer.get("level") or None,
        request_id=verdict.request_id,
    )
    text = f"expacti: {headline}: {verdict.reason}\nThe command did not run."
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=result.model_dump(mode="json"),
        is_error=True,
    )


def _ran(
    command: str, cwd: str, verdict: decide.Verdict, outcome: mcp_exec.Outcome
) -> CallToolResult:
    by = _decided_by(verdict)
    result = ExecResult(
        command=command,
        cwd=cwd,
        ran=True,
        exit_code=outcome.exit_code,
        stdout=outcome.stdout.text(),
        stderr=outcome.stderr.text(),
        stdout_truncated=outcome.stdout.omitted > 0,
        stderr_truncated=outcome.stderr.omitted > 0,
        timed_out=outcome.timed_out,
        duration_ms=outcome.duration_ms,
        decision=verdict.decision,
        decided_by=by,
        reason=verdict.reason,
        risk_score=_int_or_none(verdict.answer.get("score")),
        risk_level=verdict.answer.get("level") or None,
        request_id=verdict.request_id,
    )
    status = f"exit code {outcome.exit_code}"
    if outcome.timed_out:
        status += " (stopped: it ran past timeout_s)"
    risk = f"{result.risk_level} {result.risk_score}" if result.risk_level else "risk unknown"
    lines = [f"{status} · {verdict.decision} by {by} · {risk}"]
    for name, value in (("stdout", result.stdout), ("stderr", result.stderr)):
        if value:
            lines += [f"--- {name} ---", value.rstrip("\n")]
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(lines))],
        structured_content=result.model_dump(mode="json"),
        is_error=False,
    )


async def _gate_with_progress(request: mcp_exec.BrokerRequest, ctx: Context) -> decide.Verdict:
    """Wait for the verdict; while a human is asked, tell the client (progress notifications
    also keep clients that reset their timeout on progress from giving up)."""
    queued: dict[str, Any] = {}
    asked = anyio.Event()

    def on_queued(message: dict[str, Any]) -> None:  # in the worker thread
        queued.update(message["request"])
        with contextlib.suppress(Exception):
            anyio.from_thread.run_sync(asked.set)

    request.on_queued = on_queued

    async def heartbeat() -> None:
        await asked.wait()
        started = time.monotonic()
        ttl = _int_or_none(queued.get("ttl"))
        note = (
            f"waiting for a human to approve ({queued.get('level')} {queued.get('score')}), "
            f"request {str(queued.get('id', ''))[:8]}"
        )
        while True:
            with contextlib.suppress(Exception):
                await ctx.report_progress(time.monotonic() - started, ttl, note)
            await anyio.sleep(PROGRESS_EVERY)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(heartbeat)
        verdict = await mcp_exec.gate(request)
        tasks.cancel_scope.cancel()
    return verdict


def _own_pending(settings: ServerSettings) -> list[dict[str, Any]]:
    """This server's requests in the broker's queue (submitted from this process)."""
    from expacti_cli.broker import client

    try:
        answer = client.call("list")
    except client.BrokerUnavailable:
        return []
    requests = answer.get("requests")
    keep = ("id", "command", "cwd", "context", "score", "level", "summary", "requested_at")
    return [
        {key: r.get(key) for key in (*keep, "expires_at")}
        for r in (requests if isinstance(requests, list) else [])
        if isinstance(r, dict)
        and r.get("session") == settings.session
        and r.get("source") == mcp_exec.SOURCE
        and r.get("pid") == os.getpid()
    ]


def _score(command: str, cwd: str, session: str) -> ScoreResult:
    """What the broker would judge (score with anomalies, rules, policy) and the itemised risk."""
    from expacti_cli.broker import gate
    from expacti_cli.config import load_config
    from expacti_cli.risk import score_command

    judged = gate.evaluate(command, cwd, session=session)
    risk = score_command(command, load_config().risk)
    return ScoreResult(
        command=command,
        score=judged.score,
        level=judged.level,
        summary=judged.summary,
        reasons=[ScoreReason(code=r.code, text=r.text, points=r.points) for r in risk.reasons],
        parts=[ScorePart(text=p.text, category=p.category, score=p.score) for p in risk.parts],
        anomalies=list(judged.anomalies),
        policy=judged.action,
        policy_reason=judged.reason,
    )


def build_server(settings: ServerSettings) -> MCPServer:
    """The MCP server with its tools and resource (not started)."""
    server: MCPServer = MCPServer(
        "expacti",
        title="expacti: shell commands behind human approval",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
    )
    env = {**os.environ, "EXPACTI_SESSION": settings.session}

    @server.tool(
        name="exec",
        title="Run a shell command (gated)",
        description=EXEC_HELP,
        annotations=ToolAnnotations(destructive_hint=True, open_world_hint=True),
    )
    async def exec_(
        command: Annotated[str, Field(min_length=1, description="The command line (run by bash)")],
        ctx: Context,
        cwd: Annotated[
            str, Field(description="Directory to run it in (default: the server's)")
        ] = "",
        context: Annotated[
            str, Field(description="Why the command is needed (shown to the reviewer)")
        ] = "",
        timeout_s: Annotated[
            int,
            Field(
                ge=1,
                le=mcp_exec.MAX_COMMAND_TIMEOUT,
                description="Seconds the command may run once approved (the wait for approval "
                "does not count)",
            ),
        ] = mcp_exec.DEFAULT_COMMAND_TIMEOUT,
    ) -> Annotated[CallToolResult, ExecResult]:
        """Gate the command, run it once allowed, and report (EXEC_HELP)."""
        where = _resolve_cwd(cwd)
        request = mcp_exec.BrokerRequest(
            command,
            where,
            session=settings.session,
            context=context or settings.context,
            ttl=settings.approval_timeout,
        )
        try:
            verdict = await _gate_with_progress(request, ctx)
            if not verdict.allowed:
                return _not_run(command, where, verdict)
            try:
                outcome = await mcp_exec.run_and_report(
                    request,
                    verdict.request_id,
                    env,
                    timeout_s=timeout_s,
                    limit=settings.output_limit,
                )
            except mcp_exec.CannotStart as exc:
                raise ToolError(str(exc)) from None
            return _ran(command, where, verdict, outcome)
        finally:
            request.close()

    @server.tool(
        name="score",
        title="Score a command's risk (does not run it)",
        description=SCORE_HELP,
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False),
    )
    async def score(
        command: Annotated[str, Field(min_length=1, description="The command line to judge")],
        cwd: Annotated[str, Field(description="Directory it would run in")] = "",
    ) -> ScoreResult:
        """Score the command and ask the policy, running nothing (SCORE_HELP)."""
        where = os.path.abspath(os.path.expanduser(cwd)) if cwd else os.getcwd()
        return await anyio.to_thread.run_sync(_score, command, where, settings.session)

    @server.resource(
        PENDING_URI,
        name="pending",
        title="Commands waiting for approval",
        description="This server's commands waiting for a human decision (JSON).",
        mime_type="application/json",
    )
    async def pending() -> str:
        requests = await anyio.to_thread.run_sync(_own_pending, settings)
        return json.dumps({"session": settings.session, "pending": requests}, indent=2)

    return server


# --- the broker session and the transports -------------------------------------------------


@contextlib.asynccontextmanager
async def broker_session(settings: ServerSettings, name: str) -> AsyncIterator[None]:
    """Register the session with the broker for the server's life (warn when it cannot)."""
    from expacti_cli.broker import client

    def register() -> client.Connection | None:
        try:
            conn = client.connect()
        except client.BrokerUnavailable as exc:
            _warn(f"{exc}; every exec call will be refused until a broker runs")
            return None
        request = {
            "op": "session",
            "session": settings.session,
            "name": name,
            "context": settings.context,
            "program": "expacti mcp",
        }
        try:
            conn.call(request, timeout=10)
        except (client.BrokerRefused, client.BrokerUnavailable, TimeoutError) as exc:
            _warn(f"session not registered with the broker: {exc}")
        return conn

    conn = None if settings.joined else await anyio.to_thread.run_sync(register)
    try:
        yield
    finally:
        if conn is not None:
            conn.close()


def _warn(message: str) -> None:
    from expacti_cli.ui.escape import escape_for_display

    print(f"expacti mcp: warning: {escape_for_display(message)}", file=sys.stderr, flush=True)


def serve_stdio(settings: ServerSettings, name: str) -> None:
    """Serve MCP on stdin/stdout until the client closes it."""
    server = build_server(settings)

    async def main() -> None:
        async with broker_session(settings, name):
            await server.run_stdio_async()

    anyio.run(main)


def bearer_guard(app: Callable[..., Any], token: str) -> Callable[..., Any]:
    """An ASGI wrapper refusing HTTP requests without `Authorization: Bearer <token>`: the
    port is reachable by every local user, the token only by those it was given to."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            headers = dict(scope.get("headers") or [])
            if not secrets.compare_digest(headers.get(b"authorization", b""), expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"text/plain"),
                            (b"www-authenticate", b'Bearer realm="expacti"'),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b"missing or wrong token\n"})
                return
        await app(scope, receive, send)

    return guarded


def serve_http(
    settings: ServerSettings, name: str, port: int, token: str, *, show_token: bool
) -> None:
    """Serve MCP over streamable HTTP on 127.0.0.1 only; print the address to stderr (and
    the token, when it was made up here rather than given in EXPACTI_MCP_TOKEN)."""
    import socket

    import uvicorn

    server = build_server(settings)
    app = server.streamable_http_app(host="127.0.0.1")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
    except OSError as exc:
        listener.close()
        raise ExpactiError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    bound = listener.getsockname()[1]
    bearer = token if show_token else "$EXPACTI_MCP_TOKEN"
    print(
        f"expacti mcp: serving http://127.0.0.1:{bound}/mcp\n"
        f"expacti mcp: clients must send the header `Authorization: Bearer {bearer}`",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(bearer_guard(app, token), log_level="warning", lifespan="on")
    http = uvicorn.Server(config)

    async def main() -> None:
        async with broker_session(settings, name):
            await http.serve(sockets=[listener])

    try:
        anyio.run(main)
    finally:
        listener.close()
