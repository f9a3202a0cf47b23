"""auto_approve_below per project through the real CLI and broker (issue 5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def expacti(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("expacti")), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
        timeout=60,
    )


def decisions() -> list[dict[str, Any]]:
    from expacti_cli.store.audit import AuditLog

    return [r for r in AuditLog.open().iter_records() if r.get("kind") == "decision"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    app = tmp_path / "srv" / "app"
    (app / "src").mkdir(parents=True)
    return app


def test_config_set_show_get_unset_a_project(
    broker_env: Path, project: Path, tmp_path: Path
) -> None:
    set_ = expacti("config", "set", "--project", ".", "auto_approve_below", "30", cwd=project)
    assert set_.returncode == 0, set_.stderr
    assert f'projects."{project}".auto_approve_below = 30' in set_.stdout
    shown = expacti("config", "show").stdout
    assert f'[projects."{project}"]' in shown and "auto_approve_below = 30" in shown
    data = json.loads(expacti("config", "show", "--json").stdout)
    assert data["projects"] == {str(project): {"auto_approve_below": 30}}
    assert data["values"]["auto_approve_below"] == 0
    inside = expacti("config", "get", "--project", str(project / "src"), "auto_approve_below")
    assert inside.stdout.strip() == "30"
    assert expacti("config", "get", "auto_approve_below").stdout.strip() == "0"

    config = broker_env / "config.toml"
    before = config.read_bytes()
    bad = expacti("config", "set", "--project", str(project), "auto_approve_below", "200")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert f'projects."{project}".auto_approve_below' in bad.stderr
    assert str(config) in bad.stderr and "from 0 to 100" in bad.stderr
    assert config.read_bytes() == before
    wrong = expacti("config", "set", "--project", str(project), "approval_timeout", "90")
    assert wrong.returncode == 1 and "cannot be set per project" in wrong.stderr
    assert config.read_bytes() == before

    from expacti_cli.store.audit import AuditLog

    changes = [r for r in AuditLog.open().iter_records() if r.get("kind") == "config_set"]
    assert [(c["key"], c["value"], c["project"]) for c in changes] == [
        (f'projects."{project}".auto_approve_below', 30, str(project))
    ]
    gone = expacti("config", "unset", "--project", str(project), "auto_approve_below")
    assert gone.returncode == 0 and "removed" in gone.stdout
    assert json.loads(expacti("config", "show", "--json").stdout)["projects"] == {}


def test_exec_in_the_project_passes_by_threshold_and_outside_asks(
    broker_env: Path, project: Path, tmp_path: Path
) -> None:
    assert (
        expacti("config", "set", "--project", str(project), "auto_approve_below", "30").returncode
        == 0
    )
    inside = expacti("exec", "--", "ls", cwd=project / "src")
    assert inside.returncode == 0, inside.stderr
    assert inside.stdout.split() == []  # src is empty: ls ran there and printed nothing
    outside = tmp_path / "srv" / "application"  # shares the prefix, not the directory
    outside.mkdir()
    asked = expacti("exec", "--timeout", "1", "--", "ls", cwd=outside)
    assert asked.returncode == 126
    assert "waiting for approval" in asked.stderr
    passed, timed_out = decisions()
    assert passed["decision"] == "auto_approved_threshold"
    assert f"auto_approve_below = 30 (project {project})" in passed["reason"]
    assert timed_out["decision"] == "timed_out"


def test_a_symlink_into_the_project_counts_and_one_out_of_it_does_not(
    broker_env: Path, project: Path, tmp_path: Path
) -> None:
    assert (
        expacti("config", "set", "--project", str(project), "auto_approve_below", "30").returncode
        == 0
    )
    (tmp_path / "shortcut").symlink_to(project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "out").symlink_to(elsewhere)
    via_link = expacti("exec", "--", "ls", cwd=tmp_path / "shortcut")
    assert via_link.returncode == 0, via_link.stderr
    escaped = expacti("exec", "--timeout", "1", "--", "ls", cwd=project / "out")
    assert escaped.returncode == 126
    assert [d["decision"] for d in decisions()] == ["auto_approved_threshold", "timed_out"]


def test_unparsed_commands_never_pass_by_threshold(broker_env: Path, project: Path) -> None:
    assert (
        expacti("config", "set", "--project", str(project), "auto_approve_below", "100").returncode
        == 0
    )
    result = expacti("exec", "--timeout", "1", "--", "echo $(( 1 + ", cwd=project)
    assert result.returncode == 126
    [record] = decisions()
    # it scored under the threshold, yet a human was asked (and nobody answered)
    assert record["decision"] == "timed_out" and record["score"] < 100
