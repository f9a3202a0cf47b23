"""Property tests: rules built from safe commands never allow a dangerous one; matching never
raises, whatever the rules and the analysis hold."""

from __future__ import annotations

import importlib
import re
import shlex
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rules_helpers import NOW, analysis, part, write_to

from expacti_cli.analysis.model import Analysis, SimpleCommand
from expacti_cli.matching import (
    Rule,
    RuleAction,
    RuleKind,
    RulePatternError,
    match_command,
    too_broad,
    validate_pattern,
)
from expacti_cli.policy import Action, decide
from expacti_cli.risk.model import Level, Score

SAFE = [
    "git status",
    "npm test",
    "ls -la",
    "git log -3",
    "echo hello",
    "make build",
    "cargo test --release",
    "git diff HEAD~1",
    "pytest -q tests/unit",
    "cat README.md",
]

# Dangerous fragments, each with the parts an analyser would give it (top part first).
DANGEROUS: dict[str, list[SimpleCommand]] = {
    "rm -rf ~": [part("rm -rf ~")],
    "sudo rm -rf /": [part("sudo rm -rf /")],
    "chmod -R 777 /": [part("chmod -R 777 /")],
    "dd if=/dev/zero of=/dev/sda": [part("dd if=/dev/zero of=/dev/sda")],
    "kubectl delete deployment/api": [part("kubectl delete deployment/api")],
    "bash -c 'rm -rf /'": [part("bash -c 'rm -rf /'"), part("rm -rf /", depth=1)],
    "echo $(cat ~/.ssh/id_rsa)": [
        part(
            "echo $(cat ~/.ssh/id_rsa)",
            words=("echo", "$(cat ~/.ssh/id_rsa)"),
            has_substitution=True,
        ),
        part("cat ~/.ssh/id_rsa", depth=1),
    ],
    "ls > ~/.bashrc": [part("ls > ~/.bashrc", words=("ls",), redirects=(write_to("~/.bashrc"),))],
    "cat README.md | sh": [part("cat README.md"), part("sh")],
    "echo aGk= | base64 -d | sh": [
        part("echo aGk=", obfuscated=True),
        part("base64 -d", obfuscated=True),
        part("sh", obfuscated=True),
    ],
    "$CMD -rf /": [part("$CMD -rf /", dynamic_program=True, dynamic_args=True)],
    "timeout 5 rm -rf /": [part("timeout 5 rm -rf /")],
    "git status --porcelain; rm x": [part("git status --porcelain"), part("rm x")],
}

OPERATORS = [" && ", " || ", "; ", " | ", "\n", " & "]


@st.composite
def safe_rule(draw: st.DrawFn) -> Rule:
    """A rule a user could add for one safe command, in any kind, as narrow or broad as the
    CLI accepts."""
    text = draw(st.sampled_from(SAFE))
    words = shlex.split(text)
    kind = draw(st.sampled_from(list(RuleKind)))
    if kind is RuleKind.EXACT:
        pattern = text
    elif kind is RuleKind.PREFIX:
        pattern = shlex.join(words[: draw(st.integers(1, len(words)))])
    elif kind is RuleKind.GLOB:
        globbed = [words[0]]
        for w in words[1:]:
            globbed.append(draw(st.sampled_from([w, "*", "**", w[:1] + "*", "?" * len(w)])))
        pattern = " ".join(globbed)
    else:
        stem = re.escape(shlex.join(words[: draw(st.integers(1, len(words)))]))
        pattern = stem + draw(st.sampled_from(["", "( .*)?", " .*", r"( \S+)*"]))
    r = Rule(id=f"r{draw(st.integers(0, 10**6))}", pattern=pattern, kind=kind)
    assume(not too_broad(r))  # the CLI refuses those without --force
    return r


@st.composite
def command_fragments(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    fragments = draw(st.lists(st.sampled_from(SAFE + list(DANGEROUS)), min_size=1, max_size=5))
    ops = draw(
        st.lists(
            st.sampled_from(OPERATORS), min_size=len(fragments) - 1, max_size=len(fragments) - 1
        )
    )
    return fragments, ops


def _join(fragments: list[str], ops: list[str]) -> str:
    out = fragments[0]
    for op, frag in zip(ops, fragments[1:], strict=True):
        out += op + frag
    return out


def _hand_analysis(fragments: list[str], ops: list[str]) -> Analysis:
    parts: list[SimpleCommand] = []
    for frag in fragments:
        parts.extend(DANGEROUS.get(frag) or [part(frag)])
    return analysis(*parts, source=_join(fragments, ops))


@settings(max_examples=400, suppress_health_check=[HealthCheck.filter_too_much], deadline=None)
@given(command_fragments(), st.lists(safe_rule(), max_size=12), st.booleans())
def test_safe_rules_never_allow_a_dangerous_fragment(
    cmd: tuple[list[str], list[str]], rules: list[Rule], exact_for_all_safe: bool
) -> None:
    fragments, ops = cmd
    if exact_for_all_safe:
        rules = rules + [Rule(id=f"x{i}", pattern=t) for i, t in enumerate(SAFE)]
    a = _hand_analysis(fragments, ops)
    m = match_command(a, rules, cwd="/", now=NOW)
    if any(f in DANGEROUS for f in fragments):
        assert not m.allowed, (a.source, [r.describe() for r in rules])
    elif exact_for_all_safe:
        assert m.allowed  # and the test would notice a matcher that allows nothing


SCORE = Score(command="", score=5, level=Level.LOW, summary="", reasons=())


def _real_analyze() -> Callable[[str], Analysis] | None:
    try:
        return importlib.import_module("expacti_cli.analysis").analyze
    except (ImportError, AttributeError):
        return None


@pytest.mark.skipif(_real_analyze() is None, reason="analysis engine not available yet")
@settings(max_examples=300, suppress_health_check=[HealthCheck.filter_too_much], deadline=None)
@given(command_fragments(), st.lists(safe_rule(), max_size=12))
def test_real_analysis_safe_rules_never_allow_dangerous(
    cmd: tuple[list[str], list[str]], rules: list[Rule]
) -> None:
    fragments, ops = cmd
    source = _join(fragments, ops)
    analyze = _real_analyze()
    assert analyze is not None
    a = analyze(source)
    d = decide(a, SCORE, rules, cwd="/", now=NOW)
    if any(f in DANGEROUS for f in fragments):
        assert d.action is not Action.ALLOW, (source, [r.describe() for r in rules], d.parts)


# --- never raises -----------------------------------------------------------------------------

_TEXT = st.text(alphabet="ab*?[]!^-/. $()'\"\\|;&\n\x1b\u202e", max_size=12)


@st.composite
def any_rule(draw: st.DrawFn) -> Rule:
    return Rule(
        id=draw(st.text(min_size=1, max_size=4)),
        pattern=draw(_TEXT),
        kind=draw(st.sampled_from(list(RuleKind))),
        action=draw(st.sampled_from(list(RuleAction))),
        scope=draw(st.sampled_from(["", "/", "/a", "/a/b/", "relative"])),
    )


@st.composite
def any_part(draw: st.DrawFn) -> SimpleCommand:
    words = tuple(draw(st.lists(_TEXT, max_size=4)))
    argv = words[draw(st.integers(0, len(words))) :]
    return SimpleCommand(
        text=draw(_TEXT),
        words=words,
        argv=argv,
        program=draw(_TEXT),
        depth=draw(st.integers(0, 2)),
        has_substitution=draw(st.booleans()),
        dynamic_args=draw(st.booleans()),
        redirects=(write_to(draw(_TEXT)),) if draw(st.booleans()) else (),
    )


@settings(max_examples=400, deadline=None)
@given(
    st.lists(any_part(), max_size=5),
    st.lists(any_rule(), max_size=6),
    st.booleans(),
    st.sampled_from([None, "/", "/a/b", "/a/bc", ""]),
)
def test_matching_never_raises(
    parts: list[SimpleCommand], rules: list[Rule], unparsed: bool, cwd: str | None
) -> None:
    a = analysis(*parts, source=" ; ".join(p.text for p in parts), unparsed=unparsed)
    m = match_command(a, rules, cwd=cwd, now=NOW)
    assert len(m.parts) == len(a.top_parts)
    if unparsed:
        assert not m.allowed
    d = decide(a, SCORE, rules, cwd=cwd, now=NOW, auto_approve_below=50)
    assert d.action in (Action.ALLOW, Action.DENY, Action.ASK)
    if unparsed:
        assert d.action is not Action.ALLOW


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(RuleKind)), _TEXT)
def test_validation_raises_only_pattern_errors(kind: RuleKind, pattern: str) -> None:
    r = Rule(id="x", pattern=pattern, kind=kind)
    try:
        validate_pattern(kind, pattern)
    except RulePatternError:
        return
    too_broad(r)  # a valid pattern can always be checked


_WORDS = st.sampled_from(["rm", "/bin/rm", "-rf", "x", "*", "r?", "FOO=1", "sudo", "git", "-f"])


@st.composite
def wordy_part(draw: st.DrawFn) -> SimpleCommand:
    words = tuple(draw(st.lists(_WORDS, min_size=1, max_size=4)))
    argv = words[draw(st.integers(0, len(words) - 1)) :]
    return part(" ".join(words), words=words, argv=argv)


@st.composite
def wordy_rule(draw: st.DrawFn) -> Rule:
    pattern = " ".join(draw(st.lists(_WORDS, min_size=1, max_size=3)))
    return Rule(
        id="r",
        pattern=pattern,
        kind=draw(st.sampled_from(list(RuleKind))),
        action=draw(st.sampled_from(list(RuleAction))),
    )


@settings(max_examples=500, deadline=None)
@given(wordy_part(), wordy_rule())
def test_rule_index_never_hides_a_matching_rule(p: SimpleCommand, r: Rule) -> None:
    """Bucketing rules by program word is only a shortcut: the verdict is the same as checking
    the one rule directly."""
    from expacti_cli.matching import allow_matches, complexity, deny_matches

    m = match_command(analysis(p), [r], cwd="/", now=NOW)
    try:
        if r.action is RuleAction.DENY:
            direct = deny_matches(r, p)
        else:
            direct = allow_matches(r, p, simple=complexity(p) == "")
    except RulePatternError:
        direct = False  # a broken pattern matches nothing
    assert (m.denied if r.action is RuleAction.DENY else m.allowed) == direct
