"""The reviewer's view of the queue, as a small state machine with no terminal and no socket.

`apply(event)` folds a broker event (or a link status) into the state and returns the requests
that just arrived (so the app can ring the bell); `press(key)` / `deny(reason)` turn a
keystroke into the messages to send. Rendering and networking live elsewhere
(approve_render.py, approve_link.py), so every decision path is testable on its own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from expacti_cli.ui.approve_link import LINK
from expacti_cli.ui.approve_rules import EXACT, GLOB, PREFIX, RuleChoice, Widening, widening_for
from expacti_cli.ui.escape import escape_for_display

__all__ = ["LINK", "ApprovalState", "Message", "Mode", "Request"]

MAX_NOTES = 6

Message = dict[str, Any]


def _time(value: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _texts(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


@dataclass(frozen=True)
class Request:
    """A pending request as the broker describes it (strings raw: escape them to show them)."""

    id: str
    command: str
    command_hash: str
    cwd: str = ""
    session: str = ""
    source: str = ""
    context: str = ""
    context_set_by: str = ""  # "session": the session set it itself (`expacti context`)
    score: int = 0
    level: str = ""
    summary: str = ""
    reasons: tuple[str, ...] = ()
    anomalies: tuple[str, ...] = ()
    policy: str = ""
    requested_at: datetime | None = None
    expires_at: datetime | None = None

    @classmethod
    def from_json(cls, data: object) -> Request | None:
        """None for anything that is not a usable request (no id, command or hash)."""
        if not isinstance(data, dict):
            return None
        rid, command, digest = data.get("id"), data.get("command"), data.get("command_hash")
        if not (isinstance(rid, str) and rid and isinstance(command, str) and digest):
            return None
        score = data.get("score")
        return cls(
            id=rid,
            command=command,
            command_hash=str(digest),
            cwd=str(data.get("cwd") or ""),
            session=str(data.get("session") or ""),
            source=str(data.get("source") or ""),
            context=str(data.get("context") or ""),
            context_set_by=str(data.get("context_set_by") or ""),
            score=score if isinstance(score, int) and not isinstance(score, bool) else 0,
            level=str(data.get("level") or ""),
            summary=str(data.get("summary") or ""),
            reasons=_texts(data.get("reasons")),
            anomalies=_texts(data.get("anomalies")),
            policy=str(data.get("policy") or ""),
            requested_at=_time(data.get("requested_at")),
            expires_at=_time(data.get("expires_at")),
        )

    @property
    def short_id(self) -> str:
        return escape_for_display(self.id[:8])

    def sort_key(self) -> tuple[datetime, str]:
        return (self.requested_at or datetime.max.replace(tzinfo=UTC), self.id)


class Mode(StrEnum):
    BROWSE = "browse"
    DENY = "deny"  # typing a reason
    WHITELIST = "whitelist"  # choosing the rule to save
    HELP = "help"


@dataclass
class RuleDraft:
    """The rule being shaped in approve-and-whitelist: kind, words kept, words starred."""

    request_id: str
    widening: Widening
    kind: str = EXACT
    keep: int = 0  # prefix: leading words kept
    stars: frozenset[int] = frozenset()  # glob: indexes of words replaced by `*`
    scoped: bool = False  # only in the request's directory (and below)
    error: str = ""  # the broker's last refusal of this draft
    _problems: dict[RuleChoice, str] = field(default_factory=dict)

    @property
    def scopable(self) -> bool:
        return self.widening.cwd.startswith("/")

    def choice(self) -> RuleChoice:
        if self.kind == PREFIX:
            choice = self.widening.prefix(self.keep)
        elif self.kind == GLOB:
            choice = self.widening.glob(self.stars)
        else:
            choice = self.widening.exact()
        return replace(choice, scope=self.widening.cwd) if self.scoped else choice

    def problem(self) -> str:
        """Why the current choice cannot be saved ("" when it can); cached per choice."""
        from expacti_cli.ui.approve_rules import problem

        choice = self.choice()
        if choice not in self._problems:
            self._problems[choice] = problem(choice, self.widening)
        return self._problems[choice]


_RESOLVED_TEXT = {
    "approved": "approved",
    "denied": "denied",
    "timed_out": "timed out",
    "withdrawn": "withdrawn (the requesting process went away)",
    "auto_approved_rule": "approved by a rule",
    "auto_approved_threshold": "approved below the threshold",
}


@dataclass
class ApprovalState:
    """Pending requests (oldest first), the selected one, the mode, recent notes."""

    reviewer: str
    requests: dict[str, Request] = field(default_factory=dict)
    current_id: str | None = None
    mode: Mode = Mode.BROWSE
    draft: RuleDraft | None = None
    deny_id: str | None = None
    connected: bool = True
    quit: bool = False
    notes: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_NOTES))
    # id -> "approve" / "deny": sent, no answer yet (keys on it are ignored meanwhile)
    in_flight: dict[str, str] = field(default_factory=dict)
    # ids of our decide messages in the order sent: the broker answers them in order
    awaiting: deque[str] = field(default_factory=deque)

    # --- the queue ---------------------------------------------------------------------------

    def ordered(self) -> list[Request]:
        return sorted(self.requests.values(), key=Request.sort_key)

    @property
    def current(self) -> Request | None:
        if self.current_id in self.requests:
            return self.requests[self.current_id]
        ordered = self.ordered()
        return ordered[0] if ordered else None

    def note(self, text: str) -> None:
        """A one-line note for the reviewer (`text` already escaped where it quotes input)."""
        self.notes.append(text)

    def _remove(self, request_id: str) -> Request | None:
        ordered = self.ordered()
        gone = self.requests.pop(request_id, None)
        if gone is None:
            return None
        self.in_flight.pop(request_id, None)
        if self.current_id == request_id:
            # The next one down takes its place: the reviewer's eyes stay where they were.
            later = [r for r in ordered if r.sort_key() > gone.sort_key()]
            self.current_id = later[0].id if later else None
        if self.deny_id == request_id or (self.draft and self.draft.request_id == request_id):
            self.mode, self.deny_id, self.draft = Mode.BROWSE, None, None
        return gone

    def apply(self, event: Message) -> list[Request]:
        """Fold one event in; return the requests that are new to this reviewer."""
        op = event.get("op")
        if op == "requests":
            return self._replace(event.get("requests"))
        if op == "pending":
            request = Request.from_json(event.get("request"))
            if request is None or request.id in self.requests:
                return []
            self.requests[request.id] = request
            return [request]
        if op == "resolved":
            self._resolved(event)
        elif op == "decided":
            self._answered(event)
        elif op == "error":
            self._refused(event)
        elif op == LINK:
            self._link(bool(event.get("up")), str(event.get("detail") or ""))
        return []

    def _replace(self, items: object) -> list[Request]:
        """A full list (after subscribe): what we had and it lacks was resolved meanwhile."""
        fresh = [r for r in map(Request.from_json, items if isinstance(items, list) else []) if r]
        new = [r for r in fresh if r.id not in self.requests]
        wanted = {r.id for r in fresh}
        for old in [i for i in self.requests if i not in wanted]:
            self._remove(old)
            self.note(f"{escape_for_display(old[:8])} left the queue while disconnected")
        for request in fresh:
            self.requests[request.id] = request
        return new

    def _resolved(self, event: Message) -> None:
        rid = str(event.get("id") or "")
        mine = rid in self.in_flight
        gone = self._remove(rid)
        if gone is None:
            return
        decision = str(event.get("decision") or "resolved")
        text = _RESOLVED_TEXT.get(decision, escape_for_display(decision))
        reviewer = event.get("reviewer")
        if reviewer and decision in ("approved", "denied"):
            text += " by you" if mine else f" by {escape_for_display(str(reviewer))}"
        if event.get("reason") and not mine:
            text += f" ({escape_for_display(str(event['reason']))})"
        self.note(f"{gone.short_id} {text}: {_one_line(gone.command)}")

    def _answered(self, event: Message) -> None:
        if self.awaiting:
            self.awaiting.popleft()
        if event.get("decision") == "approved" and event.get("rule_id"):
            rule = escape_for_display(str(event["rule_id"]))
            self.note(f"{escape_for_display(str(event.get('id'))[:8])}: whitelisted as rule {rule}")
        elif event.get("error"):
            self.note(f"not approved: {escape_for_display(str(event['error']))}")

    def _refused(self, event: Message) -> None:
        rid = self.awaiting.popleft() if self.awaiting else ""
        self.in_flight.pop(rid, None)
        why = escape_for_display(str(event.get("error") or "refused"))
        if rid and self.draft is None and event.get("code") in ("too_broad", "store", "audit"):
            why += " (press A to choose another rule)"
        self.note(f"{escape_for_display(rid[:8]) or 'broker'}: refused: {why}")

    def _link(self, up: bool, detail: str) -> None:
        if up == self.connected:
            return
        self.connected = up
        if up:
            self.note("reconnected to the broker")
            return
        # Whatever was in flight got no answer: the broker denies what it could not finish.
        self.in_flight.clear()
        self.awaiting.clear()
        self.note(
            f"lost the broker{': ' + escape_for_display(detail) if detail else ''}; reconnecting…"
        )

    def send_failed(self, message: Message) -> None:
        """`message` could not be written to the broker."""
        rid = str(message.get("id") or "")
        self.in_flight.pop(rid, None)
        if self.awaiting and self.awaiting[-1] == rid:
            self.awaiting.pop()
        self.note(f"{escape_for_display(rid[:8])}: not sent, no connection to the broker")

    # --- keys --------------------------------------------------------------------------------

    def press(self, key: str) -> list[Message]:
        """One key in browse, help or whitelist mode; returns the messages to send."""
        if self.mode is Mode.WHITELIST:
            return self._press_whitelist(key)
        if self.mode is Mode.HELP:
            self.mode = Mode.BROWSE
            if key in ("?", "escape", "enter"):
                return []
        if self.mode is Mode.DENY:
            if key == "escape":
                self.cancel()
            return []  # text keys go to the reason field
        return self._press_browse(key)

    def _press_browse(self, key: str) -> list[Message]:
        if key in ("q", "c-c"):
            self.quit = True
            return []
        if key == "?":
            self.mode = Mode.HELP
            return []
        if key in ("s", "down", "j"):
            self._move(1)
            return []
        if key in ("up", "k"):
            self._move(-1)
            return []
        request = self.current
        if request is None or key not in ("a", "A", "d"):
            return []
        if request.id in self.in_flight:
            self.note(f"{request.short_id}: already sent ({self.in_flight[request.id]}), waiting")
            return []
        if key == "a":
            return [self._decide(request, "approve")]
        self.current_id = request.id  # the box stays selected while the mode is open
        if key == "d":
            self.mode, self.deny_id = Mode.DENY, request.id
            return []
        widening = widening_for(request.command, request.cwd)
        self.draft = RuleDraft(request.id, widening, keep=len(widening.words))
        self.mode = Mode.WHITELIST
        return []

    def _move(self, step: int) -> None:
        ordered = self.ordered()
        if not ordered:
            return
        current = self.current
        index = ordered.index(current) if current in ordered else 0
        self.current_id = ordered[(index + step) % len(ordered)].id

    def _press_whitelist(self, key: str) -> list[Message]:
        draft = self.draft
        request = self.requests.get(draft.request_id) if draft else None
        if draft is None or request is None or key in ("escape", "q", "c-c"):
            self.cancel()
            return []
        words = len(draft.widening.words)
        if key == "e":
            draft.kind = EXACT
        elif key == "p" and draft.widening.widenable:
            draft.kind = PREFIX
        elif key == "g" and draft.widening.globbable:
            draft.kind = GLOB
        elif key in ("left", "-", "h") and draft.kind == PREFIX:
            draft.keep = max(1, draft.keep - 1)
        elif key in ("right", "+", "l") and draft.kind == PREFIX:
            draft.keep = min(words, draft.keep + 1)
        elif key.isdigit() and draft.kind == GLOB and 0 < int(key) < words:
            draft.stars = draft.stars ^ {int(key)}
        elif key == "c" and draft.scopable:
            draft.scoped = not draft.scoped
        elif key == "enter":
            problem = draft.problem()
            if problem:
                draft.error = problem
                return []
            if request.id in self.in_flight:
                return []
            choice = draft.choice()
            self.mode, self.draft = Mode.BROWSE, None
            return [self._decide(request, "approve", whitelist=choice.to_spec())]
        draft.error = ""
        return []

    def deny(self, reason: str) -> list[Message]:
        """The reason typed in deny mode was submitted."""
        request = self.requests.get(self.deny_id or "")
        self.mode, self.deny_id = Mode.BROWSE, None
        if request is None:
            self.note("that request is no longer pending: nothing denied")
            return []
        if request.id in self.in_flight:
            return []
        return [self._decide(request, "deny", reason=reason.strip())]

    def cancel(self) -> None:
        self.mode, self.deny_id, self.draft = Mode.BROWSE, None, None

    def _decide(self, request: Request, verdict: str, **fields: Any) -> Message:
        self.in_flight[request.id] = verdict
        self.awaiting.append(request.id)
        return {
            "op": "decide",
            "id": request.id,
            "decision": verdict,
            "reviewer": self.reviewer,
            "command_hash": request.command_hash,
            "reason": fields.pop("reason", ""),
            "note": fields.pop("note", ""),
            **fields,
        }


def _one_line(command: str, limit: int = 60) -> str:
    """A short escaped form for notes, saying how long the command really is when cut."""
    shown = escape_for_display(command)
    if len(shown) <= limit:
        return shown
    return f"{shown[: limit - 1]}… ({len(command):,} characters)"


def age(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "?"
    seconds = max(0.0, (now - when).total_seconds())
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"
