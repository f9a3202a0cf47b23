"""The session terminal of `expacti run` piece by piece: keys from raw input, the status row,
the overlay's drawing, and SessionTerminal driven as the PTY loop drives it (a fake proxy
records what would reach the screen and the program)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli.pty.overlay import (
    ARM_DELAY,
    AUTO_GRACE,
    HOLD_INPUT_MAX,
    SessionTerminal,
    incomplete_tail,
    overlay_allowed,
)
from expacti_cli.ui.approve_state import ApprovalState, Request
from expacti_cli.ui.overlay_keys import KeyReader
from expacti_cli.ui.overlay_render import OverlayView, draw_overlay, status_text

# --- keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunks", "keys"),
    [
        ([b"a"], ["a"]),
        ([b"\r"], ["enter"]),
        ([b"\x1b"], ["escape"]),
        ([b"\x1b[A\x1bOB"], ["up", "down"]),
        ([b"\x03"], ["c-c"]),
        ([b"\x7f"], ["backspace"]),
        ([b"\xc3\xa9"], ["é"]),
        ([b"\xc3", b"\xa9"], ["é"]),  # a character cut between two reads
        ([b"\x1b[", b"A"], ["up"]),  # so is a sequence
        ([b"\x1b[97u", b"\x1b[27u", b"\x1b[99;5u"], ["a", "escape", "c-c"]),  # kitty protocol
        ([b"\x1b[97;1:3u"], []),  # kitty: a key release is no key
        ([b"\x1b[27;5;99~"], ["c-c"]),  # xterm modifyOtherKeys
        ([b"\x1b[5~\x1b[6~"], ["pageup", "pagedown"]),
        # A terminal's answers to queries: dropped whole, even with letters inside.
        ([b"\x1b]l" + b"a" * 5 + b"\x1b\\"], []),
        ([b"\x1b]11;rgb:aaaa/aaaa/aaaa\x07d"], ["d"]),
        ([b"\x1bP1$r0;1m\x1b\\"], []),
        ([b"\x1b[?64;1;2c\x1b[12;40R"], []),
        ([b"\x1b[200~approve all\r\x1b[201~w"], ["w"]),  # a paste is not key presses
        ([b"\x1b[200~a", b"d", b"\x1b[20", b"1~a"], ["a"]),  # ...even across reads
        ([b"\x1b[M aa"], []),  # an X10 mouse click whose bytes read as "a a"
        ([b"\x1b[<0;10;5M"], []),  # an SGR mouse click
        ([b"\x1ba"], []),  # Alt+a
    ],
)
def test_key_reader(chunks: list[bytes], keys: list[str]) -> None:
    reader = KeyReader()
    got: list[str] = []
    for chunk in chunks:
        got += reader.feed(chunk)
    assert got == keys


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.binary(max_size=50))
def test_keys_inside_a_paste_or_a_string_sequence_never_come_out(
    noise: bytes, inner: bytes
) -> None:
    for wrapped in (b"\x1b[200~" + inner + b"\x1b[201~", b"\x1b]0;" + inner + b"\x07"):
        if b"\x1b" in inner or b"\x07" in inner:
            continue  # the wrapper would end early: what follows is real input
        reader = KeyReader()
        reader.feed(noise + b"\x1b\\\x07\x1b[201~")  # whatever state noise left, end it
        assert reader.feed(wrapped) == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=8))
def test_key_reader_never_crashes_and_yields_names_or_characters(chunks: list[bytes]) -> None:
    reader = KeyReader()
    for chunk in chunks:
        for key in reader.feed(chunk):
            assert len(key) == 1 or re.fullmatch(r"[a-z-]+|c-.", key), key


# --- where a cut may fall ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "tail"),
    [
        (b"plain", 0),
        (b"text\x1b", 1),
        (b"text\x1b[3", 3),
        (b"text\x1b[31m", 0),
        (b"x\x1b]0;title", 9),
        (b"x\x1b]0;title\x07", 0),
        (b"\xe2\x98", 2),
        (b"\xe2\x98\x83", 0),
        (b"a\xc3", 1),
    ],
)
def test_incomplete_tail(data: bytes, tail: int) -> None:
    assert incomplete_tail(data) == tail


@pytest.mark.parametrize(
    ("ui", "reviewers", "split_starting", "allowed"),
    [
        ("inline", 0, False, True),
        ("inline", 2, False, True),  # inline asks here even with reviewers elsewhere
        ("auto", 0, False, True),
        ("auto", 1, False, False),
        ("auto", 0, True, False),  # our tmux pane is still starting its reviewer
        ("split", 0, False, False),
        ("external", 0, False, False),
    ],
)
def test_overlay_allowed(ui: str, reviewers: int, split_starting: bool, allowed: bool) -> None:
    assert overlay_allowed(ui, reviewers, split_starting) is allowed


# --- drawing -------------------------------------------------------------------------------

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _request(command: str = "rm -rf build", rid: str = "a" * 32, **more: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "command": command,
        "command_hash": "h" + rid,
        "cwd": "/srv/app",
        "session": "s1",
        "source": "pty",
        "level": "HIGH",
        "score": 72,
        "summary": "file delete",
        "reasons": ["file delete: recursive"],
        "requested_at": (NOW - timedelta(seconds=3)).isoformat(),
        "expires_at": (NOW + timedelta(seconds=57)).isoformat(),
        **more,
    }


def _visible(frame: bytes) -> str:
    """The frame's text without our own SGR/cursor sequences."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", frame.decode())


def test_the_overlay_shows_the_command_escaped_with_risk_reasons_and_context() -> None:
    state = ApprovalState(reviewer="me")
    hostile = "echo hi\x1b[2J\x1b]0;owned\x07 \u202e"
    state.apply(
        {
            "op": "requests",
            "requests": [
                _request(
                    hostile, context="tidy up", context_set_by="session", anomalies=["odd hour"]
                )
            ],
        }
    )
    frame = draw_overlay(state, OverlayView(), 40, 100, NOW)
    text = _visible(frame.data)
    assert "echo hi\\x1b[2J\\x1b]0;owned\\x07 <U+202E>" in text
    assert "HIGH 72" in text and "file delete: recursive" in text
    assert "context (set by the session): tidy up" in text
    assert "anomaly: odd hour" in text
    assert "[a]pprove" in text and "[d]eny" in text and "[w]" in text
    # Nothing from the command acts on the terminal: every ESC left is one of ours.
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text


def test_a_command_taller_than_the_screen_scrolls_and_says_so() -> None:
    state = ApprovalState(reviewer="me")
    state.apply(
        {"op": "requests", "requests": [_request("\n".join(f"line {i}" for i in range(80)))]}
    )
    top = draw_overlay(state, OverlayView(), 20, 80, NOW)
    assert "lines 1–19 of" in _visible(top.data)
    bottom = draw_overlay(state, OverlayView(scroll=10_000), 20, 80, NOW)  # clamped
    assert "line 79" in _visible(bottom.data)
    assert bottom.scroll > 60 and "of 86" in _visible(bottom.data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=10, max_value=250), st.integers(0, 3))
def test_status_text_fits_and_holds_no_control_character(command: str, width: int, n: int) -> None:
    requests = [Request.from_json(_request(command or "x", rid=f"{i:032x}")) for i in range(1, 3)]
    text = status_text([r for r in requests if r], n, width)
    assert len(text) < width
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text)


# --- SessionTerminal as the loop drives it ---------------------------------------------------


class FakeProxy:
    def __init__(self) -> None:
        self.screen = bytearray()
        self.child = bytearray()
        self.resizes = 0

    def write_user(self, data: bytes) -> None:
        self.screen += data

    def write_child(self, data: bytes) -> None:
        self.child += data

    def resize(self) -> None:
        self.resizes += 1


class FakeModel:
    def __init__(self, rows: int, cols: int) -> None:
        self.fed = bytearray()
        self.size = (rows, cols)

    def feed(self, data: bytes) -> None:
        self.fed += data

    def resize(self, rows: int, cols: int) -> None:
        self.size = (rows, cols)

    def repaint(self) -> bytes:
        return b"<REPAINT:" + bytes(self.fed) + b">"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def desk() -> tuple[SessionTerminal, FakeProxy, list[dict[str, Any]], Clock]:
    sent: list[dict[str, Any]] = []
    clock = Clock()
    terminal = SessionTerminal(
        ui="auto", reviewer="me@example.com", send=sent.append, make_model=FakeModel, clock=clock
    )
    proxy = FakeProxy()
    terminal.handle_event({"op": "watching", "requests": [], "reviewers": 0})
    terminal.on_start(proxy)
    terminal.on_resize(24, 80)
    return terminal, proxy, sent, clock


def _arm(clock: Clock) -> None:
    clock.now += ARM_DELAY + 0.01


def _pend(terminal: SessionTerminal, clock: Clock, request: dict[str, Any]) -> None:
    """A request of the session arrives and its auto grace passes (the ticker's next tick)."""
    terminal.handle_event({"op": "pending", "request": request})
    clock.now += AUTO_GRACE
    terminal.handle_event({"op": "tick"})


def test_auto_waits_a_moment_before_covering_the_screen(desk) -> None:  # type: ignore[no-untyped-def]
    terminal, proxy, _, clock = desk
    terminal.handle_event({"op": "pending", "request": _request()})
    assert not terminal.overlay_open and not terminal.status_on and proxy.screen == b""
    clock.now += AUTO_GRACE / 2
    terminal.handle_event({"op": "tick"})
    assert not terminal.overlay_open
    clock.now += AUTO_GRACE / 2
    terminal.handle_event({"op": "tick"})
    assert terminal.overlay_open


def test_inline_opens_at_once() -> None:
    terminal = SessionTerminal(ui="inline", reviewer="me", send=lambda m: None)
    terminal.on_start(FakeProxy())
    terminal.handle_event({"op": "pending", "request": _request()})
    assert terminal.overlay_open


def test_without_a_reviewer_the_overlay_opens_and_its_keys_never_reach_the_program(desk) -> None:  # type: ignore[no-untyped-def]
    terminal, proxy, sent, clock = desk
    assert terminal.input_gate(b"ls\r") == b"ls\r"  # nothing waits: keys pass
    _pend(terminal, clock, _request())
    assert terminal.overlay_open
    assert b"\x1b[?1049h" in proxy.screen  # drawn on the terminal's alternate screen
    assert terminal.input_gate(b"cat\r") == b""  # typed on: ignored in the first moment
    assert sent == []
    _arm(clock)
    assert terminal.input_gate(b"xyz") == b""
    assert terminal.input_gate(b"a") == b""
    assert proxy.child == b""
    [decide] = sent
    assert decide == {
        "op": "decide",
        "id": "a" * 32,
        "decision": "approve",
        "reviewer": "me@example.com",
        "command_hash": "h" + "a" * 32,
        "reason": "",
        "note": "",
        "via": "inline",
    }
    proxy.screen.clear()
    terminal.handle_event({"op": "resolved", "id": "a" * 32, "decision": "approved"})
    assert not terminal.overlay_open
    assert proxy.screen.startswith(b"\x1b[0m\x1b[?1049l")  # the terminal puts its screen back


def test_deny_takes_a_reason_and_escape_goes_back(desk) -> None:  # type: ignore[no-untyped-def]
    terminal, _, sent, clock = desk
    _pend(terminal, clock, _request())
    _arm(clock)
    terminal.input_gate(b"d")
    terminal.input_gate(b"\x1b")  # back to the prompt, nothing sent
    terminal.input_gate(b"d")
    terminal.input_gate(b"not ox\x7fn prod\r")
    [deny] = sent
    assert (deny["decision"], deny["reason"], deny["via"]) == ("deny", "not on prod", "inline")


def test_output_behind_the_overlay_is_held_then_follows_the_restored_screen(desk) -> None:  # type: ignore[no-untyped-def]
    terminal, proxy, _, clock = desk
    _pend(terminal, clock, _request())
    assert terminal.output_gate(b"output meanwhile") == b""
    terminal.handle_event({"op": "resolved", "id": "a" * 32, "decision": "denied"})
    screen = bytes(proxy.screen)
    assert screen.index(b"\x1b[?1049l") < screen.index(b"output meanwhile")


def test_a_full_screen_program_is_repainted_from_the_model(desk) -> None:  # type: ignore[no-untyped-def]
    terminal, proxy, _, clock = desk
    assert terminal.output_gate(b"\x1b[?1049h\x1b[Hfull screen") == b"\x1b[?1049h\x1b[Hfull screen"
    _pend(terminal, clock, _request())
    assert b"\x1b[?1049h" not in proxy.screen  # already there: it draws over the program
    terminal.output_gate(b"later")
    proxy.screen.clear()
    terminal.handle_event({"op": "resolved", "id": "a" * 32, "decision": "denied"})
    screen = bytes(proxy.screen)
    assert b"<REPAINT:\x1b[?1049h\x1b[Hfull screen>" in screen  # as it was when it opened
    assert screen.endswith(b"later")  # then what the program printed meanwhile
    assert b"\x1b[?25h" in screen  # the program's cursor was visible


def test_with_a_reviewer_the_status_row_shows_and_keys_are_held(desk) -> None:  # type: ignore[no-untyped-def]
    terminal, proxy, _, _ = desk
    terminal.handle_event({"op": "reviewers", "reviewers": 1})
    terminal.handle_event({"op": "pending", "request": _request("make deploy")})
    assert not terminal.overlay_open and terminal.status_on
    assert terminal.child_size(24, 80) == (23, 80)  # the program loses the last row
    assert proxy.resizes == 1
    assert b"\x1b[1;23r" in proxy.screen and b"\x1b[24;1H" in proxy.screen
    assert b"make deploy" in proxy.screen and b"1 reviewer connected" in proxy.screen
    assert terminal.input_gate(b"echo typed ahead\r") == b""
    out = terminal.output_gate(b"still flowing\r\n")
    assert out.startswith(b"still flowing\r\n") and b"make deploy" in out  # row redrawn
    assert terminal.output_gate(b"cut \x1b[3") == b"cut " + out[len(b"still flowing\r\n") :]
    assert terminal.output_gate(b"1mred").startswith(b"\x1b[31mred")  # never split a sequence
    proxy.screen.clear()
    terminal.handle_event({"op": "resolved", "id": "a" * 32, "decision": "approved"})
    assert not terminal.status_on and terminal.child_size(24, 80) == (24, 80)
    assert b"\x1b[r" in proxy.screen and b"\x1b[24;1H\x1b[2K" in proxy.screen
    assert proxy.child == b"echo typed ahead\r"  # held keys follow, in order


def test_ctrl_c_passes_while_waiting_and_drops_the_held_keys(desk) -> None:  # type: ignore[no-untyped-def]
    terminal, proxy, _, _ = desk
    terminal.handle_event({"op": "reviewers", "reviewers": 1})
    terminal.handle_event({"op": "pending", "request": _request()})
    assert terminal.input_gate(b"rm -rf /") == b""
    assert terminal.input_gate(b"\x03") == b"\x03"
    terminal.handle_event({"op": "resolved", "id": "a" * 32, "decision": "withdrawn"})
    assert proxy.child == b""


def test_held_keys_are_bounded(desk) -> None:  # type: ignore[no-untyped-def]
    terminal, proxy, _, _ = desk
    terminal.handle_event({"op": "reviewers", "reviewers": 1})
    terminal.handle_event({"op": "pending", "request": _request()})
    terminal.input_gate(b"x" * (HOLD_INPUT_MAX + 10))
    assert proxy.screen.endswith(b"\a")
    terminal.handle_event({"op": "resolved", "id": "a" * 32, "decision": "approved"})
    assert len(proxy.child) == HOLD_INPUT_MAX


def test_a_reviewer_leaving_while_a_command_waits_opens_the_overlay(desk) -> None:  # type: ignore[no-untyped-def]
    terminal, _, _, clock = desk
    terminal.handle_event({"op": "reviewers", "reviewers": 1})
    terminal.handle_event({"op": "pending", "request": _request()})
    assert terminal.status_on and not terminal.overlay_open
    clock.now += AUTO_GRACE
    terminal.handle_event({"op": "reviewers", "reviewers": 0})
    assert terminal.overlay_open and not terminal.status_on
    terminal.handle_event({"op": "reviewers", "reviewers": 1})
    assert terminal.overlay_open  # an open overlay stays: the first decision wins


def test_external_never_opens_the_overlay() -> None:
    sent: list[dict[str, Any]] = []
    terminal = SessionTerminal(ui="external", reviewer="me", send=sent.append)
    proxy = FakeProxy()
    terminal.on_start(proxy)
    terminal.on_resize(24, 120)
    terminal.handle_event({"op": "pending", "request": _request()})
    assert not terminal.overlay_open and terminal.status_on
    assert b"run `expacti approve` to decide" in proxy.screen


def test_whitelist_from_the_overlay_sends_the_rule(desk) -> None:  # type: ignore[no-untyped-def]
    terminal, _, sent, clock = desk
    _pend(terminal, clock, _request("git log --oneline"))
    _arm(clock)
    terminal.input_gate(b"w")
    terminal.input_gate(b"\r")
    [decide] = sent
    assert decide["whitelist"] == {"kind": "exact", "pattern": "git log --oneline"}
    assert decide["decision"] == "approve" and decide["via"] == "inline"


def test_finish_puts_the_terminal_back_when_the_program_ends_mid_prompt(desk) -> None:  # type: ignore[no-untyped-def]
    terminal, _, _, clock = desk
    _pend(terminal, clock, _request())
    terminal.output_gate(b"bye")
    rest = terminal.finish()
    assert rest.startswith(b"\x1b[0m\x1b[?1049l") and rest.endswith(b"bye")


def test_the_approval_ui_choices_are_the_configs() -> None:
    from expacti_cli.config import KEYS
    from expacti_cli.pty.overlay import APPROVAL_UIS

    assert set(KEYS["approval_ui"].choices) == set(APPROVAL_UIS)
