"""Turn an `Analysis` into a `Score`: category base + modifiers per part, worst part wins."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from expacti_cli.analysis.model import Analysis, SimpleCommand
from expacti_cli.risk.categories import BY_NAME, UNKNOWN, classify
from expacti_cli.risk.categories.base import Verdict
from expacti_cli.risk.model import Level, PartScore, Reason, RiskSettings, Score
from expacti_cli.risk.modifiers import (
    MUTATING_MODIFIERS,
    PART_MODIFIERS,
    UNPARSED_FLOOR,
    WRITE_MODIFIERS,
    Context,
    Hit,
    context_for,
)

DEFAULT_SETTINGS = RiskSettings()

# Each further part scoring MEDIUM or more adds this much, up to COMPOUND_MAX: two risky
# actions in one line deserve a little more attention than the worse of them alone.
COMPOUND_STEP = 2
COMPOUND_MAX = 6
RISKY = 30
FAILSAFE_SCORE = 85  # a bug in the scorer must never make a command look harmless
_PREFIX_PHRASES = frozenset({"recursive", "forced"})


@dataclass(frozen=True, slots=True)
class _Scored:
    part: PartScore
    verdict: Verdict
    hits: list[tuple[str, Hit]]
    top: int

    @property
    def summary(self) -> str:
        # Only the worst part's summary is ever shown: built on demand.
        return _summary(self.verdict.summary, self.verdict.base, self.hits)


@lru_cache(maxsize=32)
def _patterns(settings: RiskSettings) -> tuple[tuple[str, re.Pattern[str], int, str], ...]:
    """Compiled custom patterns; one that does not compile is skipped (config reports it)."""
    compiled = []
    for pattern in settings.patterns:
        try:
            compiled.append(
                (pattern.name, re.compile(pattern.regex), pattern.score, pattern.reason)
            )
        except re.error:
            continue
    return tuple(compiled)


def _summary(base: str, base_points: int, hits: list[tuple[str, Hit]]) -> str:
    """'recursive forced file delete of the home directory', 'database write on a production
    target': adjectives before the category's phrase, the two weightiest qualifiers after it.
    A modifier that outweighs the base (a secret read by `cat`) names the action instead."""
    headlines = [hit for _, hit in hits if hit.headline and hit.points >= base_points]
    if headlines:
        top = max(headlines, key=lambda hit: hit.points)
        where = sorted(
            (hit.phrase for _, hit in hits if hit.phrase.startswith(("on ", "over "))),
            key=lambda phrase: not phrase.startswith("on "),
        )
        return " ".join([top.headline, *where[:1]])
    prefixes = [hit.phrase for _, hit in hits if hit.phrase in _PREFIX_PHRASES]
    suffixes = sorted(
        (hit for _, hit in hits if hit.phrase and hit.phrase not in _PREFIX_PHRASES),
        key=lambda hit: -hit.points,
    )[:2]
    return " ".join([*prefixes, base, *(hit.phrase for hit in suffixes)])


def _score_part(
    index: int,
    part: SimpleCommand,
    ctx: Context,
    patterns: tuple[tuple[str, re.Pattern[str], int, str], ...],
) -> _Scored:
    verdict = classify(part, ctx.overrides)
    hits: list[tuple[str, Hit]] = []
    for code, check in PART_MODIFIERS:
        hit = check(part, verdict, ctx)
        if hit is not None:
            hits.append((code, hit))
    if verdict.mutating:
        for code, check in MUTATING_MODIFIERS:
            hit = check(part, verdict, ctx)
            if hit is not None:
                hits.append((code, hit))
    if (verdict.mutating and verdict.targets) or part.redirects:
        for code, check in WRITE_MODIFIERS:
            hit = check(part, verdict, ctx)
            if hit is not None:
                hits.append((code, hit))
    for name, regex, floor, reason in patterns:
        if regex.search(part.text):
            hits.append(
                (f"custom:{name}", Hit(0, reason or f'matches pattern "{name}"', "", floor))
            )

    total = verdict.base + sum(hit.points for _, hit in hits)
    floor_hits = [(code, hit) for code, hit in hits if hit.floor > total]
    if floor_hits:
        # The pinning modifier shows the points it really added, so the lines still add up.
        code, hit = max(floor_hits, key=lambda item: item[1].floor)
        lift = hit.floor - total
        hits = [(c, replace(h, points=h.points + lift)) if c == code else (c, h) for c, h in hits]
        total = hit.floor
    score = max(0, min(100, total))

    reasons = []
    if verdict.category != UNKNOWN:
        label = BY_NAME[verdict.category].label
        reasons.append(
            Reason(f"category:{verdict.category}", f"{label}: {verdict.text}", verdict.base, index)
        )
    hits.sort(key=lambda item: -item[1].points)
    for code, hit in hits:
        full_code = code if code.startswith("custom:") else f"mod:{code}"
        reasons.append(Reason(full_code, hit.text, hit.points, index))
    part_score = PartScore(index, part.text, verdict.category, score, tuple(reasons))
    return _Scored(part_score, verdict, hits, part.top)


def _empty_summary(analysis: Analysis) -> str:
    return "command could not be parsed" if analysis.unparsed else "empty command"


def _score(analysis: Analysis, settings: RiskSettings) -> Score:
    ctx = context_for(settings)
    patterns = _patterns(settings)
    scored = [_score_part(i, part, ctx, patterns) for i, part in enumerate(analysis.parts)]

    reasons: list[Reason] = []
    if scored:
        worst = max(scored, key=lambda s: s.part.score)
        final = worst.part.score
        reasons.extend(worst.part.reasons)
        summary = worst.summary
        tops = [i for i, p in enumerate(analysis.parts) if p.depth == 0]
        if len(tops) > 1 and worst.top in tops:
            summary += f" (part {tops.index(worst.top) + 1} of {len(tops)})"
        others = sum(1 for s in scored if s is not worst and s.part.score >= RISKY)
        if others and final >= RISKY:
            bump = min(COMPOUND_MAX, COMPOUND_STEP * others)
            final += bump
            text = f"compound: {others} more risky part{'s' if others > 1 else ''}"
            reasons.append(Reason("compound:several_risky_parts", text, bump))
    else:
        final, summary = 0, _empty_summary(analysis)

    matched = {r.code for s in scored for r in s.part.reasons if r.code.startswith("custom:")}
    for name, regex, floor, reason in patterns:
        if f"custom:{name}" not in matched and regex.search(analysis.source) and floor > final:
            reasons.append(
                Reason(f"custom:{name}", reason or f'matches pattern "{name}"', floor - final)
            )
            final = floor

    unparsed = analysis.unparsed or analysis.depth_exceeded
    if unparsed:
        problem = analysis.problems[0] if analysis.problems else "the parser could not read it"
        lift = max(UNPARSED_FLOOR - final, 5)
        final += lift
        reasons.insert(0, Reason("mod:unparsed", f"unparsed: {problem}", lift))
        if scored:
            summary += " (not fully parsed)"

    final = max(0, min(100, final))
    return Score(
        command=analysis.source,
        score=final,
        level=Level.of(final),
        summary=summary,
        reasons=tuple(reasons),
        parts=tuple(s.part for s in scored),
        unparsed=unparsed,
    )


def failsafe_score(source: str, error: BaseException) -> Score:
    """What a scoring bug returns: CRITICAL with the error named, never a low score."""
    reason = Reason(
        "risk:error",
        f"internal scoring error ({type(error).__name__}): failing closed",
        FAILSAFE_SCORE,
    )
    return Score(
        command=source,
        score=FAILSAFE_SCORE,
        level=Level.of(FAILSAFE_SCORE),
        summary="could not be scored",
        reasons=(reason,),
        unparsed=True,
    )


def score_analysis(analysis: Analysis, settings: RiskSettings | None = None) -> Score:
    """Score an analysed command line. Never raises."""
    try:
        return _score(analysis, settings or DEFAULT_SETTINGS)
    except Exception as exc:  # noqa: BLE001 - the gate must fail closed, not crash
        return failsafe_score(getattr(analysis, "source", ""), exc)
