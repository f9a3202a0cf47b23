"""man/expacti.1: fresh, renders without warnings, and its sections say what the code does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache

import pytest
from docs_support import ROOT, command_paths, staleness

from expacti_cli import paths
from expacti_cli.config import KEYS
from expacti_cli.errors import ExitStatus

PAGE = ROOT / "man" / "expacti.1"
SECTIONS = (
    "NAME",
    "SYNOPSIS",
    "DESCRIPTION",
    "COMMANDS",
    "CONFIGURATION",
    "EXIT STATUS",
    "ENVIRONMENT",
    "FILES",
    "SHELL COMPLETION",
    "EXAMPLES",
    "SECURITY NOTES",
    "SEE ALSO",
)

needs_groff = pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")


@cache
def rendered() -> str:
    """The page as `man` shows it, 80 columns, plain text."""
    result = subprocess.run(
        ["groff", "-man", "-Tutf8", "-P-cbou", "-rLL=80n", "-ww", str(PAGE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    return result.stdout


def section(name: str) -> str:
    """The text of one section of the rendered page."""
    text = rendered()
    start = re.search(rf"^{name}$", text, re.M)
    assert start, f"no {name} section"
    end = re.search(r"^[A-Z][A-Z ]+$", text[start.end() :], re.M)
    return text[start.end() : start.end() + end.start() if end else len(text)]


def test_the_page_is_generated_from_the_current_commands() -> None:
    problem = staleness(PAGE)
    assert problem is None, problem


@needs_groff
def test_groff_renders_it_without_warnings() -> None:
    result = subprocess.run(
        ["groff", "-man", "-ww", "-z", str(PAGE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stderr == ""


@pytest.mark.skipif(shutil.which("man") is None, reason="man-db is not installed")
def test_man_renders_the_local_file_without_warnings() -> None:
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="", PAGER="cat")
    result = subprocess.run(
        ["man", "--warnings", "-l", str(PAGE)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "expacti - gate the shell commands of AI coding agents" in " ".join(
        result.stdout.split()
    )


@needs_groff
def test_it_has_every_section_in_order() -> None:
    text = rendered()
    positions = [text.find(f"\n{name}\n") for name in SECTIONS]
    assert all(p > 0 for p in positions), dict(zip(SECTIONS, positions, strict=True))
    assert positions == sorted(positions)


@needs_groff
@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_every_command_has_a_heading(path: tuple[str, ...]) -> None:
    name = " ".join(("expacti", *path))
    assert re.search(rf"^   {re.escape(name)}$", section("COMMANDS"), re.M), name


@needs_groff
def test_the_synopsis_shows_every_command_that_runs_on_its_own() -> None:
    from docs_support import command_tree

    synopsis = section("SYNOPSIS")
    for command in command_tree().walk():
        if command.invokable:
            assert re.search(rf"^       {re.escape(command.name)}( |$)", synopsis, re.M), (
                command.name
            )


@needs_groff
def test_every_option_of_every_command_is_described() -> None:
    from docs_support import command_tree

    commands = section("COMMANDS")
    for command in command_tree().walk():
        if not command.path:
            continue
        block = commands.split(f"   {command.name}\n", 1)[1]
        for option in command.options:
            if "--help" in option.names:
                continue
            assert ", ".join(option.names) in block, f"{command.name} {option.names}"


@needs_groff
def test_every_config_key_is_in_the_configuration_section() -> None:
    text = section("CONFIGURATION")
    for key in KEYS:
        assert re.search(rf"^       {re.escape(key)} \(", text, re.M), key


@needs_groff
def test_every_exit_status_is_explained() -> None:
    text = section("EXIT STATUS")
    for status in ExitStatus:
        assert re.search(rf"^       {int(status)}\b", text, re.M), status


def _environment_variables_in_the_code() -> set[str]:
    found: set[str] = set()
    package = ROOT / "expacti_cli"
    for file in [p for p in package.rglob("*") if p.suffix in (".py", ".bash", ".zsh", ".fish")]:
        found |= set(re.findall(r"\bEXPACTI_[A-Z_]*[A-Z]\b", file.read_text(encoding="utf-8")))
    return found


@needs_groff
def test_every_environment_variable_the_code_reads_is_listed() -> None:
    text = section("ENVIRONMENT")
    variables = _environment_variables_in_the_code()
    assert {"EXPACTI_HOME", "EXPACTI_SESSION", "EXPACTI_CONTEXT"} <= variables
    missing = sorted(v for v in variables if v not in text)
    assert not missing, f"document these in man/src/expacti.md (ENVIRONMENT): {missing}"


@needs_groff
def test_the_files_section_names_the_files_expacti_uses() -> None:
    from expacti_cli.broker import sockets
    from expacti_cli.store import audit

    text = section("FILES")
    names = {
        paths.config_file().name,
        paths.rules_file().name,
        sockets.SOCKET_NAME,
        sockets.LOCK_NAME,
        sockets.LOG_NAME,
        audit.HEAD_NAME,
        audit.LOCK_NAME,
    }
    assert all(name in text for name in names), sorted(n for n in names if n not in text)
