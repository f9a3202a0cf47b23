"""The real `mysql` client (MariaDB) against the MariaDB server on loopback, under `expacti run`.

The server is not started here: it is the one listening on 127.0.0.1:3306 (user root, no
password, database `test`; override with EXPACTI_TEST_MYSQL_HOST / _PORT / _USER / _DB). The
whole module is skipped, with the reason, when the client is missing or the server does not
answer. Each test makes its own table (a unique name) through a separate `mysql` process, never
through the gate, and drops it afterwards.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest
from broker_support import BrokerTools

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")

HOST = os.environ.get("EXPACTI_TEST_MYSQL_HOST", "127.0.0.1")
PORT = os.environ.get("EXPACTI_TEST_MYSQL_PORT", "3306")
USER = os.environ.get("EXPACTI_TEST_MYSQL_USER", "root")
DB = os.environ.get("EXPACTI_TEST_MYSQL_DB", "test")
# The client reads no option files: the prompt and the connection are the defaults, whatever
# /etc/mysql or ~/.my.cnf say on the machine.
CLIENT_ARGS = ["--no-defaults", f"-u{USER}", f"-h{HOST}", f"-P{PORT}", DB]
PROMPT = f"MariaDB \\[{DB}\\]> "
TIMEOUT = 20
RunCli = Callable[..., subprocess.CompletedProcess[str]]


def sql(statement: str) -> str:
    """Run SQL through a separate client (not the gated one); its tab-separated output."""
    done = subprocess.run(
        ["mysql", *CLIENT_ARGS[:-1], "-N", "-B", "-D", DB, "-e", statement],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def server() -> None:
    if shutil.which("mysql") is None:
        pytest.skip("no `mysql` client on PATH")
    try:
        sql("SELECT 1")
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"no MariaDB/MySQL server at {USER}@{HOST}:{PORT}/{DB}: {exc.stderr.strip()}")
    except subprocess.TimeoutExpired:
        pytest.skip(f"the MariaDB/MySQL server at {HOST}:{PORT} does not answer")


@pytest.fixture
def table(server: None) -> Iterator[str]:
    """A fresh table with one row (id 1), dropped after the test whatever happened."""
    name = f"expacti_t_{secrets.token_hex(6)}"
    sql(f"CREATE TABLE {name} (id INT PRIMARY KEY, x INT); INSERT INTO {name} VALUES (1, 1)")
    try:
        yield name
    finally:
        sql(f"DROP TABLE IF EXISTS {name}")


def exists(name: str) -> bool:
    query = f"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{DB}'"
    return sql(f"{query} AND table_name = '{name}'") == "1"


@pytest.fixture
def mysql(table: str, tmp_path: Path, broker_env: Path) -> Iterator[pexpect.spawn]:
    """`expacti run -- mysql` at its first prompt."""
    config = broker_env / "config.toml"
    config.write_text(config.read_text() + 'auto_approve_below = 30\napproval_ui = "external"\n')
    env = dict(os.environ, TERM="xterm", HOME=str(tmp_path), MYSQL_HISTFILE="/dev/null")
    env.pop("TMUX", None)
    env.pop("MYSQL_PS1", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "expacti_cli", "run", "--no-split", "--", "mysql", *CLIENT_ARGS],
        env=env,
        cwd=str(tmp_path),
        dimensions=(24, 120),
        timeout=TIMEOUT,
        encoding="utf-8",
    )
    child.expect(PROMPT)
    yield child
    if child.isalive():
        child.terminate(force=True)
    child.close(force=True)


def framed(statement: str) -> str:
    """The command the reviewer sees for a statement typed at the prompt."""
    return f"mysql -D {HOST}/{DB} -e {statement}"


def still_usable(child: pexpect.spawn, word: str) -> None:
    """A marker statement runs: the client is at a clean primary prompt again."""
    child.send(f"SELECT CONCAT('{word}-', 6*7) AS marker;\r")  # the echo never holds `WORD-42`
    child.expect(f"{word}-42")
    child.expect(PROMPT)


def test_a_low_risk_select_runs_without_a_human(
    mysql: pexpect.spawn, broker: BrokerTools, table: str
) -> None:
    mysql.send(f"SELECT CONCAT('rows-', COUNT(*)) AS n FROM {table};\r")
    mysql.expect("rows-1")
    [record] = broker.audit_records("decision")
    assert record["decision"] == "auto_approved_threshold"
    assert record["source"] == "mysql"
    assert record["command"] == framed(f"\"SELECT CONCAT('rows-', COUNT(*)) AS n FROM {table};\"")


def test_a_drop_waits_is_approved_from_elsewhere_and_runs_once(
    mysql: pexpect.spawn, broker: BrokerTools, run_cli: RunCli, table: str
) -> None:
    mysql.send(f"DROP TABLE {table};\r")
    mysql.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["source"] == "mysql"
    assert request["command"] == framed(f"'DROP TABLE {table};'")
    assert exists(table)  # held: not run yet
    assert run_cli("approve", request["id"]).returncode == 0
    mysql.expect("Query OK")  # the client's own confirmation
    still_usable(mysql, "after")
    assert "ERROR" not in mysql.before  # run once: a second DROP would have failed
    assert not exists(table)
    decisions = [r["decision"] for r in broker.audit_records("decision")]
    assert decisions.count("approved") == 1


def test_a_denied_drop_does_not_run_and_the_prompt_stays_usable(
    mysql: pexpect.spawn, broker: BrokerTools, run_cli: RunCli, table: str
) -> None:
    mysql.send(f"DROP TABLE {table};\r")
    mysql.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert run_cli("deny", request["id"], "--reason", "not-today").returncode == 0
    mysql.expect("denied: not-today")
    mysql.expect(PROMPT)
    still_usable(mysql, "alive")
    assert exists(table)
    assert sql(f"SELECT COUNT(*) FROM {table}") == "1"


def test_a_multi_line_statement_is_gated_whole_and_a_denial_clears_the_buffer(
    mysql: pexpect.spawn, broker: BrokerTools, run_cli: RunCli, table: str
) -> None:
    mysql.send(f"DELETE FROM {table}\r")  # no `;`: the client waits for more, nothing to gate
    mysql.expect("    -> ")
    assert broker.audit_records("decision") == []
    mysql.send("WHERE id = 1;\r")
    mysql.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == framed(f"'DELETE FROM {table}\nWHERE id = 1;'")
    assert sql(f"SELECT COUNT(*) FROM {table}") == "1"  # held
    assert run_cli("deny", request["id"]).returncode == 0
    mysql.expect("denied")
    mysql.expect(PROMPT)  # the primary prompt: the statement buffer was dropped
    still_usable(mysql, "clean")  # would run as `DELETE ... SELECT ...` if the buffer were left
    assert sql(f"SELECT COUNT(*) FROM {table}") == "1"
    [marker] = [r for r in broker.audit_records("decision") if "marker" in r["command"]]
    assert "DELETE" not in marker["command"]
    assert marker["decision"] == "auto_approved_threshold"


@pytest.mark.parametrize("escape", ["\\!", "system"])
def test_a_client_command_that_runs_a_shell_is_gated_and_a_denial_stops_it(
    mysql: pexpect.spawn, broker: BrokerTools, run_cli: RunCli, tmp_path: Path, escape: str
) -> None:
    target = tmp_path / "made-by-mysql"
    mysql.send(f"{escape} touch {target}\r")
    mysql.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["source"] == "mysql"
    assert request["command"] == framed(f"'{escape} touch {target}'")
    assert run_cli("deny", request["id"]).returncode == 0
    mysql.expect("denied")
    still_usable(mysql, "shell")
    assert not target.exists()


def test_an_approved_shell_escape_does_run(
    mysql: pexpect.spawn, broker: BrokerTools, run_cli: RunCli, tmp_path: Path
) -> None:
    # The counterpart of the denial above: the client really runs `\!` once it is allowed.
    target = tmp_path / "made-by-mysql"
    mysql.send(f"\\! touch {target}\r")
    mysql.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert run_cli("approve", request["id"]).returncode == 0
    still_usable(mysql, "ran")
    assert target.exists()


def test_after_delimiter_a_statement_ending_in_the_new_delimiter_is_gated(
    mysql: pexpect.spawn, broker: BrokerTools, run_cli: RunCli, table: str
) -> None:
    mysql.send("DELIMITER //\r")  # a client command: gated too (the risk layer cannot tell)
    [change] = broker.wait_pending(1)
    assert change["command"] == framed("'DELIMITER //'")
    assert run_cli("approve", change["id"]).returncode == 0
    mysql.expect(PROMPT)
    mysql.send(f"DROP TABLE {table} //\r")  # no `;`, and yet the client runs it
    mysql.expect("waiting for approval")
    [request] = broker.wait_pending(1)
    assert request["command"] == framed(f"'DROP TABLE {table} //'")
    assert run_cli("deny", request["id"]).returncode == 0
    mysql.expect("denied")
    mysql.expect(PROMPT)
    mysql.send("SELECT CONCAT('delim-', 6*7) AS marker //\r")
    mysql.expect("delim-42")
    assert exists(table)
