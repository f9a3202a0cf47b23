"""Checks of expacti's own files: directories, config.toml, the rules, the audit log."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from expacti_cli import paths
from expacti_cli.doctor.model import Check, fail, ok, warn
from expacti_cli.errors import ExpactiError
from expacti_cli.ui.escape import escape_for_display

if TYPE_CHECKING:
    from expacti_cli.store.audit import AuditLog


def shown(path: Path | str) -> str:
    """A path safe to print (it may come from the environment)."""
    return escape_for_display(str(path))


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def directories() -> Iterator[Check]:
    """The config and data directories exist and are writable (or can be created)."""
    home = paths.home_override()
    where = f"EXPACTI_HOME={shown(home)}" if home else "platform directories"
    problems = []
    for label, directory in (("config", paths.config_dir()), ("data", paths.data_dir())):
        if directory.is_dir():
            if not os.access(directory, os.W_OK | os.X_OK):
                problems.append(f"the {label} directory {shown(directory)} is not writable")
        elif directory.exists():
            problems.append(f"the {label} directory {shown(directory)} is not a directory")
        else:
            parent = _existing_parent(directory)
            if not os.access(parent, os.W_OK | os.X_OK):
                problems.append(
                    f"the {label} directory {shown(directory)} cannot be created "
                    f"({shown(parent)} is not writable)"
                )
    if problems:
        yield fail(
            "paths",
            "; ".join(problems),
            "make it writable by you, or point EXPACTI_HOME at a directory you own",
        )
    else:
        yield ok(
            "paths", f"{where}: config {shown(paths.config_dir())}, data {shown(paths.data_dir())}"
        )


def config_file() -> Iterator[Check]:
    from expacti_cli.config import load_config

    path = paths.config_file()
    try:
        load_config()
    except ExpactiError as exc:
        yield fail(
            "config",
            escape_for_display(str(exc)),
            f"edit {shown(path)} (`expacti config show` lists the keys), or move it away to "
            "start from the defaults",
        )
        return
    if path.is_file():
        yield ok("config", f"{shown(path)} is valid")
    else:
        yield ok("config", f"no {shown(path)}: every key has its default")


def rules_file() -> Iterator[Check]:
    from expacti_cli.store.rules import RulesStore

    path = paths.rules_file()
    if not path.exists():
        yield ok("rules", f"no rules yet ({shown(path)} does not exist)")
        return
    if not os.access(path, os.R_OK | os.W_OK):
        yield fail(
            "rules",
            f"{shown(path)} is not readable and writable by you",
            f"chmod 600 {shown(path)}",
        )
        return
    try:
        rules = RulesStore(path).list()
    except ExpactiError as exc:
        yield fail(
            "rules",
            escape_for_display(str(exc)),
            f"fix {shown(path)} by hand (the previous version may be in a backup), or move it "
            "away and add the rules again; every command asks a human until then",
        )
        return
    yield ok("rules", f"{shown(path)}: {len(rules)} rule(s)")


def audit_log() -> Iterator[Check]:
    """A quick look at both ends of the chain and the head file, not a full `log verify`."""
    from expacti_cli.store.audit import AuditLog

    log = AuditLog.open()
    directory = paths.audit_dir()
    verify = "run `expacti log verify` to find the first bad line"
    try:
        if not log.segments():
            yield ok("audit", f"no audit log yet ({shown(directory)})")
            return
        problem = _audit_ends(log, directory)
        torn = log.torn_tail()
    except ExpactiError as exc:
        yield fail("audit", escape_for_display(str(exc)), verify)
        return
    if problem:
        yield fail("audit", problem, verify + "; `expacti log repair` records a reset in the chain")
    elif torn is not None:
        yield warn(
            "audit",
            f"{shown(torn.path)} ends in an incomplete line (a crash while writing?)",
            "run `expacti log repair` (the torn line is kept and marked)",
        )
    elif not os.access(directory, os.W_OK | os.X_OK):
        yield fail(
            "audit",
            f"{shown(directory)} is not writable: every gated command would be denied",
            f"make {shown(directory)} writable by you",
        )
    else:
        yield ok(
            "audit",
            f"{shown(directory)}: first record, newest record and head file agree "
            "(quick check; `expacti log verify` checks the whole chain)",
        )


def _audit_ends(log: AuditLog, directory: Path) -> str | None:
    """Why the oldest or newest record, or the head file, is wrong; None when they agree."""
    from expacti_cli.store.audit import HEAD_NAME
    from expacti_cli.store.audit_format import chain_hash
    from expacti_cli.store.audit_head import HeadError, read_head

    first = next(log.iter_records(), None)
    newest = next(log.iter_records(reverse=True), None)
    if first is None or newest is None:
        return None  # only a torn line so far
    if first.get("seq") != 0 or first.get("kind") != "genesis":
        return "the first record is not the genesis record (the start of the log is missing?)"
    for record in (first, newest):
        if record.get("hash") != chain_hash(str(record.get("prev_hash")), record):
            return f"record {record.get('seq')} does not match its hash (edited?)"
    try:
        head = read_head(directory / HEAD_NAME)
    except HeadError as exc:
        return escape_for_display(str(exc))
    if head is None:
        return "the head file is missing (deleted?)"
    if head.seq > newest["seq"]:
        return (
            f"the head file names record {head.seq} but the log ends at record {newest['seq']}: "
            "records were removed from the end"
        )
    if head.seq == newest["seq"] and head.hash != newest.get("hash"):
        return f"the head file does not match record {head.seq}: it or the log was edited"
    return None
