"""Which shell integration a program gets, and the argv and environment that inject it.

bash gets `--init-file`; zsh a ZDOTDIR of stub files that read the user's own files and then
ours; fish `--init-command`. Every program `expacti run` starts also gets the environment
that makes a zsh or fish it starts later load the integration (ZDOTDIR, and a `vendor_conf.d`
directory first in XDG_DATA_DIRS), so an interactive shell an agent opens is gated too; and
each integrated shell wraps `bash`, `zsh` and `fish` typed at its prompt. The stubs are written
under the runtime directory (see `write_stubs`), since they name this installation's paths.

Run as a script (`python -IS integration.py bash ARGS...`), prints the argv that starts
`bash ARGS...` with the integration (`env NAME=VALUE... bash --init-file ...`), separated by
NULs: the nested-shell wrappers of the zsh and fish integrations use it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASH_SCRIPT = HERE / "bash_integration.bash"
ZSH_SCRIPT = HERE / "zsh_integration.zsh"
FISH_SCRIPT = HERE / "fish_integration.fish"
LINE_GATE = HERE / "line_gate.py"
THIS_FILE = HERE / "integration.py"

ZSH_STAGES = ("zshenv", "zprofile", "zshrc", "zlogin")
FISH_VENDOR_FILE = "expacti.fish"  # in <stubs>/data/fish/vendor_conf.d/
DEFAULT_XDG_DATA_DIRS = "/usr/local/share:/usr/share"  # the XDG spec's value when unset

# bash options after which the rest is not an interactive session we can hook.
_BASH_NOT_INTERACTIVE = {"-c", "-s", "--version", "--help", "-n", "--noexec"}


@dataclass(frozen=True)
class Launch:
    """What to execute, and what to add to its environment."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    integration: str = ""  # "bash", "zsh", "fish", or "" when the program gets none


def _shell_name(program: str) -> str:
    name = Path(program).name
    if name in ("bash", "bash5"):
        return "bash"
    if name in ("zsh", "zsh5") or name.startswith("zsh-"):
        return "zsh"
    return "fish" if name == "fish" else ""


def _gate_env(nonce: str) -> dict[str, str]:
    return {
        "EXPACTI_NONCE": nonce,
        "EXPACTI_PYTHON": sys.executable,
        "EXPACTI_LINE_GATE": str(LINE_GATE),
    }


def bash_launch(argv: list[str], nonce: str) -> Launch | None:
    """`bash [OPTIONS]` as an interactive shell with our --init-file; None when the bash
    invocation runs a script or a command (`-c`, a file argument, `-l`, `-i` not needed)."""
    program, rest = argv[0], argv[1:]
    kept: list[str] = []
    rc: str | None = None  # None: the usual files; "": none (--norc); else that file
    args = iter(rest)
    for arg in args:
        if arg in ("--norc",):
            rc = ""
        elif arg in ("--rcfile", "--init-file"):
            rc = next(args, "")
        elif arg in ("-l", "--login") or arg in _BASH_NOT_INTERACTIVE:
            return None  # login shells read profiles, not init files: not hooked yet
        elif arg in ("-o", "+o", "-O", "+O"):
            kept += [arg, next(args, "")]  # an option that takes a value (`-o vi`)
        elif arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            return None  # bundled short options with -c (`-ec`)
        elif not arg.startswith("-") and not arg.startswith("+"):
            return None  # a script file: not an interactive shell
        else:
            kept.append(arg)
    env = _gate_env(nonce)
    if rc is not None:
        env["EXPACTI_BASH_RC"] = rc
    return Launch([program, "--init-file", str(BASH_SCRIPT), *kept], env, "bash")


def _is_no_rcs(arg: str, value: str | None) -> bool:
    """`-o norcs`, `+o rcs`, `--no-rcs`, `--norcs`, `--NO_RCS`... (zsh ignores case and `_`)."""

    def norm(name: str) -> str:
        return name.lower().replace("_", "").replace("-", "")

    if arg == "-o" and value is not None:
        return norm(value) == "norcs"
    if arg == "+o" and value is not None:
        return norm(value) == "rcs"
    return arg.startswith("--") and norm(arg[2:]) == "norcs"


def zsh_argv(argv: list[str]) -> tuple[list[str], bool]:
    """zsh's argv without the options that would skip every startup file (`-f`, `--no-rcs`),
    which our stubs emulate instead, and whether there was one. Options end at the first
    operand, `-c`'s command, `--` or `-`."""
    out = [argv[0]]
    no_rcs = False
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg in ("--", "-") or arg[:1] not in ("-", "+") or arg in ("--version", "--help"):
            break
        if arg in ("-o", "+o") and i + 1 < len(argv):
            if _is_no_rcs(arg, argv[i + 1]):
                no_rcs = True
            else:
                out += [arg, argv[i + 1]]
            i += 2
            continue
        if _is_no_rcs(arg, None):
            no_rcs = True
        elif arg[0] == "-" and not arg.startswith("--") and "f" in arg[1:]:
            no_rcs = True
            letters = arg[1:].replace("f", "")
            if letters:
                out.append("-" + letters)
        else:
            out.append(arg)
        if arg[0] == "-" and not arg.startswith("--") and "c" in arg[1:]:
            i += 1
            break  # the rest is the command and its $0, $1...
        i += 1
    return out + argv[i:], no_rcs


def _quote(text: str) -> str:
    """Single-quoted for zsh, bash and fish alike (a quote is written '\\'' ... fish reads
    `\\'` inside single quotes, so only paths without quotes or backslashes are written)."""
    if "'" in text or "\\" in text or "\n" in text:
        raise ValueError(f"cannot write {text!r} into a shell stub")
    return f"'{text}'"


def _stub_header() -> str:
    return "# Written by `expacti run` (the shell integration); it is written again as needed.\n"


def write_stubs(directory: Path) -> Path:
    """Write the zsh stub ZDOTDIR (`directory/zsh`) and the fish vendor file
    (`directory/data/fish/vendor_conf.d`), atomically; return `directory`."""
    python, gate, script, fish = (
        _quote(sys.executable),
        _quote(str(LINE_GATE)),
        _quote(str(ZSH_SCRIPT)),
        _quote(str(FISH_SCRIPT)),
    )
    tool = _quote(str(THIS_FILE))
    zdotdir = directory / "zsh"
    files: dict[Path, str] = {}
    for stage in ZSH_STAGES:
        text = _stub_header()
        if stage == "zshenv":
            text += (
                f"typeset -g __expacti_python={python} __expacti_line_gate={gate}\n"
                f"typeset -g __expacti_integration_py={tool}\n"
            )
        files[zdotdir / f".{stage}"] = text + f"builtin source -- {script} {stage}\n"
    files[directory / "data" / "fish" / "vendor_conf.d" / FISH_VENDOR_FILE] = (
        _stub_header()
        + f"set -g __expacti_python {python}\nset -g __expacti_line_gate {gate}\n"
        + f"set -g __expacti_integration_py {tool}\nset -g __expacti_zdotdir {_quote(str(zdotdir))}\n"
        + f"set -g __expacti_vendor_file (status filename)\nsource {fish}\n"
    )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text)
        os.replace(temporary, path)
    return directory


def stubs_dir() -> Path:
    """The stub files of this installation, written under the private runtime directory."""
    from expacti_cli.broker import sockets

    return write_stubs(sockets.runtime_dir() / "shells")


def nested_env(stubs: Path, environ: dict[str, str]) -> dict[str, str]:
    """What makes a zsh or fish started anywhere below load the integration."""
    data_dirs = environ.get("XDG_DATA_DIRS", "") or DEFAULT_XDG_DATA_DIRS
    ours = str(stubs / "data")
    if data_dirs.split(":")[0] != ours:
        data_dirs = f"{ours}:{data_dirs}"
    env = {"XDG_DATA_DIRS": data_dirs, "ZDOTDIR": str(stubs / "zsh")}
    user_zdotdir = environ.get("ZDOTDIR", "")
    if user_zdotdir and user_zdotdir != env["ZDOTDIR"]:
        env["EXPACTI_USER_ZDOTDIR"] = user_zdotdir
    elif user_zdotdir != env["ZDOTDIR"]:
        env["EXPACTI_USER_ZDOTDIR"] = ""
    return env


def zsh_launch(argv: list[str], nonce: str, stubs: Path, environ: dict[str, str]) -> Launch:
    """zsh reads our stub ZDOTDIR (whatever its arguments: the stubs check for an interactive
    shell themselves); `-f` is emulated by the stubs."""
    new_argv, no_rcs = zsh_argv(argv)
    env = {**_gate_env(nonce), **nested_env(stubs, environ)}
    if no_rcs:
        env["EXPACTI_ZSH_NORCS"] = "1"
    return Launch(new_argv, env, "zsh")


def fish_launch(argv: list[str], nonce: str, stubs: Path, environ: dict[str, str]) -> Launch:
    """fish sources the integration from `--init-command` (after its config files; also with
    `--no-config`); the vendor file does the same for a fish started below it."""
    vendor = stubs / "data" / "fish" / "vendor_conf.d" / FISH_VENDOR_FILE
    command = f"source {_quote(str(vendor))}"
    env = {**_gate_env(nonce), **nested_env(stubs, environ)}
    return Launch([argv[0], "--init-command", command, *argv[1:]], env, "fish")


def launch_for(argv: list[str], nonce: str, environ: dict[str, str] | None = None) -> Launch:
    """The program with its shell integration, when we have one for it, and in every case
    the environment that integrates a zsh or fish started below it."""
    environ = dict(os.environ) if environ is None else environ
    shell = _shell_name(argv[0])
    try:
        stubs: Path | None = stubs_dir()
    except (OSError, ValueError) as exc:
        stubs = None
        sys.stderr.write(
            f"expacti: warning: no zsh/fish integration ({exc}); their lines are not gated\n"
        )
    nested = nested_env(stubs, environ) if stubs is not None else {}
    if shell == "bash" and (found := bash_launch(argv, nonce)) is not None:
        return Launch(found.argv, {**nested, **found.env}, found.integration)
    if shell == "zsh" and stubs is not None:
        return zsh_launch(argv, nonce, stubs, environ)
    if shell == "fish" and stubs is not None:
        return fish_launch(argv, nonce, stubs, environ)
    return Launch(list(argv), nested)


def nested_bash_argv(args: list[str], nonce: str) -> list[str]:
    """`bash ARGS` as run from inside an integrated shell: through `env` with the gate's
    variables when it is an interactive bash, else unchanged."""
    argv = ["bash", *args]
    found = bash_launch(argv, nonce)
    if found is None:
        return argv
    return ["env", *(f"{k}={v}" for k, v in found.env.items()), *found.argv]


if __name__ == "__main__":
    # `python -IS integration.py bash ARGS...`: the argv, NUL-separated (see the docstring).
    if len(sys.argv) < 2 or sys.argv[1] != "bash":
        sys.stderr.write("usage: integration.py bash [ARGS...]\n")
        sys.exit(2)
    # The calling shell hands down its session's nonce (so `expacti run` reads the nested
    # shell's marks too); without one, the new shell gets its own.
    given = os.environ.get("EXPACTI_NONCE", "")
    valid = len(given) >= 8 and all(c in "0123456789abcdef" for c in given)
    sys.stdout.write(
        "\0".join(nested_bash_argv(sys.argv[2:], given if valid else os.urandom(8).hex()))
    )
