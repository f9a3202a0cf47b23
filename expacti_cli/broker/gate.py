"""What the broker decides on its own: score a command, match the rules, apply the policy.

Anything that goes wrong here (a bad config, an unreadable rules file, a bug) turns into a
deny with the reason: the gate fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from expacti_cli.broker import protocol
from expacti_cli.errors import ExpactiError

if TYPE_CHECKING:
    pass

MIN_TIMEOUT = 30
MAX_TIMEOUT = protocol.MAX_TIMEOUT
ENV_TEST_MIN_TIMEOUT = "EXPACTI_TEST_MIN_TIMEOUT"  # tests only: allow timeouts below 30 s


@dataclass(frozen=True)
class Evaluation:
    """The broker's own verdict on a submitted command."""

    action: str  # "allow", "deny" or "ask"
    via: str  # "rule", "threshold", "default" or "error"
    reason: str
    score: int
    level: str
    summary: str
    reasons: tuple[str, ...]
    parts: tuple[str, ...]
    rule_ids: tuple[str, ...]
    approval_timeout: int
    on_timeout: str
    anomalies: tuple[str, ...] = ()


def min_timeout() -> int:
    """30 s, unless a test lowers it through EXPACTI_TEST_MIN_TIMEOUT."""
    import os

    value = os.environ.get(ENV_TEST_MIN_TIMEOUT, "").strip()
    return max(1, int(value)) if value.isdigit() else MIN_TIMEOUT


def clamp_timeout(seconds: float) -> int:
    return int(min(MAX_TIMEOUT, max(min_timeout(), seconds)))


def _failed(reason: str) -> Evaluation:
    return Evaluation(
        action="deny",
        via="error",
        reason=reason,
        score=100,
        level="CRITICAL",
        summary=reason,
        reasons=(reason,),
        parts=(),
        rule_ids=(),
        approval_timeout=MIN_TIMEOUT,
        on_timeout="deny",
    )


def evaluate(command: str, cwd: str) -> Evaluation:
    """Score `command` and decide allow/deny/ask with the current config and rules."""
    try:
        return _evaluate(command, cwd)
    except ExpactiError as exc:
        return _failed(f"cannot decide: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug must deny, not crash the broker
        return _failed(f"cannot decide: internal error ({type(exc).__name__}: {exc})")


def _evaluate(command: str, cwd: str) -> Evaluation:
    from expacti_cli.analysis import analyze
    from expacti_cli.config import load_config
    from expacti_cli.policy import decide
    from expacti_cli.risk import score_analysis
    from expacti_cli.store.rules import RulesStore

    cfg = load_config()
    analysis = analyze(command)
    score = score_analysis(analysis, cfg.risk)
    decision = decide(
        analysis,
        score,
        RulesStore().list(),
        cwd=cwd or None,
        now=datetime.now(UTC),
        auto_approve_below=cfg.auto_approve_below,
    )
    return Evaluation(
        action=decision.action.value,
        via=decision.via.value,
        reason=decision.reason,
        score=score.score,
        level=score.level.value,
        summary=score.summary,
        reasons=tuple(r.text for r in score.reasons),
        parts=tuple(p.text for p in analysis.parts if p.depth == 0),
        rule_ids=decision.rule_ids,
        approval_timeout=cfg.approval_timeout,
        on_timeout=cfg.on_timeout,
        anomalies=tuple(score.anomalies),
    )


def record_rule_hits(rule_ids: tuple[str, ...]) -> None:
    """Count a use of the rules that let a command through (best effort: never blocks it)."""
    if not rule_ids:
        return
    try:
        from expacti_cli.store.rules import RulesStore

        RulesStore().record_hit(rule_ids)
    except Exception:  # noqa: BLE001 - a hit counter must not deny a command
        pass
