"""File delete: removing files and directories (rm, find -delete, shred...)."""

from __future__ import annotations

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories import read_only
from expacti_cli.risk.categories.base import DESTRUCTIVE, MUTATING, Category, Table, Verdict, entry

NAME = "file_delete"

PROGRAMS = frozenset({"rm", "rmdir", "unlink", "shred", "srm", "trash", "trash-put", "find"})

T = Table(
    NAME,
    {
        "rm": entry(30, "deletes files", "file delete", DESTRUCTIVE),
        "rmdir": entry(12, "removes empty directories", "directory removal", MUTATING),
        "trash": entry(10, "moves files to the trash (recoverable)", "file trash", MUTATING),
        "shred": entry(
            55, "overwrites and deletes files beyond recovery", "file shred", DESTRUCTIVE
        ),
        "find-delete": entry(
            40,
            "find -delete removes every match below its start points",
            "bulk delete",
            DESTRUCTIVE,
        ),
    },
)


_FIND_GLOBAL = frozenset({"-H", "-L", "-P"})  # symlink handling, before the start paths


def find_start_points(part: SimpleCommand) -> tuple[str, ...]:
    """`find` paths come before the first expression word (`-name`, `(`, `!`...), after the
    options -H/-L/-P, -D debugopts and -Olevel (`find -L / -delete` starts at `/`)."""
    args = part.argv[1:]
    i = 0
    while i < len(args) and (args[i] in _FIND_GLOBAL or args[i][:2] in ("-D", "-O")):
        i += 2 if args[i] == "-D" else 1
    points = []
    for word in args[i:]:
        if word.startswith("-") or word in ("(", "!", ")"):
            break
        points.append(word)
    return tuple(points) or (".",)


def judge(part: SimpleCommand) -> Verdict:
    program = part.program
    if program == "find":
        if "-delete" in part.find_actions:
            return T("find-delete", find_start_points(part))
        return read_only.T("find")
    if program in ("rm", "unlink"):
        return T("rm", part.positionals)
    if program == "rmdir":
        return T("rmdir", part.positionals)
    if program in ("shred", "srm"):
        return T("shred", part.positionals)
    return T("trash", part.positionals)


CATEGORY = Category(
    NAME,
    "file delete",
    "removes files and directories; nothing comes back from rm",
    PROGRAMS,
    judge,
    T.examples,
)
