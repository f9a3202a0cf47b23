"""Claude Code's shell plumbing (design-notes §2): recognised exactly, or not at all."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expacti_cli.shim import claude

DATA = Path(__file__).parent / "shim_data"
HOME = "/home/dev"
CONFIG = f"{HOME}/.claude"
SNAP = f"{CONFIG}/shell-snapshots/snapshot-bash-1795531164274-x1vmzv.sh"
CWD_FILE = "/tmp/claude-2dc1-cwd"
SOURCE = f"source {SNAP} 2>/dev/null || true && "
SHOPT = "shopt -u extglob 2>/dev/null || true && "
PWD = f" && pwd -P >| {CWD_FILE}"


def wrapper(token: str, devnull: bool = True, snapshot: bool = True) -> str:
    """A per-call script in the shape Claude Code 2.1.197 builds."""
    return (
        (SOURCE if snapshot else "")
        + SHOPT
        + f"eval {token}"
        + (" < /dev/null" if devnull else "")
        + PWD
    )


# Captured from the real CLI (tests/shim_data/README.md says how), and the command inside.
REAL_CALLS = [
    (
        "source /tmp/cc/home/.claude/shell-snapshots/snapshot-bash-1795531164274-x1vmzv.sh "
        "2>/dev/null || true && shopt -u extglob 2>/dev/null || true && eval 'echo "
        "'\"'\"'it'\"'\"'\"s\" | wc -c' < /dev/null && pwd -P >| /tmp/claude-2dc1-cwd",
        "/tmp/cc/home/.claude",
        "echo 'it'\"s\" | wc -c",
    ),
    (
        "source /tmp/cc/home/.claude/shell-snapshots/snapshot-bash-1795531164274-x1vmzv.sh "
        "2>/dev/null || true && shopt -u extglob 2>/dev/null || true && eval ls < /dev/null "
        "&& pwd -P >| /tmp/claude-50fb-cwd",
        "/tmp/cc/home/.claude",
        "ls",
    ),
    (
        "source /tmp/cc/home/.claude/shell-snapshots/snapshot-bash-1795531164274-x1vmzv.sh "
        "2>/dev/null || true && shopt -u extglob 2>/dev/null || true && eval 'cat <<EOF\n"
        "hello\nEOF' && pwd -P >| /tmp/claude-befb-cwd",
        "/tmp/cc/home/.claude",
        "cat <<EOF\nhello\nEOF",
    ),
]


@pytest.mark.parametrize(("script", "config", "command"), REAL_CALLS)
def test_real_wrappers_unwrap_to_the_command(script: str, config: str, command: str) -> None:
    found = claude.unwrap_call(script, config)
    assert found is not None
    assert found.command == command
    assert found.render() == script


@pytest.mark.parametrize(
    ("token", "command"),
    [
        ("ls", "ls"),
        ("''", ""),
        ("'git status && rm -rf tmp'", "git status && rm -rf tmp"),
        ("'echo '\"'\"'a b'\"'\"''", "echo 'a b'"),
        ("'echo '\\''a b'\\'''", "echo 'a b'"),  # the older '\'' escaping
        ("'printf \"%s\\n\" $HOME'", 'printf "%s\\n" $HOME'),
        ("'a\nb'", "a\nb"),
    ],
)
def test_tokens_unwrap_to_bash_values(token: str, command: str) -> None:
    for devnull in (True, False):
        for snapshot in (True, False):
            found = claude.unwrap_call(wrapper(token, devnull, snapshot), CONFIG)
            assert found is not None and found.command == command


NEAR_MISSES = [
    wrapper("'ls'") + "; rm -rf ~",
    wrapper("'ls'").replace("eval 'ls'", "eval 'ls'; rm -rf ~"),
    wrapper("'ls'").replace(" < /dev/null", " < /dev/null; rm -rf ~"),
    wrapper("'ls'").replace("eval 'ls'", "eval 'ls' 'rm -rf ~'"),
    wrapper("'ls'").replace("eval 'ls'", 'eval "ls"'),
    wrapper("'ls'").replace("eval 'ls'", "eval $(cat /tmp/x)"),
    wrapper("'ls'").replace("eval 'ls'", "eval ls\\;rm"),
    wrapper("'ls'").replace(" && pwd", "; pwd"),
    wrapper("'ls'").replace(" && pwd", "  && pwd"),
    wrapper("'ls'").replace("|| true && shopt", "|| rm -rf ~ && shopt"),
    "rm -rf ~; " + wrapper("'ls'"),
    " " + wrapper("'ls'"),
    wrapper("'ls'") + "\n",
    wrapper("'ls'") + " ",
    wrapper("'ls'").replace(SNAP, "/tmp/evil.sh"),  # sourcing anything but a snapshot
    wrapper("'ls'").replace(SNAP, f"{CONFIG}/shell-snapshots/../../.bashrc"),
    wrapper("'ls'").replace(SNAP, f"{CONFIG}/shell-snapshots/snapshot-bash-1-x.sh;rm"),
    wrapper("'ls'").replace(CWD_FILE, "/etc/passwd"),
    wrapper("'ls'").replace(CWD_FILE, "/tmp/../etc/claude-1-cwd"),
    wrapper("'ls'").replace(CWD_FILE, "claude-1-cwd"),
    wrapper("'ls'").replace(CWD_FILE, "$(rm -rf ~)/claude-1-cwd"),
    wrapper("'ls").replace("eval 'ls", "eval 'ls"),  # unterminated quote
    wrapper("'ls'").replace("shopt -u extglob", "shopt -s extglob"),
    wrapper("'ls'").replace(" 2>/dev/null || true && shopt", " 2>/dev/null || true; shopt"),
    "eval 'ls'" + PWD,  # no shopt part
    SHOPT + "eval 'ls' < /dev/null",  # no pwd part
    "",
]


@pytest.mark.parametrize("script", NEAR_MISSES)
def test_anything_but_the_exact_boilerplate_is_not_unwrapped(script: str) -> None:
    assert claude.unwrap_call(script, CONFIG) is None


def test_env_probe_is_recognised_exactly() -> None:
    assert claude.is_env_call(["-c", "env"])
    for args in (["-c", "env "], ["-c", "env; rm -rf ~"], ["-lc", "env"], ["-c", "env", "x"]):
        assert not claude.is_env_call(args)


# --- snapshot-building script ------------------------------------------------------------------


def _captured(name: str, home: str) -> str:
    """A script captured from Claude Code 2.1.197, re-homed (HOME was /tmp/cc/home[2])."""
    text = (DATA / f"claude-2.1.197-snapshot-{name}.sh").read_text()
    original = "/tmp/cc/home2" if name == "norc" else "/tmp/cc/home"
    return text.replace(original, home)


@pytest.mark.parametrize("name", ["bashrc", "norc"])
def test_captured_snapshot_scripts_are_recognised(name: str) -> None:
    script = _captured(name, HOME)
    found = claude.parse_snapshot_script(script, HOME, CONFIG)
    assert found is not None
    assert found.render() == script
    assert (found.rc_file is not None) == (name == "bashrc")
    assert claude.is_snapshot_call(["-c", "-l", script], HOME, CONFIG)
    assert not claude.is_snapshot_call(["-c", script], HOME, CONFIG)
    assert not claude.is_snapshot_call(["-c", "-l", script, "x"], HOME, CONFIG)


def test_snapshot_alias_variant_renders_and_parses() -> None:
    base = claude.parse_snapshot_script(_captured("bashrc", HOME), HOME, CONFIG)
    assert base is not None
    alias = claude.SnapshotCall(
        base.snapshot,
        base.rc_file,
        None,
        "/usr/bin/rg",
        base.claude_bin,
        False,
        "/usr/bin",
        "PATH_END_abc",
    )
    script = alias.render()
    again = claude.parse_snapshot_script(script, HOME, CONFIG)
    assert again is not None and again.rg_alias == "/usr/bin/rg" and not again.find_grep


def _mutations(script: str) -> list[str]:
    snippet = 'echo "unalias -a 2>/dev/null || true" >> "$SNAPSHOT_FILE"\n'
    return [
        script + "\nrm -rf ~",
        script.replace(snippet, snippet + "      rm -rf ~\n"),
        script.replace('source "/home/dev/.bashrc"', 'source "/tmp/evil"'),
        script.replace("declare -f > /dev/null", "declare -f > /tmp/x"),
        script.replace("export PATH=", "export PATH=$(rm -rf ~)"),
        script.replace("PATH_END_9wlv8xwh6ld\n  ", "PATH_END_9wlv8xwh6ld\nrm -rf ~\n  "),
        script.replace(
            "export PATH=/root", "export PATH='/x\nPATH_END_9wlv8xwh6ld\nrm -rf ~\n'/root"
        ),
        script.replace(f"SNAPSHOT_FILE={SNAP}", "SNAPSHOT_FILE=/home/dev/.bashrc"),
        script.replace("exit 1\n", "exit 0\n"),
        script.replace("(exec -a rg ", "(exec -a 'rg;rm' "),
        script[:-1],
    ]


def test_snapshot_script_with_any_change_is_not_plumbing() -> None:
    script = _captured("bashrc", HOME)
    for changed in _mutations(script):
        assert changed != script
        assert claude.parse_snapshot_script(changed, HOME, CONFIG) is None, changed[-200:]
    # The same script under another HOME or Claude config dir is not ours either.
    assert claude.parse_snapshot_script(script, "/home/other", "/home/other/.claude") is None


# --- properties --------------------------------------------------------------------------------

PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
commands = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=60
)


@PROPS
@given(st.text(max_size=300))
def test_recognisers_never_raise(text: str) -> None:
    claude.unwrap_call(text, CONFIG)
    claude.parse_snapshot_script(text, HOME, CONFIG)
    claude.is_snapshot_call(["-c", "-l", text], HOME, CONFIG)


@PROPS
@given(commands, st.booleans(), st.booleans())
def test_any_quoted_command_round_trips(command: str, devnull: bool, snapshot: bool) -> None:
    found = claude.unwrap_call(wrapper(claude.quote(command), devnull, snapshot), CONFIG)
    assert found is not None and found.command == command


boilerplate = wrapper("'ls -la'")
alphabet = st.sampled_from(list(" '\";&|<>$`\\\n-/abcx0") + ["'\"'\"'", " && ", " < /dev/null"])


@PROPS
@given(
    st.integers(0, len(boilerplate)),
    st.integers(0, 6),
    st.lists(alphabet, max_size=4).map("".join),
)
def test_an_edit_outside_the_command_is_never_unwrapped_silently(
    at: int, delete: int, insert: str
) -> None:
    """Whatever an edit does, a string that unwraps IS the boilerplate around its token."""
    text = boilerplate[:at] + insert + boilerplate[at + delete :]
    found = claude.unwrap_call(text, CONFIG)
    if found is None:
        return
    assert found.render() == text
    start = text.index(" && eval ") + len(" && eval ")
    assert text[start : start + len(found.token)] == found.token
    outside = text[:start] + text[start + len(found.token) :]
    assert (
        outside
        in {
            boilerplate.replace("'ls -la'", "", 1),
            boilerplate.replace("'ls -la' < /dev/null", "", 1),
            boilerplate.replace("'ls -la'", "", 1).replace(SOURCE, "", 1),
            boilerplate.replace("'ls -la' < /dev/null", "", 1).replace(SOURCE, "", 1),
        }
        or found.cwd_file != CWD_FILE
        or found.snapshot not in (SNAP, None)
    )


@settings(max_examples=40, deadline=None)
@given(commands)
def test_bash_reads_the_token_as_the_unwrapped_command(command: str) -> None:
    """The value we score is the value bash's eval receives."""
    found = claude.unwrap_call(wrapper(claude.quote(command)), CONFIG)
    assert found is not None
    out = subprocess.run(
        ["bash", "-c", f"printf %s {found.token}"], capture_output=True, timeout=10
    ).stdout
    assert out == command.encode("utf-8", "surrogateescape")
