"""Classifying mongo shell code (`mongosh --eval`) by the collection methods it calls."""

from __future__ import annotations

import re

from expacti_cli.analysis.model import SqlKind, SqlStatement
from expacti_cli.analysis.sqlorder import KIND_ORDER

_MONGO_CALL = re.compile(
    r"""\bdb(?P<path>(?:\s*\.\s*[A-Za-z_$][\w$]*|\s*\[\s*(?:'[^']*'|"[^"]*")\s*\]
    |\s*\.\s*(?:getCollection|getSiblingDB)\s*\(\s*(?:'[^']*'|"[^"]*")\s*\))*)
    \s*\.\s*(?P<method>[A-Za-z_$][\w$]*)\s*\((?P<arg>\s*(?:\{\s*\}|\)))?""",
    re.X,
)
_MONGO_READ = frozenset(
    """find findOne count countDocuments estimatedDocumentCount aggregate distinct getIndexes
    stats explain getCollectionNames getCollectionInfos listCollections getName version
    serverStatus hostInfo isMaster hello currentOp getSiblingDB getCollection dataSize
    totalSize storageSize totalIndexSize getUsers getRoles watch printCollectionStats
    getMongo getProfilingStatus""".split()
)
_MONGO_WRITE = frozenset("""insert insertOne insertMany save bulkWrite findAndModify""".split())
_MONGO_FILTERED = frozenset(
    """update updateOne updateMany replaceOne findOneAndUpdate findOneAndReplace
    findOneAndDelete deleteOne deleteMany remove""".split()
)
_MONGO_DDL = frozenset(
    """createIndex createIndexes ensureIndex createCollection renameCollection dropIndex
    dropIndexes createUser updateUser grantRolesToUser revokeRolesFromUser createView
    createRole setProfilingLevel""".split()
)
_MONGO_DESTRUCTIVE = frozenset({"drop", "dropDatabase", "dropUser", "dropAllUsers"})
_MONGO_UNKNOWN = frozenset({"runCommand", "adminCommand", "eval", "shutdownServer"})


def _mongo_target(path: str) -> str:
    m = re.search(r"""['"]([^'"]+)['"]|\.\s*([A-Za-z_$][\w$]*)\s*$""", path)
    if not m:
        return ""
    return m.group(1) or m.group(2) or ""


def _classify_mongo_statement(text: str) -> SqlStatement:
    stripped = text.strip()
    lower = stripped.lower()
    if lower.startswith(("show ", "show\t")) or lower in ("show", "it"):
        return SqlStatement(SqlKind.READ, "SHOW", stripped)
    if lower.startswith("use "):
        return SqlStatement(SqlKind.SESSION, "USE", stripped)
    worst: SqlStatement | None = None
    for m in _MONGO_CALL.finditer(stripped):
        method = m.group("method")
        target = _mongo_target(m.group("path") or "")
        empty_filter = m.group("arg") is not None
        if method in _MONGO_DESTRUCTIVE:
            st = SqlStatement(SqlKind.DESTRUCTIVE, method, stripped, target)
        elif method in _MONGO_FILTERED:
            kind = SqlKind.WRITE_NO_WHERE if empty_filter else SqlKind.WRITE_WHERE
            st = SqlStatement(kind, method, stripped, target)
        elif method in _MONGO_WRITE:
            st = SqlStatement(SqlKind.WRITE_WHERE, method, stripped, target)
        elif method in _MONGO_DDL:
            st = SqlStatement(SqlKind.DDL, method, stripped, target)
        elif method == "aggregate" and ("$out" in stripped or "$merge" in stripped):
            st = SqlStatement(SqlKind.WRITE_WHERE, method, stripped, target)
        elif method in _MONGO_READ:
            st = SqlStatement(SqlKind.READ, method, stripped, target)
        elif method in _MONGO_UNKNOWN:
            st = SqlStatement(SqlKind.UNKNOWN, method, stripped, target)
        else:
            continue  # chained cursor methods (.sort, .limit, .toArray) add nothing
        if worst is None or KIND_ORDER[st.kind] > KIND_ORDER[worst.kind]:
            worst = st
    if worst is not None:
        return worst
    if lower.startswith(("print", "console.log")):
        return SqlStatement(SqlKind.READ, "PRINT", stripped)
    return SqlStatement(SqlKind.UNKNOWN, "", stripped)


def _split_js(text: str) -> list[str]:
    """Split mongo shell JS on `;` and newlines outside strings, brackets and comments."""
    out: list[str] = []
    depth = 0
    quote = ""
    start = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(text[start:i])
            start = i = end
            continue
        elif depth == 0 and (ch == ";" or ch == "\n"):
            out.append(text[start:i])
            start = i + 1
        i += 1
    out.append(text[start:])
    return [s for s in (p.strip() for p in out) if s]


def classify_mongo(text: str) -> tuple[SqlStatement, ...]:
    """One statement per `;`- or newline-separated call."""
    return tuple(_classify_mongo_statement(s) for s in _split_js(text))
