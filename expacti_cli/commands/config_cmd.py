"""`expacti config show|get|set|path`."""

from __future__ import annotations

import json
from typing import Any

import click

from expacti_cli import config as config_mod
from expacti_cli.errors import ConfigError


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
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
      expacti config set --project /srv/app auto_approve_below 30
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
        data = {"path": str(cfg.path), "values": cfg.values, "projects": cfg.projects}
        click.echo(json.dumps(data, sort_keys=True))
        return
    click.echo(f"# {cfg.path}{'' if cfg.path.exists() else ' (not created yet: all defaults)'}")
    for name, key in config_mod.KEYS.items():
        value = cfg.values[name]
        mark = "" if value == key.default else "  # set"
        click.echo(f"{name} = {_format(value)}{mark}")
    for directory, overrides in sorted(cfg.projects.items()):
        # Directory names come from the file: shown escaped, never as raw control characters.
        click.echo(f"\n[projects.{_quoted(directory)}]  # commands run in or under this directory")
        for name, value in overrides.items():
            click.echo(f"{name} = {_format(value)}")


def _quoted(directory: str) -> str:
    from expacti_cli.ui.escape import escape_for_display

    return '"' + escape_for_display(directory).replace('"', '\\"') + '"'


PROJECT_HELP = (
    'Apply to commands run in or under DIR (a [projects."DIR"] table); '
    f"only {', '.join(config_mod.PROJECT_KEYS)}."
)


@config.command("get")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the value as JSON.")
@click.option(
    "--project",
    "directory",
    metavar="DIR",
    help="Print the value that applies to commands run in DIR (its project's, else global).",
)
def get(key: str, as_json: bool, directory: str | None) -> None:
    """Print the value of KEY.

    \b
    Examples:
      expacti config get auto_approve_below
      expacti config get --project . auto_approve_below
    """
    cfg = config_mod.load_config()
    value = cfg.get(key)
    if directory is not None and key in config_mod.PROJECT_KEYS:
        applied = cfg.for_directory(config_mod.project_key(directory))
        value = getattr(applied, key)
    click.echo(json.dumps(value) if as_json else _format(value))


@config.command("set")
@click.argument("key")
@click.argument("value")
@click.option("--project", "directory", metavar="DIR", help=PROJECT_HELP)
def set_(key: str, value: str, directory: str | None) -> None:
    """Set KEY to VALUE (lists are comma-separated) and save config.toml.

    The value is checked before anything is written; a bad key or value leaves the file as it was.
    With --project DIR the value applies only to commands whose working directory is DIR or
    below it (the innermost project wins; symlinks are resolved).

    \b
    Examples:
      expacti config set approval_timeout 120
      expacti config set on_timeout deny
      expacti config set risk.protected_branches main,release
      expacti config set strict_anomalies auto
      expacti config set --project /srv/app auto_approve_below 30
    """
    path = config_mod.load_config().path
    try:
        stored = config_mod.set_value(key, value, project=directory)
    except ConfigError as exc:
        raise ConfigError(f"{exc} ({path} left unchanged)") from None
    shown = _label(key, directory)
    _audit_config_change(shown, stored, directory)
    click.echo(f"{shown} = {_format(stored)}  ({path})")


@config.command("unset")
@click.argument("key")
@click.option("--project", "directory", metavar="DIR", help=PROJECT_HELP)
def unset(key: str, directory: str | None) -> None:
    """Remove KEY from config.toml: back to its default (in a project: to the global value).

    \b
    Examples:
      expacti config unset auto_approve_below
      expacti config unset --project /srv/app auto_approve_below
    """
    path = config_mod.load_config().path
    shown = _label(key, directory)
    if not config_mod.unset_value(key, project=directory):
        click.echo(f"{shown} was not set in {path}")
        return
    _audit_config_change(shown, None, directory)
    click.echo(f"{shown} removed  ({path})")


def _label(key: str, directory: str | None) -> str:
    if directory is None:
        return key
    return f"projects.{_quoted(config_mod.project_key(directory))}.{key}"


@config.command("path")
def path() -> None:
    """Print the path of config.toml.

    \b
    Example:
      $EDITOR "$(expacti config path)"
    """
    click.echo(str(config_mod.load_config().path))


def _audit_config_change(key: str, value: Any, directory: str | None = None) -> None:
    """Config changes are decisions about the gate: record them in the audit log."""
    from expacti_cli.store.audit import AuditLog

    entry: dict[str, Any] = {
        "kind": "config_set",
        "key": key,
        "value": value,
        "source": "cli",
        "summary": f"config {key} = {_format(value)}"
        if value is not None
        else f"config {key} unset",
    }
    if directory is not None:
        entry["project"] = config_mod.project_key(directory)
    AuditLog.open().append(entry)
