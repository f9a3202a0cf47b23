"""Prompts of programs without shell hooks, and what the user submitted at them (pure).

Given the rows of the screen and the cursor, `read_submission` finds the prompt the cursor sits
after (psql, mysql/MariaDB, sqlite3, python, sh/dash, a `user@host:~$ ` shell over ssh, or a
pattern from the config), gathers the input since the primary prompt (continuation lines,
wrapped rows), and says whether Enter makes the program run it: an SQL client runs a statement
once it holds `;` (or a backslash/dot command), python once `codeop` calls it complete, a shell
on every line. `frame_command` turns it into the command the risk layer and the reviewer see:
`psql -d app -c 'DROP TABLE t;'`, `python3 -c '...'`, `ssh host 'rm -rf x'`.
"""

from __future__ import annotations

import codeop
import re
import shlex
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Program families: which prompts to expect and how a submitted line is judged and framed.
PSQL, MYSQL, SQLITE, PYTHON, SHELL, CUSTOM = "psql", "mysql", "sqlite3", "python", "sh", "custom"
SQL_FAMILIES = frozenset({PSQL, MYSQL, SQLITE})
# Programs whose prompt may be any of the above (the prompt comes from the other side).
WRAPPER = "wrapper"


@dataclass(frozen=True)
class PromptPattern:
    """A prompt at the start of a screen row; the input begins where the match ends."""

    family: str
    regex: re.Pattern[str]
    continuation: bool = False


def _p(family: str, regex: str, continuation: bool = False) -> PromptPattern:
    return PromptPattern(family, re.compile(regex), continuation)


# psql: PROMPT1 `%/%R%x%# ` -> `app=> `, `app=# `, `app=*# ` (in a transaction);
# PROMPT2 `%/%R%x%# ` with R one of - ( ' " $ * -> `app-> `, `app(# `.
# mysql: `mysql> `, `MariaDB [app]> `, continuation `    -> `, `    '> `, `    /*> `.
# sqlite3: `sqlite> `, continuation `   ...> ` (3.45+: `(x1...> ` and the like).
# python: `>>> `, `... `; IPython `In [3]: `, `   ...: `.
# sh/dash: `$ `, `# `, continuation `> `; and user@host prompts of bash over ssh.
_USER_AT_HOST = (
    r"(?:\([^()\s]{1,40}\) )?"  # a virtualenv / conda marker
    r"(?:[\w.-]+@[\w.-]+(?::[^\s$#%>]*)?|\[[\w.-]+@[\w.-]+[^\]]*\])"
    r" ?[$#%>] "
)
DEFAULT_PATTERNS: tuple[PromptPattern, ...] = (
    _p(PSQL, r"^[\w.$-]{1,63}=[*!?]?[#>] "),
    _p(PSQL, r"^[\w.$-]{1,63}[-('\"$*][*!?]?[#>] ", continuation=True),
    _p(MYSQL, r"^(?:mysql|MariaDB \[[^\]]{0,64}\])> "),
    _p(MYSQL, r"^ {4}(?:->|'>|\">|`>|/\*>) ", continuation=True),
    _p(SQLITE, r"^sqlite> "),
    _p(SQLITE, r"^ *[(\w\"'`/*]*\.\.\.> ", continuation=True),
    _p(PYTHON, r"^>>> "),
    _p(PYTHON, r"^In \[\d+\]: "),
    _p(PYTHON, r"^\.\.\. ", continuation=True),
    _p(PYTHON, r"^ +\.\.\.: ", continuation=True),
    _p(SHELL, _USER_AT_HOST.join(("^", ""))),
    _p(SHELL, r"^[$#] "),
    _p(SHELL, r"^> ", continuation=True),
)

# Program name (as in /proc/PID/comm) -> family.
_PROGRAMS = {
    "psql": PSQL,
    "mysql": MYSQL,
    "mariadb": MYSQL,
    "sqlite3": SQLITE,
    "ipython": PYTHON,
    "ipython3": PYTHON,
    "sh": SHELL,
    "dash": SHELL,
    "ash": SHELL,
    "ksh": SHELL,
    "ksh93": SHELL,
    "mksh": SHELL,
    "busybox": SHELL,
    "bash": SHELL,
    "zsh": SHELL,
    "ssh": WRAPPER,
    "mosh-client": WRAPPER,
    "telnet": WRAPPER,
    "docker": WRAPPER,
    "podman": WRAPPER,
    "kubectl": WRAPPER,
    "nsenter": WRAPPER,
}
_PYTHON_NAME = re.compile(r"^(?:python|pypy)[0-9.]*$")


def program_family(name: str) -> str:
    """The family of a program name (`python3.11` -> python), "" when it has no known prompt."""
    if _PYTHON_NAME.match(name):
        return PYTHON
    return _PROGRAMS.get(name, "")


def custom_patterns(regexes: Iterable[str]) -> tuple[PromptPattern, ...]:
    """Patterns from the config (`prompt_patterns`): each a primary prompt at a row's start.
    A regex that does not compile is skipped with a warning (the config stays usable)."""
    patterns = []
    for text in regexes:
        try:
            regex = re.compile(text if text.startswith("^") else "^" + text)
        except re.error as exc:
            warnings.warn(
                f"prompt_patterns: {text!r} is not a regex ({exc}); skipped", stacklevel=2
            )
            continue
        patterns.append(PromptPattern(CUSTOM, regex))
    return tuple(patterns)


def patterns_for(family: str, extra: Sequence[PromptPattern] = ()) -> tuple[PromptPattern, ...]:
    """The prompts to look for while a program of `family` is in the foreground."""
    if family == WRAPPER:
        return (*extra, *DEFAULT_PATTERNS)
    return (*extra, *(p for p in DEFAULT_PATTERNS if p.family == family))


@dataclass(frozen=True)
class PromptMatch:
    pattern: PromptPattern
    end: int  # where the input starts on the row


def match_prompt(row: str, patterns: Sequence[PromptPattern]) -> PromptMatch | None:
    """The first pattern that matches at the start of `row`. Rows come with trailing blanks
    removed, so a prompt with nothing typed after it (`... `) has lost its final space: one
    is put back for matching."""
    padded = row + " "
    for pattern in patterns:
        found = pattern.regex.match(padded)
        if found is not None and found.end() > 0:
            return PromptMatch(pattern, min(found.end(), len(row)))
    return None


@dataclass(frozen=True)
class Submission:
    """What the user submitted at a prompt, and whether Enter makes the program run it."""

    family: str
    text: str  # the input since the primary prompt, lines joined with "\n"
    runs: bool  # Enter executes it (False: the program only waits for more input)
    complete_view: bool = True  # False: the primary prompt scrolled off; `text` is its tail


def read_submission(
    rows: Sequence[str],
    cursor_row: int,
    full_rows: Sequence[bool],
    patterns: Sequence[PromptPattern],
    *,
    pasted: bool = False,
    delimiter: str = ";",
) -> Submission | None:
    """The input at the prompt the cursor is in, or None when the cursor is not in one.

    `rows` are the screen's rows (trailing blanks removed); `full_rows[i]` says row i reaches
    the last column, so a row after it without a prompt is the same line, wrapped. Rows below
    the cursor must be blank or the wrapped rest of its line: anything else means the program
    is not sitting at a prompt (output, a full-screen layout). A row that is neither a prompt
    nor a wrap is input only when the user pasted line breaks (`pasted`); otherwise the cursor
    is in some output, not at a prompt."""
    if not 0 <= cursor_row < len(rows):
        return None
    last = cursor_row
    while (
        last + 1 < len(rows)
        and full_rows[last]
        and rows[last + 1]
        and match_prompt(rows[last + 1], patterns) is None
    ):
        last += 1
    if any(rows[r].strip() for r in range(last + 1, len(rows))):
        return None
    lines: list[str] = []  # logical lines, bottom up
    current = ""
    family = ""
    for row in range(last, -1, -1):
        found = match_prompt(rows[row], patterns)
        if found is None:
            current = rows[row] + current
            if row > 0 and full_rows[row - 1]:
                continue  # a wrapped line: it starts on the row above
            if not pasted:
                return None
            lines.append(current)
            current = ""
            continue
        lines.append(rows[row][found.end :] + current)
        current = ""
        family = family or found.pattern.family
        if not found.pattern.continuation:
            text = "\n".join(reversed(lines))
            family = found.pattern.family
            return Submission(family, text, runs=_runs(family, text, delimiter))
    if not family:
        return None
    # The primary prompt scrolled off: only the tail is visible. It is still gated (what runs
    # is at least this), and the reviewer is told it is a tail.
    if current:
        lines.append(current)
    return Submission(family, "\n".join(reversed(lines)), runs=True, complete_view=False)


def _runs(family: str, text: str, delimiter: str) -> bool:
    if not text.strip():
        return family == PYTHON and "\n" in text  # a blank line ends a python block
    if family in SQL_FAMILIES:
        return _sql_runs(family, text, delimiter)
    if family == PYTHON:
        return _python_runs(text)
    return True  # shells, custom prompts: every line is a command


_MYSQL_CLIENT_COMMANDS = frozenset(
    "? charset clear connect delimiter edit ego exit go help nopager notee nowarning pager "
    "print prompt quit rehash source status system tee use warnings".split()
)


def _sql_runs(family: str, text: str, delimiter: str) -> bool:
    """Does Enter make the client run something? Erring towards yes (a `;` in a string)."""
    first = text.lstrip()
    first_word = first.split(None, 1)[0].lower() if first else ""
    if ";" in text or (delimiter and delimiter in text):
        return True
    if family == PSQL:
        return "\\" in text  # meta-commands: \g runs the buffer, \! a shell, \i a file
    if family == SQLITE:
        last_line = text.rsplit("\n", 1)[-1].strip().lower()
        return first.startswith(".") or last_line in ("go", "/")
    return "\\" in text or first_word.rstrip(";") in _MYSQL_CLIENT_COMMANDS


def _python_runs(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return codeop.compile_command(text, "<input>", "single") is not None
    except (SyntaxError, ValueError, OverflowError):
        return True  # a newer python may accept what this one cannot compile: gate it


def mysql_delimiter(text: str, current: str) -> str:
    """The statement delimiter after `text` ran (`DELIMITER //` changes it)."""
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].lower() == "delimiter":
            current = words[1]
    return current


@dataclass(frozen=True)
class Target:
    """What the foreground program talks to: its family, and argv details for framing."""

    family: str
    program: str = ""  # the client's name as started (psql, sqlite3, python3)
    database: str = ""  # database / file the client opened
    host: str = ""  # ssh: the remote host


def frame_command(submission: Submission, target: Target) -> str:
    """The command the reviewer and the risk layer see for a submitted statement or line."""
    text = submission.text
    if not submission.complete_view:
        text = _tail_note(submission.family) + text
    inner = _frame(submission.family, text, target)
    if target.host and target.family == WRAPPER:
        return _join(["ssh", target.host, inner])
    return inner


def _tail_note(family: str) -> str:
    if family in SQL_FAMILIES:
        return "-- [expacti: the start of this statement scrolled off the screen]\n"
    return "# [expacti: the start of this input scrolled off the screen]\n"


def _frame(family: str, text: str, target: Target) -> str:
    same = target.family == family
    database = target.database if same else ""
    if family == PSQL:
        return _join(["psql", *(["-d", database] if database else []), "-c", text])
    if family == MYSQL:
        return _join(["mysql", *(["-D", database] if database else []), "-e", text])
    if family == SQLITE:
        return _join(["sqlite3", database or ":memory:", text])
    if family == PYTHON:
        program = target.program if same and target.program.startswith("python") else "python3"
        return _join([program, "-c", text])
    return text


def _join(words: Sequence[str]) -> str:
    """shlex.join, but a word holding single quotes goes in double quotes when it can: the
    reviewer reads `-c "os.system('ls')"`, not `-c 'os.system('"'"'ls'"'"')'`."""
    return " ".join(_quote(w) for w in words)


def _quote(word: str) -> str:
    if "'" in word and not any(c in word for c in '"$`\\!'):
        return f'"{word}"'
    return shlex.quote(word)
