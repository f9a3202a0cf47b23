"""Redirects: which ones write a file, and what a redirect feeds the command."""

from __future__ import annotations

from tree_sitter import Node

from expacti_cli.analysis.model import Redirect
from expacti_cli.analysis.words import Word

WRITE_OPS = frozenset({">", ">>", ">|", "&>", "&>>", "<>"})
NOT_FILES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero", "-"})


def writes_file(op: str, target: str, dynamic: bool) -> bool:
    if op in ("<", "<<", "<<-", "<<<", "<&", "<&-", ">&-"):
        return False
    if op == ">&":
        # `>&2` duplicates a descriptor; `>&file` is bash shorthand for `&>file`.
        return dynamic or not (target.isdigit() or target == "-")
    if op not in WRITE_OPS:
        return False
    if dynamic:
        return True
    return target not in NOT_FILES and not target.startswith("/dev/fd/")


class RedirInfo:
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
