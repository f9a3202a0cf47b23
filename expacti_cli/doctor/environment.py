"""Checks of what expacti works with: its install, bash, the shim, agents' hooks, tmux, the tty."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from expacti_cli.doctor.files import shown
from expacti_cli.doctor.model import Check, fail, ok, warn

# Agent -> the programs that start it.
AGENT_PROGRAMS = {
    "claude": ("claude",),
    "codex": ("codex",),
    "cursor": ("cursor-agent", "cursor"),
}


def installation() -> Iterator[Check]:
    from expacti_cli import __version__

    python = ".".join(str(part) for part in sys.version_info[:3])
    yield ok("expacti", f"expacti {__version__}, Python {python} ({shown(sys.executable)})")


def shell_integration() -> Iterator[Check]:
    """The scripts `expacti run` injects into shells ship with the package."""
    from expacti_cli.pty import integration

    shipped = sorted(
        {v for v in vars(integration).values() if isinstance(v, Path) and v.suffix},
        key=lambda p: p.name,
    )
    missing = [p for p in shipped if not p.is_file()]
    if missing:
        yield fail(
            "shell-integration",
            "missing from the installed package: " + ", ".join(shown(p) for p in missing),
            "reinstall expacti (`pip install --force-reinstall expacti` or `pip install -e .`)",
        )
        return
    shells = [s for s in ("bash", "zsh", "fish") if shutil.which(s)]
    scripts = ", ".join(p.name for p in shipped)
    if "bash" not in shells:
        yield warn(
            "shell-integration",
            f"bash is not on PATH ({scripts} present)",
            "install bash: the shim and `expacti exec` run commands with it",
        )
        return
    yield ok(
        "shell-integration",
        f"{scripts} in {shown(integration.BASH_SCRIPT.parent)}; shells on PATH: {', '.join(shells)}",
    )


def _find_shim() -> str | None:
    beside = Path(sys.executable).with_name("expacti-sh")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("expacti-sh")


def shim() -> Iterator[Check]:
    """`expacti-sh` is found, and the real shell it execs is bash, never the shim again."""
    from expacti_cli.shim.launcher import launcher_text
    from expacti_cli.shim.main import ShimRefused, real_shell

    found = _find_shim()
    try:
        shell = real_shell(found or "", os.environ)
    except ShimRefused as exc:
        yield fail(
            "shim",
            shown(str(exc)),
            "point EXPACTI_REAL_SHELL at the real bash (e.g. /bin/bash), or unset it",
        )
        return
    try:
        launcher_text()
    except ValueError as exc:
        yield fail(
            "shim",
            f"`expacti run` cannot write its bash launcher: {shown(str(exc))}",
            "install expacti in a virtualenv whose path has no spaces",
        )
        return
    if found is None:
        yield warn(
            "shim",
            f"expacti-sh is not on PATH (the real shell would be {shown(shell)})",
            "install expacti with pip so its scripts are on PATH; `expacti shell` works meanwhile",
        )
        return
    user_shell = os.environ.get("SHELL", "")
    if user_shell and os.path.realpath(user_shell) == os.path.realpath(found):
        note = "; your SHELL is the shim"
    else:
        note = ""
    yield ok("shim", f"{shown(found)} runs {shown(shell)} once a command is allowed{note}")


def _mentions_hook(data: Any, agent: str) -> bool:
    """True when any string in the parsed settings is our hook command for `agent`."""
    from expacti_cli.integrations.settings import is_our_command

    if isinstance(data, dict):
        return any(_mentions_hook(v, agent) for v in data.values())
    if isinstance(data, list):
        return any(_mentions_hook(v, agent) for v in data)
    return is_our_command(data, agent)


def _read_settings(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    return tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)


def _settings_files(agent: str) -> list[Path]:
    from expacti_cli.integrations.settings import settings_path

    files = [settings_path(agent, None, user=True)]
    if agent != "codex":  # Codex reads only its user config
        files.append(settings_path(agent, Path.cwd(), user=False))
    return files


def agents() -> Iterator[Check]:
    """For each agent on PATH: is our pre-tool-use hook in its settings?"""
    for agent, programs in AGENT_PROGRAMS.items():
        program = next((p for p in programs if shutil.which(p)), None)
        name = f"agent:{agent}"
        if program is None:
            yield ok(name, f"{' / '.join(programs)} not on PATH; nothing to check")
            continue
        installed: list[str] = []
        unreadable: list[str] = []
        for path in _settings_files(agent):
            if not path.is_file():
                continue
            try:
                if _mentions_hook(_read_settings(path), agent):
                    installed.append(shown(path))
            except (OSError, ValueError, UnicodeDecodeError) as exc:
                unreadable.append(f"{shown(path)} ({shown(str(exc))})")
        if unreadable:
            yield warn(
                name,
                "cannot read " + "; ".join(unreadable),
                f"fix the file; `expacti hook install {agent}` refuses to edit it until then",
            )
        elif installed:
            extra = " (trust it in Codex's /hooks view)" if agent == "codex" else ""
            yield ok(name, f"hook installed in {', '.join(installed)}{extra}")
        else:
            yield warn(
                name,
                f"{program} found, but expacti's hook is not installed for it",
                f"`expacti hook install {agent}{' --user' if agent != 'codex' else ''}`, or "
                f"start it as `expacti run -- {program}`",
            )


def tmux() -> Iterator[Check]:
    found = shutil.which("tmux")
    if found is None:
        yield warn(
            "tmux",
            "tmux not found: `expacti run` cannot open a reviewer pane beside the agent",
            "install tmux, or run `expacti approve` in a second terminal",
        )
        return
    where = "inside tmux" if os.environ.get("TMUX") else "not inside tmux now"
    yield ok("tmux", f"{shown(found)} ({where}; `expacti run` opens a reviewer pane inside tmux)")


def terminal() -> Iterator[Check]:
    term = os.environ.get("TERM", "")
    ttys = [name for name, fd in (("stdin", 0), ("stdout", 1)) if _isatty(fd)]
    if not term or term == "dumb":
        yield warn(
            "terminal",
            f"TERM is {shown(term) or 'not set'}: `expacti approve` and agents' full-screen UIs need a real terminal",
            "run from a terminal emulator (TERM=xterm-256color or similar)",
        )
    elif len(ttys) < 2:
        missing = sorted({"stdin", "stdout"} - set(ttys))
        verb = "are" if len(missing) > 1 else "is"
        yield warn(
            "terminal",
            f"TERM={shown(term)}, but {' and '.join(missing)} {verb} not a terminal",
            "run `expacti approve` and `expacti run` from a terminal (fine for scripts)",
        )
    else:
        yield ok("terminal", f"TERM={shown(term)}, {os.ttyname(0)}")


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False
