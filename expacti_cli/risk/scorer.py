"""Turn an `Analysis` into a `Score`: category base + modifiers per part, worst part wins."""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from typing import Any, NamedTuple

from expacti_cli.analysis.model import Analysis, SimpleCommand
from expacti_cli.risk.categories import CATEGORIES, UNKNOWN, classify
from expacti_cli.risk.categories.base import Verdict
from expacti_cli.risk.categories.file_delete import find_start_points
from expacti_cli.risk.model import Level, PartScore, Reason, RiskSettings, Score
from expacti_cli.risk.modifiers import UNPARSED_FLOOR, Context, Hit, collect_hits, context_for

DEFAULT_SETTINGS = RiskSettings()

# Each further part scoring MEDIUM or more adds this much, up to COMPOUND_MAX: two risky
# actions in one line deserve a little more attention than the worse of them alone.
COMPOUND_STEP = 2
COMPOUND_MAX = 6
RISKY = 30
FAILSAFE_SCORE = 85  # a bug in the scorer must never make a command look harmless
_PREFIX_PHRASES = frozenset({"recursive", "forced"})
_LABELS = {category.name: category.label for category in CATEGORIES}
_LEVELS = tuple(Level.of(score) for score in range(101))


class _CustomPattern:
    """A user's pattern, searched with a timeout: one that backtracks catastrophically must
    not stall the broker. A search that times out counts as a match (the higher score)."""

    __slots__ = ("_rx",)
    TIMEOUT_S = 0.05

    def __init__(self, rx: Any) -> None:
        self._rx = rx

    def search(self, text: str) -> bool:
        try:
            return self._rx.search(text, timeout=self.TIMEOUT_S) is not None
        except TimeoutError:
            return True


Patterns = tuple[tuple[str, _CustomPattern, int, str], ...]


class _Scored(NamedTuple):
    part: PartScore
    verdict: Verdict
    hits: list[tuple[str, Hit]]
    top: int

    @property
    def summary(self) -> str:
        # Only the worst part's summary is ever shown: built on demand.
        return _summary(self.verdict.summary, self.verdict.base, self.hits)


@lru_cache(maxsize=32)
def _patterns(settings: RiskSettings) -> Patterns:
    """Compiled custom patterns; one that does not compile is skipped (config reports it)."""
    if not settings.patterns:
        return ()
    import regex  # lazily: only users with custom patterns pay for the import

    compiled = []
    for pattern in settings.patterns:
        try:
            rx = _CustomPattern(regex.compile(pattern.regex))
        except regex.error:
            continue
        compiled.append((pattern.name, rx, pattern.score, pattern.reason))
    return tuple(compiled)


# The settings of the last call, prepared: the same settings object comes back call after call,
# and hashing it for the lru caches above costs more than a whole simple part.
_last_prepared: tuple[RiskSettings, Context, Patterns] | None = None


def _prepared(settings: RiskSettings) -> tuple[Context, Patterns]:
    global _last_prepared
    ctx, patterns = context_for(settings), _patterns(settings)
    _last_prepared = (settings, ctx, patterns)
    return ctx, patterns


def _summary(base: str, base_points: int, hits: list[tuple[str, Hit]]) -> str:
    """'recursive forced file delete of the home directory', 'database write on a production
    target': adjectives before the category's phrase, the two weightiest qualifiers after it.
    A modifier that outweighs the base (a secret read by `cat`) names the action instead.

    `hits` are sorted by points, highest first (as `_score_part` leaves them)."""
    if not hits:
        return base
    for _, top in hits:
        if top.headline and top.points >= base_points:
            phrases = [hit.phrase for _, hit in hits]
            where = next((p for p in phrases if p.startswith("on ")), "") or next(
                (p for p in phrases if p.startswith("over ")), ""
            )
            return f"{top.headline} {where}" if where else top.headline
    prefixes: list[str] = []
    suffixes: list[str] = []
    for _, hit in hits:
        if hit.phrase in _PREFIX_PHRASES:
            prefixes.append(hit.phrase)
        elif hit.phrase and len(suffixes) < 2:
            suffixes.append(hit.phrase)
    return " ".join([*prefixes, base, *suffixes])


# Reasons are immutable values and the same ones come back command after command ("read-only:
# reads files..." for part 0): sharing them saves building a frozen dataclass per line.
@lru_cache(maxsize=1024)
def _category_reason(category: str, text: str, base: int, index: int) -> Reason:
    return Reason(f"category:{category}", f"{_LABELS[category]}: {text}", base, index)


@lru_cache(maxsize=2048)
def _reason(code: str, text: str, points: int, index: int) -> Reason:
    return Reason(code, text, points, index)


def _score_part(
    index: int,
    part: SimpleCommand,
    ctx: Context,
    patterns: Patterns,
    acts_on: tuple[str, ...] = (),
) -> _Scored:
    verdict = classify(part, ctx.overrides)
    if acts_on and verdict.mutating and any("{}" in target for target in verdict.targets):
        # `find / -exec rm -rf {} \;`: `{}` stands for everything below find's start paths.
        verdict = verdict._replace(targets=verdict.targets + acts_on)
    hits = collect_hits(part, verdict, ctx)
    for name, regex, floor, reason in patterns:
        if regex.search(part.text):
            hits.append(
                (f"custom:{name}", Hit(0, reason or f'matches pattern "{name}"', "", floor))
            )

    total = verdict.base
    if hits:
        floor = 0
        for _, hit in hits:
            total += hit.points
            floor = max(floor, hit.floor)
        if floor > total:
            # The (first) modifier with the highest floor pins the score; it shows the points
            # it really added, so the lines still add up.
            code = next(code for code, hit in hits if hit.floor == floor)
            lift = floor - total
            hits = [
                (c, h._replace(points=h.points + lift)) if c == code else (c, h) for c, h in hits
            ]
            total = floor
        if len(hits) > 1:
            hits.sort(key=lambda item: -item[1].points)
    score = total if 0 <= total <= 100 else max(0, min(100, total))

    category = verdict.category
    reasons: tuple[Reason, ...] = (
        (_category_reason(category, verdict.text, verdict.base, index),)
        if category != UNKNOWN
        else ()
    )
    if hits:
        reasons += tuple([_reason(code, hit.text, hit.points, index) for code, hit in hits])
    part_score = _new_part_score(index, part.text, category, score, reasons)
    return _Scored(part_score, verdict, hits, part.top)


# The fields the two builders below fill: a field added to the models must be added there too.
_PART_SCORE_FIELDS = ("index", "text", "category", "score", "reasons")
_SCORE_FIELDS = ("command", "score", "level", "summary", "reasons", "parts", "unparsed")
if tuple(f.name for f in fields(PartScore)) != _PART_SCORE_FIELDS:
    raise ImportError("PartScore changed: update _new_part_score")
if tuple(f.name for f in fields(Score)) != (*_SCORE_FIELDS, "anomalies"):
    raise ImportError("Score changed: update _new_score")


# PartScore and Score filled directly rather than through the frozen dataclass __init__ (one
# object.__setattr__ per field): same value at a fraction of the cost, once per part and line.
def _new_part_score(
    index: int, text: str, category: str, score: int, reasons: tuple[Reason, ...]
) -> PartScore:
    part_score = object.__new__(PartScore)
    part_score.__dict__.update(
        index=index, text=text, category=category, score=score, reasons=reasons
    )
    return part_score


def _new_score(
    command: str,
    score: int,
    level: Level,
    summary: str,
    reasons: tuple[Reason, ...],
    parts: tuple[PartScore, ...],
    unparsed: bool,
) -> Score:
    result = object.__new__(Score)
    result.__dict__.update(
        command=command,
        score=score,
        level=level,
        summary=summary,
        reasons=reasons,
        parts=parts,
        unparsed=unparsed,
        anomalies=(),
    )
    return result


def _find_exec_paths(parts: tuple[SimpleCommand, ...], index: int) -> tuple[str, ...]:
    """Start paths of the `find` whose -exec (-execdir, -ok...) runs part `index`."""
    depth = parts[index].depth
    for i in range(index - 1, -1, -1):
        # Parts come in source order, each followed by those nested in it: the nearest
        # earlier part one level up is the one this part was found in.
        if parts[i].depth == depth - 1:
            return find_start_points(parts[i]) if parts[i].program == "find" else ()
    return ()


def _empty_summary(analysis: Analysis) -> str:
    return "command could not be parsed" if analysis.unparsed else "empty command"


def _score(analysis: Analysis, settings: RiskSettings) -> Score:
    last = _last_prepared  # one read: another thread may replace it meanwhile
    if last is not None and last[0] is settings:
        ctx, patterns = last[1], last[2]
    else:
        ctx, patterns = _prepared(settings)
    parts = analysis.parts
    unparsed = analysis.unparsed or analysis.depth_exceeded
    if len(parts) == 1 and not patterns and not unparsed:
        # The common case: one part, nothing to add to its reasons.
        # (No `find -exec` paths to pass: a lone part has no `find` before it.)
        only = _score_part(0, parts[0], ctx, patterns)
        return _new_score(
            analysis.source,
            only.part.score,
            _LEVELS[only.part.score],
            only.summary,
            only.part.reasons,
            (only.part,),
            False,
        )

    scored = [
        _score_part(
            i,
            part,
            ctx,
            patterns,
            _find_exec_paths(parts, i) if part.via and part.via[-1].startswith("find ") else (),
        )
        for i, part in enumerate(parts)
    ]
    reasons: list[Reason] = []
    if len(scored) == 1:
        worst = scored[0]
        final = worst.part.score
        reasons.extend(worst.part.reasons)
        summary = worst.summary
    elif scored:
        worst = max(scored, key=lambda s: s.part.score)
        final = worst.part.score
        reasons.extend(worst.part.reasons)
        summary = worst.summary
        tops = [i for i, p in enumerate(parts) if p.depth == 0]
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

    if patterns:
        # A pattern that matched no single part may still match the whole line.
        matched = {r.code for s in scored for r in s.part.reasons if r.code.startswith("custom:")}
        for name, regex, floor, reason in patterns:
            if f"custom:{name}" not in matched and regex.search(analysis.source) and floor > final:
                reasons.append(
                    Reason(f"custom:{name}", reason or f'matches pattern "{name}"', floor - final)
                )
                final = floor

    if unparsed:
        problem = analysis.problems[0] if analysis.problems else "the parser could not read it"
        lift = max(UNPARSED_FLOOR - final, 5)
        final += lift
        reasons.insert(0, Reason("mod:unparsed", f"unparsed: {problem}", lift))
        if scored:
            summary += " (not fully parsed)"

    final = max(0, min(100, final))
    parts_scores = tuple([s.part for s in scored])
    return _new_score(
        analysis.source, final, _LEVELS[final], summary, tuple(reasons), parts_scores, unparsed
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
