"""Drawing the approval overlay and the waiting status of `expacti run` as raw terminal bytes.

Pure: state in, bytes out. The overlay reuses the reviewer app's request box and whitelist
panel (approve_render), turned from prompt-toolkit fragments into SGR sequences, so both
views show a request the same way. Everything that came from the broker is escaped by those
renderers (escape_for_display) before it gets here; this module adds no text of its own origin
except expacti's labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prompt_toolkit.output.vt100 import BG_ANSI_COLORS, FG_ANSI_COLORS

from expacti_cli.ui.approve_render import (
    STYLE,
    Fragments,
    _width,
    request_box,
    whitelist_panel,
    wrap,
)
from expacti_cli.ui.approve_state import ApprovalState, Mode, Request, age
from expacti_cli.ui.escape import escape_for_display

HINT = "[a]pprove  [d]eny with reason  [w] approve + whitelist…  [Esc/?] details"
SHORT_HINT = "a d w ?"
TITLE = "expacti · a command of this session waits for your decision"
FOOTER = "keys typed here go to expacti, never to the program"
NOT_ARMED = "(keys typed in the first moment are ignored: you may have been typing)"
DETAIL_KEYS = (
    "a        approve: it runs once, exactly as shown",
    "d        deny: type a reason (the agent sees it); Enter sends, Esc goes back",
    "w        approve and save an allow rule: exact, or widened to a prefix or glob",
    "↑ ↓      the other commands of this session that wait (when there are several)",
    "PgUp/Dn  scroll a command taller than the screen",
    "Ctrl-C   deny (cancelled here)",
)
MAX_NOTES_SHOWN = 3


def sgr(style: str) -> str:
    """The SGR sequence for a prompt-toolkit style string (classes of STYLE, or inline)."""
    attrs = STYLE.get_attrs_for_style_str(style)
    codes = ["0"]
    if attrs.bold:
        codes.append("1")
    if attrs.dim:
        codes.append("2")
    if attrs.italic:
        codes.append("3")
    if attrs.underline:
        codes.append("4")
    if attrs.reverse:
        codes.append("7")
    if attrs.color in FG_ANSI_COLORS:
        codes.append(str(FG_ANSI_COLORS[attrs.color]))
    if attrs.bgcolor in BG_ANSI_COLORS:
        codes.append(str(BG_ANSI_COLORS[attrs.bgcolor]))
    return "\x1b[" + ";".join(codes) + "m"


@dataclass(frozen=True)
class Line:
    """One screen line: its text with SGR sequences, and its width in columns."""

    text: str
    width: int


def to_lines(fragments: Fragments) -> list[Line]:
    """Fragments (whose text may hold newlines) as lines of SGR-styled text."""
    lines: list[Line] = []
    parts: list[str] = []
    width = 0
    for style, text in fragments:
        if style.startswith("["):  # prompt-toolkit's markers ([SetCursorPosition]) draw nothing
            continue
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            if k:
                lines.append(Line("".join(parts) + "\x1b[0m", width))
                parts, width = [], 0
            if piece:
                parts.append(sgr(style) + piece)
                width += _width(piece)
    if parts:
        lines.append(Line("".join(parts) + "\x1b[0m", width))
    return lines


@dataclass(frozen=True)
class OverlayView:
    """What the overlay shows besides the broker's state."""

    details: bool = False
    reason: str = ""  # typed so far in deny mode
    scroll: int = 0  # first line shown when the overlay is taller than the screen
    armed: bool = True  # False just after it opened: keys are not taken yet


@dataclass(frozen=True)
class Frame:
    """A drawn overlay: the bytes, where the cursor goes (None: hidden), the scroll used."""

    data: bytes
    cursor: tuple[int, int] | None
    scroll: int


def _details(request: Request, now: datetime, width: int) -> Fragments:
    facts = [
        f"request   {escape_for_display(request.id)}",
        f"session   {escape_for_display(request.session or '-')} "
        f"(from {escape_for_display(request.source or '?')})",
        f"cwd       {escape_for_display(request.cwd or '?')}",
        f"asked     {age(request.requested_at, now)}",
        f"command   {len(request.command):,} characters",
    ]
    if request.policy:
        facts.append(f"policy    {escape_for_display(request.policy)}")
    if request.context:
        facts.append(f"context   {escape_for_display(request.context)}")
        if request.context_set_by == "session":
            facts.append(
                "          set by the session itself (`expacti context`): the agent's claim"
            )
    out: Fragments = [("class:title", "details\n")]
    for text in (*facts, "", *DETAIL_KEYS):
        out += [("class:dim", f"  {line}\n") for line in wrap(text, max(10, width - 2))]
    return out


def overlay_fragments(
    state: ApprovalState, view: OverlayView, width: int, now: datetime
) -> Fragments:
    """Everything the overlay shows, top to bottom; the reason field is marked with
    ("[Reason]", "") right where the typed text starts."""
    ordered = state.ordered()
    current = state.current
    out: Fragments = [("class:title", TITLE)]
    if len(ordered) > 1 and current in ordered:
        out.append(("class:dim", f"  ({ordered.index(current) + 1} of {len(ordered)})"))
    out.append(("", "\n"))
    if current is None:
        out += [("class:dim", "nothing waits any more\n")]
        return out
    if state.mode is Mode.DENY:
        out += [
            (
                "class:title",
                f"deny {current.short_id}: why? (the agent sees it; Enter sends, Esc back)\n",
            ),
            ("class:prompt", "reason> "),
            ("[Reason]", ""),
            ("", escape_for_display(view.reason) + "\n"),
        ]
    elif state.mode is Mode.WHITELIST:
        out += whitelist_panel(state, width)
    status = ""
    if current.id in state.in_flight:
        status = f"{state.in_flight[current.id]} sent, waiting for the broker…"
    position = ordered.index(current) + 1 if current in ordered else 1
    out += request_box(
        current, position, width, now, selected=True, status=status, hint=(HINT, SHORT_HINT)
    )
    if view.details:
        out += _details(current, now, width)
    for note in list(state.notes)[-MAX_NOTES_SHOWN:]:
        out += [("class:note", f"{line}\n") for line in wrap(f"· {note}", max(10, width))]
    out += [("class:dim", (FOOTER if view.armed else NOT_ARMED) + "\n")]
    return out


def draw_overlay(
    state: ApprovalState, view: OverlayView, rows: int, cols: int, now: datetime
) -> Frame:
    """The overlay over the whole screen (it was cleared or switched away by the caller)."""
    fragments = overlay_fragments(state, view, cols, now)
    reason_at: int | None = None
    for index, (style, _) in enumerate(fragments):
        if style == "[Reason]":
            before = fragments[:index]
            reason_at = sum(text.count("\n") for _, text in before)
    lines = to_lines([f for f in fragments if f[0] != "[Reason]"])
    rows = max(1, rows)
    room = rows if len(lines) <= rows else rows - 1  # the last row then says how to scroll
    scroll = max(0, min(view.scroll, len(lines) - room))
    if reason_at is not None and not scroll <= reason_at < scroll + room:
        scroll = max(0, min(reason_at, len(lines) - room))
    shown = lines[scroll : scroll + room]
    out = ["\x1b[0m\x1b[H"]
    for k, line in enumerate(shown):
        out.append(line.text + "\x1b[K")
        if k < len(shown) - 1:
            out.append("\r\n")
    if room < rows:
        last = min(len(lines), scroll + room)
        more = f"── lines {scroll + 1}–{last} of {len(lines)}: PgUp/PgDn scroll ──"
        out.append(
            f"\x1b[{rows};1H" + sgr("class:dim") + more[: max(0, cols - 1)] + "\x1b[0m\x1b[K"
        )
    else:
        out.append("\x1b[J")
    cursor = None
    if reason_at is not None:
        prompt = _width("reason> ") + _width(escape_for_display(view.reason))
        cursor = (reason_at - scroll + 1, min(cols, prompt + 1))
        out.append(f"\x1b[{cursor[0]};{cursor[1]}H\x1b[?25h")
    else:
        out.append("\x1b[?25l")
    return Frame("".join(out).encode("utf-8", "replace"), cursor, scroll)


def _cut(text: str, room: int, full_length: int) -> str:
    """`text` in `room` columns; when cut, it says how long the whole command is."""
    if _width(text) <= room:
        return text
    note = f"… ({full_length:,} chars)"
    keep = room - _width(note)
    if keep < 4:
        return ""
    cut = ""
    for ch in text:
        if _width(cut + ch) > keep:
            break
        cut += ch
    return cut + note


def status_text(requests: list[Request], reviewers: int, width: int) -> str:
    """The one-line status while commands of the session wait (escaped, under `width`):
    what waits first, then who can decide and that keys are held, as far as room allows."""
    if not requests:
        return ""
    first = requests[0]
    risk = f"{escape_for_display(first.level or '?')} {first.score}"
    if len(requests) == 1:
        head = f"expacti: waiting for approval ({risk}): "
    else:
        head = f"expacti: {len(requests)} commands wait ({risk} first): "
    who = (
        f"{reviewers} reviewer{'s' if reviewers != 1 else ''} connected"
        if reviewers
        else "run `expacti approve` to decide"
    )
    tails = [f" · {who}", " · keys held, Ctrl-C cancels"]
    command = escape_for_display(first.command)
    room = width - 1
    wanted = min(_width(command), 30)  # the command keeps this much before a tail is dropped
    while tails and _width(head) + wanted + sum(map(_width, tails)) > room:
        tails.pop()
    tail = "".join(tails)
    shown = _cut(command, room - _width(head) - _width(tail), len(first.command))
    text = head + shown + tail
    if not shown or _width(text) > room:  # a very narrow terminal: the essentials only
        text = "expacti: waiting for approval"
    return text[: max(0, room)]
