"""psql against a real PostgreSQL server started by the test, under the real `expacti run`.

The server runs from a temp directory, listening only on a unix socket there (no TCP). initdb
refuses to run as root, so as root the server runs as the `postgres` user (runuser). Skipped,
with the reason, when the server binaries or a way to run them are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")

PG_BIN = Path(os.environ.get("EXPACTI_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
TIMEOUT = 20


def _as_server_user() -> list[str]:
    """The argv prefix that runs a server command as a user initdb accepts."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root and no runuser to start PostgreSQL as another user")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no `postgres` user to run PostgreSQL as")
    return [runuser, "-u", "postgres", "--"]


@pytest.fixture(scope="module")
def postgres() -> Iterator[tuple[str, str]]:
    """A PostgreSQL server for this module: (socket directory, superuser name)."""
    if not (PG_BIN / "initdb").exists() or shutil.which("psql") is None:
        pytest.skip(f"no PostgreSQL server binaries in {PG_BIN} or no psql client")
    prefix = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="expacti-pg-"))
    user = "postgres" if prefix else os.environ.get("USER", "postgres")
    if prefix:
        shutil.chown(root, "postgres")
    data = root / "data"
    run = lambda *argv: subprocess.run(  # noqa: E731
        [*prefix, *argv], capture_output=True, text=True, timeout=120
    )
    try:
        done = run(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "--no-sync")
        if done.returncode != 0:
            pytest.skip(f"initdb failed: {done.stderr.strip()[-300:]}")
        options = f"-k {root} -c listen_addresses= -c fsync=off -c full_page_writes=off"
        done = run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        )
        if done.returncode != 0:
            pytest.skip(f"the PostgreSQL server did not start: {done.stderr.strip()[-300:]}")
        subprocess.run(
            ["psql", "-h", str(root), "-U", user, "-d", "postgres", "-c", "CREATE DATABASE app"],
            check=True,
            capture_output=True,
        )
        yield str(root), user
    finally:
        run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def sql(postgres: tuple[str, str], statement: str) -> str:
    host, user = postgres
    done = subprocess.run(
        ["psql", "-h", host, "-U", user, "-d", "app", "-tAc", statement],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def psql(postgres, tmp_path: Path, broker_env: Path) -> Iterator[pexpect.spawn]:  # type: ignore[no-untyped-def]
    """`expacti run -- psql` at its first prompt, table t (one row) freshly made."""
    sql(postgres, "DROP TABLE IF EXISTS t; CREATE TABLE t (x int); INSERT INTO t VALUES (1)")
    config = broker_env / "config.toml"
    config.write_text(config.read_text() + 'auto_approve_below = 30\napproval_ui = "external"\n')
    host, user = postgres
    env = dict(os.environ, TERM="xterm", HOME=str(tmp_path), PAGER="cat", PSQL_HISTORY="/dev/null")
    env.pop("TMUX", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "expacti_cli", "run", "--no-split", "--", "psql", "-h", host, "-U", user, "app"],
        env=env,
        cwd=str(tmp_path),
        dimensions=(24, 120),
        timeout=TIMEOUT,
        encoding="utf-8",
    )
    child.expect("app=# ")
    yield child
    if child.isalive():
        child.terminate(force=True)
    child.close(force=True)


def test_a_low_risk_select_runs_without_a_human(psql, broker, postgres) -> None:  # type: ignore[no-untyped-def]
    psql.send("SELECT 6*7 AS answer;\r")
    psql.expect("42")
    [record] = broker.audit_records("decision")
    assert record["decision"] == "auto_approved_threshold"
    assert record["source"] == "psql"
    assert record["command"].endswith("-c 'SELECT 6*7 AS answer;'")
    assert record["command"].startswith("psql -d ")


def test_a_drop_waits_is_approved_from_elsewhere_and_runs_once(
    psql, broker, run_cli, postgres
) -> None:  # type: ignore[no-untyped-def]
    psql.send("DROP TABLE t;\r")
    psql.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["source"] == "psql"
    assert request["command"].endswith("-c 'DROP TABLE t;'")
    assert sql(postgres, "SELECT to_regclass('t') IS NOT NULL") == "t"  # held: not run yet
    assert run_cli("approve", request["id"]).returncode == 0
    psql.expect("DROP TABLE")  # psql's own confirmation
    psql.send("SELECT 'left-' || count(*) FROM pg_class WHERE relname = 't';\r")
    psql.expect("left-0")
    assert sql(postgres, "SELECT to_regclass('t') IS NULL") == "t"
    decisions = [r["decision"] for r in broker.audit_records("decision")]
    assert decisions.count("approved") == 1


def test_a_denied_drop_does_not_run_and_the_prompt_stays_usable(
    psql, broker, run_cli, postgres
) -> None:  # type: ignore[no-untyped-def]
    psql.send("DROP TABLE t;\r")
    psql.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert run_cli("deny", request["id"], "--reason", "not-today").returncode == 0
    psql.expect("denied: not-today")
    psql.expect("app=# ")
    psql.send("SELECT 6*7 AS answer;\r")
    psql.expect("42")
    assert sql(postgres, "SELECT count(*) FROM t") == "1"


def test_a_multi_line_statement_is_gated_whole_and_a_denial_clears_the_buffer(
    psql, broker, run_cli, postgres
) -> None:  # type: ignore[no-untyped-def]
    psql.send("DELETE FROM\r")  # incomplete: psql waits for more, nothing to gate
    psql.expect("app-# ")
    psql.send("t;\r")
    psql.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"].endswith("-c 'DELETE FROM\nt;'")
    assert run_cli("deny", request["id"]).returncode == 0
    psql.expect("denied")
    psql.expect("app=# ")  # the primary prompt: the query buffer was dropped
    psql.send("SELECT 6*7 AS answer;\r")  # would run `DELETE FROM t` too if it were left
    psql.expect("42")
    assert sql(postgres, "SELECT count(*) FROM t") == "1"
    [select] = [r for r in broker.audit_records("decision") if "answer" in r["command"]]
    assert "DELETE" not in select["command"]


def test_a_meta_command_that_runs_a_shell_is_gated(psql, broker, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "made-by-psql"
    psql.send(f"\\! touch {target}\r")
    psql.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert f"\\! touch {target}" in request["command"]
    assert run_cli("deny", request["id"]).returncode == 0
    psql.expect("denied")
    psql.send("SELECT 6*7 AS answer;\r")
    psql.expect("42")
    assert not target.exists()
