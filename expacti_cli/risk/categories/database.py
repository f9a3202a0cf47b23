"""Databases: SQL and key-value clients, dumps and restores, migration tools.

The statement kinds come from the analysis (`SimpleCommand.sql`); the worst statement in a
part decides. Missing WHERE clauses and production targets are modifiers, not bases.
"""

from __future__ import annotations

from expacti_cli.analysis.model import SimpleCommand, SqlKind, SqlStatement
from expacti_cli.risk.categories import build_test
from expacti_cli.risk.categories.base import (
    DESTRUCTIVE,
    MUTATING,
    Category,
    Table,
    Verdict,
    entry,
    has_flag,
)

NAME = "database"

CLIENTS = frozenset(
    {"psql", "mysql", "mariadb", "sqlite3", "sqlite", "mongosh", "mongo", "redis-cli", "cqlsh"}
    | {"clickhouse-client", "clickhouse", "duckdb", "sqlcmd", "usql", "pgcli", "mycli", "litecli"}
    | {"valkey-cli", "influx", "cockroach", "snowsql", "bq", "trino", "presto"}
)
TOOLS = frozenset(
    {"pg_dump", "pg_dumpall", "pg_restore", "mysqldump", "mongodump", "mongorestore", "mysqladmin"}
    | {"createdb", "dropdb", "createuser", "dropuser", "pg_ctl", "pg_upgrade", "prisma", "alembic"}
    | {"flyway", "liquibase", "knex", "sequelize", "typeorm", "dbmate", "goose", "migrate", "atlas"}
    | {"sqlx", "diesel", "rails", "drizzle-kit", "supabase", "redis-server", "mongod", "postgres"}
)
PROGRAMS = CLIENTS | TOOLS

T = Table(
    NAME,
    {
        "session": entry(8, "transaction or session statement", "database session"),
        "read": entry(12, "read-only query", "database read"),
        "dump": entry(20, "dumps a database", "database dump"),
        "interactive": entry(
            35, "opens an interactive database session", "database session", MUTATING
        ),
        "file": entry(
            45, "runs SQL from a file or input that is not shown", "database script", MUTATING
        ),
        "unknown": entry(45, "SQL that could not be classified", "database statement", MUTATING),
        "insert": entry(45, "INSERT", "database write", MUTATING),
        "write": entry(50, "write with WHERE clause", "database write", MUTATING),
        "write-all": entry(50, "write to every row", "database write", DESTRUCTIVE),
        "ddl-concurrent": entry(41, "DDL, CONCURRENTLY (no long lock)", "schema change", MUTATING),
        "ddl": entry(45, "DDL (schema change)", "schema change", MUTATING),
        "migrate": entry(50, "applies schema migrations", "schema migration", MUTATING),
        "restore": entry(60, "restores a dump over a database", "database restore", DESTRUCTIVE),
        "rollback": entry(65, "rolls back schema migrations", "migration rollback", DESTRUCTIVE),
        "server": entry(
            40, "starts, stops or upgrades a database server", "database server change", MUTATING
        ),
        "destructive": entry(
            95, "destructive statement, unrecoverable", "destructive database change", DESTRUCTIVE
        ),
    },
)

_RANK = {
    SqlKind.SESSION: 0,
    SqlKind.READ: 1,
    SqlKind.WRITE_WHERE: 2,
    SqlKind.DDL: 3,
    SqlKind.UNKNOWN: 4,
    SqlKind.WRITE_NO_WHERE: 5,
    SqlKind.DESTRUCTIVE: 6,
}


def worst_statement(statements: tuple[SqlStatement, ...]) -> SqlStatement:
    return max(statements, key=lambda s: _RANK.get(s.kind, 4))


def _sql_verdict(statement: SqlStatement) -> Verdict:
    kind, verb = statement.kind, statement.verb or "statement"
    if kind == SqlKind.READ:
        return T("read", text=f"read-only query ({verb})")
    if kind == SqlKind.SESSION:
        return T("session", text=f"session statement ({verb})")
    if kind == SqlKind.WRITE_WHERE:
        if verb.startswith(("INSERT", "COPY", "REPLACE", "SET", "HSET", "LPUSH", "RPUSH", "SADD")):
            return T("insert", text=verb)
        return T("write", text=f"{verb} with WHERE clause")
    if kind == SqlKind.WRITE_NO_WHERE:
        return T("write-all", text=f"{verb} without WHERE clause")
    if kind == SqlKind.DDL:
        if statement.concurrently:
            return T("ddl-concurrent", text=f"DDL ({verb} CONCURRENTLY, no long lock)")
        return T("ddl", text=f"DDL ({verb})")
    if kind == SqlKind.DESTRUCTIVE:
        return T("destructive", text=f"{verb}, unrecoverable")
    return T("unknown", text=f"unclassified statement ({verb})")


_MIGRATION_ROLLBACK = ("down", "downgrade", "rollback", "undo", "reset", "drop", "clean", "purge")


def _tool(part: SimpleCommand) -> Verdict:
    program, positionals = part.program, part.positionals
    words = " ".join(positionals).lower()
    if program in ("pg_dump", "pg_dumpall", "mysqldump", "mongodump"):
        return T("dump")
    if program in ("pg_restore", "mongorestore"):
        if has_flag(part, "c", ("clean", "drop")):
            return T("destructive", text="restore that drops existing objects first")
        return T("restore")
    if program in ("dropdb", "dropuser"):
        return T("destructive", text=f"{program}, unrecoverable")
    if program in ("createdb", "createuser"):
        return T("ddl", text=f"DDL ({program})")
    if program == "mysqladmin":
        if "drop" in positionals:
            return T("destructive", text="DROP DATABASE, unrecoverable")
        return T("server") if {"shutdown", "flush-hosts"} & set(positionals) else T("read")
    if program in ("pg_ctl", "pg_upgrade", "redis-server", "mongod", "postgres"):
        return T("server")
    if program == "rails" and not any(word.startswith("db:") for word in positionals):
        return build_test.T("run", text=f"rails {words}".strip())
    if any(word in words for word in ("reset", "drop", "flush", "purge", "clean")):
        if program in ("prisma", "rails", "flyway", "supabase", "drizzle-kit", "atlas", "dbmate"):
            return T("destructive", text=f"{program} {words}: wipes the database")
    if any(word in words.split() or f":{word}" in words for word in _MIGRATION_ROLLBACK):
        return T("rollback")
    if any(word in words for word in ("migrate", "upgrade", "push", "deploy", "up", "apply")):
        return T("migrate")
    return T("read", text="migration status or generation")


def judge(part: SimpleCommand) -> Verdict:
    if part.sql:
        return _sql_verdict(worst_statement(part.sql))
    if part.program in TOOLS:
        return _tool(part)
    if part.short_flags & {"f"} or "file" in part.long_flags or part.pipeline_position > 0:
        return T("file")
    if any(r.op in ("<", "<<", "<<<") for r in part.redirects):
        return T("file")
    if (
        part.long_flags & {"version", "help", "list"}
        or "l" in part.short_flags
        and part.program == "psql"
    ):
        return T("read", text="lists databases or prints its version")
    return T("interactive")


CATEGORY = Category(
    NAME,
    "database",
    "database clients and tools; SQL is classified by statement kind",
    PROGRAMS,
    judge,
    T.examples,
)
