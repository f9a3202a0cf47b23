"""Drawing the approval state as prompt-toolkit formatted text (pure: state + width + now in).

Every string that came from the broker goes through `escape_for_display` before it is drawn;
the command keeps its line breaks (`multiline=True`) so a here-document reads as one, and it
is wrapped, never cut.
"""

from __future__ import annotations

from datetime import datetime

from prompt_toolkit.styles import Style
from prompt_toolkit.utils import get_cwidth

from expacti_cli.ui.approve_rules import EXACT, GLOB, PREFIX
from expacti_cli.ui.approve_state import ApprovalState, Mode, Request, age
from expacti_cli.ui.escape import escape_for_display

Fragments = list[tuple[str, str]]

# The classes the fragments below use (the reviewer app and the inline overlay share them).
STYLE = Style.from_dict(
    {
        "box": "fg:ansibrightblack",
        "box.selected": "fg:ansicyan bold",
        "command": "bold",
        "dim": "fg:ansibrightblack",
        "note": "fg:ansibrightblack italic",
        "warn": "fg:ansiyellow",
        "title": "bold",
        "rule": "fg:ansigreen bold",
        "prompt": "fg:ansired bold",
    }
)

KEYS_HINT = "[a]pprove  [A]pprove + whitelist…  [d]eny with reason  [s]kip  [?]help"
LEVEL_STYLE = {
    "LOW": "fg:ansigreen",
    "MEDIUM": "fg:ansiyellow",
    "HIGH": "fg:ansired bold",
    "CRITICAL": "fg:ansiwhite bg:ansired bold",
}
HELP = (
    "a        approve the selected request (it runs once, exactly as shown)",
    "A        approve and save an allow rule: shows the rule; widen it to a prefix or glob",
    "d        deny, with a reason the agent sees on stderr",
    "s / ↓ j  skip to the next request      ↑ k  previous request",
    "q        quit (pending requests keep waiting for another reviewer or time out)",
)
MIN_WIDTH = 40


def _width(text: str) -> int:
    return sum(max(0, get_cwidth(ch)) for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Hard-wrap each line of `text` to `width` columns (wide characters count double)."""
    out: list[str] = []
    for line in text.split("\n"):
        current, used = "", 0
        for ch in line:
            w = max(0, get_cwidth(ch))
            if used + w > width and current:
                out.append(current)
                current, used = "", 0
            current += ch
            used += w
        out.append(current)
    return out


def _border(left: str, title: str, right: str, width: int, style: str) -> Fragments:
    """`┌ title ────┐` filling `width` columns (a title too long for it is wrapped by caller)."""
    fill = max(0, width - _width(left) - _width(title) - _width(right) - 1)
    return [(style, f"{left}{title} " if title else left), (style, "─" * fill + right), ("", "\n")]


def _row(text: str, width: int, border: str, style: str = "") -> Fragments:
    pad = max(0, width - 4 - _width(text))
    return [(border, "│ "), (style, text), ("", " " * pad), (border, " │"), ("", "\n")]


def _header_parts(request: Request, position: int, now: datetime) -> list[str]:
    session = escape_for_display(request.session or "-")
    source = escape_for_display(request.source or "?")
    return [
        f"pending {position}",
        f"session {session} ({source})",
        escape_for_display(request.cwd or "?"),
        age(request.requested_at, now) + _left(request, now),
    ]


def _left(request: Request, now: datetime) -> str:
    """`, 57 s left`: how long before the request times out."""
    if request.expires_at is None:
        return ""
    seconds = (request.expires_at - now).total_seconds()
    return f", {max(0, seconds):.0f} s left" if seconds < 600 else ""


def context_text(request: Request) -> str:
    """`context: ...`, saying when the session set it itself (the agent's claim, not the
    human's word), escaped."""
    label = "context (set by the session)" if request.context_set_by == "session" else "context"
    return f"{label}: {escape_for_display(request.context)}"


def request_box(
    request: Request,
    position: int,
    width: int,
    now: datetime,
    *,
    selected: bool,
    status: str = "",
    hint: tuple[str, str] = (KEYS_HINT, "a A d s ?"),
) -> Fragments:
    """One request as a box; the selected one carries the key hints in its bottom border
    (`hint`: the long form, and a short one for narrow terminals)."""
    width = max(MIN_WIDTH, width)
    inner = width - 4
    border = "class:box.selected" if selected else "class:box"
    parts = _header_parts(request, position, now)
    title = " ─ ".join(parts)
    body: list[tuple[str, str]] = []
    if _width(title) + 3 > width - 1:  # the cwd moves into the box rather than being cut
        title = " ─ ".join(parts[:2] + parts[3:])
        body.append((f"cwd: {parts[2]}", "class:dim"))
    out = _border("┌ ", title, "┐", width, border)
    command = escape_for_display(request.command, multiline=True)
    rows = [(line, "class:command") for line in wrap(command, inner)]
    level = request.level or "?"
    summary = f"{level} {request.score}  {escape_for_display(request.summary)}".rstrip()
    if request.context:
        summary += f" · {context_text(request)}"
    rows += [(line, LEVEL_STYLE.get(level, "")) for line in wrap(summary, inner)]
    rows += body
    for reason in request.reasons:
        if request.anomalies and reason.startswith("anomaly: "):
            continue  # the same finding is shown below as an anomaly line
        rows += [(line, "class:dim") for line in wrap(f"· {escape_for_display(reason)}", inner)]
    for anomaly in request.anomalies:
        text = f"anomaly: {escape_for_display(anomaly)}"
        rows += [(line, "class:warn") for line in wrap(text, inner)]
    if request.policy:
        rows += [(line, "class:dim") for line in wrap(escape_for_display(request.policy), inner)]
    if status:
        rows.append((status, "class:warn"))
    for text, style in rows:
        out += _row(text, width, border, style)
    keys = (hint[0] if _width(hint[0]) + 4 <= width else hint[1]) if selected else ""
    return out + _border("└ " if keys else "└", keys, "┘", width, border)


def _panel_lines(text: str, style: str, width: int) -> Fragments:
    """`text` (already escaped) wrapped under a two-space indent."""
    return [(style, f"  {line}\n") for line in wrap(text, max(10, width - 2))]


def whitelist_panel(state: ApprovalState, width: int) -> Fragments:
    """The rule an approve-and-whitelist will save, and the keys that shape it."""
    draft = state.draft
    if draft is None:
        return []
    choice, widening = draft.choice(), draft.widening
    out: Fragments = [("class:title", "approve + whitelist: the rule that will be saved\n")]
    out += _panel_lines(choice.describe(), "class:rule", width)
    hints: list[str] = []
    if not widening.widenable:
        hints.append(f"only the exact command: {escape_for_display(widening.exact_only)}")
    else:
        kinds = "[e]xact  [p]refix" + ("  [g]lob" if widening.globbable else "")
        hints.append(f"{kinds}   now: {choice.kind}")
        if draft.kind == PREFIX:
            hints.append(
                f"←/→ keep fewer/more words ({draft.keep} of {len(widening.words)}); "
                "any further arguments are allowed"
            )
        elif draft.kind == GLOB:
            numbered = "  ".join(
                f"{i}:{escape_for_display(w)}" for i, w in enumerate(widening.words) if i > 0
            )
            hints.append(f"1-9 put * (exactly one argument) for word N: {numbered}")
        elif draft.kind == EXACT:
            hints.append("matches this exact command line only")
    if draft.scopable:
        where = "only in " + escape_for_display(widening.cwd) if draft.scoped else "any"
        hints.append(f"[c] directory: {where}")
    for hint in hints:
        out += _panel_lines(hint, "class:dim", width)
    problem = draft.error or (draft.problem() if draft.kind != EXACT else "")
    if problem:
        out += _panel_lines(f"cannot save: {escape_for_display(problem)}", "class:warn", width)
    out += _panel_lines("Enter approve and save   Esc back", "class:dim", width)
    return out


def render(state: ApprovalState, width: int, now: datetime) -> Fragments:
    """The whole app above the input line: notes, boxes, and the panel of the current mode."""
    out: Fragments = []
    for note in state.notes:
        out += [("class:note", f"{line}\n") for line in wrap(f"· {note}", max(10, width))]
    if not state.connected:
        out += [("class:warn", "not connected to the broker: retrying…\n")]
    ordered = state.ordered()
    current = state.current
    if not ordered:
        out += [("class:dim", "no pending requests: waiting for one (q quits, ? help)\n")]
    for position, request in enumerate(ordered, start=1):
        status = ""
        if request.id in state.in_flight:
            status = f"{state.in_flight[request.id]} sent, waiting for the broker…"
        if request is current:
            out.append(("[SetCursorPosition]", ""))  # the window scrolls to keep it in view
        out += request_box(
            request, position, width, now, selected=request is current, status=status
        )
    if state.mode is Mode.WHITELIST:
        out += whitelist_panel(state, width)
    elif state.mode is Mode.HELP:
        out += [("class:title", "keys\n")] + [("", f"  {line}\n") for line in HELP]
    elif state.mode is Mode.DENY and state.deny_id in state.requests:
        current = state.requests[state.deny_id or ""]
        out += [
            (
                "class:title",
                f"deny {current.short_id}: reason (the agent sees it; Enter sends, Esc cancels)\n",
            )
        ]
    return out


def notification(requests: list[Request]) -> str:
    """The text of the desktop notification for new requests (escaped, one line, short)."""
    first = requests[0]
    command = escape_for_display(first.command)
    if len(command) > 60:
        command = f"{command[:59]}… ({len(first.command):,} characters)"
    more = f" (+{len(requests) - 1} more)" if len(requests) > 1 else ""
    return f"expacti: approval needed, {first.level} {first.score}: {command}{more}"


def alert_sequence(text: str, *, tmux: bool = False) -> str:
    """A bell plus an OSC 9 desktop notification carrying `text` (already escaped: it holds no
    control character that could end the sequence early). Inside tmux the OSC is wrapped in a
    passthrough sequence (shown when tmux has `allow-passthrough on`, dropped otherwise)."""
    osc = f"\x1b]9;{text}\a"
    if tmux:
        osc = "\x1bPtmux;" + osc.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return "\a" + osc
