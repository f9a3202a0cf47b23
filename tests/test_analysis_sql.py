"""SQL, redis and mongo classification, and the database clients that carry it."""

from __future__ import annotations

import pytest

from expacti_cli.analysis import SqlKind, analyze, classify_sql

R, S, W, D, NW, X, U = (
    SqlKind.READ,
    SqlKind.SESSION,
    SqlKind.WRITE_WHERE,
    SqlKind.DDL,
    SqlKind.WRITE_NO_WHERE,
    SqlKind.DESTRUCTIVE,
    SqlKind.UNKNOWN,
)

SQL = [
    ("SELECT * FROM users", [(R, "SELECT", "users")]),
    ("select 1; select 2;", [(R, "SELECT", ""), (R, "SELECT", "")]),
    ("SHOW tables", [(R, "SHOW", "")]),
    ("EXPLAIN DELETE FROM t", [(R, "EXPLAIN", "t")]),
    ("EXPLAIN ANALYZE SELECT * FROM t", [(R, "EXPLAIN ANALYZE", "t")]),
    ("EXPLAIN (ANALYZE, BUFFERS) SELECT 1", [(R, "EXPLAIN ANALYZE", "")]),
    ("EXPLAIN ANALYZE DELETE FROM t WHERE id = 1", [(W, "EXPLAIN ANALYZE DELETE", "t")]),
    ("EXPLAIN ANALYZE UPDATE t SET a = 1", [(NW, "EXPLAIN ANALYZE UPDATE", "t")]),
    ("UPDATE users SET plan = 1 WHERE id = 42", [(W, "UPDATE", "users")]),
    ("UPDATE users SET plan = 1", [(NW, "UPDATE", "users")]),
    ("update users set plan = 1 where 1=1", [(NW, "UPDATE", "users")]),
    ("DELETE FROM sessions", [(NW, "DELETE", "sessions")]),
    ("DELETE FROM sessions WHERE expires < now()", [(W, "DELETE", "sessions")]),
    ("UPDATE t SET a = (SELECT b FROM u WHERE u.id = 1)", [(NW, "UPDATE", "t")]),
    ("INSERT INTO t (a) VALUES (1)", [(W, "INSERT", "t")]),
    ("COPY t FROM STDIN", [(W, "COPY", "t")]),
    ("COPY t TO STDOUT", [(R, "COPY", "t")]),
    ("CREATE TABLE t (a int)", [(D, "CREATE TABLE", "t")]),
    ("ALTER TABLE t ADD COLUMN b int", [(D, "ALTER TABLE", "t")]),
    ("ALTER TABLE t DROP COLUMN b", [(X, "ALTER TABLE DROP", "t")]),
    ("GRANT SELECT ON t TO bob", [(D, "GRANT", "")]),
    ("DROP TABLE sessions", [(X, "DROP TABLE", "sessions")]),
    ("DROP TABLE IF EXISTS sessions CASCADE", [(X, "DROP TABLE", "sessions")]),
    ("DROP DATABASE app", [(X, "DROP DATABASE", "app")]),
    ("TRUNCATE users", [(X, "TRUNCATE", "users")]),
    ("TRUNCATE TABLE users", [(X, "TRUNCATE", "users")]),
    ("BEGIN; COMMIT", [(S, "BEGIN", ""), (S, "COMMIT", "")]),
    ("SET search_path TO x", [(S, "SET", "")]),
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", [(NW, "DELETE", "t")]),
    ("WITH x AS (SELECT 1) SELECT * FROM x", [(R, "SELECT", "x")]),
    ("CALL do_things()", [(U, "CALL", "")]),
    ("frobnicate everything", [(U, "FROBNICATE", "")]),
    ("\\d users", [(R, "\\d", "")]),
    ("\\dt", [(R, "\\dt", "")]),
    ("\\i migrate.sql", [(U, "\\i", "")]),
    (".tables", [(R, ".tables", "")]),
    ("-- just a comment", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), SQL)
def test_sql_statements(text: str, expected: list[tuple[SqlKind, str, str]]) -> None:
    got = [(s.kind, s.verb, s.target) for s in classify_sql(text)]
    assert got == expected


def test_create_index_concurrently() -> None:
    (stmt,) = classify_sql("CREATE INDEX CONCURRENTLY idx_a ON users (a)")
    assert (stmt.kind, stmt.verb, stmt.target, stmt.concurrently) == (
        D,
        "CREATE INDEX",
        "users",
        True,
    )
    (plain,) = classify_sql("CREATE INDEX idx_a ON users (a)")
    assert not plain.concurrently


def test_semicolons_in_strings_and_comments_do_not_split() -> None:
    text = "INSERT INTO t VALUES ('a;b'); /* ; */ SELECT $$;$$ -- ;\n"
    assert [s.verb for s in classify_sql(text)] == ["INSERT", "SELECT"]


def test_statement_text_is_trimmed() -> None:
    (stmt,) = classify_sql("  DROP TABLE x ;  ")
    assert stmt.text == "DROP TABLE x"


REDIS = [
    ("GET key", R),
    ("KEYS *", R),
    ("SCAN 0", R),
    ("INFO", R),
    ("SET k v", W),
    ("DEL k", W),
    ("HSET h f v", W),
    ("FLUSHALL", X),
    ("flushdb", X),
    ("CONFIG SET maxmemory 1gb", D),
    ("CONFIG GET maxmemory", R),
    ("EVAL 'return 1' 0", U),
]


@pytest.mark.parametrize(("text", "kind"), REDIS)
def test_redis_commands(text: str, kind: SqlKind) -> None:
    (stmt,) = classify_sql(text, "redis")
    assert stmt.kind == kind


MONGO = [
    ("db.users.find({a: 1})", R, "users"),
    ("db.users.countDocuments()", R, "users"),
    ("db.users.aggregate([{$match: {}}])", R, "users"),
    ("db.users.insertOne({a: 1})", W, "users"),
    ("db.users.updateMany({a: 1}, {$set: {b: 2}})", W, "users"),
    ("db.users.updateMany({}, {$set: {b: 2}})", NW, "users"),
    ("db.users.deleteMany({})", NW, "users"),
    ("db.users.deleteMany({ })", NW, "users"),
    ("db.users.deleteOne({_id: 1})", W, "users"),
    ("db.users.drop()", X, "users"),
    ("db.dropDatabase()", X, ""),
    ("db.getCollection('a').deleteMany({})", NW, "a"),
    ("db.users.createIndex({a: 1})", D, "users"),
]


@pytest.mark.parametrize(("text", "kind", "target"), MONGO)
def test_mongo_statements(text: str, kind: SqlKind, target: str) -> None:
    (stmt,) = classify_sql(text, "mongo")
    assert (stmt.kind, stmt.target) == (kind, target)


# --- clients ------------------------------------------------------------------------------------

CLIENTS = [
    ('psql prod -c "UPDATE users SET plan = 1 WHERE id = 42"', "psql", "prod", [W]),
    ('psql $DATABASE_URL -c "EXPLAIN ANALYZE SELECT 1"', "psql", "$DATABASE_URL", [R]),
    ('psql "$DATABASE_URL" --command="DROP TABLE x"', "psql", "$DATABASE_URL", [X]),
    ("psql -d app -tAc 'DELETE FROM t'", "psql", "app", [NW]),
    ("psql -h prod-db -U admin app -c 'select 1'", "psql", "prod-db/app", [R]),
    ("psql postgres://u@prod/app -c '\\dt'", "psql", "postgres://u@prod/app", [R]),
    ("psql -f migrate.sql prod", "psql", "prod", [U]),
    ("psql prod < dump.sql", "psql", "prod", [U]),
    ("mysql -u root -pSECRET app -e 'DROP DATABASE app'", "mysql", "app", [X]),
    ("mysql --execute='SELECT 1' -h db1", "mysql", "db1", [R]),
    ("mariadb -e 'TRUNCATE t' shop", "mysql", "shop", [X]),
    ("sqlite3 app.db 'DELETE FROM t WHERE id = 1'", "sqlite3", "app.db", [W]),
    ("sqlite3 app.db .tables", "sqlite3", "app.db", [R]),
    ("mongosh mongodb://prod/app --eval 'db.users.drop()'", "mongosh", "mongodb://prod/app", [X]),
    ("mongosh --host prod --eval 'db.x.find()'", "mongosh", "prod", [R]),
    ("redis-cli -h cache.prod FLUSHALL", "redis-cli", "cache.prod", [X]),
    ("redis-cli -n 2 SET k v", "redis-cli", "", [W]),
    ("redis-cli --scan --pattern 'user:*'", "redis-cli", "", [R]),
]


@pytest.mark.parametrize(("command", "client", "target", "kinds"), CLIENTS)
def test_database_clients(command: str, client: str, target: str, kinds: list[SqlKind]) -> None:
    analysis = analyze(command)
    assert not analysis.unparsed, analysis.problems
    p = analysis.parts[0]
    assert (p.db_client, p.db_target) == (client, target)
    assert [s.kind for s in p.sql] == kinds


FED = [
    ("psql app <<'SQL'\nDELETE FROM sessions;\nSQL", [NW]),
    ("psql app <<< 'DROP TABLE x'", [X]),
    ("echo 'TRUNCATE users' | psql -h prod app", [X]),
    ("printf 'DELETE FROM t;\\n' | psql app", [NW]),
    ("cat <<EOF | mysql app\nUPDATE t SET a = 1;\nEOF", [NW]),
    ("sqlite3 app.db <<EOF\n.tables\nSELECT 1;\nEOF", [R, R]),
    ("redis-cli <<EOF\nGET a\nFLUSHDB\nEOF", [R, X]),
    ("cat dump.sql | psql app", [U]),
    ("psql app -f - <<'SQL'\nDROP TABLE x;\nSQL", [X]),
]


@pytest.mark.parametrize(("command", "kinds"), FED)
def test_sql_fed_on_stdin(command: str, kinds: list[SqlKind]) -> None:
    analysis = analyze(command)
    db = next(p for p in analysis.parts if p.db_client)
    assert [s.kind for s in db.sql] == kinds


def test_interactive_client_has_no_statements() -> None:
    p = analyze("psql prod").parts[0]
    assert (p.db_client, p.db_target, p.sql) == ("psql", "prod", ())


def test_sql_in_nested_shell() -> None:
    analysis = analyze("ssh db1 \"psql app -c 'DROP TABLE x'\"")
    psql = next(p for p in analysis.parts if p.program == "psql")
    assert psql.remote_host == "db1" and psql.sql[0].kind == X


def test_dollar_quoted_bodies_end_at_their_tag() -> None:
    text = "SELECT $$ ; $$; DROP TABLE x; DO $fn$ BEGIN; END $fn$"
    assert [s.verb for s in classify_sql(text)] == ["SELECT", "DROP TABLE", "DO"]
