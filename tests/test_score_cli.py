"""`expacti score` end to end through the real CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

RunCli = Callable[..., subprocess.CompletedProcess[str]]
UPDATE = 'psql prod -c "UPDATE users SET plan = 1 WHERE id = 42"'


def test_human_output_shape(run_cli: RunCli) -> None:
    result = run_cli("score", UPDATE)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "HIGH 72  database write on a production target"
    assert lines[1].startswith("  + database: UPDATE with WHERE clause ")
    assert lines[1].endswith("+50")
    assert lines[2].startswith('  + production target: "prod" ')
    assert lines[2].endswith("+22")
    # the points line up in one column
    assert len(lines[1]) == len(lines[2])
    assert "\x1b[" not in result.stdout  # no colour when not on a terminal


def test_compound_command_lists_its_parts(run_cli: RunCli) -> None:
    result = run_cli("score", "npm test && rm -rf ~")
    assert result.returncode == 0
    assert result.stdout.startswith("CRITICAL ")
    assert "  parts:" in result.stdout
    assert "rm -rf ~" in result.stdout


def test_several_arguments_are_joined(run_cli: RunCli) -> None:
    result = run_cli("score", "--json", "git", "status")
    assert json.loads(result.stdout)["command"] == "git status"


def test_json_output(run_cli: RunCli) -> None:
    result = run_cli("score", "--json", UPDATE)
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["command"] == UPDATE
    assert (data["score"], data["level"]) == (72, "HIGH")
    assert [r["code"] for r in data["reasons"]] == ["category:database", "mod:production_target"]


def test_explain_lists_every_category_and_modifier(run_cli: RunCli) -> None:
    result = run_cli("score", "--explain", "git push origin main")
    assert result.returncode == 0
    assert result.stdout.startswith("MEDIUM 45")
    assert "14 categories" in result.stdout
    assert "25 modifiers" in result.stdout
    for label in ("read-only", "privilege/secrets", "production target", "expacti tamper"):
        assert label in result.stdout
    data = json.loads(run_cli("score", "--json", "--explain").stdout)
    assert len(data["explain"]["categories"]) == 14
    assert len(data["explain"]["modifiers"]) == 25


def test_batch_json_from_file(run_cli: RunCli, tmp_path: Path) -> None:
    commands = tmp_path / "commands.txt"
    commands.write_text("git status\n\nkubectl delete deployment/api\nls\n")
    result = run_cli("score", "--json", "--batch", str(commands))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["command"] for r in rows] == ["git status", "kubectl delete deployment/api", "ls"]
    assert [r["line"] for r in rows] == [1, 3, 4]
    assert [r["level"] for r in rows] == ["LOW", "CRITICAL", "LOW"]
    assert all({"score", "reasons"} <= set(r) for r in rows)


def test_batch_from_stdin_with_an_oversized_line(run_cli: RunCli) -> None:
    huge = "echo " + "x" * (1024 * 1024)
    result = run_cli("score", "--json", "--batch", "-", input=f"git status\n{huge}\nrm -rf /\n")
    assert result.returncode == 1  # a refused line makes the batch fail, the rest still runs
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3
    assert rows[0]["level"] == "LOW"
    assert rows[1]["line"] == 2 and "limit" in rows[1]["error"] and "score" not in rows[1]
    assert rows[2]["level"] == "CRITICAL"


def test_oversized_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    # Linux caps one argv string at 128 KiB, so this goes through the entry point in-process.
    from expacti_cli.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["score", "echo " + "x" * (1024 * 1024 + 1)])
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert "over the" in err and "limit" in err
    assert out == ""


def test_control_characters_are_escaped_in_human_batch_output(run_cli: RunCli) -> None:
    result = run_cli("score", "--batch", "-", input="echo \x1b[2Jhi\u202e\n")
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "\\x1b[2J" in result.stdout and "<U+202E>" in result.stdout


def test_invalid_utf8_in_batch_is_scored_not_crashed(run_cli: RunCli, tmp_path: Path) -> None:
    commands = tmp_path / "bin.txt"
    commands.write_bytes(b"ls \xff\xfe\nrm -rf ~\n")
    result = run_cli("score", "--json", "--batch", str(commands))
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2
    assert rows[0]["level"] != "LOW"  # binary input is unparsed: never LOW
    assert rows[1]["level"] == "CRITICAL"


def test_missing_batch_file_is_a_clean_error(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("score", "--batch", str(tmp_path / "nope.txt"))
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [("score",), ("score", "--batch", "-", "ls")])
def test_usage_errors(run_cli: RunCli, args: tuple[str, ...]) -> None:
    result = run_cli(*args, input="")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_help_has_examples(run_cli: RunCli) -> None:
    result = run_cli("score", "-h")
    assert result.returncode == 0
    assert "Examples:" in result.stdout and "--batch" in result.stdout


def test_config_markers_and_programs_are_used(run_cli: RunCli, expacti_home: Path) -> None:
    expacti_home.mkdir(parents=True, exist_ok=True)
    (expacti_home / "config.toml").write_text(
        '[risk]\nproduction_markers = ["db-main"]\n\n[risk.programs]\n"deploy.sh" = "cloud"\n'
    )
    data = json.loads(
        run_cli("score", "--json", 'psql db-main -c "DELETE FROM t WHERE id = 1"').stdout
    )
    assert "mod:production_target" in [r["code"] for r in data["reasons"]]
    data = json.loads(
        run_cli("score", "--json", 'psql prod -c "DELETE FROM t WHERE id = 1"').stdout
    )
    assert "mod:production_target" not in [r["code"] for r in data["reasons"]]
    data = json.loads(run_cli("score", "--json", "./deploy.sh").stdout)
    assert data["parts"][0]["category"] == "cloud"


def test_writes_to_expacti_home_are_critical(run_cli: RunCli, expacti_home: Path) -> None:
    data = json.loads(run_cli("score", "--json", f"echo x > {expacti_home}/config.toml").stdout)
    assert data["level"] == "CRITICAL"
    assert "mod:expacti_tamper" in [r["code"] for r in data["reasons"]]


def test_bad_config_is_a_clean_error(run_cli: RunCli, expacti_home: Path) -> None:
    expacti_home.mkdir(parents=True, exist_ok=True)
    (expacti_home / "config.toml").write_text("[risk]\nproduction_markers = 3\n")
    result = run_cli("score", "ls")
    assert result.returncode == 1
    assert "production_markers" in result.stderr and "Traceback" not in result.stderr
