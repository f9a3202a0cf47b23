"""Shell words: turning a tree-sitter word node into its literal value (quote removal).

A word is literal when the shell would pass it unchanged whatever the environment holds;
a dynamic word keeps its source text for the parts that are expansions (`$x`, `$(...)`).
Globs are left as written and do not count as dynamic.
"""

from __future__ import annotations

from tree_sitter import Node

from expacti_cli.analysis.parser import node_text

# Node types that run a command while the word is expanded.
SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
_EXPANSIONS = frozenset(
    {"simple_expansion", "expansion", "arithmetic_expansion", "command_substitution"}
)


class Word:
    """One shell word after quote removal."""

    __slots__ = ("value", "dynamic", "subs", "ansi", "node")

    def __init__(
        self,
        value: str,
        dynamic: bool = False,
        subs: list[Node] | None = None,
        ansi: bool = False,
        node: Node | None = None,
    ) -> None:
        self.value = value
        self.dynamic = dynamic  # contains an expansion: the value is source text
        self.subs = subs  # substitution nodes inside the word, run when it is expanded
        self.ansi = ansi  # contains a $'...' string with backslash escapes
        self.node = node

    @property
    def pure_substitution(self) -> bool:
        """The whole word is one `$(...)`/backtick/`<(...)`, quoted or not."""
        if self.node is None or not self.subs or len(self.subs) != 1:
            return False
        return self.node.type in SUBSTITUTIONS or self.value == node_text(self.subs[0])

    @property
    def substitution(self) -> Node | None:
        """The substitution node when the word is only that."""
        return self.subs[0] if self.pure_substitution and self.subs else None

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Word({self.value!r}, dynamic={self.dynamic})"


def literal(value: str) -> Word:
    """A word built from text that needs no further shell processing."""
    return Word(value)


def unescape_unquoted(text: str) -> str:
    """Quote removal for an unquoted word: `\\x` -> `x`, backslash-newline vanishes."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt != "\n":
                out.append(nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def unescape_double_quoted(text: str) -> str:
    """Inside double quotes only `\\$`, `\\``, `\\"`, `\\\\` and backslash-newline are escapes."""
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
            if text[i + 1] != "\n":
                out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
_HEX = frozenset("0123456789abcdefABCDEF")
_OCT = frozenset("01234567")


def decode_escapes(text: str, *, octal_needs_zero: bool = False) -> tuple[str, bool]:
    """Decode C-style escapes as `$'...'`, `echo -e` and printf do.

    Returns the decoded text and whether a numeric escape (hex, octal, unicode) was seen:
    those are how a payload hides its letters. `octal_needs_zero` is echo's `\\0NNN` form.
    """
    if "\\" not in text:
        return text, False
    out: list[str] = []
    numeric = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt == "x":
            j = i + 2
            while j < n and j < i + 4 and text[j] in _HEX:
                j += 1
            if j == i + 2:
                out.append("\\x")
            else:
                out.append(chr(int(text[i + 2 : j], 16)))
                numeric = True
            i = j
        elif nxt in "uU":
            width = 4 if nxt == "u" else 8
            j = i + 2
            while j < n and j < i + 2 + width and text[j] in _HEX:
                j += 1
            if j == i + 2:
                out.append(text[i : i + 2])
            else:
                code = int(text[i + 2 : j], 16)
                out.append(chr(code) if code <= 0x10FFFF else "\ufffd")
                numeric = True
            i = j
        elif nxt in _OCT:
            start = i + 1
            if octal_needs_zero:
                if nxt != "0":
                    out.append(text[i : i + 2])
                    i += 2
                    continue
                start = i + 2
            j = start
            while j < n and j < start + 3 and text[j] in _OCT:
                j += 1
            out.append(chr(int(text[start:j] or "0", 8) & 0xFF))
            numeric = True
            i = j
        elif nxt == "c" and i + 2 < n:
            out.append(chr(ord(text[i + 2]) & 0x1F))
            i += 3
        else:
            out.append(text[i : i + 2])
            i += 2
    return "".join(out), numeric


def find_substitutions(node: Node) -> list[Node]:
    """Every `$(...)`, backtick and `<(...)` inside node, outermost only."""
    found: list[Node] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type in SUBSTITUTIONS:
            found.append(cur)
            continue
        if cur.child_count:
            stack.extend(reversed(cur.children))
    return found


def evaluate(node: Node) -> Word:
    """Quote removal for one argument node; never raises."""
    t = node.type
    if t == "word":
        text = node_text(node)
        return Word(unescape_unquoted(text), node=node)
    if t == "number":
        return Word(node_text(node), node=node)
    if t == "raw_string":
        text = node_text(node)
        return Word(text[1:-1] if len(text) >= 2 and text.endswith("'") else text[1:], node=node)
    if t == "ansi_c_string":
        text = node_text(node)
        inner = text[2:-1] if len(text) >= 3 and text.endswith("'") else text[2:]
        value, _numeric = decode_escapes(inner)
        return Word(value, ansi="\\" in inner, node=node)
    if t in SUBSTITUTIONS:
        return Word(node_text(node), dynamic=True, subs=[node], node=node)
    if t == "simple_expansion":
        return Word(node_text(node), dynamic=True, node=node)
    if t in ("string", "translated_string", "concatenation"):
        return _evaluate_compound(node)
    # expansion, arithmetic_expansion, brace expressions, ERROR fragments...
    subs = find_substitutions(node) if node.child_count else []
    dynamic = t in _EXPANSIONS or bool(subs)
    return Word(unescape_unquoted(node_text(node)), dynamic=dynamic, subs=subs or None, node=node)


def _evaluate_compound(node: Node) -> Word:
    """A double-quoted string or a concatenation of word pieces."""
    if node.type == "concatenation":
        return _evaluate_concatenation(node)
    # tree-sitter spreads the whitespace inside quotes over neighbouring nodes (the closing
    # quote token may read `  "`): rebuild the value from byte ranges so nothing is lost.
    raw = node.text or b""
    base = node.start_byte
    inner_start = 2 if raw.startswith(b'$"') else 1
    inner_end = len(raw) - 1 if len(raw) > inner_start and raw.endswith(b'"') else len(raw)
    pieces: list[str] = []
    dynamic = False
    subs: list[Node] = []
    pos = inner_start
    for child in node.children:
        if child.type not in _EXPANSIONS and child.type != "process_substitution":
            continue
        start = child.start_byte - base
        end = child.end_byte - base
        if start > pos:
            pieces.append(_dq(raw[pos:start]))
        pieces.append(raw[max(start, pos) : end].decode("utf-8", "surrogateescape"))
        dynamic = True
        if child.type == "command_substitution":
            subs.append(child)
        elif child.child_count:
            subs.extend(find_substitutions(child))
        pos = end
    if inner_end > pos:
        pieces.append(_dq(raw[pos:inner_end]))
    return Word("".join(pieces), dynamic=dynamic, subs=subs or None, node=node)


def _dq(raw: bytes) -> str:
    return unescape_double_quoted(raw.decode("utf-8", "surrogateescape"))


def _evaluate_concatenation(node: Node) -> Word:
    pieces: list[str] = []
    dynamic = False
    ansi = False
    subs: list[Node] = []
    for child in node.children:
        word = evaluate(child)
        pieces.append(word.value)
        dynamic = dynamic or word.dynamic
        ansi = ansi or word.ansi
        if word.subs:
            subs.extend(word.subs)
    return Word("".join(pieces), dynamic=dynamic, subs=subs or None, ansi=ansi, node=node)
