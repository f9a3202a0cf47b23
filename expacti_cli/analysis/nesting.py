"""What a part's program does with code it is given: shells, eval, interpreters, database
clients, ssh / docker / kubectl exec, watch, find -exec, su, and the text a command prints
for the next one in a pipeline (echo, printf, cat, decoders).

`Nesting` is the base of `Walker`: it holds these per-program rules, the walker holds the
tree walking. Its abstract methods are the walker's entry points it recurses through.
"""

from __future__ import annotations

import shlex

from tree_sitter import Node

from expacti_cli.analysis.dbclients import DB_CLIENTS, DIALECTS, db_client, db_invocation
from expacti_cli.analysis.decode import (
    DECODERS,
    decoder_output,
    echo_output,
    is_decoder,
    preview,
    printf_output,
)
from expacti_cli.analysis.invocations import (
    INTERPRETERS,
    SHELLS,
    SOURCE_BUILTINS,
    docker_compose_exec,
    docker_exec,
    embedded_shell_commands,
    find_invocation,
    interpreter_invocation,
    kubectl_exec,
    shell_invocation,
    ssh_invocation,
    su_command,
    watch_command,
)
from expacti_cli.analysis.model import SqlKind, SqlStatement
from expacti_cli.analysis.normalize import program_family
from expacti_cli.analysis.parts import ROOT_SCOPE, PartBuilder, Scope
from expacti_cli.analysis.redirects import RedirInfo
from expacti_cli.analysis.sql import classify_sql, shell_escape
from expacti_cli.analysis.words import Word

OBFUSCATION_MARKERS = (
    "b64decode",
    "base64",
    "fromCharCode",
    "atob(",
    "codecs.decode",
    "unhexlify",
    "fromhex",
    "zlib.decompress",
    "marshal.loads",
    "pack(",
)
# What kind of nesting or output a program has, by name or family (see Walker._emit).
KINDS: dict[str, str] = {
    **dict.fromkeys(SHELLS, "shell"),
    **dict.fromkeys(INTERPRETERS, "interpreter"),
    **dict.fromkeys(SOURCE_BUILTINS, "source"),
    **dict.fromkeys(DB_CLIENTS, "db"),
    **dict.fromkeys(DECODERS, "decoder"),
    "eval": "eval",
    "fc": "history",  # re-runs earlier commands whose text the reviewer never sees
    "ssh": "ssh",
    "docker": "docker",
    "podman": "docker",
    "docker-compose": "compose",
    "kubectl": "kubectl",
    "oc": "kubectl",
    "watch": "watch",
    "parallel": "parallel",
    "find": "find",
    "su": "su",
    "echo": "echo",
    "printf": "printf",
    "cat": "cat",
}


class Pipe:
    """Where a command sits in a pipeline and what the previous element prints."""

    __slots__ = ("position", "length", "stdin", "decoded")

    def __init__(self, position: int, length: int, stdin: str | None, decoded: str) -> None:
        self.position = position
        self.length = length
        self.stdin = stdin  # literal text piped in, None when unknown
        self.decoded = decoded  # kind of decoding that produced stdin ("" if none)


class Nesting:
    """Per-program rules for nested code; see the module docstring."""

    max_depth: int
    parts: list[PartBuilder]
    problems: list[str]
    notes: list[str]
    unparsed: bool
    depth_exceeded: bool
    _last_decoded: str

    def run(
        self, text: str, scope: Scope, what: str = "command", strict: bool = True
    ) -> str | None:
        raise NotImplementedError

    def run_plain(self, source: str, scope: Scope = ROOT_SCOPE) -> bool:
        raise NotImplementedError

    def _emit(
        self,
        words: list[Word],
        env: list[tuple[str, str]],
        redirs: list[RedirInfo],
        text: str,
        scope: Scope,
        pipe: Pipe | None,
        env_subs: list[Node],
    ) -> str | None:
        raise NotImplementedError

    def _nest_code(
        self, code: str, scope: Scope, top: int, label: str, strict: bool = True, **where: str
    ) -> bool:
        """Analyse code found inside a part (bash -c, eval, ssh, here-doc...) one level down."""
        if not code.strip():
            return False
        if not self._deeper_ok(scope, label):
            return False
        child = scope.child(top, label, **where)
        if not self.run_plain(code, child):
            self.run(code, child, f"{label} script", strict)
        return True

    def _deeper_ok(self, scope: Scope, label: str) -> bool:
        if scope.depth + 1 > self.max_depth:
            if not self.depth_exceeded:
                self.problems.append(
                    f"nesting deeper than {self.max_depth} levels at {label!r}: not analysed"
                )
            self.depth_exceeded = True
            self.unparsed = True
            return False
        return True

    # --- statements ---------------------------------------------------------------------

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def _nested(
        self,
        kind: str | None,
        part: PartBuilder,
        args_w: list[Word],
        scope: Scope,
        stdin: str | None,
        stdin_kind: str,
        decoded: str,
        sub_out: dict[int, str | None],
        hidden_source: bool,
    ) -> str | None:
        """Analyse what the part's program is given as code; return what it prints."""
        d = part.__dict__
        program = part.program
        top = part.top
        out: str | None = None
        if kind == "shell":
            self._shell(part, args_w, scope, stdin, stdin_kind, decoded, sub_out, hidden_source)
        elif kind == "eval":
            d["is_eval"] = True
            code = self._joined(args_w, sub_out)
            if hidden_source:
                d["obfuscated"] = True
            if code is not None:
                self._nest_code(code, scope, top, "eval")
        elif kind == "history":
            if "l" not in part.short_flags:  # `fc -l` only lists
                d["is_eval"] = True
        elif kind == "source":
            if args_w and args_w[0].pure_substitution:
                d["is_eval"] = True
                d["obfuscated"] = d["obfuscated"] or hidden_source
        elif kind == "interpreter":
            self._interpreter(part, scope, args_w, stdin, stdin_kind, decoded, hidden_source)
        elif kind == "ssh":
            found = ssh_invocation(args_w)
            if found is not None:
                host, remote = found
                code = " ".join(w.value for w in remote) if remote else None
                if code is None and stdin is not None and stdin_kind != "file":
                    code = stdin
                if code is not None:
                    self._nest_code(code, scope, top, f"ssh {host}", remote_host=host)
        elif kind in ("docker", "kubectl", "compose"):
            if kind == "kubectl":
                found = kubectl_exec(args_w)
                label = f"{program} exec"
            elif kind == "compose":
                found = docker_compose_exec(args_w)
                label = f"{program} exec"
            else:
                found = docker_exec(args_w)
                how = part.subcommand or "exec"
                label = f"{program} {'compose exec' if how == 'compose' else how}"
            if found is not None and found[1]:
                name, cmd = found
                self._nest_argv(cmd, scope, top, f"{label} {name}", container=name)
        elif kind == "watch":
            cmd = watch_command(args_w)
            if cmd:
                if any(w.value in ("-x", "--exec") for w in args_w[: len(args_w) - len(cmd)]):
                    self._nest_argv(cmd, scope, top, "watch")
                else:
                    self._nest_code(" ".join(w.value for w in cmd), scope, top, "watch")
        elif kind == "parallel":
            self._parallel(args_w, scope, top)
        elif kind == "find":
            actions, execs = find_invocation(args_w)
            d["find_actions"] = actions
            for action, cmd in execs:
                if cmd:
                    self._nest_argv(cmd, scope, top, f"find {action}")
        elif kind == "su":
            user, cmd_word = su_command(args_w)
            if cmd_word is not None:
                if cmd_word.dynamic:
                    d["is_eval"] = True
                self._nest_code(cmd_word.value, scope, top, f"su {user}".strip())
        elif kind == "db":
            self._database(part, db_client(program), args_w, stdin, stdin_kind, scope, top)
        elif kind == "echo" or kind == "printf":
            out, numeric = (echo_output if kind == "echo" else printf_output)(args_w)
            if numeric:
                self._last_decoded = f"{program} escapes"
        elif kind == "cat":
            if not d["positionals"] and stdin_kind in ("heredoc", "herestring", "pipe"):
                out = stdin
                self._last_decoded = decoded
        elif kind == "decoder":
            if stdin is not None and is_decoder(program, d["argv"][1:]):
                out, how = decoder_output(program, d["argv"][1:], stdin)
                if out is not None:
                    self._note(preview(how, out))
                    self._last_decoded = how
        return out

    def _joined(self, args: list[Word], sub_out: dict[int, str | None]) -> str | None:
        """The code `eval ARGS` runs; None when it is only substitutions we cannot see into."""
        pieces: list[str] = []
        known = False
        for w in args:
            sub = w.substitution
            if sub is not None:
                value = sub_out.get(sub.id)
                if value is None:
                    continue
                pieces.append(value)
                known = True
            else:
                pieces.append(w.value)
                known = True
        return " ".join(pieces) if known else None

    def _shell(
        self,
        part: PartBuilder,
        args: list[Word],
        scope: Scope,
        stdin: str | None,
        stdin_kind: str,
        decoded: str,
        sub_out: dict[int, str | None],
        hidden_source: bool,
    ) -> None:
        inv = shell_invocation(args)
        label = f"{part.program} -c"
        if inv.mode == "c":
            script = inv.script
            if script is None:
                return
            if script.dynamic:
                part.is_eval = True
                if hidden_source:
                    part.obfuscated = True
            sub = script.substitution
            if sub is not None:
                code = sub_out.get(sub.id)
                if code is None:
                    return
            else:
                code = script.value
            self._nest_code(code, scope, part.top, label)
        elif inv.mode == "file":
            if inv.script is not None and inv.script.pure_substitution:
                # bash <(curl ...): the script is whatever the substitution prints.
                part.is_eval = True
                part.obfuscated = part.obfuscated or hidden_source
        elif stdin_kind in ("heredoc", "herestring"):
            if stdin is not None:
                op = "<<" if stdin_kind == "heredoc" else "<<<"
                self._nest_code(stdin, scope, part.top, f"{part.program} {op}")
        elif stdin_kind == "pipe":
            part.obfuscated = True
            part.feeds_code = True
            if stdin is not None:
                if decoded:
                    self._note(preview(decoded, stdin))
                self._nest_code(stdin, scope, part.top, f"| {part.program}")

    def _interpreter(
        self,
        part: PartBuilder,
        scope: Scope,
        args: list[Word],
        stdin: str | None,
        stdin_kind: str,
        decoded: str,
        hidden_source: bool,
    ) -> None:
        inv = interpreter_invocation(part.program, args)
        code = "\n".join(w.value for w in inv.code)
        if inv.code and any(w.dynamic for w in inv.code):
            part.is_eval = True
        if inv.reads_stdin:
            if stdin_kind in ("heredoc", "herestring") and stdin is not None:
                code = stdin
            elif stdin_kind == "pipe":
                part.obfuscated = True
                part.feeds_code = True
                if stdin is not None:
                    code = stdin
                    if decoded:
                        self._note(preview(decoded, stdin))
        elif inv.script is not None and inv.script.pure_substitution:
            part.is_eval = True
            part.obfuscated = part.obfuscated or hidden_source
        part.interpreter_code = code
        if code:
            if any(m in code for m in OBFUSCATION_MARKERS):
                part.obfuscated = True
            for shell_code in embedded_shell_commands(code, program_family(part.program)):
                self._nest_code(shell_code, scope, part.top, f"{part.program} code", strict=False)

    def _database(
        self,
        part: PartBuilder,
        client: str,
        args: list[Word],
        stdin: str | None,
        stdin_kind: str,
        scope: Scope,
        top: int,
    ) -> None:
        inv = db_invocation(client, args)
        part.db_client = client
        part.db_target = inv.target
        dialect = DIALECTS[client]
        statements: list[SqlStatement] = []
        for code in inv.code:
            statements.extend(classify_sql(code, dialect))
        for path in inv.files:
            if path in ("-", "/dev/stdin") and stdin is not None:
                statements.extend(classify_sql(stdin, dialect))  # psql -f - <<EOF
            else:
                statements.append(SqlStatement(SqlKind.UNKNOWN, "FILE", path))
        if not inv.code and not inv.files and inv.reads_stdin:
            if stdin is not None and stdin_kind in ("heredoc", "herestring", "pipe"):
                statements.extend(classify_sql(stdin, dialect))
            elif stdin_kind in ("file", "pipe"):
                statements.append(SqlStatement(SqlKind.UNKNOWN, "STDIN", f"<{stdin_kind}>"))
        part.sql = tuple(statements)
        # A client's shell escape (psql and mysql `\!`, mysql `system`, sqlite3 `.system` and
        # `.shell`) runs a shell command: it is analysed and scored as one, one level down.
        for statement in statements:
            shell_code = shell_escape(statement.text)
            if shell_code:
                self._nest_code(shell_code, scope, top, f"{client} shell escape")

    def _parallel(self, args: list[Word], scope: Scope, top: int) -> None:
        """`parallel 'rm {}' ::: a b`: a one-word command is shell code."""
        words = [w for w in args if not w.value.startswith("-")]
        if words and words[0].value not in (":::", "::::"):
            self._nest_code(words[0].value, scope, top, "parallel")

    def _nest_argv(
        self, words: list[Word], scope: Scope, top: int, label: str, container: str = ""
    ) -> None:
        """A command given as argv (docker exec, find -exec): one part one level down."""
        if not self._deeper_ok(scope, label):
            return
        child = scope.child(top, label, container=container)
        text = " ".join(shlex.quote(w.value) if not w.dynamic else w.value for w in words)
        self._emit(list(words), [], [], text, child, None, [])
