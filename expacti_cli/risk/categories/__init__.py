"""The 14 command categories and the dispatch from a program name to its category.

Each module claims a set of normalised program names and judges a part into a base score
with a reason (`Verdict`). A judge may hand a part to another category when the subcommand
says so (`npm test` is build/test, `find -delete` is file delete). Programs no category claims
are "unknown" and the unknown-program modifier applies.
"""

from __future__ import annotations

import re

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories import (
    build_test,
    cloud,
    containers,
    database,
    file_delete,
    file_write,
    network,
    packages,
    permissions,
    privilege,
    processes,
    read_only,
    system,
    vcs,
)
from expacti_cli.risk.categories.base import Category, Verdict

# Documentation order: from harmless to dangerous families. When two categories claim a
# program, the first in DISPATCH_ORDER wins (packages before build: `bun test`).
CATEGORIES: tuple[Category, ...] = (
    read_only.CATEGORY,
    build_test.CATEGORY,
    vcs.CATEGORY,
    packages.CATEGORY,
    file_delete.CATEGORY,
    file_write.CATEGORY,
    permissions.CATEGORY,
    processes.CATEGORY,
    network.CATEGORY,
    containers.CATEGORY,
    cloud.CATEGORY,
    database.CATEGORY,
    system.CATEGORY,
    privilege.CATEGORY,
)
BY_NAME: dict[str, Category] = {c.name: c for c in CATEGORIES}
UNKNOWN = "unknown"

_DISPATCH_ORDER = (
    packages.CATEGORY,
    file_delete.CATEGORY,
    *(c for c in CATEGORIES if c.name not in ("packages", "file_delete")),
)
PROGRAM_INDEX: dict[str, Category] = {}
for _category in reversed(_DISPATCH_ORDER):
    for _program in _category.programs:
        PROGRAM_INDEX[_program] = _category

# Versioned or suffixed names: python3.12, pip3.11, mkfs.ext4, node18, php8.2.
_VERSIONED = re.compile(r"^([a-z][a-z-]*?)[0-9][0-9.]*$|^(mkfs|fsck)\..*$")


def _lookup(program: str) -> Category | None:
    category = PROGRAM_INDEX.get(program)
    if category is None and (match := _VERSIONED.match(program)):
        category = PROGRAM_INDEX.get(match.group(1) or match.group(2) or "")
    return category


def unknown_verdict(part: SimpleCommand) -> Verdict:
    name = part.argv[0] if part.argv else part.program
    return Verdict(UNKNOWN, 0, f'unknown program "{name}"', "unknown program")


def classify(part: SimpleCommand, overrides: dict[str, str]) -> Verdict:
    """The base verdict of one part: user override, then program index, else unknown."""
    program = part.program
    if not program:
        if any(redirect.is_write for redirect in part.redirects):
            return file_write.judge(part)
        return read_only.T("assignment")
    if overrides:
        name = overrides.get(program) or (overrides.get(part.argv[0]) if part.argv else None)
        if name is not None:
            if name == UNKNOWN:
                return unknown_verdict(part)
            category = BY_NAME.get(name)
            if category is not None:
                return _judge_as(category, part)
    category = PROGRAM_INDEX.get(program) or _lookup(program)
    if category is None:
        return unknown_verdict(part)
    return category.judge(part)


# Base for a program the user put in a category that does not know it: a typical member.
DEFAULT_BASE: dict[str, int] = {
    "read_only": 2,
    "build": 15,
    "vcs": 15,
    "packages": 20,
    "file_delete": 30,
    "file_write": 15,
    "permissions": 25,
    "processes": 25,
    "network": 20,
    "containers": 30,
    "cloud": 45,
    "database": 45,
    "system": 45,
    "privilege": 45,
}


def _judge_as(category: Category, part: SimpleCommand) -> Verdict:
    """Judge a part in a category the user chose; programs it does not know get its default."""
    if part.program in category.programs:
        return category.judge(part)
    return Verdict(
        category.name,
        DEFAULT_BASE[category.name],
        f'"{part.program}" is configured as {category.label}',
        category.label,
        part.positionals,
        category.name not in ("read_only", "build"),
        False,
    )


__all__ = ["BY_NAME", "CATEGORIES", "UNKNOWN", "Category", "Verdict", "classify"]
