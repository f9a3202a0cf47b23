"""The session's own terminal as a place to see and answer its waiting commands.

While a command of this session waits for a decision, the wrapped terminal shows it:

- **The status row**: one line on the terminal's last row ("expacti: waiting for approval
  (HIGH 72) rm -rf build · 1 reviewer connected · ..."). The program is told its terminal is
  one row shorter while the row shows (a resize, as tmux does for its status line), and the
  rows above are made a scroll region, so nothing the program prints or draws lands on it or
  scrolls it away; the row is redrawn after each chunk of output. When nothing waits any more
  the row is cleared and the program gets its full size back. Keys typed meanwhile are held
  and delivered afterwards in order (Ctrl-C passes at once: it cancels the wait).
- **The overlay**: the approval prompt itself, over the whole screen, when `approval_ui` is
  "inline", or "auto" while no reviewer is connected (and no reviewer pane of ours is still
  starting; with "auto" after a second's grace, in which a reviewer may still answer and the
  program's own message gets seen). Its keys go to expacti and never to the program (those
  typed in its first half second are ignored: the user was typing into the program and did
  not see it coming); the program's output is held
  back while it shows. When it closes, the screen is put back exactly as it was: for a program
  on the normal screen the overlay is drawn on the terminal's alternate screen, which the
  terminal restores by itself; for a full-screen program (already on the alternate screen) a
  screen model kept while it is there repaints it. The held output follows.

Which wins when a reviewer elsewhere and the overlay could both answer: whoever decides first.
The broker takes one decision per request and the other side sees the request leave. An open
overlay stays open when a reviewer connects (the user may be typing a reason).

Every method here runs on the PTY loop's thread (hooks, and `handle_event` via call_soon).
The reviewer's state machine and the renderers (prompt-toolkit underneath) are imported the
first time a command of the session waits, not when the session starts.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from expacti_cli.ui.overlay_keys import KeyReader
from expacti_cli.ui.overlay_link import SEND_FAILED

if TYPE_CHECKING:
    from expacti_cli.ui.approve_state import ApprovalState, Message
    from expacti_cli.ui.overlay_render import OverlayView


INLINE, AUTO, SPLIT, EXTERNAL = "inline", "auto", "split", "external"
APPROVAL_UIS = (AUTO, SPLIT, INLINE, EXTERNAL)  # config `approval_ui`
HOLD_INPUT_MAX = 64 * 1024  # keys typed while a command waits, kept for afterwards
HOLD_OUTPUT_MAX = 4 * 1024 * 1024  # output held behind the overlay before the child is paused
SPLIT_GRACE = 10.0  # seconds a reviewer pane we opened has to connect before the overlay may
INTERRUPTS = (b"\x03", b"\x1c")  # Ctrl-C, Ctrl-\: pass while a command waits (they cancel it)
MAX_REASON = 500
# Keys arriving this soon after the overlay opened are ignored: the user was typing into the
# program and did not see it coming (an "a" of "cat" must not approve anything).
ARM_DELAY = 0.5
# With "auto", a command waits this long before the overlay covers the screen: the program's
# own "waiting for approval" line gets seen, and a reviewer who answers at once never causes
# it. ("inline" opens at once: the user chose to answer here.)
AUTO_GRACE = 1.0
CANCEL_REASON = "cancelled in the session's terminal (Ctrl-C)"

ALT_ON = (b"\x1b[?1049h", b"\x1b[?1047h", b"\x1b[?47h")
ALT_OFF = (b"\x1b[?1049l", b"\x1b[?1047l", b"\x1b[?47l")
CURSOR_ON, CURSOR_OFF = b"\x1b[?25h", b"\x1b[?25l"
_TAIL = max(map(len, ALT_ON + ALT_OFF)) - 1


def overlay_allowed(ui: str, reviewers: int, split_starting: bool) -> bool:
    """May the overlay open for a waiting command (the terminal being interactive)?"""
    if ui == INLINE:
        return True
    if ui == AUTO:
        return reviewers == 0 and not split_starting
    return False  # split: the tmux pane only; external: never in this terminal


class ScreenModel(Protocol):
    """What the overlay needs of pty.screen.ScreenModel."""

    def feed(self, data: bytes) -> None: ...

    def resize(self, rows: int, cols: int) -> None: ...

    def repaint(self) -> bytes: ...


def _last(data: bytes, needles: tuple[bytes, ...]) -> int:
    return max(data.rfind(n) for n in needles)


def incomplete_tail(data: bytes) -> int:
    """How many bytes at the end of `data` are an unfinished escape sequence or UTF-8
    character (checked over the last 64 bytes): nothing may be written between them."""
    start = max(0, len(data) - 64)
    esc = data.rfind(b"\x1b", start)
    if esc >= 0:
        seq = data[esc:]
        if len(seq) == 1:
            return 1
        kind = seq[1]
        if kind == 0x5B:  # CSI: parameters and intermediates, then a final byte
            if not any(0x40 <= b <= 0x7E for b in seq[2:]):
                return len(seq)
        elif kind in (0x5D, 0x50, 0x5F, 0x5E, 0x58):  # OSC, DCS, APC, PM, SOS: up to BEL/ST
            if b"\x07" not in seq and b"\x1b\\" not in seq:
                return len(seq)
        elif len(seq) < 2 or (0x20 <= kind <= 0x2F and len(seq) < 3):
            return len(seq)
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return 0
        if byte >= 0xC0:  # a lead byte: how long its character is
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if need > back else 0
    return 0


class ScreenTracker:
    """What the program did to the terminal that matters for putting it back: alternate
    screen or not, cursor shown or hidden, and (only while it is on the alternate screen,
    where the terminal keeps no copy for us) a screen model of it. Cheap on the normal
    screen: a few `rfind`s per chunk, so `cat` of a big file costs nothing."""

    def __init__(self, make_model: Callable[[int, int], ScreenModel | None]) -> None:
        self._make_model = make_model
        self.in_alt = False
        self.cursor_visible = True
        self.model: ScreenModel | None = None
        self.size = (24, 80)
        self._tail = b""

    def feed(self, data: bytes) -> None:
        if self.model is not None:
            try:
                self.model.feed(data)
            except Exception:  # noqa: BLE001 - a model bug must not end the session
                self.model = None
        scan = self._tail + data
        self._tail = scan[-_TAIL:]
        if b"\x1b" not in scan or b"\x1b[?" not in scan:
            return  # no private mode changed (`cat` of a file): one forward search, done
        on, off = _last(scan, ALT_ON), _last(scan, ALT_OFF)
        if on > off and not self.in_alt:
            self.in_alt = True
            self.model = self._new_model(scan[on:])
        elif off > on and self.in_alt:
            self.in_alt = False
            self.model = None
        shown, hidden = scan.rfind(CURSOR_ON), scan.rfind(CURSOR_OFF)
        if shown != hidden:
            self.cursor_visible = shown > hidden

    def _new_model(self, start: bytes) -> ScreenModel | None:
        try:
            model = self._make_model(*self.size)
            if model is not None:
                model.feed(start)
            return model
        except Exception:  # noqa: BLE001 - no model: a resize makes the program redraw
            return None

    def resize(self, rows: int, cols: int) -> None:
        self.size = (rows, cols)
        if self.model is not None:
            try:
                self.model.resize(rows, cols)
            except Exception:  # noqa: BLE001
                self.model = None

    def repaint(self) -> bytes | None:
        if self.model is None:
            return None
        try:
            return self.model.repaint()
        except Exception:  # noqa: BLE001
            return None


class Proxy(Protocol):
    """What we use of pty.proxy.Proxy (all from the loop's thread)."""

    def write_user(self, data: bytes) -> None: ...

    def write_child(self, data: bytes) -> None: ...

    def resize(self) -> None: ...


def screen_model(rows: int, cols: int) -> ScreenModel | None:
    """pty.screen's model of a terminal, None where it is not available."""
    try:
        from expacti_cli.pty.screen import ScreenModel as Model
    except ImportError:
        return None
    return Model(rows, cols)


class SessionTerminal:
    """The status row and the overlay of one `expacti run` session (see the module doc)."""

    def __init__(
        self,
        *,
        ui: str,
        reviewer: str,
        send: Callable[[Message], None],
        split_opened: bool = False,
        make_model: Callable[[int, int], ScreenModel | None] = screen_model,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ui = ui
        self.send = send
        self.reviewer = reviewer
        self._state: ApprovalState | None = None
        self.reviewers = 0
        self.screen = ScreenTracker(make_model)
        self.rows, self.cols = 24, 80
        self.proxy: Proxy | None = None
        # Where the keys held during a wait go when it ends: the input gates after ours.
        self.downstream: Callable[[bytes], bytes] = lambda data: data
        self._clock = clock
        self._split_until = clock() + SPLIT_GRACE if split_opened else 0.0
        self.overlay_open = False
        self._armed_at = 0.0
        self._waiting_since = 0.0
        self.status_on = False
        self._view: OverlayView | None = None
        self._keys = KeyReader()
        self._entered_alt = False  # the overlay switched the terminal to its alternate screen
        self._held_output = bytearray()
        self._held_input = bytearray()
        self._carry = b""  # an escape sequence cut at a chunk's end, while the status shows
        self._status_text = ""
        self._last_frame = b""

    @property
    def state(self) -> ApprovalState:
        if self._state is None:
            from expacti_cli.ui.approve_state import ApprovalState

            self._state = ApprovalState(reviewer=self.reviewer)
        return self._state

    @property
    def view(self) -> OverlayView:
        if self._view is None:
            from expacti_cli.ui.overlay_render import OverlayView

            self._view = OverlayView()
        return self._view

    @view.setter
    def view(self, value: OverlayView) -> None:
        self._view = value

    @property
    def waiting(self) -> bool:
        return self._state is not None and bool(self._state.requests)

    # --- proxy hooks -------------------------------------------------------------------------

    def on_start(self, proxy: Proxy) -> None:
        self.proxy = proxy
        self._update()

    def output_gate(self, data: bytes) -> bytes:
        if self.overlay_open:
            self._held_output += data
            return b""
        self.screen.feed(data)
        if not self.status_on:
            return data
        data = self._carry + data
        cut = incomplete_tail(data)
        if cut:
            data, self._carry = data[:-cut], data[-cut:]
        else:
            self._carry = b""
        return data + self._status_bytes() if data else b""

    def output_held(self) -> bool:
        return self.overlay_open and len(self._held_output) >= HOLD_OUTPUT_MAX

    def input_gate(self, data: bytes) -> bytes:
        if self.overlay_open:
            keys = self._keys.feed(data)
            if self._clock() >= self._armed_at:
                for key in keys:
                    self._key(key)
            self._update()
            return b""
        if not self.waiting:
            return data
        # A command of this session waits: keys are held, an interrupt cancels the wait.
        if any(ch in data for ch in INTERRUPTS):
            self._held_input.clear()
            return b"".join(ch for ch in INTERRUPTS if ch in data)
        room = HOLD_INPUT_MAX - len(self._held_input)
        self._held_input += data[: max(0, room)]
        if len(data) > room and self.proxy is not None:
            self.proxy.write_user(b"\a")  # the rest is dropped: say so the only way we can
        return b""

    def child_size(self, rows: int, cols: int) -> tuple[int, int]:
        if self.status_on and rows > 3:
            return rows - 1, cols
        return rows, cols

    def on_resize(self, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        self.screen.resize(*self.child_size(rows, cols))
        if self.overlay_open:
            self._draw_overlay(clear=True)
        elif self.status_on:
            self._write(self._status_bytes())

    # --- events from the broker (the watch connection) --------------------------------------

    def handle_event(self, event: dict[str, Any]) -> None:
        op = event.get("op")
        if op == "watching":
            if event.get("requests") or self._state is not None:
                self.state.apply({"op": "requests", "requests": event.get("requests") or []})
            self._set_reviewers(event.get("reviewers"))
        elif op == "reviewers":
            self._set_reviewers(event.get("reviewers"))
        elif op == SEND_FAILED:
            self.state.send_failed(event.get("message") or {})
        elif op == "link" and not event.get("up"):
            # The broker is gone: whatever waited was denied with it.
            if self._state is not None:
                self._state.apply({"op": "requests", "requests": []})
                self._state.notes.clear()
        elif op in ("context", "link"):
            pass  # the requests carry their context; a reconnection re-sends `watching`
        elif op != "tick":
            if op == "pending" or self._state is not None:
                self.state.apply(event)
        elif not (self.overlay_open or self.waiting):
            return  # a tick ages the overlay's times, arms its keys, ends the auto grace
        self._update()

    def _set_reviewers(self, value: object) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            self.reviewers = value
            if value:
                self._split_until = 0.0

    # --- what shows ----------------------------------------------------------------------------

    def _update(self) -> None:
        if self.proxy is None:
            return
        waiting = self.waiting
        now = self._clock()
        if not waiting:
            self._waiting_since = 0.0
        elif not self._waiting_since:
            self._waiting_since = now
        allowed = overlay_allowed(self.ui, self.reviewers, now < self._split_until)
        grace = allowed and self.ui == AUTO and now < self._waiting_since + AUTO_GRACE
        want_overlay = waiting and (self.overlay_open or (allowed and not grace))
        want_status = waiting and not want_overlay and not grace
        if self.overlay_open and not want_overlay:
            self._close_overlay()
        if self.status_on and not want_status:
            self._hide_status()
        if want_overlay:
            if self.overlay_open:
                self._draw_overlay()
            else:
                self._open_overlay()
        if want_status:
            if self.status_on:
                text = self._text()
                if text != self._status_text:
                    self._write(self._status_bytes())
            else:
                self._show_status()
        if not waiting and self._held_input:
            held, self._held_input = bytes(self._held_input), bytearray()
            self.proxy.write_child(self.downstream(held))

    def _write(self, data: bytes) -> None:
        if self.proxy is not None and data:
            self.proxy.write_user(data)

    # --- the status row ----------------------------------------------------------------------

    def _text(self) -> str:
        from expacti_cli.ui.overlay_render import status_text

        return status_text(self.state.ordered(), self.reviewers, self.cols)

    def _status_bytes(self) -> bytes:
        """Keep the scroll region above the row (a program may have reset it) and draw it."""
        rows = self.rows
        self._status_text = text = self._text()
        if rows <= 3:
            return b""
        pad = " " * max(0, self.cols - 1 - len(text))
        return (
            f"\x1b7\x1b[1;{rows - 1}r\x1b8\x1b7\x1b[{rows};1H\x1b[0;7m{text}{pad}\x1b[0m\x1b[K\x1b8"
        ).encode("utf-8", "replace")

    def _show_status(self) -> None:
        assert self.proxy is not None
        self.status_on = True
        # IND then CUU: if the cursor is on the last row, everything scrolls up one row (the
        # program's line is now right above the status row); anywhere else, nothing moves.
        self._write(b"\x1bD\x1b[A" + self._status_bytes())
        self.proxy.resize()  # the program now has one row less (child_size)

    def _hide_status(self) -> None:
        assert self.proxy is not None
        self.status_on = False
        carry, self._carry = self._carry, b""
        rows = self.rows
        self._write(f"\x1b7\x1b[r\x1b8\x1b7\x1b[{rows};1H\x1b[2K\x1b8".encode() + carry)
        self.proxy.resize()

    # --- the overlay ---------------------------------------------------------------------------

    def _open_overlay(self) -> None:
        self.overlay_open = True
        from expacti_cli.ui.overlay_render import OverlayView

        self._armed_at = self._clock() + ARM_DELAY
        self._keys = KeyReader()
        self.view = OverlayView()
        self._entered_alt = not self.screen.in_alt
        # On the normal screen: the terminal's alternate screen keeps what was there.
        prefix = b"\x1b[?1049h" if self._entered_alt else b""
        self._write(prefix + b"\a")
        self._draw_overlay(clear=True)

    def _draw_overlay(self, *, clear: bool = False) -> None:
        from expacti_cli.ui.overlay_render import draw_overlay

        now = datetime.now(UTC)
        armed = self._clock() >= self._armed_at
        if armed != self.view.armed:
            self.view = replace(self.view, armed=armed)
        frame = draw_overlay(self.state, self.view, self.rows, self.cols, now)
        self.view = replace(self.view, scroll=frame.scroll)
        if clear or frame.data != self._last_frame:
            self._write((b"\x1b[0m\x1b[2J" if clear else b"") + frame.data)
        self._last_frame = frame.data

    def _close_overlay(self) -> None:
        assert self.proxy is not None
        self.overlay_open = False
        out = b"\x1b[0m"
        redraw = False
        if self._entered_alt:
            out += b"\x1b[?1049l"  # the terminal puts the normal screen back as it was
        else:
            painted = self.screen.repaint()
            if painted is None:
                redraw = True
                out += b"\x1b[H\x1b[2J"
            else:
                out += b"\x1b[H\x1b[2J" + painted
        if self.status_on:
            out += self._status_bytes()
        out += CURSOR_ON if self.screen.cursor_visible else CURSOR_OFF
        held, self._held_output = bytes(self._held_output), bytearray()
        self._write(out)
        if held:
            self._write(self.output_gate(held))
        if redraw:
            self._nudge_redraw()

    def _nudge_redraw(self) -> None:
        """No model of the full-screen program's screen: make it redraw (a size change and
        back, as when its window is resized)."""
        from expacti_cli.pty import terminal

        master = getattr(getattr(self.proxy, "ends", None), "master", None)
        if not isinstance(master, int):
            return
        rows, cols = self.child_size(self.rows, self.cols)
        with contextlib.suppress(OSError):
            terminal.set_size(master, rows, max(1, cols - 1))
            terminal.set_size(master, rows, cols)

    # --- keys in the overlay -------------------------------------------------------------------

    def _decide(self, messages: list[Message]) -> None:
        for message in messages:
            message["via"] = "inline"
            self.send(message)

    def _key(self, key: str) -> None:
        from expacti_cli.ui.approve_state import Mode

        state = self.state
        if state.mode is Mode.DENY:
            self._reason_key(key)
            return
        if state.mode is Mode.WHITELIST:
            self._decide(state.press(key))
            return
        if key in ("?", "escape"):
            self.view = replace(self.view, details=not self.view.details)
        elif key == "a":
            self._decide(state.press("a"))
        elif key == "d":
            self.view = replace(self.view, reason="")
            state.press("d")
        elif key in ("w", "A"):
            state.press("A")
        elif key in ("up", "down", "j", "k", "s"):
            state.press(key)
        elif key in ("pageup", "pagedown"):
            step = max(1, self.rows - 2)
            scroll = self.view.scroll + (step if key == "pagedown" else -step)
            self.view = replace(self.view, scroll=max(0, scroll))
        elif key == "c-c" and state.current is not None:
            state.mode, state.deny_id = Mode.DENY, state.current.id
            self._decide(state.deny(CANCEL_REASON))

    def _reason_key(self, key: str) -> None:
        reason = self.view.reason
        if key in ("escape", "c-c"):
            self.state.cancel()
            reason = ""
        elif key == "enter":
            self._decide(self.state.deny(reason))
            reason = ""
        elif key == "backspace":
            reason = reason[:-1]
        elif key == "c-u":
            reason = ""
        elif len(key) == 1 and key.isprintable() and len(reason) < MAX_REASON:
            reason += key
        self.view = replace(self.view, reason=reason)

    # --- the end -------------------------------------------------------------------------------

    def finish(self) -> bytes:
        """What to write once the PTY loop has ended with the overlay or the status up."""
        out = b""
        if self.overlay_open:
            self.overlay_open = False
            out += b"\x1b[0m" + (b"\x1b[?1049l" if self._entered_alt else b"")
            out += CURSOR_ON
            out += bytes(self._held_output)
        if self.status_on:
            self.status_on = False
            out += self._carry + f"\x1b7\x1b[r\x1b8\x1b7\x1b[{self.rows};1H\x1b[2K\x1b8".encode()
        return out
