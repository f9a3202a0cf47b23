"""A local stand-in for the Responses API that Codex CLI talks to (design-notes §2).

Each `POST /v1/responses` answers with server-sent events: an `exec_command` function call
from a script of commands, then (once those run out) a closing message. The function-call
outputs Codex sends back are kept for assertions.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ENV_CODEX = "EXPACTI_TEST_CODEX"  # path to the `codex` binary (npm @openai/codex)


def codex_binary() -> str | None:
    explicit = os.environ.get(ENV_CODEX, "").strip()
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("codex")


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


class ResponsesStandIn:
    def __init__(self, commands: list[str]) -> None:
        self.commands = list(commands)
        self.outputs: dict[str, str] = {}  # call_id -> what Codex reported back
        self._next = 0
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                payload = b'{"data": [], "models": []}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                self.wfile.write(standin.turn(body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> ResponsesStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def turn(self, body: dict[str, Any]) -> bytes:
        items = body.get("input") if isinstance(body.get("input"), list) else []
        with self._lock:
            for item in items:
                if isinstance(item, dict) and item.get("type") == "function_call_output":
                    self.outputs.setdefault(str(item.get("call_id")), str(item.get("output")))
            command = None
            if self._next < len(self.commands):
                command = self.commands[self._next]
                self._next += 1
                number = self._next
        events = [_event("response.created", {"type": "response.created", "response": {"id": "r"}})]
        if command is not None:
            item = {
                "type": "function_call",
                "id": f"fc_{number}",
                "call_id": f"call_{number}",
                "name": "exec_command",
                "arguments": json.dumps({"cmd": command}),
            }
            events.append(
                _event(
                    "response.output_item.added",
                    {"type": "response.output_item.added", "output_index": 0, "item": item},
                )
            )
        else:
            item = {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "done"}],
            }
        events.append(
            _event(
                "response.output_item.done",
                {"type": "response.output_item.done", "output_index": 0, "item": item},
            )
        )
        usage = {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
        events.append(
            _event(
                "response.completed",
                {"type": "response.completed", "response": {"id": "r", "usage": usage}},
            )
        )
        return b"".join(events)
