"""`expacti hook AGENT` (the hook itself) and `expacti hook install|uninstall AGENT`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from expacti_cli.integrations.agents import AGENTS

AGENT = click.Choice(AGENTS)
MAX_INPUT = 4 * 1024 * 1024  # a hook's stdin is one tool call; more is not a tool call


@click.group("hook")
def hook() -> None:
    """Gate an agent's commands through its own pre-tool-use hook.

    `expacti hook claude|codex|cursor` is what the agent runs: it reads the tool call the
    agent sends on stdin, asks the broker (whitelist, risk threshold or a human via
    `expacti approve`), and answers allow or deny in that agent's format. Anything that goes
    wrong (no broker, bad input) answers deny.

    `expacti hook install AGENT` adds that hook to the agent's settings, for users who do
    not start the agent under `expacti run`.

    \b
    Examples:
      expacti hook install claude              # .claude/settings.json of this project
      expacti hook install claude --user       # ~/.claude/settings.json
      expacti hook install codex               # $CODEX_HOME/config.toml, then trust it in /hooks
      expacti hook install cursor --print      # show the snippet, change nothing
      expacti hook uninstall claude
    """


def _run_hook(agent: str) -> None:
    from expacti_cli.integrations.hook import run_hook

    raw = sys.stdin.read(MAX_INPUT + 1)
    if len(raw) > MAX_INPUT:
        raw = ""  # read_request turns this into a deny: not a tool call we can judge
    result = run_hook(agent, raw)
    if result.stdout:
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
    if result.stderr:
        sys.stderr.write(result.stderr)
        sys.stderr.flush()
    click.get_current_context().exit(result.exit_code)


def _agent_command(agent: str, help_text: str) -> click.Command:
    @click.command(agent, help=help_text)
    def run() -> None:
        _run_hook(agent)

    return run


hook.add_command(
    _agent_command(
        "claude",
        "Claude Code PreToolUse hook: JSON in on stdin, permissionDecision JSON out (exit 0).\n\n"
        "\b\nExample (.claude/settings.json):\n"
        '  {"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks":\n'
        '    [{"type": "command", "command": "expacti hook claude", "timeout": 660}]}]}}',
    )
)
hook.add_command(
    _agent_command(
        "codex",
        "Codex CLI PreToolUse hook: exit 0 allows; exit 2 with the reason on stderr blocks.\n\n"
        '\b\nExample:\n  echo \'{"tool_name": "Bash", "tool_input": {"command": "ls"}}\' '
        "| expacti hook codex",
    )
)
hook.add_command(
    _agent_command(
        "cursor",
        'Cursor beforeShellExecution hook: answers {"permission": "allow"|"deny", ...}.\n\n'
        '\b\nExample:\n  echo \'{"command": "ls", "cwd": "/tmp"}\' | expacti hook cursor',
    )
)


def _where(agent: str, project: Path | None, user: bool) -> Path:
    from expacti_cli.integrations.settings import settings_path

    if project is not None and user:
        raise click.UsageError("use either --project or --user, not both")
    return settings_path(agent, project, user)


_project = click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project directory (Claude, Cursor; default: the current directory).",
)
_user = click.option("--user", is_flag=True, help="The user-wide settings file instead.")


@hook.command("install")
@click.argument("agent", type=AGENT)
@_project
@_user
@click.option("--print", "print_only", is_flag=True, help="Show the snippet; change nothing.")
def install(agent: str, project: Path | None, user: bool, print_only: bool) -> None:
    """Add `expacti hook AGENT` to the agent's settings (idempotent, with a backup).

    Everything else in the file is kept; the previous file is saved as
    FILE.expacti-backup. Codex runs the hook only once you trust it in its /hooks view.

    \b
    Examples:
      expacti hook install claude --project ~/src/app
      expacti hook install codex
      expacti hook install cursor --user --print
    """
    from expacti_cli.integrations import settings

    path = _where(agent, project, user)
    command = settings.hook_command(agent)
    if print_only:
        click.echo(f"# {path}")
        click.echo(settings.render(agent, command), nl=False)
        return
    change = settings.install(agent, path, command)
    click.echo(change.message)
    if change.backup is not None:
        click.echo(f"previous file saved as {change.backup}")
    if agent == "codex":
        click.echo(settings.codex_trust_note(path))
    if agent == "claude":
        click.echo("Claude Code reads hooks at start: restart running sessions.")


@hook.command("uninstall")
@click.argument("agent", type=AGENT)
@_project
@_user
def uninstall(agent: str, project: Path | None, user: bool) -> None:
    """Remove our hook from the agent's settings (nothing else is touched).

    \b
    Examples:
      expacti hook uninstall claude
      expacti hook uninstall codex
    """
    from expacti_cli.integrations import settings

    change = settings.uninstall(agent, _where(agent, project, user))
    click.echo(change.message)
    if change.backup is not None:
        click.echo(f"previous file saved as {change.backup}")
