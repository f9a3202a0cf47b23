"""Property tests: scoring never raises, stays in range, and unparsed is never LOW."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from expacti_cli.analysis import analyze
from expacti_cli.risk import Level, score_analysis, score_command

SHELL_ALPHABET = st.sampled_from(
    list("abcdefrm -/~.*$(){}[]|&;<>'\"\\`\n=#!")
    + ["rm", "-rf", "sudo", "bash -c", "$(", "<<EOF", "psql"]
)
shellish = st.lists(SHELL_ALPHABET, max_size=40).map("".join)


def _check(score_value: object) -> None:
    from expacti_cli.risk import Score

    assert isinstance(score_value, Score)
    assert 0 <= score_value.score <= 100
    assert score_value.level == Level.of(score_value.score)
    assert score_value.summary
    if score_value.unparsed:
        assert score_value.level != Level.LOW


@settings(max_examples=300, deadline=None)
@given(shellish)
def test_shellish_text_never_raises(command: str) -> None:
    _check(score_command(command))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_never_raises(command: str) -> None:
    _check(score_command(command))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_any_bytes_never_raise(command: bytes) -> None:
    _check(score_command(command))


@settings(max_examples=100, deadline=None)
@given(shellish)
def test_unparsed_analysis_is_never_low(command: str) -> None:
    analysis = analyze(command)
    score = score_analysis(analysis)
    if analysis.unparsed:
        assert score.score >= Level.HIGH.floor


@settings(max_examples=300, deadline=None)
@given(shellish, st.sampled_from(["rm -rf ~", "rm -rf /", "kubectl delete deployment/api"]))
def test_prefixing_a_command_never_hides_a_dangerous_one(prefix: str, danger: str) -> None:
    """Whatever complete command comes before DANGER, the line scores at least as high as
    DANGER alone (or is unparsed, which is HIGH at least and always asks a human)."""
    # An open here-doc or a trailing backslash legitimately makes the next line data.
    assume("<<" not in prefix and not prefix.endswith("\\"))
    score = score_command(f"{prefix}\n{danger}")
    alone = score_command(danger).score
    assert score.score >= alone or (score.unparsed and score.score >= Level.HIGH.floor)


def test_scoring_bug_fails_closed(monkeypatch: object) -> None:
    import pytest

    from expacti_cli.risk import scorer

    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(scorer, "classify", lambda *a: 1 / 0)
        score = score_command("ls")
    finally:
        mp.undo()
    assert score.level == Level.CRITICAL
    assert score.reasons[0].code == "risk:error"
