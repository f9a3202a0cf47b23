"""`expacti mcp`: serve the gated `exec` tool over MCP, or print a client's config snippet.

The MCP SDK is imported only when the server starts (integrations/mcp_server.py): the rest
of the CLI, and `--print-config`, never pay for it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from expacti_cli.errors import ExpactiError

CLIENTS = ("claude", "cursor", "codex")
WHERE = {
    "claude": "add it with `claude mcp add-json expacti '<the \"expacti\" object>'`, or merge "
    "it into .mcp.json in your project",
    "cursor": "merge it into ~/.cursor/mcp.json (or .cursor/mcp.json in your project)",
    "codex": "append it to ~/.codex/config.toml",
}

EPILOG = """\b
Tools and resources served:
  exec(command, cwd, context, timeout_s)  gate the command, run it once allowed, return
                                          stdout, stderr, exit code, decision, decided_by,
                                          risk; a denial is a tool error with the reason
  score(command, cwd)                     risk and what exec would do, without running
  expacti://pending                       this server's commands waiting for a human

\b
Environment:
  EXPACTI_CONTEXT    default context shown to the reviewer (same as --context)
  EXPACTI_MCP_TOKEN  bearer token HTTP clients must send (--http; default: a random one,
                     printed on stderr)
"""


def _check_timeout(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is None:
        return None
    from expacti_cli.broker import gate

    low = gate.min_timeout()
    if not low <= value <= gate.MAX_TIMEOUT:
        raise click.BadParameter(f"must be from {low} to {gate.MAX_TIMEOUT} seconds")
    return value


def _expacti_path() -> str:
    """The `expacti` console script next to this Python, else the one on PATH."""
    beside = Path(sys.executable).with_name("expacti")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("expacti") or "expacti"


def client_config(client: str, *, context: str = "") -> str:
    """The snippet to paste into `client`'s configuration (JSON, or TOML for codex)."""
    env: dict[str, str] = {}
    if context:
        env["EXPACTI_CONTEXT"] = context
    home = os.environ.get("EXPACTI_HOME", "").strip()
    if home:  # the server must find the same config, rules and broker as the user's CLI
        env["EXPACTI_HOME"] = os.path.abspath(os.path.expanduser(home))
    server: dict[str, Any] = {"command": _expacti_path(), "args": ["mcp"]}
    if client == "codex":
        return _codex_toml(server["command"], env)
    if client == "claude":
        server = {"type": "stdio", **server}
    server["env"] = env
    return json.dumps({"mcpServers": {"expacti": server}}, indent=2) + "\n"


def _toml_string(text: str) -> str:
    # A JSON string is a valid TOML basic string: the same quotes and escapes.
    return json.dumps(text, ensure_ascii=False)


def _codex_toml(command: str, env: dict[str, str]) -> str:
    from expacti_cli.broker import gate
    from expacti_cli.integrations.mcp_exec import MAX_COMMAND_TIMEOUT

    # Codex gives up on a tool call after 60 s by default; a human may take the whole
    # approval timeout, then the command its own.
    tool_timeout = gate.MAX_TIMEOUT + MAX_COMMAND_TIMEOUT + 60
    lines = [
        "[mcp_servers.expacti]",
        f"command = {_toml_string(command)}",
        'args = ["mcp"]',
        f"tool_timeout_sec = {tool_timeout}",
    ]
    if env:
        lines += ["", "[mcp_servers.expacti.env]"]
        lines += [f"{key} = {_toml_string(value)}" for key, value in env.items()]
    return "\n".join(lines) + "\n"


@click.command("mcp", epilog=EPILOG)
@click.option(
    "--print-config",
    "print_config",
    type=click.Choice(CLIENTS),
    help="Print the snippet that registers this server with CLIENT, then exit.",
)
@click.option(
    "--context",
    envvar="EXPACTI_CONTEXT",
    default="",
    help="What the agent is working on (shown to the reviewer when a call gives none).",
)
@click.option("--name", default="mcp", show_default=True, help="Session name the reviewer sees.")
@click.option(
    "--approval-timeout",
    type=int,
    callback=_check_timeout,
    help="Seconds a command waits for a human (30-600; default: config approval_timeout).",
)
@click.option("--http", is_flag=True, help="Serve streamable HTTP on 127.0.0.1 instead of stdio.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port for --http (0: any free port).",
)
def mcp(
    print_config: str | None,
    context: str,
    name: str,
    approval_timeout: int | None,
    http: bool,
    port: int,
) -> None:
    """Serve expacti's gated `exec` tool to an MCP client (stdio by default).

    For agents that run commands through MCP tools instead of a shell. The agent calls
    `exec`; expacti scores the command and runs it at once when a rule or the threshold
    allows it, otherwise it waits for `expacti approve` in another terminal, exactly like
    `expacti exec`. The result carries stdout, stderr (each capped by config
    mcp_output_limit, the cut marked), the exit code, the decision, who decided and the
    risk score. A denied command never runs and the model gets the reviewer's reason. A
    client that cancels a call withdraws its waiting request.

    \b
    Examples:
      expacti mcp --print-config claude     # JSON for Claude Code (.mcp.json)
      expacti mcp --print-config cursor     # JSON for ~/.cursor/mcp.json
      expacti mcp --print-config codex      # TOML for ~/.codex/config.toml
      claude mcp add expacti -- expacti mcp
      EXPACTI_CONTEXT="debugging /api/sessions" expacti mcp
      expacti mcp --http --port 8765        # http://127.0.0.1:8765/mcp
    """
    if print_config is not None:
        click.echo(client_config(print_config, context=context), nl=False)
        click.echo(f"expacti: {WHERE[print_config]}", err=True)
        return
    from expacti_cli.config import load_config

    limit = load_config().mcp_output_limit
    try:
        from expacti_cli.integrations import mcp_server
    except ImportError as exc:  # the SDK is a dependency; a broken install says so
        raise ExpactiError(f"the MCP SDK cannot be imported ({exc}); reinstall expacti") from None
    joined = os.environ.get("EXPACTI_SESSION", "").strip()
    settings = mcp_server.ServerSettings(
        # Inside `expacti run` the session is that one's; otherwise this server opens its own.
        session=joined or os.urandom(8).hex(),
        joined=bool(joined),
        context=context,
        approval_timeout=approval_timeout,
        output_limit=limit,
    )
    if not http:
        if sys.stdin.isatty():
            click.echo(
                "expacti mcp: speaking MCP on stdin/stdout; an MCP client starts this "
                "(see `expacti mcp --print-config claude`). Ctrl-C to quit.",
                err=True,
            )
        mcp_server.serve_stdio(settings, name)
        return
    token = os.environ.get("EXPACTI_MCP_TOKEN", "").strip()
    made_up = not token
    if made_up:
        import secrets

        token = secrets.token_urlsafe(24)
    mcp_server.serve_http(settings, name, port, token, show_token=made_up)
