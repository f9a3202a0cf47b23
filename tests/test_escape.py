"""Display escaping (design-notes §6): nothing a command contains may act on the terminal."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expacti_cli.ui.escape import LONG_SPACE_RUN, command_text, escape_for_display

CASES = [
    ("git status", "git status"),
    ("echo \x1b[2Khidden", "echo \\x1b[2Khidden"),
    ("rm -rf /tmp/x\rgit status", "rm -rf /tmp/x\\x0dgit status"),
    ("a\x00b", "a\\x00b"),
    ("a\x7fb\x9bc", "a\\x7fb\\x9bc"),
    ("ls \u202eexe.sh", "ls <U+202E>exe.sh"),
    ("r\u200bm -rf /", "r<U+200B>m -rf /"),
    ("tag\U000e0041", "tag<U+E0041>"),
    ("nb\u00a0space", "nb<U+00A0>space"),
    ("line1\nline2", "line1\\x0aline2"),
    ("printf '\\x41'", "printf '\\\\x41'"),
    ("find . -exec rm {} \\;", "find . -exec rm {} \\;"),
    ("echo \\\\", "echo \\\\\\"),
    ("echo \\\x1b", "echo \\\\\\x1b"),
    ("café ünïcode 日本", "café ünïcode 日本"),
    ("echo x" + " " * 40 + "; rm -rf ~", "echo x <40 spaces> ; rm -rf ~"),
    ("a" + " " * (LONG_SPACE_RUN - 1) + "b", "a" + " " * (LONG_SPACE_RUN - 1) + "b"),
]


@pytest.mark.parametrize(("raw", "shown"), CASES)
def test_escape_table(raw: str, shown: str) -> None:
    assert escape_for_display(raw) == shown


def test_invalid_utf8_bytes_show_as_hex() -> None:
    assert escape_for_display(b"echo \xff\xfe ok") == "echo \\xff\\xfe ok"


def test_multiline_keeps_line_breaks_but_escapes_cr() -> None:
    assert escape_for_display("a\nb\rc", multiline=True) == "a\nb\\x0dc"


def test_rich_markup_is_not_interpreted() -> None:
    assert command_text("echo [bold red]x[/]").plain == "echo [bold red]x[/]"


_DANGEROUS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _hidden(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat in {"Cf", "Co", "Cn", "Cs", "Zl", "Zp"} or (cat == "Zs" and ch != " ")


@given(st.text(alphabet=st.characters(codec=None), max_size=200))
def test_no_raw_control_or_hidden_character_survives(text: str) -> None:
    shown = escape_for_display(text)
    assert not _DANGEROUS.search(shown)
    assert not any(_hidden(ch) for ch in shown)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_and_stay_clean(data: bytes) -> None:
    shown = escape_for_display(data)
    assert not _DANGEROUS.search(shown)
    assert not any(_hidden(ch) for ch in shown)


def _read_back(shown: str) -> str:
    r"""Decode the display form: `\\` is a backslash, `\xNN` a byte, any other `\` itself."""
    out, i = [], 0
    while i < len(shown):
        if shown.startswith("\\\\", i):
            out.append("\\")
            i += 2
        elif re.match(r"\\x[0-9a-f]{2}", shown[i:]):
            out.append(chr(int(shown[i + 2 : i + 4], 16)))
            i += 4
        else:
            out.append(shown[i])
            i += 1
    return "".join(out)


@given(st.text(alphabet=st.sampled_from("ab \\x1f\x1b\n\r"), max_size=60))
def test_escaping_reads_back_exactly(text: str) -> None:
    # What the reviewer reads can be turned back into exactly what will run.
    assert _read_back(escape_for_display(text)) == text
