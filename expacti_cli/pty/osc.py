"""OSC sequences in the child's output stream, and the OSC 133 shell marks among them.

Output arrives in chunks cut anywhere, so the scanner is a small state machine that keeps a
partial sequence between calls. Only marks that carry this session's nonce count: any program
can print `ESC ] 133 ; A BEL`, but only our shell integration knows the nonce.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ESC = 0x1B
BEL = 0x07
MAX_BODY = 4096  # longer OSC bodies are not ours: dropped, the scan goes on after them


class OscScanner:
    """Feed output chunks; get the bodies of the complete OSC sequences in them."""

    def __init__(self) -> None:
        self._body: bytearray | None = None  # inside `ESC ]` ... (None: outside)
        self._esc = False  # the previous byte was an ESC

    def feed(self, data: bytes) -> list[bytes]:
        # Fast path: most output holds no OSC and we are not inside one.
        # (a one-byte search is a memchr, ~20x faster than looking for the two-byte ESC ])
        if self._body is None and not self._esc and (b"\x1b" not in data or b"\x1b]" not in data):
            self._esc = data.endswith(b"\x1b")
            return []
        found: list[bytes] = []
        i, n = 0, len(data)
        while i < n:
            if self._body is None:
                if self._esc:
                    self._esc = False
                    if data[i] == 0x5D:  # ']'
                        self._body = bytearray()
                        i += 1
                        continue
                start = data.find(b"\x1b", i)
                if start < 0:
                    return found
                self._esc = True
                i = start + 1
                continue
            # Inside a body: it ends at BEL or at ESC \ (ST).
            if self._esc:
                self._esc = False
                if data[i] == 0x5C:  # '\'
                    found.append(bytes(self._body))
                    self._body = None
                    i += 1
                    continue
                # ESC followed by anything else abandons the OSC; that ESC starts anew.
                self._body = None
                self._esc = True
                continue
            end = _find_end(data, i)
            if end < 0:
                self._body += data[i:]
                if len(self._body) > MAX_BODY:
                    self._body = None
                return found
            self._body += data[i:end]
            if data[end] == BEL:
                if len(self._body) <= MAX_BODY:
                    found.append(bytes(self._body))
                self._body = None
            else:
                self._esc = True
            i = end + 1
        return found


def _find_end(data: bytes, start: int) -> int:
    bel = data.find(b"\x07", start)
    esc = data.find(b"\x1b", start)
    if bel < 0:
        return esc
    if esc < 0:
        return bel
    return min(bel, esc)


@dataclass(frozen=True)
class Mark:
    """One OSC 133 mark of ours: kind A (prompt), B (input), C (output), D (done)."""

    kind: str
    status: int | None = None  # D: the command's exit status
    request: str = ""  # C: the broker request the line was allowed by ("" if none)


def parse_mark(body: bytes, nonce: str) -> Mark | None:
    """Our mark from an OSC body (`133;D;0;expacti=NONCE`), or None for anything else."""
    if not body.startswith(b"133;"):
        return None
    try:
        fields = body[4:].decode("ascii").split(";")
    except UnicodeDecodeError:
        return None
    if not nonce or f"expacti={nonce}" not in fields[1:]:
        return None
    kind = fields[0]
    if kind == "D":
        status = int(fields[1]) if len(fields) > 2 and fields[1].isdigit() else None
        return Mark("D", status=status)
    if kind == "C":
        request = next((f[16:] for f in fields[1:] if f.startswith("expacti-request=")), "")
        return Mark("C", request=request)
    if kind in ("A", "B"):
        return Mark(kind)
    return None


class ExitTracker:
    """Pairs the request a line was allowed by (C mark) with its exit status (next D mark)."""

    def __init__(self, nonce: str, report: Callable[[str, int], None]) -> None:
        self.nonce = nonce
        self.report = report
        self.scanner = OscScanner()
        self._request = ""

    def feed(self, data: bytes) -> None:
        for body in self.scanner.feed(data):
            mark = parse_mark(body, self.nonce)
            if mark is None:
                continue
            if mark.kind == "C":
                self._request = mark.request
            elif mark.kind == "D":
                if self._request and mark.status is not None:
                    self.report(self._request, mark.status)
                self._request = ""
