"""The one way a command is shown to a human (design-notes §6).

A reviewer must see exactly what will run. So nothing in a command may act on the terminal
(ESC sequences, carriage returns, backspaces), hide (zero-width, bidi overrides, tag characters)
or push text out of sight (long whitespace runs). Everything else is shown as it is.

- C0/C1 controls and DEL become `\\xNN` (newline too, unless `multiline=True` keeps line breaks);
- bytes that were not valid UTF-8 (surrogate-escaped) become `\\xNN` of the original byte;
- format, separator, private-use, unassigned and non-ASCII space characters become `<U+XXXX>`;
- a literal backslash is doubled only where it would read as one of those escapes
  (`\\x41` typed by the user shows as `\\\\x41`), so the display can always be read back;
- runs of 16 or more spaces collapse into a marker that says how many there were.

Nothing is ever truncated: views that need a short form must say how long the command is.
Every view of a command (tables, prompts, logs, JSON for humans) goes through `escape_for_display`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

LONG_SPACE_RUN = 16
_HEX = "0123456789abcdefABCDEF"
_HIDDEN_CATEGORIES = frozenset({"Cf", "Co", "Cn", "Cs", "Zl", "Zp"})
# Fast path: printable ASCII with no backslash and no long space run needs no work.
_PLAIN = re.compile(r"[ -\[\]-~]*")
_SPACE_RUN = re.compile(f" {{{LONG_SPACE_RUN},}}")


@lru_cache(maxsize=4096)
def _escape_char(ch: str, multiline: bool) -> str | None:
    """The escaped form of one character, or None when it is shown as is."""
    code = ord(ch)
    if ch == "\n" and multiline:
        return None
    if code < 0x20 or code == 0x7F or 0x80 <= code <= 0x9F:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape'd byte of invalid UTF-8
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return None
    category = unicodedata.category(ch)
    if category in _HIDDEN_CATEGORIES or (category == "Zs" and ch != " "):
        return f"<U+{code:04X}>"
    return None


def escape_for_display(text: str | bytes, *, multiline: bool = False) -> str:
    """Return `text` made safe to print to a terminal, losing nothing a reviewer needs."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    if _PLAIN.fullmatch(text) and not _SPACE_RUN.search(text):
        return text
    out: list[str] = []
    length = len(text)
    i = 0
    while i < length:
        ch = text[i]
        if ch == "\\":
            nxt = text[i + 1 : i + 4]
            # Doubled only where the reader could take it for the start of an escape:
            # before a backslash, before `xNN`, or before a character we escape as `\xNN`.
            ambiguous = (
                nxt[:1] == "\\"
                or (len(nxt) == 3 and nxt[0] == "x" and nxt[1] in _HEX and nxt[2] in _HEX)
                or (nxt[:1] != "" and (_escape_char(nxt[0], multiline) or "").startswith("\\"))
            )
            out.append("\\\\" if ambiguous else "\\")
        elif ch == " ":
            j = i
            while j < length and text[j] == " ":
                j += 1
            run = j - i
            if run >= LONG_SPACE_RUN:
                out.append(f" <{run} spaces> ")
            else:
                out.append(" " * run)
            i = j
            continue
        else:
            escaped = _escape_char(ch, multiline)
            out.append(ch if escaped is None else escaped)
        i += 1
    return "".join(out)


def describe_length(text: str | bytes) -> str:
    """A short note for views that show a command in a narrow space: '(12,345 characters)'."""
    return f"({len(text):,} {'bytes' if isinstance(text, bytes) else 'characters'})"


def command_text(text: str | bytes, *, multiline: bool = False, style: str = "") -> Text:
    """A rich Text of the escaped command: never parsed as console markup."""
    from rich.text import Text

    return Text(escape_for_display(text, multiline=multiline), style=style)


def console(stderr: bool = False) -> Console:
    """A rich Console for expacti's output (colour only on a terminal, no markup surprises)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False, emoji=False)
