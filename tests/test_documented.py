"""Every command is documented (README.md or the man page), and the docs name real commands.

`--help` of every command has an example: tests/test_cli_help.py walks the click tree for it.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from functools import cache

import pytest
from docs_support import ROOT, command_paths, command_tree

README = ROOT / "README.md"
PAGE = ROOT / "man" / "expacti.1"
MAN_SOURCE = ROOT / "man" / "src" / "expacti.md"

pytestmark = pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")


@cache
def man_text() -> str:
    """The man page on disk as a reader sees it (plain text, whitespace collapsed)."""
    result = subprocess.run(
        ["groff", "-man", "-Tutf8", "-P-cbou", "-rLL=200n", str(PAGE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_every_command_is_documented(path: tuple[str, ...]) -> None:
    name = " ".join(("expacti", *path))
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert name in readme or name in man_text(), (
        f"`{name}` is in neither README.md nor man/expacti.1 (run: python scripts/gen_docs.py)"
    )


def _example_lines(markdown: str) -> list[str]:
    """`expacti ...` lines in the fenced code blocks of a Markdown text."""
    lines = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", markdown, re.M | re.S):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("expacti "):
                lines.append(line)
    return lines


def _unknown_command(line: str) -> str | None:
    """Why `line` does not start with a real command path; None when it does."""
    try:
        words = shlex.split(line)[1:]
    except ValueError:
        return f"cannot parse {line!r}"
    node = command_tree()
    for word in words:
        if not node.subcommands or word.startswith("-"):
            return None
        by_name = {c.path[-1]: c for c in node.subcommands}
        if word not in by_name:
            if node.invokable and node.path:  # `expacti log` takes arguments of its own
                return None
            return f"{line!r}: no command {' '.join(('expacti', *node.path, word))!r}"
        node = by_name[word]
    if node.subcommands and not node.invokable:
        return f"{line!r}: {node.name} needs a subcommand"
    return None


@pytest.mark.parametrize("source", [README, MAN_SOURCE], ids=lambda p: p.name)
def test_examples_name_commands_that_exist(source) -> None:  # type: ignore[no-untyped-def]
    lines = _example_lines(source.read_text(encoding="utf-8"))
    assert lines, f"no `expacti ...` examples in {source.name}"
    problems = [p for p in map(_unknown_command, lines) if p]
    assert not problems, "\n".join(problems)


def test_the_example_check_catches_a_made_up_command() -> None:
    assert _unknown_command("expacti whitelist add 'npm test'") is None
    assert _unknown_command("expacti log --since 2d") is None
    assert _unknown_command("expacti log verify") is None
    assert _unknown_command("expacti whitelist frobnicate x") is not None
    assert _unknown_command("expacti approvee 7f3a") is not None
    assert _unknown_command("expacti daemon") is not None
