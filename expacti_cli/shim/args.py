"""How bash reads its own arguments: is this a `-c` call, and which string does it run?

bash(1): options come first (long ones, then single-letter bundles like `-lc` or `-xe`; `-o`
and `-O` take the next word); the first word that is not an option ends them. With `-c` that
word is the command string and the words after it become $0, $1, ... Without `-c` it names a
script file, and with no such word bash reads commands from stdin.
"""

from __future__ import annotations

# Long options bash accepts (bash --help); two of them take the next word.
_LONG_FLAGS = frozenset(
    {
        "--debug",
        "--debugger",
        "--dump-po-strings",
        "--dump-strings",
        "--help",
        "--login",
        "--noediting",
        "--noprofile",
        "--norc",
        "--posix",
        "--pretty-print",
        "--restricted",
        "--verbose",
        "--version",
    }
)
_LONG_WITH_VALUE = frozenset({"--rcfile", "--init-file"})
# Letters that take the next word as their value (`-o pipefail`, `+O extglob`).
_WITH_VALUE = frozenset("oO")

COMMAND = "command"  # -c STRING: gate STRING
SCRIPT = "script"  # a script file, or commands read from a pipe: gate the invocation itself
INTERACTIVE = "interactive"  # a terminal on stdin, no -c and no file
NOTHING = "nothing"  # bash runs no command: --version, --help, -n (noexec), or a usage error
UNKNOWN = "unknown"  # options this parser does not know: gate the invocation itself


class Invocation:
    """What a bash argument list asks for."""

    __slots__ = ("mode", "command", "login", "script")

    def __init__(
        self, mode: str, command: str | None = None, login: bool = False, script: str | None = None
    ) -> None:
        self.mode = mode
        self.command = command  # the -c string (mode COMMAND)
        self.login = login
        self.script = script  # mode SCRIPT: the script file; None when commands come on stdin

    def __repr__(self) -> str:
        return f"Invocation({self.mode!r}, {self.command!r}, login={self.login!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Invocation) and (
            self.mode,
            self.command,
            self.login,
            self.script,
        ) == (other.mode, other.command, other.login, other.script)

    __hash__ = None  # type: ignore[assignment]


def parse(args: list[str], stdin_is_tty: bool) -> Invocation:
    """Classify `args` (argv without argv[0]) the way bash would read them."""
    dash_c = False
    login = False
    only_prints = False
    noexec = False  # -n / -o noexec: bash reads commands but runs none (not when interactive)
    i = 0
    # Long options are only recognised before the first single-letter option (bash(1)).
    long_allowed = True
    while i < len(args):
        word = args[i]
        if word in ("--", "-"):
            i += 1
            break
        if word.startswith("--") and long_allowed:
            if word in _LONG_WITH_VALUE:
                i = min(i + 2, len(args))
                continue
            if word not in _LONG_FLAGS:
                return Invocation(UNKNOWN)
            login = login or word == "--login"
            only_prints = only_prints or word in ("--help", "--version")
            i += 1
            continue
        if len(word) > 1 and word[0] in "-+" and not word.startswith("--"):
            long_allowed = False
            values: list[str] = []  # letters that take the next words, in order
            for letter in word[1:]:
                if letter == "c" and word[0] == "-":
                    dash_c = True
                elif letter == "l" and word[0] == "-":
                    login = True
                elif letter == "n":
                    noexec = word[0] == "-"
                elif letter in _WITH_VALUE:
                    values.append(letter)
                elif not (letter.isascii() and letter.isalpha()):
                    return Invocation(UNKNOWN)
            for offset, letter in enumerate(values, start=1):
                if letter == "o" and i + offset < len(args) and args[i + offset] == "noexec":
                    noexec = word[0] == "-"
            # A trailing `-o` with no value makes bash list its options and go on reading.
            i = min(i + 1 + len(values), len(args))
            continue
        if word.startswith("--"):
            return Invocation(UNKNOWN)  # a long option after a short one: bash refuses it
        break
    rest = args[i:]
    interactive = not dash_c and not rest and stdin_is_tty
    if only_prints or (noexec and not interactive):
        return Invocation(NOTHING, login=login)
    if dash_c:
        if not rest:
            return Invocation(NOTHING, login=login)  # "-c: option requires an argument"
        return Invocation(COMMAND, rest[0], login=login)
    if rest:
        return Invocation(SCRIPT, login=login, script=rest[0])
    if not stdin_is_tty:
        return Invocation(SCRIPT, login=login)
    return Invocation(INTERACTIVE, login=login)
