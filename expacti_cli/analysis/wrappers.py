"""Looking through wrappers: `sudo -u deploy timeout 5 nice -n 10 rm -rf x` runs `rm`.

A wrapper runs its argument words as a command without a shell in between, so the inner
command is found by skipping the wrapper's own options. Commands that take code as a string
(`sh -c`, `eval`, `ssh`, `watch`...) are not wrappers: see invocations.py.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence

from expacti_cli.analysis.normalize import program_name
from expacti_cli.analysis.words import Word, literal

_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def is_assignment(word: Word) -> bool:
    """`NAME=value` as a literal word (what env and sudo accept before the command)."""
    return not word.dynamic and _ASSIGNMENT.match(word.value) is not None


def skip_options(
    words: Sequence[Word],
    i: int,
    short_values: str = "",
    long_values: frozenset[str] = frozenset(),
    optional_attached: str = "",
) -> int:
    """Index of the first word after the options starting at i.

    `short_values` are single-letter options taking a value (attached `-uroot` or separate
    `-u root`, also at the end of a bundle); `optional_attached` letters only take an attached
    value (xargs `-i{}`); `long_values` are `--name` options taking a separate value.
    """
    n = len(words)
    while i < n:
        word = words[i]
        w = word.value
        if word.dynamic or len(w) < 2 or w[0] != "-":
            return i
        if w == "--":
            return i + 1
        if w[1] == "-":
            i += 2 if ("=" not in w and w in long_values) else 1
            continue
        takes_next = False
        for j in range(1, len(w)):
            ch = w[j]
            if ch in optional_attached:
                break
            if ch in short_values:
                takes_next = j == len(w) - 1
                break
        i += 2 if takes_next else 1
    return i


def _skip_assignments(words: Sequence[Word], i: int, env: list[tuple[str, str]]) -> int:
    while i < len(words) and is_assignment(words[i]):
        name, _, value = words[i].value.partition("=")
        env.append((name, value))
        i += 1
    return i


# A handler gets the words and the wrapper's index and returns where the inner command starts
# (None when the wrapper runs nothing: `sudo -l`, `command -v rm`), optionally with new words.
Handler = Callable[[list[Word], int, list[tuple[str, str]]], tuple[int | None, list[Word] | None]]


def _sudo(words: list[Word], i: int, env: list[tuple[str, str]]) -> tuple[int | None, None]:
    j = i + 1
    while j < len(words):
        w = words[j].value
        if words[j].dynamic or not w.startswith("-") or w == "-":
            break
        if w == "--":
            j += 1
            break
        if w in ("-e", "--edit", "-l", "--list", "-v", "--validate", "-V", "--version"):
            return None, None
        if w in ("-K", "--remove-timestamp", "-k", "--reset-timestamp") and j + 1 == len(words):
            return None, None
        j = _skip_one(words, j, "ughpCDrtTUc", _SUDO_LONG)
    j = _skip_assignments(words, j, env)
    if j < len(words) and words[j].value == "--":
        j += 1
    return j, None


_SUDO_LONG = frozenset(
    {
        "--user",
        "--group",
        "--host",
        "--prompt",
        "--close-from",
        "--chdir",
        "--role",
        "--type",
        "--command-timeout",
        "--other-user",
    }
)


def _skip_one(words: Sequence[Word], j: int, short_values: str, long_values: frozenset[str]) -> int:
    """Skip exactly one option word (and its value)."""
    w = words[j].value
    if w.startswith("--"):
        return j + (2 if "=" not in w and w in long_values else 1)
    for k in range(1, len(w)):
        if w[k] in short_values:
            return j + (2 if k == len(w) - 1 else 1)
    return j + 1


def _env(
    words: list[Word], i: int, env: list[tuple[str, str]]
) -> tuple[int | None, list[Word] | None]:
    j = i + 1
    n = len(words)
    while j < n:
        word = words[j]
        w = word.value
        if word.dynamic:
            break
        if w == "--":
            j += 1
            break
        if w in ("-S", "--split-string") or w.startswith(("--split-string=", "-S")):
            # env -S 'cmd args' splits one string into the command's words.
            if w in ("-S", "--split-string"):
                text = words[j + 1].value if j + 1 < n else ""
                rest = j + 2
            else:
                text = w.split("=", 1)[1] if w.startswith("--") else w[2:]
                rest = j + 1
            try:
                split = shlex.split(text)
            except ValueError:
                split = text.split()
            new_words = [*words[:j], *(literal(s) for s in split), *words[rest:]]
            k = _skip_assignments(new_words, j, env)
            return k, new_words
        if is_assignment(word):
            j = _skip_assignments(words, j, env)
            continue
        if not w.startswith("-") or w == "-":
            break
        j = _skip_one(words, j, "uCP", frozenset({"--unset", "--chdir"}))
    return j, None


def _options_then_command(
    short_values: str,
    long_values: frozenset[str] = frozenset(),
    positionals: int = 0,
    optional_attached: str = "",
) -> Handler:
    """A wrapper whose options are followed by `positionals` fixed arguments, then the command."""

    def handler(
        words: list[Word], i: int, env: list[tuple[str, str]]
    ) -> tuple[int | None, list[Word] | None]:
        j = skip_options(words, i + 1, short_values, long_values, optional_attached)
        return j + positionals, None

    return handler


def _command_builtin(
    words: list[Word], i: int, env: list[tuple[str, str]]
) -> tuple[int | None, list[Word] | None]:
    j = i + 1
    while j < len(words) and words[j].value.startswith("-") and not words[j].dynamic:
        if words[j].value == "--":
            return j + 1, None
        if "v" in words[j].value or "V" in words[j].value:
            return None, None  # `command -v rm` looks rm up, it does not run it
        j += 1
    return j, None


def _nice(
    words: list[Word], i: int, env: list[tuple[str, str]]
) -> tuple[int | None, list[Word] | None]:
    j = i + 1
    while j < len(words) and not words[j].dynamic:
        w = words[j].value
        if w == "--":
            return j + 1, None
        if w in ("-n", "--adjustment"):
            j += 2
        elif w.startswith("-") and len(w) > 1:
            j += 1  # -10, -n10, --adjustment=10
        else:
            break
    return j, None


def _xargs(
    words: list[Word], i: int, env: list[tuple[str, str]]
) -> tuple[int | None, list[Word] | None]:
    j = skip_options(
        words,
        i + 1,
        short_values="ILnPsdEa",
        long_values=frozenset(
            {
                "--arg-file",
                "--delimiter",
                "--max-args",
                "--max-procs",
                "--max-lines",
                "--max-chars",
                "--process-slot-var",
            }
        ),
        optional_attached="ile",
    )
    return j, None


def _parallel_end(words: Sequence[Word], start: int) -> int:
    for k in range(start, len(words)):
        if words[k].value in (":::", ":::+", "::::", "::::+"):
            return k
    return len(words)


def _parallel(
    words: list[Word], i: int, env: list[tuple[str, str]]
) -> tuple[int | None, list[Word] | None]:
    j = skip_options(
        words,
        i + 1,
        short_values="jSaINnLsdE",
        long_values=frozenset(
            {
                "--jobs",
                "--sshlogin",
                "--joblog",
                "--arg-file",
                "--delay",
                "--timeout",
                "--results",
                "--colsep",
                "--tmpdir",
                "--workdir",
                "--retries",
                "--halt",
                "--env",
                "--sshloginfile",
                "--basefile",
            }
        ),
    )
    end = _parallel_end(words, j)
    if end - j == 1 and any(ch.isspace() for ch in words[j].value):
        return None, None  # `parallel 'rm {}' ::: a`: one word of shell code, see walker
    # The argument lists after ::: are data, not part of the command.
    return j, [*words[:end]] if end < len(words) else None


WRAPPERS: dict[str, Handler] = {
    "sudo": _sudo,
    "doas": _options_then_command("uC"),
    "env": _env,
    "timeout": _options_then_command("sk", frozenset({"--signal", "--kill-after"}), positionals=1),
    "nice": _nice,
    "ionice": _options_then_command("cnt", frozenset({"--class", "--classdata"})),
    "nohup": _options_then_command(""),
    "stdbuf": _options_then_command("ioe", frozenset({"--input", "--output", "--error"})),
    "setsid": _options_then_command(""),
    "time": _options_then_command("fo", frozenset({"--format", "--output"})),
    "command": _command_builtin,
    "builtin": _options_then_command(""),
    "exec": _options_then_command("a"),
    "xargs": _xargs,
    "parallel": _parallel,
    "nocorrect": _options_then_command(""),
    "noglob": _options_then_command(""),
    "unbuffer": _options_then_command(""),
    "caffeinate": _options_then_command("tw"),
    "chronic": _options_then_command(""),
    "busybox": _options_then_command(""),
    "coproc": _options_then_command(""),
    "chroot": _options_then_command("", frozenset({"--userspec", "--groups"}), positionals=1),
}


def look_through(
    words: list[Word], start: int = 0
) -> tuple[list[Word], int, list[str], list[tuple[str, str]]]:
    """Skip wrappers from `start`: (words, index of the real command, wrappers, env).

    The word list may be replaced (env -S splits a string, parallel drops its ::: lists).
    When a wrapper runs nothing (`sudo -l`) the wrapper itself is the command.
    """
    wrappers: list[str] = []
    env: list[tuple[str, str]] = []
    i = start
    while i < len(words):
        word = words[i]
        if word.dynamic:
            break
        name = program_name(word.value)
        handler = WRAPPERS.get(name)
        if handler is None:
            break
        pending_env: list[tuple[str, str]] = []
        j, new_words = handler(words, i, pending_env)
        if j is None or j >= len(new_words if new_words is not None else words):
            break
        if new_words is not None:
            words = new_words
        env.extend(pending_env)
        wrappers.append(name)
        i = j
    return words, i, wrappers, env
