"""Prompt patterns, reading a submission from screen rows, framing it for the risk layer."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli.pty import prompt_detect as detect
from expacti_cli.pty.prompt_detect import Target, frame_command, read_submission
from expacti_cli.pty.prompt_gate import ssh_host, target_for


@pytest.mark.parametrize(
    ("row", "family", "continuation", "typed"),
    [
        ("app=> SELECT 1;", "psql", False, "SELECT 1;"),
        ("app=# DROP TABLE t;", "psql", False, "DROP TABLE t;"),
        ("app=*# COMMIT;", "psql", False, "COMMIT;"),
        ("app-> t;", "psql", True, "t;"),
        ("app(# 1);", "psql", True, "1);"),
        ("my_db-# ", "psql", True, ""),
        ("mysql> SHOW TABLES;", "mysql", False, "SHOW TABLES;"),
        ("MariaDB [shop]> DELETE FROM orders;", "mysql", False, "DELETE FROM orders;"),
        ("    -> WHERE id = 1;", "mysql", True, "WHERE id = 1;"),
        ("    '> it''s';", "mysql", True, "it''s';"),
        ("sqlite> .tables", "sqlite3", False, ".tables"),
        ("   ...> t;", "sqlite3", True, "t;"),
        (">>> import os", "python", False, "import os"),
        ("...     os.system('ls')", "python", True, "    os.system('ls')"),
        ("...", "python", True, ""),  # `... ` with nothing typed (trailing blank removed)
        ("In [3]: x = 1", "python", False, "x = 1"),
        ("$ rm -rf x", "sh", False, "rm -rf x"),
        ("# reboot", "sh", False, "reboot"),
        ("> done", "sh", True, "done"),
        ("root@db1:/var/lib# ls", "sh", False, "ls"),
        ("deploy@web-2:~/app$ git pull", "sh", False, "git pull"),
        ("[ops@bastion tmp]$ whoami", "sh", False, "whoami"),
        ("(venv) me@laptop:~/src$ make", "sh", False, "make"),
    ],
)
def test_default_prompts(row: str, family: str, continuation: bool, typed: str) -> None:
    found = detect.match_prompt(row, detect.patterns_for(detect.WRAPPER))
    assert found is not None
    assert found.pattern.family == family
    assert found.pattern.continuation is continuation
    assert row[found.end :] == typed


@pytest.mark.parametrize(
    ("row", "family"),
    [
        ("SELECT 1;", "psql"),
        (" ?column? ", "psql"),
        ("(1 row)", "psql"),
        ("Error: no such table: t", "sqlite3"),
        ("Traceback (most recent call last):", "python"),
        ("hello world", "sh"),
        ("total 8", "sh"),
    ],
)
def test_output_is_not_a_prompt(row: str, family: str) -> None:
    assert detect.match_prompt(row, detect.patterns_for(family)) is None


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("psql", "psql"),
        ("mariadb", "mysql"),
        ("sqlite3", "sqlite3"),
        ("python3.11", "python"),
        ("python", "python"),
        ("dash", "sh"),
        ("ssh", "wrapper"),
        ("vim", ""),
        ("less", ""),
        ("node", ""),
        ("pythonista", ""),
    ],
)
def test_program_families(name: str, family: str) -> None:
    assert detect.program_family(name) == family


def submission(rows: list[str], family: str, *, full: set[int] = frozenset(), **kw):  # type: ignore[no-untyped-def]
    cursor = max(i for i, r in enumerate(rows) if r or i == 0)
    full_rows = [i in full for i in range(len(rows))]
    return read_submission(rows, cursor, full_rows, detect.patterns_for(family), **kw)


@pytest.mark.parametrize(
    ("rows", "family", "text", "runs"),
    [
        (["app=> SELECT 1;", ""], "psql", "SELECT 1;", True),
        (["app=> SELECT *", ""], "psql", "SELECT *", False),
        (["app=> DROP TABLE", "app-> t;", ""], "psql", "DROP TABLE\nt;", True),
        (["app=> \\dt", ""], "psql", "\\dt", True),
        (["app=> SELECT 1 \\g", ""], "psql", "SELECT 1 \\g", True),
        (["app=> \\! rm -rf x", ""], "psql", "\\! rm -rf x", True),
        # a multi-line buffer after the statement ran: only the new prompt's input counts
        (
            ["app=> SELECT 1;", " ?column?", "(1 row)", "", "app=> DELETE", ""],
            "psql",
            "DELETE",
            False,
        ),
        (["sqlite> .system ls", ""], "sqlite3", ".system ls", True),
        (["sqlite> DROP TABLE t", "   ...> go"], "sqlite3", "DROP TABLE t\ngo", True),
        (["sqlite> SELECT", "   ...> 1"], "sqlite3", "SELECT\n1", False),
        (["mysql> system rm -rf x", ""], "mysql", "system rm -rf x", True),
        (["mysql> DROP TABLE t", "    -> //"], "mysql", "DROP TABLE t\n//", False),
        ([">>> os.system('ls')", ""], "python", "os.system('ls')", True),
        ([">>> if x:", ""], "python", "if x:", False),
        ([">>> if x:", "...     os.system('ls')"], "python", "if x:\n    os.system('ls')", False),
        ([">>> if x:", "...     f()", "..."], "python", "if x:\n    f()\n", True),
        ([">>> print(f'{x!r:}'", ""], "python", "print(f'{x!r:}'", False),
        ([">>> 1 +* 2", ""], "python", "1 +* 2", True),  # a syntax error here may run elsewhere
        (["$ rm -rf /", ""], "sh", "rm -rf /", True),
        (
            ["$ for i in 1 2; do", "> echo $i", "> done"],
            "sh",
            "for i in 1 2; do\necho $i\ndone",
            True,
        ),
    ],
)
def test_reading_what_was_submitted(rows: list[str], family: str, text: str, runs: bool) -> None:
    found = submission(rows, family)
    assert found is not None
    assert (found.text, found.runs, found.family) == (text, runs, family)


def test_the_mysql_delimiter_is_followed() -> None:
    assert detect.mysql_delimiter("DELIMITER //", ";") == "//"
    found = submission(["mysql> DROP TABLE t", "    -> //"], "mysql", delimiter="//")
    assert found is not None and found.runs


def test_a_wrapped_line_is_one_line() -> None:
    rows = ["app=> DELETE FROM orders WHERE", "id = 1;", ""]
    found = submission(rows, "psql", full={0})
    assert found is not None and found.text == "DELETE FROM orders WHEREid = 1;"
    # The cursor may sit on the first row of a wrapped line (moved left before Enter).
    found = read_submission(rows, 0, [True, False, False], detect.patterns_for("psql"))
    assert found is not None and found.text == "DELETE FROM orders WHEREid = 1;"


def test_pasted_line_breaks_are_input_only_after_a_paste() -> None:
    rows = ["app=> DROP TABLE t;", "SELECT 1;", ""]
    assert submission(rows, "psql") is None  # an output row: not at a prompt
    found = submission(rows, "psql", pasted=True)
    assert found is not None and found.text == "DROP TABLE t;\nSELECT 1;" and found.runs


@pytest.mark.parametrize(
    "rows",
    [
        ["app=> SELECT 1;", "app=> "],  # ... below the cursor: not where the cursor is
        ["sqlite> .tables", "t  u", "sqlite> x", "more output below"],
        ["hello", "world"],
        ["", ""],
    ],
)
def test_not_at_a_prompt(rows: list[str]) -> None:
    family = "psql" if rows[0].startswith("app") else "sqlite3"
    assert read_submission(rows, 0, [False] * len(rows), detect.patterns_for(family)) is None


def test_a_statement_taller_than_the_screen_is_gated_as_its_tail() -> None:
    rows = ["app-> x,", "app-> y);"]
    found = read_submission(rows, 1, [False, False], detect.patterns_for("psql"))
    assert found is not None
    assert found.runs and not found.complete_view and found.text == "x,\ny);"
    command = frame_command(found, Target("psql"))
    assert "scrolled off" in shlex.split(command)[-1]


@pytest.mark.parametrize(
    ("family", "text", "target", "expected"),
    [
        (
            "psql",
            "DROP TABLE t;",
            Target("psql", "psql", "prod"),
            ["psql", "-d", "prod", "-c", "DROP TABLE t;"],
        ),
        ("psql", "SELECT 1;", Target("psql", "psql"), ["psql", "-c", "SELECT 1;"]),
        (
            "mysql",
            "DELETE FROM t;",
            Target("mysql", "mysql", "shop"),
            ["mysql", "-D", "shop", "-e", "DELETE FROM t;"],
        ),
        (
            "sqlite3",
            ".tables",
            Target("sqlite3", "sqlite3", "a.db"),
            ["sqlite3", "a.db", ".tables"],
        ),
        ("sqlite3", "SELECT 1;", Target("sqlite3"), ["sqlite3", ":memory:", "SELECT 1;"]),
        (
            "python",
            "os.system('ls')",
            Target("python", "python3.11"),
            ["python3.11", "-c", "os.system('ls')"],
        ),
        ("sh", "rm -rf x", Target("sh", "dash"), ["rm", "-rf", "x"]),
        ("sh", "rm -rf x", Target("wrapper", "ssh", host="db1"), ["ssh", "db1", "rm -rf x"]),
        (
            "psql",
            "DROP TABLE t;",
            Target("wrapper", "ssh", host="db1"),
            ["ssh", "db1", "psql -c 'DROP TABLE t;'"],
        ),
    ],
)
def test_framing_for_the_risk_layer(
    family: str, text: str, target: Target, expected: list[str]
) -> None:
    command = frame_command(detect.Submission(family, text, True), target)
    assert shlex.split(command) == expected


def test_framed_statements_score_like_the_client_command_line(run_cli) -> None:  # type: ignore[no-untyped-def]
    import json

    drop = frame_command(
        detect.Submission("psql", "DROP TABLE t;", True), Target("psql", "psql", "app")
    )
    select = frame_command(
        detect.Submission("sqlite3", "SELECT 1;", True), Target("sqlite3", "sqlite3", "a.db")
    )
    scores = [json.loads(run_cli("score", "--json", c).stdout)["score"] for c in (drop, select)]
    assert scores[0] >= 80 and scores[1] < 30


@pytest.mark.parametrize(
    ("argv", "target"),
    [
        (["psql", "-h", "db1", "-U", "me", "app"], Target("psql", "psql", "db1/app")),
        (["/usr/lib/postgresql/15/bin/psql", "-d", "app", "-W"], Target("psql", "psql", "app")),
        (["mysql", "-u", "root", "-pSECRET", "shop"], Target("mysql", "mysql", "shop")),
        (["sqlite3", "/tmp/a.db"], Target("sqlite3", "sqlite3", "/tmp/a.db")),
        (["python3.11", "-q"], Target("python", "python3.11")),
        (
            ["ssh", "-p", "2222", "-i", "key", "ops@db1", "-t"],
            Target("wrapper", "ssh", host="ops@db1"),
        ),
    ],
)
def test_targets_from_the_argv(argv: list[str], target: Target) -> None:
    family = detect.program_family(target.program) or detect.program_family(argv[0])
    assert target_for(family, argv[0], argv) == target
    assert "SECRET" not in repr(target_for(family, argv[0], argv))


@pytest.mark.parametrize(
    ("args", "host"),
    [
        (["host"], "host"),
        (["-A", "-p22", "me@host", "ls"], "me@host"),
        (["-o", "BatchMode=yes", "host"], "host"),
        (["-vvt", "-J", "jump", "host"], "host"),
        (["--", "host"], "host"),
        ([], ""),
    ],
)
def test_ssh_host(args: list[str], host: str) -> None:
    assert ssh_host(args) == host


def test_bad_custom_patterns_are_skipped_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="not a regex"):
        patterns = detect.custom_patterns(["(", "myrepl> "])
    assert [p.regex.pattern for p in patterns] == ["^myrepl> "]
    found = detect.match_prompt("myrepl> drop all", patterns)
    assert found is not None and found.pattern.family == "custom"


# --- properties --------------------------------------------------------------------------

_ROW = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_ROW, min_size=1, max_size=8),
    st.integers(0, 10),
    st.lists(st.booleans(), min_size=8, max_size=8),
    st.sampled_from(["psql", "mysql", "sqlite3", "python", "sh", "wrapper"]),
    st.booleans(),
)
def test_reading_never_crashes(rows, cursor, full, family, pasted) -> None:  # type: ignore[no-untyped-def]
    found = read_submission(
        rows, cursor, full[: len(rows)], detect.patterns_for(family), pasted=pasted
    )
    if found is not None:
        command = frame_command(found, Target(family, "x", "db", "host"))
        assert isinstance(command, str)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_a_statement_with_a_semicolon_always_counts_as_run(text: str) -> None:
    # Never gate too little: whatever else it holds, a `;` makes an SQL client run something.
    prompts = {"psql": "app=> ", "mysql": "mysql> ", "sqlite3": "sqlite> "}
    for family, prompt in prompts.items():
        row = (prompt + text + ";").replace("\n", " ")
        found = submission([row], family)
        assert found is not None and found.runs


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_framing_round_trips_through_the_shell(text: str) -> None:
    for family in ("psql", "mysql", "sqlite3", "python"):
        command = frame_command(detect.Submission(family, text, True), Target(family, family, "db"))
        assert shlex.split(command)[-1] == text
