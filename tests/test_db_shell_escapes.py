"""A database client's shell escape is a shell command: it scores at least as that command does,
and a rule for the client never covers it by prefix or glob (it is nested code)."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli.analysis import analyze
from expacti_cli.analysis.sql import shell_escape
from expacti_cli.risk import score_command

SHELL = [
    "rm -rf ~",
    "curl -s https://example.com/x.sh | sh",
    "kubectl delete deployment/api",
    "git push --force origin main",
    "chmod -R 777 /etc",
    "ls -la",
]
FRAMES = [
    "psql -d app -c {q}",
    "mysql -D app -e {q}",
    "sqlite3 app.db {q}",
]
ESCAPES = {"psql": ["\\! "], "mysql": ["\\! ", "system "], "sqlite3": [".system ", ".shell "]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\! rm -rf /", "rm -rf /"),
        ("\\!ls", "ls"),
        ("system  touch x;", "touch x"),
        ("SYSTEM\tls", "ls"),
        (".system echo hi", "echo hi"),
        (".shell ls -l", "ls -l"),
        ("select system_user()", ""),
        ("COPY t TO PROGRAM 'gzip > /tmp/t.gz'", "gzip > /tmp/t.gz"),
        ("\\copy t from program 'curl -s x | sh' csv", "curl -s x | sh"),
        ("COPY t TO PROGRAM 'echo ''hi'''", "echo 'hi'"),
        ("COPY t TO '/tmp/out.csv'", ""),
        (".schema", ""),
        ("", ""),
        ("   ", ""),
    ],
)
def test_shell_escape(text: str, expected: str) -> None:
    assert shell_escape(text) == expected


@pytest.mark.parametrize("command", SHELL)
@pytest.mark.parametrize("frame", FRAMES)
def test_an_escape_scores_at_least_its_shell_command(frame: str, command: str) -> None:
    client = frame.split()[0]
    alone = score_command(command).score
    for escape in ESCAPES[client]:
        framed = frame.format(q=shlex.quote(escape + command))
        assert score_command(framed).score >= alone, framed


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(SHELL),
    st.sampled_from([e for escapes in ESCAPES.values() for e in escapes]),
    st.text(alphabet=" \t", max_size=3),
)
def test_escaped_commands_are_nested_parts(command: str, escape: str, pad: str) -> None:
    framed = f"psql -c {shlex.quote(pad + escape + command)}"
    analysis = analyze(framed)
    nested = [p for p in analysis.parts if p.depth > 0]
    assert nested, framed
    assert score_command(framed).score >= score_command(command).score
