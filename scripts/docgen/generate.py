"""Every generated file and its content, from one walk of the command tree."""

from __future__ import annotations

from pathlib import Path

from docgen import bash, fish, manpage, tree, zsh


def all_outputs(root: Path) -> dict[Path, str]:
    """{path under the repo: generated text} for the completions and the man page."""
    commands = tree.load()
    return {
        root / "completions" / "expacti.bash": bash.render(commands),
        root / "completions" / "_expacti": zsh.render(commands),
        root / "completions" / "expacti.fish": fish.render(commands),
        root / "man" / "expacti.1": manpage.render(commands, root / "man" / "src" / "expacti.md"),
    }
