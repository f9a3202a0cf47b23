"""Values produced by command analysis and consumed by risk, rules and display.

The analysis turns one command line (what an agent asked to run) into a flat list of
`SimpleCommand` parts. Top-level parts (depth 0) are what rules match against; nested parts
(inside `$()`, `bash -c`, `ssh host CMD`, a here-doc fed to an interpreter...) are scored
like any other part but belong to the top-level part they were found in (`top`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SqlKind(StrEnum):
    """What one SQL (or SQL-like) statement does, from least to most dangerous."""

    READ = "read"  # SELECT, SHOW, EXPLAIN (without ANALYZE of a write), \d...
    SESSION = "session"  # SET, BEGIN, COMMIT, USE, transaction control
    WRITE_WHERE = "write_where"  # UPDATE/DELETE with a WHERE clause, INSERT, COPY FROM
    DDL = "ddl"  # CREATE, ALTER, GRANT, REVOKE, COMMENT, REINDEX
    WRITE_NO_WHERE = "write_no_where"  # UPDATE/DELETE without WHERE
    DESTRUCTIVE = "destructive"  # DROP, TRUNCATE, FLUSHALL/FLUSHDB, dropDatabase
    UNKNOWN = "unknown"  # could not be classified


@dataclass(frozen=True)
class SqlStatement:
    """One statement found in SQL (or redis/mongo) text passed to a database client."""

    kind: SqlKind
    verb: str  # upper-case leading keyword(s): "SELECT", "UPDATE", "DROP TABLE", "FLUSHALL"
    text: str  # the statement text, trimmed
    target: str = ""  # table / collection / key the statement names, when easy to see
    concurrently: bool = False  # CREATE INDEX CONCURRENTLY and friends


@dataclass(frozen=True)
class Redirect:
    """A redirection attached to a simple command."""

    op: str  # as written: ">", ">>", "<", "&>", "2>", ">|", "<<", "<<<", ">&"
    target: str  # literal target word ("" when dynamic); here-doc/here-string body for "<<"/"<<<"
    fd: int | None = None  # explicit fd number before the operator, if any
    is_write: bool = False  # True when it writes a file (not /dev/null, not an fd dup like 2>&1)
    dynamic: bool = False  # target contains an expansion ($x, $(...), glob)


@dataclass(frozen=True)
class SimpleCommand:
    """One simple command found anywhere in the command line.

    `words` is what was written (quotes removed where the word is literal; a dynamic word keeps
    its source text), `argv` is the same after looking through wrappers (sudo, env, timeout,
    nice, nohup, xargs, ...) and `VAR=x` prefixes, with `argv[0]` normalised into `program`
    (`/bin/rm`, `\\rm` and `"rm"` all give `rm`).
    """

    text: str  # source text of this simple command, redirects included
    words: tuple[str, ...]  # literal words as written, env prefixes and wrappers included
    argv: tuple[str, ...]  # after wrappers; argv[0] is the program as written
    program: str  # normalised program name ("" when there is none, e.g. a bare assignment)
    short_flags: frozenset[str] = frozenset()  # bundled short flags split: -rf -> {"r", "f"}
    long_flags: frozenset[str] = frozenset()  # "--force" -> "force" ("--x=y" -> "x")
    positionals: tuple[str, ...] = ()  # argv[1:] that are not flags
    subcommand: str = ""  # first positional for multi-command tools (git, kubectl, docker, npm...)
    env: tuple[tuple[str, str], ...] = ()  # VAR=x prefixes and `env VAR=x` assignments
    wrappers: tuple[str, ...] = ()  # wrappers looked through, outermost first: ("sudo", "timeout")
    redirects: tuple[Redirect, ...] = ()
    depth: int = 0  # 0 = top level; +1 for each `$()`, `bash -c`, `ssh`, `eval`, here-doc, ...
    top: int = 0  # index (in Analysis.parts) of the depth-0 part this one belongs to
    via: tuple[str, ...] = ()  # how it was reached: ("ssh prod-db", "bash -c") outermost first
    remote_host: str = ""  # set when reached through `ssh HOST` (innermost host)
    container: str = ""  # set when reached through `docker exec C` / `kubectl exec P`
    background: bool = False  # ends with `&`
    pipeline_position: int = 0  # index inside its pipeline (0 for the first / not piped)
    pipeline_length: int = 1
    piped_into: str = ""  # program this one's stdout is piped into ("" if none)
    dynamic_program: bool = False  # argv[0] is not literal: `$cmd -rf`, `$(which rm)`
    dynamic_args: bool = False  # some argument is not literal ($x, $(..), `..`, globs excluded)
    has_substitution: bool = False  # contains $(...), backticks or <(...)/>(...)
    is_eval: bool = False  # eval, or `sh -c` with a dynamic script
    obfuscated: bool = False  # base64/hex decode into a shell, $'\x..' program names, etc.
    interpreter_code: str = ""  # code given to python -c / node -e / perl -e / ruby -e / here-doc
    sql: tuple[SqlStatement, ...] = ()  # statements passed to a DB client (-c, -e, here-doc, <<<)
    db_client: str = ""  # "psql", "mysql", "sqlite3", "mongosh", "redis-cli" when sql is set
    db_target: str = ""  # database argument / URL / host as written ("$DATABASE_URL" included)
    find_actions: tuple[str, ...] = ()  # "-delete", "-exec" ... when program is find


@dataclass(frozen=True)
class Analysis:
    """The result of analysing one command line. Never raised: failures are data."""

    source: str  # the command as given (decoded with surrogateescape when bytes)
    parts: tuple[SimpleCommand, ...] = ()
    unparsed: bool = False  # the parser could not make sense of (part of) the command
    problems: tuple[str, ...] = ()  # human-readable: "syntax error near ...", "nesting too deep"
    operators: tuple[str, ...] = ()  # control operators seen: ";", "&&", "||", "&", "|", "\n"
    depth_exceeded: bool = False
    notes: tuple[str, ...] = field(default=())  # e.g. decoded previews of obfuscated payloads

    @property
    def top_parts(self) -> tuple[SimpleCommand, ...]:
        """The depth-0 parts, in source order: what whitelist rules are matched against."""
        return tuple(p for p in self.parts if p.depth == 0)

    def nested_in(self, index: int) -> tuple[SimpleCommand, ...]:
        """Every part (including itself) that belongs to top-level part `index`."""
        return tuple(p for p in self.parts if p.top == index)
