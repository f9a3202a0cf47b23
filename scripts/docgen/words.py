"""Checks shared by the completion generators."""

from __future__ import annotations

import re

from docgen.tree import Command

HEADER = "Generated from the click command tree by scripts/gen_docs.py; do not edit by hand."

_SIMPLE = re.compile(r"[A-Za-z0-9_.,:/+@%=-]+")


def simple_word(word: str) -> str:
    """`word` unchanged if every shell can take it unquoted inside a word list; else raise."""
    if not _SIMPLE.fullmatch(word):
        raise ValueError(f"{word!r} needs quoting in a completion script; make it a plain word")
    return word


def one_line(text: str, limit: int = 80) -> str:
    """The first sentence of `text` on one line, cut at `limit` characters."""
    line = " ".join(text.split())
    if ". " in line:
        line = line.split(". ", 1)[0]
    if line.endswith(".") and not line.endswith("..."):
        line = line[:-1]
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def spec_key(command: Command) -> str:
    """The command path as one string ("" for the root, "whitelist add")."""
    return " ".join(command.path)


def command_line_index(command: Command) -> int | None:
    """Index of the argument from which the words are a command line of their own."""
    for index, argument in enumerate(command.arguments):
        if argument.value.kind == "command":
            return index
    return None
