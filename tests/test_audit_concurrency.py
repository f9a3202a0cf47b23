"""Several writer processes appending at once: nothing lost, nothing interleaved."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
from collections import Counter
from pathlib import Path

from expacti_cli.store.audit import AuditLog

WRITERS = 8
EACH = 500


def _writer(directory: str, writer: int, start: multiprocessing.synchronize.Event) -> None:
    log = AuditLog.open(Path(directory), segment_bytes=256 * 1024)
    start.wait()
    for i in range(EACH):
        log.record_decision(
            command=f"echo writer {writer} record {i}", decision="approved", session=f"w{writer}"
        )


def _reader(directory: str, done: multiprocessing.synchronize.Event) -> None:
    """Verify and list while the writers run: must never see a torn line or a bad head."""
    log = AuditLog.open(Path(directory), segment_bytes=256 * 1024)
    while not done.is_set():
        result = log.verify()
        if not result.ok and "no audit log" not in result.message:
            raise SystemExit(f"verify failed during appends: {result.message}")
        seqs = [r["seq"] for r in log.iter_records(reverse=True)]
        if seqs != list(range(len(seqs) - 1, -1, -1)):
            raise SystemExit("newest-first listing out of order during appends")


def test_eight_processes_appending_at_once(tmp_path: Path) -> None:
    directory = tmp_path / "audit"
    context = multiprocessing.get_context("fork")
    start, done = context.Event(), context.Event()
    workers = [
        context.Process(target=_writer, args=(str(directory), n, start)) for n in range(WRITERS)
    ]
    reader = context.Process(target=_reader, args=(str(directory), done))
    for worker in workers:
        worker.start()
    start.set()
    reader.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    done.set()
    reader.join(timeout=60)
    assert reader.exitcode == 0

    log = AuditLog.open(directory, segment_bytes=256 * 1024)
    records = list(log.iter_records())
    assert [r["seq"] for r in records] == list(range(WRITERS * EACH + 1))
    decisions = [r for r in records if r["kind"] == "decision"]
    assert len(decisions) == WRITERS * EACH
    assert len({r["command"] for r in decisions}) == WRITERS * EACH
    assert Counter(r["session"] for r in decisions) == {f"w{n}": EACH for n in range(WRITERS)}
    # Each writer's own records appear in the order it wrote them.
    for n in range(WRITERS):
        mine = [int(r["command"].rsplit(" ", 1)[1]) for r in decisions if r["session"] == f"w{n}"]
        assert mine == list(range(EACH))
    result = log.verify()
    assert result.ok, result.message
    assert result.count == WRITERS * EACH + 1
    assert len(log.segments()) > 1  # the writers crossed segment boundaries too
