"""`--record FILE`: the session as an asciicast v2 file, written off the proxy loop.

The loop only puts (time, bytes) on a queue; a thread decodes, encodes and writes, so a slow
disk never stalls the terminal. Format: a JSON header line, then one `[time, code, data]`
array per line ("o" output, "r" resize as "COLSxROWS").
"""

from __future__ import annotations

import codecs
import json
import queue
import threading
import time
from pathlib import Path
from typing import IO

_STOP = object()


def header(cols: int, rows: int, env: dict[str, str], title: str = "") -> dict[str, object]:
    head: dict[str, object] = {
        "version": 2,
        "width": cols,
        "height": rows,
        "timestamp": int(time.time()),
        "env": {k: env[k] for k in ("SHELL", "TERM") if k in env},
    }
    if title:
        head["title"] = title
    return head


class AsciicastWriter:
    """Records output and resizes; `close` flushes everything and ends the thread."""

    def __init__(self, path: Path, cols: int, rows: int, env: dict[str, str], title: str = ""):
        self._file: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._file.write(json.dumps(header(cols, rows, env, title)) + "\n")
        self._start = time.monotonic()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        # Output arrives in arbitrary chunks: a UTF-8 character may be split across two.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.error: OSError | None = None  # the first write error (later output is dropped)
        self._thread = threading.Thread(target=self._drain, name="asciicast", daemon=True)
        self._thread.start()

    def output(self, data: bytes) -> None:
        """Called from the proxy loop: never blocks."""
        self._queue.put((time.monotonic() - self._start, "o", data))

    def resize(self, rows: int, cols: int) -> None:
        self._queue.put((time.monotonic() - self._start, "r", f"{cols}x{rows}".encode()))

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()
        try:
            self._file.close()
        except OSError as exc:
            self.error = self.error or exc

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                tail = self._decoder.decode(b"", final=True)
                if tail:
                    self._write(time.monotonic() - self._start, "o", tail)
                try:
                    self._file.flush()
                except OSError as exc:
                    self.error = self.error or exc
                return
            assert isinstance(item, tuple)
            when, code, data = item
            text = self._decoder.decode(data) if code == "o" else data.decode()
            if text:
                self._write(when, code, text)

    def _write(self, when: float, code: str, text: str) -> None:
        if self.error is not None:
            return
        line = json.dumps([round(when, 6), code, text], ensure_ascii=False)
        try:
            self._file.write(line + "\n")
        except OSError as exc:  # disk full: the session goes on, the recording stops
            self.error = exc
