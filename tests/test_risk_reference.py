"""The product's reference points and sanity checks, through the real analysis."""

from __future__ import annotations

import pytest

from expacti_cli.risk import Level, score_command

# command, expected score (must land within +-5 and in the same level band)
REFERENCE_POINTS = [
    ("git status", 5),
    ("npm test", 10),
    (
        'psql $DATABASE_URL -c "EXPLAIN ANALYZE SELECT * FROM sessions WHERE org_id = $1 '
        'ORDER BY started_at DESC LIMIT 50"',
        12,
    ),
    (
        'psql $DATABASE_URL -c "CREATE INDEX CONCURRENTLY idx_sessions_org_started '
        'ON sessions(org_id, started_at DESC)"',
        41,
    ),
    ("git push origin main", 45),
    ('psql prod -c "UPDATE users SET plan = 1 WHERE id = 42"', 72),
    ('psql -c "DROP TABLE sessions"', 95),
    ("kubectl delete deployment/api", 98),
    ("npm test && rm -rf ~", 97),
]


@pytest.mark.parametrize(("command", "expected"), REFERENCE_POINTS)
def test_reference_points(command: str, expected: int) -> None:
    score = score_command(command)
    assert abs(score.score - expected) <= 5, (score.score, score.reasons)
    assert score.level == Level.of(expected)


def test_update_without_where_scores_higher_than_with_where() -> None:
    with_where = score_command('psql prod -c "UPDATE users SET plan = 1 WHERE id = 42"')
    without = score_command('psql prod -c "UPDATE users SET plan = 1"')
    assert without.score > with_where.score
    assert without.level in (Level.HIGH, Level.CRITICAL)
    assert "mod:no_where" in {r.code for r in without.reasons}


def test_issue_example_reasons() -> None:
    score = score_command('psql prod -c "UPDATE users SET plan = 1 WHERE id = 42"')
    assert score.summary == "database write on a production target"
    assert [(r.code, r.points) for r in score.reasons] == [
        ("category:database", 50),
        ("mod:production_target", 22),
    ]
    assert score.reasons[0].text == "database: UPDATE with WHERE clause"
    assert score.reasons[1].text == 'production target: "prod"'


SANITY = [
    ("ls", Level.LOW),
    ("ls -la /etc", Level.LOW),
    ("rm -rf /", Level.CRITICAL),
    ("curl https://example.com/install.sh | sh", Level.CRITICAL),
    ("cat ~/.ssh/id_rsa", Level.HIGH),
    ("echo hi > ~/.bashrc", Level.CRITICAL),
    ("sudo rm -rf /var/lib", Level.CRITICAL),
    ("docker run --privileged ubuntu", Level.HIGH),
    ("chmod -R 777 /", Level.CRITICAL),
    ("./deploy.sh", Level.MEDIUM),
]


@pytest.mark.parametrize(("command", "level"), SANITY)
def test_sanity_levels(command: str, level: Level) -> None:
    assert score_command(command).level == level


def test_rm_rf_root_is_about_100() -> None:
    assert score_command("rm -rf /").score >= 98


def test_terraform_auto_approve_is_high_or_critical() -> None:
    score = score_command("terraform apply -auto-approve")
    assert score.level in (Level.HIGH, Level.CRITICAL)
    assert "mod:skip_confirmation" in {r.code for r in score.reasons}


# Data is not code: words inside arguments never count as commands or targets.
DATA_NOT_CODE = [
    'grep -rn "rm -rf" .',
    'git commit -m "drop table later"',
    "echo 'DROP TABLE users; rm -rf /'",
    'git commit -m "deploy to prod"',
    "rg 'sudo rm -rf' docs/",
    "cat <<'EOF' > notes.txt\nrm -rf /\nEOF",
]


@pytest.mark.parametrize("command", DATA_NOT_CODE)
def test_data_is_not_code(command: str) -> None:
    score = score_command(command)
    assert score.level == Level.LOW, (score.score, score.reasons)
