"""Keys from raw terminal input, for the approval overlay inside `expacti run`.

The overlay reads the user's keyboard in raw mode, without a toolkit. Everything that starts
with ESC is consumed as one unit (CSI, SS3, OSC, DCS...): an arrow key is one key, and a
terminal's answer to a query (which the program may have provoked, and which may echo text
the program chose, such as a window title) is dropped whole instead of being read as the
letters inside it. A bracketed paste is dropped whole too: a decision is a key press.

    reader = KeyReader()
    reader.feed(b"a\\x1b[A\\x1b")  # ["a", "up", "escape"]
"""

from __future__ import annotations

ESC = 0x1B
MAX_PENDING = 4096  # an unterminated sequence longer than this is dropped, not waited for
PASTE_START = b"\x1b[200~"
PASTE_END = b"\x1b[201~"

_CONTROL_NAMES = {
    0x0D: "enter",
    0x0A: "enter",
    0x09: "tab",
    0x7F: "backspace",
    0x08: "backspace",
    0x00: "c-space",
}
_CSI_FINAL = {ord("A"): "up", ord("B"): "down", ord("C"): "right", ord("D"): "left"}
_TILDE_KEYS = {"3": "delete", "5": "pageup", "6": "pagedown"}
# Keys the kitty keyboard protocol (and xterm's modifyOtherKeys) send as numbers.
_NUMBERED = {13: "enter", 27: "escape", 127: "backspace", 9: "tab", 8: "backspace"}
_CTRL = 4  # bit of the (modifiers - 1) field


def _control(byte: int) -> str:
    if byte in _CONTROL_NAMES:
        return _CONTROL_NAMES[byte]
    return "c-" + chr(byte + 0x60)  # 0x03 -> "c-c"


def _numbered(code: int, modifiers: int) -> str | None:
    """A key sent as its code point with a modifier field (kitty `CSI code;mods u`)."""
    if code in _NUMBERED:
        return _NUMBERED[code]
    if not 0x20 <= code < 0x110000 or 0xD800 <= code < 0xE000:
        return None
    if (modifiers - 1) & _CTRL if modifiers else False:
        return "c-" + chr(code).lower()
    return chr(code)


def _csi_key(params: bytes, final: int) -> str | None:
    if final in _CSI_FINAL:
        return _CSI_FINAL[final]
    text = params.decode("ascii", "replace")
    fields = text.split(";")
    if final == ord("u") and not text.startswith(("?", ">", "<", "=")):
        # kitty: code[:alternates];modifiers[:event]; a key release (event 3) is no key
        code = fields[0].split(":")[0]
        mods = fields[1].split(":") if len(fields) > 1 else ["1"]
        if len(mods) > 1 and mods[1] == "3":
            return None
        if code.isdigit() and mods[0].isdigit():
            return _numbered(int(code), int(mods[0]))
        return None
    if final == ord("~"):
        if len(fields) == 3 and fields[0] == "27" and fields[1].isdigit() and fields[2].isdigit():
            return _numbered(int(fields[2]), int(fields[1]))  # xterm modifyOtherKeys
        return _TILDE_KEYS.get(fields[0])
    return None


class KeyReader:
    """Turns chunks of raw input into key names ("a", "enter", "escape", "up", "c-c", ...)."""

    def __init__(self) -> None:
        self._rest = b""  # an escape sequence cut off at the end of the last chunk
        self._pasting = False

    def feed(self, data: bytes) -> list[str]:
        data = self._rest + data if len(self._rest) < MAX_PENDING else data
        self._rest = b""
        keys: list[str] = []
        i, n = 0, len(data)
        while i < n:
            if self._pasting:
                end = data.find(PASTE_END, i)
                if end < 0:
                    # Keep a tail that may be the start of the end marker.
                    self._rest = data[max(i, n - len(PASTE_END) + 1) :]
                    return keys
                self._pasting = False
                i = end + len(PASTE_END)
                continue
            byte = data[i]
            if byte == ESC:
                consumed, key = self._escape(data, i)
                if consumed == 0:  # incomplete: wait for the rest
                    self._rest = data[i:]
                    return keys
                if key:
                    keys.append(key)
                i += consumed
                continue
            if byte < 0x20 or byte == 0x7F:
                keys.append(_control(byte))
                i += 1
                continue
            # One UTF-8 character (an invalid byte is skipped).
            length = 1 if byte < 0x80 else 2 if byte >> 5 == 6 else 3 if byte >> 4 == 14 else 4
            if byte >= 0x80 and byte >> 6 == 2 or byte >= 0xF8:
                i += 1
                continue
            if i + length > n:
                self._rest = data[i:]
                return keys
            try:
                keys.append(data[i : i + length].decode("utf-8"))
            except UnicodeDecodeError:
                pass
            i += length
        return keys

    def _escape(self, data: bytes, i: int) -> tuple[int, str | None]:
        """(bytes consumed, key or None) for the sequence at `i`; (0, None) if incomplete.

        A lone ESC at the very end of a chunk is the Escape key: a terminal sends a whole
        sequence in one write, so a sequence cut there is rare, and waiting would make the
        Escape key feel stuck."""
        n = len(data)
        if i + 1 >= n:
            return 1, "escape"
        kind = data[i + 1]
        if kind == ord("["):
            j = i + 2
            while j < n and 0x20 <= data[j] <= 0x3F:
                j += 1
            if j >= n:
                return 0, None
            if data[i : j + 1] == PASTE_START:
                self._pasting = True
                return j + 1 - i, None
            if j == i + 2 and data[j] == ord("M"):
                # An X10 mouse report: three raw bytes follow (a click could read as "a").
                return (j + 4 - i, None) if j + 3 < n else (0, None)
            return j + 1 - i, _csi_key(data[i + 2 : j], data[j])
        if kind == ord("O"):
            if i + 2 >= n:
                return 0, None
            return 3, _CSI_FINAL.get(data[i + 2])
        if kind in (ord("]"), ord("P"), ord("_"), ord("^"), ord("X")):
            # A string sequence (OSC, DCS, APC, PM, SOS): up to BEL or ST, all dropped.
            j = i + 2
            while j < n:
                if data[j] == 0x07:
                    return j + 1 - i, None
                if data[j] == ESC and j + 1 < n and data[j + 1] == ord("\\"):
                    return j + 2 - i, None
                j += 1
            return 0, None
        if kind == ESC:
            return 1, "escape"
        if kind < 0x20:
            return 1, "escape"
        return 2, None  # Alt+key: not a key the overlay uses
