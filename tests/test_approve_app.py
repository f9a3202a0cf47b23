"""The interactive reviewer (`expacti approve` with no id): state machine, rule widening,
rendering, the prompt-toolkit app driven through a pipe, and one run against a real broker."""

from __future__ import annotations

import contextlib
import io
import queue
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from broker_support import audit_records, wait_pending
from hypothesis import given, settings
from hypothesis import strategies as st
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.vt100 import Vt100_Output

from expacti_cli.matching import RISKY_PROGRAMS
from expacti_cli.ui.approve_app import EXIT_INTERRUPTED, ApprovalApp
from expacti_cli.ui.approve_render import notification, render
from expacti_cli.ui.approve_rules import EXACT, GLOB, PREFIX, problem, widening_for
from expacti_cli.ui.approve_state import LINK, ApprovalState, Mode, Request

pytest_plugins = ("broker_support",)

REVIEWER = "alice@example.com"
ESC_AND_RLO = 'echo "\x1b]0;pwned\x07" \u202egpj.exe'


def req(n: int, command: str = "git push origin main", **more: Any) -> dict[str, Any]:
    """A request as the broker sends it; `n` orders them (higher = newer)."""
    return {
        "id": f"{n:02d}" + "ab" * 15,
        "command": command,
        "command_hash": f"hash-{n}",
        "cwd": "/srv/app",
        "session": f"s{n}",
        "source": "exec",
        "context": "",
        "score": 45,
        "level": "MEDIUM",
        "summary": "push to main",
        "reasons": ["vcs: pushes to a remote"],
        "requested_at": f"2026-01-01T00:00:{n:02d}+00:00",
        **more,
    }


def rid(n: int) -> str:
    return str(req(n)["id"])


def state_with(*requests: dict[str, Any]) -> ApprovalState:
    state = ApprovalState(reviewer=REVIEWER)
    state.apply({"op": "requests", "requests": list(requests)})
    return state


def screen(state: ApprovalState, width: int = 100) -> str:
    from datetime import UTC, datetime

    return "".join(text for _, text in render(state, width, datetime.now(UTC)))


# --- requests --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "x",
        {},
        {"id": "a", "command": "ls"},
        {"id": "", "command": "ls", "command_hash": "h"},
        {"id": "a", "command": 5, "command_hash": "h"},
    ],
)
def test_unusable_requests_are_ignored(data: object) -> None:
    assert Request.from_json(data) is None
    state = ApprovalState(reviewer=REVIEWER)
    assert state.apply({"op": "pending", "request": data}) == []
    assert state.requests == {}


def test_requests_are_shown_oldest_first_whatever_order_they_come_in() -> None:
    state = state_with(req(3), req(1), req(2))
    assert [r.id for r in state.ordered()] == [rid(1), rid(2), rid(3)]
    assert state.current is not None and state.current.id == rid(1)
    text = screen(state)
    assert text.index("session s1") < text.index("session s2") < text.index("session s3")


# --- the state machine -----------------------------------------------------------------------


def test_new_pending_request_is_reported_once() -> None:
    state = state_with()
    [new] = state.apply({"op": "pending", "request": req(1)})
    assert new.id == rid(1)
    assert state.apply({"op": "pending", "request": req(1)}) == []


def test_approve_sends_decide_bound_to_the_command_hash() -> None:
    state = state_with(req(1), req(2))
    [message] = state.press("a")
    assert message == {
        "op": "decide",
        "id": rid(1),
        "decision": "approve",
        "reviewer": REVIEWER,
        "command_hash": "hash-1",
        "reason": "",
        "note": "",
    }
    assert state.press("a") == []  # no second decision while the first is in flight
    assert "already sent" in state.notes[-1]


def test_deny_takes_a_reason() -> None:
    state = state_with(req(1))
    assert state.press("d") == []
    assert state.mode is Mode.DENY
    assert state.press("a") == []  # letters belong to the reason field now
    [message] = state.deny("  use the staging database ")
    assert (message["decision"], message["reason"], message["command_hash"]) == (
        "deny",
        "use the staging database",
        "hash-1",
    )
    assert state.mode is Mode.BROWSE


def test_deny_of_a_request_resolved_while_typing_sends_nothing() -> None:
    state = state_with(req(1))
    state.press("d")
    state.apply({"op": "resolved", "id": rid(1), "decision": "timed_out"})
    assert state.mode is Mode.BROWSE
    assert state.deny("too late") == []


def test_escape_leaves_deny_mode_without_sending() -> None:
    state = state_with(req(1))
    state.press("d")
    assert state.press("escape") == []
    assert state.mode is Mode.BROWSE and not state.in_flight


@pytest.mark.parametrize(
    ("keys", "expected"), [("", 1), ("s", 2), ("ss", 3), ("sss", 1), ("j", 2), ("k", 3), ("sk", 1)]
)
def test_skip_moves_to_the_next_request_and_wraps(keys: str, expected: int) -> None:
    state = state_with(req(1), req(2), req(3))
    for key in keys:
        assert state.press(key) == []
    assert state.current is not None and state.current.id == rid(expected)
    assert state.press("a")[0]["id"] == rid(expected)


@pytest.mark.parametrize(
    ("decision", "reviewer", "shown"),
    [
        ("approved", "bob@example.com", "approved by bob@example.com"),
        ("denied", "bob@example.com", "denied by bob@example.com"),
        ("timed_out", None, "timed out"),
        ("withdrawn", None, "withdrawn"),
    ],
)
def test_resolved_elsewhere_disappears_with_a_note(
    decision: str, reviewer: str | None, shown: str
) -> None:
    state = state_with(req(1), req(2))
    state.apply({"op": "resolved", "id": rid(1), "decision": decision, "reviewer": reviewer})
    assert list(state.requests) == [rid(2)]
    assert state.current is not None and state.current.id == rid(2)
    assert shown in state.notes[-1]
    assert "git push origin main" in state.notes[-1]


def test_selection_moves_down_when_the_selected_request_goes() -> None:
    state = state_with(req(1), req(2), req(3))
    state.press("s")  # on 2
    state.apply({"op": "resolved", "id": rid(2), "decision": "withdrawn"})
    assert state.current is not None and state.current.id == rid(3)


def test_own_decision_is_noted_as_yours() -> None:
    state = state_with(req(1))
    state.press("a")
    state.apply({"op": "resolved", "id": rid(1), "decision": "approved", "reviewer": REVIEWER})
    state.apply({"op": "decided", "id": rid(1), "decision": "approved"})
    assert "approved by you" in state.notes[-1]
    assert not state.in_flight and not state.awaiting


def test_refusal_clears_in_flight_and_says_why() -> None:
    state = state_with(req(1))
    state.press("a")
    state.apply({"op": "error", "code": "self_approval", "error": "refused: \x1b[31mgated"})
    assert not state.in_flight
    assert "refused" in state.notes[-1] and "\\x1b[31m" in state.notes[-1]
    assert state.press("a")  # may try again


def test_lost_link_drops_in_flight_and_resubscribe_prunes_what_left() -> None:
    state = state_with(req(1), req(2))
    state.press("a")
    state.apply({"op": LINK, "up": False})
    assert not state.connected and not state.in_flight
    assert "not connected" in screen(state)
    state.apply({"op": LINK, "up": True})
    new = state.apply({"op": "requests", "requests": [req(2), req(3)]})
    assert [r.id for r in new] == [rid(3)]
    assert sorted(state.requests) == [rid(2), rid(3)]
    assert any("left the queue" in n for n in state.notes)


def test_message_that_could_not_be_sent_is_forgotten() -> None:
    state = state_with(req(1))
    [message] = state.press("a")
    state.send_failed(message)
    assert not state.in_flight and not state.awaiting
    assert "not sent" in state.notes[-1]


def test_quit_and_help() -> None:
    state = state_with(req(1))
    state.press("?")
    assert state.mode is Mode.HELP and "keys" in screen(state)
    state.press("?")
    assert state.mode is Mode.BROWSE
    state.press("q")
    assert state.quit


# --- approve + whitelist ---------------------------------------------------------------------


def test_whitelist_starts_exact_and_shows_the_rule() -> None:
    state = state_with(req(1, "kubectl get pods -n prod"))
    assert state.press("A") == []
    assert state.mode is Mode.WHITELIST
    assert 'allow exact "kubectl get pods -n prod" in any directory' in screen(state)
    [message] = state.press("enter")
    assert message["whitelist"] == {"kind": "exact", "pattern": "kubectl get pods -n prod"}
    assert message["command_hash"] == "hash-1"


@pytest.mark.parametrize(
    ("keys", "kind", "pattern"),
    [
        ("p", PREFIX, "kubectl get pods -n prod"),
        ("p" + "\0left" * 2, PREFIX, "kubectl get pods"),
        ("p" + "-" * 9, PREFIX, "kubectl"),  # never fewer than one word
        ("p---+", PREFIX, "kubectl get pods"),
        ("g4", GLOB, "kubectl get pods -n *"),
        ("g2", GLOB, "kubectl get * -n prod"),
        ("g44", GLOB, "kubectl get pods -n prod"),  # toggled back
        ("g0", GLOB, "kubectl get pods -n prod"),  # the program is never a wildcard
        ("p-e", EXACT, "kubectl get pods -n prod"),
    ],
)
def test_whitelist_widening_keys(keys: str, kind: str, pattern: str) -> None:
    state = state_with(req(1, "kubectl get pods -n prod"))
    state.press("A")
    for key in re.findall(r"\0\w+|.", keys):
        state.press(key.lstrip("\0"))
    assert state.draft is not None
    assert (state.draft.kind, state.draft.choice().pattern) == (kind, pattern)
    [message] = state.press("enter")
    assert message["whitelist"] == {"kind": kind, "pattern": pattern}
    assert message["decision"] == "approve"


@pytest.mark.parametrize(
    ("cwd", "keys", "scope"), [("/srv/app", "c", "/srv/app"), ("/srv/app", "cc", ""), ("", "c", "")]
)
def test_whitelist_can_be_limited_to_the_directory(cwd: str, keys: str, scope: str) -> None:
    state = state_with(req(1, "make test", cwd=cwd))
    state.press("A")
    state.press("p")
    for key in keys:
        state.press(key)
    assert ("in /srv/app" in screen(state)) == bool(scope)
    [message] = state.press("enter")
    expected = {"kind": "prefix", "pattern": "make test"} | ({"scope": scope} if scope else {})
    assert message["whitelist"] == expected


@pytest.mark.parametrize(
    "command",
    [
        "bash -c 'make test'",
        "sudo apt-get install jq",
        "python3 manage.py migrate",
        "xargs rm",
        "npx create-react-app x",
        "eval make",
        "env FOO=1 make",
        "timeout 5 make",
        "/usr/bin/perl -e 1",
        "make && make install",
        "cat <<EOF\nhi\nEOF",
        "echo $HOME",
        "ls $(pwd)",
    ],
)
def test_risky_commands_are_offered_the_exact_rule_only(command: str) -> None:
    state = state_with(req(1, command))
    state.press("A")
    for key in ("p", "left", "g", "1", "2"):
        state.press(key)
    assert state.draft is not None and state.draft.kind == EXACT
    assert "only the exact command" in screen(state)
    [message] = state.press("enter")
    assert message["whitelist"] == {"kind": "exact", "pattern": command.strip()}


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._/=", min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    program=st.sampled_from(sorted(RISKY_PROGRAMS)),
    path=st.sampled_from(["", "/usr/bin/", "/usr/local/bin/"]),
    args=st.lists(_WORD, max_size=4),
    keep=st.integers(0, 6),
    stars=st.frozensets(st.integers(0, 5)),
)
def test_never_a_wide_rule_for_shells_interpreters_and_wrappers(
    program: str, path: str, args: list[str], keep: int, stars: frozenset[int]
) -> None:
    import shlex

    command = shlex.join([path + program, *args])
    widening = widening_for(command)
    for choice in (widening.prefix(keep), widening.glob(stars)):
        if widening.widenable:
            assert problem(choice, widening), choice  # any wider rule is refused
        else:
            assert problem(choice, widening).startswith("only the exact command")


def test_a_glob_that_no_longer_covers_the_command_cannot_be_saved() -> None:
    # `*` never stands for an option: `git log *` does not cover `git log --oneline`.
    state = state_with(req(1, "git log --oneline"))
    state.press("A")
    state.press("g")
    state.press("2")
    assert state.press("enter") == []
    assert state.draft is not None and "would not cover" in state.draft.error
    assert "cannot save" in screen(state)


# --- rendering -------------------------------------------------------------------------------


def test_box_shows_everything_the_reviewer_needs() -> None:
    state = state_with(
        req(
            1,
            'psql -c "DELETE FROM sessions WHERE expires_at < now()"',
            level="HIGH",
            score=68,
            summary="database write (DELETE with WHERE)",
            context="clean up old sessions",
            anomalies=["first DELETE in this repo"],
            session="7f3a",
        )
    )
    text = screen(state)
    lines = text.splitlines()
    assert lines[0].startswith("┌ pending 1 ─ session 7f3a (exec) ─ /srv/app ─ ")
    assert 'psql -c "DELETE FROM sessions WHERE expires_at < now()"' in text
    assert "HIGH 68  database write (DELETE with WHERE) · context: clean up old sessions" in text
    assert "vcs: pushes to a remote" in text and "anomaly: first DELETE in this repo" in text
    assert "[a]pprove  [A]pprove + whitelist…  [d]eny with reason  [s]kip  [?]help" in text
    assert len({len(line) for line in lines if line[:1] in "┌│└"}) == 1  # a straight box


def test_command_is_escaped_never_raw() -> None:
    text = screen(state_with(req(1, ESC_AND_RLO, cwd="/tmp/\x1b[2J", context="\u202e")))
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert 'echo "\\x1b]0;pwned\\x07" <U+202E>gpj.exe' in text
    assert "/tmp/\\x1b[2J" in text


def test_heredoc_keeps_its_lines_and_long_commands_wrap_whole() -> None:
    body = "x" * 250
    text = screen(state_with(req(1, f"cat <<EOF\n{body}\nEOF")), width=60)
    assert "│ cat <<EOF" in text and "│ EOF" in text
    rows = [line.strip("│ ") for line in text.splitlines()]
    body_rows = rows[rows.index("cat <<EOF") + 1 : rows.index("EOF")]
    assert len(body_rows) > 1 and "".join(body_rows) == body


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@settings(max_examples=200, deadline=None)
@given(
    command=st.text(alphabet=st.characters(codec=None), max_size=80),
    other=st.text(alphabet=st.characters(codec=None), max_size=30),
    width=st.integers(10, 140),
)
def test_rendering_never_emits_control_or_hidden_characters(
    command: str, other: str, width: int
) -> None:
    request = req(
        1,
        command,
        cwd=other,
        session=other,
        context=other,
        summary=other,
        reasons=[other],
        anomalies=[other],
        policy=other,
    )
    state = state_with(request)
    state.press("A")
    text = screen(state, width)
    assert not _CONTROL.search(text)
    assert not any(unicodedata.category(ch) in {"Cf", "Cs", "Co", "Zl", "Zp"} for ch in text)
    assert not _CONTROL.search(notification([Request.from_json(request)]))  # type: ignore[list-item]


# --- the app, driven through a pipe ----------------------------------------------------------


class FakeConnection:
    """Events in through a queue, sent messages out into a list."""

    def __init__(self, *events: dict[str, Any]) -> None:
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.sent: list[dict[str, Any]] = []
        for event in events:
            self.events.put(event)

    def push(self, event: dict[str, Any]) -> None:
        self.events.put(event)

    def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def receive(self, timeout: float | None = None) -> dict[str, Any] | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("no answer from the broker") from None

    def close(self) -> None:
        self.events.put(None)

    def decides(self) -> list[dict[str, Any]]:
        return [m for m in self.sent if m.get("op") == "decide"]


def wait_until(check: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        time.sleep(0.01)


class RecordingOutput(DummyOutput):
    """DummyOutput that keeps what is written raw (bells, OSC 9)."""

    def __init__(self) -> None:
        self.raw: list[str] = []

    def write_raw(self, data: str) -> None:
        self.raw.append(data)


Script = Callable[[ApprovalApp, PipeInput], None]


def drive(
    factory: Callable[[], Any], keys: str = "", script: Script | None = None, output: Any = None
) -> tuple[int, ApprovalApp]:
    """Run the app with `keys` typed at once, then `script` on a thread; returns (code, app)."""
    failures: list[BaseException] = []
    finished = threading.Event()
    with create_pipe_input() as pipe:
        app = ApprovalApp(
            factory, REVIEWER, input=pipe, output=output or DummyOutput(), retry_delay=0.01
        )

        def run_script() -> None:
            try:
                wait_until(lambda: app._loop is not None or finished.is_set())
                if script is not None and not finished.is_set():
                    script(app, pipe)
            except BaseException as exc:  # noqa: BLE001 - reported by the test thread
                failures.append(exc)
                with contextlib.suppress(OSError):
                    pipe.send_text("\x03\x03")  # out of any mode, then quit

        pipe.send_text(keys)
        driver = threading.Thread(target=run_script, daemon=True)
        driver.start()
        try:
            code = app.run()
        finally:
            finished.set()
            driver.join(timeout=5)
    if failures:
        raise failures[0]
    return code, app


def test_app_approves_with_the_command_hash() -> None:
    fake = FakeConnection({"op": "requests", "requests": [req(1), req(2)]})
    code, _ = drive(lambda: fake, "sa" + "q")
    assert code == 0
    assert fake.sent[0] == {"op": "subscribe"}
    [decide] = fake.decides()
    assert (decide["id"], decide["decision"], decide["command_hash"], decide["reviewer"]) == (
        rid(2),
        "approve",
        "hash-2",
        REVIEWER,
    )


def test_app_denies_with_the_typed_reason() -> None:
    fake = FakeConnection({"op": "requests", "requests": [req(1)]})

    def script(app: ApprovalApp, pipe: PipeInput) -> None:
        wait_until(lambda: app.state.mode is Mode.DENY)
        pipe.send_text("use staging, and do not pass q\r")
        wait_until(fake.decides)
        pipe.send_text("q")

    code, _ = drive(lambda: fake, "d", script)
    assert code == 0
    [decide] = fake.decides()
    assert (decide["decision"], decide["reason"], decide["command_hash"]) == (
        "deny",
        "use staging, and do not pass q",
        "hash-1",
    )


def test_app_escape_cancels_a_deny() -> None:
    fake = FakeConnection({"op": "requests", "requests": [req(1)]})

    def script(app: ApprovalApp, pipe: PipeInput) -> None:
        wait_until(lambda: app.state.mode is Mode.DENY)
        pipe.send_text("never mind")
        time.sleep(0.05)
        pipe.send_text("\x1b")
        wait_until(lambda: app.state.mode is Mode.BROWSE)
        pipe.send_text("q")

    drive(lambda: fake, "d", script)
    assert fake.decides() == []


def test_app_approves_and_whitelists_a_widened_prefix() -> None:
    fake = FakeConnection({"op": "requests", "requests": [req(1, "kubectl get pods -n prod")]})

    def script(app: ApprovalApp, pipe: PipeInput) -> None:
        wait_until(lambda: app.state.mode is Mode.WHITELIST)
        assert 'allow exact "kubectl get pods -n prod" in any directory' in app.screen_text()
        pipe.send_text("p\x1b[D\x1b[D")  # prefix, two words fewer
        wait_until(lambda: 'allow prefix "kubectl get pods" in any directory' in app.screen_text())
        pipe.send_text("\r")
        wait_until(fake.decides)
        pipe.send_text("q")

    drive(lambda: fake, "A", script)
    [decide] = fake.decides()
    assert decide["whitelist"] == {"kind": "prefix", "pattern": "kubectl get pods"}
    assert decide["command_hash"] == "hash-1"


def test_app_removes_requests_resolved_elsewhere_and_rings_for_new_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    fake = FakeConnection({"op": "requests", "requests": [req(1)]})
    output = RecordingOutput()

    def script(app: ApprovalApp, pipe: PipeInput) -> None:
        assert output.raw == []  # what was pending at start does not ring
        fake.push({"op": "pending", "request": req(2, ESC_AND_RLO)})
        wait_until(lambda: len(app.state.requests) == 2)
        wait_until(lambda: output.raw)
        fake.push({"op": "resolved", "id": rid(1), "decision": "approved", "reviewer": "bob"})
        wait_until(lambda: list(app.state.requests) == [rid(2)])
        text = app.screen_text()
        assert "approved by bob" in text and "session s1" not in text
        pipe.send_text("q")

    code, app = drive(lambda: fake, "", script, output)
    assert code == 0
    raw = "".join(output.raw)
    assert raw.startswith("\a\x1b]9;expacti: approval needed, MEDIUM 45: ")
    assert raw.endswith("\a") and raw.count("\x1b") == 1 and raw.count("\a") == 2
    assert "\\x1b]0;pwned\\x07" in raw and "<U+202E>" in raw


def test_app_draws_escaped_commands_on_the_terminal() -> None:
    fake = FakeConnection({"op": "requests", "requests": [req(1, ESC_AND_RLO)]})
    stream = io.StringIO()
    output = Vt100_Output(stream, lambda: Size(rows=30, columns=100), term="xterm")

    def script(app: ApprovalApp, pipe: PipeInput) -> None:
        wait_until(lambda: "gpj.exe" in stream.getvalue())
        pipe.send_text("q")

    drive(lambda: fake, "", script, output)
    drawn = stream.getvalue()
    assert "\x1b]0;pwned" not in drawn and "\u202e" not in drawn
    assert 'echo "\\x1b]0;pwned\\x07" <U+202E>gpj.exe' in drawn


def test_app_reconnects_when_the_broker_goes_away() -> None:
    first = FakeConnection({"op": "requests", "requests": [req(1)]})
    second = FakeConnection({"op": "requests", "requests": [req(2)]})
    connections = iter([first, second])

    def script(app: ApprovalApp, pipe: PipeInput) -> None:
        first.close()
        wait_until(lambda: list(app.state.requests) == [rid(2)])
        assert app.state.connected
        pipe.send_text("aq")

    drive(lambda: next(connections), "", script)
    assert second.sent[0] == {"op": "subscribe"}
    assert [d["id"] for d in second.decides()] == [rid(2)]
    assert first.decides() == []


def test_ctrl_c_quits_with_130() -> None:
    fake = FakeConnection({"op": "requests", "requests": []})
    code, _ = drive(lambda: fake, "\x03")
    assert code == EXIT_INTERRUPTED


def test_a_silent_broker_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from expacti_cli.errors import ExpactiError
    from expacti_cli.ui import approve_link

    monkeypatch.setattr(approve_link, "SUBSCRIBE_TIMEOUT", 0.05)
    with pytest.raises(ExpactiError, match="did not answer"):
        drive(FakeConnection)


def test_a_refused_subscribe_is_an_error() -> None:
    from expacti_cli.errors import ExpactiError

    fake = FakeConnection({"op": "error", "code": "bad_op", "error": "nope"})
    with pytest.raises(ExpactiError, match="nope"):
        drive(lambda: fake)


# --- against a real broker -------------------------------------------------------------------


def _writer(target: Path) -> tuple[str, ...]:
    import sys

    return (sys.executable, "-c", f"open({str(target)!r}, 'a').write('ran\\n')")


@pytest.mark.usefixtures("broker_env")
def test_end_to_end_approve_and_whitelist_through_the_app(
    spawn: Any,
    run_cli: Any,
    tmp_path: Path,
) -> None:
    from expacti_cli.broker import client

    marker = tmp_path / "ran.txt"
    proc = spawn("exec", "--context", "e2e", "--", *_writer(marker))
    [request] = wait_pending()
    assert not marker.exists()

    def script(app: ApprovalApp, pipe: PipeInput) -> None:
        wait_until(lambda: app.state.mode is Mode.WHITELIST)
        pipe.send_text("\r")  # the exact rule
        wait_until(lambda: not app.state.requests, timeout=15)
        pipe.send_text("q")

    code, app = drive(client.connect, "A", script)
    assert code == 0
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert marker.read_text() == "ran\n"
    assert f"approved by {REVIEWER}" in err
    [decision] = audit_records("decision")
    assert (decision["decision"], decision["reviewer"]) == ("approved", REVIEWER)
    assert decision["rule_id"]
    # The saved rule lets the identical command through with nobody watching.
    again = run_cli("exec", "--", *_writer(marker), timeout=30)
    assert again.returncode == 0, again.stderr
    assert marker.read_text() == "ran\nran\n"


# --- whatever happens, a decision is only ever for what the reviewer sees -----------------

_EVENTS = st.one_of(
    st.builds(lambda n: {"op": "pending", "request": req(n)}, st.integers(1, 4)),
    st.builds(
        lambda n, d: {"op": "resolved", "id": rid(n), "decision": d, "reviewer": "bob"},
        st.integers(1, 4),
        st.sampled_from(["approved", "denied", "timed_out", "withdrawn"]),
    ),
    st.builds(
        lambda ns: {"op": "requests", "requests": [req(n) for n in ns]},
        st.lists(st.integers(1, 4), unique=True),
    ),
    st.just({"op": "decided", "decision": "approved"}),
    st.just({"op": "error", "code": "unknown_id", "error": "gone"}),
    st.builds(lambda up: {"op": LINK, "up": up}, st.booleans()),
)
_KEYS = st.sampled_from(
    ["a", "A", "d", "s", "k", "?", "p", "g", "1", "left", "c", "enter", "escape", "e"]
)
_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("event"), _EVENTS),
        st.tuples(st.just("key"), _KEYS),
        st.tuples(st.just("deny"), st.text(max_size=5)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_STEPS)
def test_decisions_only_for_pending_requests_with_their_own_hash(steps: list[Any]) -> None:
    state = ApprovalState(reviewer=REVIEWER)
    for kind, value in steps:
        if kind == "event":
            state.apply(value)
            continue
        before = dict(state.requests)
        busy = set(state.in_flight)
        messages = state.press(value) if kind == "key" else state.deny(value)
        assert len(messages) <= 1
        for message in messages:
            request = before[message["id"]]  # it was pending when the key was pressed
            assert message["id"] not in busy  # never a second decision in flight
            assert message["command_hash"] == request.command_hash
            assert message["decision"] in ("approve", "deny")
            assert message["reviewer"] == REVIEWER
            if "whitelist" in message:
                assert message["decision"] == "approve"
        assert state.current is None or state.current.id in state.requests


def test_header_says_how_old_the_request_is_and_how_long_it_has_left() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    request = req(
        1,
        requested_at=(now - timedelta(seconds=3)).isoformat(),
        expires_at=(now + timedelta(seconds=57)).isoformat(),
    )
    first = "".join(t for _, t in render(state_with(request), 100, now)).splitlines()[0]
    assert "─ /srv/app ─ 3 s ago, 57 s left " in first


def test_inside_tmux_the_notification_is_passed_through() -> None:
    from expacti_cli.ui.approve_render import alert_sequence

    assert alert_sequence("hi") == "\a\x1b]9;hi\a"
    assert alert_sequence("hi", tmux=True) == "\a\x1bPtmux;\x1b\x1b]9;hi\a\x1b\\"
