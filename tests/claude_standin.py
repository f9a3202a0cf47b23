"""A local stand-in for Claude Code's model API (design-notes §2), for end-to-end tests.

It answers `POST /v1/messages` with server-sent events: each turn asks for one `Bash` tool
call from a script of commands, the next turn (carrying the tool result) asks for the next
one, and after the last it ends the turn with text. Tool results are kept for assertions.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ENV_CLAUDE = "EXPACTI_TEST_CLAUDE"  # path to the `claude` binary (npm @anthropic-ai/claude-code)


def claude_binary() -> str | None:
    """The Claude Code CLI to drive, if installed (tests skip without it)."""
    explicit = os.environ.get(ENV_CLAUDE, "").strip()
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("claude")


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


class StandIn:
    """The fake model: hands out `commands` as Bash tool calls, records tool results."""

    def __init__(self, commands: list[str]) -> None:
        self.commands = list(commands)
        self.results: dict[str, str] = {}  # tool_use_id -> what the tool returned, in order
        self._next = 0
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.startswith("/v1/messages") or "count_tokens" in self.path:
                    self._json({"input_tokens": 1})
                    return
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                self.wfile.write(standin.turn(body))

            def do_GET(self) -> None:  # noqa: N802
                self._json({})

            def _json(self, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def tool_results(self) -> list[str]:
        return list(self.results.values())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def turn(self, body: dict[str, Any]) -> bytes:
        tools = [t.get("name") for t in body.get("tools") or []]
        messages = body.get("messages") or [{}]
        content = messages[-1].get("content")
        results = [
            c
            for c in (content if isinstance(content, list) else [])
            if c.get("type") == "tool_result"
        ]
        with self._lock:
            fresh = False  # side requests repeat the conversation: only new results count
            for result in results:
                key = str(result.get("tool_use_id"))
                value = result.get("content")
                if isinstance(value, list):
                    value = "".join(str(v.get("text", "")) for v in value if isinstance(v, dict))
                fresh = fresh or key not in self.results
                self.results.setdefault(key, str(value))
            main_loop = "Bash" in tools and (fresh or (self._next == 0 and not results))
            command = None
            if main_loop and self._next < len(self.commands):
                command = self.commands[self._next]
                self._next += 1
        start = {
            "type": "message_start",
            "message": {
                "id": "msg_standin",
                "type": "message",
                "role": "assistant",
                "model": body.get("model"),
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            },
        }
        out = [_event("message_start", start)]
        if command is not None:
            block = {"type": "tool_use", "id": f"toolu_{self._next}", "name": "Bash", "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps({"command": command})}
            stop = "tool_use"
        else:
            block = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": "done"}
            stop = "end_turn"
        out += [
            _event(
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": block},
            ),
            _event(
                "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
            ),
            _event("content_block_stop", {"type": "content_block_stop", "index": 0}),
            _event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 1},
                },
            ),
            _event("message_stop", {"type": "message_stop"}),
        ]
        return b"".join(out)


def claude_env(standin: StandIn, home: Path, shell: str) -> dict[str, str]:
    """The environment for `claude -p ... --allowedTools Bash` against the stand-in."""
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        SHELL=shell,
        ANTHROPIC_BASE_URL=standin.url,
        ANTHROPIC_API_KEY="sk-test-standin",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
    )
    env.pop("CLAUDE_CONFIG_DIR", None)
    return env
