"""Walking a tree-sitter-bash tree into simple-command parts, recursing into nested code.

One `Walker` analyses one command line. It appends parts in source order, each part before
the parts nested in it, so `top` (the depth-0 part a nested part belongs to) is known when
the nested parts are made.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import MISSING, fields, replace

from tree_sitter import Node

from expacti_cli.analysis.dbclients import DB_CLIENTS, DIALECTS, db_client, db_invocation
from expacti_cli.analysis.decode import (
    DECODERS,
    FETCHERS,
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
from expacti_cli.analysis.model import Redirect, SimpleCommand, SqlKind, SqlStatement
from expacti_cli.analysis.normalize import (
    has_subcommand,
    program_family,
    program_name,
    split_flags,
    subcommand,
)
from expacti_cli.analysis.parser import describe_error, node_text, parse
from expacti_cli.analysis.sql import classify_sql
from expacti_cli.analysis.words import (
    SUBSTITUTIONS,
    Word,
    evaluate,
    find_substitutions,
    unescape_unquoted,
)
from expacti_cli.analysis.wrappers import WRAPPERS, look_through

# Nodes that hold statements in sequence; redirects on them apply to every command inside.
_SEQUENCES = frozenset(
    {
        "program",
        "compound_statement",
        "subshell",
        "do_group",
        "if_statement",
        "elif_clause",
        "else_clause",
        "while_statement",
        "for_statement",
        "c_style_for_statement",
        "case_statement",
        "case_item",
        "function_definition",
        "negated_command",
        "ERROR",
    }
)
_STATEMENTS = frozenset(
    {
        "command",
        "redirected_statement",
        "pipeline",
        "list",
        "variable_assignment",
        "variable_assignments",
        "declaration_command",
        "unset_command",
        "test_command",
    }
    | _SEQUENCES
)
_OPERATORS = frozenset({";", "&&", "||", "&", ";;", ";&", ";;&"})
_WRITE_OPS = frozenset({">", ">>", ">|", "&>", "&>>", "<>"})
_NOT_FILES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero", "-"})
_OBFUSCATION_MARKERS = (
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
# Commands made only of these words never need the parser: no expansions, comments or
# newlines; quotes hold no `$`, backtick, backslash or `!`; a backslash escapes one character.
# Globs and braces stay as written, as the parser path leaves them.
_PLAIN_PIECE = r"""(?:[A-Za-z0-9_./:@%+,=~*?{}-]|\\[^\n]|"[^"$`\\!\n]*+"|'[^'\n]*+')++"""
# simple redirects (`> f`, `2>/dev/null`, `2>&1`, `&> log`, `< in`), not here-docs
_PLAIN_REDIRECT = r"[0-9]*+(?:>>|>\||>&|>|<)|&>>|&>"
_PLAIN_ITEM = rf"(?:(?:{_PLAIN_REDIRECT})[ \t]*+{_PLAIN_PIECE}|{_PLAIN_PIECE})"
_PLAIN_COMMAND = (
    rf"[ \t]*+{_PLAIN_ITEM}"
    rf"(?:[ \t]++{_PLAIN_ITEM}|[ \t]*+(?:{_PLAIN_REDIRECT})[ \t]*+{_PLAIN_PIECE})*+[ \t]*+"
)
_PLAIN_LINE = re.compile(rf"{_PLAIN_COMMAND}(?:(?:&&|\|\||;|\|){_PLAIN_COMMAND})*;?[ \t]*")
_PLAIN_TOKEN = re.compile(rf"{_PLAIN_REDIRECT}|{_PLAIN_PIECE}|&&|\|\||;|\|")
_PLAIN_SPECIAL = re.compile(r"[;|&<>]")
_PLAIN_OPERATORS = frozenset({"&&", "||", ";", "|"})
_PLAIN_QUOTES = re.compile(r""""([^"]*)"|'([^']*)'|\\(.)|([^"'\\]+)""")


def _plain_head(token: str) -> bool:
    """A first word the fast path may take: no keyword, assignment or brace group."""
    return token not in _RESERVED and "=" not in token and token[0] not in "{}"


def _unquote_plain(token: str) -> list[str]:
    return [a or b or c or d for a, b, c, d in _PLAIN_QUOTES.findall(token)]


_RESERVED = frozenset(
    "if then else elif fi case esac for select while until do done in function coproc "
    "! { } [[ ]] [".split()
)

_MISPLACED_KEYWORDS = frozenset({"then", "else", "elif", "fi", "do", "done", "esac", "in", "}"})
_NEEDS_STAND_IN = re.compile("[\ud800-\udfff\U00010000-\U0010ffff]")
_STAND_IN_FIRST, _STAND_IN_LAST = 0xE000, 0xF8FF

# What kind of nesting or output a program has, by name or family (see Walker._emit).
_KINDS: dict[str, str] = {
    **dict.fromkeys(SHELLS, "shell"),
    **dict.fromkeys(INTERPRETERS, "interpreter"),
    **dict.fromkeys(SOURCE_BUILTINS, "source"),
    **dict.fromkeys(DB_CLIENTS, "db"),
    **dict.fromkeys(DECODERS, "decoder"),
    "eval": "eval",
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
_SUB_LABELS = {"$(": "$()", "`": "``", "<(": "<()", ">(": ">()"}


def _field_defaults() -> dict[str, object]:
    out: dict[str, object] = {}
    for f in fields(SimpleCommand):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = ""
    return out


_DEFAULTS = _field_defaults()


class Scope:
    """Where nested parts are found: depth, owning top-level part, how they were reached."""

    __slots__ = ("depth", "top", "via", "remote_host", "container", "defaults")

    def __init__(
        self,
        depth: int = 0,
        top: int = -1,  # -1 at depth 0: each part is its own top
        via: tuple[str, ...] = (),
        remote_host: str = "",
        container: str = "",
    ) -> None:
        self.depth = depth
        self.top = top
        self.via = via
        self.remote_host = remote_host
        self.container = container
        # a part's starting fields in this scope, copied in one go by _Part
        self.defaults: dict[str, object] = {
            **_DEFAULTS,
            "words": (),
            "argv": (),
            "program": "",
            "depth": depth,
            "top": top,
            "via": via,
            "remote_host": remote_host,
            "container": container,
        }

    def child(self, top: int, label: str, remote_host: str = "", container: str = "") -> Scope:
        return Scope(
            self.depth + 1,
            top,
            (*self.via, label),
            remote_host or self.remote_host,
            container or self.container,
        )


ROOT_SCOPE = Scope()


class _RedirInfo:
    """A parsed redirect plus what it feeds the command (here-doc / here-string body)."""

    __slots__ = ("redirect", "header", "stdin", "subs", "trailing", "args", "start", "end")

    def __init__(
        self,
        redirect: Redirect,
        header: str,
        stdin: str | None = None,
        subs: list[Node] | None = None,
    ) -> None:
        self.redirect = redirect
        self.header = header  # the redirect as written, without a here-doc body
        self.stdin = stdin  # text fed on stdin (here-doc body, here-string + newline)
        self.subs = subs
        # tree-sitter hangs what follows `<<EOF` on the same line under the here-doc:
        # ("pipe", node) / ("op", "&&", node)
        self.trailing: list[tuple[str, str, Node]] = []
        # ... and the words after a redirect target (`rm > log -rf /`): arguments of the command
        self.args: list[Word] = []
        self.start = -1  # byte offsets of a file redirect (see Walker._command)
        self.end = -1


class _Plain:
    """A command of plain words found by the fast path (see Walker.run_plain)."""

    __slots__ = ("tokens", "text", "redirects")

    def __init__(
        self, tokens: list[str], text: str, redirects: list[tuple[str, str]] | None = None
    ) -> None:
        self.tokens = tokens
        self.text = text
        self.redirects = redirects  # (operator as written, target token)

    def redirect_infos(self) -> list[_RedirInfo]:
        infos: list[_RedirInfo] = []
        for written, target_token in self.redirects or ():
            digits = len(written) - len(written.lstrip("0123456789"))
            fd = int(written[:digits]) if digits else None
            op = written[digits:]
            target = "".join(_unquote_plain(target_token))
            redirect = Redirect(op, target, fd, _is_write(op, target, False), False)
            infos.append(_RedirInfo(redirect, f"{written}{target_token}"))
        return infos

    def words(self) -> list[Word]:
        return [
            Word("".join(_unquote_plain(t))) if "'" in t or '"' in t or "\\" in t else Word(t)
            for t in self.tokens
        ]


class _Pipe:
    """Where a command sits in a pipeline and what the previous element prints."""

    __slots__ = ("position", "length", "stdin", "decoded")

    def __init__(self, position: int, length: int, stdin: str | None, decoded: str) -> None:
        self.position = position
        self.length = length
        self.stdin = stdin  # literal text piped in, None when unknown
        self.decoded = decoded  # kind of decoding that produced stdin ("" if none)


class _Part:
    """Mutable twin of SimpleCommand while the walk fills it in.

    Its __dict__ holds exactly SimpleCommand's fields, so freezing hands that dict to a new
    SimpleCommand: building frozen dataclasses field by field cost more than parsing.
    """

    __slots__ = ("__dict__", "feeds_code")

    text: str
    words: tuple[str, ...]
    argv: tuple[str, ...]
    program: str
    short_flags: frozenset[str]
    long_flags: frozenset[str]
    positionals: tuple[str, ...]
    subcommand: str
    env: tuple[tuple[str, str], ...]
    wrappers: tuple[str, ...]
    redirects: tuple[Redirect, ...]
    depth: int
    top: int
    via: tuple[str, ...]
    remote_host: str
    container: str
    background: bool
    pipeline_position: int
    pipeline_length: int
    piped_into: str
    dynamic_program: bool
    dynamic_args: bool
    has_substitution: bool
    is_eval: bool
    obfuscated: bool
    interpreter_code: str
    sql: tuple[SqlStatement, ...]
    db_client: str
    db_target: str
    find_actions: tuple[str, ...]

    def __init__(self, text: str, scope: Scope) -> None:
        d = self.__dict__
        d.update(scope.defaults)
        d["text"] = text
        self.feeds_code = False  # a shell/interpreter reading its code from the pipe

    def freeze(self) -> SimpleCommand:
        frozen = object.__new__(SimpleCommand)
        frozen.__dict__.update(self.__dict__)
        return frozen


def _split_rightmost(node: Node) -> tuple[list[tuple[Node, str]], Node]:
    """A list's statements before its last one (each with the operator after it), and the
    last one."""
    items: list[Node | str] = []

    def flatten(list_node: Node) -> None:
        for child in list_node.children:
            if not child.is_named:
                if child.type in _OPERATORS:
                    items.append(child.type)
            elif child.type == "list":
                flatten(child)
            elif child.type != "comment":
                items.append(child)

    flatten(node)
    statements = [i for i in items if not isinstance(i, str)]
    operators = [i for i in items if isinstance(i, str)]
    return list(zip(statements[:-1], operators, strict=False)), statements[-1]


def _split_leftmost(node: Node) -> tuple[Node | None, list[tuple[str, Node]]]:
    """A list's first statement, and the (operator, statement) pairs after it."""
    lead: Node | None = None
    rest: list[tuple[str, Node]] = []
    op = ""
    for child in node.children:
        if not child.is_named:
            if child.type in _OPERATORS:
                op = child.type
            continue
        if child.type == "comment":
            continue
        if lead is None:
            if child.type == "list":
                lead, inner = _split_leftmost(child)
                rest.extend(inner)
            else:
                lead = child
        else:
            rest.append((op, child))
    return lead, rest


def _glued_newline(node: Node) -> bool:
    """An unquoted word spanning a newline: bash would have ended the command there."""
    t = node.type
    if t == "concatenation":
        return any(_glued_newline(c) for c in node.children)
    if t not in ("word", "simple_expansion", "number"):
        return False
    raw = node.text or b""
    return b"\n" in raw.replace(b"\\\n", b"")


def _is_write(op: str, target: str, dynamic: bool) -> bool:
    if op in ("<", "<<", "<<-", "<<<", "<&", "<&-", ">&-"):
        return False
    if op == ">&":
        # `>&2` duplicates a descriptor; `>&file` is bash shorthand for `&>file`.
        return dynamic or not (target.isdigit() or target == "-")
    if op not in _WRITE_OPS:
        return False
    if dynamic:
        return True
    return target not in _NOT_FILES and not target.startswith("/dev/fd/")


class Walker:
    """Analyse one command line (see analysis/__init__.py for the entry point)."""

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.parts: list[_Part] = []
        self.operators: list[str] = []
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.unparsed = False
        self.depth_exceeded = False
        self._last_decoded = ""  # how the last command's stdout was decoded (for previews)
        self.stand_ins: dict[str, str] = {}  # character -> private-use stand-in (see _stand_in)

    # --- entry points -------------------------------------------------------------------

    def run(
        self, text: str, scope: Scope, what: str = "command", strict: bool = True
    ) -> str | None:
        """Parse text and walk it; returns what it prints when that is known.

        `strict=False` is for text that only may be shell code (a string inside a Python
        one-liner): its parse errors do not make the command unparsed.
        """
        if _NEEDS_STAND_IN.search(text) is not None:
            text = self._stand_in(text)
        source = text.encode("utf-8")
        tree = parse(source)
        root = tree.root_node
        if root.has_error and strict:
            self.unparsed = True
            self.problems.append(describe_error(root, source, what))
        elif root.start_byte and source[: root.start_byte].strip() and strict:
            # tree-sitter-bash drops a lone leading `-` (`- 2>f`): bash would run it
            self.unparsed = True
            self.problems.append(f"syntax error in {what}: the parser skipped text at column 1")
        return self._walk(root, scope, [], [], None)

    def run_plain(self, source: str, scope: Scope = ROOT_SCOPE) -> bool:
        """Fast path for plain simple commands joined by `|`, `&&`, `||` or `;`.

        Plain words (letters, digits, a few punctuation marks, quotes without expansions
        inside) hold no expansion or keyword, so quote removal by hand gives exactly what the
        parser would (`git add . && git commit -m "fix it"`). Anything else returns False and
        goes through tree-sitter; a test checks that both paths agree. Besides speed on the
        common case, this avoids tree-sitter-bash's cost on pipelines (its parse of
        `a | b | c` takes ~20 times that of `a | b`).
        """
        if _PLAIN_LINE.fullmatch(source) is None or "|&" in source:
            return False  # `|&` (stderr too) is one operator to bash
        if _PLAIN_SPECIAL.search(source) is None:
            # one command, no redirect (the usual case)
            found: list[str] = _PLAIN_TOKEN.findall(source)
            if not _plain_head(found[0]):
                return False
            self._emit_plain(_Plain(found, source.strip(" \t")), scope)
            return True
        # commands grouped into pipelines, with the operators in order
        pipelines: list[list[_Plain]] = [[]]
        operators: list[str] = []
        tokens: list[str] = []
        redirects: list[tuple[str, str]] = []
        pending = ""
        start = end = -1
        for m in _PLAIN_TOKEN.finditer(source):
            token = m.group()
            if pending:
                if token == "-" and pending[-1] == "&":
                    return False  # `3>&-` closes a descriptor: one token to the parser
                redirects.append((pending, token))
                pending = ""
                end = m.end()
                continue
            if token in _PLAIN_OPERATORS:
                if not tokens:
                    return False
                pipelines[-1].append(_Plain(tokens, source[start:end], redirects))
                operators.append(token)
                if token != "|":
                    pipelines.append([])
                tokens = []
                redirects = []
                start = -1
                continue
            if start < 0:
                start = m.start()
            end = m.end()
            if token[-1] in "<>&|":  # a redirect operator: its target is the next token
                pending = token
            else:
                tokens.append(token)
        if tokens:
            pipelines[-1].append(_Plain(tokens, source[start:end], redirects))
        elif redirects or operators[-1:] != [";"]:
            return False
        if not pipelines[-1]:
            pipelines.pop()
        for pipeline in pipelines:
            for command in pipeline:
                if not _plain_head(command.tokens[0]):
                    return False
        # operators go in the order the parser path records them: a pipeline's `|` first,
        # then what its commands nest, then the operator after it
        after = iter([op for op in operators if op != "|"])
        for pipeline in pipelines:
            if len(pipeline) == 1:
                self._emit_plain(pipeline[0], scope)
            else:
                self.operators.extend("|" * (len(pipeline) - 1))
                self._pipeline([(command, []) for command in pipeline], scope, [], [])
            op = next(after, None)
            if op is not None:
                self.operators.append(op)
        return True

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

    def _walk(
        self,
        node: Node,
        scope: Scope,
        extra: list[_RedirInfo],
        tail: list[_RedirInfo],
        pipe: _Pipe | None,
    ) -> str | None:
        t = node.type
        if t == "command":
            return self._command(node, scope, extra + tail if tail else extra, pipe)
        if t == "redirected_statement":
            return self._redirected(node, scope, extra, tail, pipe)
        if t == "pipeline":
            elements: list[tuple[Node | None, list[_RedirInfo]]] = []
            after: list[tuple[str, Node]] = []
            self._flatten_pipeline(node, scope, extra, elements, after)
            if not after:
                return self._pipeline(elements, scope, extra, tail)
            self._pipeline(elements, scope, extra, [])
            return self._walk_after(after, scope, extra, tail)
        if t == "list":
            return self._sequence(node, scope, extra, tail)
        if t in _SEQUENCES:
            both = extra + tail if tail else extra
            return self._sequence(node, scope, both, [])
        if t in ("variable_assignment", "variable_assignments"):
            self._assignment(node, scope, extra + tail)
            return None
        if t in ("declaration_command", "unset_command", "test_command"):
            self._pseudo_command(node, scope, extra + tail)
            return None
        if t == "comment":
            return None
        if t in SUBSTITUTIONS:
            self._sequence(node, scope, [], [])
            return None
        # arithmetic, case patterns, for-loop words...: only what they run matters.
        for sub in find_substitutions(node):
            self._sequence(sub, scope, [], [])
        return None

    def _sequence(
        self, node: Node, scope: Scope, extra: list[_RedirInfo], tail: list[_RedirInfo]
    ) -> str | None:
        """Statements separated by operators; `tail` redirects go to the last statement only."""
        children = node.children
        last_stmt = -1
        if tail:
            for idx in range(len(children) - 1, -1, -1):
                if children[idx].type in _STATEMENTS:
                    last_stmt = idx
                    break
        out: str | None = None
        prev_range: tuple[int, int] | None = None
        prev_end = -1
        token_end = -1
        separated = True
        check_gaps = node.type in ("list", "program")
        for idx, child in enumerate(children):
            ct = child.type
            if check_gaps and token_end >= 0 and child.start_byte > token_end:
                self._check_gap(node, token_end, child)
            token_end = child.end_byte
            if not child.is_named:
                if ct in _OPERATORS:
                    separated = True
                    if ct != ";;":
                        self.operators.append(ct)
                    if ct == "&" and prev_range is not None:
                        for part in self.parts[prev_range[0] : prev_range[1]]:
                            if part.depth == scope.depth:
                                part.background = True
                continue
            if ct in _STATEMENTS:
                if not separated and prev_end >= 0:
                    raw = node.text or b""
                    gap = raw[prev_end - node.start_byte : child.start_byte - node.start_byte]
                    if b"\n" in gap:
                        self.operators.append("\n")
                start = len(self.parts)
                out = self._walk(child, scope, extra, tail if idx == last_stmt else [], None)
                prev_range = (start, len(self.parts))
                prev_end = child.end_byte
                separated = False
            elif ct == "heredoc_body" or ct == "comment":
                continue
            else:
                self._walk(child, scope, [], [], None)
        return out

    def _redirected(
        self,
        node: Node,
        scope: Scope,
        extra: list[_RedirInfo],
        tail: list[_RedirInfo],
        pipe: _Pipe | None,
    ) -> str | None:
        body: Node | None = None
        own: list[_RedirInfo] = []
        prev_end = -1
        for child in node.children:
            ct = child.type
            if ct.endswith("_redirect"):
                infos = self._redirect(child)
                if prev_end >= 0 and body is not None:
                    self._recover_gap(node, prev_end, child, infos[0])
                own.extend(infos)
                prev_end = -1
            elif child.is_named and body is None and ct != "comment":
                body = child
                prev_end = child.end_byte
        trailing = [t for r in own for t in r.trailing]
        if trailing and pipe is None:
            return self._heredoc_continuation(node, body, own, trailing, scope, extra, tail)
        if body is not None and body.type == "command" and all(r.stdin is None for r in own):
            # the statement as written (`ls>f`), here-docs excepted: their node holds the body
            text = node_text(node)
            if extra or tail:
                text = " ".join([text, *(r.header for r in extra + tail)])
            return self._command(body, scope, extra + tail + own, pipe, text)
        return self._walk_body(body, own, scope, extra, tail, pipe)

    def _check_gap(self, node: Node, start: int, child: Node) -> None:
        """Text between two statements that no node covers: tree-sitter skipped a word.

        (tree-sitter-bash 0.25 drops a lone `-` before a redirect: `a && - 1>f` runs `-`.)
        """
        raw = node.text or b""
        gap = raw[start - node.start_byte : child.start_byte - node.start_byte]
        gap = gap.replace(b"\\\n", b"").strip()
        if gap and not gap.startswith(b"#"):
            self._syntax_problem(child, "text the parser skipped")

    def _recover_gap(self, node: Node, start: int, redirect: Node, info: _RedirInfo) -> None:
        """Words tree-sitter dropped between a command and its redirect.

        tree-sitter-bash 0.25 silently drops a lone `-` before `<<` (`psql -f - <<EOF`,
        `python3 - <<EOF`); anything else found there is a parse failure.
        """
        raw = node.text or b""
        gap = raw[start - node.start_byte : redirect.start_byte - node.start_byte]
        gap = gap.replace(b"\\\n", b"").strip()
        if not gap:
            return
        if gap == b"-":
            info.args.insert(0, Word("-"))
        else:
            self._syntax_problem(redirect, "words the parser skipped before a redirect")

    def _walk_body(
        self,
        body: Node | None,
        own: list[_RedirInfo],
        scope: Scope,
        extra: list[_RedirInfo],
        tail: list[_RedirInfo],
        pipe: _Pipe | None,
    ) -> str | None:
        if body is None:
            # `> file` alone still truncates the file: keep it as a part with no program
            # (or with the words tree-sitter filed under the redirect: `2>f ls`).
            words = [w for r in own for w in r.args]
            text = " ".join(r.header for r in own)
            return self._emit(words, [], own, text, scope, pipe, [])
        if body.type in ("list", "pipeline"):
            # tree-sitter puts `a && b > f` as (a && b) > f; bash applies `> f` to b only.
            return self._walk(body, scope, extra, own + tail, pipe)
        if body.type == "command":
            return self._command(body, scope, extra + tail + own, pipe)
        if any(r.args for r in own):
            self._syntax_problem(body, "words after a redirect of a compound command")
        return self._walk(body, scope, extra + tail + own, [], pipe)

    def _heredoc_continuation(
        self,
        node: Node,
        body: Node | None,
        own: list[_RedirInfo],
        trailing: list[tuple[str, str, Node]],
        scope: Scope,
        extra: list[_RedirInfo],
        tail: list[_RedirInfo],
    ) -> str | None:
        """`cat <<EOF | psql && rm x`: rebuild the pipeline and list tree-sitter folded away."""
        elements: list[tuple[Node | None, list[_RedirInfo]]] = [(body, own)]
        after: list[tuple[str, Node]] = []
        for kind, op, tnode in trailing:
            if kind == "pipe" and not after:
                self.operators.append(op)
                self._flatten_into(tnode, elements, after)
            else:
                after.append((op, tnode))
        if not after:
            return self._pipeline(elements, scope, extra, tail)
        self._pipeline(elements, scope, extra, [])
        return self._walk_after(after, scope, extra, tail)

    def _flatten_pipeline(
        self,
        node: Node,
        scope: Scope,
        extra: list[_RedirInfo],
        elements: list[tuple[Node | None, list[_RedirInfo]]],
        after: list[tuple[str, Node]],
    ) -> None:
        skip = self._pipeline_head(node, scope, extra, elements, after)
        self._flatten_into(node, elements, after, skip, scope, extra)

    def _pipeline_head(
        self,
        node: Node,
        scope: Scope,
        extra: list[_RedirInfo],
        elements: list[tuple[Node | None, list[_RedirInfo]]],
        after: list[tuple[str, Node]],
    ) -> int:
        """Undo tree-sitter's `(a && b) | c` for bash's `a && (b | c)`.

        When a pipeline starts with a list (possibly redirected: `a && b > o | c`), all but its
        last statement run before the pipeline: walk them now, put the last statement (with
        the redirects) at the head of `elements`, and return how many children to skip.
        """
        children = node.children
        for idx, head in enumerate(children):  # noqa: B007 - idx is used after the loop
            if head.is_named and head.type != "comment":
                break
        else:
            return 0
        body = head
        redirects: list[_RedirInfo] = []
        if head.type == "redirected_statement":
            inner = head.child_by_field_name("body")
            if inner is None or inner.type not in ("list", "pipeline"):
                return 0
            body = inner
            for child in head.children:
                if child.type.endswith("_redirect"):
                    redirects.extend(self._redirect(child))
            if inner.type == "pipeline":
                # `(a | b) > o | c`: the redirect belongs to b, the pipeline goes on with c
                self._flatten_pipeline(inner, scope, extra, elements, after)
                if elements:
                    last_node, last_own = elements[-1]
                    elements[-1] = (last_node, last_own + redirects)
                return idx + 1
        if body.type != "list":
            return 0
        before, last = _split_rightmost(body)
        for stmt, op in before:
            start = len(self.parts)
            self._walk(stmt, scope, extra, [], None)
            self.operators.append(op)
            if op == "&":
                for part in self.parts[start:]:
                    if part.depth == scope.depth:
                        part.background = True
        if last.type == "pipeline":
            self._flatten_pipeline(last, scope, extra, elements, after)
            if redirects and elements:
                tail_node, tail_own = elements[-1]
                elements[-1] = (tail_node, tail_own + redirects)
        else:
            elements.append((last, redirects))
        return idx + 1

    def _flatten_into(
        self,
        node: Node,
        elements: list[tuple[Node | None, list[_RedirInfo]]],
        after: list[tuple[str, Node]],
        skip: int = 0,
        scope: Scope | None = None,
        extra: list[_RedirInfo] | None = None,
    ) -> None:
        """Collect a pipeline's elements.

        tree-sitter-bash reads `a | b | c && d` as `a | ((b | c) && d)`; bash runs
        `(a | b | c) && d`. The head of such a nested list joins the pipeline and the rest goes
        to `after`, to be walked once the pipeline is done. The same flattening rebuilds the
        `| psql && rm x` that tree-sitter hangs under a here-doc.
        """
        for idx, child in enumerate(node.children):
            if idx < skip:
                continue
            ct = child.type
            if not child.is_named:
                # a leading `|` only occurs under a here-doc, where it was recorded already
                if ct in ("|", "|&") and idx > 0:
                    self.operators.append(ct)
                continue
            if ct == "comment":
                continue
            if ct == "pipeline":
                if scope is not None:
                    self._flatten_pipeline(child, scope, extra or [], elements, after)
                else:
                    self._flatten_into(child, elements, after)
            elif ct == "list":
                lead, rest = _split_leftmost(child)
                if lead is None:
                    continue
                if lead.type == "pipeline":
                    self._flatten_into(lead, elements, after)
                else:
                    elements.append((lead, []))
                after.extend(rest)
            else:
                elements.append((child, []))

    def _walk_after(
        self,
        after: list[tuple[str, Node]],
        scope: Scope,
        extra: list[_RedirInfo],
        tail: list[_RedirInfo],
    ) -> str | None:
        """Walk the statements that followed a rebuilt pipeline, with their operators."""
        out: str | None = None
        prev_start = len(self.parts)
        for k, (op, stmt) in enumerate(after):
            if op:
                self.operators.append(op)
            if op == "&":
                for part in self.parts[prev_start:]:
                    if part.depth == scope.depth:
                        part.background = True
            prev_start = len(self.parts)
            out = self._walk(stmt, scope, extra, tail if k == len(after) - 1 else [], None)
        return out

    def _pipeline(
        self,
        elements: Sequence[tuple[Node | _Plain | None, list[_RedirInfo]]],
        scope: Scope,
        extra: list[_RedirInfo],
        tail: list[_RedirInfo],
    ) -> str | None:
        n = len(elements)
        stdin: str | None = None
        decoded = ""
        firsts: list[int] = []
        ranges: list[tuple[int, int]] = []
        out: str | None = None
        for i, (element, own) in enumerate(elements):
            pipe = _Pipe(i, n, stdin, decoded)
            start = len(self.parts)
            el_tail = tail if i == n - 1 else []
            if isinstance(element, _Plain):
                out = self._emit(
                    element.words(), [], element.redirect_infos(), element.text, scope, pipe, []
                )
            elif element is not None and element.type == "redirected_statement" and not own:
                out = self._redirected(element, scope, extra, el_tail, pipe)
            else:
                out = self._walk_body(element, own, scope, extra, el_tail, pipe)
            end = len(self.parts)
            ranges.append((start, end))
            first = -1
            for k in range(start, end):
                part = self.parts[k]
                if part.depth == scope.depth:
                    part.pipeline_position = i
                    part.pipeline_length = n
                    if first < 0:
                        first = k
            firsts.append(first)
            stdin = out
            decoded = self._last_decoded
            self._last_decoded = ""
        feeds_code = False
        for i, (start, end) in enumerate(ranges):
            if any(self.parts[k].feeds_code for k in range(start, end)):
                feeds_code = True
            if i + 1 < n and firsts[i + 1] >= 0:
                into = self.parts[firsts[i + 1]].program
                for k in range(start, end):
                    if self.parts[k].depth == scope.depth:
                        self.parts[k].piped_into = into
        if feeds_code:
            # Whatever produces code for a shell in this pipeline hides what will run.
            for start, end in ranges:
                for k in range(start, end):
                    part = self.parts[k]
                    if part.depth == scope.depth and (
                        part.program in FETCHERS or is_decoder(part.program, part.argv[1:])
                    ):
                        part.obfuscated = True
        return out

    # --- redirects ----------------------------------------------------------------------

    def _redirect(self, node: Node) -> list[_RedirInfo]:
        t = node.type
        if t == "heredoc_redirect":
            return self._heredoc(node)
        if t == "herestring_redirect":
            op = "<<<"
            word: Word | None = None
            for child in node.children:
                if child.is_named:
                    word = evaluate(child)
            value = word.value if word else ""
            info = _RedirInfo(
                Redirect(op, value, None, False, bool(word and word.dynamic)),
                node_text(node),
                stdin=value + "\n",
                subs=word.subs if word else None,
            )
            return [info]
        op = ""
        op_end = -1
        fd: int | None = None
        target: Word | None = None
        args: list[Word] = []
        for child in node.children:
            ct = child.type
            if ct == "file_descriptor":
                text = node_text(child)
                if text.isdigit():
                    fd = int(text)
                else:
                    # tree-sitter takes the word before `>` for a descriptor (`head -n2>f`)
                    args.append(Word(unescape_unquoted(text)))
            elif not child.is_named:
                op = ct
                op_end = child.end_byte
            elif target is None:
                if (
                    op_end >= 0
                    and b"\n"
                    in (node.text or b"")[
                        op_end - node.start_byte : child.start_byte - node.start_byte
                    ]
                ):
                    # bash refuses `ls >` + newline; tree-sitter reads the next line as target
                    self._syntax_problem(node, f"redirect {op!r} followed by a newline")
                target = evaluate(child)
            else:
                args.append(evaluate(child))
        value = target.value if target else ""
        dynamic = bool(target and target.dynamic)
        is_write = _is_write(op, value, dynamic)
        if target is not None and target.node is not None and target.node.type in SUBSTITUTIONS:
            is_write = False  # `> >(tee log)` feeds a process: its writes are its own part
        redirect = Redirect(op, value, fd, is_write, dynamic)
        info = _RedirInfo(redirect, node_text(node), subs=target.subs if target else None)
        info.args = args
        info.start = node.start_byte
        info.end = node.end_byte
        return [info]

    def _heredoc(self, node: Node) -> list[_RedirInfo]:
        op = "<<"
        delimiter = ""
        body = ""
        subs: list[Node] = []
        more: list[_RedirInfo] = []
        trailing: list[tuple[str, str, Node]] = []
        pending_op = ""
        for child in node.children:
            ct = child.type
            if ct in ("<<", "<<-"):
                op = ct
            elif ct == "heredoc_start":
                delimiter = node_text(child)
            elif ct == "heredoc_body":
                body = node_text(child)
                if child.child_count:
                    subs.extend(find_substitutions(child))
            elif ct.endswith("_redirect"):
                more.extend(self._redirect(child))
            elif ct == "pipeline":
                first = child.children[0].type if child.child_count else "|"
                trailing.append(("pipe", first if first in ("|", "|&") else "|", child))
            elif ct in ("&&", "||", ";", "&"):
                pending_op = ct
            elif child.is_named and pending_op:
                trailing.append(("op", pending_op, child))
                pending_op = ""
        if op == "<<-":
            body = "\n".join(line.lstrip("\t") for line in body.split("\n"))
        quoted = any(q in delimiter for q in "'\"\\")
        info = _RedirInfo(
            Redirect(op, body, None, False, bool(subs) or (not quoted and "$" in body)),
            f"{op}{delimiter}",
            stdin=body,
            subs=subs or None,
        )
        info.trailing = trailing
        return [info, *more]

    # --- simple commands ----------------------------------------------------------------

    def _command(
        self,
        node: Node,
        scope: Scope,
        redirs: list[_RedirInfo],
        pipe: _Pipe | None,
        text: str | None = None,
    ) -> str | None:
        """One simple command; `text` is its source when the caller knows it better."""
        env: list[tuple[str, str]] = []
        env_subs: list[Node] = []
        words: list[Word] = []
        own: list[_RedirInfo] = []
        stray: list[Node] = []
        first_type = ""
        for child in node.children:
            ct = child.type
            if ct == "word":
                # most arguments: a bare word, no escapes (evaluate() does the rest)
                raw = child.text or b""
                if b"\\" in raw or b"\n" in raw:
                    words.append(evaluate(child))
                else:
                    words.append(Word(raw.decode("utf-8", "surrogateescape"), node=child))
            elif ct == "variable_assignment":
                name, value = self._assignment_pair(child)
                if "\n" in value.value and value.node is not None and _glued_newline(value.node):
                    self._syntax_problem(child, "newline inside a word")
                env.append((name, value.value))
                if value.subs:
                    env_subs.extend(value.subs)
            elif ct == "command_name":
                inner = child.children[0] if child.child_count == 1 else child
                first_type = inner.type
                words.append(evaluate(inner))
            elif ct.endswith("_redirect"):
                for info in self._redirect(child):
                    # words tree-sitter filed under a redirect, in their place (`2>f ls`)
                    words.extend(info.args)
                    info.args = []
                    own.append(info)
            elif ct in _STATEMENTS:
                # `sudo (rm x)`: tree-sitter accepts it, bash does not; keep what it runs
                self._syntax_problem(child, f"unexpected {ct.replace('_', ' ')} in a command")
                stray.append(child)
            elif child.is_named:
                if ct != "comment":
                    words.append(evaluate(child))
            elif ct in ("=~", "==", "="):
                words.append(Word(ct, node=child))  # `a =~ b`: tree-sitter's operator token
        if first_type == "word" and words[0].value in _MISPLACED_KEYWORDS:
            # `ls; fi`: tree-sitter reads a stray keyword as a command name, bash refuses
            self._syntax_problem(node, f"unexpected {words[0].value!r}")
        for w in words:
            if "\n" in w.value and w.node is not None and _glued_newline(w.node):
                # `$` + newline + `rm`: tree-sitter glues what bash keeps as two commands
                self._syntax_problem(w.node, "newline inside a word")
        all_redirs = own + redirs if redirs else own
        if words and words[-1].value == "0" and words[-1].node is not None:
            self._descriptor_zero(words, all_redirs)
        for r in all_redirs:
            if r.args:
                words.extend(r.args)
        if text is None:
            text = node_text(node)
            prev_end = node.end_byte
            for r in redirs:
                # as written: `a && b>f` keeps `b>f` together
                text += r.header if r.start == prev_end else " " + r.header
                prev_end = r.end
        out = self._emit(words, env, all_redirs, text, scope, pipe, env_subs)
        for child in stray:
            self._walk(child, scope, [], [], None)
        return out

    @staticmethod
    def _descriptor_zero(words: list[Word], redirs: list[_RedirInfo]) -> None:
        """`cmd 0>f`: tree-sitter reads `0` as an argument, bash as the redirect's descriptor."""
        node = words[-1].node
        if node is None or node.type != "number":
            return
        for r in redirs:
            if r.start == node.end_byte and r.redirect.fd is None and r.redirect.op[0] != "&":
                words.pop()
                r.redirect = replace(r.redirect, fd=0)
                return

    def _assignment_pair(self, node: Node) -> tuple[str, Word]:
        name = ""
        value: Word | None = None
        seen_eq = False
        for child in node.children:
            if not child.is_named:
                seen_eq = seen_eq or child.type in ("=", "+=")
            elif not seen_eq:
                name = name or node_text(child)
            elif value is None:
                value = evaluate(child)
        return name, value if value is not None else Word("")

    def _assignment(self, node: Node, scope: Scope, redirs: list[_RedirInfo]) -> None:
        """A bare `A=1` (or `A=$(cmd) B=2`): a part with no program."""
        nodes = [node] if node.type == "variable_assignment" else list(node.named_children)
        env: list[tuple[str, str]] = []
        subs: list[Node] = []
        for n in nodes:
            if n.type != "variable_assignment":
                continue
            name, value = self._assignment_pair(n)
            env.append((name, value.value))
            if value.subs:
                subs.extend(value.subs)
        self._emit([], env, redirs, node_text(node), scope, None, subs)

    def _pseudo_command(self, node: Node, scope: Scope, redirs: list[_RedirInfo]) -> None:
        """`export A=$(x)`, `local v`, `unset f`, `[[ -f x ]]`: keyword-led statements."""
        words: list[Word] = []
        if node.type == "test_command":
            inner = node_text(node)
            words = [Word(w) for w in inner.split()]
            subs = find_substitutions(node)
            if subs:
                words.append(Word("", dynamic=True, subs=subs))
        else:
            for child in node.children:
                if not child.is_named:
                    if not words:
                        words.append(Word(child.type))
                    continue
                if child.type == "variable_assignment":
                    name, value = self._assignment_pair(child)
                    words.append(
                        Word(f"{name}={value.value}", dynamic=value.dynamic, subs=value.subs)
                    )
                elif child.type != "comment":
                    words.append(evaluate(child))
        text = node_text(node)
        if redirs:
            text = " ".join([text, *(r.header for r in redirs)])
        self._emit(words, [], redirs, text, scope, None, [])

    def _stand_in(self, text: str) -> str:
        """Swap characters the parser must not see for private-use stand-ins (see restore).

        tree-sitter-bash 0.25 can crash the whole process on some characters outside the
        Basic Multilingual Plane (found by fuzzing: `{` followed by U+2CF6E); escaped invalid
        bytes (lone surrogates) cannot be encoded at all. Both are ordinary word characters
        to the shell, so a private-use BMP character parses the same way.
        """
        table = self.stand_ins
        used = set(table.values())
        for ch in set(_NEEDS_STAND_IN.findall(text)):
            if ch in table:
                continue
            code = _STAND_IN_FIRST + len(table)
            while chr(code) in text or chr(code) in used:
                code += 1
            if code > _STAND_IN_LAST:
                table[ch] = "\ufffd"
                self.unparsed = True
                self.problems.append("too many unusual characters to analyse")
                continue
            table[ch] = chr(code)
            used.add(chr(code))
        return text.translate({ord(k): v for k, v in table.items()})

    def restore(self, value: str) -> str:
        """Put the original characters back into a string made from stand-ins."""
        if not self.stand_ins:
            return value
        back = {ord(v): k for k, v in self.stand_ins.items() if v != "\ufffd"}
        return value.translate(back)

    def _syntax_problem(self, node: Node, what: str) -> None:
        row, col = node.start_point
        self.unparsed = True
        self.problems.append(f"syntax error: {what} at line {row + 1}, column {col + 1}")

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def _append(self, part: _Part, scope: Scope) -> int:
        index = len(self.parts)
        if scope.top < 0:
            part.top = index
        self.parts.append(part)
        return index

    def _emit_plain(self, command: _Plain, scope: Scope) -> None:
        """_emit for a plain command outside a pipeline, skipping Word objects when it can.

        Most commands (`git status`, `npm test`) wrap nothing, nest nothing and print nothing
        a later part reads: for those the part is filled straight from the tokens.
        """
        tokens, text = command.tokens, command.text
        if command.redirects:
            self._emit(command.words(), [], command.redirect_infos(), text, scope, None, [])
            return
        if "'" in text or '"' in text or "\\" in text:
            values = [
                "".join(_unquote_plain(t)) if "'" in t or '"' in t or "\\" in t else t
                for t in tokens
            ]
        else:
            values = tokens
        program = program_name(values[0])
        if program in WRAPPERS or program in _KINDS or program_family(program) in _KINDS:
            self._emit([Word(v) for v in values], [], [], text, scope, None, [])
            return
        part = _Part(text, scope)
        d = part.__dict__
        argv = tuple(values)
        d["words"] = argv
        d["argv"] = argv
        d["program"] = program
        if len(argv) > 1:
            args = argv[1:]
            d["short_flags"], d["long_flags"], d["positionals"] = split_flags(args)
            if has_subcommand(program):
                d["subcommand"] = subcommand(program, args)
        self._append(part, scope)

    def _emit(
        self,
        words: list[Word],
        env: list[tuple[str, str]],
        redirs: list[_RedirInfo],
        text: str,
        scope: Scope,
        pipe: _Pipe | None,
        env_subs: list[Node],
    ) -> str | None:
        """Build one part from its words, then walk what is nested in it."""
        part = _Part(text, scope)
        d = part.__dict__
        values: list[str] = []
        subs: list[Node] = list(env_subs) if env_subs else []
        for w in words:
            values.append(w.value)
            if w.subs:
                subs.extend(w.subs)
        d["words"] = (*(f"{k}={v}" for k, v in env), *values) if env else tuple(values)
        if redirs:
            d["redirects"] = tuple([r.redirect for r in redirs])
            for r in redirs:
                if r.subs:
                    subs.extend(r.subs)
        argv: list[Word] = words
        if words:
            head_name = program_name(values[0])
            if head_name in WRAPPERS and not words[0].dynamic:
                inner_words, start, wrappers, wrapper_env = look_through(words)
                if wrappers:
                    argv = inner_words[start:]
                    d["wrappers"] = tuple(wrappers)
                if wrapper_env:
                    env = [*env, *wrapper_env]
            if env:
                d["env"] = tuple(env)
        if subs:
            d["has_substitution"] = True
        program = ""
        if argv:
            head = argv[0]
            argv_values = tuple([w.value for w in argv]) if argv is not words else tuple(values)
            d["argv"] = argv_values
            if head.dynamic:
                program = head.value
                d["dynamic_program"] = True
            else:
                program = head_name if argv is words else program_name(head.value)
                if head.ansi:
                    d["obfuscated"] = True
                    self._note(preview("$'...' program name", head.value))
            d["program"] = program
            if len(argv_values) > 1:
                args = argv_values[1:]
                d["short_flags"], d["long_flags"], d["positionals"] = split_flags(args)
                if has_subcommand(program):
                    d["subcommand"] = subcommand(program, args)
                for w in argv:
                    if w.dynamic and w is not head:
                        d["dynamic_args"] = True
                        break
        self._append(part, scope)
        top = part.top

        # Substitutions run first; their parts sit one level down.
        sub_out: dict[int, str | None] = {}
        hidden_source = False
        if subs:
            sub_start = len(self.parts)
            for sub in subs:
                label = _SUB_LABELS.get(sub.children[0].type if sub.child_count else "", "$()")
                if not self._deeper_ok(scope, label):
                    break
                child = scope.child(top, label)
                sub_out[sub.id] = self._sequence(sub, child, [], [])
            hidden_source = any(
                p.program in FETCHERS or is_decoder(p.program, p.argv[1:])
                for p in self.parts[sub_start:]
            )
            if hidden_source and d["dynamic_program"]:
                d["obfuscated"] = True
        if not argv:
            return None
        kind = _KINDS.get(program) or _KINDS.get(program_family(program))
        if kind is None and not d["has_substitution"]:
            return None  # the common case: nothing nested, nothing decoded

        # What the command reads on stdin: here-doc / here-string / file / pipe.
        stdin: str | None = None
        stdin_kind = ""
        for r in redirs:
            op = r.redirect.op
            if r.stdin is not None:
                stdin, stdin_kind = r.stdin, ("heredoc" if op != "<<<" else "herestring")
            elif op == "<" and (r.redirect.fd in (None, 0)):
                stdin, stdin_kind = None, "file"
        decoded = ""
        if not stdin_kind and pipe is not None and pipe.position > 0:
            stdin, stdin_kind, decoded = pipe.stdin, "pipe", pipe.decoded

        args_w = argv[1:]
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
            self._database(part, db_client(program), args_w, stdin, stdin_kind)
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
        part: _Part,
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
        part: _Part,
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
            if any(m in code for m in _OBFUSCATION_MARKERS):
                part.obfuscated = True
            for shell_code in embedded_shell_commands(code, program_family(part.program)):
                self._nest_code(shell_code, scope, part.top, f"{part.program} code", strict=False)

    def _database(
        self, part: _Part, client: str, args: list[Word], stdin: str | None, stdin_kind: str
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
