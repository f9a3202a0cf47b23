"""`expacti approve` without an id: the interactive reviewer (a prompt-toolkit inline app).

Inline rather than full-screen so the terminal keeps its scrollback and the app sits well in a
tmux split. The pieces: ApprovalState (pure: events and keys in, messages out), render
(pure: state to formatted text), BrokerLink (the socket, on its own thread). This module only
wires them to a prompt-toolkit Application and rings the bell.

    from expacti_cli.broker import client
    code = run_approval_app(client.connect, reviewer="alice@example.com")
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Any

from prompt_toolkit.application import Application
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import StyleAndTextTuples, fragment_list_to_text
from prompt_toolkit.input import Input
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.layout import (
    BufferControl,
    ConditionalContainer,
    FormattedTextControl,
    HSplit,
    Layout,
    VSplit,
    Window,
)
from prompt_toolkit.output import Output

from expacti_cli.ui.approve_link import BrokerLink, ConnectionFactory
from expacti_cli.ui.approve_render import STYLE, alert_sequence, notification, render
from expacti_cli.ui.approve_state import ApprovalState, Message, Mode, Request

EXIT_OK = 0
EXIT_INTERRUPTED = 130

__all__ = ["STYLE", "ApprovalApp", "run_approval_app"]

# Keys the state machine understands outside the reason field (prompt-toolkit names).
_STATE_KEYS = (
    *"aAdsjkhlqepgc?+-",
    *"0123456789",
    "up",
    "down",
    "left",
    "right",
    "enter",
    "escape",
)


class ApprovalApp:
    """The app around one ApprovalState; `run()` returns the exit code."""

    def __init__(
        self,
        connection_factory: ConnectionFactory,
        reviewer: str,
        *,
        input: Input | None = None,
        output: Output | None = None,
        notify: bool = True,
        retry_delay: float = 1.0,
    ) -> None:
        self.state = ApprovalState(reviewer=reviewer)
        self.notify = notify
        self._exit_code = EXIT_OK  # 130 after Ctrl-C
        self.link = BrokerLink(connection_factory, self._from_thread, retry_delay=retry_delay)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.reason = Buffer(multiline=False, accept_handler=self._reason_entered)
        self._main = Window(
            FormattedTextControl(self._fragments, focusable=True, show_cursor=False),
            wrap_lines=False,
            always_hide_cursor=True,
            dont_extend_height=True,  # inline: the reason field sits right under the boxes
        )
        self._reason_window = Window(BufferControl(self.reason), height=1)
        denying = Condition(lambda: self.state.mode is Mode.DENY)
        layout = HSplit(
            [
                self._main,
                ConditionalContainer(
                    VSplit(
                        [
                            Window(
                                FormattedTextControl([("class:prompt", "reason> ")]),
                                width=8,
                                height=1,
                            ),
                            self._reason_window,
                        ]
                    ),
                    filter=denying,
                ),
            ]
        )
        self.app: Application[int] = Application(
            layout=Layout(layout, focused_element=self._main),
            key_bindings=self._bindings(denying),
            style=STYLE,
            full_screen=False,
            refresh_interval=1.0,  # the "3 s ago" ages
            input=input,
            output=output,
        )
        self.app.ttimeoutlen = 0.05  # a lone Esc leaves the reason field without a pause

    # --- wiring ------------------------------------------------------------------------------

    def run(self) -> int:
        first = self.link.subscribe()
        self.state.apply(first)
        try:
            return self.app.run(pre_run=self._started, handle_sigint=False)
        finally:
            self.link.stop()

    def _started(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.link.start()

    def _from_thread(self, event: dict[str, Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self.handle_event, event)
        except RuntimeError:  # the loop closed between the check and the call
            pass

    def handle_event(self, event: dict[str, Any]) -> None:
        """One event from the broker (on the app's loop)."""
        new = self.state.apply(event)
        if new:
            self._alert(new)
        self._sync()

    def _alert(self, new: list[Request]) -> None:
        """A bell and an OSC 9 desktop notification (terminals that do not know it ignore it)."""
        if not self.notify:
            return
        output = self.app.output
        output.write_raw(alert_sequence(notification(new), tmux=bool(os.environ.get("TMUX"))))
        output.flush()

    def _send(self, messages: list[Message]) -> None:
        for message in messages:
            if not self.link.send(message):
                self.state.send_failed(message)

    def _sync(self) -> None:
        """Focus follows the mode; quit when the state says so; redraw."""
        if self.state.quit:
            if self.app.is_running and not self.app.future.done():  # type: ignore[union-attr]
                self.app.exit(result=self._exit_code)
            return
        layout = self.app.layout
        if self.state.mode is Mode.DENY:
            if not layout.has_focus(self._reason_window):
                self.reason.reset()
                layout.focus(self._reason_window)
        elif not layout.has_focus(self._main):
            layout.focus(self._main)
        self.app.invalidate()

    def _bindings(self, denying: Condition) -> KeyBindings:
        kb = KeyBindings()

        def press(event: KeyPressEvent) -> None:
            key = event.key_sequence[0].key
            name = key.value if hasattr(key, "value") else str(key)
            if name == "c-m":
                name = "enter"
            self._send(self.state.press(name))
            self._sync()

        for key in _STATE_KEYS:
            kb.add(key, filter=~denying)(press)

        @kb.add("escape", filter=denying, eager=True)  # not a prefix of Meta-keys: no wait
        def _cancel(event: KeyPressEvent) -> None:
            self.state.cancel()
            self._sync()

        @kb.add("c-c")
        def _interrupt(event: KeyPressEvent) -> None:
            if self.state.mode is not Mode.BROWSE:
                self.state.cancel()
                self._sync()
                return
            self._exit_code = EXIT_INTERRUPTED
            self.state.quit = True
            self._sync()

        return kb

    def _reason_entered(self, buffer: Buffer) -> bool:
        self._send(self.state.deny(buffer.text))
        self._sync()
        return False  # the field is cleared by the next `d`

    def _fragments(self) -> StyleAndTextTuples:
        width = self.app.output.get_size().columns
        fragments = render(self.state, width, datetime.now(UTC))
        if fragments and fragments[-1][1].endswith("\n"):  # no blank line above the reason field
            style, text = fragments[-1]
            fragments[-1] = (style, text[:-1])
        return fragments  # type: ignore[return-value]

    def screen_text(self) -> str:
        """The app's text as drawn now (tests and debugging)."""
        return fragment_list_to_text(self._fragments())


def run_approval_app(
    connection_factory: ConnectionFactory,
    reviewer: str,
    *,
    input: Input | None = None,
    output: Output | None = None,
    notify: bool = True,
) -> int:
    """Review pending requests until the reviewer quits; returns the exit code (0, or 130
    after Ctrl-C). `connection_factory()` gives a new broker connection (client.connect)."""
    return ApprovalApp(
        connection_factory, reviewer, input=input, output=output, notify=notify
    ).run()
