"""Which allow rule an approve-and-whitelist may save, and how far the reviewer may widen it.

The exact command line is always on offer. A prefix (keep the first N words) or a glob (some
arguments replaced by `*`) is offered only for one plain simple command whose program is not a
shell, interpreter, privilege or exec wrapper, package runner or eval (design-notes §5): for
those, anything wider than the exact line lets the agent run anything at all. Every candidate
is checked the way the broker will check it (pattern valid, not too broad) and must still cover
the command under review.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

EXACT, PREFIX, GLOB = "exact", "prefix", "glob"
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class RuleChoice:
    """One rule the reviewer may save: kind and pattern as the broker receives them."""

    kind: str
    pattern: str
    scope: str = ""  # only in this directory and below; "" = everywhere

    def describe(self) -> str:
        """`allow prefix "git log" in any directory`, escaped for the terminal."""
        from expacti_cli.ui.escape import escape_for_display

        where = f"in {escape_for_display(self.scope)}" if self.scope else "in any directory"
        return f'allow {self.kind} "{escape_for_display(self.pattern)}" {where}'

    def to_spec(self) -> dict[str, Any]:
        """The `whitelist` field of a decide message."""
        spec = {"kind": self.kind, "pattern": self.pattern}
        return {**spec, "scope": self.scope} if self.scope else spec


@dataclass(frozen=True)
class Widening:
    """The words a rule for `command` may be built from; `words == ()` means exact only."""

    command: str
    cwd: str
    words: tuple[str, ...] = ()
    exact_only: str = ""  # why nothing wider than the exact line is offered

    @property
    def widenable(self) -> bool:
        return bool(self.words)

    @property
    def globbable(self) -> bool:
        """A glob needs literal words: a word holding `*?[` would itself turn into a wildcard."""
        return self.widenable and not any(_GLOB_CHARS & set(w) for w in self.words)

    def exact(self) -> RuleChoice:
        return RuleChoice(EXACT, self.command.strip())

    def prefix(self, keep: int) -> RuleChoice:
        """The first `keep` words (clamped to 1..all)."""
        keep = max(1, min(keep, len(self.words)))
        return RuleChoice(PREFIX, shlex.join(self.words[:keep]))

    def glob(self, stars: frozenset[int]) -> RuleChoice:
        """All words, those at the indexes in `stars` replaced by `*` (never the program)."""
        out = [
            "*" if i in stars and i > 0 else shlex.quote(word) for i, word in enumerate(self.words)
        ]
        return RuleChoice(GLOB, " ".join(out))


def widening_for(command: str, cwd: str = "") -> Widening:
    """What may be offered for `command` (never raises: trouble means exact only)."""
    try:
        return _widening(command, cwd)
    except Exception as exc:  # noqa: BLE001 - an analysis bug must not widen anything
        return Widening(command, cwd, exact_only=f"cannot analyse it ({type(exc).__name__})")


def _widening(command: str, cwd: str) -> Widening:
    from expacti_cli.analysis import analyze
    from expacti_cli.matching import RISKY_PROGRAMS, complexity

    analysis = analyze(command)
    if analysis.unparsed or analysis.depth_exceeded:
        return Widening(command, cwd, exact_only="it could not be fully parsed")
    tops = [(i, p) for i, p in enumerate(analysis.parts) if p.depth == 0]
    if len(tops) != 1:
        return Widening(
            command, cwd, exact_only=f"it runs {len(tops)} commands; a wider rule covers one"
        )
    index, part = tops[0]
    why = complexity(part, analysis.nested_in(index))
    if why:
        return Widening(command, cwd, exact_only=why)
    if any(r.op in ("<<", "<<-", "<<<") for r in part.redirects):
        return Widening(command, cwd, exact_only="it feeds the command a here-document")
    if part.dynamic_args:
        return Widening(command, cwd, exact_only="an argument is not literal ($VAR, glob...)")
    if part.wrappers or part.env or part.words != part.argv:
        through = part.wrappers[0] if part.wrappers else "an environment assignment"
        return Widening(command, cwd, exact_only=f"it runs through {through}")
    if not part.words:
        return Widening(command, cwd, exact_only="it names no program")
    for name in (part.program, part.words[0].rsplit("/", 1)[-1]):
        if name in RISKY_PROGRAMS:
            return Widening(
                command, cwd, exact_only=f"{name!r} is {RISKY_PROGRAMS[name]}: exact only"
            )
    return Widening(command, cwd, words=tuple(part.words))


def problem(choice: RuleChoice, widening: Widening) -> str:
    """Why `choice` cannot be saved for this command ("" when it can)."""
    from expacti_cli.analysis import analyze
    from expacti_cli.matching import (
        Rule,
        RuleKind,
        RulePatternError,
        match_command,
        too_broad,
        validate_pattern,
    )

    if choice.kind != EXACT and not widening.widenable:
        return f"only the exact command may be whitelisted: {widening.exact_only}"
    try:
        kind = RuleKind(choice.kind)
        validate_pattern(kind, choice.pattern)
        rule = Rule(id="candidate", pattern=choice.pattern, kind=kind, scope=choice.scope)
        broad = too_broad(rule)
    except (ValueError, RulePatternError) as exc:
        return f"not a valid rule: {exc}"
    if broad:
        return f"too broad: {broad}"
    verdict = match_command(
        analyze(widening.command), [rule], cwd=widening.cwd or None, now=datetime.now(UTC)
    )
    if not verdict.allowed:
        return "this rule would not cover the command under review"
    return ""
