"""Builders for hand-made analyses and rules, so matching is tested without the parser."""

from __future__ import annotations

import shlex
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from expacti_cli.analysis.model import Analysis, Redirect, SimpleCommand
from expacti_cli.matching import Rule, RuleAction, RuleKind

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

_WRAPPERS = {"sudo", "env", "timeout", "nice", "nohup", "xargs", "time", "command", "exec"}


def part(text: str, **fields: Any) -> SimpleCommand:
    """A simple command from its text: words by shlex, wrappers (`sudo`, `timeout 5`, `X=1`)
    stripped into argv the way the analyser does for the simple cases used in tests."""
    words = tuple(fields.pop("words", None) or shlex.split(text))
    argv = fields.pop("argv", None)
    wrappers: list[str] = []
    if argv is None:
        rest = list(words)
        while rest:
            head = rest[0]
            if "=" in head and head.split("=", 1)[0].isidentifier():
                rest.pop(0)
            elif head in _WRAPPERS:
                wrappers.append(rest.pop(0))
                while rest and (rest[0].startswith("-") or rest[0].isdigit()):
                    rest.pop(0)
            else:
                break
        argv = tuple(rest)
    program = fields.pop("program", None)
    if program is None:
        program = argv[0].rsplit("/", 1)[-1].lstrip("\\") if argv else ""
    fields.setdefault("wrappers", tuple(wrappers))
    short = {c for a in argv[1:] if a.startswith("-") and not a.startswith("--") for c in a[1:]}
    long = {a[2:].split("=")[0] for a in argv[1:] if a.startswith("--") and len(a) > 2}
    fields.setdefault("short_flags", frozenset(short))
    fields.setdefault("long_flags", frozenset(long))
    fields.setdefault("positionals", tuple(a for a in argv[1:] if not a.startswith("-")))
    return SimpleCommand(text=text, words=words, argv=tuple(argv), program=program, **fields)


def write_to(target: str) -> Redirect:
    return Redirect(op=">", target=target, is_write=True)


def analysis(*parts: SimpleCommand, source: str | None = None, **fields: Any) -> Analysis:
    """Top-level parts in order; a part with depth > 0 belongs to the last top-level part
    before it (its `top` is set here)."""
    fixed: list[SimpleCommand] = []
    top = 0
    for i, p in enumerate(parts):
        if p.depth == 0:
            top = i
        fixed.append(replace(p, top=top))
    if source is None:
        source = " && ".join(p.text for p in parts if p.depth == 0)
    return Analysis(source=source, parts=tuple(fixed), **fields)


def simple(source: str, sep: str = " && ") -> Analysis:
    """Split on one operator only: enough for commands built of plain fragments."""
    return analysis(*(part(t.strip()) for t in source.split(sep)), source=source)


def rule(
    pattern: str,
    kind: str = "exact",
    action: str = "allow",
    rid: str | None = None,
    **fields: Any,
) -> Rule:
    return Rule(
        id=rid or f"{action[0]}-{kind}-{pattern}",
        pattern=pattern,
        kind=RuleKind(kind),
        action=RuleAction(action),
        **fields,
    )
