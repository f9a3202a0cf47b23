"""Classifying SQL text by what each statement does (redis.py and mongo.py do the others).

Statements are split on `;` outside quotes, dollar quotes and comments; psql backslash
commands and sqlite dot-commands end at the end of their line. Classification reads the
leading keywords only: it never needs a full SQL grammar to tell a SELECT from a DROP.
"""

from __future__ import annotations

import re

from expacti_cli.analysis.model import SqlKind, SqlStatement
from expacti_cli.analysis.mongo import classify_mongo
from expacti_cli.analysis.redis import classify_redis
from expacti_cli.analysis.sqlorder import KIND_ORDER

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<str>'(?:[^'\\]|''|\\.)*(?:'|\Z)|"(?:[^"]|"")*(?:"|\Z)|`[^`]*(?:`|\Z))
    |(?P<dollar>\$(?P<tag>(?:[A-Za-z_]\w*)?)\$.*?(?:\$(?P=tag)\$|\Z))
    |(?P<word>[A-Za-z_][\w$]*(?:\.[A-Za-z_"`][\w$"`]*)*|\d+(?:\.\d+)?)
    |(?P<semi>;)
    |(?P<other>.)
    """,
    re.S | re.X,
)

_READ = frozenset(
    {"SELECT", "SHOW", "DESCRIBE", "DESC", "VALUES", "TABLE", "FETCH", "HELP", "PRAGMA"}
)
_SESSION = frozenset(
    {
        "SET",
        "RESET",
        "BEGIN",
        "START",
        "COMMIT",
        "END",
        "ROLLBACK",
        "ABORT",
        "SAVEPOINT",
        "RELEASE",
        "USE",
        "LISTEN",
        "UNLISTEN",
        "NOTIFY",
        "DISCARD",
        "DEALLOCATE",
        "PREPARE",
        "DECLARE",
        "CLOSE",
        "MOVE",
        "ANALYZE",
        "ANALYSE",
        "CHECKPOINT",
        "ATTACH",
        "DETACH",
        "LOCK",
        "UNLOCK",
        "VACUUM",
        "LOAD",
    }
)
_DDL = frozenset(
    {
        "CREATE",
        "ALTER",
        "GRANT",
        "REVOKE",
        "COMMENT",
        "REINDEX",
        "CLUSTER",
        "RENAME",
        "REFRESH",
        "SECURITY",
        "IMPORT",
        "OPTIMIZE",
    }
)
_WRITE = frozenset({"INSERT", "REPLACE", "UPSERT", "MERGE"})
_UNKNOWN = frozenset({"CALL", "DO", "EXECUTE", "EXEC"})
_OBJECT_MODIFIERS = frozenset(
    {
        "OR",
        "REPLACE",
        "UNIQUE",
        "TEMP",
        "TEMPORARY",
        "UNLOGGED",
        "GLOBAL",
        "LOCAL",
        "RECURSIVE",
        "IF",
        "NOT",
        "EXISTS",
        "CONCURRENTLY",
        "ONLY",
        "DEFINER",
        "ALGORITHM",
        "SQL",
        "SECURITY",
        "TRUSTED",
        "PROCEDURAL",
        "CLUSTERED",
        "NONCLUSTERED",
    }
)
_TWO_WORD_OBJECTS = frozenset({"MATERIALIZED", "FOREIGN", "EVENT", "ACCESS", "TEXT", "USER"})
_DML = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE"})
_TRIVIAL_WHERE = (("1", "=", "1"), ("TRUE",), ("1",), ("'1'", "=", "'1'"))


class _Stmt:
    __slots__ = ("tokens", "start", "end")

    def __init__(self) -> None:
        self.tokens: list[tuple[str, str]] = []  # (kind, text); kind in word/str/semi/other
        self.start = -1
        self.end = -1


_META_LINE = re.compile(r"(?m)^[ \t\r]*(?:[\\.][A-Za-z]|\\!|(?i:system)[ \t])")
# A line that is a client command running to its end: psql `\d`, sqlite `.tables`, and the
# shell escapes `\! CMD` (psql, mysql) and `system CMD` (mysql), whose `--flags` are no comment.
_META_START = re.compile(r"[\\.][A-Za-z]|\\!|(?i:system)[ \t]")
# The same tokens with the blanks before each one folded in: half the matches to loop over.
_SPACED_TOKEN = re.compile(
    r"""
    \s*+(?:
    (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<str>'(?:[^'\\]|''|\\.)*(?:'|\Z)|"(?:[^"]|"")*(?:"|\Z)|`[^`]*(?:`|\Z))
    |(?P<dollar>\$(?P<tag>(?:[A-Za-z_]\w*)?)\$.*?(?:\$(?P=tag)\$|\Z))
    |(?P<word>[A-Za-z_][\w$]*(?:\.[A-Za-z_"`][\w$"`]*)*|\d+(?:\.\d+)?)
    |(?P<semi>;)
    |(?P<other>\S))
    """,
    re.S | re.X,
)


def split_statements(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(statement text, tokens) for each statement; meta-commands give one token `\\x`."""
    if _META_LINE.search(text) is None:
        return _split_plain(text)
    return _split_with_meta(text)


def _split_plain(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """split_statements for text without psql/sqlite meta-commands (the usual case)."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    tokens: list[tuple[str, str]] = []
    start = end = -1
    for m in _SPACED_TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "tag":
            kind = "dollar"
        if kind is None or kind == "comment":
            continue
        if kind == "semi":
            if tokens:
                out.append((text[start:end].strip(), tokens))
                tokens = []
                start = -1
            continue
        token_start = m.start(kind)
        if start < 0:
            start = token_start
        end = m.end()
        tokens.append((kind, text[token_start:end]))
    if tokens:
        out.append((text[start:end].strip(), tokens))
    return out


def _split_with_meta(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    out: list[tuple[str, list[tuple[str, str]]]] = []
    cur = _Stmt()
    pos, n = 0, len(text)
    match = _TOKEN.match
    while pos < n:
        if not cur.tokens:
            # psql `\d` and sqlite `.tables` run to the end of their line, no `;` needed.
            skip = pos
            while skip < n and text[skip] in " \t\r\n":
                skip += 1
            if skip < n and _META_START.match(text, skip):
                end = text.find("\n", skip)
                end = n if end < 0 else end
                line = text[skip:end].strip()
                out.append((line, [("meta", line)]))
                pos = end
                continue
        m = match(text, pos)
        if m is None:  # pragma: no cover - the pattern matches any character
            break
        kind = m.lastgroup or "other"
        pos = m.end()
        if kind in ("ws", "comment"):
            continue
        if kind == "semi":
            if cur.tokens:
                out.append((text[cur.start : cur.end].strip(), cur.tokens))
            cur = _Stmt()
            continue
        if kind == "tag":
            kind = "dollar"
        if cur.start < 0:
            cur.start = m.start()
        cur.end = pos
        cur.tokens.append((kind, m.group()))
    if cur.tokens:
        out.append((text[cur.start : cur.end].strip(), cur.tokens))
    return out


def _words(tokens: list[tuple[str, str]]) -> list[str]:
    """Upper-case keywords and punctuation, strings kept as written (for WHERE checks)."""
    return [t.upper() if k == "word" else t for k, t in tokens]


def _depth0(words: list[str]) -> list[tuple[int, str]]:
    """(index, word) for tokens outside parentheses."""
    out: list[tuple[int, str]] = []
    depth = 0
    for i, w in enumerate(words):
        if w == "(":
            depth += 1
        elif w == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append((i, w))
    return out


def _name_after(tokens: list[tuple[str, str]], i: int, skip: frozenset[str]) -> str:
    """The first identifier at or after i that is not a keyword in skip."""
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "word" and value.upper() not in skip:
            return value
        if kind == "str" and value[:1] in '"`':
            return value[1:-1]
        if kind not in ("word",):
            return ""
        i += 1
    return ""


def _object_type(words: list[str], i: int) -> tuple[str, int]:
    """For CREATE/DROP/ALTER at i: the object type words and the index after them."""
    j = i + 1
    while j < len(words) and words[j] in _OBJECT_MODIFIERS:
        j += 1
    if j >= len(words):
        return "", j
    if words[j] in _TWO_WORD_OBJECTS and j + 1 < len(words) and words[j + 1].isalpha():
        return f"{words[j]} {words[j + 1]}", j + 2
    return words[j], j + 1


def _where_kind(words: list[str], tokens: list[tuple[str, str]], start: int) -> SqlKind:
    """WRITE_WHERE when a real top-level WHERE follows start, else WRITE_NO_WHERE."""
    for idx, w in _depth0(words[start:]):
        if w == "WHERE":
            rest = tuple(words[start + idx + 1 : start + idx + 4])
            for trivial in _TRIVIAL_WHERE:
                if rest[: len(trivial)] == trivial and len(words) - (start + idx + 1) == len(
                    trivial
                ):
                    return SqlKind.WRITE_NO_WHERE
            return SqlKind.WRITE_WHERE
        if w == "CURRENT":  # WHERE CURRENT OF cursor is handled by WHERE above
            continue
    return SqlKind.WRITE_NO_WHERE


_SHELL_ESCAPES = ("\\!", ".system", ".shell", "system")
# PostgreSQL's COPY ... PROGRAM (run by the server) and psql's \copy ... PROGRAM (run here).
_COPY_PROGRAM = re.compile(r"(?is)\\?copy\b.*?\bprogram\s+'((?:[^']|'')*)'")


def shell_escape(text: str) -> str:
    """The shell command of a client's shell escape (`\\! CMD`, `system CMD`, `.system CMD`,
    `.shell CMD`), or "" when `text` is not one."""
    stripped = text.strip()
    if not stripped:
        return ""
    if program := _COPY_PROGRAM.match(stripped):  # COPY / \copy ... PROGRAM 'CMD'
        return program.group(1).replace("''", "'")
    if stripped.startswith("\\!"):
        rest = stripped[2:]
    else:
        head, *tail = stripped.split(None, 1)
        if head.lower() not in _SHELL_ESCAPES:
            return ""
        rest = tail[0] if tail else ""
    return rest.strip().removesuffix(";").strip()


def _classify_meta(text: str) -> SqlStatement:
    """psql backslash commands and sqlite dot-commands."""
    cmd = text.split(None, 1)[0]
    lower = cmd.lower()
    if lower in (
        "\\i",
        "\\ir",
        "\\include",
        "\\include_relative",
        "\\!",
        ".read",
        ".shell",
        "system",
    ):
        return SqlStatement(SqlKind.UNKNOWN, cmd, text)
    if lower in (".system", "\\o", "\\out", ".output", ".once", ".save", ".backup"):
        return SqlStatement(SqlKind.SESSION if lower != ".system" else SqlKind.UNKNOWN, cmd, text)
    if lower in ("\\copy", ".import", ".restore"):
        if _COPY_PROGRAM.match(text):
            return SqlStatement(SqlKind.UNKNOWN, "\\copy PROGRAM", text)
        if lower == "\\copy" and " to " in text.lower() and " from " not in text.lower():
            return SqlStatement(SqlKind.READ, cmd, text)
        return SqlStatement(SqlKind.WRITE_WHERE, cmd, text)
    if lower in ("\\c", "\\connect", "\\set", "\\unset", "\\pset", "\\x", "\\timing", "\\q"):
        return SqlStatement(SqlKind.SESSION, cmd, text)
    if lower.startswith("\\g") or lower in ("\\gexec", "\\e", "\\ef", "\\ev"):
        return SqlStatement(SqlKind.UNKNOWN, cmd, text)
    return SqlStatement(SqlKind.READ, cmd, text)


def _classify(text: str, tokens: list[tuple[str, str]]) -> SqlStatement:
    if tokens[0][0] == "meta":
        return _classify_meta(text)
    words = _words(tokens)
    i = 0
    while i < len(words) and words[i] == "(":
        i += 1  # (SELECT ...) UNION ...
    if i >= len(words):
        return SqlStatement(SqlKind.UNKNOWN, "", text)
    first = words[i]
    if first == "WITH":
        return _classify_with(text, tokens, words, i)
    if first == "EXPLAIN":
        return _classify_explain(text, tokens, words, i)
    if first == "SELECT":
        top = [w for _, w in _depth0(words[i:])]
        if "INTO" in top and "OUTFILE" not in top and "DUMPFILE" not in top:
            return SqlStatement(SqlKind.DDL, "SELECT INTO", text)
        target = ""
        if "FROM" in words:
            target = _name_after(tokens, words.index("FROM") + 1, frozenset({"ONLY"}))
        return SqlStatement(SqlKind.READ, "SELECT", text, target)
    if first in ("UPDATE", "DELETE"):
        skip = frozenset({"FROM", "ONLY", "LOW_PRIORITY", "IGNORE", "QUICK", "TOP"})
        return SqlStatement(
            _where_kind(words, tokens, i + 1), first, text, _name_after(tokens, i + 1, skip)
        )
    if first in _WRITE:
        return SqlStatement(
            SqlKind.WRITE_WHERE,
            first,
            text,
            _name_after(
                tokens, i + 1, frozenset({"INTO", "OR", "IGNORE", "REPLACE", "LOW_PRIORITY"})
            ),
        )
    if first == "COPY":
        top = [w for _, w in _depth0(words[i:])]
        if "PROGRAM" in top:
            return SqlStatement(
                SqlKind.UNKNOWN, "COPY PROGRAM", text, _name_after(tokens, i + 1, frozenset())
            )
        kind = SqlKind.WRITE_WHERE if "FROM" in top else SqlKind.READ
        return SqlStatement(kind, "COPY", text, _name_after(tokens, i + 1, frozenset()))
    if first in ("DROP", "TRUNCATE"):
        if first == "TRUNCATE":
            target = _name_after(tokens, i + 1, frozenset({"TABLE", "ONLY"}))
            return SqlStatement(SqlKind.DESTRUCTIVE, "TRUNCATE", text, target)
        obj, j = _object_type(words, i)
        target = _name_after(tokens, j, _OBJECT_MODIFIERS)
        concurrently = "CONCURRENTLY" in words[i : j + 2]
        return SqlStatement(SqlKind.DESTRUCTIVE, f"DROP {obj}".strip(), text, target, concurrently)
    if first in _DDL:
        obj, j = _object_type(words, i)
        concurrently = "CONCURRENTLY" in words[i : j + 3]
        if first in ("CREATE", "ALTER"):
            verb = f"{first} {obj}".strip()
            target = _name_after(tokens, j, _OBJECT_MODIFIERS | {"CONCURRENTLY"})
            if obj == "INDEX" and "ON" in words[j:]:
                target = _name_after(tokens, words.index("ON", j) + 1, frozenset({"ONLY"}))
            if first == "ALTER" and obj == "TABLE" and _drops_column(words[j:]):
                return SqlStatement(SqlKind.DESTRUCTIVE, "ALTER TABLE DROP", text, target)
            return SqlStatement(SqlKind.DDL, verb, text, target, concurrently)
        if first == "REFRESH":
            return SqlStatement(SqlKind.DDL, "REFRESH MATERIALIZED VIEW", text, "", concurrently)
        return SqlStatement(SqlKind.DDL, first, text, "", concurrently)
    if first in _READ:
        return SqlStatement(SqlKind.READ, first, text)
    if first in _SESSION:
        if first == "VACUUM" and "FULL" in words[i : i + 3]:
            return SqlStatement(SqlKind.DDL, "VACUUM FULL", text)
        if first == "LOAD" and "DATA" in words[i : i + 2]:
            return SqlStatement(SqlKind.WRITE_WHERE, "LOAD DATA", text)
        return SqlStatement(SqlKind.SESSION, first, text)
    if first in _UNKNOWN:
        return SqlStatement(SqlKind.UNKNOWN, first, text)
    return SqlStatement(SqlKind.UNKNOWN, first if tokens[i][0] == "word" else "", text)


_KEEPS_DATA = frozenset(
    {"CONSTRAINT", "DEFAULT", "NOT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "EXPRESSION"}
    | {"IDENTITY", "TRIGGER", "ROW", "CHECK"}
)


def _drops_column(words: list[str]) -> bool:
    """ALTER TABLE ... DROP [COLUMN] x (or DROP PARTITION) loses data; DROP CONSTRAINT does not."""
    top = [w for _, w in _depth0(words)]
    for k, w in enumerate(top):
        if w == "DROP" and (k + 1 >= len(top) or top[k + 1] not in _KEEPS_DATA):
            return True
    return False


def _classify_with(
    text: str, tokens: list[tuple[str, str]], words: list[str], i: int
) -> SqlStatement:
    """WITH ... AS (...) main: the main statement, or a data-modifying CTE if worse."""
    worst: SqlStatement | None = None
    main_at = -1
    for idx, w in _depth0(words[i + 1 :]):
        if w in ("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE"):
            main_at = i + 1 + idx
            break
    if main_at >= 0:
        worst = _classify(text, tokens[main_at:])
    for k in range(i + 1, len(words) - 1):
        if words[k] == "(" and words[k + 1] in _DML:
            inner = _classify(text, _until_close(tokens, k + 1))
            if worst is None or KIND_ORDER[inner.kind] > KIND_ORDER[worst.kind]:
                worst = inner
    if worst is None:
        return SqlStatement(SqlKind.UNKNOWN, "WITH", text)
    return SqlStatement(worst.kind, worst.verb, text, worst.target, worst.concurrently)


def _until_close(tokens: list[tuple[str, str]], start: int) -> list[tuple[str, str]]:
    depth = 0
    for k in range(start, len(tokens)):
        value = tokens[k][1]
        if value == "(":
            depth += 1
        elif value == ")":
            if depth == 0:
                return tokens[start:k]
            depth -= 1
    return tokens[start:]


def _classify_explain(
    text: str, tokens: list[tuple[str, str]], words: list[str], i: int
) -> SqlStatement:
    """EXPLAIN runs nothing; EXPLAIN ANALYZE runs its statement (a write stays a write)."""
    j = i + 1
    analyze = False
    if j < len(words) and words[j] == "(":
        close = j
        depth = 0
        for k in range(j, len(words)):
            if words[k] == "(":
                depth += 1
            elif words[k] == ")":
                depth -= 1
                if depth == 0:
                    close = k
                    break
        opts = words[j + 1 : close]
        for k, w in enumerate(opts):
            if w in ("ANALYZE", "ANALYSE"):
                nxt = opts[k + 1] if k + 1 < len(opts) else ","
                analyze = nxt not in ("FALSE", "OFF", "0")
        j = close + 1
    else:
        while j < len(words) and words[j] in (
            "ANALYZE",
            "ANALYSE",
            "VERBOSE",
            "QUERY",
            "PLAN",
            "FORMAT",
            "EXTENDED",
            "PARTITIONS",
        ):
            analyze = analyze or words[j] in ("ANALYZE", "ANALYSE")
            j += 1
    verb = "EXPLAIN ANALYZE" if analyze else "EXPLAIN"
    if j >= len(tokens):
        return SqlStatement(SqlKind.READ, verb, text)
    inner = _classify(text, tokens[j:])
    if not analyze or inner.kind in (SqlKind.READ, SqlKind.UNKNOWN):
        kind = SqlKind.READ if not analyze or inner.kind == SqlKind.READ else inner.kind
        return SqlStatement(kind, verb, text, inner.target)
    return SqlStatement(inner.kind, f"{verb} {inner.verb}", text, inner.target, inner.concurrently)


def classify_sql(text: str, dialect: str = "sql") -> tuple[SqlStatement, ...]:
    """Classify each statement of SQL, redis-cli or mongo shell text. Never raises."""
    try:
        if dialect == "redis":
            return classify_redis(text)
        if dialect == "mongo":
            return classify_mongo(text)
        return tuple(_classify(stmt, tokens) for stmt, tokens in split_statements(text))
    except Exception:  # noqa: BLE001 - classification must never break analysis
        return (SqlStatement(SqlKind.UNKNOWN, "", text.strip()),)
