"""Claude Code's per-call wrapper under CLAUDE_CODE_SHELL_PREFIX, and its zsh variants.

With CLAUDE_CODE_SHELL_PREFIX set, Claude Code 2.1.197 hands each wrapper to the prefix
program (`PREFIX 'WRAPPER'`) and uses a shell-neutral extglob line inside. Recognised only
when the shim is told that prefix and everything else is the known boilerplate.

The zsh variants (the snapshot script for ~/.zshrc, `setopt NO_EXTENDED_GLOB ...` in the
wrapper) are generated only when the path in $SHELL contains "zsh"; `expacti run` gives
Claude Code a shim named `bash`, whose script is then run by bash, so they stay ordinary
commands: a test below pins that.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expacti_cli.shim import claude

DATA = Path(__file__).parent / "shim_data"
# Captured from the real CLI with CLAUDE_CODE_SHELL_PREFIX set (a prefix with flags and one
# without), $SHELL a logging bash, the model played by tests/claude_standin.py.
CAPTURED = json.loads((DATA / "claude-2.1.197-shell-prefix-calls.json").read_text())

CONFIG = "/home/dev/.claude"
SNAP = f"{CONFIG}/shell-snapshots/snapshot-bash-1795539007174-8asp4j.sh"
PREFIX = "/opt/audit/wrap --tag claude"


def inner(token: str, shopt: str = claude.SHOPT_PREFIXED) -> str:
    return (
        f"source {SNAP} 2>/dev/null || true && {shopt} && eval {token} < /dev/null"
        " && pwd -P >| /tmp/claude-8cbe-cwd"
    )


def prefixed(token: str, prefix: str = PREFIX, shopt: str = claude.SHOPT_PREFIXED) -> str:
    head = claude.prefix_head(prefix)
    assert head is not None
    return head + claude.quote(inner(token, shopt))


@pytest.mark.parametrize("call", CAPTURED, ids=lambda c: f"{c['prefix']}|{c['command']}")
def test_captured_prefixed_calls_unwrap_to_the_command(call: dict[str, str]) -> None:
    config = call["home"] + "/.claude"
    found = claude.unwrap_call(call["script"], config, prefix=call["prefix"])
    assert found is not None
    assert found.command == call["command"]
    assert found.prefix == call["prefix"]
    assert found.render() == call["script"]


@pytest.mark.parametrize("call", CAPTURED[:1])
def test_a_prefixed_call_is_an_ordinary_command_without_its_prefix(call: dict[str, str]) -> None:
    config = call["home"] + "/.claude"
    assert claude.unwrap_call(call["script"], config) is None
    assert claude.unwrap_call(call["script"], config, prefix="/other/wrap") is None
    assert claude.unwrap_call(call["script"], config, prefix=call["prefix"] + " -x") is None


@pytest.mark.parametrize(
    ("prefix", "head"),
    [
        ("/tmp/cap/prefix.sh", "/tmp/cap/prefix.sh "),
        ("/tmp/cap/prefix.sh --log-level 2", "/tmp/cap/prefix.sh --log-level 2 "),
        ("/opt/my wrap", "'/opt/my wrap' "),
        ("/opt/my wrap --x", "'/opt/my wrap' --x "),
        ("/bin/wrap -x; rm -rf ~", None),  # the unquoted rest would be shell code
        ("/bin/wrap -x $(id)", None),
        (" -x", "' -x' "),  # JS: lastIndexOf(" -") is 0, so no split
    ],
)
def test_prefix_heads_follow_claude_codes_rendering(prefix: str, head: str | None) -> None:
    assert claude.prefix_head(prefix) == head


@pytest.mark.parametrize(
    "script",
    [
        prefixed("ls", shopt=claude.SHOPT),  # the bash extglob line is not what it writes here
        claude.prefix_head(PREFIX) + claude.quote(inner("ls")) + " ",  # type: ignore[operator]
        claude.prefix_head(PREFIX) + claude.quote(inner("ls")) + "; id",  # type: ignore[operator]
        claude.prefix_head(PREFIX) + '"' + inner("ls") + '"',  # type: ignore[operator]
        inner("ls"),  # the wrapper without the prefix in front
        "/bin/sh -c " + claude.quote(inner("ls")),
    ],
)
def test_anything_but_the_exact_prefixed_form_is_not_unwrapped(script: str) -> None:
    assert claude.unwrap_call(script, CONFIG, prefix=PREFIX) is None


def test_bash_hands_the_prefix_exactly_the_wrapper() -> None:
    # The prefix `/usr/bin/env -u X printf %s` would print its last argument: bash must
    # read our rendering as that program, those flags, and the wrapper as one word.
    prefix = "/usr/bin/env -u EXPACTI_NOPE printf"
    script = prefixed("'echo it'\"'\"'s'", prefix=prefix)
    found = claude.unwrap_call(script, CONFIG, prefix=prefix)
    assert found is not None and found.command == "echo it's"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert done.stdout == inner("'echo it'\"'\"'s'")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=60), st.sampled_from(["/w", "/w --a b", "/a b/w -q"]))
def test_any_command_round_trips_through_a_prefix(command: str, prefix: str) -> None:
    found = claude.unwrap_call(prefixed(claude.quote(command), prefix), CONFIG, prefix=prefix)
    assert found is not None
    assert found.command == command


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0), st.characters(blacklist_categories=("Cs",)))
def test_an_edit_outside_the_command_is_never_unwrapped_silently(where: int, char: str) -> None:
    script = prefixed(claude.quote("ls -la"))
    i = where % (len(script) + 1)
    edited = script[:i] + char + script[i:]
    found = claude.unwrap_call(edited, CONFIG, prefix=PREFIX)
    # Either not recognised, or the edit landed inside the command and shows in it.
    assert found is None or found.render() == edited


@given(st.text(max_size=300), st.text(max_size=40))
def test_the_recogniser_never_raises(text: str, prefix: str) -> None:
    claude.unwrap_call(text, CONFIG, prefix=prefix)


def test_the_zsh_variants_stay_ordinary_commands() -> None:
    # What 2.1.197 writes when $SHELL's path contains "zsh" (never the case for our shim).
    zsh_call = (
        f"source {SNAP} 2>/dev/null || true && setopt NO_EXTENDED_GLOB NO_BARE_GLOB_QUAL "
        "2>/dev/null || true && eval ls < /dev/null && pwd -P >| /tmp/claude-8cbe-cwd"
    )
    assert claude.unwrap_call(zsh_call, CONFIG) is None
    bash_script = (DATA / "claude-2.1.197-snapshot-norc.sh").read_text()
    assert claude.parse_snapshot_script(bash_script, "/tmp/cc/home2", "/tmp/cc/home2/.claude")
    zsh_script = bash_script.replace("snapshot-bash-", "snapshot-zsh-").replace(
        'echo "shopt -s expand_aliases" >> "$SNAPSHOT_FILE"', ""
    )
    assert (
        claude.parse_snapshot_script(zsh_script, "/tmp/cc/home2", "/tmp/cc/home2/.claude") is None
    )
