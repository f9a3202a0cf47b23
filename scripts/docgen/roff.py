"""Plain text and a small Markdown subset turned into man(7) roff.

The subset is what man/src/expacti.md uses: `# SECTION`, `## Subsection`, paragraphs,
`- bullets`, definition lists (a term line, then `: definition`), fenced code blocks,
`code`, *emphasis*, **bold**, and `<!-- generated: NAME -->` lines replaced by generated
roff. Everything else is text. Non-ASCII characters become \\[uXXXX] escapes, so the page
needs no input-encoding guess.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable

_GENERATED = re.compile(r"<!--\s*generated:\s*([a-z-]+)\s*-->")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


def escape(text: str) -> str:
    """Text for roff: backslashes, dashes and non-ASCII escaped (no font changes)."""
    out = []
    for char in text.replace("\\", "\\e"):
        if char == "-":
            out.append("\\-")
        elif ord(char) > 126:
            out.append(f"\\[u{ord(char):04X}]")
        else:
            out.append(char)
    return "".join(out)


def line(text: str) -> str:
    """One output text line: a leading `.` or `'` would be read as a request."""
    text = text.strip()
    return "\\&" + text if text[:1] in (".", "'") else text


def inline(text: str, *, emphasis: bool = True) -> str:
    """`code` as bold; with `emphasis`, **bold** and *italic* too. Returns escaped roff."""
    pieces: list[str] = []
    last = 0
    for match in _CODE.finditer(text):
        pieces.append(_styled(text[last : match.start()], emphasis))
        pieces.append(f"\\fB{escape(match.group(1))}\\fR")
        last = match.end()
    pieces.append(_styled(text[last:], emphasis))
    return "".join(pieces)


def _styled(text: str, emphasis: bool) -> str:
    text = escape(text)
    if emphasis:
        text = _BOLD.sub(r"\\fB\1\\fR", text)
        text = _EMPHASIS.sub(r"\\fI\1\\fR", text)
    return text


def preformatted(lines: list[str]) -> list[str]:
    """A block shown as written (examples), indented."""
    text = textwrap.dedent("\n".join(lines)).strip("\n")
    body = ["\\&" + escape(row) if row.strip() else "" for row in text.splitlines()]
    return [".PP", ".RS 4", ".nf", *body, ".fi", ".RE"]


def help_paragraphs(text: str) -> list[str]:
    """Click help text: paragraphs rewrapped, `\\b` paragraphs kept as written."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.splitlines()
        if lines and lines[0].strip() == "\b":
            out += preformatted(lines[1:])
        elif block.strip():
            out += [".PP", line(inline(" ".join(block.split()), emphasis=False))]
    return out


def markdown(source: str, generated: dict[str, Callable[[], list[str]]]) -> list[str]:
    """Render the Markdown subset; `generated[NAME]()` supplies each generated block."""
    out: list[str] = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        text = lines[i]
        stripped = text.strip()
        if not stripped:
            i += 1
        elif match := _GENERATED.fullmatch(stripped):
            name = match.group(1)
            if name not in generated:
                raise ValueError(f"unknown generated block {name!r} in the man page source")
            out += generated[name]()
            i += 1
        elif stripped.startswith("## "):
            out.append(f'.SS "{inline(stripped[3:])}"')
            i += 1
        elif stripped.startswith("# "):
            out.append(f".SH {escape(stripped[2:]).upper()}")
            i += 1
        elif stripped.startswith("```"):
            end = i + 1
            while end < len(lines) and not lines[end].strip().startswith("```"):
                end += 1
            out += preformatted(lines[i + 1 : end])
            i = end + 1
        elif stripped.startswith("- "):
            item, i = _gather(lines, i, stripped[2:])
            out += [".IP \\(bu 2", line(inline(item))]
        elif i + 1 < len(lines) and lines[i + 1].startswith(": "):
            definition, i = _gather(lines, i + 1, lines[i + 1][2:])
            out += [".TP", line(inline(stripped)), line(inline(definition))]
        else:
            paragraph, i = _gather(lines, i, stripped, continuation="")
            out += [".PP", line(inline(paragraph))]
    return out


def _gather(lines: list[str], i: int, first: str, continuation: str = "  ") -> tuple[str, int]:
    """Join `first` with the following lines that continue it; return the text and next i."""
    parts = [first.strip()]
    i += 1
    while i < len(lines) and lines[i].strip():
        following = lines[i]
        if continuation and not following.startswith(continuation):
            break
        if not continuation and _starts_block(following, lines, i):
            break
        parts.append(following.strip())
        i += 1
    return " ".join(parts), i


def _starts_block(text: str, lines: list[str], i: int) -> bool:
    stripped = text.strip()
    return (
        stripped.startswith(("# ", "## ", "```", "- ", ": "))
        or bool(_GENERATED.fullmatch(stripped))
        or (i + 1 < len(lines) and lines[i + 1].startswith(": "))
    )
