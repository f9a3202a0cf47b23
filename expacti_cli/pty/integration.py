"""Which shell integration a program gets, and the argv and environment that inject it."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

BASH_SCRIPT = Path(__file__).with_name("bash_integration.bash")
LINE_GATE = Path(__file__).with_name("line_gate.py")

# bash options after which the rest is not an interactive session we can hook.
_BASH_NOT_INTERACTIVE = {"-c", "-s", "--version", "--help", "-n", "--noexec"}


@dataclass(frozen=True)
class Launch:
    """What to execute, and what to add to its environment."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    integration: str = ""  # "bash", or "" when the program gets none


def _is_bash(program: str) -> bool:
    return Path(program).name in ("bash", "bash5")


def bash_launch(argv: list[str], nonce: str) -> Launch | None:
    """`bash [OPTIONS]` as an interactive shell with our --init-file; None when the bash
    invocation runs a script or a command (`-c`, a file argument, `-l`, `-i` not needed)."""
    program, rest = argv[0], argv[1:]
    kept: list[str] = []
    rc: str | None = None  # None: the usual files; "": none (--norc); else that file
    args = iter(rest)
    for arg in args:
        if arg in ("--norc",):
            rc = ""
        elif arg in ("--rcfile", "--init-file"):
            rc = next(args, "")
        elif arg in ("-l", "--login") or arg in _BASH_NOT_INTERACTIVE:
            return None  # login shells read profiles, not init files: not hooked yet
        elif arg in ("-o", "+o", "-O", "+O"):
            kept += [arg, next(args, "")]  # an option that takes a value (`-o vi`)
        elif arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            return None  # bundled short options with -c (`-ec`)
        elif not arg.startswith("-") and not arg.startswith("+"):
            return None  # a script file: not an interactive shell
        else:
            kept.append(arg)
    env = {
        "EXPACTI_NONCE": nonce,
        "EXPACTI_PYTHON": sys.executable,
        "EXPACTI_LINE_GATE": str(LINE_GATE),
    }
    if rc is not None:
        env["EXPACTI_BASH_RC"] = rc
    return Launch([program, "--init-file", str(BASH_SCRIPT), *kept], env, "bash")


def launch_for(argv: list[str], nonce: str) -> Launch:
    """The program with its shell integration, when we have one for it."""
    if _is_bash(argv[0]):
        found = bash_launch(argv, nonce)
        if found is not None:
            return found
    return Launch(list(argv))
