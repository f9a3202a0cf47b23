"""Every command answers -h/--help with an example; the root has --version."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from expacti_cli import __version__
from expacti_cli.cli import COMMANDS, cli


def _walk(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    ctx = click.Context(group)
    found: list[tuple[str, ...]] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(_walk(command, path))
    return found


ALL_COMMANDS = _walk(cli)


def test_every_registered_command_is_found() -> None:
    assert {path[0] for path in ALL_COMMANDS} == set(COMMANDS)


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_has_an_example(path: tuple[str, ...], flag: str) -> None:
    result = CliRunner().invoke(cli, [*path, flag])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`expacti {' '.join(path)} --help` shows no example"


def test_version(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_unknown_command_is_a_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "No such command" in result.stderr
