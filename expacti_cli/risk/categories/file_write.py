"""File write: creating, copying, moving and editing files."""

from __future__ import annotations

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories.base import (
    DESTRUCTIVE,
    MUTATING,
    READ,
    Category,
    Table,
    Verdict,
    entry,
    has_flag,
)

NAME = "file_write"

EDITORS = frozenset({"vi", "vim", "nvim", "nano", "emacs", "code", "subl", "micro", "hx", "ed"})
PROGRAMS = frozenset(
    {"cp", "mv", "tee", "touch", "mkdir", "ln", "truncate", "install", "patch", "rsync"}
    | {"unzip", "tar", "gunzip", "gzip", "bunzip2", "xz", "unxz", "zip", "7z", "split", "rename"}
    | {"mktemp", "sponge", "ditto"}
    | EDITORS
)

T = Table(
    NAME,
    {
        "mkdir": entry(3, "creates directories", "directory creation", MUTATING),
        "touch": entry(4, "creates or touches files", "file touch", MUTATING),
        "archive": entry(10, "packs or unpacks files", "archive operation", MUTATING),
        "cp": entry(10, "copies files (may overwrite the destination)", "file copy", MUTATING),
        "ln": entry(10, "creates links", "link creation", MUTATING),
        "tee": entry(15, "writes its input to files", "file write", MUTATING),
        "edit": entry(15, "opens an editor", "file edit", MUTATING),
        "patch": entry(15, "patches files", "file patch", MUTATING),
        "mv": entry(20, "moves or renames files", "file move", MUTATING),
        "rsync": entry(15, "synchronises files", "file sync", MUTATING),
        "rsync-delete": entry(
            45,
            "rsync --delete removes files missing from the source",
            "mirror with delete",
            DESTRUCTIVE,
        ),
        "truncate": entry(35, "truncates files", "file truncation", DESTRUCTIVE),
        "redirect": entry(10, "writes a file through a redirect", "file write", MUTATING),
        "mktemp": entry(2, "creates a temporary file", "temp file", READ),
    },
)


def _last(positionals: tuple[str, ...]) -> tuple[str, ...]:
    return positionals[-1:] if len(positionals) >= 2 else ()


def judge(part: SimpleCommand) -> Verdict:
    program, positionals = part.program, part.positionals
    if program == "":
        return T("redirect")
    if program == "mkdir":
        return T("mkdir", positionals)
    if program == "touch":
        return T("touch", positionals)
    if program == "cp" or program == "install" or program == "ditto":
        target = part.argv[part.argv.index("-t") + 1 :][:1] if "-t" in part.argv else ()
        return T("cp", target or _last(positionals))
    if program == "ln":
        return T("ln", _last(positionals) or positionals)
    if program in ("tee", "sponge"):
        return T("tee", positionals)
    if program in EDITORS:
        return T("edit", positionals)
    if program == "patch":
        return T("patch", positionals)
    if program in ("mv", "rename"):
        return T("mv", positionals)
    if program == "rsync":
        if any(flag.startswith("delete") for flag in part.long_flags) or has_flag(
            part, long=("remove-source-files",)
        ):
            return T("rsync-delete", _last(positionals))
        return T("rsync", _last(positionals))
    if program == "truncate":
        return T("truncate", positionals)
    if program == "mktemp":
        return T("mktemp")
    return T("archive", positionals[1:] if program == "tar" else ())


CATEGORY = Category(
    NAME,
    "file write",
    "creates, copies, moves or edits files; the destination may be overwritten",
    PROGRAMS,
    judge,
    T.examples,
)
