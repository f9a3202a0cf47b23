"""Whitelist rules and how they match an analysed command (pure: no I/O).

A command is allowed by rules only when EVERY top-level part is allowed by some allow rule
and NO part, top-level or nested, is matched by a deny rule (deny wins). Kinds:

- ``exact`` (default): the part's source text, or the whole command line, equals the pattern
  (surrounding whitespace trimmed). The only kind that can allow a "complex" part: one with a
  substitution, eval, obfuscation, a program named by a variable, nested commands
  (``bash -c``, ``ssh host CMD``, ``$()``...) or a redirect that writes a file.
- ``prefix``: the part's words start with the pattern's words, token by token, so ``git log``
  matches ``git log -3`` but never ``git logout``.
- ``glob``: the pattern has exactly as many words as the part, and each pattern word matches
  one word of the command. Inside a word, ``*`` matches any run of characters except ``/``,
  ``**`` also crosses ``/``, ``?`` one character except ``/``, ``[...]`` a class. A lone ``*``
  word stands for exactly one argument, never several: unlike sudoers, ``cat /var/log/*``
  does not match ``cat /var/log/x /etc/shadow``. For "any further arguments" use ``prefix``.
  Allow globs are strict: a wildcard never turns a non-option into an option (``git push
  origin *`` does not match ``--force``), never matches extra ``..`` components, and a command
  word that the shell would itself expand (it holds ``*``, ``?`` or ``[``) matches only an
  identical pattern word. Deny globs are loose: wildcards match anything.
- ``regex``: a Python regular expression that must match the part's whole text and name the
  program that runs: a regex that would match the same command with any other program in its
  place (``\\S+ install .*``, ``sudo .*``) allows nothing.

Allow rules match the words as written (``sudo git log`` is not ``git log``), and a prefix or
glob allow rule covers a wrapped command (``sudo apt``, ``timeout 5 make``, ``xargs rm``) only
if it spells out the program that really runs. Deny rules also look through wrappers and
normalise the program (``sudo /bin/rm``, ``bash -c "rm x"`` are caught by ``deny prefix rm``),
and a deny prefix with flags matches them in any spelling and order (``deny prefix 'rm -rf'``
catches ``rm -r -f``, ``rm -fr``, ``rm --recursive --force``). Scoped rules apply only when
the cwd is inside their directory and, for allow rules, only to parts before any
``cd``/``pushd``/``popd`` in the command line. Expired rules match nothing.
"""

from __future__ import annotations

import os
import re
import shlex
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from expacti_cli.analysis.model import Analysis, SimpleCommand, SqlKind


class RuleKind(StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"
    GLOB = "glob"
    REGEX = "regex"


class RuleAction(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True)
class Rule:
    """One whitelist (allow) or blacklist (deny) rule."""

    id: str
    pattern: str
    kind: RuleKind = RuleKind.EXACT
    action: RuleAction = RuleAction.ALLOW
    scope: str = ""  # absolute directory; "" = everywhere
    expires_at: datetime | None = None  # aware UTC; None = never
    note: str = ""
    creator: str = ""
    created_at: datetime | None = None
    hits: int = 0
    last_used: datetime | None = None
    source: str = "manual"  # "manual", "suggestion", ...

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def describe(self) -> str:
        """Short human form: `allow prefix "git log"`."""
        return f"{self.action.value} {self.kind.value} {self.pattern!r}"


class RulePatternError(ValueError):
    """A pattern that cannot be a rule of its kind (the message says why)."""


# ---------------------------------------------------------------------------------------------
# Patterns


_OPERATOR_CHARS = frozenset(";&|<>()")


@lru_cache(maxsize=4096)
def pattern_words(pattern: str) -> tuple[str, ...]:
    """Split a prefix/glob pattern into words the way the shell would (raises RulePatternError)."""
    try:
        lexer = shlex.shlex(pattern, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError as exc:  # "No closing quotation", "No escaped character"
        raise RulePatternError(f"cannot split it into words: {exc}") from None
    for token in tokens:
        if token and set(token) <= _OPERATOR_CHARS:
            raise RulePatternError(
                f"{token!r} is a shell operator: a prefix or glob rule matches one simple "
                "command; add one rule per command, or use an exact rule for the whole line"
            )
    if not tokens:
        raise RulePatternError("the pattern has no words")
    return tuple(tokens)


def _glob_word_regex(word: str, *, strict: bool) -> str:
    """Translate one glob word to a regex (strict: `*` and `?` do not cross `/`)."""
    out: list[str] = []
    i, n = 0, len(word)
    star = "[^/]*" if strict else ".*"
    one = "[^/]" if strict else "."
    while i < n:
        c = word[i]
        if c == "*":
            if word.startswith("**", i):
                out.append(".*")
                while i < n and word[i] == "*":
                    i += 1
                continue
            out.append(star)
        elif c == "?":
            out.append(one)
        elif c == "[":
            j = i + 1
            if j < n and word[j] in "!^":
                j += 1
            if j < n and word[j] == "]":
                j += 1
            while j < n and word[j] != "]":
                j += 1
            if j >= n:
                raise RulePatternError(f"unclosed '[' in glob word {word!r}")
            body = word[i + 1 : j]
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            body = "".join(ch if ch == "-" else re.escape(ch) for ch in body)
            out.append(f"[{'^' if negate else ''}{body}]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def _compiled_glob(pattern: str, strict: bool) -> tuple[tuple[str, re.Pattern[str]], ...]:
    words = pattern_words(pattern)
    compiled = []
    for word in words:
        try:
            compiled.append((word, re.compile(_glob_word_regex(word, strict=strict), re.DOTALL)))
        except re.error as exc:
            raise RulePatternError(f"bad glob word {word!r}: {exc}") from None
    return tuple(compiled)


# A user's regex runs inside the broker for every command: one that backtracks
# catastrophically (`(a+)+$`) must not stall the gate. Patterns run on the `regex` module,
# whose matching takes a timeout; a timed-out match counts against the command (a deny rule
# denies, an allow rule does not allow), and a pattern that times out on probe texts is
# refused when the rule is added.
REGEX_TIMEOUT_S = 0.05
_PROBE_RUNS = ("a", "0", " ", "-", "/", ".", "x ", "a/")
_REGEX_META = frozenset("\\.^$*+?{}[]|()")


class _Regex:
    """A compiled user pattern; `fullmatch` returns None on no match, raises TimeoutError."""

    __slots__ = ("_rx",)

    def __init__(self, rx: Any) -> None:
        self._rx = rx

    def fullmatch(self, text: str) -> object | None:
        return self._rx.fullmatch(text, timeout=REGEX_TIMEOUT_S)


@lru_cache(maxsize=4096)
def compiled_regex(pattern: str, dotall: bool = False) -> _Regex:
    import regex  # lazily: only a rule set with regex rules pays for the import

    try:
        with warnings.catch_warnings():  # "possible nested set" & co: noise for a user pattern
            warnings.simplefilter("ignore")
            return _Regex(regex.compile(pattern, regex.DOTALL if dotall else 0))
    except regex.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise RulePatternError(f"{exc.msg}{where}") from None


def regex_fullmatch(rx: _Regex, text: str, *, on_timeout: bool) -> bool:
    """Does `rx` match all of `text`? `on_timeout` is the answer when it takes too long."""
    try:
        return rx.fullmatch(text) is not None
    except TimeoutError:
        return on_timeout


def _slow_probes(pattern: str) -> list[str]:
    """Texts that make nested repetition backtrack: the pattern's literal start, then a long
    run of one character (or pair) and an ending that fails the match."""
    body = pattern.removeprefix("^")
    cut = next((i for i, c in enumerate(body) if c in _REGEX_META), len(body))
    starts = dict.fromkeys(("", body[:cut]))
    return [start + run * 40 + end for start in starts for run in _PROBE_RUNS for end in "!\n"]


def check_regex_speed(pattern: str) -> None:
    rx = compiled_regex(pattern, dotall=True)
    for probe in _slow_probes(pattern):
        try:
            rx.fullmatch(probe)
        except TimeoutError:
            raise RulePatternError(
                "the pattern takes too long to match (overlapping repetition such as `(a|aa)+`?)"
            ) from None


def validate_pattern(kind: RuleKind, pattern: str) -> None:
    """Raise RulePatternError when `pattern` cannot be a rule of `kind`."""
    if not pattern.strip():
        raise RulePatternError("the pattern is empty")
    if kind in (RuleKind.PREFIX, RuleKind.GLOB):
        pattern_words(pattern)
    if kind is RuleKind.GLOB:
        _compiled_glob(pattern, True)
    if kind is RuleKind.REGEX:
        compiled_regex(pattern)
        check_regex_speed(pattern)


_GLOB_CHARS = frozenset("*?[")


def _glob_word_matches(pat_word: str, rx: re.Pattern[str], word: str, *, strict: bool) -> bool:
    if not strict:
        return rx.fullmatch(word) is not None
    if pat_word == word:
        return True
    if _GLOB_CHARS & set(word):
        return False  # the shell expands it to who knows how many words
    if word.startswith("-") and not pat_word.startswith("-"):
        return False  # a wildcard must not turn into an option
    if word.split("/").count("..") > pat_word.split("/").count(".."):
        return False  # no climbing out of the directory the pattern names
    return rx.fullmatch(word) is not None


def words_match(rule: Rule, words: Sequence[str], *, strict: bool = True) -> bool:
    """Does a prefix/glob rule match these words? (Raises RulePatternError on a bad pattern.)"""
    if rule.kind is RuleKind.PREFIX:
        pw = pattern_words(rule.pattern)
        return len(words) >= len(pw) and tuple(words[: len(pw)]) == pw
    if rule.kind is RuleKind.GLOB:
        compiled = _compiled_glob(rule.pattern, strict)
        if len(compiled) != len(words):
            return False
        return all(
            _glob_word_matches(pw, rx, w, strict=strict)
            for (pw, rx), w in zip(compiled, words, strict=True)
        )
    return False


# ---------------------------------------------------------------------------------------------
# Rules that are too broad to allow: design-notes §5 "never suggest rules for shells,
# interpreters, sudo, xargs, npx". A prefix/glob/regex allow rule that covers one of these
# lets the agent run anything at all.

RISKY_PROGRAMS: dict[str, str] = {
    **dict.fromkeys(
        ("sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "csh", "tcsh", "ash", "busybox"),
        "a shell",
    ),
    **dict.fromkeys(
        (
            "python",
            "python2",
            "python3",
            "node",
            "nodejs",
            "deno",
            "bun",
            "perl",
            "ruby",
            "php",
            "lua",
            "Rscript",
            "tclsh",
            "pwsh",
            "osascript",
        ),
        "an interpreter",
    ),
    **dict.fromkeys(("sudo", "doas", "su", "pkexec", "runuser"), "a privilege wrapper"),
    **dict.fromkeys(
        (
            "xargs",
            "parallel",
            "env",
            "exec",
            "command",
            "builtin",
            "nohup",
            "timeout",
            "nice",
            "stdbuf",
            "setsid",
            "time",
            "watch",
        ),
        "a wrapper that runs another program",
    ),
    **dict.fromkeys(("npx", "bunx", "pnpx"), "a package runner"),
    **dict.fromkeys(("eval", "source", "."), "eval"),
}


def _is_assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return bool(eq) and name.isidentifier()


def too_broad(rule: Rule) -> str:
    """Why an allow rule would cover a shell, interpreter, sudo, xargs, npx or eval ("" if not).
    Raises RulePatternError on a bad pattern."""
    if rule.action is RuleAction.DENY or rule.kind is RuleKind.EXACT:
        return ""
    if rule.kind is RuleKind.REGEX:
        rx = compiled_regex(rule.pattern)
        for name, what in RISKY_PROGRAMS.items():
            probes = (name, f"{name} x", f"{name} -c x", f"/usr/bin/{name} x", f"X=1 {name} x")
            if any(regex_fullmatch(rx, p, on_timeout=True) for p in probes):
                return f"it matches {name!r} ({what})"
        return ""
    words = pattern_words(rule.pattern)
    program = next((w for w in words if not _is_assignment(w)), None)
    if program is None:
        return "it names no program, so it covers every program"
    base = program.rsplit("/", 1)[-1]
    if base in RISKY_PROGRAMS:
        return f"it covers {base!r} ({RISKY_PROGRAMS[base]})"
    if rule.kind is RuleKind.GLOB and _GLOB_CHARS & set(program):
        glob_rx = re.compile(_glob_word_regex(program, strict=False), re.DOTALL)
        for name, what in RISKY_PROGRAMS.items():
            if glob_rx.fullmatch(name) or glob_rx.fullmatch(f"/usr/bin/{name}"):
                return f"its program word {program!r} matches {name!r} ({what})"
    return ""


# ---------------------------------------------------------------------------------------------
# Matching one part


def complexity(part: SimpleCommand, nested: Sequence[SimpleCommand] = ()) -> str:
    """Why only an exact rule may allow this part ("" when any kind may)."""
    if part.obfuscated:
        return "it is obfuscated"
    if part.is_eval:
        return "it evaluates a dynamic script"
    if part.has_substitution:
        return "it contains a command or process substitution"
    if part.dynamic_program:
        return "the program is named by a variable or substitution"
    if any(p is not part for p in nested):
        return "it runs other commands inside it"
    if part.interpreter_code:
        return "it runs interpreter code"
    # `prefix psql prod -c` must not turn into a licence for any SQL: only reads pass by
    # prefix/glob/regex; a statement that changes data or schema needs an exact rule.
    for statement in part.sql:
        if statement.kind not in _SQL_READS:
            return f"it sends a {statement.verb or statement.kind} statement to a database"
    for r in part.redirects:
        if r.is_write:
            return f"it writes to a file ({r.op} {r.target or 'dynamic target'})"
    return ""


_HEREDOC_OPS = frozenset({"<<", "<<-"})
_SQL_READS = frozenset({SqlKind.READ, SqlKind.SESSION})


def allow_matches(rule: Rule, part: SimpleCommand, *, simple: bool) -> bool:
    """Does allow `rule` cover this top-level part? `simple` = complexity(...) == ""."""
    if rule.kind is RuleKind.EXACT:
        # A here-document's body is not in the part's text: only an exact rule for the whole
        # line (which contains the body) may allow such a part.
        heredoc = any(r.op in _HEREDOC_OPS for r in part.redirects)
        return not heredoc and part.text.strip() == rule.pattern.strip()
    if not simple or not part.words:
        return False
    if rule.kind is RuleKind.REGEX:
        rx = compiled_regex(rule.pattern)
        return regex_fullmatch(rx, part.text.strip(), on_timeout=False) and _regex_names_program(
            rx, part
        )
    if rule.kind is RuleKind.GLOB and part.dynamic_args:
        return False  # `$x` may split into any number of words
    if not words_match(rule, part.words, strict=True):
        return False
    return _names_wrapped_program(rule, part)


def _names_wrapped_program(rule: Rule, part: SimpleCommand) -> bool:
    """A prefix/glob rule may allow a wrapped command (`sudo`, `env X=1`, `timeout 5`, `xargs`)
    only if it spells out the program that really runs, not just the wrapper."""
    if len(part.argv) >= len(part.words):
        return True
    start = len(part.words) - len(part.argv)
    if not part.argv or part.words[start:] != part.argv:
        return False  # cannot tell where the real program is: leave it to an exact rule
    words = pattern_words(rule.pattern)
    if len(words) <= start:
        return False
    return rule.kind is RuleKind.PREFIX or not (_GLOB_CHARS & set(words[start]))


_PROBE_PROGRAM = "zzexpactiprobe"


def _regex_names_program(rx: _Regex, part: SimpleCommand) -> bool:
    """An allow regex must name the program that runs: one that would match the same command
    with any other program (`\\S+ install .*`, `sudo .*`) does not allow it."""
    if not part.argv:
        return False
    start = len(part.words) - len(part.argv)
    if start < 0 or part.words[start:] != part.argv:
        return False
    try:
        if rx.fullmatch(shlex.join(part.words)) is None:
            return True  # written with other quoting than ours: nothing to compare against
        probe = (*part.words[:start], _PROBE_PROGRAM, *part.words[start + 1 :])
        return rx.fullmatch(shlex.join(probe)) is None
    except TimeoutError:
        return False


def _deny_forms(part: SimpleCommand) -> list[tuple[str, ...]]:
    forms = [part.words, part.argv]
    if part.program and part.argv:
        forms.append((part.program, *part.argv[1:]))
    unique: list[tuple[str, ...]] = []
    for f in forms:
        if f and f not in unique:
            unique.append(f)
    return unique


def deny_matches(rule: Rule, part: SimpleCommand) -> bool:
    """Does deny `rule` catch this part (any depth)? Looks through wrappers and normalises."""
    forms = _deny_forms(part)
    if rule.kind in (RuleKind.PREFIX, RuleKind.GLOB):
        if any(words_match(rule, f, strict=False) for f in forms):
            return True
        return rule.kind is RuleKind.PREFIX and _deny_prefix_by_flags(rule, part)
    texts = {part.text.strip(), *(" ".join(f) for f in forms)}
    if rule.kind is RuleKind.EXACT:
        return rule.pattern.strip() in texts
    rx = compiled_regex(rule.pattern, dotall=True)
    return any(regex_fullmatch(rx, t, on_timeout=True) for t in texts)


# Flags that mean the same to the programs people write deny rules for (rm, cp, chmod, chown,
# git push...). Over-matching a deny rule only asks for a stricter outcome, so keep it simple.
_FLAG_SYNONYMS: dict[str, frozenset[str]] = {
    "r": frozenset({"r", "R", "recursive"}),
    "R": frozenset({"r", "R", "recursive"}),
    "recursive": frozenset({"r", "R", "recursive"}),
    "f": frozenset({"f", "force"}),
    "force": frozenset({"f", "force"}),
}


@lru_cache(maxsize=4096)
def _pattern_shape(pattern: str) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """(program, flags, other words) of a deny prefix pattern; None if it names no program."""
    words = list(pattern_words(pattern))
    while words and _is_assignment(words[0]):
        words.pop(0)
    if not words:
        return None
    flags: list[str] = []
    others: list[str] = []
    for w in words[1:]:
        if w.startswith("--") and len(w) > 2:
            flags.append(w[2:].split("=", 1)[0])
        elif w.startswith("-") and len(w) > 1 and w[1:].isalnum():
            flags.extend(w[1:])
        else:
            others.append(w)
    return words[0].rsplit("/", 1)[-1], tuple(flags), tuple(others)


def _deny_prefix_by_flags(rule: Rule, part: SimpleCommand) -> bool:
    """`deny prefix 'rm -rf'` also catches `rm -r -f x`, `rm -fr x`, `rm --recursive --force x`:
    same program, every flag of the pattern present in any spelling and order, and the
    pattern's other words found, in order, among the command's arguments."""
    shape = _pattern_shape(rule.pattern)
    if shape is None or not part.program:
        return False
    program, flags, others = shape
    if program != part.program:
        return False
    present = part.short_flags | part.long_flags
    if not all(_FLAG_SYNONYMS.get(f, frozenset({f})) & present for f in flags):
        return False
    args = iter(part.positionals)
    return all(any(a == w for a in args) for w in others)


def _inside(cwd: str, scope: str) -> bool:
    cwd_n, scope_n = os.path.normpath(cwd), os.path.normpath(scope)
    return cwd_n == scope_n or cwd_n.startswith(scope_n.rstrip(os.sep) + os.sep)


# ---------------------------------------------------------------------------------------------
# Matching a whole command


@dataclass(frozen=True)
class PartMatch:
    """How the rules judge one top-level part (and everything nested inside it)."""

    index: int  # index in Analysis.parts
    text: str
    allowed_by: str = ""  # id of the allow rule that covers it
    denied_by: str = ""  # id of a deny rule that catches it or something nested in it
    denied_text: str = ""  # the (possibly nested) part the deny rule caught
    explanation: str = ""  # for humans

    @property
    def action(self) -> str:
        if self.denied_by:
            return "deny"
        return "allow" if self.allowed_by else "ask"


@dataclass(frozen=True)
class RulesMatch:
    """The rules' verdict on a command: allowed only if every part is; denied if any part is."""

    parts: tuple[PartMatch, ...]
    denied_by: str = ""  # first deny rule that matched (part or whole line)
    whole_line_rule: str = ""  # an exact rule for the whole line (allow or deny) that matched
    unparsed: bool = False

    @property
    def denied(self) -> bool:
        return bool(self.denied_by)

    @property
    def allowed(self) -> bool:
        return (
            not self.denied
            and not self.unparsed
            and bool(self.parts)
            and all(p.allowed_by for p in self.parts)
        )

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The rules that decided the verdict, once each, in order (for hit counts): the deny
        rules when denied, the allow rules when allowed, none when it asks."""
        if self.denied:
            ids = [self.denied_by, *(p.denied_by for p in self.parts)]
        elif self.allowed:
            ids = [self.whole_line_rule, *(p.allowed_by for p in self.parts)]
        else:
            return ()
        return tuple(dict.fromkeys(i for i in ids if i))


class RuleSet:
    """Rules prepared for matching many commands (bucketed once). Expiry is checked at match
    time, so one RuleSet stays valid while time passes."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        self.denies = [r for r in self.rules if r.action is RuleAction.DENY]
        self.deny_index = _DenyIndex(self.denies)
        self.allows = _AllowIndex([r for r in self.rules if r.action is RuleAction.ALLOW])


def match_command(
    analysis: Analysis, rules: Iterable[Rule] | RuleSet, *, cwd: str | None, now: datetime
) -> RulesMatch:
    """Judge `analysis` against `rules`. Never raises for a valid rule set; a rule whose pattern
    is broken (hand-edited file) simply matches nothing."""
    ruleset = rules if isinstance(rules, RuleSet) else RuleSet(rules)
    index = ruleset.allows
    unparsed = analysis.unparsed or analysis.depth_exceeded
    source = analysis.source.strip()

    whole_deny = next(
        (
            r
            for r in ruleset.denies
            if _denies_whole_line(r, source, unparsed)
            and not r.is_expired(now)
            and _scope_ok(r, cwd, deny=True)
        ),
        None,
    )
    whole_allow = next(
        (
            r
            for _, r in index.exact.get(source, ())
            if not r.is_expired(now) and _scope_ok(r, cwd, deny=False)
        ),
        None,
    )

    results: list[PartMatch] = []
    cwd_known = cwd
    for i, part in enumerate(analysis.parts):
        if part.depth != 0:
            continue
        nested = analysis.nested_in(i)
        deny_rule, deny_part = _first_deny(ruleset.deny_index, nested, cwd, now)
        why_complex = complexity(part, nested)
        allow_rule: Rule | None = None
        if not unparsed:
            if whole_allow is not None:
                allow_rule = whole_allow
            else:
                allow_rule = _first_allow(index, part, why_complex == "", cwd_known, now)
        results.append(
            PartMatch(
                index=i,
                text=part.text,
                allowed_by=allow_rule.id if allow_rule else "",
                denied_by=deny_rule.id if deny_rule else "",
                denied_text=deny_part.text if deny_part else "",
                explanation=_explain(part, deny_rule, deny_part, allow_rule, why_complex, unparsed),
            )
        )
        if part.program in ("cd", "pushd", "popd"):
            cwd_known = None  # later parts run elsewhere: directory-scoped allows stop applying

    first_deny = (
        whole_deny.id if whole_deny else next((p.denied_by for p in results if p.denied_by), "")
    )
    whole = whole_deny or whole_allow
    return RulesMatch(
        parts=tuple(results),
        denied_by=first_deny,
        whole_line_rule=whole.id if whole else "",
        unparsed=unparsed,
    )


def _denies_whole_line(rule: Rule, source: str, unparsed: bool) -> bool:
    if rule.kind is RuleKind.EXACT:
        return rule.pattern.strip() == source
    if rule.kind is RuleKind.REGEX and unparsed:
        # The parts of an unparsed command cannot be trusted: let deny regexes see all of it.
        try:
            rx = compiled_regex(rule.pattern, dotall=True)
        except RulePatternError:
            return False
        return regex_fullmatch(rx, source, on_timeout=True)
    return False


def _scope_ok(rule: Rule, cwd: str | None, *, deny: bool) -> bool:
    if not rule.scope:
        return True
    if cwd is None:
        return deny  # unknown cwd: a scoped deny still applies, a scoped allow does not
    return _inside(cwd, rule.scope)


class _DenyIndex:
    """Deny rules bucketed by the program words they could match (as written, or normalised);
    exact, regex and wildcard-program rules are checked against every part."""

    def __init__(self, denies: Sequence[Rule]) -> None:
        self.by_word: dict[str, list[tuple[int, Rule]]] = {}
        self.others: list[tuple[int, Rule]] = []
        for pos, rule in enumerate(denies):
            keys: set[str] = set()
            if rule.kind in (RuleKind.PREFIX, RuleKind.GLOB):
                try:
                    words = pattern_words(rule.pattern)
                except RulePatternError:
                    continue
                keys.add(words[0])
                program = next((w for w in words if not _is_assignment(w)), "")
                keys.add(program.rsplit("/", 1)[-1])
                if any(_GLOB_CHARS & set(k) for k in keys):
                    keys = set()
            if keys:
                for key in keys:
                    self.by_word.setdefault(key, []).append((pos, rule))
            else:
                self.others.append((pos, rule))

    def candidates(self, part: SimpleCommand) -> list[Rule]:
        found: dict[int, Rule] = dict(self.others)
        for key in {
            part.words[0] if part.words else "",
            part.argv[0] if part.argv else "",
            part.program,
        }:
            found.update(self.by_word.get(key, ()))
        return [found[pos] for pos in sorted(found)]


def _first_deny(
    index: _DenyIndex, parts: Sequence[SimpleCommand], cwd: str | None, now: datetime
) -> tuple[Rule | None, SimpleCommand | None]:
    for part in parts:
        for rule in index.candidates(part):
            if rule.is_expired(now) or not _scope_ok(rule, cwd, deny=True):
                continue
            try:
                if deny_matches(rule, part):
                    return rule, part
            except RulePatternError:
                continue
    return None, None


class _AllowIndex:
    """Allow rules bucketed so a part is checked only against rules that could match it:
    exact rules by text, prefix/glob rules by their literal first word, the rest in order."""

    def __init__(self, allows: Sequence[Rule]) -> None:
        self.exact: dict[str, list[tuple[int, Rule]]] = {}
        self.by_word: dict[str, list[tuple[int, Rule]]] = {}
        self.others: list[tuple[int, Rule]] = []
        for pos, rule in enumerate(allows):
            if rule.kind is RuleKind.EXACT:
                self.exact.setdefault(rule.pattern.strip(), []).append((pos, rule))
                continue
            first = ""
            if rule.kind in (RuleKind.PREFIX, RuleKind.GLOB):
                try:
                    first = pattern_words(rule.pattern)[0]
                except RulePatternError:
                    continue  # a broken stored pattern matches nothing
                if rule.kind is RuleKind.GLOB and _GLOB_CHARS & set(first):
                    first = ""
            if first:
                self.by_word.setdefault(first, []).append((pos, rule))
            else:
                self.others.append((pos, rule))

    def candidates(self, part: SimpleCommand) -> list[Rule]:
        found = list(self.exact.get(part.text.strip(), ()))
        if part.words:
            found += self.by_word.get(part.words[0], ())
        found += self.others
        return [rule for _, rule in sorted(found, key=lambda pr: pr[0])]


def _first_allow(
    index: _AllowIndex, part: SimpleCommand, simple: bool, cwd: str | None, now: datetime
) -> Rule | None:
    for rule in index.candidates(part):
        if rule.is_expired(now) or not _scope_ok(rule, cwd, deny=False):
            continue
        try:
            if allow_matches(rule, part, simple=simple):
                return rule
        except RulePatternError:
            continue
    return None


def _explain(
    part: SimpleCommand,
    deny_rule: Rule | None,
    deny_part: SimpleCommand | None,
    allow_rule: Rule | None,
    why_complex: str,
    unparsed: bool,
) -> str:
    if deny_rule is not None and deny_part is not None:
        where = "" if deny_part is part else f" (nested: {deny_part.text.strip()!r})"
        return f"denied by rule {deny_rule.id} ({deny_rule.describe()}){where}"
    if unparsed:
        return "the command could not be parsed: no rule can allow it"
    if allow_rule is not None:
        return f"allowed by rule {allow_rule.id} ({allow_rule.describe()})"
    if why_complex:
        return f"not covered: only an exact rule can allow it because {why_complex}"
    return "not covered by any rule"
