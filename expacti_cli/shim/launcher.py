"""Shim directories: a `bash` launcher that starts the shim with a fast interpreter line.

Claude Code only uses `$SHELL` when its path contains "bash" (design-notes §2), so `expacti
run` puts a directory holding an executable named `bash` first. The launcher runs Python with
`-I -S`: no site-packages scan and no environment hooks (PYTHONPATH, PYTHONSTARTUP), which
saves ~20 ms per command and keeps the agent's environment from changing the shim's code.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

MAX_SHEBANG = 127  # older kernels cut the interpreter line at 128 bytes

TEMPLATE = """#!{python} -IS
# expacti shell shim: gates `-c` commands through the broker, then execs the real shell.
import sys
sys.path.insert(0, {package_root!r})
from expacti_cli.shim.main import main
main()
"""


def package_root() -> str:
    """The directory that holds the `expacti_cli` package."""
    import expacti_cli

    return str(Path(expacti_cli.__file__).resolve().parent.parent)


def launcher_text(python: str | None = None) -> str:
    python = python or sys.executable
    if len(f"#!{python} -IS") > MAX_SHEBANG or any(c in python for c in " \t\n"):
        raise ValueError(f"cannot use {python!r} on an interpreter line (too long or has spaces)")
    return TEMPLATE.format(python=python, package_root=package_root())


def write_launcher(directory: Path, name: str = "bash", python: str | None = None) -> Path:
    """Write an executable shim launcher `directory/name` (atomically) and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    temporary = directory / f".{name}.{os.getpid()}.tmp"
    temporary.write_text(launcher_text(python))
    temporary.chmod(0o755)
    os.replace(temporary, target)
    return target
