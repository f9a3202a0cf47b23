"""`expacti context [TEXT]`: show or change what the reviewer sees as a session's context."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from expacti_cli.broker import client
from expacti_cli.broker.protocol import MAX_CONTEXT
from expacti_cli.errors import ExpactiError
from expacti_cli.ui.escape import escape_for_display

_SET_BY = {
    "session": "set by the session itself (a claim of the program, shown so to the reviewer)",
    "user": "set from outside the session",
    "": "given when the session started",
}


def _ask(message: dict[str, Any]) -> dict[str, Any]:
    try:
        return client.call("context", **message)
    except client.BrokerRefused as exc:
        if exc.code == "bad_op":
            raise ExpactiError(
                "the running broker is older than `expacti context`: restart it with "
                "`expacti daemon stop` once no command waits"
            ) from None
        raise ExpactiError(str(exc)) from None
    except client.BrokerUnavailable:
        raise ExpactiError(
            "no broker is running, so no session is either (start one with `expacti run`)"
        ) from None


@click.command("context")
@click.argument("text", required=False)
@click.option(
    "--session",
    "session_id",
    metavar="ID",
    help="The session to change (default: $EXPACTI_SESSION, the session this runs in).",
)
@click.option("--clear", is_flag=True, help="Remove the session's context.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def context(text: str | None, session_id: str | None, clear: bool, as_json: bool) -> None:
    """Show or change the context the reviewer sees for a session's next commands.

    Inside `expacti run` (EXPACTI_SESSION is set) it is this session's context; elsewhere
    name the session with --session (its id is in `expacti pending` and the reviewer's
    view). Without TEXT it shows the current context. Commands already waiting keep the
    context they were asked with.

    A program inside the session may change its own context: that is the agent's claim
    about what it is doing, not a human's word, so the reviewer sees it marked "set by the
    session". Every change is written to the audit log.

    \b
    Examples:
      expacti context "migrate the staging database, nothing else"
      expacti context --session 3f2a9c1d0b7e4a55 "read-only investigation"
      expacti context                 # show it
      expacti context --clear --json
    """
    session = session_id or os.environ.get("EXPACTI_SESSION", "")
    if not session:
        raise click.UsageError(
            "no session: run this inside `expacti run` (EXPACTI_SESSION is set there) "
            "or name one with --session ID"
        )
    if clear and text is not None:
        raise click.UsageError("give TEXT or --clear, not both")
    message: dict[str, Any] = {"session": session}
    if clear:
        message["context"] = ""
    elif text is not None:
        if len(text) > MAX_CONTEXT:
            raise click.UsageError(f"TEXT is {len(text):,} characters; at most {MAX_CONTEXT:,}")
        message["context"] = text
    answer = _ask(message)
    current = str(answer.get("context") or "")
    set_by = str(answer.get("context_set_by") or "")
    if as_json:
        result = {
            "session": session,
            "context": current,
            "context_set_by": set_by,
            "changed": "context" in message,
        }
        click.echo(json.dumps(result))
        return
    shown = escape_for_display(current) if current else "(none)"
    verb = "is now" if "context" in message else "is"
    click.echo(f"context of session {escape_for_display(session)} {verb}: {shown}")
    if current:
        click.echo(f"  {_SET_BY.get(set_by, escape_for_display(set_by))}")
