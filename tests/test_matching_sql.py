"""A prefix rule on a database client covers reads, never writes or DDL (issue 2, item 6)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from expacti_cli.analysis import analyze
from expacti_cli.matching import Rule, RuleAction, RuleKind, match_command

PREFIX = "psql prod -c"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _rule(pattern: str, kind: RuleKind) -> Rule:
    return Rule(id="r1", action=RuleAction.ALLOW, kind=kind, pattern=pattern)


@pytest.mark.parametrize(
    ("command", "allowed"),
    [
        ('psql prod -c "SELECT count(*) FROM users"', True),
        ('psql prod -c "EXPLAIN SELECT * FROM users"', True),
        ('psql prod -c "UPDATE users SET plan = 1 WHERE id = 42"', False),
        ('psql prod -c "DROP TABLE sessions"', False),
        ('psql prod -c "SELECT 1; DELETE FROM users"', False),
        ('psql prod -c "CREATE INDEX i ON users(id)"', False),
    ],
)
def test_prefix_rule_on_a_db_client_allows_only_reads(command: str, allowed: bool) -> None:
    result = match_command(analyze(command), [_rule(PREFIX, RuleKind.PREFIX)], cwd="/srv", now=NOW)
    assert result.allowed is allowed


def test_an_exact_rule_still_allows_the_exact_write() -> None:
    command = 'psql prod -c "UPDATE users SET plan = 1 WHERE id = 42"'
    result = match_command(analyze(command), [_rule(command, RuleKind.EXACT)], cwd="/srv", now=NOW)
    assert result.allowed
