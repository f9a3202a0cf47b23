"""What every category module provides: a `Category` and the `Verdict` its judge returns."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from expacti_cli.analysis.model import SimpleCommand


class Verdict(NamedTuple):
    """A category's judgement of one simple command, before modifiers (a tuple: one or more
    is built for every part scored, and a frozen dataclass costs three times as much)."""

    category: str  # name of the category that judged it (a judge may hand over to another)
    base: int  # base score, 0-100
    text: str  # reason text after the category label: "UPDATE with WHERE clause"
    summary: str  # start of the one-line summary: "database write"
    targets: tuple[str, ...] = ()  # paths or resources it changes (checked by path modifiers)
    mutating: bool = False  # changes something (files, services, remote state)
    destructive: bool = False  # removes or overwrites something that may not come back


Judge = Callable[[SimpleCommand], Verdict]


@dataclass(frozen=True)
class Category:
    """One of the command categories: the programs it claims and how it judges them."""

    name: str  # stable id used in reason codes and config: "database"
    label: str  # shown before a reason: "database"
    description: str  # one line for `expacti score --explain`
    programs: frozenset[str]  # normalised program names this category claims
    judge: Judge  # base score of a part whose program it claims (or is mapped to by config)
    examples: tuple[tuple[str, int], ...]  # documented base points: ("git push", 25)

    @property
    def points_range(self) -> tuple[int, int]:
        values = [points for _, points in self.examples]
        return min(values), max(values)


def verdict(
    category: str,
    base: int,
    text: str,
    summary: str,
    targets: Iterable[str] = (),
    *,
    mutating: bool = False,
    destructive: bool = False,
) -> Verdict:
    """Build a Verdict; `destructive` implies `mutating`."""
    return Verdict(
        category, base, text, summary, tuple(targets), mutating or destructive, destructive
    )


def has_flag(part: SimpleCommand, short: str = "", long: Iterable[str] = ()) -> bool:
    """True when any of the short flag letters or long flag names is present."""
    if short and any(ch in part.short_flags for ch in short):
        return True
    return any(name in part.long_flags for name in long)


def flag_value(part: SimpleCommand, *names: str) -> str:
    """Value of the first `--name value`, `--name=value`, `-n value` or `-nvalue` in argv."""
    argv = part.argv
    for i, word in enumerate(argv[1:], start=1):
        for name in names:
            if word == name:
                return argv[i + 1] if i + 1 < len(argv) else ""
            if name.startswith("--") and word.startswith(name + "="):
                return word[len(name) + 1 :]
            if len(name) == 2 and word.startswith(name) and len(word) > 2 and name[1] != "-":
                return word[2:]
    return ""


def verb(part: SimpleCommand, known: frozenset[str]) -> str:
    """The tool's subcommand when known: the analysed one, or the first known positional.

    Options that take a value (`kubectl --context prod delete`) may have their value listed as
    a positional; looking for the first *known* verb keeps us from judging `prod`.
    """
    if part.subcommand in known:
        return part.subcommand
    for word in part.positionals:
        if word in known:
            return word
    return part.subcommand


def args_after(part: SimpleCommand, word: str) -> tuple[str, ...]:
    """Positionals after the first occurrence of `word` (usually the subcommand)."""
    positionals = part.positionals
    try:
        return positionals[positionals.index(word) + 1 :]
    except ValueError:
        return positionals


@dataclass(frozen=True, slots=True)
class Entry:
    """One documented base score of a category."""

    base: int
    text: str
    summary: str
    mutating: bool = False
    destructive: bool = False


READ, MUTATING, DESTRUCTIVE = 0, 1, 2


def entry(base: int, text: str, summary: str = "", effect: int = READ) -> Entry:
    """Shorthand for table rows: `entry(25, "push", "push to a remote", MUTATING)`."""
    return Entry(base, text, summary or text, effect >= MUTATING, effect >= DESTRUCTIVE)


class Table:
    """A category's documented base scores; calling it turns a row into a Verdict."""

    def __init__(self, category: str, rows: dict[str, Entry]) -> None:
        self.category = category
        self.rows = rows
        # Verdicts without targets are the common case: build them once.
        self._plain = {key: self._make(row, (), "") for key, row in rows.items()}

    def _make(self, row: Entry, targets: tuple[str, ...], text: str) -> Verdict:
        return Verdict(
            self.category,
            row.base,
            text or row.text,
            row.summary,
            targets,
            row.mutating,
            row.destructive,
        )

    def __call__(self, key: str, targets: Iterable[str] = (), text: str = "") -> Verdict:
        if not targets and not text:
            return self._plain[key]
        return self._make(self.rows[key], tuple(targets), text)

    @property
    def examples(self) -> tuple[tuple[str, int], ...]:
        return tuple((row.text, row.base) for row in self.rows.values())
