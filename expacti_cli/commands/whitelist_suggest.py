"""`expacti whitelist suggest`: read the history, show proposed rules, add the accepted ones.

The proposing is `learn.suggest` (pure); this module does the I/O around it: the audit log
(with a progress bar on a terminal), the rules in force, the table or JSON, the choice
(`--accept`, `--accept-all` or a prompt on a terminal), and adding each accepted rule with
its provenance, audited like `whitelist add`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from expacti_cli.errors import InputError

if TYPE_CHECKING:
    from rich.console import Console

    from expacti_cli.learn.history import DecisionRecord
    from expacti_cli.learn.suggest import Suggestion, SuggestReport
    from expacti_cli.matching import Rule

# Record ids kept in rules.json (read on every gated command); the audit record of the rule's
# addition keeps them all.
STORED_RECORD_IDS = 50
PROGRESS_MIN_RECORDS = 5000
SHOWN_EXAMPLES = 3
SHOWN_FORBIDDEN = 3


def parse_selection(text: str, count: int) -> list[int]:
    """`1,3`, `2-4`, `all` -> 0-based indexes into the suggestions (raises InputError)."""
    value = text.strip().lower()
    if value in ("all", "*"):
        return list(range(count))
    if value in ("", "none", "n", "q"):
        return []
    chosen: list[int] = []
    for token in value.replace(" ", ",").split(","):
        if not token:
            continue
        first, dash, last = token.partition("-")
        try:
            lo = int(first)
            hi = int(last) if dash else lo
        except ValueError:
            raise InputError(f"bad selection {token!r}: use numbers like 1,3 or 2-4") from None
        for n in range(lo, hi + 1):
            if not 1 <= n <= count:
                raise InputError(
                    f"there is no suggestion {n}: the numbers go from 1 to {count}"
                    if count
                    else "there are no suggestions to accept"
                )
            if n - 1 not in chosen:
                chosen.append(n - 1)
    return chosen


def _read_history(show_progress: bool) -> tuple[list[DecisionRecord], int]:
    """The decisions suggestions look at, and how many records the log holds."""
    from expacti_cli.learn.history import iter_decisions, record_count
    from expacti_cli.learn.suggest import wanted
    from expacti_cli.store.audit import AuditLog
    from expacti_cli.ui.escape import console

    log = AuditLog.open()
    total = record_count(log)
    err = console(stderr=True)
    if not (show_progress and err.is_terminal) or total < PROGRESS_MIN_RECORDS:
        return list(iter_decisions(log, select=wanted)), total
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = ("reading the audit log", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("read", total=total)
        decisions = list(
            iter_decisions(
                log,
                select=wanted,
                progress=lambda done, of: bar.update(task, completed=done, total=of),
            )
        )
    return decisions, total


def compute(
    min_count: int, since: datetime | None, show_progress: bool
) -> tuple[SuggestReport, int]:
    """Read the history and the rules in force, and propose rules; also the log's size."""
    from expacti_cli.config import load_config
    from expacti_cli.learn.suggest import suggest_rules
    from expacti_cli.risk import score_command  # type: ignore[attr-defined,unused-ignore]
    from expacti_cli.store.rules import RulesStore

    settings = load_config().risk
    history, records = _read_history(show_progress)
    now = datetime.now(UTC)

    def risk_of(command: str) -> tuple[int, str]:
        score = score_command(command, settings)
        return score.score, score.level.value

    probes = tuple(dict.fromkeys((*settings.production_markers, *settings.protected_branches)))
    report = suggest_rules(
        history,
        now=now,
        existing=RulesStore().list(now=now, include_expired=False),
        since=since,
        min_count=min_count,
        risk_of=risk_of,
        probe_words=probes,
    )
    return report, records


# ---------------------------------------------------------------------------------------------
# Output


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else None


def suggestion_json(number: int, s: Suggestion) -> dict[str, Any]:
    return {
        "number": number,
        "rule": {
            "action": s.rule.action.value,
            "kind": s.rule.kind.value,
            "pattern": s.rule.pattern,
        },
        "level": s.level,
        "approvals": s.approvals,
        "record_ids": list(s.record_ids),
        "examples": list(s.examples),
        "must_not_match": [
            {"command": f.command, "denied": f.denied, "level": f.level or None, "score": f.score}
            for f in s.must_not_match
        ],
        "forbidden_checked": s.forbidden_checked,
        "last_approved": _iso(s.last_approved),
    }


def report_json(
    report: SuggestReport, records: int, added: list[dict[str, Any]] | None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "suggestions": [suggestion_json(n, s) for n, s in enumerate(report.suggestions, 1)],
        "approvals": report.approvals,
        "already_allowed": report.already_allowed,
        "covered": report.covered,
        "coverage": round(report.coverage, 4),
        "skipped": report.skipped,
        "dropped": [
            {
                "kind": d.rule.kind.value,
                "pattern": d.rule.pattern,
                "approvals": d.approvals,
                "reason": d.reason,
            }
            for d in report.dropped
        ],
        "records": records,
        "forbidden": report.forbidden,
    }
    if added is not None:
        payload["added"] = added
    return payload


def print_report(out: Console, report: SuggestReport, records: int, *, verbose: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from expacti_cli.ui.escape import escape_for_display as esc

    if not report.suggestions:
        out.print(_nothing(report), markup=False)
        _print_footer(out, report, records, verbose=verbose)
        return
    table = Table(show_edge=False, pad_edge=False, show_lines=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("rule", overflow="fold")
    table.add_column("level", no_wrap=True)
    table.add_column("approvals", justify="right", no_wrap=True)
    table.add_column("matches, e.g.", overflow="fold")
    table.add_column("must not match (checked)", overflow="fold")
    for n, s in enumerate(report.suggestions, 1):
        rule = Text(f"{s.rule.kind.value} ", style="bold")
        rule.append(esc(s.rule.pattern))
        examples = Text("\n".join(esc(e) for e in s.examples[:SHOWN_EXAMPLES]))
        table.add_row(str(n), rule, s.level, str(s.approvals), examples, _forbidden_cell(s))
    out.print(table)
    _print_footer(out, report, records, verbose=verbose)


def _forbidden_cell(s: Suggestion) -> Any:
    from rich.text import Text

    from expacti_cli.ui.escape import escape_for_display as esc

    cell = Text()
    for f in s.must_not_match[:SHOWN_FORBIDDEN]:
        cell.append(esc(f.command), style="red")
        cell.append(f"  {f.why}\n", style="dim")
    if s.forbidden_checked:
        noun = "command" if s.forbidden_checked == 1 else "commands"
        cell.append(f"checked: all {s.forbidden_checked:,} denied or riskier {noun}", style="dim")
    else:
        cell.append("nothing denied or riskier in history", style="dim")
    return cell


def _nothing(report: SuggestReport) -> str:
    if not report.approvals:
        return "no suggestions: the audit log holds no human approvals yet"
    return (
        "no suggestions: no command was approved often enough in a shape a rule can safely "
        "cover (--min-count lowers the bar)"
    )


def _print_footer(out: Console, report: SuggestReport, records: int, *, verbose: bool) -> None:
    from expacti_cli.ui.escape import escape_for_display as esc

    open_ = report.approvals - report.already_allowed
    if report.approvals:
        line = f"{report.approvals:,} approvals among {records:,} audit records"
        if report.already_allowed:
            line += f"; {report.already_allowed:,} already allowed by your rules"
        if report.suggestions:
            line += f"; these rules would cover {report.covered:,} of the other {open_:,}"
            line += f" ({report.coverage:.0%})"
        out.print(line, markup=False)
    for why, count in sorted(report.skipped.items(), key=lambda kv: -kv[1]):
        noun = "approval" if count == 1 else "approvals"
        out.print(f"  {count:,} {noun} get no suggestion: {why}", markup=False, style="dim")
    if report.dropped:
        if verbose:
            for d in report.dropped:
                out.print(
                    f"  dropped {d.rule.kind.value} {esc(d.rule.pattern)!r}: {esc(d.reason)}",
                    markup=False,
                    style="dim",
                )
        else:
            out.print(
                f"  {len(report.dropped)} wider candidates were dropped by the safety checks "
                "(--verbose lists them)",
                markup=False,
                style="dim",
            )


# ---------------------------------------------------------------------------------------------
# Accepting


def provenance(s: Suggestion, now: datetime, *, all_ids: bool) -> dict[str, Any]:
    ids = list(s.record_ids if all_ids else s.record_ids[:STORED_RECORD_IDS])
    return {
        "approvals": s.approvals,
        "level": s.level,
        "record_ids": ids,
        "record_ids_complete": len(ids) == len(s.record_ids),
        "suggested_at": _iso(now),
    }


def accept(chosen: list[Suggestion]) -> list[tuple[Rule, bool]]:
    """Add the chosen rules, each with where it came from, and audit each addition."""
    from expacti_cli.commands.whitelist import audit_rule_change, rule_creator
    from expacti_cli.store.rules import RulesStore

    store = RulesStore()
    creator = rule_creator()
    done: list[tuple[Rule, bool]] = []
    for s in chosen:
        now = datetime.now(UTC)
        rule = replace(s.rule, creator=creator, created_at=now)
        stored, created = store.add(rule, extra={"suggestion": provenance(s, now, all_ids=False)})
        if created:
            try:
                audit_rule_change(
                    "rule_added",
                    stored,
                    creator,
                    extra={"suggestion": provenance(s, now, all_ids=True)},
                )
            except Exception:
                store.remove(stored.id)  # an unaudited rule must not stay in force
                raise
        done.append((stored, created))
    return done


def interactive() -> bool:
    """Both ends are a terminal: a human can pick suggestions."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _ask(count: int) -> list[int]:
    """Ask on the terminal which suggestions to add, until the answer makes sense."""
    while True:
        answer = click.prompt(
            "Accept which rules? numbers (1,3 or 2-4), 'all', or Enter for none",
            default="",
            show_default=False,
        )
        try:
            return parse_selection(answer, count)
        except InputError as exc:
            click.echo(str(exc), err=True)


def run(
    *,
    min_count: int,
    since: datetime | None,
    accept_spec: str | None,
    accept_all: bool,
    as_json: bool,
    verbose: bool,
) -> None:
    from expacti_cli.ui.escape import console
    from expacti_cli.ui.escape import escape_for_display as esc

    if accept_spec is not None and accept_all:
        raise click.UsageError("use --accept N[,M] or --accept-all, not both")
    report, records = compute(min_count, since, show_progress=not as_json)
    count = len(report.suggestions)
    if accept_all:
        chosen = list(range(count))
    elif accept_spec is not None:
        chosen = parse_selection(accept_spec, count)
    else:
        chosen = []
    out = console()
    if not as_json:
        print_report(out, report, records, verbose=verbose)
        if accept_spec is None and not accept_all and count and interactive():
            chosen = _ask(count)
    added = accept([report.suggestions[i] for i in chosen]) if chosen else []
    if as_json:
        rows = [
            {"number": i + 1, "id": rule.id, "created": created}
            for i, (rule, created) in zip(chosen, added, strict=True)
        ]
        accepting = accept_spec is not None or accept_all
        payload = report_json(report, records, rows if accepting else None)
        click.echo(json.dumps(payload, sort_keys=True))
        return
    for rule, created in added:
        verb = "added" if created else "already present as"
        out.print(f"{verb} {rule.id}: {esc(rule.describe())}", markup=False)
