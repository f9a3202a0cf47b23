"""OSC scanning on a stream cut anywhere, and our OSC 133 marks among printed look-alikes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expacti_cli.pty.osc import ExitTracker, Mark, OscScanner, parse_mark

NONCE = "5eed5eed5eed5eed"


def _scan_all(chunks: list[bytes]) -> list[bytes]:
    scanner = OscScanner()
    found: list[bytes] = []
    for chunk in chunks:
        found += scanner.feed(chunk)
    return found


@pytest.mark.parametrize(
    ("stream", "bodies"),
    [
        (b"plain text \x1b[1mbold\x1b[0m", []),
        (b"a\x1b]133;A\x07b", [b"133;A"]),
        (b"\x1b]0;title\x1b\\rest", [b"0;title"]),  # ST terminator
        (b"\x1b]133;A\x07\x1b]133;B\x07", [b"133;A", b"133;B"]),
        (b"\x1b]133;A\x1b]133;B\x07", [b"133;B"]),  # an unterminated OSC gives way to the next
        (b"\x1b]" + b"x" * 5000 + b"\x07\x1b]1;ok\x07", [b"1;ok"]),  # oversized: dropped
        (b"\x1b\x1b]2;t\x07", [b"2;t"]),
    ],
)
def test_scanner_finds_complete_osc_bodies(stream: bytes, bodies: list[bytes]) -> None:
    assert _scan_all([stream]) == bodies


@given(
    st.lists(
        st.one_of(
            st.binary(max_size=20),
            st.sampled_from([b"\x1b]133;A\x07", b"\x1b]0;t\x1b\\", b"\x1b[2K", b"\x1b", b"\x07"]),
        ),
        max_size=20,
    ),
    st.data(),
)
def test_where_the_stream_is_cut_does_not_matter(parts: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(parts)
    cuts = sorted(
        data.draw(st.lists(st.integers(0, len(stream)), max_size=len(stream) + 1, unique=True))
    )
    chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert _scan_all(chunks) == _scan_all([stream])


@pytest.mark.parametrize(
    ("body", "mark"),
    [
        (f"133;A;expacti={NONCE}".encode(), Mark("A")),
        (f"133;D;7;expacti={NONCE}".encode(), Mark("D", status=7)),
        (f"133;C;expacti-request=ab12;expacti={NONCE}".encode(), Mark("C", request="ab12")),
        (f"133;C;expacti-request=;expacti={NONCE}".encode(), Mark("C")),
        (b"133;D;0", None),  # no nonce: anyone could have printed it
        (b"133;D;0;expacti=0000000000000000", None),  # another nonce
        (f"0;expacti={NONCE}".encode(), None),
        (b"133;\xff", None),
    ],
)
def test_only_marks_with_our_nonce_count(body: bytes, mark: Mark | None) -> None:
    assert parse_mark(body, NONCE) == mark


def _osc(body: str) -> bytes:
    return b"\x1b]" + body.encode() + b"\x07"


def test_exit_tracker_pairs_a_request_with_the_next_exit_status() -> None:
    reported: list[tuple[str, int]] = []
    tracker = ExitTracker(NONCE, lambda request, status: reported.append((request, status)))
    stream = (
        _osc(f"133;D;0;expacti={NONCE}")  # the first prompt: nothing ran yet
        + _osc(f"133;C;expacti-request=aa11;expacti={NONCE}")
        + b"output of the command\r\n"
        + _osc("133;D;99")  # printed by the command: no nonce
        + _osc(f"133;D;3;expacti={NONCE}")
        + _osc(f"133;C;expacti-request=;expacti={NONCE}")  # a line that was not allowed
        + _osc(f"133;D;0;expacti={NONCE}")
    )
    for i in range(0, len(stream), 7):
        tracker.feed(stream[i : i + 7])
    assert reported == [("aa11", 3)]
