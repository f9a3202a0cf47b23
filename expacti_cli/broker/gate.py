"""What the broker decides on its own: score a command, compare it with the user's history
(anomalies), match the rules, apply the policy.

Anything that goes wrong here (a bad config, an unreadable rules file, a bug) turns into a
deny with the reason: the gate fails closed. A history that cannot be read is not a deny but
an anomaly: nothing passes by threshold while it lasts.

The history profile is built once per broker process and then only fed the records appended
since the last command (learn/profile.ProfileCache), so judging a command does not re-read
the audit log.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from expacti_cli.broker import protocol
from expacti_cli.errors import ExpactiError

if TYPE_CHECKING:
    from expacti_cli.analysis.model import Analysis
    from expacti_cli.learn.anomaly import Findings
    from expacti_cli.learn.profile import ProfileCache
    from expacti_cli.risk.model import Score
    from expacti_cli.store.audit import AuditLog

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


def evaluate(
    command: str,
    cwd: str,
    *,
    session: str = "",
    now: datetime | None = None,
    anomalies: bool = True,
) -> Evaluation:
    """Score `command` and decide allow/deny/ask with the current config, rules and history.

    `session` lets the anomaly engine compare the pace of commands with that session's own;
    `now` is the moment the anomaly engine judges by (default: the clock, or EXPACTI_TEST_NOW
    in tests); rule expiry always uses the real clock, so a clock injected into a broker's
    environment cannot revive an expired rule. `anomalies=False` leaves the history out
    (benchmarks measure what it costs)."""
    try:
        return _evaluate(command, cwd, session, now, anomalies)
    except ExpactiError as exc:
        return _failed(f"cannot decide: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug must deny, not crash the broker
        return _failed(f"cannot decide: internal error ({type(exc).__name__}: {exc})")


def _evaluate(
    command: str, cwd: str, session: str, now: datetime | None, with_anomalies: bool
) -> Evaluation:
    from expacti_cli.analysis import analyze
    from expacti_cli.config import load_config
    from expacti_cli.learn.profile import current_time
    from expacti_cli.policy import decide
    from expacti_cli.risk import score_analysis
    from expacti_cli.store.rules import RulesStore

    cfg = load_config()
    here = cfg.for_directory(cwd or None)
    now = now or current_time()
    analysis = analyze(command)
    score = score_analysis(analysis, cfg.risk)
    strict: tuple[str, ...] = ()
    if with_anomalies:
        from expacti_cli.learn.anomaly import apply_findings, strict_triggers

        findings = judge_history(analysis, score, now=now, session=session)
        score = apply_findings(score, findings)
        strict = strict_triggers(findings, here.strict_anomalies)
    decision = decide(
        analysis,
        score,
        RulesStore().list(),
        cwd=cwd or None,
        now=datetime.now(UTC),
        auto_approve_below=here.auto_approve_below,
        threshold_scope=f"project {here.project}" if here.project else "",
        strict_anomalies=strict,
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


_profiles: ProfileCache | None = None
_logs: dict[str | None, AuditLog] = {}  # EXPACTI_HOME -> its audit log (paths cost ~20 us)
_profiles_lock = threading.Lock()  # warm_history may build the profile in another thread


def warm_history() -> None:
    """Build the history profile now (e.g. in a thread at broker start), so the first command
    does not wait for it (~0.25 s per 10,000 records). Best effort: errors show up later."""
    from expacti_cli.analysis import analyze
    from expacti_cli.learn.profile import current_time
    from expacti_cli.risk import score_command

    with contextlib.suppress(Exception):
        judge_history(analyze("true"), score_command("true"), now=current_time(), session="")


def judge_history(analysis: Analysis, score: Score, *, now: datetime, session: str) -> Findings:
    """The anomaly engine's findings for one command against the user's audit history."""
    global _profiles
    import os

    from expacti_cli.learn.anomaly import find_anomalies, unreadable
    from expacti_cli.learn.profile import ProfileCache
    from expacti_cli.store.audit import AuditLog

    home = os.environ.get("EXPACTI_HOME")
    with _profiles_lock:
        if _profiles is None:
            _profiles = ProfileCache()
        log = _logs.get(home)
        if log is None:
            log = _logs[home] = AuditLog.open()
        try:
            profile = _profiles.current(log)
        except (ExpactiError, OSError) as exc:
            return unreadable(str(exc))
        return find_anomalies(analysis, score, profile, now=now, session=session)


def record_rule_hits(rule_ids: tuple[str, ...]) -> None:
    """Count a use of the rules that let a command through (best effort: never blocks it)."""
    if not rule_ids:
        return
    try:
        from expacti_cli.store.rules import RulesStore

        RulesStore().record_hit(rule_ids)
    except Exception:  # noqa: BLE001 - a hit counter must not deny a command
        pass
