"""`expacti stats` over decisions made for real: `expacti exec` through the real broker."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("broker_env")


def _writer(target: Path) -> tuple[str, ...]:
    """An argv that a human has to approve (it writes a file)."""
    return (sys.executable, "-c", f"open({str(target)!r}, 'a').write('ran')")


def test_stats_counts_real_decisions(broker, run_cli, spawn, tmp_path) -> None:  # type: ignore[no-untyped-def]
    added = run_cli("whitelist", "add", "true", "--json")
    assert added.returncode == 0, added.stderr
    rule_id = json.loads(added.stdout)["id"]
    for _ in range(3):
        assert run_cli("exec", "--", "true", timeout=20).returncode == 0

    approved = spawn("exec", "--", *_writer(tmp_path / "a"))
    [request] = broker.wait_pending()
    assert run_cli("approve", request["id"]).returncode == 0
    approved.communicate(timeout=20)
    assert approved.returncode == 0

    denied = spawn("exec", "--", *_writer(tmp_path / "b"))
    [request] = broker.wait_pending()
    assert run_cli("deny", request["id"]).returncode == 0
    denied.communicate(timeout=20)
    assert denied.returncode == 126

    result = run_cli("stats", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"] == 5
    assert data["passed_without_human"] == {"count": 3, "share": 0.6}
    assert data["outcomes"]["auto_rule"] == 3
    assert data["outcomes"]["approved_human"] == 1
    assert data["outcomes"]["denied_human"] == 1
    assert data["asked"] == {"count": 2, "share": 0.4}
    assert data["review"]["decisions"] == 2 and data["review"]["median_ms"] > 0
    [top] = data["top_rules"]
    assert (top["id"], top["hits"], top["hits_total"], top["pattern"]) == (rule_id, 3, 3, "true")
    assert data["per_day"][-1]["total"] == 5  # all of it happened today

    text = run_cli("stats")
    assert text.returncode == 0, text.stderr
    assert "60.0% of commands passed without a human  (3 of 5)" in text.stdout
    assert "allow exact 'true'" in text.stdout
