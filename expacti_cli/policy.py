"""Rules + risk score + anomalies -> allow, deny or ask (pure: no I/O).

Order of precedence: a deny rule wins over everything; then a command whose every part an
allow rule covers is allowed "by rule", unless anomalies that `strict_anomalies` applies to
(the caller passes them in, see learn/anomaly.strict_triggers) send it to a human; then, if
`auto_approve_below` is set, a low score lets it through "by threshold" unless the command
could not be parsed, is obfuscated or shows anomalies; everything else asks a human
("default").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from expacti_cli.analysis.model import Analysis
from expacti_cli.matching import PartMatch, Rule, RuleSet, RulesMatch, match_command
from expacti_cli.risk.model import Score


class Action(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    ASK = "ask"


class Via(StrEnum):
    RULE = "rule"
    THRESHOLD = "threshold"
    DEFAULT = "default"


@dataclass(frozen=True)
class Decision:
    """What to do with a command, and why."""

    action: Action
    via: Via
    reason: str  # one line for humans
    parts: tuple[PartMatch, ...] = ()  # per top-level part: rule ids and explanations
    rule_ids: tuple[str, ...] = ()  # rules that decided (record their hits when it runs)
    score: int = 0
    level: str = ""

    @property
    def part_rule_ids(self) -> tuple[str, ...]:
        """Per top-level part, the deciding rule id ("" when none)."""
        return tuple(p.denied_by or p.allowed_by for p in self.parts)

    def to_json(self) -> dict[str, object]:
        return {
            "action": self.action.value,
            "via": self.via.value,
            "reason": self.reason,
            "rule_ids": list(self.rule_ids),
            "score": self.score,
            "level": self.level,
            "parts": [
                {
                    "index": p.index,
                    "text": p.text,
                    "action": p.action,
                    "rule_id": p.denied_by or p.allowed_by or None,
                    "explanation": p.explanation,
                }
                for p in self.parts
            ],
        }


TAMPER_REASON = "mod:expacti_tamper"


def changes_expacti(score: Score) -> bool:
    """Does any part change expacti itself (its controls, files or environment)?"""
    reasons = [*score.reasons, *(r for part in score.parts for r in part.reasons)]
    return any(r.code == TAMPER_REASON for r in reasons)


def threshold_blockers(analysis: Analysis, score: Score) -> list[str]:
    """Why a low score may still not pass by threshold (empty list = it may)."""
    blockers = []
    if analysis.unparsed or score.unparsed or analysis.depth_exceeded:
        blockers.append("the command could not be parsed")
    if any(p.obfuscated for p in analysis.parts):
        blockers.append("the command is obfuscated")
    if score.anomalies:
        blockers.append("anomalies: " + "; ".join(score.anomalies))
    if not analysis.parts:
        blockers.append("there is no command")
    return blockers


def decide(
    analysis: Analysis,
    score: Score,
    rules: Iterable[Rule] | RuleSet,
    *,
    cwd: str | None,
    now: datetime,
    auto_approve_below: int = 0,
    threshold_scope: str = "",
    strict_anomalies: Sequence[str] = (),
) -> Decision:
    """Decide what happens to one command line.

    `threshold_scope` names where `auto_approve_below` comes from when it is a project's
    (shown in the reason); `strict_anomalies` are the anomalies that keep a command a rule
    allows from passing without a human (empty: rules decide alone)."""
    matched = match_command(analysis, rules, cwd=cwd, now=now)
    level = score.level.value

    def make(action: Action, via: Via, reason: str) -> Decision:
        ids = matched.rule_ids if via is Via.RULE else ()
        return Decision(action, via, reason, matched.parts, ids, score.score, level)

    if matched.denied:
        return make(Action.DENY, Via.RULE, _deny_reason(matched))
    if changes_expacti(score):
        # Issue 3: commands that change expacti itself (approve, whitelist, config, writes to
        # its files) are never auto-approved, whatever a rule or the threshold says.
        return make(
            Action.ASK, Via.DEFAULT, f"ask ({level} {score.score}): it changes expacti itself"
        )
    if matched.allowed and strict_anomalies:
        why = "every part is allowed by a rule, but strict_anomalies asks a human: "
        return make(
            Action.ASK,
            Via.DEFAULT,
            f"ask ({level} {score.score}): {why}" + "; ".join(strict_anomalies),
        )
    if matched.allowed:
        return make(Action.ALLOW, Via.RULE, "every part is allowed by a rule")
    gaps = _gaps(matched)
    if auto_approve_below > 0 and score.score < auto_approve_below:
        blockers = threshold_blockers(analysis, score)
        if not blockers:
            why = f"{level} {score.score} is below auto_approve_below = {auto_approve_below}"
            if threshold_scope:
                why += f" ({threshold_scope})"
            return make(Action.ALLOW, Via.THRESHOLD, why)
        gaps = f"{gaps}; not auto-approved: {', '.join(blockers)}"
    return make(Action.ASK, Via.DEFAULT, f"ask ({level} {score.score}): {gaps}")


def _deny_reason(matched: RulesMatch) -> str:
    if matched.whole_line_rule == matched.denied_by and not any(p.denied_by for p in matched.parts):
        return f"the whole command is denied by rule {matched.denied_by}"
    for n, p in enumerate(matched.parts, 1):
        if p.denied_by:
            return f"part {n} is {p.explanation}"
    return f"denied by rule {matched.denied_by}"


def _gaps(matched: RulesMatch) -> str:
    if matched.unparsed:
        return "the command could not be parsed"
    if not matched.parts:
        return "there is no command to match"
    missing = [str(n) for n, p in enumerate(matched.parts, 1) if not p.allowed_by]
    noun = "part" if len(missing) == 1 else "parts"
    return f"{noun} {', '.join(missing)} not covered by any rule"
