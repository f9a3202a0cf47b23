"""`expacti config show|get|set|path`."""

from __future__ import annotations

import json
from typing import Any

import click

from expacti_cli import config as config_mod


def _format(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


@click.group()
def config() -> None:
    """Show, get and set configuration values (config.toml).

    \b
    Examples:
      expacti config show
      expacti config get approval_timeout
      expacti config set auto_approve_below 20
      expacti config set risk.production_markers prod,live,db-main
      expacti config set risk.programs.deploy.sh cloud
    """


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print all values as one JSON object.")
def show(as_json: bool) -> None:
    """Show every key with its value, marking the ones that differ from the default.

    \b
    Example:
      expacti config show --json
    """
    cfg = config_mod.load_config()
    if as_json:
        click.echo(json.dumps({"path": str(cfg.path), "values": cfg.values}, sort_keys=True))
        return
    click.echo(f"# {cfg.path}{'' if cfg.path.exists() else ' (not created yet: all defaults)'}")
    for name, key in config_mod.KEYS.items():
        value = cfg.values[name]
        mark = "" if value == key.default else "  # set"
        click.echo(f"{name} = {_format(value)}{mark}")


@config.command("get")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the value as JSON.")
def get(key: str, as_json: bool) -> None:
    """Print the value of KEY.

    \b
    Example:
      expacti config get auto_approve_below
    """
    value = config_mod.load_config().get(key)
    click.echo(json.dumps(value) if as_json else _format(value))


@config.command("set")
@click.argument("key")
@click.argument("value")
def set_(key: str, value: str) -> None:
    """Set KEY to VALUE (lists are comma-separated) and save config.toml.

    The value is checked before anything is written; a bad key or value leaves the file as it was.

    \b
    Examples:
      expacti config set approval_timeout 120
      expacti config set on_timeout deny
      expacti config set risk.protected_branches main,release
    """
    stored = config_mod.set_value(key, value)
    _audit_config_change(key, stored)
    click.echo(f"{key} = {_format(stored)}  ({config_mod.load_config().path})")


@config.command("path")
def path() -> None:
    """Print the path of config.toml.

    \b
    Example:
      $EDITOR "$(expacti config path)"
    """
    click.echo(str(config_mod.load_config().path))


def _audit_config_change(key: str, value: Any) -> None:
    """Config changes are decisions about the gate: record them in the audit log."""
    from expacti_cli.store.audit import AuditLog

    AuditLog.open().append(
        {
            "kind": "config_set",
            "key": key,
            "value": value,
            "source": "cli",
            "summary": f"config {key} = {_format(value)}",
        }
    )
