"""`expacti daemon status|start|stop`: look after the local approval broker."""

from __future__ import annotations

import json
import time

import click

from expacti_cli.broker import client, sockets
from expacti_cli.errors import ExitStatus, ExpactiError

STOP_WAIT = 5.0


@click.group()
def daemon() -> None:
    """The broker that queues commands for approval (started on demand, exits when idle).

    \b
    Examples:
      expacti daemon status
      expacti daemon stop
    """


@daemon.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show whether the broker runs, its pid, and what it is holding. Exit 1 when not running.

    \b
    Examples:
      expacti daemon status
      expacti daemon status --json
    """
    try:
        answer = client.call("status")
    except client.BrokerUnavailable:
        if as_json:
            click.echo(json.dumps({"running": False, "socket": str(sockets.socket_path())}))
        else:
            click.echo(f"not running (socket {sockets.socket_path()})")
        ctx.exit(int(ExitStatus.ERROR))
    answer.pop("v", None)
    answer.pop("op", None)
    if as_json:
        click.echo(json.dumps({"running": True, **answer}, sort_keys=True))
        return
    click.echo(
        f"running: pid {answer.get('pid')}, up {answer.get('uptime_s')} s, "
        f"{answer.get('pending')} pending, {answer.get('sessions')} gated session(s), "
        f"{answer.get('reviewers')} reviewer(s)\nsocket: {answer.get('socket')}"
    )


@daemon.command("start")
def start() -> None:
    """Start the broker now (it also starts by itself when a command needs it).

    \b
    Examples:
      expacti daemon start
    """
    with client.connect(autostart=True) as conn:
        answer = conn.call({"op": "status"})
    click.echo(f"running: pid {answer.get('pid')}")


@daemon.command("stop")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def stop(as_json: bool) -> None:
    """Stop the broker. Pending requests are denied (and audited) first.

    \b
    Examples:
      expacti daemon stop
    """
    pid = sockets.recorded_pid()
    try:
        client.call("stop")
    except client.BrokerUnavailable:
        click.echo(json.dumps({"stopped": False, "running": False}) if as_json else "not running")
        return
    except client.BrokerRefused as exc:
        raise ExpactiError(str(exc)) from None
    deadline = time.monotonic() + STOP_WAIT
    while sockets.broker_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid is not None:
        while client.pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    click.echo(json.dumps({"stopped": True, "pid": pid}) if as_json else f"stopped (pid {pid})")
