"""`expacti pending`, `expacti approve ID`, `expacti deny ID`: decide gated commands."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from expacti_cli.broker import client
from expacti_cli.errors import ExitStatus, ExpactiError
from expacti_cli.ui.escape import escape_for_display


def _pending() -> list[dict[str, Any]]:
    """The pending requests, oldest first (none when no broker runs)."""
    try:
        answer = client.call("list")
    except client.BrokerUnavailable:
        return []
    requests = answer.get("requests")
    return requests if isinstance(requests, list) else []


def _seconds_since(iso: object) -> float | None:
    try:
        return (datetime.now(UTC) - datetime.fromisoformat(str(iso))).total_seconds()
    except (TypeError, ValueError):
        return None


def _age(request: dict[str, Any]) -> str:
    """`12 s ago, 48 s left`."""
    since = _seconds_since(request.get("requested_at"))
    if since is None:
        age = "?"
    elif since < 120:
        age = f"{since:.0f} s ago"
    else:
        age = f"{since / 60:.0f} min ago"
    until = _seconds_since(request.get("expires_at"))
    return age if until is None else f"{age}, {max(0.0, -until):.0f} s left"


def _print_requests(requests: list[dict[str, Any]]) -> None:
    show = escape_for_display
    for r in requests:
        session = show(str(r.get("session") or "-"))
        click.echo(
            f"{str(r.get('id'))[:8]}  {r.get('level')} {r.get('score')}  session {session} "
            f"({show(str(r.get('source')))})  {show(str(r.get('cwd')))}  "
            f"{_age(r)}"
        )
        click.echo(f"    {show(str(r.get('command')))}")
        details = show(str(r.get("summary") or ""))
        if r.get("context"):
            by = " (set by the session)" if r.get("context_set_by") == "session" else ""
            details += f" · context{by}: {show(str(r['context']))}"
        click.echo(f"    {details}")


def _interactive_app() -> Callable[..., int] | None:
    """The interactive reviewer, when its UI toolkit is installed."""
    try:
        from expacti_cli.ui.approve_app import run_approval_app
    except ImportError:
        return None
    return run_approval_app


def _reviewer() -> str:
    from expacti_cli.commands.whitelist import rule_creator

    return rule_creator()


def _decide(request_id: str, decision: str, **fields: Any) -> dict[str, Any]:
    try:
        return client.call(
            "decide", id=request_id, decision=decision, reviewer=_reviewer(), **fields
        )
    except client.BrokerUnavailable:
        raise ExpactiError("no broker is running, so nothing is pending") from None
    except client.BrokerRefused as exc:
        raise ExpactiError(escape_for_display(str(exc))) from None


@click.command("pending")
@click.option("--json", "as_json", is_flag=True, help="Print the requests as a JSON array.")
def pending(as_json: bool) -> None:
    """List the commands waiting for a decision, oldest first.

    \b
    Examples:
      expacti pending
      expacti pending --json | jq -r '.[].id'
    """
    requests = _pending()
    if as_json:
        click.echo(json.dumps(requests, sort_keys=True))
    elif not requests:
        click.echo("no pending requests")
    else:
        _print_requests(requests)


@click.command("approve")
@click.argument("request_id", required=False)
@click.option("--whitelist", is_flag=True, help="Also add an exact allow rule for this command.")
@click.option("--note", default="", help="Why it is approved (kept in the audit log).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def approve(
    ctx: click.Context, request_id: str | None, whitelist: bool, note: str, as_json: bool
) -> None:
    """Approve the pending request REQUEST_ID (a unique prefix of 4+ characters is enough).

    The waiting `expacti exec` then runs the command, once. With --whitelist an exact allow
    rule is saved too, so the same command in any directory passes without asking next time.
    Without REQUEST_ID, on a terminal, it opens the interactive reviewer (every pending
    request, oldest first); otherwise it lists what is pending and exits 2.

    \b
    Examples:
      expacti approve
      expacti approve 4023fa72
      expacti approve 4023 --whitelist --note "routine cleanup"
    """
    if not request_id:
        if sys.stdin.isatty() and sys.stdout.isatty() and (app := _interactive_app()) is not None:
            ctx.exit(app(client.connect, reviewer=_reviewer()))
        requests = _pending()
        if requests:
            _print_requests(requests)
        else:
            click.echo("no pending requests")
        click.echo(
            "give the id of a request: `expacti approve ID` (or `expacti deny ID`)", err=True
        )
        ctx.exit(int(ExitStatus.USAGE))
    fields: dict[str, Any] = {"note": note}
    if whitelist:
        fields["whitelist"] = {"kind": "exact"}
    answer = _decide(request_id, "approve", **fields)
    if as_json:
        click.echo(json.dumps(answer, sort_keys=True))
    elif answer.get("decision") != "approved":
        raise ExpactiError(f"not approved: {escape_for_display(str(answer.get('error')))}")
    else:
        command = escape_for_display(str(answer.get("command", "")))
        click.echo(f"approved {str(answer.get('id'))[:8]}: {command}")
        if answer.get("rule_id"):
            click.echo(f"whitelisted as rule {answer['rule_id']}")
    if answer.get("decision") != "approved":
        ctx.exit(int(ExitStatus.ERROR))


@click.command("deny")
@click.argument("request_id")
@click.option("--reason", default="", help="Why (sent to the waiting command's stderr).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def deny(request_id: str, reason: str, as_json: bool) -> None:
    """Deny the pending request REQUEST_ID; the command does not run.

    \b
    Examples:
      expacti deny 4023fa72 --reason "use the staging database"
    """
    answer = _decide(request_id, "deny", reason=reason)
    if as_json:
        click.echo(json.dumps(answer, sort_keys=True))
    else:
        command = escape_for_display(str(answer.get("command", "")))
        click.echo(f"denied {str(answer.get('id'))[:8]}: {command}")
