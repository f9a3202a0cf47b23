"""Selecting audit records: time windows, decisions, risk, text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from expacti_cli.store.audit_query import RecordFilter, parse_min_risk, parse_when

NOW = datetime(2024, 5, 10, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2h", NOW - timedelta(hours=2)),
        ("30m", NOW - timedelta(minutes=30)),
        ("45s", NOW - timedelta(seconds=45)),
        ("3d", NOW - timedelta(days=3)),
        ("1w", NOW - timedelta(weeks=1)),
        ("10 min", NOW - timedelta(minutes=10)),
        ("2024-05-01T08:30:00Z", datetime(2024, 5, 1, 8, 30, tzinfo=UTC)),
        ("2024-05-01T08:30:00+02:00", datetime(2024, 5, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW) == expected


def test_naive_dates_are_local_time() -> None:
    local = datetime(2024, 5, 1).astimezone()
    assert parse_when("2024-05-01", NOW) == local.astimezone(UTC)


@pytest.mark.parametrize("text", ["yesterday", "2h ago", "-3d", "2024-13-01", ""])
def test_parse_when_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_when(text, NOW)


@pytest.mark.parametrize(
    "text, expected",
    [("0", 0), ("60", 60), ("100", 100), ("high", 60), ("CRITICAL", 85), ("Low", 0)],
)
def test_parse_min_risk(text: str, expected: int) -> None:
    assert parse_min_risk(text) == expected


@pytest.mark.parametrize("text", ["101", "-1", "severe", "6 0"])
def test_parse_min_risk_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a risk"):
        parse_min_risk(text)


def record(**fields: Any) -> dict[str, Any]:
    base = {
        "kind": "decision",
        "time": "2024-05-10T11:00:00.000Z",
        "session": "s1",
        "decision": "denied",
        "score": 72,
        "command": "psql prod -c 'UPDATE users SET plan = 1'",
    }
    return base | fields


@pytest.mark.parametrize(
    "filt, rec, expected",
    [
        (RecordFilter(), record(), True),
        (RecordFilter(since=NOW - timedelta(hours=2)), record(), True),
        (RecordFilter(since=NOW - timedelta(minutes=30)), record(), False),
        (RecordFilter(until=NOW - timedelta(hours=2)), record(), False),
        (RecordFilter(session="s1"), record(), True),
        (RecordFilter(session="s"), record(), False),
        (RecordFilter(decisions=frozenset({"denied", "timed_out"})), record(), True),
        (RecordFilter(decisions=frozenset({"approved"})), record(), False),
        (
            RecordFilter(decisions=frozenset({"approved"})),
            record(kind="config_set", decision=None),
            False,
        ),
        (RecordFilter(min_risk=60), record(), True),
        (RecordFilter(min_risk=73), record(), False),
        (RecordFilter(min_risk=0), record(score=None), False),
        (RecordFilter(grep=re.compile("update users", re.I)), record(), True),
        (RecordFilter(grep=re.compile("DELETE")), record(), False),
        (
            RecordFilter(grep=re.compile("a\x00b")),  # the exact command, not its display
            record(command="echo a\ufffdb", command_b64="ZWNobyBhAGI="),  # b"echo a\x00b"
            True,
        ),
        (
            RecordFilter(grep=re.compile("auto_approve")),
            {"kind": "config_set", "key": "auto_approve_below"},
            True,
        ),
    ],
)
def test_filter_matches(filt: RecordFilter, rec: dict[str, Any], expected: bool) -> None:
    assert filt.matches(rec) is expected


def test_past_since_leaves_slack_for_clock_steps() -> None:
    filt = RecordFilter(since=NOW)
    assert not filt.past_since(record(time="2024-05-10T11:55:00.000Z"))
    assert filt.past_since(record(time="2024-05-10T11:00:00.000Z"))
    assert not RecordFilter().past_since(record())
