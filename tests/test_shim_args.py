"""How the shim reads bash's arguments (checked against bash 5's own behaviour)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli.shim.args import COMMAND, INTERACTIVE, NOTHING, SCRIPT, UNKNOWN, parse

CASES = [
    (["-c", "ls"], False, COMMAND, "ls", False),
    (["-lc", "ls"], False, COMMAND, "ls", True),
    (["-c", "-l", "ls"], False, COMMAND, "ls", True),
    (["-c", "echo $0 $1", "zero", "one"], False, COMMAND, "echo $0 $1", False),
    (["-xec", "ls"], False, COMMAND, "ls", False),
    (["-o", "pipefail", "-c", "ls"], False, COMMAND, "ls", False),
    (["-c", "--", "ls"], False, COMMAND, "ls", False),
    (["--login", "-c", "ls"], False, COMMAND, "ls", True),
    (["--norc", "--noprofile", "-c", "ls"], False, COMMAND, "ls", False),
    (["--rcfile", "/x", "-c", "ls"], False, COMMAND, "ls", False),
    (["-c", "ls", "--login"], False, COMMAND, "ls", False),  # after the string: $0
    (["-o", "-c", "ls"], False, SCRIPT, None, False),  # "-c" is -o's value; "ls" a script
    (["script.sh"], True, SCRIPT, None, False),
    (["-s"], False, SCRIPT, None, False),  # commands from a pipe
    ([], False, SCRIPT, None, False),
    (["-o"], False, SCRIPT, None, False),  # lists options, then reads stdin
    (["-i"], False, SCRIPT, None, False),  # -i with a pipe on stdin is still fed by the pipe
    ([], True, INTERACTIVE, None, False),
    (["-l"], True, INTERACTIVE, None, True),
    (["-i"], True, INTERACTIVE, None, False),
    (["--version", "-c", "rm -rf ~"], False, NOTHING, None, False),
    (["--help"], True, NOTHING, None, False),
    (["-c"], False, NOTHING, None, False),  # "option requires an argument"
    (["-n"], False, NOTHING, None, False),  # syntax check of piped text: nothing runs
    (["--norc", "-n", "-c", "rm -rf ~"], False, NOTHING, None, False),
    (["-o", "noexec", "-c", "x"], False, NOTHING, None, False),
    (["-n", "+n", "-c", "x"], False, COMMAND, "x", False),  # +n turns it off again
    (["-n", "+o", "noexec", "-c", "x"], False, COMMAND, "x", False),
    (["-n"], True, INTERACTIVE, None, False),  # interactive shells ignore -n
    (["--frobnicate", "-c", "ls"], False, UNKNOWN, None, False),
    (["-l", "--login", "-c", "ls"], False, UNKNOWN, None, True),  # bash refuses; we gate
    (["-\u00e9c", "ls"], False, UNKNOWN, None, False),
]


@pytest.mark.parametrize(("args", "tty", "mode", "command", "login"), CASES)
def test_parse(args: list[str], tty: bool, mode: str, command: str | None, login: bool) -> None:
    found = parse(args, stdin_is_tty=tty)
    assert (found.mode, found.command) == (mode, command)
    if mode in (COMMAND, INTERACTIVE):
        assert found.login == login


words = st.sampled_from(
    ["-c", "-l", "-lc", "-o", "-O", "--login", "--rcfile", "--", "-", "+o", "x", "-xe", "--help"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(words, st.text(max_size=6)), max_size=6), st.booleans())
def test_parse_never_raises_and_only_interactive_or_nothing_skip_the_gate(
    args: list[str], tty: bool
) -> None:
    found = parse(args, stdin_is_tty=tty)
    assert found.mode in (COMMAND, SCRIPT, INTERACTIVE, NOTHING, UNKNOWN)
    if found.mode == INTERACTIVE:
        assert tty  # commands from a pipe are never waved through
    if found.mode == COMMAND:
        assert found.command in args
