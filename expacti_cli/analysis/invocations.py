"""Commands that carry other code: shells, eval, interpreters, ssh, docker/kubectl exec, watch,
find -exec and su. Each function reads an argv (after wrappers) and says where the code is.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from expacti_cli.analysis.normalize import program_family
from expacti_cli.analysis.words import Word
from expacti_cli.analysis.wrappers import skip_options

SHELLS = frozenset(
    {"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "rbash", "tcsh", "csh"}
)
INTERPRETERS = frozenset({"python", "node", "perl", "ruby", "php", "deno", "bun", "osascript"})
SOURCE_BUILTINS = frozenset({"source", "."})


@dataclass(frozen=True)
class ShellInvocation:
    """How a shell was asked to get its script."""

    mode: str  # "c" (script string), "file", "stdin" (reads code from stdin)
    script: Word | None = None  # the -c script or the script file word


def shell_invocation(args: Sequence[Word]) -> ShellInvocation:
    """`bash -lc 'x'`, `sh script.sh`, `bash -s`, plain `bash` (stdin)."""
    c_flag = False
    s_flag = False
    i, n = 0, len(args)
    while i < n:
        word = args[i]
        w = word.value
        if word.dynamic or len(w) < 2 or w[0] not in "-+":
            break
        if w == "--" or w == "-":
            i += 1
            break
        if w.startswith("--"):
            if w in ("--rcfile", "--init-file", "--init-command", "--command"):
                if w == "--command":
                    c_flag = True
                    i += 1
                    break
                i += 2
            else:
                i += 1
            continue
        letters = w[1:]
        if w[0] == "-" and "c" in letters:
            c_flag = True
        if w[0] == "-" and "s" in letters:
            s_flag = True
        i += 2 if letters[-1] in "oO" else 1
    if c_flag:
        return ShellInvocation("c", args[i] if i < n else None)
    if i < n and not s_flag:
        return ShellInvocation("file", args[i])
    return ShellInvocation("stdin")


@dataclass(frozen=True)
class InterpreterInvocation:
    code: tuple[Word, ...] = ()  # code given on the command line (-c, -e, ...)
    reads_stdin: bool = False  # no code and no script: reads the program from stdin
    script: Word | None = None


# family -> (options whose value is code, options taking some other value)
_INTERPRETER_OPTIONS: dict[str, tuple[frozenset[str], str, frozenset[str]]] = {
    # code options, short options with a value, long options with a value
    "python": (frozenset({"-c"}), "WXQ", frozenset({"--check-hash-based-pycs"})),
    "node": (
        frozenset({"-e", "--eval", "-p", "--print"}),
        "r",
        frozenset({"--require", "--import", "--loader", "--input-type", "--env-file"}),
    ),
    "perl": (frozenset({"-e", "-E"}), "IMmx", frozenset()),
    "ruby": (frozenset({"-e"}), "IrCEFx", frozenset()),
    "php": (frozenset({"-r"}), "dcz", frozenset()),
    "osascript": (frozenset({"-e"}), "l", frozenset()),
    "deno": (frozenset(), "", frozenset()),
    "bun": (frozenset({"-e", "--eval", "-p", "--print"}), "", frozenset()),
}


def interpreter_invocation(program: str, args: Sequence[Word]) -> InterpreterInvocation:
    """python -c, node -e/-p, perl -e (also bundled -pe), ruby -e, php -r."""
    family = program_family(program)
    code_opts, short_values, long_values = _INTERPRETER_OPTIONS.get(
        family, (frozenset(), "", frozenset())
    )
    code: list[Word] = []
    i, n = 0, len(args)
    if family == "deno" and n and args[0].value == "eval":
        return InterpreterInvocation(code=tuple(args[1:2]))
    while i < n:
        word = args[i]
        w = word.value
        if word.dynamic or len(w) < 2 or w[0] != "-":
            break
        if w == "--":
            i += 1
            break
        if w in code_opts:
            if i + 1 < n:
                code.append(args[i + 1])
            i += 2
            if family == "python":
                return InterpreterInvocation(code=tuple(code))  # the rest is sys.argv
            continue
        if family == "python" and w == "-m":
            return InterpreterInvocation()
        if w.startswith("--"):
            name, eq, value = w.partition("=")
            if name in code_opts and eq:
                code.append(Word(value))
                i += 1
            else:
                i += 2 if (not eq and name in long_values) else 1
            continue
        # short bundle: perl -pe 'code', python -Bc 'code', php -r'code'
        consumed = False
        for k in range(1, len(w)):
            opt = "-" + w[k]
            if opt in code_opts:
                rest = w[k + 1 :]
                if rest:
                    code.append(Word(rest))
                    i += 1
                elif i + 1 < n:
                    code.append(args[i + 1])
                    i += 2
                else:
                    i += 1
                consumed = True
                break
            if w[k] in short_values:
                i += 1 if k < len(w) - 1 else 2
                consumed = True
                break
        if not consumed:
            i += 1
        if code and family == "python":
            return InterpreterInvocation(code=tuple(code))
    if code:
        return InterpreterInvocation(code=tuple(code))
    if i >= n or args[i].value == "-":
        return InterpreterInvocation(reads_stdin=True)
    return InterpreterInvocation(script=args[i])


_SSH_VALUES = "BbcDEeFIiJLlmOoPpQRSWw"


def ssh_invocation(args: Sequence[Word]) -> tuple[str, list[Word]] | None:
    """`ssh [opts] [user@]host [CMD...]` -> (host, command words), None without a host."""
    i = skip_options(args, 0, short_values=_SSH_VALUES)
    if i >= len(args):
        return None
    host = args[i].value
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    if host.startswith("ssh://"):
        host = host[6:].rsplit("@", 1)[-1].split("/", 1)[0]
    rest = list(args[i + 1 :])
    # Options may also follow the host (OpenSSH accepts `ssh host -t cmd`); skip them.
    j = skip_options(rest, 0, short_values=_SSH_VALUES) if rest and rest[0].value != "--" else 0
    if rest and rest[0].value == "--":
        j = 1
    return host, rest[j:]


_DOCKER_EXEC_LONG = frozenset({"--env", "--env-file", "--user", "--workdir", "--detach-keys"})


# `docker run` options that take a value: the image is the first word after them.
_DOCKER_RUN_SHORT = "aceEhlmpuvw"
_DOCKER_RUN_LONG = frozenset(
    """--add-host --attach --blkio-weight --cap-add --cap-drop --cgroup-parent --cgroupns
    --cidfile --cpu-period --cpu-quota --cpu-shares --cpus --cpuset-cpus --cpuset-mems --device
    --dns --dns-option --dns-search --entrypoint --env --env-file --expose --gpus --group-add
    --health-cmd --health-interval --health-retries --health-timeout --hostname --ip --ip6 --ipc
    --isolation --label --label-file --link --log-driver --log-opt --mac-address --memory
    --memory-reservation --memory-swap --mount --name --network --network-alias --pid
    --pids-limit --platform --publish --pull --restart --runtime --security-opt --shm-size
    --stop-signal --stop-timeout --storage-opt --sysctl --tmpfs --ulimit --user --userns --uts
    --volume --volume-driver --volumes-from --workdir --detach-keys""".split()
)


def docker_exec(args: Sequence[Word]) -> tuple[str, list[Word]] | None:
    """`docker [global] exec [opts] CONTAINER CMD...`, `docker run [opts] IMAGE CMD...` and
    `docker compose exec SERVICE CMD...`."""
    i = 0
    n = len(args)
    # global options before the subcommand
    while i < n and args[i].value.startswith("-"):
        i += (
            2
            if args[i].value in ("-H", "--host", "--context", "-c", "--config", "-l", "--log-level")
            else 1
        )
    if i < n and args[i].value == "compose":
        i += 1
        while i < n and args[i].value.startswith("-"):
            long_opts = ("-f", "--file", "-p", "--project-name", "--project-directory", "--profile")
            i += 2 if args[i].value in long_opts else 1
    if (
        i < n
        and args[i].value in ("run", "create")
        or (i + 1 < n and args[i].value == "container" and args[i + 1].value == "run")
    ):
        i += 2 if args[i].value == "container" else 1
        i = skip_options(args, i, short_values=_DOCKER_RUN_SHORT, long_values=_DOCKER_RUN_LONG)
        if i >= n:
            return None
        return args[i].value, list(args[i + 1 :])
    if i >= n or args[i].value != "exec":
        return None
    i += 1
    i = skip_options(args, i, short_values="euw", long_values=_DOCKER_EXEC_LONG)
    if i >= n:
        return None
    return args[i].value, list(args[i + 1 :])


def docker_compose_exec(args: Sequence[Word]) -> tuple[str, list[Word]] | None:
    """`docker-compose [opts] exec [opts] SERVICE CMD...`."""
    i = 0
    n = len(args)
    while i < n and args[i].value.startswith("-"):
        i += 2 if args[i].value in ("-f", "--file", "-p", "--project-name") else 1
    if i >= n or args[i].value != "exec":
        return None
    i = skip_options(args, i + 1, short_values="euw", long_values=_DOCKER_EXEC_LONG)
    if i >= n:
        return None
    return args[i].value, list(args[i + 1 :])


_KUBECTL_VALUES = frozenset(
    {
        "-n",
        "--namespace",
        "-c",
        "--container",
        "--context",
        "--kubeconfig",
        "--cluster",
        "--user",
        "-f",
        "--filename",
        "--pod-running-timeout",
        "-s",
        "--server",
        "--token",
        "--as",
    }
)


def kubectl_exec(args: Sequence[Word]) -> tuple[str, list[Word]] | None:
    """`kubectl [global] exec [opts] POD [--] CMD...`."""
    i = 0
    n = len(args)
    seen_exec = False
    pod = ""
    while i < n:
        w = args[i].value
        if w == "--":
            i += 1
            break
        if w.startswith("-") and len(w) > 1:
            i += 2 if ("=" not in w and w in _KUBECTL_VALUES) else 1
            continue
        if not seen_exec:
            if w != "exec":
                return None
            seen_exec = True
            i += 1
            continue
        if not pod:
            pod = w
            i += 1
            continue
        break  # old form without `--`: the command starts here
    if not seen_exec or not pod:
        return None
    return pod, list(args[i:])


def watch_command(args: Sequence[Word]) -> list[Word]:
    """The words `watch [opts] CMD...` runs (through `sh -c`, joined by spaces)."""
    i = skip_options(
        args,
        0,
        short_values="nq",
        long_values=frozenset({"--interval", "--equexit", "--differences"}),
    )
    return list(args[i:])


FIND_ACTIONS = frozenset(
    {"-delete", "-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fprint0", "-fprintf", "-fls"}
)
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})


def find_invocation(args: Sequence[Word]) -> tuple[tuple[str, ...], list[tuple[str, list[Word]]]]:
    """find's side-effecting actions and the commands its -exec family runs."""
    actions: list[str] = []
    execs: list[tuple[str, list[Word]]] = []
    i, n = 0, len(args)
    while i < n:
        w = args[i].value
        if w in FIND_ACTIONS:
            if w not in actions:
                actions.append(w)
            if w in _FIND_EXEC:
                j = i + 1
                while j < n and args[j].value not in (";", "+"):
                    j += 1
                execs.append((w, list(args[i + 1 : j])))
                i = j + 1
                continue
        i += 1
    return tuple(actions), execs


def su_command(args: Sequence[Word]) -> tuple[str, Word | None]:
    """`su [opts] [-] [user] -c CMD` -> (user, command word)."""
    user = ""
    cmd: Word | None = None
    i, n = 0, len(args)
    while i < n:
        w = args[i].value
        if w in ("-c", "--command"):
            cmd = args[i + 1] if i + 1 < n else None
            i += 2
            continue
        if w.startswith("--command="):
            cmd = Word(w.split("=", 1)[1])
        elif w in ("-s", "--shell", "-g", "--group", "-G", "--supp-group"):
            i += 2
            continue
        elif not w.startswith("-") and not user:
            user = w
        i += 1
    return user, cmd


# Shell commands an interpreter one-liner hands to a shell: os.system("..."), execSync('...'),
# system "...", `...`, subprocess.run(["rm", "-rf", x]). Found literally, never evaluated.
_SHELL_CALL = re.compile(
    r"""(?:\b(?:system|popen|exec|execSync|spawnSync|shell_exec|passthru|check_output|
    check_call|call|run|Popen|getoutput|getstatusoutput)\s*\(?\s*[rbf]?
    (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |\b(?:call|run|Popen|check_output|check_call|spawnSync|execFileSync|execFile|spawn)
    \s*\(\s*(?P<list>\[[^\]]*\]|"[^"]*"\s*,\s*\[[^\]]*\])
    |(?<![\w$])`(?P<tick>[^`\n]+)`
    |\bqx\s*[{(](?P<qx>[^})]+)[})])""",
    re.X,
)
_LIST_ITEM = re.compile(r""""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'""")


_CALL_HINTS = ("system", "exec", "popen", "spawn", "call", "run", "`", "qx", "Popen", "output")


def _unquote_literal(text: str) -> str:
    inner = text[1:-1]
    if "\\" not in inner:
        return inner
    return re.sub(r"\\(.)", r"\1", inner)


def embedded_shell_commands(code: str, family: str = "") -> list[str]:
    """Shell command strings written literally inside interpreter code."""
    if not any(hint in code for hint in _CALL_HINTS):
        return []
    found: list[str] = []
    for m in _SHELL_CALL.finditer(code):
        if family == "python" and m.group().lstrip().startswith("exec"):
            continue  # Python's exec() runs Python, not a shell
        if m.group("str"):
            found.append(_unquote_literal(m.group("str")))
        elif m.group("list"):
            items = [a or b for a, b in _LIST_ITEM.findall(m.group("list"))]
            if items:
                found.append(" ".join(shlex.quote(i) for i in items))
        elif m.group("tick"):
            found.append(m.group("tick"))
        elif m.group("qx"):
            found.append(m.group("qx"))
    return found
