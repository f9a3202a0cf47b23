"""The screen model: what a terminal would show, lazily parsed, bulk output compacted."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wcwidth import wcwidth

from expacti_cli.pty import screen as screen_mod
from expacti_cli.pty.screen import ScreenModel


def shown(data: bytes, rows: int = 6, cols: int = 20) -> ScreenModel:
    model = ScreenModel(rows, cols)
    model.feed(data)
    return model


def cells(model: ScreenModel) -> list[list[tuple[object, ...]]]:
    """Every cell's character and attributes (what a repaint must reproduce).

    pyte leaves the right half of a wide character ("") when its left half is overwritten;
    a terminal shows a blank there, and so does a repaint: such a cell counts as a blank."""
    model.lines()  # parse what is pending
    s = model._screen
    rows = []
    for y in range(s.lines):
        row = [tuple(s.buffer[y][x]) for x in range(s.columns)]
        for x, cell in enumerate(row):
            if cell[0] == "" and (x == 0 or wcwidth(str(row[x - 1][0])[:1] or " ") != 2):
                row[x] = (" ", *cell[1:])
        rows.append(row)
    return rows


@pytest.mark.parametrize(
    ("data", "lines", "cursor"),
    [
        (b"hello\r\nworld", ["hello", "world"], (1, 5)),
        (b"abc\x1b[2D\x1b[K", ["a"], (0, 1)),
        (b"\x1b[3;4Hx", ["", "", "   x"], (2, 4)),
        (b"one\r\n\x1b[1Atwo", ["two"], (0, 3)),
        (b"sqlite> SEL\x08\x08\x1b[K", ["sqlite> S"], (0, 9)),
        # pyte would read `CSI > 4 ; 2 m` as underline+faint and `4:3` as text.
        (b"\x1b[>4;2ma\x1b[4:3mb", ["ab"], (0, 2)),
        # DCS / APC strings are not text; OSC titles and marks neither.
        (b"a\x1bP+q6b64\x1b\\b\x1b_Gx\x1b\\c\x1b]0;title\x07d\x1b]133;A\x07e", ["abcde"], (0, 5)),
        # A zero-width non-joiner must not swallow the rest of the text (pyte drops it).
        ("x\u200cyz".encode(), ["xyz"], (0, 3)),
        # DEC line drawing, designated and shifted in as a UTF-8 terminal does.
        (b"\x1b(0lqk\x1b(B-\x0emq\x0fj", ["┌─┐-└─j"], (0, 7)),
        ("宽字".encode(), ["宽字"], (0, 4)),
        # pyte raises on private CSIs it has no handler for (vim's `CSI ? 4 m` query), and
        # would lose the rest of the output with it.
        (b"\x1b[?1049h\x1b[?4m\x1b[?1049lok", ["ok"], (0, 2)),
    ],
)
def test_what_the_screen_shows(data: bytes, lines: list[str], cursor: tuple[int, int]) -> None:
    model = shown(data)
    assert model.lines()[: len(lines)] == lines
    assert model.cursor == cursor


def test_attributes_of_rewritten_sequences() -> None:
    model = shown(b"\x1b[>4;2ma\x1b[4:3mb\x1b[4:0mc\x1b[38:2::255:0:0md\x1b[38:5:196me")
    row = [c for c in cells(model)[0][:5]]
    assert [c[5] for c in row] == [False, True, False, False, False]  # underscore
    assert row[3][1] == "ff0000"
    assert row[4][1] == "ff0000"


def test_escape_sequences_split_anywhere_give_the_same_screen() -> None:
    data = "\x1b[1;31mred\x1b[0m \x1b]0;t\x07宽\x1b[2;3Hx\x1b(0q\x1b(B\r\n> ".encode()
    whole = cells(shown(data))
    for cut in range(1, len(data)):
        model = ScreenModel(6, 20)
        model.feed(data[:cut])
        model.lines()  # parse in between: a held-back partial sequence must survive
        model.feed(data[cut:])
        assert cells(model) == whole, cut


def test_alternate_screen_is_tracked_and_the_main_screen_comes_back() -> None:
    model = shown(b"$ vim\r\n")
    assert not model.in_alternate_screen
    model.feed(b"\x1b[?1049h\x1b[H\x1b[2J~\r\n~ vim")
    assert model.in_alternate_screen
    assert model.lines()[:2] == ["~", "~ vim"]
    model.feed(b"\x1b[?1049l")
    assert not model.in_alternate_screen
    assert model.lines()[:2] == ["$ vim", ""]
    assert model.cursor == (1, 0)
    model.feed(b"\x1b[?47hX\x1b[?47l")
    assert model.lines()[0] == "$ vim"


def test_full_reset_leaves_the_alternate_screen() -> None:
    model = shown(b"\x1b[?1049h\x1b[?1hx\x1bc")
    assert not model.in_alternate_screen
    assert model.lines() == [""] * 6


def test_resize_keeps_the_cursor_on_the_screen() -> None:
    model = shown(b"\r\n" * 5 + b"$ ls")
    model.resize(3, 10)
    assert model.size == (3, 10)
    assert model.cursor_line() == "$ ls"
    row, col = model.cursor
    assert 0 <= row < 3 and col == 4


def test_row_is_full_tells_a_wrapped_input_line() -> None:
    model = shown(b"mysql> " + b"x" * 13 + b"yz", cols=20)
    assert model.row_is_full(0)
    assert not model.row_is_full(1)
    assert model.lines()[:2] == ["mysql> " + "x" * 13, "yz"]


def test_repaint_restores_modes_the_program_set() -> None:
    model = shown(b"\x1b[?1h\x1b=\x1b[?2004h\x1b[?1000h\x1b[?25l\x1b[2;5r\x1b(0")
    out = model.repaint()
    for expected in (b"\x1b[?1h", b"\x1b=", b"\x1b[?2004h", b"\x1b[?1000h", b"\x1b[?25l"):
        assert expected in out
    assert b"\x1b[2;5r" in out
    assert out.endswith(b"\x1b[?25l")
    assert b"\x1b(0" in out[out.index(b"\x1b[2;5r") :]  # the line-drawing set stays selected


def test_repaint_keeps_a_pending_wrap() -> None:
    model = shown(b"x" * 20, rows=3, cols=20)
    assert model.cursor == (0, 20)
    again = ScreenModel(3, 20)
    again.feed(model.repaint())
    again.feed(b"y")
    model.feed(b"y")
    assert again.lines() == model.lines() == ["x" * 20, "y", ""]


def test_bulk_output_is_compacted_and_the_screen_is_exact() -> None:
    lines = b"".join(
        b"line %06d \x1b[3%dmcolour\x1b[0m the quick brown fox\r\n" % (i, i % 8)
        for i in range(20000)
    )
    model = ScreenModel(24, 80)
    for i in range(0, len(lines), 4096):
        model.feed(lines[i : i + 4096])
    assert model.compacted > len(lines) * 0.9  # almost nothing went through pyte
    reference = ScreenModel(24, 80)
    reference._feed_pyte(lines)  # the whole stream, parsed
    assert cells(model) == cells(reference)
    assert model.cursor == reference.cursor


def test_compaction_keeps_the_colour_in_force() -> None:
    model = ScreenModel(4, 20)
    model.feed(b"\x1b[1;32m" + b"green\r\n" * 30000)
    assert model.compacted > 0
    last = cells(model)[2][0]
    assert last[0] == "g" and last[1] == "green" and last[3] is True  # bold green


def test_a_readline_session_compacts_despite_its_mode_changes() -> None:
    # psql and friends switch bracketed paste on and off around every prompt.
    session = b"".join(
        b"\x1b[?2004happ=> SELECT %d;\r\n\x1b[?2004l\r" % i + b"row\r\n" * 40 for i in range(300)
    )
    model = ScreenModel(24, 80)
    model.feed(session + b"\x1b[?2004happ=> ")
    assert model.compacted > len(session) * 0.9
    reference = ScreenModel(24, 80)
    reference._feed_pyte(session + b"\x1b[?2004happ=> ")
    assert cells(model) == cells(reference)
    assert b"\x1b[?2004h" in model.repaint()


def test_compaction_never_drops_lasting_state() -> None:
    model = ScreenModel(4, 20)
    model.feed(b"\x1b[?1049h" + b"text\r\n" * 30000)
    assert model.in_alternate_screen
    model.feed(b"\x1b[?1049l")
    assert model.lines() == [""] * 4


# --- properties --------------------------------------------------------------------------

_PIECES = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12).map(str.encode),
    st.sampled_from(
        [
            b"\r\n",
            b"\r",
            b"\n",
            b"\x08",
            b"\t",
            b"\x1b[K",
            b"\x1b[1K",
            b"\x1b[2J",
            b"\x1b[J",
            b"\x1b[H",
            b"\x1b[0m",
            b"\x1b[1m",
            b"\x1b[4m",
            b"\x1b[7m",
            b"\x1b[31m",
            b"\x1b[42m",
            b"\x1b[38;5;208m",
            b"\x1b[48;2;1;2;3m",
            b"\x1b[95m",
            b"\x1b[A",
            b"\x1b[2B",
            b"\x1b[3C",
            b"\x1b[D",
            b"\x1b[5;7H",
            b"\x1b[L",
            b"\x1b[M",
            b"\x1b[P",
            b"\x1b[@",
            b"\x1b[X",
            b"\x1b[?25l",
            b"\x1b[?25h",
            b"\x1b[?7l",
            b"\x1b[?7h",
            b"\x1b[2;4r",
            b"\x1b[r",
            b"\x1b7",
            b"\x1b8",
            b"\x1bM",
            b"\x1bD",
            b"\x1b(0",
            b"\x1b(B",
            b"\x0e",
            b"\x0f",
            b"\x1b[4h",
            b"\x1b[4l",
            b"\x1b[?1049h",
            b"\x1b[?1049l",
            b"\x1b[?2004h",
            b"\x1b[?2004l",
            b"\x1b[?1h",
            b"\x1b=",
            b"\x1b>",
            b"\x1b[5C",
            b"\x1b[3D",
            b"\x1b[10G",
            "宽".encode(),
            "e\u0301".encode(),
        ]
    ),
)
_STREAMS = st.lists(_PIECES, max_size=60).map(b"".join)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(1, 50), max_size=20))
def test_random_bytes_never_crash_the_model(data: bytes, cuts: list[int]) -> None:
    model = ScreenModel(5, 12)
    i = 0
    for size in [*cuts, len(data)]:
        model.feed(data[i : i + size])
        i += size
        model.cursor_line()
    model.resize(3, 7)
    row, col = model.cursor
    assert 0 <= row < 3 and 0 <= col <= 7
    assert len(model.lines()) == 3
    model.repaint()
    model.in_alternate_screen  # noqa: B018 - the property must not raise


@settings(max_examples=200, deadline=None)
@given(_STREAMS)
def test_a_repaint_redraws_the_same_screen(data: bytes) -> None:
    model = shown(data, rows=5, cols=12)
    again = ScreenModel(5, 12)
    again.feed(model.repaint())
    assert cells(again) == cells(model)
    assert again.cursor == (model.cursor[0], min(model.cursor[1], 12)) or model.cursor[1] == 12
    assert again.cursor_hidden == model.cursor_hidden


@settings(max_examples=40, deadline=None)
@given(_STREAMS, st.integers(1, 6))
def test_compaction_gives_the_screen_a_full_parse_gives(
    monkeypatch_limit: None, data: bytes, repeat: int
) -> None:
    text = b"".join(b"row %d of the output\r\n" % i for i in range(repeat * 10))
    stream = data + text + data + text + data
    model = ScreenModel(5, 12)
    for i in range(0, len(stream), 97):
        model.feed(stream[i : i + 97])
    reference = ScreenModel(5, 12)
    reference._feed_pyte(stream)
    assert cells(model) == cells(reference)
    assert model.cursor == reference.cursor


@pytest.fixture(scope="module")
def monkeypatch_limit() -> object:
    """A small pending limit, so the property above exercises compaction often."""
    saved = screen_mod.PENDING_LIMIT
    screen_mod.PENDING_LIMIT = 256
    yield None
    screen_mod.PENDING_LIMIT = saved
