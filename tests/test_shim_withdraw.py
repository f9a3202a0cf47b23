"""decide.submit(on_connect=...) + Connection.withdraw(): another thread cancels a waiting
request (what `expacti mcp` does when its client cancels a tool call)."""

from __future__ import annotations

import threading

from broker_support import BrokerTools

from expacti_cli.broker import client
from expacti_cli.shim import decide, wire


def test_withdraw_from_another_thread_cancels_the_request(broker: BrokerTools) -> None:
    connections: list[wire.Connection] = []
    queued = threading.Event()
    result: list[decide.Verdict] = []

    def gate() -> None:
        result.append(
            decide.submit(
                "rm -rf /srv/data",
                cwd="/tmp",
                source="test",
                on_connect=connections.append,
                on_queued=lambda message: queued.set(),
            )
        )

    worker = threading.Thread(target=gate)
    worker.start()
    assert queued.wait(15), "the request never reached the queue"
    assert len(broker.wait_pending(1)) == 1
    connections[0].withdraw()
    worker.join(15)
    assert not worker.is_alive()
    assert not result[0].allowed
    assert client.call("list")["requests"] == []
    decisions = [
        r for r in broker.audit_records("decision") if r.get("command") == "rm -rf /srv/data"
    ]
    assert [r["decision"] for r in decisions] == ["withdrawn"]
