"""The whitelist: allow/deny rules kept in a TinyDB file (paths.rules_file()).

Every mutation (add, remove, record_hit) holds the file lock across its read-modify-write and
writes atomically, so several processes can use the store at once without losing updates. A
file that cannot be read, or holds a rule that does not make sense, raises StoreError naming the
file and the rule: it is never reset or overwritten.
"""

from __future__ import annotations

import builtins
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from expacti_cli import paths
from expacti_cli.errors import StoreError
from expacti_cli.matching import Rule, RuleAction, RuleKind, RulePatternError, validate_pattern
from expacti_cli.store.tinydb_safe import SafeJSONStorage

if TYPE_CHECKING:
    from tinydb import TinyDB

TABLE = "rules"
ID_BYTES = 4  # 8 hex digits: short to type, plenty for a personal rule set


def _time_to_doc(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def _time_from_doc(value: Any, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} must be an ISO 8601 time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{field} is not an ISO 8601 time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def rule_to_doc(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "action": rule.action.value,
        "kind": rule.kind.value,
        "pattern": rule.pattern,
        "scope": rule.scope,
        "expires_at": _time_to_doc(rule.expires_at),
        "note": rule.note,
        "creator": rule.creator,
        "created_at": _time_to_doc(rule.created_at),
        "hits": rule.hits,
        "last_used": _time_to_doc(rule.last_used),
        "source": rule.source,
    }


def rule_from_doc(doc: dict[str, Any]) -> Rule:
    """Build a Rule from a stored document (raises ValueError saying what is wrong)."""

    def text(field: str, default: str = "") -> str:
        value = doc.get(field, default)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ValueError(f"{field} must be a string")
        return value

    rule_id = text("id")
    if not rule_id:
        raise ValueError("id is missing")
    pattern = doc.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("pattern must be a non-empty string")
    try:
        kind = RuleKind(text("kind", "exact"))
        action = RuleAction(text("action", "allow"))
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    hits = doc.get("hits", 0)
    if not isinstance(hits, int) or isinstance(hits, bool) or hits < 0:
        raise ValueError("hits must be a non-negative integer")
    try:
        validate_pattern(kind, pattern)
    except RulePatternError as exc:
        raise ValueError(str(exc)) from None
    return Rule(
        id=rule_id,
        pattern=pattern,
        kind=kind,
        action=action,
        scope=text("scope"),
        expires_at=_time_from_doc(doc.get("expires_at"), "expires_at"),
        note=text("note"),
        creator=text("creator"),
        created_at=_time_from_doc(doc.get("created_at"), "created_at"),
        hits=hits,
        last_used=_time_from_doc(doc.get("last_used"), "last_used"),
        source=text("source", "manual") or "manual",
    )


class RulesStore:
    """Allow/deny rules on disk. Open one per operation or keep one: it never caches."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.rules_file()
        self.storage = SafeJSONStorage(self.path)

    def _db(self) -> TinyDB:
        from tinydb import TinyDB

        # A fresh TinyDB per operation: its table caches (query results, next document id)
        # would go stale when another process writes the file.
        return TinyDB(storage=lambda: self.storage)

    def _docs(self) -> builtins.list[tuple[int, dict[str, Any]]]:
        data = self.storage.read() or {}
        return sorted(((int(k), v) for k, v in data.get(TABLE, {}).items()), key=lambda kv: kv[0])

    def _load(self) -> builtins.list[tuple[int, Rule]]:
        rules: builtins.list[tuple[int, Rule]] = []
        seen: set[str] = set()
        for doc_id, doc in self._docs():
            try:
                rule = rule_from_doc(doc)
            except ValueError as exc:
                name = doc.get("id") or f"document {doc_id}"
                raise StoreError(f"{self.path}: rule {name}: {exc}") from None
            if rule.id in seen:
                raise StoreError(f"{self.path}: rule id {rule.id} appears twice")
            seen.add(rule.id)
            rules.append((doc_id, rule))
        return rules

    def list(self, *, now: datetime | None = None, include_expired: bool = True) -> list[Rule]:
        """Every rule in the order added (expired ones only with include_expired)."""
        rules = [r for _, r in self._load()]
        if not include_expired:
            moment = now or datetime.now(UTC)
            rules = [r for r in rules if not r.is_expired(moment)]
        return rules

    def find(self, rules: Iterable[Rule], pattern: Rule) -> Rule | None:
        """An existing rule with the same action, kind, pattern and scope as `pattern`."""
        key = (pattern.action, pattern.kind, pattern.pattern, pattern.scope)
        return next((r for r in rules if (r.action, r.kind, r.pattern, r.scope) == key), None)

    def add(self, rule: Rule, *, extra: Mapping[str, Any] | None = None) -> tuple[Rule, bool]:
        """Store `rule` with a fresh id. Returns (stored rule, created); an identical live rule
        (same action, kind, pattern, scope) is returned as is instead of adding a duplicate.

        `extra`: more fields for the stored document, e.g. `suggestion` (where a suggested rule
        came from, see `details`); they never replace a rule field and Rule ignores them."""
        validate_pattern(rule.kind, rule.pattern)
        with self.storage.lock:
            existing = self._load()
            now = datetime.now(UTC)
            twin = self.find((r for _, r in existing if not r.is_expired(now)), rule)
            if twin is not None:
                return twin, False
            taken = {r.id for _, r in existing}
            new_id = secrets.token_hex(ID_BYTES)
            while new_id in taken:
                new_id = secrets.token_hex(ID_BYTES)
            stored = replace(rule, id=new_id, created_at=rule.created_at or now)
            self._db().table(TABLE).insert({**(extra or {}), **rule_to_doc(stored)})
            return stored, True

    def details(self, rule_id: str) -> dict[str, Any]:
        """The stored document of one rule, extra fields included (StoreError if unknown)."""
        for _, doc in self._docs():
            if doc.get("id") == rule_id:
                return dict(doc)
        raise StoreError(f"no rule with id {rule_id!r} in {self.path}")

    def resolve(self, id_or_prefix: str) -> Rule:
        """The one rule whose id is, or starts with, `id_or_prefix`."""
        return self._resolve(id_or_prefix, [r for _, r in self._load()])

    def _resolve(self, id_or_prefix: str, rules: builtins.list[Rule]) -> Rule:
        wanted = id_or_prefix.strip().lower()
        if not wanted:
            raise StoreError("no rule id given")
        exact = [r for r in rules if r.id.lower() == wanted]
        matches = exact or [r for r in rules if r.id.lower().startswith(wanted)]
        if not matches:
            raise StoreError(f"no rule with id {id_or_prefix!r} in {self.path}")
        if len(matches) > 1:
            ids = ", ".join(r.id for r in matches)
            raise StoreError(f"{id_or_prefix!r} is ambiguous: it starts {ids}")
        return matches[0]

    def remove(self, id_or_prefix: str) -> Rule:
        """Remove the one rule whose id is, or starts with, `id_or_prefix`; return it."""
        with self.storage.lock:
            loaded = self._load()
            rule = self._resolve(id_or_prefix, [r for _, r in loaded])
            doc_id = next(d for d, r in loaded if r.id == rule.id)
            self._db().table(TABLE).remove(doc_ids=[doc_id])
            return rule

    def record_hit(self, ids: Iterable[str], now: datetime | None = None) -> None:
        """Count one use of each rule in `ids` (unknown ids are ignored: a rule may be gone)."""
        wanted = {i for i in ids if i}
        if not wanted:
            return
        moment = _time_to_doc(now or datetime.now(UTC))
        with self.storage.lock:
            self._load()  # refuses (and so never rewrites) a file it cannot make sense of
            data = self.storage.read()
            if not data or TABLE not in data:
                return
            changed = False
            for doc in data[TABLE].values():
                if doc.get("id") in wanted:
                    hits = doc.get("hits")
                    doc["hits"] = (hits if isinstance(hits, int) else 0) + 1
                    doc["last_used"] = moment
                    changed = True
            if changed:
                self.storage.write(data)
