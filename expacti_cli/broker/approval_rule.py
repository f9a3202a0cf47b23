"""Approve and whitelist: the rule a reviewer saves along with an approval.

The broker is the single writer of these rules: it saves the rule, audits `rule_added`
(removing the rule again if that record cannot be written: an unaudited rule must not stay in
force), and only then records the approval that names it.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from expacti_cli.broker.model import Pending
from expacti_cli.broker.protocol import ProtocolError


def save_approval_rule(p: Pending, spec: Any, reviewer: str, note: str, audit: Any) -> str:
    """Add the allow rule `spec` asks for ({kind, pattern, scope, force}; default: the exact
    command) and audit it. Raises ProtocolError when it is refused or cannot be saved."""
    from expacti_cli.matching import Rule, RuleKind, RulePatternError, too_broad, validate_pattern
    from expacti_cli.store.rules import RulesStore, rule_to_doc

    spec = spec if isinstance(spec, dict) else {}
    try:
        kind = RuleKind(str(spec.get("kind") or "exact"))
    except ValueError:
        raise ProtocolError(f"unknown rule kind {spec.get('kind')!r}") from None
    rule = Rule(
        id="",
        pattern=str(spec.get("pattern") or p.command.strip()),
        kind=kind,
        scope=str(spec.get("scope") or ""),
        note=note or p.context,
        creator=reviewer,
        created_at=datetime.now(UTC),
        source="approval",
    )
    try:
        validate_pattern(kind, rule.pattern)
        broad = too_broad(rule)
    except RulePatternError as exc:
        raise ProtocolError(f"bad rule: {exc}") from None
    if broad and not spec.get("force"):
        raise ProtocolError(f"refusing to whitelist {rule.describe()}: {broad}", "too_broad")
    store = RulesStore()
    try:
        stored, created = store.add(rule)
    except Exception as exc:  # noqa: BLE001 - StoreError, a bad pattern...: refuse the decision
        raise ProtocolError(f"cannot save the rule: {exc}", "store") from None
    if created:
        try:
            audit.append(
                {
                    "kind": "rule_added",
                    "source": "approval",
                    "reviewer": reviewer,
                    "rule_id": stored.id,
                    "rule": rule_to_doc(stored),
                    "request_id": p.id,
                    "summary": f"rule added: {stored.describe()} ({stored.id})",
                }
            )
        except Exception as exc:  # noqa: BLE001
            with contextlib.suppress(Exception):
                store.remove(stored.id)
            raise ProtocolError(f"cannot audit the new rule: {exc}", "audit") from None
    return stored.id
