"""The input gate for prompts without shell hooks: holds Enter until the broker allows the line.

`expacti run` composes it into the PTY proxy. On Enter (CR, LF, or the kitty / modifyOtherKeys
forms) it asks, on the loop's thread and in well under a millisecond, whether the foreground
program of the PTY is one whose prompts it knows (psql, mysql, sqlite3, python, sh, ssh...; the
shells that carry our integration gate themselves and are left alone while their prompt is up).
If so the Enter is held and a worker thread takes over: it waits for the screen to settle (the
echo of what was typed), reads the submitted statement from the screen model (never from the
keystrokes), and, when Enter would make the program run it, submits it to the broker like a
typed shell line. Allowed: the Enter goes on. Denied: the line is cleared the way the program
expects and the reason is printed. Input typed meanwhile is held, and goes through the gate
again afterwards; Ctrl-C while waiting withdraws the request.

It never fires in the alternate screen (full-screen programs), while output keeps coming, or
when the cursor is not on a prompt line with nothing below it.

The screen model is fed only while a prompt program is in front (looked at every PROBE_EVERY
while output flows, and on each Enter): an agent's full-screen UI or `cat BIGFILE` costs a
bounded ring of recent output, replayed into a fresh model when psql & co come to the front.
"""

from __future__ import annotations

import contextlib
import os
import re
import termios
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expacti_cli.pty import prompt_detect as detect
from expacti_cli.pty.osc import OscScanner, parse_mark

if TYPE_CHECKING:
    from expacti_cli.pty.screen import ScreenModel

# The screen has settled once nothing came out (and nothing went in) for this long.
QUIET = 0.025
# Output that has not paused after this long is a running command: Enter is its business.
SETTLE_MAX = 0.6
ECHO_WAIT = 0.3  # the longest wait for the echo of the last key (a slow link)
MAX_HELD = 1024 * 1024  # typed ahead while a statement waits; more is dropped
# The model is kept only while a prompt program is in front (pyte is slow on full-screen
# output); meanwhile the recent output waits in a ring, replayed when one comes to the front.
RING = 64 * 1024
PROBE_EVERY = 0.25  # seconds between looks at the foreground while output flows
STATUS_PREFIX = "expacti: "

# Enter: CR, LF, kitty keyboard protocol `CSI 13 u` / `CSI 13;mods u`, xterm modifyOtherKeys
# `CSI 27;mods;13~`. Bracketed paste markers, because line breaks inside a paste are text.
_INPUT_EVENTS = re.compile(
    rb"\r|\n|\x1b\[200~|\x1b\[201~|\x1b\[13(?:;[0-9:]*)?u|\x1b\[27;[0-9]+;13~"
)
_PASTE_START, _PASTE_END = b"\x1b[200~", b"\x1b[201~"
CTRL_C = b"\x03"


# --- the foreground program ---------------------------------------------------------------


@dataclass(frozen=True)
class Foreground:
    """The program at the front of the PTY, as far as the prompt gate cares."""

    target: detect.Target
    cwd: str


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _pgrp(pid: int) -> int:
    stat = _read(f"/proc/{pid}/stat")
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[2])


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                kids += [int(k) for k in _read(f"/proc/{pid}/task/{task}/children").split()]
    return kids


def foreground_chain(master: int) -> list[int]:
    """The foreground process group's leader, then its newest descendant in the group, and
    so on (`sudo psql`: sudo, psql). [] when it cannot be told."""
    try:
        group = os.tcgetpgrp(master)
    except OSError:
        return []
    chain = [group]
    for _ in range(16):
        kids = []
        for kid in _children(chain[-1]):
            with contextlib.suppress(OSError, ValueError, IndexError):
                if _pgrp(kid) == group:
                    kids.append(kid)
        if not kids:
            break
        chain.append(max(kids))
    return chain


def _argv(pid: int) -> list[str]:
    raw = _read(f"/proc/{pid}/cmdline").rstrip(b"\0")
    return [a.decode("utf-8", "surrogateescape") for a in raw.split(b"\0")] if raw else []


def probe_foreground(master: int) -> Foreground | None:
    """Which known prompt program is in front (the deepest of the chain), or None."""
    for pid in reversed(foreground_chain(master)):
        try:
            name = _read(f"/proc/{pid}/comm").decode("utf-8", "replace").strip()
            family = detect.program_family(name)
            if not family:
                continue
            argv = _argv(pid)
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                cwd = os.getcwd()
        except OSError:
            continue
        return Foreground(target_for(family, name, argv), cwd)
    return None


def target_for(family: str, name: str, argv: Sequence[str]) -> detect.Target:
    """What the client talks to, read from its argv (never its passwords: only names)."""
    if len(argv) > 1 and Path(argv[0]).name != name and Path(argv[1]).name == name:
        argv = argv[1:]  # a script: its interpreter comes first
    program = Path(argv[0]).name if argv else name
    if family in detect.SQL_FAMILIES:
        from expacti_cli.analysis.dbclients import db_invocation
        from expacti_cli.analysis.words import Word

        invocation = db_invocation(family, [Word(a) for a in argv[1:]])
        return detect.Target(family, program, database=invocation.target)
    if family == detect.WRAPPER and name == "ssh":
        return detect.Target(family, program, host=ssh_host(argv[1:]))
    return detect.Target(family, program)


# ssh(1) options that take a value.
_SSH_VALUE_OPTIONS = frozenset("BbcDEeFIiJLlmOoPpQRSWw")


def ssh_host(args: Sequence[str]) -> str:
    """The destination of an ssh command line ("" if there is none)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[i + 1] if i + 1 < len(args) else ""
        if arg.startswith("-") and len(arg) > 1:
            letters = arg[1:]
            for k, letter in enumerate(letters):
                if letter in _SSH_VALUE_OPTIONS:
                    if k == len(letters) - 1:
                        i += 1  # the value is the next argument
                    break
            i += 1
            continue
        return arg
    return ""


# --- the gate -----------------------------------------------------------------------------


Submit = Callable[..., Any]  # shim.decide.submit's signature


@dataclass
class _Pending:
    """An Enter held while the worker decides."""

    held: bytearray  # the Enter key and everything typed after it
    enter_len: int
    pasted: bool
    connection: Any = None  # the broker connection, to withdraw the request on Ctrl-C
    cancelled: bool = False
    status_shown: bool = False


class PromptGate:
    """Hooks for the proxy: `on_start`, `on_output`, `on_resize`, `input_gate`."""

    def __init__(
        self,
        *,
        session: str,
        context: str = "",
        nonce: str = "",
        screen: ScreenModel | None = None,
        patterns: Sequence[detect.PromptPattern] = (),
        submit: Submit | None = None,
        probe: Callable[[int], Foreground | None] = probe_foreground,
        size: tuple[int, int] = (24, 80),
    ) -> None:
        self.session = session
        self.context = context
        self.nonce = nonce
        self.owns_screen = screen is None  # else whoever made it feeds it
        # Made on first use: pyte costs ~40 ms to import, which a session that never has a
        # prompt program in front (an agent's UI, `cat`) should not pay at start.
        self._screen = screen
        self._size = size
        self.extra_patterns = tuple(patterns)
        self._submit = submit
        self._probe = probe
        self.proxy: Any = None
        self._osc = OscScanner()
        self._shell_at_prompt = False  # our hooked shell's prompt is up (its marks say so)
        self._in_paste = False
        self._pasted_newline = False
        self._pending: _Pending | None = None
        self._lock = threading.Lock()
        self._delimiter = ";"
        self.last_output = 0.0
        self.last_input = 0.0  # the last key typed
        self.last_forward = 0.0  # the last key sent on to the program (its echo is awaited)
        self.worker: threading.Thread | None = None
        self._ring = bytearray()
        # True while something else covers the screen (the session's approval overlay): what
        # we print then would land on it, and waits.
        self.covered: Callable[[], bool] = lambda: False
        self._tracking = False  # the model follows the output (a prompt program is in front)
        self._probed_at = 0.0

    @property
    def screen(self) -> ScreenModel:
        if self._screen is None:
            from expacti_cli.pty.screen import ScreenModel

            self._screen = ScreenModel(*self._size)
        return self._screen

    @screen.setter
    def screen(self, model: ScreenModel) -> None:
        self._screen = model

    # -- proxy hooks (loop thread) ----------------------------------------------------------

    def on_start(self, proxy: Any) -> None:
        self.proxy = proxy
        self._follow_size()

    def _follow_size(self) -> None:
        """Lay the model out like the child's terminal (it may be a row short of ours)."""
        if not self.owns_screen or self.proxy is None:
            return
        from expacti_cli.pty import terminal

        with contextlib.suppress(OSError, ValueError):
            self._size = terminal.get_size(self.proxy.ends.master)
            if self._screen is not None:
                self._screen.resize(*self._size)

    def on_output(self, data: bytes) -> None:
        now = self.last_output = time.monotonic()
        if self.nonce:
            for body in self._osc.feed(data):
                mark = parse_mark(body, self.nonce)
                if mark is not None:
                    self._shell_at_prompt = mark.kind in ("A", "B")
        if not self.owns_screen:
            return  # whoever made the model feeds it
        ring = self._ring
        ring += data
        if len(ring) > 2 * RING:
            del ring[:-RING]
        if now - self._probed_at >= PROBE_EVERY and self._track(self._front()):
            return  # the model was rebuilt from the ring, this output included
        if self._tracking:
            self.screen.feed(data)

    def _front(self) -> Foreground | None:
        """The prompt program in front of the PTY, if any."""
        self._probed_at = time.monotonic()
        if self.proxy is None:
            return None
        try:
            return self._probe(self.proxy.ends.master)
        except Exception:  # noqa: BLE001 - a probe that fails must not break the session
            return None

    def _track(self, front: Foreground | None) -> bool:
        """Follow the output while a prompt program is in front (loop thread). Starting to
        replays the ring into a new model; True when that happened."""
        tracking = front is not None or bool(self.extra_patterns)
        was, self._tracking = self._tracking, tracking
        if not self.owns_screen or not tracking or was:
            return False
        from expacti_cli.pty.screen import ScreenModel

        rows, cols = self._screen.size if self._screen is not None else self._size
        model = ScreenModel(rows, cols)
        ring = bytes(self._ring[-RING:])
        if len(self._ring) > RING:
            ring = ring[ring.find(b"\n") + 1 :]  # cut mid-way: start at a line
        model.feed(ring)
        self.screen = model
        return True

    def on_resize(self, rows: int, cols: int) -> None:
        self._follow_size()

    def input_gate(self, data: bytes) -> bytes:
        with self._lock:
            pending = self._pending
            if pending is not None:
                if len(pending.held) + len(data) <= MAX_HELD:
                    pending.held += data
                if CTRL_C in data:
                    pending.cancelled = True
                    if pending.connection is not None:
                        with contextlib.suppress(Exception):
                            pending.connection.withdraw()
                return b""
        return self._scan(data)

    # -- internals --------------------------------------------------------------------------

    def _scan(self, data: bytes) -> bytes:
        """Forward `data` up to the first Enter that needs a decision; hold from there."""
        now = self.last_input = time.monotonic()
        if b"\r" not in data and b"\n" not in data and b"\x1b[" not in data:
            self.last_forward = now
            return data  # the common keystroke: nothing to look at
        for event in _INPUT_EVENTS.finditer(data):
            key = event.group()
            if key == _PASTE_START:
                # Only a program that asked for bracketed paste reads line breaks after the
                # marker as text; to any other, the marker is noise and each line break an Enter.
                model = self._screen  # none yet: no prompt program has been in front
                self._in_paste = self._in_paste or (model is not None and model.bracketed_paste)
            elif key == _PASTE_END:
                self._in_paste = False
            elif self._in_paste:
                self._pasted_newline = True
            elif self._wants_decision():
                start = event.start()
                with self._lock:
                    self._pending = _Pending(
                        bytearray(data[start:]), event.end() - start, self._pasted_newline
                    )
                if start:
                    self.last_forward = now
                self.worker = threading.Thread(target=self._decide, name="prompt-gate", daemon=True)
                self.worker.start()
                return data[:start]
            else:
                self._pasted_newline = False
        self.last_forward = now
        return data

    def _wants_decision(self) -> bool:
        """Cheap: is a prompt program in front (and not our own hooked shell at its prompt)?"""
        if self.proxy is None:
            return False
        front = self._front()
        self._track(front)
        if self.extra_patterns:
            return True  # custom prompts may belong to any program
        if front is None:
            return False
        return not (front.target.family == detect.SHELL and self._shell_at_prompt)

    def _decide(self) -> None:
        pending = self._pending
        assert pending is not None
        try:
            outcome = self._examine(pending)
        except Exception as exc:  # noqa: BLE001 - fail closed once a statement was seen
            outcome = _Outcome(
                False, f"cannot gate the statement ({type(exc).__name__})", "", False, True
            )
        self.proxy.call_soon(lambda: self._finish(pending, outcome))

    def _examine(self, pending: _Pending) -> _Outcome:
        if not self._settle():
            return _PASS
        front = self._front()
        if front is None and not self.extra_patterns:
            return _PASS
        family = front.target.family if front else detect.CUSTOM
        if front is not None and family == detect.SHELL and self._shell_at_prompt:
            return _PASS
        snap = self.screen.snapshot()
        if snap.alternate:
            return _PASS
        patterns = list(detect.patterns_for(family, self.extra_patterns))
        mark = snap.mark
        if mark is not None and mark[0].startswith(b"133;B") and b"expacti=" not in mark[0]:
            # A remote shell integration marked where its input starts: trust the spot.
            body, row, col = mark
            prefix = snap.rows[row][:col]
            if prefix and row <= snap.cursor[0]:
                kind = detect.SHELL if family in (detect.WRAPPER, detect.SHELL) else family
                patterns.insert(0, detect.PromptPattern(kind, re.compile(re.escape(prefix))))
        submission = detect.read_submission(
            snap.rows,
            snap.cursor[0],
            snap.full_rows,
            patterns,
            pasted=pending.pasted,
            delimiter=self._delimiter,
        )
        if submission is None or not submission.runs:
            return _PASS
        target = front.target if front else detect.Target(detect.CUSTOM)
        command = detect.frame_command(submission, target)
        if submission.family == detect.MYSQL:
            self._delimiter = detect.mysql_delimiter(submission.text, self._delimiter)
        cwd = front.cwd if front else os.getcwd()
        return self._gate(pending, command, cwd, submission.family)

    def _settle(self) -> bool:
        """Wait until the screen shows what was typed; False if output keeps coming.

        Settled: the echo of the last key sent on has come (over ssh it takes a round trip)
        and then nothing for QUIET. A key that echoes nothing (Ctrl-E at the end of the line)
        is waited for only ECHO_WAIT: then the screen is read as it is, never passed over."""
        start = time.monotonic()
        while True:
            now = time.monotonic()
            quiet = now - max(self.last_output, self.last_input) >= QUIET
            echoed = self.last_output >= self.last_forward
            if quiet and (echoed or now - start >= ECHO_WAIT):
                return True
            if now - start > SETTLE_MAX and not quiet:
                return False
            time.sleep(QUIET / 4)

    def _gate(self, pending: _Pending, command: str, cwd: str, family: str) -> _Outcome:
        submit: Submit
        if self._submit is not None:
            submit = self._submit
        else:
            from expacti_cli.shim import decide

            submit = decide.submit

        def on_queued(queued: dict[str, Any]) -> None:
            request = queued["request"]
            text = (
                f"waiting for approval [request {str(request.get('id', ''))[:8]}] "
                f"({request.get('level', '?')} {request.get('score', '?')}) — run "
                "`expacti approve` elsewhere; Ctrl-C cancels"
            )
            status = b"\r\n" + self._status(text)

            def show() -> None:
                if not self.covered():  # the overlay says it better
                    pending.status_shown = True
                    self._show(status)

            self.proxy.call_soon(show)

        def on_connect(conn: Any) -> None:
            with self._lock:
                pending.connection = conn
                cancelled = pending.cancelled or CTRL_C in pending.held[pending.enter_len :]
            if cancelled:
                conn.withdraw()

        verdict = submit(
            command,
            cwd=cwd,
            session=self.session,
            source=family,
            context=self.context,
            on_queued=on_queued,
            on_connect=on_connect,
        )
        multiline = "\n" in command
        if pending.cancelled:
            return _Outcome(False, "cancelled; the statement did not run", family, multiline, True)
        if verdict.allowed:
            shown = f"approved: {verdict.reason}" if verdict.decision == "approved" else ""
            return _Outcome(True, shown, family, multiline, True)
        what = "timed out" if verdict.decision == "timed_out" else "denied"
        if verdict.decision == "error":
            what = "not run"
        return _Outcome(False, f"{what}: {verdict.reason}", family, multiline, True)

    def _status(self, text: str) -> bytes:
        """One line for the user's terminal: escaped, cut to the width, no newline."""
        from expacti_cli.ui.escape import escape_for_display

        cols = self.screen.size[1]
        line = escape_for_display(STATUS_PREFIX + text)
        if len(line) > cols - 1:
            line = line[: max(cols - 2, 1)] + "…"
        return b"\r\x1b[K" + line.encode("utf-8", "replace")

    def _finish(self, pending: _Pending, outcome: _Outcome) -> None:
        """Back on the loop thread: let the Enter through, or clear the line; go on with
        what was typed meanwhile. Not while the approval overlay covers the screen: what we
        print would land on it, and the program's answer would come before our words."""
        proxy = self.proxy
        if self.covered():
            again = threading.Timer(0.05, proxy.call_soon, [lambda: self._finish(pending, outcome)])
            again.daemon = True
            again.start()
            return
        with self._lock:
            self._pending = None
        if outcome.decided:
            # Pasted line breaks count until a statement holding them was decided (a paste
            # without `;` is still in the client's buffer when the next Enter comes).
            self._pasted_newline = False
        if outcome.allowed:
            if pending.status_shown or outcome.message:
                prefix = b"" if pending.status_shown else b"\r\n"
                self._show(prefix + self._status(outcome.message or "approved"))
            proxy.write_child(bytes(pending.held[: pending.enter_len]))
            rest = bytes(pending.held[pending.enter_len :])
            if rest:
                proxy.write_child(self._scan(rest))
            return
        prefix = b"" if pending.status_shown else b"\r\n"
        self._show(prefix + self._status(outcome.message) + b"\r\n")
        proxy.write_child(self._clear_keys(outcome.family, outcome.multiline))
        # What was typed after a refused Enter was meant for after it ran: dropped.

    def _show(self, data: bytes) -> None:
        """Write to the user's screen (loop thread), and to the model, which must match it."""
        self.proxy.write_user(data)
        if self.owns_screen:
            self.screen.feed(data)

    def _clear_keys(self, family: str, multiline: bool) -> bytes:
        """Keys that make the program drop the refused input and show a fresh prompt."""
        if family in (detect.PSQL, detect.PYTHON, detect.SHELL, detect.WRAPPER):
            return CTRL_C  # each abandons its whole input buffer on an interrupt
        kill = b"\x01\x0b"  # readline / editline, emacs keys: start of line, kill to end
        with contextlib.suppress(OSError, ValueError, termios.error, AttributeError):
            attrs = termios.tcgetattr(self.proxy.ends.master)
            if attrs[3] & termios.ICANON:
                kill = attrs[6][termios.VKILL]  # no line editor: the terminal's own kill
                kill = kill if isinstance(kill, bytes) else bytes([kill])
        if family == detect.MYSQL:
            return kill + b"\\c\r"  # \c: clear the statement buffer
        if family == detect.SQLITE and multiline:
            # sqlite3 keeps the earlier lines of the statement, and has no key to drop them:
            # ending it with a token no statement can hold makes it fail to parse whole.
            # (Statements before it in the buffer ran through this gate already.)
            return kill + b"!!expacti-denied;\r"
        return kill + b"\r"


@dataclass(frozen=True)
class _Outcome:
    allowed: bool
    message: str = ""
    family: str = ""
    multiline: bool = False
    decided: bool = False  # the broker was asked (False: not a statement, passed as typed)


_PASS = _Outcome(True)


def prompt_gate_for(session: str, context: str, nonce: str) -> PromptGate | None:
    """The gate `expacti run` adds, as the config says (None: `prompt_detection = "off"`)."""
    from expacti_cli.config import load_config
    from expacti_cli.errors import ExpactiError

    try:
        config = load_config()
    except ExpactiError:
        return PromptGate(session=session, context=context, nonce=nonce)
    if config.get("prompt_detection") == "off":
        return None
    patterns = detect.custom_patterns(config.get("prompt_patterns"))
    return PromptGate(session=session, context=context, nonce=nonce, patterns=patterns)
