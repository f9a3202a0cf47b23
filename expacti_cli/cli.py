"""The root `expacti` command group. Thin: commands live in `expacti_cli.commands`.

Command modules are imported only when their command runs, so `expacti --help` and the
gated-command hot paths do not pay for rich, tinydb or tree-sitter they do not use.
"""

from __future__ import annotations

import importlib
import sys

import click

from expacti_cli import __version__
from expacti_cli.errors import ExitStatus, ExpactiError

# name -> (module, attribute, one-line help shown in `expacti --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "score": (
        "expacti_cli.commands.score",
        "score",
        "Score a command's risk (0-100) and explain why.",
    ),
    "whitelist": (
        "expacti_cli.commands.whitelist",
        "whitelist",
        "Manage allow/deny rules and test commands against them.",
    ),
    "log": ("expacti_cli.commands.log", "log", "Show, follow and verify the audit log."),
    "config": (
        "expacti_cli.commands.config_cmd",
        "config",
        "Show, get and set configuration values.",
    ),
    "exec": (
        "expacti_cli.commands.exec_cmd",
        "exec_command",
        "Gate one command: run it once a rule or a human allows it.",
    ),
    "pending": ("expacti_cli.commands.approval", "pending", "List commands waiting for approval."),
    "approve": (
        "expacti_cli.commands.approval",
        "approve",
        "Review pending commands, or approve one by id.",
    ),
    "deny": ("expacti_cli.commands.approval", "deny", "Deny a pending command by id."),
    "run": (
        "expacti_cli.commands.run",
        "run",
        "Run an agent or a shell in a terminal whose commands are gated.",
    ),
    "shell": (
        "expacti_cli.commands.shell_cmd",
        "shell",
        "Behave like bash, gating every -c command (same as expacti-sh).",
    ),
    "hook": (
        "expacti_cli.commands.hook",
        "hook",
        "Agent pre-tool-use hooks (Claude Code, Codex, Cursor): run, install, uninstall.",
    ),
    "daemon": (
        "expacti_cli.commands.daemon",
        "daemon",
        "Show, start or stop the local approval broker.",
    ),
    "context": (
        "expacti_cli.commands.context",
        "context",
        "Show or change the context a reviewer sees for a session's commands.",
    ),
    "doctor": (
        "expacti_cli.commands.doctor",
        "doctor",
        "Check the broker, files, shell integration, agent hooks and tmux; say what to fix.",
    ),
    "mcp": (
        "expacti_cli.commands.mcp_cmd",
        "mcp",
        "Serve the gated exec tool to MCP clients, or print their config snippet.",
    ),
    "stats": (
        "expacti_cli.commands.stats",
        "stats",
        "How many commands passed without a human; top and unused rules; per day.",
    ),
}

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyGroup(click.Group):
    """A click group that imports each subcommand's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _ = entry
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help without importing every command module.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


EPILOG = """\b
Examples:
  expacti score 'psql prod -c "UPDATE users SET plan = 1 WHERE id = 42"'
  expacti whitelist add 'npm test'
  expacti whitelist test 'npm test && rm -rf ~'
  expacti log verify

\b
Exit status:
  0    success (`whitelist test`: the rules allow the command)
  1    error, failed verification (`whitelist test`: a human would be asked)
  2    bad usage
  3    `whitelist test`: a rule denies the command
  126  a gated command was denied or timed out and did not run
  130  interrupted

\b
Environment:
  EXPACTI_HOME  put config, data and sockets under this directory
"""


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.version_option(__version__, "-V", "--version", prog_name="expacti")
def cli() -> None:
    """expacti: the gate between an AI agent deciding to run a command and the command running.

    Every command is scored for risk; whitelisted and low-risk commands pass, the rest wait
    for a human, and every decision lands in a tamper-evident audit log.
    """


def main(argv: list[str] | None = None) -> None:
    """Console entry point: domain errors become clean messages and exit codes."""
    try:
        # standalone_mode=False returns ctx.exit(code) codes instead of exiting.
        rv = cli.main(args=argv, prog_name="expacti", standalone_mode=False)
    except ExpactiError as exc:
        click.echo(f"expacti: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("expacti: interrupted", err=True)
        sys.exit(ExitStatus.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(ExitStatus.INTERRUPTED)
    except BrokenPipeError:
        sys.exit(ExitStatus.OK)
    sys.exit(rv if isinstance(rv, int) else ExitStatus.OK)
