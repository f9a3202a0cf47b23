"""Command analysis (pure, no I/O): one command line -> `Analysis` with its simple commands.

    >>> analyze("sudo rm -rf /tmp/x && echo done").parts[0].program
    'rm'

`analyze` never raises: bad syntax, binary input and oversized input are results
(`unparsed=True` with a problem) so that a gate can fail closed and ask a human.
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass, replace

from expacti_cli.analysis.model import Analysis, Redirect, SimpleCommand, SqlKind, SqlStatement
from expacti_cli.analysis.normalize import program_family, program_name, split_flags
from expacti_cli.analysis.sql import classify_sql
from expacti_cli.analysis.walker import ROOT_SCOPE, Walker

__all__ = [
    "MAX_COMMAND_BYTES",
    "Analysis",
    "Redirect",
    "SimpleCommand",
    "SqlKind",
    "SqlStatement",
    "analyze",
    "classify_sql",
    "program_family",
    "program_name",
    "split_flags",
]

MAX_COMMAND_BYTES = 1024 * 1024

# NUL, other C0 controls (tab, newline and carriage return excepted), DEL, and the lone
# surrogates that surrogateescape makes of invalid UTF-8: none belongs in a command a human
# is asked to read, so their presence makes the command unparsed.
_BINARY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _to_text(command: str | bytes) -> tuple[str, bytes]:
    if isinstance(command, bytes | bytearray | memoryview):
        raw = bytes(command)
        return raw.decode("utf-8", "surrogateescape"), raw
    try:
        return command, command.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # lone surrogates that are not escaped bytes: keep them visible, parse what we can
        return command, command.encode("utf-8", "surrogatepass")


def analyze(command: str | bytes, *, max_depth: int = 5) -> Analysis:
    """Split a command line into simple commands and say what each one does. Never raises."""
    source = ""
    walker: Walker | None = None
    try:
        if isinstance(command, str) and len(command) <= MAX_COMMAND_BYTES // 4:
            source = command  # at most 4 bytes a character: cannot be too large
        else:
            if isinstance(command, str) and len(command) > MAX_COMMAND_BYTES:
                return _too_large(command, len(command.encode("utf-8", "surrogatepass")))
            source, raw = _to_text(command)
            if len(raw) > MAX_COMMAND_BYTES:
                return _too_large(source, len(raw))
        walker = Walker(max_depth)
        binary = _BINARY.search(source)
        if binary is not None:
            walker.unparsed = True
            walker.problems.append(
                f"binary or control character {binary.group()!r} at offset {binary.start()}"
            )
        if binary is not None or not walker.run_plain(source):
            walker.run(source, ROOT_SCOPE)
        return _result(source, walker)
    except RecursionError:
        return _failed(source, walker, "command nested too deeply to analyse")
    except Exception as exc:  # noqa: BLE001 - a gate must get a result, never a crash
        return _failed(source, walker, f"internal analysis error ({type(exc).__name__})")


def _result(source: str, walker: Walker) -> Analysis:
    if walker.stand_ins:
        return _restored(source, walker)
    # Filled directly rather than through the dataclass __init__: same value, a third of the
    # cost, and this runs for every command an agent sends.
    analysis = object.__new__(Analysis)
    analysis.__dict__.update(
        source=source,
        parts=tuple([p.freeze() for p in walker.parts]),
        unparsed=walker.unparsed,
        problems=tuple(walker.problems),
        operators=tuple(walker.operators),
        depth_exceeded=walker.depth_exceeded,
        notes=tuple(walker.notes),
    )
    return analysis


def _restored(source: str, walker: Walker) -> Analysis:
    """Rebuild the result with the characters the parser saw as stand-ins put back."""
    restore = walker.restore

    def fix(value: object) -> object:
        if isinstance(value, str):
            return restore(value)
        if isinstance(value, tuple):
            return tuple(fix(v) for v in value)
        if isinstance(value, frozenset):
            return frozenset(fix(v) for v in value)
        if is_dataclass(value) and not isinstance(value, type):
            changes = {f.name: fix(getattr(value, f.name)) for f in fields(value)}
            return replace(value, **changes)
        return value

    parts = tuple(fix(p.freeze()) for p in walker.parts)
    return Analysis(
        source=source,
        parts=parts,  # type: ignore[arg-type]
        unparsed=walker.unparsed,
        problems=tuple(restore(p) for p in walker.problems),
        operators=tuple(walker.operators),
        depth_exceeded=walker.depth_exceeded,
        notes=tuple(restore(n) for n in walker.notes),
    )


def _too_large(source: str, size: int) -> Analysis:
    return Analysis(
        source=source,
        unparsed=True,
        problems=(f"command too large: {size} bytes (limit {MAX_COMMAND_BYTES} bytes)",),
    )


def _failed(source: str, walker: Walker | None, problem: str) -> Analysis:
    parts: tuple[SimpleCommand, ...] = ()
    problems: tuple[str, ...] = (problem,)
    if walker is not None:
        try:
            parts = tuple(p.freeze() for p in walker.parts)
            problems = (*walker.problems, problem)
        except Exception:  # noqa: BLE001
            parts = ()
    return Analysis(
        source=source,
        parts=parts,
        unparsed=True,
        problems=problems,
        depth_exceeded=bool(walker and walker.depth_exceeded),
    )
