"""The anomaly engine: is this command unusual for this user, this session, this history?

Pure: a `Profile` (learn/profile.py) plus the analysed and scored command in, `Findings` out.
No training step: every check works from the first record and says when there is too little
history to judge ("little history") instead of flagging.

Checks (each an `Anomaly` with a reason the reviewer sees and a risk modifier):

- off_hours: the current hour of the week is rare in the user's own history (not a fixed
  clock): fewer than 1% of past commands within an hour of this time of day, or, with two
  weeks of history, fewer than 0.25% within an hour of it on this weekday;
- burst: far more commands in the last minute than this session's own rate (a young session is
  measured against the user's busy minutes);
- new_program: a program that never ran before;
- new_production_target: a production target (as risk names it) no command ran against before;
- unlike_history: a command far from every command of the same program that ran before:
  rapidfuzz's Indel similarity over normalised tokens (whole words, ids and numbers folded),
  so `git push --force origin main` is far from `git status` and `git log --oneline -20`,
  while `kubectl get pods -n web` is close to `kubectl get pods -n api`.

An anomaly adds points (`apply_findings`) and keeps the command from passing by threshold
(policy.threshold_blockers); `strict_triggers` says which anomalies send a command that a rule
allows to a human under `strict_anomalies`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from expacti_cli.analysis.model import Analysis
from expacti_cli.learn.profile import Profile, part_shapes, production_targets
from expacti_cli.risk.model import Level, Reason, Score

MIN_HISTORY = 20  # commands that ran before first-ever / distance checks judge anything
MIN_TIME_HISTORY = 50  # commands (over MIN_DAYS days) before the time of day is judged
MIN_DAYS = 5
WEEK_DAYS = 14  # history span before the hour of the week (not just of the day) is judged
RARE_HOUR_SHARE = 0.01
RARE_WEEK_HOUR_SHARE = 0.0025
BURST_WINDOW = 60.0  # seconds
BURST_MIN = 10  # never a burst below this many commands in the window
BURST_FACTOR = 4.0
SESSION_BASELINE_SECONDS = 600.0  # a session this old (with 5+ commands) is its own baseline
FAR_SIMILARITY = 0.5  # token similarity below this against every past command: "unlike"
MAX_ANOMALY_POINTS = 25

POINTS = {
    "off_hours": 10,
    "burst": 15,
    "new_program": 10,
    "new_production_target": 20,
    "unlike_history": 10,
    "history_unreadable": 0,
}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Anomaly:
    code: str  # a POINTS key
    text: str  # for the reviewer: what is unusual, with the numbers behind it
    points: int


@dataclass(frozen=True)
class Findings:
    """What the engine found about one command."""

    anomalies: tuple[Anomaly, ...] = ()
    notes: tuple[str, ...] = ()  # "little history ..." and the like: said, never counted
    off_hours: bool = False  # the clock is outside the user's usual hours (enough history)
    history: int = 0  # commands the profile was built from

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(a.text for a in self.anomalies)


def unreadable(why: str) -> Findings:
    """Findings when the history cannot be read: flagged, so nothing passes by threshold."""
    text = f"the history cannot be read, so nothing can be compared with it ({why})"
    return Findings(anomalies=(Anomaly("history_unreadable", text, 0),))


def find_anomalies(
    analysis: Analysis, score: Score, profile: Profile, *, now: datetime, session: str = ""
) -> Findings:
    """Compare one command with the user's history (`profile` must not contain it yet)."""
    found: list[Anomaly] = []
    off_hours = False
    timed = profile.decisions >= MIN_TIME_HISTORY and len(profile.days) >= MIN_DAYS
    if timed:
        off_hours = _time_of_day(profile, now, found)
    _burst(profile, now.timestamp(), session, found)
    enough = profile.commands_run >= MIN_HISTORY
    if enough:
        _history(analysis, score, profile, found)
    notes = () if timed and enough else (_little_history(profile, timed, enough),)
    return Findings(tuple(found), notes, off_hours, profile.decisions)


def _little_history(profile: Profile, timed: bool, enough: bool) -> str:
    """One line saying which checks wait for more history, and how much."""
    waiting = [] if enough else [f"new programs and targets, similarity from {MIN_HISTORY}"]
    if not timed:
        waiting.append(f"time of day from {MIN_TIME_HISTORY} over {MIN_DAYS} days")
    days = len(profile.days)
    return (
        f"little history ({profile.decisions} command{'s' * (profile.decisions != 1)} on "
        f"{days} day{'s' * (days != 1)}): {'; '.join(waiting)}"
    )


def _time_of_day(profile: Profile, now: datetime, found: list[Anomaly]) -> bool:
    n = profile.decisions
    weekday, hour, _ = profile.hour_slot(now.timestamp())
    hours = [(hour + d) % 24 for d in (-1, 0, 1)]
    near = sum(profile.hours[day * 24 + h] for day in range(7) for h in hours)
    clock = profile.clock(now.timestamp())
    if near < RARE_HOUR_SHARE * n:
        text = (
            f"off-hours: {clock} is outside your usual hours ({near} of {n} past commands "
            f"came within an hour of this time of day)"
        )
        found.append(Anomaly("off_hours", text, POINTS["off_hours"]))
        return True
    if (profile.last - profile.first) >= WEEK_DAYS * 86400:
        slots = [(weekday * 24 + hour + d) % 168 for d in (-1, 0, 1)]
        near_week = sum(profile.hours[s] for s in slots)
        if near_week < RARE_WEEK_HOUR_SHARE * n:
            text = (
                f"off-hours: {DAYS[weekday]} {clock} is outside your usual hours ({near_week} "
                f"of {n} past commands came within an hour of it on a {DAYS[weekday]})"
            )
            found.append(Anomaly("off_hours", text, POINTS["off_hours"]))
            return True
    return False


def _burst(profile: Profile, now: float, session: str, found: list[Anomaly]) -> None:
    activity = profile.sessions.get(session) if session else profile.overall
    whose = "this session" if session else "all sessions"
    if activity is None or activity.count == 0:
        return  # the session's first command
    start = now - BURST_WINDOW
    recent = activity.between(start, now) + 1  # this command included
    if recent < BURST_MIN:
        return
    earlier = activity.before(start)
    span = start - activity.first
    if earlier >= 5 and span >= SESSION_BASELINE_SECONDS:
        usual = earlier / (span / 60.0)
        basis = f"its usual rate is {usual:.1f} a minute"
    elif profile.decisions >= MIN_HISTORY:
        usual = float(profile.busy_minute())
        basis = f"a busy minute of yours has {usual:.0f}"
    else:
        return  # a young session and little history: the note says so
    if recent >= max(BURST_MIN, BURST_FACTOR * usual):
        text = f"burst: {recent} commands in the last minute in {whose} ({basis})"
        found.append(Anomaly("burst", text, POINTS["burst"]))


def _history(analysis: Analysis, score: Score, profile: Profile, found: list[Anomaly]) -> None:
    history = f"{profile.commands_run} past commands"
    new_programs: list[str] = []
    for part in part_shapes(analysis):
        if part.program not in profile.programs:
            if part.program not in new_programs:
                new_programs.append(part.program)
            continue
        if not part.top:
            continue
        known = profile.shapes.get(part.program)
        if not known or part.shape in known:
            continue
        closest, similarity = _closest(part.shape, known)
        if similarity < FAR_SIMILARITY:
            text = (
                f"unlike anything run before: the closest of {len(known)} past "
                f"`{_short(part.program)}` commands is `{_short(' '.join(closest), 120)}` "
                f"({similarity:.0%} alike)"
            )
            found.append(Anomaly("unlike_history", text, POINTS["unlike_history"]))
            break
    for program in new_programs[:3]:
        text = f"first-ever program: {_short(program)} (never ran in {history})"
        found.append(Anomaly("new_program", text, POINTS["new_program"]))
    reasons = [r.text for r in score.reasons] + [r.text for p in score.parts for r in p.reasons]
    for target in sorted(production_targets(reasons) - profile.targets)[:3]:
        text = (
            f'first-ever production target: "{_short(target)}" (no command ran against it before)'
        )
        found.append(Anomaly("new_production_target", text, POINTS["new_production_target"]))


def _short(text: str, limit: int = 64) -> str:
    """Names from a command, cut for a reason line (the command itself is shown whole)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _closest(
    shape: tuple[str, ...], known: dict[tuple[str, ...], None]
) -> tuple[tuple[str, ...], float]:
    from rapidfuzz import process
    from rapidfuzz.distance import Indel

    best = process.extractOne(
        shape, list(known), scorer=Indel.normalized_similarity, processor=None
    )
    if best is None:
        return (), 0.0
    return tuple(best[0]), float(best[1])


def apply_findings(score: Score, findings: Findings) -> Score:
    """The score with the anomalies' points (capped) and reasons added, and `anomalies` set."""
    if not findings.anomalies and not findings.notes:
        return score
    extra: list[Reason] = []
    budget = MAX_ANOMALY_POINTS
    for anomaly in findings.anomalies:
        points = min(anomaly.points, budget)
        budget -= points
        extra.append(Reason(f"anomaly:{anomaly.code}", f"anomaly: {anomaly.text}", points))
    if findings.notes:  # one line: said once, never counted
        extra.append(Reason("anomaly:note", "anomaly checks: " + "; ".join(findings.notes), 0))
    added = sum(r.points for r in extra)
    total = min(100, score.score + added)
    return replace(
        score,
        score=total,
        level=Level.of(total),
        reasons=(*score.reasons, *extra),
        anomalies=findings.texts,
    )


def strict_triggers(findings: Findings, strict: bool | str) -> tuple[str, ...]:
    """The anomalies that send a command a rule allows to a human under `strict_anomalies`.

    true: any anomaly. "auto": strict only outside the user's usual hours, where the off-hours
    finding itself does not count (else every command at night would ask). false: none."""
    if strict is True:
        return findings.texts
    if strict == "auto" and findings.off_hours:
        return tuple(a.text for a in findings.anomalies if a.code != "off_hours")
    return ()
