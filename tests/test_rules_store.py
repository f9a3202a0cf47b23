"""RulesStore and its TinyDB storage: round trips, concurrency, and files it must not touch."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rules_helpers import rule

from expacti_cli import paths
from expacti_cli.errors import StoreError
from expacti_cli.matching import RuleAction, RuleKind
from expacti_cli.store.rules import RulesStore, rule_from_doc, rule_to_doc


@pytest.fixture
def store() -> RulesStore:
    return RulesStore()


def test_default_path_is_under_expacti_home(store: RulesStore, expacti_home: Path) -> None:
    assert store.path == paths.rules_file()
    assert expacti_home in store.path.parents


def test_empty_store_creates_nothing(store: RulesStore) -> None:
    assert store.list() == []
    assert not store.path.exists()


def test_add_list_remove_round_trip(store: RulesStore) -> None:
    a, created = store.add(rule("npm test", note="tests", creator="me"))
    assert created and len(a.id) == 8 and a.created_at is not None
    b, _ = store.add(rule("git log", "prefix"))
    c, _ = store.add(rule("rm", "prefix", "deny", scope="/srv"))
    listed = store.list()
    assert [r.id for r in listed] == [a.id, b.id, c.id]
    assert listed[0].note == "tests" and listed[0].creator == "me"
    assert listed[2].action is RuleAction.DENY and listed[2].scope == "/srv"
    assert listed[1].kind is RuleKind.PREFIX

    removed = store.remove(b.id[:5])
    assert removed.id == b.id
    assert [r.id for r in store.list()] == [a.id, c.id]
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_duplicate_returns_the_existing_rule(store: RulesStore) -> None:
    first, created = store.add(rule("npm test"))
    again, created_again = store.add(rule("npm test"))
    assert created and not created_again and again.id == first.id
    other, created_other = store.add(rule("npm test", action="deny"))
    assert created_other and other.id != first.id


def test_remove_unknown_or_ambiguous(store: RulesStore) -> None:
    with pytest.raises(StoreError, match="no rule with id"):
        store.remove("deadbeef")
    ids = {store.add(rule(f"echo {n}"))[0].id for n in range(40)}
    # 40 random 8-hex ids: some first digits repeat, so a 1-character prefix is ambiguous
    first_digits = [i[0] for i in ids]
    shared = next(d for d in first_digits if first_digits.count(d) > 1)
    with pytest.raises(StoreError, match="ambiguous"):
        store.remove(shared)
    assert len(store.list()) == 40


def test_record_hit(store: RulesStore) -> None:
    a, _ = store.add(rule("npm test"))
    b, _ = store.add(rule("ls", "prefix"))
    when = datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC)
    store.record_hit([a.id, a.id, "gone"], now=when)
    assert store.resolve(a.id).last_used == when
    store.record_hit([a.id])
    by_id = {r.id: r for r in store.list()}
    assert by_id[a.id].hits == 2
    last = by_id[a.id].last_used
    assert last is not None and last > when
    assert by_id[b.id].hits == 0 and by_id[b.id].last_used is None


def test_expired_rules_are_kept_and_listed_on_request(store: RulesStore) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    old, _ = store.add(rule("npm test", expires_at=past))
    live, _ = store.add(rule("npm test", expires_at=None, scope="/x"))
    assert [r.id for r in store.list()] == [old.id, live.id]
    assert [r.id for r in store.list(include_expired=False)] == [live.id]
    # an expired twin does not block adding the same rule again
    again, created = store.add(rule("npm test"))
    assert created and again.id != old.id


def test_doc_round_trip() -> None:
    r = rule(
        "git checkout feature/*",
        "glob",
        note="n",
        scope="/a",
        creator="c",
        expires_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        created_at=datetime(2029, 1, 1, tzinfo=UTC),
        hits=3,
        last_used=datetime(2029, 6, 1, tzinfo=UTC),
        source="suggestion",
    )
    assert rule_from_doc(json.loads(json.dumps(rule_to_doc(r)))) == r


# Files the store must refuse, naming the file, and leave exactly as they were.
BAD_FILES = [
    (b'{"rules": {"1": {"id": "a", "pattern": "x"}}', "line 1, column 45"),
    (b'{\n  "rules": {\n    "1": {"id": "a",, }\n', "line 3"),
    (b"\xff\xfe not utf-8", "UTF-8"),
    (b"[]", "expected a JSON object"),
    (b'{"rules": []}', "table 'rules' is not a JSON object"),
    (b'{"rules": {"x": {}}}', "bad document id"),
    (b'{"rules": {"1": "npm test"}}', "document 1 is not an object"),
    (b'{"rules": {"1": {"id": "a"}}}', "rule a: pattern must be a non-empty string"),
    (b'{"rules": {"1": {"id": "a", "pattern": "x", "kind": "fuzzy"}}}', "rule a: 'fuzzy'"),
    (b'{"rules": {"1": {"id": "a", "pattern": "(", "kind": "regex"}}}', "rule a: missing )"),
    (b'{"rules": {"1": {"id": "a", "pattern": "x", "hits": "many"}}}', "hits"),
    (b'{"rules": {"1": {"id": "a", "pattern": "x", "expires_at": "soon"}}}', "expires_at"),
    (
        b'{"rules": {"1": {"id": "a", "pattern": "x"}, "2": {"id": "a", "pattern": "y"}}}',
        "appears twice",
    ),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_bad_file_is_reported_and_left_alone(
    store: RulesStore, content: bytes, message: str
) -> None:
    store.path.parent.mkdir(parents=True, exist_ok=True)
    store.path.write_bytes(content)
    before = store.path.stat()
    for attempt in (
        store.list,
        lambda: store.add(rule("npm test")),
        lambda: store.remove("a"),
        lambda: store.record_hit(["a"]),
    ):
        with pytest.raises(StoreError) as info:
            attempt()
        assert str(store.path) in str(info.value)
        assert message in str(info.value)
    after = store.path.stat()
    assert store.path.read_bytes() == content
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_no_temp_files_left_behind(store: RulesStore) -> None:
    for n in range(5):
        store.add(rule(f"echo {n}"))
    names = sorted(p.name for p in store.path.parent.iterdir())
    assert names == ["rules.json", "rules.json.lock"]


def _add_many(home: str, worker: int, count: int) -> None:
    os.environ["EXPACTI_HOME"] = home
    s = RulesStore()
    for n in range(count):
        s.add(rule(f"echo {worker}-{n}"))
        if n % 5 == 0:
            s.record_hit([r.id for r in s.list()[:1]])


def test_concurrent_writers_lose_nothing(expacti_home: Path) -> None:
    workers, each = 6, 15
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_add_many, args=(str(expacti_home), w, each)) for w in range(workers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    rules = RulesStore().list()
    assert sorted(r.pattern for r in rules) == sorted(
        f"echo {w}-{n}" for w in range(workers) for n in range(each)
    )
    assert len({r.id for r in rules}) == workers * each
    # every record_hit landed too (each worker hits the first rule count/5 times)
    assert rules[0].hits == workers * len(range(0, each, 5))
