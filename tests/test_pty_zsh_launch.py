"""How `expacti run` starts zsh (and any program) so that a zsh gets the integration."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from expacti_cli.pty import integration


@pytest.mark.parametrize(
    ("argv", "expected", "no_rcs"),
    [
        (["zsh"], ["zsh"], False),
        (["/bin/zsh", "-i", "-o", "vi"], ["/bin/zsh", "-i", "-o", "vi"], False),
        (["zsh", "-f"], ["zsh"], True),
        (["zsh", "-fi"], ["zsh", "-i"], True),
        (["zsh", "--no-rcs"], ["zsh"], True),
        (["zsh", "--NO_RCS"], ["zsh"], True),
        (["zsh", "-o", "norcs"], ["zsh"], True),
        (["zsh", "+o", "rcs"], ["zsh"], True),
        (["zsh", "-c", "echo -f"], ["zsh", "-c", "echo -f"], False),
        (["zsh", "script.zsh", "-f"], ["zsh", "script.zsh", "-f"], False),
        (["zsh", "--", "-f"], ["zsh", "--", "-f"], False),
    ],
)
def test_options_that_skip_every_startup_file_are_emulated(
    argv: list[str], expected: list[str], no_rcs: bool
) -> None:
    assert integration.zsh_argv(argv) == (expected, no_rcs)


def test_zsh_reads_the_stub_zdotdir_and_remembers_the_users(tmp_path: Path) -> None:
    stubs = integration.write_stubs(tmp_path / "shells")
    launch = integration.zsh_launch(["zsh", "-f"], "n0nce123", stubs, {"ZDOTDIR": "/u/z"})
    assert launch.integration == "zsh"
    assert launch.argv == ["zsh"]
    assert launch.env["ZDOTDIR"] == str(stubs / "zsh")
    assert launch.env["EXPACTI_USER_ZDOTDIR"] == "/u/z"
    assert launch.env["EXPACTI_NONCE"] == "n0nce123"
    assert launch.env["EXPACTI_ZSH_NORCS"] == "1"
    for stage in integration.ZSH_STAGES:
        text = (stubs / "zsh" / f".{stage}").read_text()
        assert f"source -- '{integration.ZSH_SCRIPT}' {stage}" in text


def test_every_program_gets_the_environment_that_integrates_a_later_zsh(tmp_path: Path) -> None:
    launch = integration.launch_for(["claude"], "n0nce123", {"XDG_DATA_DIRS": "/opt/share"})
    assert launch.integration == ""
    assert launch.argv == ["claude"]
    assert "EXPACTI_NONCE" not in launch.env  # only a shell we integrate sees the nonce
    data, rest = launch.env["XDG_DATA_DIRS"].split(":", 1)
    assert rest == "/opt/share" and data.endswith("/shells/data")
    assert launch.env["ZDOTDIR"].endswith("/shells/zsh")
    assert launch.env["EXPACTI_USER_ZDOTDIR"] == ""  # the user had none: HOME


def test_a_session_inside_a_session_keeps_the_users_zdotdir(tmp_path: Path) -> None:
    stubs = integration.write_stubs(tmp_path / "shells")
    environ = {"ZDOTDIR": str(stubs / "zsh"), "EXPACTI_USER_ZDOTDIR": "/u/z"}
    env = integration.nested_env(stubs, environ)
    assert env["ZDOTDIR"] == str(stubs / "zsh")
    assert "EXPACTI_USER_ZDOTDIR" not in env  # the inherited one stays as it is


def test_a_stub_refuses_paths_it_cannot_quote(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        integration.write_stubs(tmp_path / "it's")
    # (the directory name is not in the stubs; quoting applies to what they name)
    with pytest.raises(ValueError):
        integration._quote("/a'b")


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_the_integration_script_is_valid_zsh() -> None:
    done = subprocess.run(
        ["zsh", "-n", str(integration.ZSH_SCRIPT)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_a_non_interactive_zsh_through_the_stubs_behaves_as_without(tmp_path: Path) -> None:
    stubs = integration.write_stubs(tmp_path / "shells")
    home = tmp_path / "home"
    (home / "zd").mkdir(parents=True)
    (home / ".zshenv").write_text(f"export ZDOTDIR={home / 'zd'}\nexport FROM_ENV=e1\n")
    env = dict(os.environ, HOME=str(home), **integration.nested_env(stubs, {}))
    done = subprocess.run(
        ["zsh", "-c", 'print -r -- "$FROM_ENV|$ZDOTDIR|${+functions[__expacti_accept]}"'],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    # The user's .zshenv ran, their ZDOTDIR is the one the command sees, nothing else loaded.
    assert done.stdout == f"e1|{home / 'zd'}|0\n", done.stderr
