"""A model of what the user's terminal shows, built from the child's output (pyte underneath).

The proxy copies output at memory speed; pyte parses it one character at a time, hundreds of
times slower (well under 1 MB/s for a full-screen program's output). So `feed` only appends
to a pending buffer, parsed when someone asks what is on the screen (the prompt detector on
Enter), or when it passes PENDING_LIMIT. Before that, output that has certainly scrolled off
is dropped unparsed (`_compact`): the cut is at a CR followed by 2*rows+2 line feeds of
row-local output (text, SGR, erase or move within the line), which scroll every earlier row
away whatever row the cursor was on; what comes before the cut may be anything that leaves no
lasting state, and the lasting state it does carry (SGR, cursor keys, mouse, bracketed paste)
is kept. So `cat BIGFILE` or a long query result costs a few memchr-speed scans, and the
screen ends up exactly as a full parse would leave it (a property test checks that).

pyte is also helped where it differs from a real terminal: alternate screen buffers (DECSET
1049/1047/47), resizing (the cursor stays on the screen), charset designations in UTF-8 mode,
keypad mode, SGR with colon sub-parameters, `CSI > ...` and private CSIs it raises on (vim's
`CSI ? 4 m`), DCS/APC/PM/SOS strings (not text), and zero-width characters and stray C0
controls (pyte drops the rest of the text after one).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pyte
from pyte import modes as pyte_modes
from pyte.charsets import LAT1_MAP, MAPS, VT100_MAP
from pyte.graphics import FG_BG_256
from pyte.screens import Char, Margins, StaticDefaultDict
from wcwidth import wcwidth

# Pending output is compacted once it is this long, then parsed if compaction cannot shrink it.
PENDING_LIMIT = 64 * 1024
# An escape sequence cut off at the end of the pending buffer waits for the rest, up to this.
MAX_HELD_SEQUENCE = 16 * 1024

ALT_SCREEN_MODES = frozenset({47, 1047, 1049})
# DEC private modes a repaint restores (pyte keeps private modes shifted left by 5).
REPAINTED_PRIVATE_MODES = (1, 1000, 1002, 1003, 1004, 1005, 1006, 1015, 2004)

# Sequences handled before pyte sees the text (see the module docstring).
_SPECIAL = re.compile(
    rb"\x1b[()*+][0-9A-Za-z]"  # charset designation
    rb"|[\x0e\x0f]"  # SO / SI
    rb"|\x1b[P^_X][^\x07\x1b]*(?:\x07|\x1b\\)"  # DCS, PM, APC, SOS strings: not shown
    rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: titles, hyperlinks, marks; not shown
    rb"|\x1b\[[<=>][0-?]*[ -/]*[@-~]"  # CSI > 4;2 m and friends: not SGR
    rb"|\x1b\[\?[0-?]*[ -/]*[@-~]"  # private: pyte raises on all but h l J K (CSI ? 4 m)
    rb"|\x1b\[[0-?]*:[0-?]*[@-~]"  # colon sub-parameters (4:3m, 38:2::r:g:b m)
    rb"|\x1b\[[0-?]*[ -/]+[@-~]"  # intermediates: DECSCUSR, DECSTR, DECRQM
)
_INCOMPLETE_CSI = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*|[()*+#%]?)\Z")
_STRING_START = re.compile(rb"\x1b[P^_X\]]")
_STRING_END = re.compile(rb"\x07|\x1b\\")
_DECSTR = b"\x1b[0m\x1b[?25h\x1b[4l\x1b[?6l\x1b[r"
# Output that changes nothing but the rows it writes (text, SGR, erase in line): dropping it is
# safe once enough line feeds follow. Anything else stops compaction.
# DEC private modes that change how keys and the cursor behave, not what the screen shows:
# compaction may drop them, keeping the last state of each.
_SURFACE_MODES = frozenset({1, 12, 25, 1000, 1002, 1003, 1004, 1005, 1006, 1015, 2004, 2026})
_SURFACE_MODE = rb"\?(?:1|12|25|1000|1002|1003|1004|1005|1006|1015|2004|2026)[hl]"
# After the cut, output may only write within the row the cursor is on: text, SGR, erase or
# move within the line, and the surface modes.
_NOT_DROPPABLE = re.compile(rb"\x1b(?!\[[0-9;]*[mKCDGPX@]|\[" + _SURFACE_MODE + rb"|[=>])")
_C1_CONTROLS = (b"\xc2\x9b", b"\xc2\x9d")  # CSI and OSC as UTF-8: pyte acts on them
_SGR = re.compile(rb"\x1b\[([0-9;]*)m")
_DECSET = re.compile(rb"\x1b\[\?([0-9;]*)([hl])")
# Before the cut, output must not hold these: they set state the screen keeps (margins,
# charsets, saved cursor, insert mode, alternate buffer...). Private modes are looked at
# one by one (_surface_modes).
_STATEFUL = re.compile(rb"\x1b(?:\[(?:s|u|4|20|!|[0-9;]*r)|[()*+78#%c\]P^_X])")

_HEX_TO_256 = {}
for _index in range(255, -1, -1):  # the lowest index wins, as applications usually send it
    _HEX_TO_256[FG_BG_256[_index]] = _index
_NAMED = ("black", "red", "green", "brown", "blue", "magenta", "cyan", "white")


@dataclass(frozen=True)
class Snapshot:
    """One consistent view of the screen (what the prompt detector reads)."""

    rows: tuple[str, ...]  # trailing blanks removed
    full_rows: tuple[bool, ...]  # the row's last cell holds a character
    cursor: tuple[int, int]
    alternate: bool
    # The last OSC 133 mark's body and where the cursor was when it came, if that spot is
    # still on the screen (rows scrolled since are accounted for).
    mark: tuple[bytes, int, int] | None


class _Screen(pyte.Screen):
    """pyte's Screen with alternate buffers, keypad mode, and tolerant text drawing."""

    def __init__(self, columns: int, lines: int) -> None:
        self.alternate = False
        self.keypad_application = False
        self.reverse_video = False
        self._main: tuple[Any, tuple[int, int, Char]] | None = None
        self.scrolled = 0  # rows scrolled off so far (to follow a position as rows move up)
        super().__init__(columns, lines)

    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if self.cursor.y == bottom and top == 0:
            self.scrolled += 1
        super().index()

    def reset(self) -> None:
        super().reset()
        if self._main is not None:
            self.buffer = self._main[0]
            self.buffer.clear()
        self.alternate = False
        self.keypad_application = False
        self.reverse_video = False
        self._main = None

    def keypad_application_mode(self) -> None:
        self.keypad_application = True

    def keypad_numeric_mode(self) -> None:
        self.keypad_application = False

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            modes = self._private_modes(modes, on=True)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            modes = self._private_modes(modes, on=False)
        super().reset_mode(*modes, **kwargs)

    def _private_modes(self, modes: tuple[int, ...], on: bool) -> tuple[int, ...]:
        """Handle the private modes pyte gets wrong; return the rest for pyte."""
        rest = []
        for mode in modes:
            if mode in ALT_SCREEN_MODES:
                self._switch_buffer(on, save_cursor=mode == 1049)
            elif mode == 1048:
                self.save_cursor() if on else self.restore_cursor()
            elif mode == 5:
                self.reverse_video = on  # the terminal inverts; the cells stay as they are
            elif mode != 3:  # DECCOLM: terminals keep their width; so do we
                rest.append(mode)
        return tuple(rest)

    def _switch_buffer(self, to_alternate: bool, save_cursor: bool) -> None:
        if to_alternate == self.alternate:
            return
        self.dirty.update(range(self.lines))
        if to_alternate:
            cursor = (self.cursor.x, self.cursor.y, self.cursor.attrs)
            self._main = (self.buffer, cursor)
            self.buffer = defaultdict(lambda: StaticDefaultDict(self.default_char))
            self.alternate = True
            return
        assert self._main is not None
        self.buffer, (x, y, attrs) = self._main
        self._main = None
        self.alternate = False
        if save_cursor:
            self.cursor.x, self.cursor.y = min(x, self.columns - 1), min(y, self.lines - 1)
            self.cursor.attrs = attrs

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        # pyte drops rows from the top and leaves the cursor below the screen; a terminal drops
        # only as many top rows as keep the cursor on the screen (xterm, VTE).
        lines, columns = lines or self.lines, columns or self.columns
        if (lines, columns) == (self.lines, self.columns):
            return
        drop = max(0, self.cursor.y - (lines - 1))
        buffers = [self.buffer] if self._main is None else [self.buffer, self._main[0]]
        for buffer in buffers:
            rows = {y - drop: buffer[y] for y in list(buffer) if drop <= y < drop + lines}
            buffer.clear()
            buffer.update(rows)
            for row in rows.values():
                for x in [x for x in row if x >= columns]:
                    del row[x]
        self.cursor.y -= drop
        self.cursor.x = min(self.cursor.x, columns)
        if columns > self.columns:
            self.tabstops.update(range(self.columns - self.columns % 8 + 8, columns, 8))
        self.lines, self.columns = lines, columns
        self.savepoints.clear()
        self.dirty.update(range(lines))
        self.set_margins()

    def draw(self, data: str) -> None:
        if not (data.isascii() and data.isprintable()):
            # pyte stops drawing at a character of width <= 0 that does not combine (a stray
            # C0 control, a zero-width space); a terminal skips it and goes on.
            data = "".join(c for c in data if wcwidth(c) > 0 or unicodedata.combining(c))
        super().draw(data)


class _Stream(pyte.ByteStream):
    escape = dict(
        pyte.ByteStream.escape,
        **{"=": "keypad_application_mode", ">": "keypad_numeric_mode"},
    )


class ScreenModel:
    """What the terminal shows: feed it the child's output, ask for lines, cursor, a repaint."""

    def __init__(self, rows: int, cols: int) -> None:
        self._screen = _Screen(max(cols, 1), max(rows, 1))
        self._stream = _Stream(self._screen)
        self._pending = bytearray()
        self._lock = threading.Lock()
        self.compacted = 0  # bytes dropped unparsed (they scrolled away), for benchmarks
        self._mark: tuple[bytes, int, int, int] | None = None  # body, row, col, scrolled

    # -- input ------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Take a chunk of the child's output (cut anywhere). Cheap: parsing is deferred."""
        with self._lock:
            self._pending += data
            if len(self._pending) > PENDING_LIMIT:
                self._compact()
                if len(self._pending) > PENDING_LIMIT:
                    self._parse()

    def resize(self, rows: int, cols: int) -> None:
        with self._lock:
            self._parse()
            self._screen.resize(max(rows, 1), max(cols, 1))

    # -- queries ----------------------------------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        return self._screen.lines, self._screen.columns

    @property
    def cursor(self) -> tuple[int, int]:
        """(row, col), 0-based; col may equal the width (after the last column, before wrap)."""
        with self._lock:
            self._parse()
            return self._screen.cursor.y, self._screen.cursor.x

    @property
    def in_alternate_screen(self) -> bool:
        with self._lock:
            self._parse()
            return self._screen.alternate

    @property
    def bracketed_paste(self) -> bool:
        """The program asked for pasted text to come between ESC[200~ and ESC[201~."""
        with self._lock:
            self._parse()
            return (2004 << 5) in self._screen.mode

    @property
    def cursor_hidden(self) -> bool:
        with self._lock:
            self._parse()
            return self._screen.cursor.hidden

    def line(self, row: int) -> str:
        """The text of a row, trailing blanks removed; "" for a row off the screen."""
        with self._lock:
            self._parse()
            return self._line(row)

    def lines(self) -> list[str]:
        with self._lock:
            self._parse()
            return [self._line(row) for row in range(self._screen.lines)]

    def cursor_line(self) -> str:
        with self._lock:
            self._parse()
            return self._line(self._screen.cursor.y)

    def row_is_full(self, row: int) -> bool:
        """The row's last cell holds a character: text typed past it wrapped onto the next."""
        with self._lock:
            self._parse()
            if not 0 <= row < self._screen.lines:
                return False
            return self._screen.buffer[row][self._screen.columns - 1].data not in (" ", "")

    def snapshot(self) -> Snapshot:
        with self._lock:
            self._parse()
            s = self._screen
            mark = None
            if self._mark is not None:
                body, row, col, scrolled = self._mark
                row -= s.scrolled - scrolled
                if 0 <= row < s.lines:
                    mark = (body, row, col)
            last = s.columns - 1
            return Snapshot(
                rows=tuple(self._line(y) for y in range(s.lines)),
                full_rows=tuple(s.buffer[y][last].data not in (" ", "") for y in range(s.lines)),
                cursor=(s.cursor.y, s.cursor.x),
                alternate=s.alternate,
                mark=mark,
            )

    def _line(self, row: int) -> str:
        screen = self._screen
        if not 0 <= row < screen.lines:
            return ""
        cells = screen.buffer[row]
        text = []
        wide = False
        for x in range(screen.columns):
            data = cells[x].data
            if data == "" and not wide:
                data = " "  # the right half of a wide character whose left half was overwritten
            wide = bool(data) and wcwidth(data[0]) == 2
            text.append(data)
        return "".join(text).rstrip()

    # -- repaint ----------------------------------------------------------------------------

    def repaint(self) -> bytes:
        """Bytes that redraw the visible screen on a terminal of the same size.

        Clears the screen, draws every row with its colours, then restores the cursor (position,
        visibility, colours for what the program prints next) and the modes a program may have
        set (cursor keys, keypad, mouse, bracketed paste, autowrap, insert, margins, charsets).
        It does not switch between the main and the alternate buffer: it draws on whichever the
        terminal shows.
        """
        with self._lock:
            self._parse()
            return _repaint(self._screen)

    # -- internals --------------------------------------------------------------------------

    def _parse(self) -> None:
        """Run the pending output through pyte, keeping an incomplete final sequence back."""
        data = self._pending
        if not data:
            return
        hold = _held_tail(data)
        chunk = bytes(data[:hold])
        del data[:hold]
        self._feed_pyte(chunk)

    def _feed(self, data: bytes) -> None:
        try:
            self._stream.feed(data)
        except Exception:  # noqa: BLE001 - a model that crashes would take the proxy down
            # pyte gave up on a sequence; its parser restarts, the rest of the output counts.
            self._stream = _Stream(self._screen)

    def _feed_pyte(self, data: bytes) -> None:
        screen, feed = self._screen, self._feed
        start = 0
        for match in _SPECIAL.finditer(data):
            if match.start() > start:
                feed(data[start : match.start()])
            start = match.end()
            seq = match.group()
            if seq[0] == 0x0E:
                screen.shift_out()
            elif seq[0] == 0x0F:
                screen.shift_in()
            elif seq[1:2] in b"()*+":
                code = chr(seq[2])
                if code in MAPS and seq[1:2] in b"()":
                    screen.define_charset(code, chr(seq[1]))
            elif seq[1:2] == b"[":
                replacement = _rewrite_csi(seq)
                if replacement:
                    feed(replacement)
            elif seq.startswith(b"\x1b]133;"):
                body = seq[2:-1] if seq.endswith(b"\x07") else seq[2:-2]
                cursor = screen.cursor
                self._mark = (body, cursor.y, cursor.x, screen.scrolled)
        if start < len(data):
            feed(data[start:])

    def _compact(self) -> None:
        """Drop bulk output that has certainly scrolled off, unparsed (see the module doc).

        The cut is at a CR followed by 2*rows+2 line feeds of text (SGR and erase-in-line
        allowed): whatever the cursor row at the cut, those scroll every earlier row away. What
        comes before the cut may be anything that sets no lasting state; its SGR state is kept.
        Every check is a C-speed find, so a `cat BIGFILE` costs almost nothing here."""
        buf = self._pending
        escapes = buf.find(b"\x1b") >= 0
        lf = len(buf)
        for _ in range(2 * self._screen.lines + 2):
            lf = buf.rfind(b"\n", 0, lf)
            if lf < 0:
                return
        cut = buf.rfind(b"\r", 0, lf)
        if cut <= 0 or self._screen.margins is not None:
            return
        if buf.find(b"\x0e") >= 0 or buf.find(b"\x0f") >= 0:
            return
        if buf.find(b"\xc2") >= 0 and any(buf.find(c1) >= 0 for c1 in _C1_CONTROLS):
            return
        sgr = b""
        if escapes:
            # Regexes with a literal first byte: sre skips to each ESC at memchr speed.
            if _NOT_DROPPABLE.search(buf, cut, _held_tail(buf)) or _STATEFUL.search(buf, 0, cut):
                return
            modes = _surface_modes(buf, cut)
            if modes is None:
                return
            sgr = modes + _effective_sgr(buf, 0, cut)
        self.compacted += cut - len(sgr)
        buf[:cut] = sgr


def _held_tail(data: bytearray) -> int:
    """Where an incomplete escape sequence at the end starts (len(data) if there is none)."""
    hold = len(data)
    last_esc = data.rfind(b"\x1b", max(0, len(data) - MAX_HELD_SEQUENCE))
    if last_esc < 0:
        return hold
    if _INCOMPLETE_CSI.match(data, last_esc):
        hold = last_esc
    # An unterminated OSC/DCS/... string: everything from its start waits for the terminator.
    window = max(0, len(data) - MAX_HELD_SEQUENCE)
    string_start = None
    for found in _STRING_START.finditer(data, window):
        string_start = found
    if string_start is not None and not _STRING_END.search(data, string_start.end()):
        hold = min(hold, string_start.start())
    return hold


def _rewrite_csi(seq: bytes) -> bytes:
    """What pyte should see instead of a CSI it would misparse (b"" to drop it)."""
    body, final = seq[2:-1], seq[-1:]
    if body[:1] in (b"<", b"=", b">"):
        return b""
    if body[:1] == b"?":
        plain = final in b"hlJK" and all(c in b"0123456789;" for c in body[1:])
        return seq if plain else b""
    if final == b"p" and body == b"!":
        return _DECSTR  # soft reset
    if final != b"m" or not body or body[-1:] in b" !\"#$%&'()*+,-./":
        return b""
    params: list[bytes] = []
    for param in body.split(b";"):
        if b":" not in param:
            params.append(param)
            continue
        parts = param.split(b":")
        if parts[0] in (b"38", b"48") and len(parts) >= 3:
            if parts[1] == b"5":
                params += [parts[0], b"5", parts[2] or b"0"]
            elif parts[1] == b"2" and len(parts) >= 5:
                params += [parts[0], b"2", *(p or b"0" for p in parts[-3:])]
        elif parts[0] == b"4":
            params.append(b"24" if parts[1:2] == [b"0"] else b"4")
    return b"\x1b[" + b";".join(params) + b"m" if params else b""


def _surface_modes(buf: bytearray, end: int) -> bytes | None:
    """The last state of each private mode set in buf[:end], as sequences; None when one of
    them changes what the screen shows (alternate buffer, origin, autowrap...)."""
    last: dict[int, bytes] = {}
    for found in _DECSET.finditer(buf, 0, end):
        for param in found.group(1).split(b";"):
            mode = int(param) if param.isdigit() else -1
            if mode not in _SURFACE_MODES:
                return None
            last[mode] = found.group(2)
    keypad = max(buf.rfind(b"\x1b=", 0, end), buf.rfind(b"\x1b>", 0, end))
    out = b"".join(b"\x1b[?%d%s" % (mode, state) for mode, state in last.items())
    return out + (bytes(buf[keypad : keypad + 2]) if keypad >= 0 else b"")


def _effective_sgr(buf: bytearray, start: int, end: int) -> bytes:
    """The SGR sequences in buf[start:end] that still matter after it (since the last reset)."""
    start = max(start, buf.rfind(b"\x1b[0m", start, end), buf.rfind(b"\x1b[m", start, end))
    found = [m.group() for m in _SGR.finditer(buf, start, end)]
    for i in range(len(found) - 1, -1, -1):
        params = found[i][2:-1]
        if params in (b"", b"0") or params.startswith(b"0;"):
            found = found[i:]
            break
    return b"".join(found[-32:])


def _colour(value: str, background: bool) -> str:
    base = 40 if background else 30
    if value == "default":
        return str(base + 9)
    if value in _NAMED:
        return str(base + _NAMED.index(value))
    if value.startswith("bright") and value[6:] in _NAMED:
        return str(base + 60 + _NAMED.index(value[6:]))
    if value in _HEX_TO_256:
        return f"{base + 8};5;{_HEX_TO_256[value]}"
    try:
        r, g, b = int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    except ValueError:
        return str(base + 9)
    return f"{base + 8};2;{r};{g};{b}"


def _sgr(char: Char) -> str:
    params = ["0"]
    if char.bold:
        params.append("1")
    if char.italics:
        params.append("3")
    if char.underscore:
        params.append("4")
    if char.blink:
        params.append("5")
    if char.reverse:
        params.append("7")
    if char.strikethrough:
        params.append("9")
    if char.fg != "default":
        params.append(_colour(char.fg, background=False))
    if char.bg != "default":
        params.append(_colour(char.bg, background=True))
    return "\x1b[" + ";".join(params) + "m"


_PLAIN = Char(" ")


def _style(char: Char) -> Char:
    return char._replace(data=" ")


def _drawable(cells: Any, columns: int) -> list[tuple[int, str, Char]]:
    """A row's cells as (column, text, cell), without the right halves of wide characters;
    a right half whose left half was overwritten (pyte leaves it) is a blank, as on a terminal."""
    row = []
    wide = False
    for x in range(columns):
        cell = cells[x]
        data = cell.data
        if data == "":
            if wide:
                wide = False
                continue
            data = " "
        wide = wcwidth(data[0]) == 2
        row.append((x, data, cell))
    return row


def _repaint(screen: _Screen) -> bytes:
    out = ["\x1b[0m\x1b(B\x1b)0\x0f\x1b[4l\x1b[?6l\x1b[r\x1b[H\x1b[2J"]
    columns = screen.columns
    for y in range(screen.lines):
        cells = screen.buffer.get(y)
        if not cells:
            continue
        row = _drawable(cells, columns)
        # Up to the last cell that differs from a cleared one (blanks with colours count).
        while row and row[-1][1] == " " and _style(row[-1][2]) == _PLAIN:
            row.pop()
        style = _PLAIN
        col = -1  # where the terminal's cursor is on this row (-1: not placed yet)
        for x, data, cell in row:
            if x != col:  # after a wide character cut in two, or at the row's start
                out.append(f"\x1b[{y + 1};{x + 1}H")
            cell_style = _style(cell)
            if cell_style != style:
                out.append(_sgr(cell))
                style = cell_style
            out.append(data)
            col = x + max(wcwidth(data[0]), 1)
        if style != _PLAIN:
            out.append("\x1b[0m")
    out.append(_modes(screen))
    return "".join(out).encode("utf-8", "replace")


def _modes(screen: _Screen) -> str:
    """The tail of a repaint: margins, modes, charsets, cursor, colours for what comes next."""
    out = []
    margins: Margins | None = screen.margins
    if margins is not None:
        out.append(f"\x1b[{margins.top + 1};{margins.bottom + 1}r")
    for mode in REPAINTED_PRIVATE_MODES:
        if (mode << 5) in screen.mode:
            out.append(f"\x1b[?{mode}h")
    out.append("\x1b[?7h" if pyte_modes.DECAWM in screen.mode else "\x1b[?7l")
    if screen.reverse_video:
        out.append("\x1b[?5h")
    if pyte_modes.IRM in screen.mode:
        out.append("\x1b[4h")
    if pyte_modes.LNM in screen.mode:
        out.append("\x1b[20h")
    out.append("\x1b=" if screen.keypad_application else "\x1b>")
    if screen.g0_charset is VT100_MAP:
        out.append("\x1b(0")
    if screen.g1_charset is LAT1_MAP:
        out.append("\x1b)B")
    if screen.charset:
        out.append("\x0e")
    row, col = screen.cursor.y, min(screen.cursor.x, screen.columns - 1)
    if pyte_modes.DECOM in screen.mode and margins is not None:
        out.append("\x1b[?6h")
        row -= margins.top
    out.append(f"\x1b[{row + 1};{col + 1}H")
    last = screen.buffer[screen.cursor.y][col]
    if screen.cursor.x == screen.columns and last.data and pyte_modes.DECAWM in screen.mode:
        # The cursor is past the last column (the next character wraps): redrawing that
        # cell puts the terminal in the same state.
        out.append(_sgr(last) + last.data)
    out.append(_sgr(screen.cursor.attrs))
    out.append("\x1b[?25l" if screen.cursor.hidden else "\x1b[?25h")
    return "".join(out)
