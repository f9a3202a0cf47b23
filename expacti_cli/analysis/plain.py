"""The fast path's tokenizer: commands of plain words need no parser.

Plain words (letters, digits, a few punctuation marks, globs, quotes without expansions
inside, backslash escapes) hold no expansion or keyword, so quote removal by hand gives exactly
what tree-sitter would (`git add . && git commit -m "fix it"`). Anything else is left to the
parser. tests/test_analysis_properties.py checks that both agree.
"""

from __future__ import annotations

import re

from expacti_cli.analysis.model import Redirect
from expacti_cli.analysis.redirects import RedirInfo, writes_file
from expacti_cli.analysis.words import Word

# Commands made only of these words never need the parser: no expansions, comments or
# newlines; quotes hold no `$`, backtick, backslash or `!`; a backslash escapes one character.
# Globs and braces stay as written, as the parser path leaves them.
PLAIN_PIECE = r"""(?:[A-Za-z0-9_./:@%+,=~*?{}-]|\\[^\n]|"[^"$`\\!\n]*+"|'[^'\n]*+')++"""
# simple redirects (`> f`, `2>/dev/null`, `2>&1`, `&> log`, `< in`), not here-docs
PLAIN_REDIRECT = r"[0-9]*+(?:>>|>\||>&|>|<)|&>>|&>"
PLAIN_ITEM = rf"(?:(?:{PLAIN_REDIRECT})[ \t]*+{PLAIN_PIECE}|{PLAIN_PIECE})"
PLAIN_COMMAND = (
    rf"[ \t]*+{PLAIN_ITEM}"
    rf"(?:[ \t]++{PLAIN_ITEM}|[ \t]*+(?:{PLAIN_REDIRECT})[ \t]*+{PLAIN_PIECE})*+[ \t]*+"
)
PLAIN_LINE = re.compile(rf"{PLAIN_COMMAND}(?:(?:&&|\|\||;|\|){PLAIN_COMMAND})*;?[ \t]*")
PLAIN_TOKEN = re.compile(rf"{PLAIN_REDIRECT}|{PLAIN_PIECE}|&&|\|\||;|\|")
PLAIN_SPECIAL = re.compile(r"[;|&<>]")
PLAIN_OPERATORS = frozenset({"&&", "||", ";", "|"})
PLAIN_QUOTES = re.compile(r""""([^"]*)"|'([^']*)'|\\(.)|([^"'\\]+)""")


def plain_head(token: str) -> bool:
    """A first word the fast path may take: no keyword, assignment or brace group."""
    return token not in RESERVED and "=" not in token and token[0] not in "{}"


def unquote_plain(token: str) -> list[str]:
    return [a or b or c or d for a, b, c, d in PLAIN_QUOTES.findall(token)]


RESERVED = frozenset(
    "if then else elif fi case esac for select while until do done in function coproc "
    "! { } [[ ]] [".split()
)


class PlainCommand:
    """A command of plain words found by the fast path (see Walker.run_plain)."""

    __slots__ = ("tokens", "text", "redirects")

    def __init__(
        self, tokens: list[str], text: str, redirects: list[tuple[str, str]] | None = None
    ) -> None:
        self.tokens = tokens
        self.text = text
        self.redirects = redirects  # (operator as written, target token)

    def redirect_infos(self) -> list[RedirInfo]:
        infos: list[RedirInfo] = []
        for written, target_token in self.redirects or ():
            digits = len(written) - len(written.lstrip("0123456789"))
            fd = int(written[:digits]) if digits else None
            op = written[digits:]
            target = "".join(unquote_plain(target_token))
            redirect = Redirect(op, target, fd, writes_file(op, target, False), False)
            infos.append(RedirInfo(redirect, f"{written}{target_token}"))
        return infos

    def words(self) -> list[Word]:
        return [
            Word("".join(unquote_plain(t))) if "'" in t or '"' in t or "\\" in t else Word(t)
            for t in self.tokens
        ]


def split_plain(source: str) -> tuple[list[list[PlainCommand]], list[str]] | None:
    """Pipelines of plain commands and the operators between them, or None when the source
    needs the parser."""
    if PLAIN_LINE.fullmatch(source) is None or "|&" in source:
        return None  # `|&` (stderr too) is one operator to bash
    if PLAIN_SPECIAL.search(source) is None:
        # one command, no redirect (the usual case)
        found: list[str]
        if "'" in source or '"' in source or "\\" in source:
            found = PLAIN_TOKEN.findall(source)
        else:
            # Without quotes or escapes the line just matched is words of plain characters
            # between spaces and tabs: splitting on whitespace finds the same tokens.
            found = source.split()
        if not plain_head(found[0]):
            return None
        return [[PlainCommand(found, source.strip(" \t"))]], []
    # commands grouped into pipelines, with the operators in order
    pipelines: list[list[PlainCommand]] = [[]]
    operators: list[str] = []
    tokens: list[str] = []
    redirects: list[tuple[str, str]] = []
    pending = ""
    start = end = -1
    for m in PLAIN_TOKEN.finditer(source):
        token = m.group()
        if pending:
            if token == "-" and pending[-1] == "&":
                return None  # `3>&-` closes a descriptor: one token to the parser
            redirects.append((pending, token))
            pending = ""
            end = m.end()
            continue
        if token in PLAIN_OPERATORS:
            if not tokens:
                return None
            pipelines[-1].append(PlainCommand(tokens, source[start:end], redirects))
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
        pipelines[-1].append(PlainCommand(tokens, source[start:end], redirects))
    elif redirects or operators[-1:] != [";"]:
        return None
    if not pipelines[-1]:
        pipelines.pop()
    for pipeline in pipelines:
        for command in pipeline:
            if not plain_head(command.tokens[0]):
                return None
    return pipelines, operators
