"""Rule suggestions from history (pure: decisions and rules in, proposals out; no I/O).

Humans approved `docker logs api-7d9f`, `docker logs web-1a2b`, ... forty times: propose
`allow prefix "docker logs"`, show what it covers, and prove it lets through nothing that was
denied or riskier. The steps:

1. Count each distinct command: human approvals (in the `since` window) support rules;
   every denied command, and every command ever scored above LOW, is a command some rule
   may have to refuse ("forbidden").
2. Keep approvals a rule may cover: one plain simple command whose program is not a shell,
   interpreter, privilege or exec wrapper, package runner or eval, without `$()`, `$VAR`,
   `VAR=x` prefixes, nested commands or obfuscation (design-notes §5). Commands that write a
   file, feed a here-document or send SQL that changes data only ever get an exact rule.
3. Bucket by the words a rule must spell out (program as written, subcommand) and risk level,
   then cluster each bucket with rapidfuzz over the analysed words (never the raw text): a
   command joins a cluster when at most a third of its words differ from the cluster's first.
4. Generalise only the words that vary: one varying last argument after a subcommand becomes
   a prefix (`docker logs`), a varying option value a glob (`kubectl get pods -n *`), values
   sharing a start or end keep it (`git checkout feature/*`); anything else is split into
   narrower groups, down to exact commands.
5. Check every candidate with the real matcher (`matching.match_command`): it must cover its
   own approvals and must not allow any forbidden command whose level is above the rule's
   (the highest level among its approvals) or that was denied, alone or together with the
   existing rules and the proposals accepted before it; optional probes (the varying words
   replaced by production markers, `--force` appended to a prefix) must not score higher
   either. A candidate that fails is split and its narrower parts are tried.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from expacti_cli.analysis.model import Analysis, SimpleCommand
from expacti_cli.learn.history import LEVELS, DecisionRecord, level_rank
from expacti_cli.matching import (
    RISKY_PROGRAMS,
    Rule,
    RuleKind,
    RulePatternError,
    RuleSet,
    allow_matches,
    complexity,
    match_command,
    pattern_words,
    too_broad,
    validate_pattern,
)

DEFAULT_MIN_COUNT = 3
MAX_SHOWN_FORBIDDEN = 50  # forbidden commands listed per suggestion (all are checked)
MAX_LEADERS = 256  # clusters per bucket; beyond that a command stays on its own
MAX_CWDS = 16  # directories remembered per forbidden command
STRUCTURE_MAX = 4  # a word with at most this many values is a choice, never a wildcard's
SOURCE = "suggestion"

# Subcommands that run arbitrary packages, like npx (design-notes §5).
PACKAGE_RUNNERS = frozenset(
    {("npm", "exec"), ("pnpm", "dlx"), ("pnpm", "exec"), ("yarn", "dlx"), ("uv", "run")}
)
SELF = frozenset({"expacti", "expacti-sh"})
_GLOB_CHARS = frozenset("*?[")
_PLAIN_WORD = re.compile(r"[\w@%+=:,./*-][\w@%+=:,./*~-]*")

# (command, level) -> (score, level): how risky a probe command is.
RiskOf = Callable[[str], tuple[int, str]]


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Forbidden:
    """A command from history that a suggested rule must not allow."""

    command: str
    denied: bool  # some decision about it was `denied`
    level: str  # the highest level it was ever scored at ("" when never scored)
    score: int | None
    times: int  # decisions about it in history

    @property
    def why(self) -> str:
        risk = f"{self.level} {self.score}" if self.level and self.score is not None else ""
        if self.denied:
            return f"denied ({risk})" if risk else "denied"
        return risk


@dataclass(frozen=True)
class Suggestion:
    """One proposed allow rule and the evidence for it."""

    rule: Rule  # id "", source "suggestion"; the store gives it an id when accepted
    level: str  # the highest level among the approvals it covers
    approvals: int  # human approvals in the window that it allows
    record_ids: tuple[str, ...]  # audit ids of those approvals, most approved command first
    examples: tuple[str, ...]  # up to 3 distinct approved commands it allows, most frequent first
    must_not_match: tuple[Forbidden, ...]  # forbidden commands of the same program, checked
    forbidden_checked: int  # every forbidden command this rule was checked against
    last_approved: datetime | None = None


@dataclass(frozen=True)
class Dropped:
    """A candidate rule that failed a check (and was split into narrower ones, if any)."""

    rule: Rule
    approvals: int
    reason: str


@dataclass(frozen=True)
class SuggestReport:
    """What `suggest_rules` found."""

    suggestions: tuple[Suggestion, ...]
    approvals: int  # human approvals in the window
    covered: int  # of those, allowed by all the suggestions together
    already_allowed: int  # approvals the existing rules allow today
    skipped: dict[str, int]  # approvals no rule may be suggested for, by reason
    dropped: tuple[Dropped, ...]
    decisions: int  # decision records read
    forbidden: int  # distinct denied or above-LOW commands in history

    @property
    def coverage(self) -> float:
        """Share of the approvals that are not allowed yet that the suggestions would allow."""
        open_ = self.approvals - self.already_allowed
        return self.covered / open_ if open_ else 0.0


# ---------------------------------------------------------------------------------------------
# Gathering


@dataclass
class _Seen:
    """Everything history says about one distinct command."""

    text: str
    approvals: int = 0
    ids: list[str] = field(default_factory=list)
    rank: int = -1  # highest level rank among its human approvals (-1: never scored)
    cwd: str = ""
    last: datetime | None = None


@dataclass
class _Risky:
    text: str
    denied: bool = False
    rank: int = -1
    score: int | None = None
    times: int = 0
    cwds: set[str] = field(default_factory=set)  # where it was asked for (a few)


@dataclass
class _Item:
    """An approved command a rule may cover, analysed."""

    seen: _Seen
    part: SimpleCommand
    analysis: Analysis
    exact_only: bool

    @property
    def words(self) -> tuple[str, ...]:
        return self.part.words

    @property
    def count(self) -> int:
        return self.seen.approvals

    @property
    def rank(self) -> int:
        return max(self.seen.rank, 0)


def wanted(decision: str, level: str) -> bool:
    """The decisions `suggest_rules` looks at (an `iter_decisions` select): approvals,
    denials, and whatever was scored above LOW."""
    return decision in ("approved", "denied") or level_rank(level) >= 1


def _gather(
    decisions: Iterable[DecisionRecord], since: datetime | None
) -> tuple[dict[str, _Seen], dict[str, _Risky], int]:
    approved: dict[str, _Seen] = {}
    risky: dict[str, _Risky] = {}
    count = 0
    for d in decisions:
        count += 1
        rank = d.level_rank
        if d.denied or rank >= 1:
            r = risky.get(d.command)
            if r is None:
                r = risky[d.command] = _Risky(d.command)
            r.times += 1
            r.denied = r.denied or d.denied
            if d.cwd and len(r.cwds) < MAX_CWDS:
                r.cwds.add(d.cwd)
            if rank > r.rank or (rank == r.rank and (d.score or 0) > (r.score or 0)):
                r.rank, r.score = rank, d.score
        if not d.human_approved or (since is not None and (d.time is None or d.time < since)):
            continue
        s = approved.get(d.command)
        if s is None:
            s = approved[d.command] = _Seen(d.command)
        s.approvals += 1
        s.ids.append(d.id)
        s.rank = max(s.rank, rank)
        s.cwd = d.cwd
        if d.time is not None and (s.last is None or d.time > s.last):
            s.last = d.time
    return approved, risky, count


def eligibility(analysis: Analysis) -> tuple[SimpleCommand | None, str, bool]:
    """(the part a rule would cover, why no rule may be suggested, exact rule only).

    The reason is "" when a rule may be suggested. Never raises."""
    if analysis.unparsed or analysis.depth_exceeded:
        return None, "it could not be fully parsed", False
    tops = [(i, p) for i, p in enumerate(analysis.parts) if p.depth == 0]
    if len(tops) != 1:
        return None, "it is a compound command", False
    index, part = tops[0]
    if part.is_eval or part.obfuscated or part.interpreter_code:
        return None, "it evaluates code", False
    nested = analysis.nested_in(index)
    if len(nested) > 1:
        return None, "it runs other commands inside it", False
    if not part.words or not part.program:
        return None, "it names no program", False
    if part.wrappers or part.env or part.words != part.argv:
        return None, "it runs through a wrapper or sets variables", False
    if part.dynamic_program or part.dynamic_args or part.has_substitution:
        return None, "it expands variables or substitutions", False
    for name in (part.program, part.words[0].rsplit("/", 1)[-1]):
        if name in RISKY_PROGRAMS:
            return None, f"its program is {RISKY_PROGRAMS[name]}", False
        if name in SELF:
            return None, "it changes expacti itself", False
    if (part.program, part.subcommand) in PACKAGE_RUNNERS:
        return None, "its program is a package runner", False
    exact_only = bool(complexity(part, nested)) or any(
        r.op in ("<<", "<<-", "<<<") for r in part.redirects
    )
    return part, "", exact_only


# ---------------------------------------------------------------------------------------------
# Generalising


def _quote(word: str) -> str:
    """A pattern word as shlex reads it back (a `*` stays a wildcard even inside quotes)."""
    return word if _PLAIN_WORD.fullmatch(word) else shlex.quote(word)


def _common_prefix(values: Sequence[str]) -> str:
    first, last = min(values), max(values)
    n = 0
    while n < len(first) and n < len(last) and first[n] == last[n]:
        n += 1
    return first[:n]


def glob_word(values: Sequence[str]) -> str | None:
    """One glob word matching every value: shared start and end kept, per `/` segment
    (a `*` never crosses `/`). None when values are options, hold glob characters or `..`,
    or have different numbers of `/` segments."""
    if any(not v or v.startswith("-") or _GLOB_CHARS & set(v) for v in values):
        return None
    split = [v.split("/") for v in values]
    if len({len(s) for s in split}) != 1:
        return None
    out = []
    for segments in zip(*split, strict=True):
        if ".." in segments:
            return None
        if len(set(segments)) == 1:
            out.append(segments[0])
            continue
        head = _common_prefix(segments)
        tails = [s[len(head) :][::-1] for s in segments]
        tail = _common_prefix(tails)[::-1]
        out.append(f"{head}*{tail}")
    return "/".join(out)


@dataclass(frozen=True)
class _Candidate:
    kind: RuleKind
    pattern: str
    items: tuple[_Item, ...]
    words: tuple[str, ...] = ()  # prefix/glob: the pattern's words as the matcher must read them
    wildcards: tuple[int, ...] = ()  # glob: word positions holding a `*`

    @property
    def approvals(self) -> int:
        return sum(i.count for i in self.items)


def _lcp(items: Sequence[_Item]) -> int:
    words = [i.words for i in items]
    n = min(len(w) for w in words)
    k = 0
    while k < n and all(w[k] == words[0][k] for w in words):
        k += 1
    return k


def _prefix_ok(items: Sequence[_Item], keep: int) -> bool:
    """A prefix must spell out the program and its subcommand (`docker logs`, never `rm`)."""
    first = items[0]
    return (
        keep >= 2
        and not first.words[1].startswith("-")
        and all(i.part.subcommand == i.words[1] for i in items)
    )


def _prefix(items: Sequence[_Item], keep: int) -> _Candidate:
    words = items[0].words[:keep]
    return _Candidate(RuleKind.PREFIX, " ".join(_quote(w) for w in words), tuple(items), words)


def _glob(items: Sequence[_Item], wild: dict[int, str]) -> _Candidate | None:
    """All words of `items` as they are, those at the positions in `wild` replaced."""
    words = list(items[0].words)
    if any(_GLOB_CHARS & set(w) for i, w in enumerate(words) if i not in wild):
        return None  # a literal `*?[` would turn into a wildcard
    for position, word in wild.items():
        words[position] = word
    pattern = " ".join(_quote(w) for w in words)
    return _Candidate(RuleKind.GLOB, pattern, tuple(items), tuple(words), tuple(sorted(wild)))


def candidate_for(items: Sequence[_Item]) -> _Candidate | None:
    """The widest rule that generalises only what varies among `items` (None: split them)."""
    texts = {i.seen.text for i in items}
    if len({i.words for i in items}) == 1:
        if len(texts) == 1:
            return _Candidate(RuleKind.EXACT, items[0].seen.text.strip(), tuple(items))
        return None  # same words written differently: one exact rule each
    if any(i.exact_only for i in items):
        return None
    keep = _lcp(items)
    lengths = {len(i.words) for i in items}
    if len(lengths) > 1:
        return _prefix(items, keep) if _prefix_ok(items, keep) else None
    n = lengths.pop()
    values = {p: [i.words[p] for i in items] for p in range(n)}
    varying = [p for p in range(n) if len(set(values[p])) > 1]
    if len(varying) == 1:
        position = varying[0]
        word = glob_word(values[position])
        last_word_is_argument = position == n - 1 and not items[0].words[keep - 1].startswith("-")
        if word is not None and word != "*":
            return _glob(items, {position: word})
        if last_word_is_argument and _prefix_ok(items, keep):
            return _prefix(items, keep)
        return _glob(items, {position: word}) if word is not None else None
    # Several words vary. A word with a few values (`pods` / `svc`) is a choice, not a free
    # argument: split on it rather than let a wildcard stand for any resource.
    if any(len(set(values[p])) <= STRUCTURE_MAX for p in varying):
        return None
    wild = {p: glob_word(values[p]) for p in varying}
    if all(w is not None for w in wild.values()):
        return _glob(items, {p: w for p, w in wild.items() if w is not None})
    return _prefix(items, keep) if _prefix_ok(items, keep) else None


def split(items: Sequence[_Item]) -> list[list[_Item]]:
    """Narrower groups: by length, else by the varying word with the fewest distinct values,
    else (same words) one group per text."""
    groups: dict[object, list[_Item]] = {}
    lengths = {len(i.words) for i in items}
    if len(lengths) > 1:
        for i in items:
            groups.setdefault(len(i.words), []).append(i)
        return list(groups.values())
    n = lengths.pop()
    varying = [p for p in range(n) if len({i.words[p] for i in items}) > 1]
    if not varying:
        for i in items:
            groups.setdefault(i.seen.text, []).append(i)
        return list(groups.values())
    position = min(varying, key=lambda p: (len({i.words[p] for i in items}), p))
    for i in items:
        groups.setdefault(i.words[position], []).append(i)
    return list(groups.values())


# ---------------------------------------------------------------------------------------------
# Clustering


def _bucket_key(item: _Item) -> tuple[str, str, int, bool]:
    words = item.words
    sub = words[1] if len(words) > 1 and words[1] == item.part.subcommand else ""
    return words[0], sub, item.rank, item.exact_only


_HEXISH = re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-f]*[0-9])[0-9a-f]{4,}(?![0-9A-Za-z])")
_DIGITS = re.compile(r"[0-9]+")


def word_shape(word: str) -> str:
    """What a word looks like once ids and numbers are blanked: `api-7d9f` -> `api-#`,
    `HEAD~12` -> `HEAD~0`. Only for grouping: rules are built from the words themselves."""
    return _DIGITS.sub("0", _HEXISH.sub("#", word))


def cluster(items: Sequence[_Item]) -> list[list[_Item]]:
    """Greedy clusters of similar commands (rapidfuzz Levenshtein over word sequences)."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    codes: dict[str, str] = {}

    def encode(words: tuple[str, ...]) -> str:
        # One character per distinct word shape, so rapidfuzz compares words, not letters,
        # and `HEAD~3` / `HEAD~12` or `api-7d9f` / `api-1a2b` count as the same word.
        out = []
        for w in words:
            shape = word_shape(w)
            c = codes.get(shape)
            if c is None:
                n = len(codes) + 0x100
                c = codes[shape] = chr(n if n < 0xD800 else n + 0x800)
            out.append(c)
        return "".join(out)

    ordered = sorted(items, key=lambda i: (-i.count, i.seen.text))
    leaders: list[str] = []
    clusters: list[list[_Item]] = []
    for item in ordered:
        code = encode(item.words)
        allowed = max(1, len(item.words) // 3)
        best = (
            process.extractOne(code, leaders, scorer=Levenshtein.distance, score_cutoff=allowed)
            if leaders
            else None
        )
        if best is not None:
            clusters[best[2]].append(item)
        elif len(leaders) < MAX_LEADERS:
            leaders.append(code)
            clusters.append([item])
        else:
            clusters.append([item])
    return clusters


# ---------------------------------------------------------------------------------------------
# Checking


@dataclass
class _Forbidden:
    risky: _Risky
    analysis: Analysis
    simple: tuple[tuple[SimpleCommand, bool], ...]  # top parts and whether they are simple


class _Checker:
    """Runs candidates through the real matcher against everything they must not allow."""

    def __init__(
        self,
        forbidden: Sequence[_Forbidden],
        existing: Sequence[Rule],
        now: datetime,
        risk_of: RiskOf | None,
        probe_words: Sequence[str],
    ) -> None:
        self.now = now
        self.existing = list(existing)
        # Scoped rules apply only inside their directory: check there too.
        self.scopes = {r.scope for r in existing if r.scope}
        self.accepted: list[Rule] = []
        self.risk_of = risk_of
        self.probe_words = tuple(probe_words)
        self.by_word: dict[str, list[_Forbidden]] = {}
        for f in forbidden:
            keys = {k for p, _ in f.simple for k in (p.words[:1] + p.argv[:1] + (p.program,)) if k}
            for key in keys:
                self.by_word.setdefault(key, []).append(f)
        self.count_above = Counter[int]()
        for f in forbidden:
            self.count_above[-2 if f.risky.denied else f.risky.rank] += 1

    def forbidden_for(self, rank: int) -> int:
        """How many forbidden commands a rule of level `rank` is checked against."""
        return sum(n for r, n in self.count_above.items() if r == -2 or r > rank)

    def near(self, word: str, rank: int) -> list[_Forbidden]:
        return [f for f in self.by_word.get(word, ()) if f.risky.denied or f.risky.rank > rank]

    def problem(self, rule: Rule, cand: _Candidate, rank: int) -> str:
        """Why `rule` may not be suggested ("" when it may)."""
        try:
            validate_pattern(rule.kind, rule.pattern)
            broad = too_broad(rule)
            if rule.kind is not RuleKind.EXACT and pattern_words(rule.pattern) != cand.words:
                return "the pattern does not read back as written"
        except RulePatternError as exc:
            return f"not a valid rule: {exc}"
        if broad:
            return f"too broad: {broad}"
        for item in cand.items:
            if not _covers(rule, item, self.now):
                return f"it does not cover {item.seen.text!r}"
        word = cand.items[0].words[0]
        together = RuleSet([*self.existing, *self.accepted, rule])
        for f in self.near(word, rank):
            if not any(allow_matches(rule, p, simple=s) for p, s in f.simple):
                continue
            for cwd in (None, *sorted(f.risky.cwds | self.scopes)):
                if match_command(f.analysis, together, cwd=cwd, now=self.now).allowed:
                    where = f" in {cwd}" if cwd else ""
                    why = _forbidden_view(f.risky).why
                    return f"it would allow {f.risky.text!r}{where}, {why}"
        return self._probe_problem(rule, cand, rank)

    def _probe_problem(self, rule: Rule, cand: _Candidate, rank: int) -> str:
        if self.risk_of is None or rule.kind is RuleKind.EXACT:
            return ""
        from expacti_cli.analysis import analyze

        for probe in _probes(cand, self.probe_words):
            if not match_command(analyze(probe), [rule], cwd=None, now=self.now).allowed:
                continue
            score, level = self.risk_of(probe)
            if level in LEVELS and LEVELS.index(level) > rank:
                return f"it would also allow {probe!r}, which scores {level} {score}"
        return ""


def _covers(rule: Rule, item: _Item, now: datetime) -> bool:
    """Does `rule` allow this approved command? An item is one top-level part and nothing
    nested, so the matcher's verdict on that part is its verdict on the command."""
    if rule.kind is RuleKind.EXACT:
        return match_command(item.analysis, [rule], cwd=None, now=now).allowed
    return allow_matches(rule, item.part, simple=not item.exact_only)


def _probes(cand: _Candidate, words: Sequence[str]) -> list[str]:
    """Commands a wider rule would also allow that could be riskier than its approvals."""
    base = list(cand.words)
    out: list[str] = []
    if cand.kind is RuleKind.PREFIX:
        for extra in (*words, "--force"):
            out.append(shlex.join([*base, extra]))
    elif cand.kind is RuleKind.GLOB:
        for position in cand.wildcards:
            for w in words:
                probe = list(base)
                probe[position] = base[position].replace("**", "*").replace("*", w)
                out.append(shlex.join(probe))
    return out


def _forbidden_view(r: _Risky) -> Forbidden:
    level = LEVELS[r.rank] if 0 <= r.rank < len(LEVELS) else ""
    return Forbidden(r.text, r.denied, level, r.score, r.times)


# ---------------------------------------------------------------------------------------------
# The whole pass


def suggest_rules(
    decisions: Iterable[DecisionRecord],
    *,
    now: datetime,
    existing: Sequence[Rule] = (),
    since: datetime | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    risk_of: RiskOf | None = None,
    probe_words: Sequence[str] = ("prod", "production"),
    analyze: Callable[[str], Analysis] | None = None,
) -> SuggestReport:
    """Propose allow rules covering commands humans approved at least `min_count` times.

    `decisions`: the whole history (forbidden commands come from all of it; approvals only
    from `since` on). `existing`: the rules in force (approvals they allow are not suggested
    for; together with them no suggestion may allow a forbidden command). `risk_of(command)`
    -> (score, level) scores probe commands; without it no probes are made.
    """
    if analyze is None:
        from expacti_cli.analysis import analyze as analyze_command

        analyze = analyze_command
    min_count = max(1, min_count)
    approved, risky, decision_count = _gather(decisions, since)
    existing_set = RuleSet(existing)
    total_approvals = sum(s.approvals for s in approved.values())

    analyses: dict[str, Analysis] = {}
    skipped: Counter[str] = Counter()
    already = 0
    items: list[_Item] = []
    for text, seen in approved.items():
        analysis = analyses[text] = analyze(text)
        if (
            existing
            and match_command(analysis, existing_set, cwd=seen.cwd or None, now=now).allowed
        ):
            already += seen.approvals
            continue
        part, why, exact_only = eligibility(analysis)
        if part is None:
            skipped[why] += seen.approvals
            continue
        items.append(_Item(seen, part, analysis, exact_only))

    forbidden: list[_Forbidden] = []
    for text, r in risky.items():
        analysis = analyses.get(text) or analyze(text)
        tops = [(i, p) for i, p in enumerate(analysis.parts) if p.depth == 0]
        simple = tuple((p, complexity(p, analysis.nested_in(i)) == "") for i, p in tops)
        forbidden.append(_Forbidden(r, analysis, simple))
    checker = _Checker(forbidden, existing, now, risk_of, probe_words)

    buckets: dict[tuple[str, str, int, bool], list[_Item]] = {}
    for item in items:
        buckets.setdefault(_bucket_key(item), []).append(item)
    groups: list[list[_Item]] = []
    for key, members in buckets.items():
        if key[3]:  # exact only: one group per command
            groups.extend([m] for m in members)
        else:
            groups.extend(cluster(members))
    groups = [g for g in groups if sum(i.count for i in g) >= min_count]
    groups.sort(key=lambda g: (-sum(i.count for i in g), g[0].seen.text))

    accepted: list[tuple[Rule, _Candidate, int]] = []
    dropped: list[Dropped] = []
    pending = list(groups)
    while pending:
        group = pending.pop(0)
        if sum(i.count for i in group) < min_count:
            continue
        cand = candidate_for(group)
        if cand is None:
            pending[0:0] = _narrower(group)
            continue
        rank = max(i.rank for i in group)
        rule = Rule(
            id=f"suggestion-{len(accepted) + 1}",
            pattern=cand.pattern,
            kind=cand.kind,
            source=SOURCE,
        )
        why = checker.problem(rule, cand, rank)
        if why:
            dropped.append(Dropped(_public(rule, 0), cand.approvals, why))
            pending[0:0] = _narrower(group)
            continue
        checker.accepted.append(rule)
        accepted.append((rule, cand, rank))

    suggestions, covered_texts = _finish(accepted, items, checker, min_count)
    firsts = {cand.items[0].words[0] for _, cand, _ in accepted}
    covered = _covered(suggestions, covered_texts, firsts, approved, analyses, now)
    return SuggestReport(
        suggestions=tuple(suggestions),
        approvals=total_approvals,
        covered=covered,
        already_allowed=already,
        skipped=dict(skipped),
        dropped=tuple(dropped),
        decisions=decision_count,
        forbidden=len(forbidden),
    )


def _narrower(group: list[_Item]) -> list[list[_Item]]:
    if len(group) == 1:
        return []
    parts = split(group)
    return [] if len(parts) == 1 and len(parts[0]) == len(group) else parts


def _public(rule: Rule, approvals: int) -> Rule:
    note = f"suggested from {approvals} approvals" if approvals else ""
    return Rule(id="", pattern=rule.pattern, kind=rule.kind, source=SOURCE, note=note)


def _finish(
    accepted: Sequence[tuple[Rule, _Candidate, int]],
    items: Sequence[_Item],
    checker: _Checker,
    min_count: int,
) -> tuple[list[Suggestion], set[str]]:
    """Count what each rule covers among all approvals, drop rules others already cover.
    Returns the suggestions and the approved commands they cover together."""
    by_words: dict[tuple[str, str], list[_Item]] = {}
    by_text: dict[str, _Item] = {}
    for item in items:
        key = (item.words[0], item.words[1] if len(item.words) > 1 else "")
        by_words.setdefault(key, []).append(item)
        by_text[item.seen.text.strip()] = item
    scored: list[tuple[Rule, int, list[_Item]]] = []
    for rule, cand, rank in accepted:
        if rule.kind is RuleKind.EXACT:
            pool = [by_text[rule.pattern]] if rule.pattern in by_text else list(cand.items)
        elif len(cand.words) > 1 and not _GLOB_CHARS & set(cand.words[1]):
            pool = by_words.get((cand.words[0], cand.words[1]), [])
        else:
            pool = [i for key, group in by_words.items() if key[0] == cand.words[0] for i in group]
        covered = [i for i in pool if _covers(rule, i, checker.now)]
        scored.append((rule, rank, covered))
    scored.sort(key=lambda s: (-sum(i.count for i in s[2]), s[0].pattern))
    kept: list[Suggestion] = []
    taken: set[str] = set()
    for rule, rank, covered in scored:
        texts = {i.seen.text for i in covered}
        approvals = sum(i.count for i in covered)
        if texts <= taken or approvals < min_count:
            continue  # what it covers is already covered by a wider suggestion
        taken |= texts
        ordered = sorted(covered, key=lambda i: (-i.count, i.seen.text))
        near = sorted(
            checker.near(ordered[0].words[0], rank),
            key=lambda f: (not f.risky.denied, -f.risky.rank, f.risky.text),
        )
        kept.append(
            Suggestion(
                rule=_public(rule, approvals),
                level=LEVELS[rank],
                approvals=approvals,
                record_ids=tuple(rid for i in ordered for rid in i.seen.ids),
                examples=tuple(i.seen.text for i in ordered[:3]),
                must_not_match=tuple(_forbidden_view(f.risky) for f in near[:MAX_SHOWN_FORBIDDEN]),
                forbidden_checked=checker.forbidden_for(rank),
                last_approved=max((i.seen.last for i in covered if i.seen.last), default=None),
            )
        )
    return kept, taken


def _covered(
    suggestions: Sequence[Suggestion],
    covered_texts: set[str],
    firsts: set[str],
    approved: dict[str, _Seen],
    analyses: dict[str, Analysis],
    now: datetime,
) -> int:
    """Approvals that all the suggestions together allow: the commands they cover one by
    one, plus compound commands whose every part some suggestion allows (real matcher)."""
    if not suggestions:
        return 0
    rules = [
        Rule(id=f"s{n}", pattern=s.rule.pattern, kind=s.rule.kind)
        for n, s in enumerate(suggestions)
    ]
    ruleset = RuleSet(rules)
    total = 0
    for text, seen in approved.items():
        if text in covered_texts:
            total += seen.approvals
            continue
        tops = analyses[text].top_parts
        if len(tops) < 2 or any(not p.words or p.words[0] not in firsts for p in tops):
            continue
        if match_command(analyses[text], ruleset, cwd=None, now=now).allowed:
            total += seen.approvals
    return total
