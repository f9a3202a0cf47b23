"""The prompt gate's input handling, with a stand-in proxy, foreground probe and broker."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli.pty import prompt_gate
from expacti_cli.pty.prompt_detect import Target
from expacti_cli.pty.prompt_gate import Foreground, PromptGate
from expacti_cli.pty.screen import ScreenModel


class FakeProxy:
    """What the gate uses of the proxy; `call_soon` callbacks run when the test turns."""

    def __init__(self) -> None:
        self.ends = SimpleNamespace(master=-1)
        self.to_child = bytearray()
        self.to_user = bytearray()
        self.calls: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()

    def call_soon(self, callback: Callable[[], None]) -> None:
        self.calls.put(callback)

    def write_user(self, data: bytes) -> None:
        self.to_user += data

    def write_child(self, data: bytes) -> None:
        self.to_child += data

    def turn(self, until: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not until():
            try:
                self.calls.get(timeout=max(0.01, deadline - time.monotonic()))()
            except queue.Empty:
                raise AssertionError("the gate did not finish in time") from None


class FakeBroker:
    def __init__(
        self, decision: str = "approved", reason: str = "ok", queued: bool = False
    ) -> None:
        self.decision, self.reason, self.queued = decision, reason, queued
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.release = threading.Event()
        self.release.set()
        self.withdrawn = threading.Event()

    def submit(self, command: str, **kw: Any) -> Any:
        self.calls.append((command, kw))
        conn = SimpleNamespace(withdraw=self.withdrawn.set)
        kw["on_connect"](conn)
        if self.queued:
            kw["on_queued"]({"request": {"id": "abcdef123456", "level": "HIGH", "score": 80}})
        while not self.release.wait(0.01):
            if self.withdrawn.is_set():
                return SimpleNamespace(allowed=False, decision="error", reason="withdrawn")
        allowed = self.decision.startswith("approved") or self.decision.startswith("auto")
        return SimpleNamespace(allowed=allowed, decision=self.decision, reason=self.reason)


def front(family: str, database: str = "app") -> Callable[[int], Foreground | None]:
    target = Target(family, family, database) if family else None
    return lambda master: Foreground(target, "/srv") if target else None


def make_gate(
    screen_text: bytes, family: str = "psql", broker: FakeBroker | None = None, **kw: Any
):  # type: ignore[no-untyped-def]
    screen = ScreenModel(6, 100)
    screen.feed(screen_text)
    broker = broker or FakeBroker()
    gate = PromptGate(
        session="s1",
        context="ctx",
        nonce="n0nce",
        screen=screen,
        submit=broker.submit,
        probe=front(family),
        **kw,
    )
    proxy = FakeProxy()
    gate.on_start(proxy)
    gate.last_output = gate.last_input = 0.0
    return gate, proxy, broker, screen


def press(gate: PromptGate, proxy: FakeProxy, data: bytes) -> bytes:
    """Type `data`; return what went to the child at once plus what followed the decision."""
    now = gate.input_gate(data)
    gate.last_input = gate.last_forward = 0.0  # the echo is on the screen already (test fed it)
    if gate.worker is not None:
        proxy.turn(lambda: gate._pending is None)
        gate.worker.join(5)
        gate.worker = None
    return now + bytes(proxy.to_child)


def test_keystrokes_pass_untouched_and_without_a_look() -> None:
    probes = []
    gate, proxy, broker, _ = make_gate(b"app=> ")
    gate._probe = lambda master: probes.append(master)  # type: ignore[assignment,return-value]
    assert gate.input_gate(b"SELECT 1") == b"SELECT 1"
    assert gate.input_gate(b"\x1b[A") == b"\x1b[A"  # an arrow key: not an Enter
    assert probes == []
    assert broker.calls == []


def test_enter_for_a_program_without_prompts_passes_at_once() -> None:
    gate, proxy, broker, _ = make_gate(b"> x", family="")
    assert gate.input_gate(b"rm -rf x\r") == b"rm -rf x\r"
    assert gate.worker is None and broker.calls == []


def test_our_hooked_shell_at_its_prompt_is_left_alone() -> None:
    gate, proxy, broker, _ = make_gate(b"$ rm -rf x", family="sh")
    gate.on_output(b"\x1b]133;A;expacti=n0nce\x07$ \x1b]133;B;expacti=n0nce\x07")
    assert gate.input_gate(b"\r") == b"\r"
    # A mark with another nonce (printed by anything) does not count.
    gate.on_output(b"\x1b]133;C;expacti=n0nce\x07\x1b]133;B;expacti=other\x07")
    assert gate.input_gate(b"\r") == b""
    proxy.turn(lambda: gate._pending is None)
    assert [c for c, _ in broker.calls] == ["rm -rf x"]


def test_a_low_risk_statement_goes_on_silently() -> None:
    gate, proxy, broker, _ = make_gate(
        b"app=> SELECT 1;", broker=FakeBroker("auto_approved_threshold")
    )
    assert press(gate, proxy, b"\r") == b"\r"
    [(command, kw)] = broker.calls
    assert command == "psql -d app -c 'SELECT 1;'"
    assert kw["source"] == "psql" and kw["session"] == "s1" and kw["cwd"] == "/srv"
    assert kw["context"] == "ctx"
    assert proxy.to_user == b""


def test_an_incomplete_statement_is_not_submitted() -> None:
    gate, proxy, broker, _ = make_gate(b"app=> SELECT *")
    assert press(gate, proxy, b"\r") == b"\r"
    assert broker.calls == []


def test_a_denial_clears_the_input_and_says_why_escaped() -> None:
    broker = FakeBroker("denied", "no \x1b[2J way")
    gate, proxy, _, _ = make_gate(b"app=> DROP TABLE t;", broker=broker)
    assert press(gate, proxy, b"\rSELECT 1;\r") == b"\x03"  # typed ahead: dropped
    assert b"denied: no \\x1b[2J way" in proxy.to_user
    assert b"\x1b[2J" not in proxy.to_user


def test_a_wait_shows_a_status_and_holds_typed_input_which_is_gated_next() -> None:
    broker = FakeBroker("approved", "approved by r@example.com", queued=True)
    broker.release.clear()
    gate, proxy, _, screen = make_gate(b"app=> DELETE FROM t;", broker=broker)
    assert gate.input_gate(b"\r") == b""
    proxy.turn(lambda: b"waiting for approval" in proxy.to_user)
    assert b"[request abcdef12]" in proxy.to_user
    assert gate.input_gate(b"SELECT 2;\r") == b""  # held while the first one waits
    assert proxy.to_child == b""
    broker.release.set()
    proxy.turn(lambda: b"SELECT 2;" in proxy.to_child)
    assert proxy.to_child == b"\rSELECT 2;"  # the second Enter waits for its own decision
    screen.feed(b"\r\nDELETE 1\r\napp=> SELECT 2;")
    gate.last_input = gate.last_forward = 0.0
    proxy.turn(lambda: gate._pending is None)
    assert proxy.to_child == b"\rSELECT 2;\r"
    assert [c for c, _ in broker.calls] == [
        "psql -d app -c 'DELETE FROM t;'",
        "psql -d app -c 'SELECT 2;'",
    ]
    assert b"approved: approved by r@example.com" in proxy.to_user


def test_ctrl_c_while_waiting_withdraws_the_request() -> None:
    broker = FakeBroker("approved", queued=True)
    broker.release.clear()
    gate, proxy, _, _ = make_gate(b"app=> DROP TABLE t;", broker=broker)
    gate.input_gate(b"\r")
    proxy.turn(lambda: b"waiting" in proxy.to_user)
    gate.input_gate(b"\x03")
    proxy.turn(lambda: gate._pending is None)
    assert broker.withdrawn.is_set()
    assert proxy.to_child == b"\x03"
    assert b"cancelled" in proxy.to_user


def test_nothing_fires_on_the_alternate_screen() -> None:
    gate, proxy, broker, _ = make_gate(b"\x1b[?1049happ=> DROP TABLE t;")
    assert press(gate, proxy, b"\r") == b"\r"
    assert broker.calls == []


def test_nothing_fires_while_output_keeps_coming(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompt_gate, "SETTLE_MAX", 0.2)
    gate, proxy, broker, _ = make_gate(b"$ rm -rf x", family="sh")
    stop = threading.Event()

    def flood() -> None:
        while not stop.is_set():
            gate.on_output(b"$ rm -rf x")
            time.sleep(0.002)

    flooder = threading.Thread(target=flood)
    flooder.start()
    try:
        assert gate.input_gate(b"\r") == b""
        proxy.turn(lambda: gate._pending is None)
    finally:
        stop.set()
        flooder.join()
    assert proxy.to_child == b"\r"
    assert broker.calls == []


def test_a_paste_marker_for_a_program_that_did_not_ask_for_it_hides_nothing() -> None:
    gate, proxy, broker, _ = make_gate(b"$ x; rm -rf y", family="sh", broker=FakeBroker("denied"))
    assert gate.input_gate(b"\x1b[200~x; rm -rf y\n") == b"\x1b[200~x; rm -rf y"
    proxy.turn(lambda: gate._pending is None)
    assert len(broker.calls) == 1 and proxy.to_child == b"\x03"


def test_line_breaks_inside_a_paste_are_text_and_make_the_rows_count() -> None:
    gate, proxy, broker, screen = make_gate(b"\x1b[?2004happ=> DROP TABLE t;\r\nSELECT 1;")
    pasted = b"\x1b[200~DROP TABLE t;\nSELECT 1;\x1b[201~"
    assert gate.input_gate(pasted) == pasted  # no Enter in it
    assert press(gate, proxy, b"\r").endswith(b"\r")
    assert [c for c, _ in broker.calls] == ["psql -d app -c 'DROP TABLE t;\nSELECT 1;'"]


@pytest.mark.parametrize("enter", [b"\r", b"\n", b"\x1b[13u", b"\x1b[13;1u", b"\x1b[27;5;13~"])
def test_every_form_of_enter_is_held(enter: bytes) -> None:
    gate, proxy, broker, _ = make_gate(b"app=> DROP TABLE t;", broker=FakeBroker("denied"))
    assert gate.input_gate(b"x" + enter) == b"x"
    proxy.turn(lambda: gate._pending is None)
    assert len(broker.calls) == 1


def test_sqlite_multi_line_denial_makes_the_buffer_fail() -> None:
    gate, proxy, _, _ = make_gate(
        b"sqlite> DROP TABLE\r\n   ...> t;", family="sqlite3", broker=FakeBroker("denied")
    )
    out = press(gate, proxy, b"\r")
    assert out.endswith(b"!!expacti-denied;\r")  # a token no statement can hold


def test_custom_patterns_apply_to_any_program() -> None:
    from expacti_cli.pty.prompt_detect import custom_patterns

    gate, proxy, broker, _ = make_gate(
        b"myrepl> drop everything", family="", patterns=custom_patterns(["myrepl> "])
    )
    assert press(gate, proxy, b"\r") == b"\r"
    assert [c for c, _ in broker.calls] == ["drop everything"]
    assert broker.calls[0][1]["source"] == "custom"


def test_prompt_detection_can_be_turned_off(expacti_home) -> None:  # type: ignore[no-untyped-def]
    expacti_home.mkdir(parents=True, exist_ok=True)
    (expacti_home / "config.toml").write_text('prompt_detection = "off"\n')
    assert prompt_gate.prompt_gate_for("s", "", "n") is None
    (expacti_home / "config.toml").write_text('prompt_patterns = ["^db> "]\n')
    gate = prompt_gate.prompt_gate_for("s", "", "n")
    assert gate is not None and [p.regex.pattern for p in gate.extra_patterns] == ["^db> "]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200), st.lists(st.binary(max_size=40), max_size=4))
def test_random_output_and_keys_never_crash_the_gate(output: bytes, keys: list[bytes]) -> None:
    gate, proxy, broker, _ = make_gate(output, broker=FakeBroker("denied"))
    gate.on_output(output)
    for chunk in keys:
        proxy.to_child += gate.input_gate(chunk)
        if gate._pending is not None:
            proxy.turn(lambda: gate._pending is None)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=5))
def test_no_enter_reaches_the_program_past_a_refusal(keys: list[bytes]) -> None:
    # The screen shows a statement at a psql prompt and every decision is a refusal: whatever
    # is typed, in whatever chunks, no Enter in any of its forms reaches psql.
    gate, proxy, broker, _ = make_gate(b"app=> DROP TABLE t;", broker=FakeBroker("denied"))
    for chunk in keys:
        proxy.to_child += gate.input_gate(chunk)
        if gate._pending is not None:
            proxy.turn(lambda: gate._pending is None)
    sent = bytes(proxy.to_child)
    assert b"\r" not in sent and b"\n" not in sent
    # (The kitty / modifyOtherKeys forms are held too when they come whole, as terminals send
    # them: test_every_form_of_enter_is_held.)


def test_the_model_follows_the_output_only_while_a_prompt_program_is_in_front() -> None:
    foreground: list[Foreground | None] = [None]
    gate = PromptGate(session="s", probe=lambda master: foreground[0])
    gate.on_start(FakeProxy())
    tui = b"\x1b[?1049h" + b"".join(b"\x1b[%d;1Hframe %d" % (i % 20 + 1, i) for i in range(5000))
    gate.on_output(tui)
    gate.on_output(b"\x1b[?1049l$ psql app\r\n")
    assert gate.screen.lines() == [""] * 24  # nothing parsed: no prompt program in front
    foreground[0] = Foreground(Target("psql", "psql", "app"), "/srv")
    gate._probed_at = 0.0  # the next output looks at the foreground again
    gate.on_output(b"psql (15.0)\r\napp=> ")
    snap = gate.screen.snapshot()
    assert not snap.alternate
    assert snap.rows[snap.cursor[0]] == "app=>" and snap.cursor[1] == 6
    gate.on_output(b"SELECT 1;")  # from now on, fed as it comes
    assert gate.screen.cursor_line() == "app=> SELECT 1;"


def test_the_statement_is_read_once_its_echo_came() -> None:
    # Over a slow link the echo of a paste comes after the Enter: the gate waits for it.
    gate, proxy, broker, screen = make_gate(b"app=> ", broker=FakeBroker("denied"))

    def echo_late() -> None:
        time.sleep(0.1)
        screen.feed(b"DROP TABLE t;")
        gate.on_output(b"DROP TABLE t;")

    threading.Thread(target=echo_late).start()
    assert gate.input_gate(b"DROP TABLE t;\r") == b"DROP TABLE t;"
    proxy.turn(lambda: gate._pending is None)
    assert [c for c, _ in broker.calls] == ["psql -d app -c 'DROP TABLE t;'"]


def test_a_key_that_echoes_nothing_does_not_let_the_enter_pass() -> None:
    gate, proxy, broker, _ = make_gate(b"app=> DROP TABLE t;", broker=FakeBroker("denied"))
    gate.input_gate(b"\x05")  # Ctrl-E at the end of the line: readline prints nothing
    assert gate.input_gate(b"\r") == b""
    proxy.turn(lambda: gate._pending is None)
    assert len(broker.calls) == 1 and proxy.to_child == b"\x03"
