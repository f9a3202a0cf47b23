"""`expacti doctor`: check the installation and say what to fix."""

from __future__ import annotations

import json

import click

from expacti_cli.errors import ExitStatus

_LABELS = {"ok": "ok", "warn": "warn", "fail": "FAIL"}
_COLOURS = {"ok": "green", "warn": "yellow", "fail": "red"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as one JSON object.")
@click.option(
    "--no-start", is_flag=True, help="Do not start the broker to check it (only a running one)."
)
@click.pass_context
def doctor(ctx: click.Context, as_json: bool, no_start: bool) -> None:
    """Check the broker, files, shell integration, agent hooks and tmux; say what to fix.

    Checks: expacti's directories are writable; config.toml is valid; the rules file reads;
    the audit log's first and newest records and head file agree (a quick check: `expacti
    log verify` checks the whole chain); the socket directory is private (0700) and the
    socket 0600; the broker answers (started if needed) and speaks this CLI's protocol;
    the shell integration scripts ship with the package; `expacti-sh` is found and would not exec
    itself; for Claude Code, Codex and Cursor found on PATH, whether expacti's hook is in
    their settings; tmux; the terminal. Exit 1 when a check fails (warnings do not count).

    \b
    Examples:
      expacti doctor
      expacti doctor --json | jq '.checks[] | select(.status != "ok")'
      expacti doctor --no-start
    """
    from expacti_cli.doctor import FAIL, WARN, run_checks

    checks = run_checks(start_broker=not no_start)
    failed = sum(1 for c in checks if c.status == FAIL)
    warned = sum(1 for c in checks if c.status == WARN)
    if as_json:
        click.echo(
            json.dumps(
                {"ok": failed == 0, "checks": [c.to_json() for c in checks]},
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        width = max(len(c.name) for c in checks)
        for check in checks:
            label = click.style(f"{_LABELS[check.status]:<4}", fg=_COLOURS[check.status], bold=True)
            click.echo(f"{label}  {check.name:<{width}}  {check.message}")
            if check.fix:
                click.echo(f"      {'':<{width}}  fix: {check.fix}")
        summary = f"{failed} problem(s), {warned} warning(s)" if failed or warned else "all good"
        click.echo(f"\n{summary}")
    ctx.exit(int(ExitStatus.ERROR if failed else ExitStatus.OK))
