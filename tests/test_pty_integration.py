"""Which programs get a shell integration, and the small pure parts of the line gate."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expacti_cli.pty import integration, line_gate

SCRIPT = str(integration.BASH_SCRIPT)


@pytest.mark.parametrize(
    ("argv", "expected_argv", "rc"),
    [
        (["bash"], ["bash", "--init-file", SCRIPT], None),
        (["/usr/bin/bash", "-i"], ["/usr/bin/bash", "--init-file", SCRIPT, "-i"], None),
        (["bash", "--norc"], ["bash", "--init-file", SCRIPT], ""),
        (["bash", "--rcfile", "/x/rc"], ["bash", "--init-file", SCRIPT], "/x/rc"),
        (["bash", "-o", "vi"], ["bash", "--init-file", SCRIPT, "-o", "vi"], None),
        (["bash", "+H"], ["bash", "--init-file", SCRIPT, "+H"], None),
    ],
)
def test_interactive_bash_gets_the_init_file(argv, expected_argv, rc) -> None:  # type: ignore[no-untyped-def]
    launch = integration.launch_for(argv, "n0nce")
    assert launch.integration == "bash"
    assert launch.argv == expected_argv
    assert launch.env["EXPACTI_NONCE"] == "n0nce"
    assert launch.env["EXPACTI_LINE_GATE"].endswith("line_gate.py")
    if rc is None:
        assert "EXPACTI_BASH_RC" not in launch.env
    else:
        assert launch.env["EXPACTI_BASH_RC"] == rc


@pytest.mark.parametrize(
    "argv",
    [
        ["bash", "-c", "echo hi"],
        ["bash", "-ec", "echo hi"],
        ["bash", "script.sh"],
        ["bash", "-l"],
        ["bash", "--login"],
        ["bash", "-s"],
        ["bash", "--version"],
        ["claude"],
        ["sh"],
    ],
)
def test_other_invocations_run_as_given(argv: list[str]) -> None:
    launch = integration.launch_for(argv, "n0nce")
    assert launch.integration == ""
    assert launch.argv == argv
    # Only what makes a zsh or fish started later in the session load its integration; no
    # nonce for a program that has no integration of its own.
    assert set(launch.env) <= {"ZDOTDIR", "XDG_DATA_DIRS", "EXPACTI_USER_ZDOTDIR"}


def test_the_integration_script_is_valid_bash() -> None:
    done = subprocess.run(["bash", "-n", SCRIPT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("line", "blank"),
    [("", True), ("   ", True), ("# a note", True), ("ls", False), ("# a\nrm -rf x", False)],
)
def test_blank_lines_need_no_decision(line: str, blank: bool) -> None:
    assert line_gate.is_blank(line) is blank


@given(st.text())
def test_shown_text_holds_no_raw_control_character(text: str) -> None:
    out = line_gate.shown(text)
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F or 0x80 <= ord(c) < 0xA0 for c in out)


def test_the_gate_fails_closed_without_a_broker(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A broker that cannot start (its runtime directory is a file): the line must not run.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("EXPACTI_HOME", str(home))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "nope"))
    (home / "run").write_text("not a directory")
    done = subprocess.run(
        [sys.executable, "-IS", str(integration.LINE_GATE), "touch x"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "did not run" in done.stderr or "nothing ran" in done.stderr
    assert not (tmp_path / "x").exists()
