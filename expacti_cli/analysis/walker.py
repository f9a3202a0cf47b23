"""Walking a tree-sitter-bash tree into simple-command parts, recursing into nested code.

One `Walker` analyses one command line. It appends parts in source order, each part before
the parts nested in it, so `top` (the depth-0 part a nested part belongs to) is known when
the nested parts are made. Plain commands skip the parser (plain.py); what a program does
with code it is given lives in nesting.py; tree-sitter-bash's quirks are undone here and in
treeshape.py, each where it is met.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from tree_sitter import Node

from expacti_cli.analysis.decode import (
    FETCHERS,
    is_decoder,
    preview,
)
from expacti_cli.analysis.model import Redirect
from expacti_cli.analysis.nesting import KINDS, Nesting, Pipe
from expacti_cli.analysis.normalize import (
    has_subcommand,
    program_family,
    program_name,
    split_flags,
    subcommand,
)
from expacti_cli.analysis.parser import describe_error, node_text, parse
from expacti_cli.analysis.parts import ROOT_SCOPE, PartBuilder, Scope
from expacti_cli.analysis.plain import PlainCommand, split_plain, unquote_plain
from expacti_cli.analysis.redirects import RedirInfo, writes_file
from expacti_cli.analysis.treeshape import (
    OPERATORS,
    SEQUENCES,
    STATEMENTS,
    glued_newline,
    split_leftmost,
    split_rightmost,
    suspicious_word,
)
from expacti_cli.analysis.words import (
    SUBSTITUTIONS,
    Word,
    evaluate,
    find_substitutions,
    unescape_unquoted,
)
from expacti_cli.analysis.wrappers import WRAPPERS, look_through

_MISPLACED_KEYWORDS = frozenset({"then", "else", "elif", "fi", "do", "done", "esac", "in", "}"})
_NEEDS_STAND_IN = re.compile("[\ud800-\udfff\U00010000-\U0010ffff]")
_STAND_IN_FIRST, _STAND_IN_LAST = 0xE000, 0xF8FF

_SUB_LABELS = {"$(": "$()", "`": "``", "<(": "<()", ">(": ">()"}


@lru_cache(maxsize=4096)
def _wraps_or_nests(program: str) -> bool:
    """Whether a program wraps another command or may run nested code: such a plain command
    takes the full _emit. One cached test per program name instead of three lookups."""
    return program in WRAPPERS or program in KINDS or program_family(program) in KINDS


class Walker(Nesting):
    """Analyse one command line (see analysis/__init__.py for the entry point)."""

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.parts: list[PartBuilder] = []
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
        found = split_plain(source)
        if found is None:
            return False
        pipelines, operators = found
        if not operators:  # one command (the usual case): nothing to order
            self._emit_plain(pipelines[0][0], scope)
            return True
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

    def _walk(
        self,
        node: Node,
        scope: Scope,
        extra: list[RedirInfo],
        tail: list[RedirInfo],
        pipe: Pipe | None,
    ) -> str | None:
        t = node.type
        if t == "command":
            return self._command(node, scope, extra + tail if tail else extra, pipe)
        if t == "redirected_statement":
            return self._redirected(node, scope, extra, tail, pipe)
        if t == "pipeline":
            elements: list[tuple[Node | None, list[RedirInfo]]] = []
            after: list[tuple[str, Node]] = []
            self._flatten_pipeline(node, scope, extra, elements, after)
            if not after:
                return self._pipeline(elements, scope, extra, tail)
            self._pipeline(elements, scope, extra, [])
            return self._walk_after(after, scope, extra, tail)
        if t == "list":
            return self._sequence(node, scope, extra, tail)
        if t in SEQUENCES:
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
        self, node: Node, scope: Scope, extra: list[RedirInfo], tail: list[RedirInfo]
    ) -> str | None:
        """Statements separated by operators; `tail` redirects go to the last statement only."""
        children = node.children
        last_stmt = -1
        if tail:
            for idx in range(len(children) - 1, -1, -1):
                if children[idx].type in STATEMENTS:
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
                if ct in OPERATORS:
                    separated = True
                    if ct != ";;":
                        self.operators.append(ct)
                    if ct == "&" and prev_range is not None:
                        for part in self.parts[prev_range[0] : prev_range[1]]:
                            if part.depth == scope.depth:
                                part.background = True
                continue
            if ct in STATEMENTS:
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
        extra: list[RedirInfo],
        tail: list[RedirInfo],
        pipe: Pipe | None,
    ) -> str | None:
        body: Node | None = None
        own: list[RedirInfo] = []
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

    def _recover_gap(self, node: Node, start: int, redirect: Node, info: RedirInfo) -> None:
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
        own: list[RedirInfo],
        scope: Scope,
        extra: list[RedirInfo],
        tail: list[RedirInfo],
        pipe: Pipe | None,
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
        own: list[RedirInfo],
        trailing: list[tuple[str, str, Node]],
        scope: Scope,
        extra: list[RedirInfo],
        tail: list[RedirInfo],
    ) -> str | None:
        """`cat <<EOF | psql && rm x`: rebuild the pipeline and list tree-sitter folded away."""
        elements: list[tuple[Node | None, list[RedirInfo]]] = [(body, own)]
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
        extra: list[RedirInfo],
        elements: list[tuple[Node | None, list[RedirInfo]]],
        after: list[tuple[str, Node]],
    ) -> None:
        skip = self._pipeline_head(node, scope, extra, elements, after)
        self._flatten_into(node, elements, after, skip, scope, extra)

    def _pipeline_head(
        self,
        node: Node,
        scope: Scope,
        extra: list[RedirInfo],
        elements: list[tuple[Node | None, list[RedirInfo]]],
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
        redirects: list[RedirInfo] = []
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
        before, last = split_rightmost(body)
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
        elements: list[tuple[Node | None, list[RedirInfo]]],
        after: list[tuple[str, Node]],
        skip: int = 0,
        scope: Scope | None = None,
        extra: list[RedirInfo] | None = None,
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
                lead, rest = split_leftmost(child)
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
        extra: list[RedirInfo],
        tail: list[RedirInfo],
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
        elements: Sequence[tuple[Node | PlainCommand | None, list[RedirInfo]]],
        scope: Scope,
        extra: list[RedirInfo],
        tail: list[RedirInfo],
    ) -> str | None:
        n = len(elements)
        stdin: str | None = None
        decoded = ""
        firsts: list[int] = []
        ranges: list[tuple[int, int]] = []
        out: str | None = None
        for i, (element, own) in enumerate(elements):
            pipe = Pipe(i, n, stdin, decoded)
            start = len(self.parts)
            el_tail = tail if i == n - 1 else []
            if isinstance(element, PlainCommand):
                out = self._emit_plain(element, scope, pipe)
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

    def _redirect(self, node: Node) -> list[RedirInfo]:
        t = node.type
        if t == "heredoc_redirect":
            return self._heredoc(node)
        if t == "herestring_redirect":
            op = "<<<"
            word: Word | None = None
            for child in node.children:
                if child.is_named:
                    word = evaluate(child)
                    if suspicious_word(word.value, child) and glued_newline(child):
                        self._syntax_problem(child, "newline inside a word")
            value = word.value if word else ""
            info = RedirInfo(
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
            elif ct == "comment":
                continue  # `ls <# x` + newline: the check below sees the newline
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
                if suspicious_word(target.value, child) and glued_newline(child):
                    self._syntax_problem(child, "newline inside a word")
            else:
                word = evaluate(child)
                if suspicious_word(word.value, child) and glued_newline(child):
                    self._syntax_problem(child, "newline inside a word")
                args.append(word)
        value = target.value if target else ""
        dynamic = bool(target and target.dynamic)
        is_write = writes_file(op, value, dynamic)
        if target is not None and target.node is not None and target.node.type in SUBSTITUTIONS:
            is_write = False  # `> >(tee log)` feeds a process: its writes are its own part
        redirect = Redirect(op, value, fd, is_write, dynamic)
        info = RedirInfo(redirect, node_text(node), subs=target.subs if target else None)
        info.args = args
        info.start = node.start_byte
        info.end = node.end_byte
        return [info]

    def _heredoc(self, node: Node) -> list[RedirInfo]:
        op = "<<"
        delimiter = ""
        body = ""
        subs: list[Node] = []
        more: list[RedirInfo] = []
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
        info = RedirInfo(
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
        redirs: list[RedirInfo],
        pipe: Pipe | None,
        text: str | None = None,
    ) -> str | None:
        """One simple command; `text` is its source when the caller knows it better."""
        env: list[tuple[str, str]] = []
        env_subs: list[Node] = []
        words: list[Word] = []
        own: list[RedirInfo] = []
        stray: list[Node] = []
        if b"\n" in (node.text or b""):
            self._check_line_breaks(node)
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
                vnode = value.node
                if (
                    vnode is not None
                    and suspicious_word(value.value, vnode)
                    and glued_newline(vnode)
                ):
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
            elif ct in STATEMENTS:
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
            if w.node is not None and suspicious_word(w.value, w.node) and glued_newline(w.node):
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

    def _check_line_breaks(self, node: Node) -> None:
        """A simple command never spans an unescaped newline between its words.

        tree-sitter-bash sometimes glues the next line on (`a=\\ ` or `0 ==` then newline),
        which would hide the next command inside this one: fail closed instead.
        """
        raw = node.text or b""
        base = node.start_byte
        stack = [node]
        while stack:
            current = stack.pop()
            end = -1
            for child in current.children:
                if end >= 0 and child.start_byte > end:
                    gap = raw[end - base : child.start_byte - base]
                    if b"\n" in gap.replace(b"\\\n", b""):
                        self._syntax_problem(child, "command continues past a line break")
                        return
                end = child.end_byte
                if child.type == "variable_assignment":
                    stack.append(child)

    @staticmethod
    def _descriptor_zero(words: list[Word], redirs: list[RedirInfo]) -> None:
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

    def _assignment(self, node: Node, scope: Scope, redirs: list[RedirInfo]) -> None:
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

    def _pseudo_command(self, node: Node, scope: Scope, redirs: list[RedirInfo]) -> None:
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

    def _append(self, part: PartBuilder, scope: Scope) -> int:
        index = len(self.parts)
        if scope.top < 0:
            part.top = index
        self.parts.append(part)
        return index

    def _emit_plain(
        self, command: PlainCommand, scope: Scope, pipe: Pipe | None = None
    ) -> str | None:
        """_emit for a plain command, skipping Word objects when it can.

        Most commands (`git status`, `npm test`, `grep x` in a pipeline) wrap nothing, nest
        nothing and print nothing a later part reads: for those the part is filled straight
        from the tokens (what the pipe carries only matters to programs in KINDS).
        """
        tokens, text = command.tokens, command.text
        if command.redirects:
            return self._emit(command.words(), [], command.redirect_infos(), text, scope, pipe, [])
        if "'" in text or '"' in text or "\\" in text:
            values = [
                "".join(unquote_plain(t)) if "'" in t or '"' in t or "\\" in t else t
                for t in tokens
            ]
        else:
            values = tokens
        program = program_name(values[0])
        if _wraps_or_nests(program):
            return self._emit([Word(v) for v in values], [], [], text, scope, pipe, [])
        part = PartBuilder(text, scope)
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
        return None

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
        """Build one part from its words, then walk what is nested in it."""
        part = PartBuilder(text, scope)
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
        kind = KINDS.get(program) or KINDS.get(program_family(program))
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
        return self._nested(
            kind, part, argv[1:], scope, stdin, stdin_kind, decoded, sub_out, hidden_source
        )
