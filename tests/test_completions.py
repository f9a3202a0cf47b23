"""The completion scripts in completions/: fresh, and completing for real in bash, zsh and fish."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pexpect
import pytest
from docs_support import ROOT, command_tree, staleness

from expacti_cli.config import KEYS

BASH = ROOT / "completions" / "expacti.bash"
ZSH = ROOT / "completions" / "_expacti"
FISH = ROOT / "completions" / "expacti.fish"

TREE = command_tree()
GROUPS = [c for c in TREE.walk() if c.subcommands]
LEAVES_WITH_OPTIONS = [c for c in TREE.walk() if c.path and len(c.options) > 1]


def _options(command) -> set[str]:  # type: ignore[no-untyped-def]
    return {name for option in command.options for name in option.names}


@pytest.mark.parametrize("path", [BASH, ZSH, FISH], ids=lambda p: p.name)
def test_the_scripts_are_generated_from_the_current_commands(path: Path) -> None:
    problem = staleness(path)
    assert problem is None, problem


# --- bash ----------------------------------------------------------------------------------


def bash_complete(*words: str, cwd: Path | None = None) -> list[str]:
    """COMPREPLY of our completion function for COMP_WORDS=words (the last one is completed)."""
    script = (
        f'source "{BASH}"\n'
        'COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()\n'
        "_expacti\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script, "bash", *words],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=30,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    return [line for line in result.stdout.splitlines() if line]


def test_bash_completes_commands() -> None:
    assert bash_complete("expacti", "wh") == ["whitelist"]
    assert bash_complete("expacti", "do") == ["doctor"]
    assert sorted(bash_complete("expacti", "")) == sorted(c.path[0] for c in TREE.subcommands)


@pytest.mark.parametrize("group", GROUPS, ids=lambda c: c.name)
def test_bash_completes_every_subcommand(group) -> None:  # type: ignore[no-untyped-def]
    got = bash_complete("expacti", *group.path, "")
    assert sorted(got) == sorted(s.path[-1] for s in group.subcommands)


@pytest.mark.parametrize("command", LEAVES_WITH_OPTIONS, ids=lambda c: c.name)
def test_bash_completes_every_option(command) -> None:  # type: ignore[no-untyped-def]
    assert set(bash_complete("expacti", *command.path, "-")) == _options(command)


def test_bash_completes_option_values_and_choices() -> None:
    assert bash_complete("expacti", "whitelist", "add", "--kind", "") == [
        "exact",
        "prefix",
        "glob",
        "regex",
    ]
    # bash splits `--kind=g` into `--kind`, `=`, `g` (COMP_WORDBREAKS)
    assert bash_complete("expacti", "whitelist", "add", "--kind", "=", "g") == ["glob"]
    assert bash_complete("expacti", "log", "--decision", "d") == ["denied"]
    assert bash_complete("expacti", "hook", "install", "c") == ["claude", "codex", "cursor"]
    assert set(bash_complete("expacti", "config", "set", "")) == set(KEYS)
    # an option's value is not taken for the subcommand: `log -n 5 <TAB>` offers log's subcommands
    assert "verify" in bash_complete("expacti", "log", "-n", "5", "")


def test_bash_completes_files_and_directories(tmp_path: Path) -> None:
    (tmp_path / "session.cast").write_text("")
    (tmp_path / "subdir").mkdir()
    assert set(bash_complete("expacti", "run", "--record", "", cwd=tmp_path)) == {
        "session.cast",
        "subdir",
    }
    assert bash_complete("expacti", "whitelist", "add", "--scope", "", cwd=tmp_path) == ["subdir"]


def test_bash_completes_the_gated_command_line_as_a_command(tmp_path: Path) -> None:
    assert "bash" in bash_complete("expacti", "exec", "--", "bas")
    assert "bash" in bash_complete("expacti", "run", "bas")
    (tmp_path / "notes.txt").write_text("")
    assert bash_complete("expacti", "exec", "--", "cat", "no", cwd=tmp_path) == ["notes.txt"]
    # after the program, its own options are not expacti's
    assert bash_complete("expacti", "run", "claude", "--js", cwd=tmp_path) == []


def test_bash_readline_uses_the_completion(tmp_path: Path) -> None:
    """Through real readline: TAB after `expacti wh` completes the word on the line."""
    env = dict(os.environ, HOME=str(tmp_path), TERM="xterm", PS1="$ ", INPUTRC="/dev/null")
    shell = pexpect.spawn(
        "bash", ["--norc", "--noprofile", "-i"], env=env, encoding="utf-8", timeout=10
    )
    try:
        shell.sendline(f'source "{BASH}"; echo SOURCED""-OK')
        shell.expect("SOURCED-OK")
        shell.send("expacti wh\t")
        shell.send("li\t\x01echo \r")  # Ctrl-A, then run it as `echo expacti ...`
        shell.expect("expacti whitelist list\r\n")  # the output, not the echoed line
    finally:
        shell.close(force=True)


# --- zsh -----------------------------------------------------------------------------------

needs_zsh = pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")


class Zsh:
    """An interactive zsh with our completion, whose `compadd` also writes the matches to a file."""

    def __init__(self, home: Path) -> None:
        self.hits = home / "hits"
        functions = home / "functions"
        functions.mkdir()
        shutil.copy(ZSH, functions / "_expacti")
        env = dict(os.environ, HOME=str(home), ZDOTDIR=str(home), TERM="xterm")
        self.shell = pexpect.spawn(
            "zsh", ["-f", "-i"], env=env, encoding="utf-8", timeout=15, dimensions=(50, 200)
        )
        self.count = 0
        for line in (
            "PS1='%% '; unsetopt autolist automenu beep",
            f"fpath=({functions} $fpath); autoload -Uz compinit; compinit -u -d {home}/dump",
            # Like zsh-capture-completion: record what each compadd call would add.
            "compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "
            '"$@"; return; fi; local -a __hits; builtin compadd -O __hits "$@"; '
            f'(( $#__hits )) && print -rl -- $__hits >> {self.hits}; builtin compadd "$@"; }}',
        ):
            self.shell.sendline(line)
        self.sync()

    def sync(self) -> None:
        self.count += 1
        self.shell.sendline(f"print SYNC''-{self.count}")
        self.shell.expect(f"SYNC-{self.count}")

    def complete(self, text: str) -> list[str]:
        self.hits.write_text("")
        self.shell.send(text + "\t")
        self.shell.send("\x03")  # abandon the line
        self.sync()
        return self.hits.read_text().split()

    def close(self) -> None:
        self.shell.close(force=True)


@pytest.fixture(scope="module")
def zsh():  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as home:
        shell = Zsh(Path(home))
        try:
            yield shell
        finally:
            shell.close()


@needs_zsh
def test_zsh_loads_the_function() -> None:
    result = subprocess.run(
        [
            "zsh",
            "-f",
            "-c",
            f"autoload -Uz compinit; compinit -u -D; source {ZSH} 2>/dev/null; "
            "whence -w _expacti__whitelist__add",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "function" in result.stdout, result.stdout + result.stderr


@needs_zsh
def test_zsh_completes_commands_options_and_values(zsh: Zsh, tmp_path: Path) -> None:
    assert zsh.complete("expacti wh") == ["whitelist"]
    assert sorted(zsh.complete("expacti ")) == sorted(c.path[0] for c in TREE.subcommands)
    whitelist = next(c for c in TREE.walk() if c.path == ("whitelist",))
    assert sorted(zsh.complete("expacti whitelist ")) == sorted(
        s.path[-1] for s in whitelist.subcommands
    )
    assert zsh.complete("expacti whitelist add --kind ") == ["exact", "prefix", "glob", "regex"]
    assert zsh.complete("expacti whitelist add --kind=g") == ["glob"]
    assert zsh.complete("expacti hook install ") == ["claude", "codex", "cursor"]
    assert set(zsh.complete("expacti config set ")) == set(KEYS)
    log = next(c for c in TREE.walk() if c.path == ("log",))
    long_options = {n for n in _options(log) if n.startswith("--")}
    assert set(zsh.complete("expacti log --")) == long_options
    (tmp_path / "subdir").mkdir()
    (tmp_path / "file.txt").write_text("")
    assert set(zsh.complete(f"expacti whitelist add --scope {tmp_path}/")) == {"subdir"}
    assert "echo" in zsh.complete("expacti exec -- ech")


# --- fish ----------------------------------------------------------------------------------

needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")


def fish_complete(text: str, cwd: Path | None = None) -> list[str]:
    """The candidates fish offers for the command line `text` (cursor at its end)."""
    result = subprocess.run(
        ["fish", "--no-config", "-c", f"source {FISH}; complete -C $argv[1]", text],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=30,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    return [line.split("\t")[0] for line in result.stdout.splitlines()]


@needs_fish
def test_fish_completes_commands_with_descriptions() -> None:
    assert fish_complete("expacti wh") == ["whitelist"]
    assert sorted(fish_complete("expacti ")) == sorted(c.path[0] for c in TREE.subcommands)
    result = subprocess.run(
        ["fish", "--no-config", "-c", f"source {FISH}; complete -C 'expacti doc'"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.startswith("doctor\tCheck the broker")


@needs_fish
@pytest.mark.parametrize("group", GROUPS, ids=lambda c: c.name)
def test_fish_completes_every_subcommand(group) -> None:  # type: ignore[no-untyped-def]
    got = fish_complete(" ".join(("expacti", *group.path, "")))
    assert sorted(got) == sorted(s.path[-1] for s in group.subcommands)


@needs_fish
def test_fish_completes_options_values_files_and_command_lines(tmp_path: Path) -> None:
    assert set(fish_complete("expacti whitelist add --kind ")) == {
        "exact",
        "prefix",
        "glob",
        "regex",
    }
    assert fish_complete("expacti whitelist add --kind=g") == ["--kind=glob"]
    assert fish_complete("expacti log --decision d") == ["denied"]
    assert fish_complete("expacti hook install ") == ["claude", "codex", "cursor"]
    assert set(fish_complete("expacti config get ")) == set(KEYS)
    assert "verify" in fish_complete("expacti log -n 5 ")
    (tmp_path / "subdir").mkdir()
    (tmp_path / "session.cast").write_text("")
    assert fish_complete("expacti whitelist add --scope ", cwd=tmp_path) == ["subdir/"]
    assert set(fish_complete("expacti run --record ", cwd=tmp_path)) == {"session.cast", "subdir/"}
    assert "bash" in fish_complete("expacti exec -- bas")
    assert fish_complete("expacti exec --context x -- cat se", cwd=tmp_path) == ["session.cast"]
    # options are expacti's only before the command line starts
    assert fish_complete("expacti run bash --js") == []
