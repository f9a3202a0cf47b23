"""`expacti pending|approve|deny` and `expacti daemon` through the real CLI."""

from __future__ import annotations

import json

import pytest

from expacti_cli.broker import client, sockets

pytest_plugins = ("broker_support",)
pytestmark = pytest.mark.usefixtures("broker_env")

RISKY = "rm -rf /tmp/expacti-test-nothing-here"


def test_pending_without_a_broker_is_empty_and_starts_nothing(run_cli) -> None:  # type: ignore[no-untyped-def]
    text = run_cli("pending")
    assert (text.returncode, text.stdout) == (0, "no pending requests\n")
    as_json = run_cli("pending", "--json")
    assert json.loads(as_json.stdout) == []
    assert not sockets.broker_alive()


def test_pending_lists_requests_oldest_first(run_cli, gater) -> None:  # type: ignore[no-untyped-def]
    first = gater(RISKY, context="first one")
    first.next_message()
    second = gater("git push --force origin main", cwd="/srv/app")
    second.next_message()
    listed = json.loads(run_cli("pending", "--json").stdout)
    assert [r["command"] for r in listed] == [RISKY, "git push --force origin main"]
    assert {"id", "cwd", "score", "level", "session", "context", "requested_at"} <= set(listed[0])
    text = run_cli("pending").stdout
    assert text.index(RISKY) < text.index("git push --force")
    assert "context: first one" in text
    assert "s left" in text  # how long until it times out
    assert listed[0]["id"][:8] in text


def test_pending_escapes_control_characters(run_cli, gater) -> None:  # type: ignore[no-untyped-def]
    gater("echo '\x1b[2Jhidden'").next_message()
    text = run_cli("pending").stdout
    assert "\x1b" not in text
    assert "\\x1b[2Jhidden" in text


def test_approve_without_id_lists_pending_and_exits_2(run_cli, gater) -> None:  # type: ignore[no-untyped-def]
    gater(RISKY).next_message()
    result = run_cli("approve")
    assert result.returncode == 2
    assert RISKY in result.stdout
    assert "expacti approve ID" in result.stderr


@pytest.mark.parametrize("verb", ["approve", "deny"])
def test_unknown_id_is_refused(run_cli, gater, verb: str) -> None:  # type: ignore[no-untyped-def]
    gater(RISKY).next_message()
    result = run_cli(verb, "ffffffff")
    assert result.returncode == 1
    assert "no pending request" in result.stderr


def test_short_prefix_is_not_enough(broker, run_cli, gater) -> None:  # type: ignore[no-untyped-def]
    request = gater(RISKY).next_message()["request"]
    result = run_cli("approve", request["id"][:3])
    assert result.returncode == 1
    assert len(broker.wait_pending()) == 1


def test_deny_reason_reaches_the_waiting_client_and_the_log(broker, run_cli, gater) -> None:  # type: ignore[no-untyped-def]
    g = gater(RISKY)
    request = g.next_message()["request"]
    result = run_cli("deny", request["id"][:6], "--reason", "use the staging db")
    assert (result.returncode, result.stdout) == (0, f"denied {request['id'][:8]}: {RISKY}\n")
    decision = g.next_message()
    assert (decision["allowed"], decision["reason"]) == (False, "use the staging db")
    assert decision["reviewer"] == "reviewer@example.com"
    [record] = broker.audit_records("decision")
    assert (record["decision"], record["reviewer"]) == ("denied", "reviewer@example.com")
    again = run_cli("deny", request["id"])
    assert again.returncode == 1
    assert "already decided" in again.stderr


def test_approve_whitelist_saves_an_audited_exact_rule(broker, run_cli, gater) -> None:  # type: ignore[no-untyped-def]
    g = gater(RISKY)
    request = g.next_message()["request"]
    result = run_cli("approve", request["id"], "--whitelist", "--json")
    answer = json.loads(result.stdout)
    assert answer["decision"] == "approved" and answer["rule_id"]
    rules = json.loads(run_cli("whitelist", "list", "--json").stdout)
    [rule] = [r for r in rules if r["id"] == answer["rule_id"]]
    assert (rule["kind"], rule["pattern"], rule["source"]) == ("exact", RISKY, "approval")
    [added] = broker.audit_records("rule_added")
    assert added["rule_id"] == answer["rule_id"]
    assert g.next_message()["rule_id"] == answer["rule_id"]


def test_approve_whitelist_refuses_a_rule_that_would_allow_anything(broker, run_cli, gater) -> None:  # type: ignore[no-untyped-def]
    # An exact rule is never "too broad", so ask the broker directly for a prefix rule.
    request = gater("bash -c 'rm -rf /tmp/x'").next_message()["request"]
    with pytest.raises(client.BrokerRefused) as refused:
        client.call(
            "decide",
            id=request["id"],
            decision="approve",
            whitelist={"kind": "prefix", "pattern": "bash"},
        )
    assert refused.value.code == "too_broad"
    assert len(broker.wait_pending()) == 1


def test_daemon_status_start_and_stop(run_cli) -> None:  # type: ignore[no-untyped-def]
    stopped = run_cli("daemon", "status", "--json")
    assert stopped.returncode == 1
    assert json.loads(stopped.stdout)["running"] is False
    assert run_cli("daemon", "start").returncode == 0
    status = run_cli("daemon", "status", "--json")
    assert status.returncode == 0
    info = json.loads(status.stdout)
    assert info["running"] is True and info["pid"] == sockets.recorded_pid()
    stop = run_cli("daemon", "stop")
    assert stop.returncode == 0
    assert not client.pid_alive(info["pid"])
    assert run_cli("daemon", "status").returncode == 1


def test_daemon_stop_denies_what_is_pending(run_cli, gater) -> None:  # type: ignore[no-untyped-def]
    g = gater(RISKY)
    g.next_message()
    assert run_cli("daemon", "stop").returncode == 0
    decision = g.next_message()
    assert (decision["decision"], decision["allowed"]) == ("denied", False)
    assert "stopped" in decision["reason"]
