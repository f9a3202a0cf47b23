"""The output cap of `expacti mcp`: whatever a command prints, the result stays within the cap,
keeps the start and the end exactly, and says how much was left out."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from expacti_cli.integrations.mcp_exec import Capture

CUT = re.compile(r"\n\[\.\.\. expacti: ([\d,]+) bytes of output left out \.\.\.\]\n")


@given(
    chunks=st.lists(st.binary(max_size=300), max_size=30),
    limit=st.integers(min_value=2, max_value=2000),
)
def test_capture_keeps_head_and_tail_within_the_limit(chunks: list[bytes], limit: int) -> None:
    capture = Capture(limit)
    for chunk in chunks:
        capture.feed(chunk)
    data = b"".join(chunks)
    assert capture.total == len(data)
    kept = bytes(capture.head) + bytes(capture.tail)
    assert len(kept) <= limit
    if len(data) <= limit:
        assert capture.omitted == 0
        assert kept == data
        assert capture.text() == data.decode("utf-8", "replace")
    else:
        assert capture.omitted == len(data) - len(kept)
        assert data.startswith(bytes(capture.head)) and data.endswith(bytes(capture.tail))
        assert len(capture.head) + len(capture.tail) == limit  # the whole budget is used
        found = CUT.search(capture.text())
        assert found is not None and int(found.group(1).replace(",", "")) == capture.omitted


@given(text=st.text(max_size=500), limit=st.integers(min_value=2, max_value=200))
def test_text_output_is_unchanged_when_it_fits(text: str, limit: int) -> None:
    capture = Capture(limit)
    capture.feed(text.encode("utf-8", "surrogatepass"))
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        assert capture.text() == raw.decode("utf-8", "replace")
    else:
        assert "bytes of output left out" in capture.text()


def test_feed_in_one_chunk_or_many_keeps_the_same_bytes() -> None:
    data = bytes(range(256)) * 40
    whole, pieces = Capture(1000), Capture(1000)
    whole.feed(data)
    for start in range(0, len(data), 7):
        pieces.feed(data[start : start + 7])
    assert (whole.head, whole.tail, whole.total) == (pieces.head, pieces.tail, pieces.total)
