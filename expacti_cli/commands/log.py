"""`expacti log`, `log show`, `log verify`, `log repair`: read and check the audit log.

Every text that came from an agent or a user (commands, cwd, session, context, ...) is shown
through `escape_for_display`; `--json` gives the records as stored, for scripts.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from expacti_cli.store.audit_format import DECISIONS, canonical, command_bytes, decode_lossless
from expacti_cli.store.audit_query import (
    RecordFilter,
    extra_fields,
    parse_min_risk,
    parse_when,
    record_time,
)
from expacti_cli.ui.escape import escape_for_display

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from expacti_cli.store.audit import AuditLog

PROGRESS_MIN_BYTES = 8 * 1024 * 1024  # smaller logs verify faster than a bar could draw
CSV_FIELDS = (
    "id",
    "seq",
    "time",
    "kind",
    "decision",
    "level",
    "score",
    "session",
    "source",
    "cwd",
    "command",
    "exit_code",
    "rule_id",
    "reviewer",
    "review_ms",
)
SHOW_ORDER = (
    "id",
    "seq",
    "time",
    "kind",
    "decision",
    "session",
    "source",
    "cwd",
    "command",
    "parts",
    "score",
    "level",
    "reasons",
    "rule_id",
    "reviewer",
    "requested_at",
    "decided_at",
    "review_ms",
    "context",
    "exit_code",
)
DECISION_STYLE = {
    "approved": "green",
    "auto_approved_rule": "green",
    "auto_approved_threshold": "green",
    "denied": "red",
    "timed_out": "yellow",
    "withdrawn": "yellow",
}
LEVEL_STYLE = {"LOW": "green", "MEDIUM": "yellow", "HIGH": "red", "CRITICAL": "bold red"}


def _open_log() -> AuditLog:
    from expacti_cli.store.audit import AuditLog

    return AuditLog.open()


def _when(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_when(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _risk(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_min_risk(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _regex(ctx: click.Context, param: click.Parameter, value: str | None) -> re.Pattern[str] | None:
    if value is None:
        return None
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise click.BadParameter(f"not a regular expression: {exc}") from None


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line (records as stored).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row.")
@click.option(
    "--since",
    metavar="WHEN",
    callback=_when,
    help="Only records after WHEN: 2h, 3d, 2024-05-01T14:00.",
)
@click.option("--until", metavar="WHEN", callback=_when, help="Only records before WHEN.")
@click.option("--session", metavar="ID", help="Only records of this session.")
@click.option(
    "--decision",
    "decisions",
    multiple=True,
    type=click.Choice(DECISIONS),
    help="Only these decisions (repeatable).",
)
@click.option(
    "--min-risk",
    metavar="SCORE|LEVEL",
    callback=_risk,
    help="Only scores at least this: 60 or HIGH.",
)
@click.option(
    "--grep",
    metavar="REGEX",
    callback=_regex,
    help="Only commands matching REGEX (case-insensitive).",
)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="At most N records (0: all).",
)
@click.option(
    "--follow", "-f", is_flag=True, help="Keep printing new records as they arrive (Ctrl-C stops)."
)
@click.pass_context
def log(
    ctx: click.Context,
    as_json: bool,
    as_csv: bool,
    since: datetime | None,
    until: datetime | None,
    session: str | None,
    decisions: tuple[str, ...],
    min_risk: int | None,
    grep: re.Pattern[str] | None,
    limit: int,
    follow: bool,
) -> None:
    """Show the audit log, newest first: every decision and what changed the rules.

    The log is append-only and hash-chained; `expacti log verify` checks that nothing was
    changed. Exit codes of gated commands are shown next to their decision.

    \b
    Examples:
      expacti log
      expacti log --since 2h --decision denied
      expacti log --min-risk HIGH --grep 'psql|mysql' --limit 100
      expacti log --json --since 2024-05-01 > audit.jsonl
      expacti log --follow
      expacti log show 3f2a9c
      expacti log verify
    """
    if ctx.invoked_subcommand is not None:
        return
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    audit = _open_log()
    fmt = "json" if as_json else "csv" if as_csv else "table"
    filt = RecordFilter(since, until, session, frozenset(decisions), min_risk, grep)
    if follow:
        _follow(audit, filt, fmt, limit)
        return
    if not audit.exists():
        click.echo(f"no audit records yet (the log lives in {audit.directory})", err=fmt != "table")
        return
    rows = list(_select(audit, filt, limit))
    _warn_torn(audit)
    if fmt == "json":
        for record in rows:
            click.echo(canonical(record))
    elif fmt == "csv":
        click.echo(_csv(rows, header=True), nl=False)
    elif not rows:
        click.echo("no records match")
    else:
        _print_rows(_console(), rows)


def _select(audit: AuditLog, filt: RecordFilter, limit: int) -> Iterator[dict[str, Any]]:
    """Matching records newest first, each decision joined with its exit record."""
    exits: dict[str, dict[str, Any]] = {}
    shown = 0
    for record in audit.iter_records(reverse=True):
        if record.get("kind") == "exit":
            # Written after its decision, so a newest-first walk sees it first.
            exits.setdefault(str(record.get("decision_id")), record)
            continue
        if filt.past_since(record):
            break
        if not filt.matches(record):
            continue
        yield _joined(record, exits.get(str(record.get("id"))))
        shown += 1
        if limit and shown >= limit:
            break


def _joined(record: dict[str, Any], exit_record: dict[str, Any] | None) -> dict[str, Any]:
    if exit_record is None:
        return record
    return record | {
        "exit_code": exit_record.get("exit_code"),
        "exit_time": exit_record.get("time"),
    }


def _follow(audit: AuditLog, filt: RecordFilter, fmt: str, limit: int) -> None:
    # Like `tail -f`: the last records, oldest first, then whatever arrives. The stream's
    # start is fixed before the recent records are read, so nothing falls in between.
    stream = audit.follow()
    recent = list(_select(audit, filt, limit or 20)) if audit.exists() else []
    newest = max((r["seq"] for r in recent), default=-1)
    if fmt == "csv":
        click.echo(_csv([], header=True), nl=False)
    console = _console()
    try:
        for record in reversed(recent):
            _emit_one(console, record, fmt)
        sys.stdout.flush()
        for record in stream:
            if record["seq"] <= newest:
                continue  # already shown among the recent records
            if record.get("kind") == "exit" and fmt == "table":
                code = _esc(record.get("exit_code"))
                click.echo(
                    f"{_local(record)}  exit {code} of {_esc(record.get('decision_id'))[:8]}"
                )
            elif record.get("kind") == "exit" or filt.matches(record):
                _emit_one(console, record, fmt)
            sys.stdout.flush()
    except KeyboardInterrupt:
        return


def _emit_one(console: Console, record: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        click.echo(canonical(record))
    elif fmt == "csv":
        click.echo(_csv([record], header=False), nl=False)
    else:
        from rich.text import Text

        line = Text()
        line.append(_local(record) + "  ")
        line.append_text(_decision_text(record))
        line.append("  ")
        line.append_text(_risk_text(record))
        line.append(f"  {_esc(record.get('session'))}  {_esc(record.get('source'))}  ")
        line.append(_summary(record))
        console.print(line, soft_wrap=True)


# --- rendering -------------------------------------------------------------------------------


def _console() -> Console:
    from expacti_cli.ui.escape import console

    return console()


def _esc(value: Any) -> str:
    """Any value for a human: text escaped, None as empty."""
    if value is None:
        return ""
    return escape_for_display(
        value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    )


def _summary(record: dict[str, Any]) -> str:
    """The command of a decision, or the fields that describe any other record (escaped)."""
    if "command" in record:
        return escape_for_display(command_bytes(record))
    if isinstance(record.get("summary"), str):  # rule and config changes say what they did
        return escape_for_display(record["summary"])
    return " ".join(f"{key}={_esc(record[key])}" for key in extra_fields(record))


def _local(record: dict[str, Any]) -> str:
    moment = record_time(record)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else "?"


DECISION_LABEL = {"auto_approved_rule": "auto:rule", "auto_approved_threshold": "auto:score"}
HEADERS = ("ID", "TIME", "DECISION", "RISK", "SESSION", "SOURCE", "EXIT")
MIN_COMMAND_WIDTH = 24


def _decision_text(record: dict[str, Any]) -> Text:
    from rich.text import Text

    decision = record.get("decision")
    if isinstance(decision, str):
        label = DECISION_LABEL.get(decision, decision.replace("_", " "))
        return Text(escape_for_display(label), style=DECISION_STYLE.get(decision, ""))
    return Text(escape_for_display(str(record.get("kind", "?"))), style="dim")


def _risk_text(record: dict[str, Any]) -> Text:
    from rich.text import Text

    level, score = record.get("level"), record.get("score")
    if score is None and level is None:
        return Text("")
    label = f"{_esc(level)} {_esc(score)}".strip()
    return Text(label, style=LEVEL_STYLE.get(str(level), ""))


def _meta_cells(record: dict[str, Any]) -> list[Text]:
    from rich.text import Text

    exit_code = record.get("exit_code")
    return [
        Text(_esc(record.get("id"))[:8], style="dim"),
        Text(_local(record)),
        _decision_text(record),
        _risk_text(record),
        Text(_esc(record.get("session"))[:12]),  # an id: the prefix is enough, `show` has it all
        Text(_esc(record.get("source"))),
        Text("" if exit_code is None else _esc(exit_code)),
    ]


def _print_rows(console: Console, rows: list[dict[str, Any]]) -> None:
    """A table when the command column gets a useful width, else one block per record.

    The command is never cut: rich crops a table wider than the terminal, so the command
    column gets exactly the width that is left and folds within it.
    """
    from rich.table import Table
    from rich.text import Text

    cells = [_meta_cells(record) for record in rows]
    widths = [
        max([len(header)] + [row[i].cell_len for row in cells]) for i, header in enumerate(HEADERS)
    ]
    command_width = console.width - sum(widths) - 2 * len(widths)
    if command_width < MIN_COMMAND_WIDTH:
        for record, row in zip(rows, cells, strict=True):
            console.print(Text("  ").join(cell for cell in row if cell.plain), soft_wrap=True)
            console.print(Text("    ") + Text(_summary(record)), soft_wrap=True)
        return
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
    for header, width in zip(HEADERS, widths, strict=True):
        table.add_column(header, width=width, no_wrap=True)
    table.add_column("COMMAND", width=command_width, overflow="fold")
    for record, row in zip(rows, cells, strict=True):
        table.add_row(*row, Text(_summary(record)))
    console.print(table)


def _csv(rows: Iterable[dict[str, Any]], *, header: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(CSV_FIELDS)
    for record in rows:
        # CSV ends up in spreadsheets and terminals: escaped like every other view.
        writer.writerow(
            [
                _summary(record) if name == "command" else _esc(record.get(name))
                for name in CSV_FIELDS
            ]
        )
    return out.getvalue()


def _warn_torn(audit: AuditLog) -> None:
    torn = audit.torn_tail()
    if torn is not None:
        click.secho(
            f"warning: {torn.path} line {torn.line} is incomplete ({len(torn.data)} bytes; a crash "
            "while writing?). It is kept; the next record or `expacti log repair` marks it.",
            err=True,
            fg="yellow",
        )


# --- subcommands -----------------------------------------------------------------------------


@log.command("show")
@click.argument("record_id", metavar="ID")
@click.option(
    "--json", "as_json", is_flag=True, help="The record as stored, with its exit code joined."
)
def show(record_id: str, as_json: bool) -> None:
    """Show every field of one record (ID or a unique prefix of it).

    \b
    Examples:
      expacti log show 3f2a9c
      expacti log show 3f2a9c --json
    """
    from expacti_cli.errors import InputError

    audit = _open_log()
    record = audit.get(record_id)
    if record is None:
        raise InputError(f"no audit record with id {record_id!r}")
    if record.get("kind") == "decision":
        record = _joined(record, audit.exit_for(str(record["id"])))
    if as_json:
        click.echo(canonical(record))
        return
    for key, value in _show_rows(record):
        label = f"{key}:" if key else ""
        click.echo(f"{label:<14}{value}")


def _show_rows(record: dict[str, Any]) -> Iterator[tuple[str, str]]:
    keys = [k for k in SHOW_ORDER if k in record or k == "exit_code"]
    chain = ["prev_hash", "hash"]  # last: they matter to `verify`, not to a reader
    keys += [
        k
        for k in sorted(record)
        if k not in SHOW_ORDER and k not in chain and k != "exit_time" and not k.endswith("_b64")
    ]
    keys += [k for k in chain if k in record]
    for key in keys:
        value = record.get(key)
        if key == "command":
            exact = command_bytes(record)
            note = ""
            if "command_b64" in record:
                note = f"   ({len(exact)} bytes, not plain UTF-8 text: exact bytes in command_b64)"
            yield key, escape_for_display(exact) + note
        elif key == "cwd":
            yield key, escape_for_display(decode_lossless(record, "cwd") or b"")
        elif key == "exit_code" and record.get("kind") == "decision":
            if value is None:
                yield key, "not recorded"
            else:
                yield key, f"{_esc(value)}   (recorded {_esc(record.get('exit_time'))})"
        elif key == "exit_code" and value is None:
            continue
        elif isinstance(value, list):
            yield key, ("" if value else "-")
            for item in value:
                yield "", "  " + _esc(item)
        else:
            yield key, "-" if value is None else _esc(value)


@log.command("verify")
@click.option("--json", "as_json", is_flag=True, help="The result as one JSON object.")
@click.pass_context
def verify(ctx: click.Context, as_json: bool) -> None:
    """Recompute the whole hash chain; exit 1 and name the first bad line if it is broken.

    Catches any changed, removed, added or reordered record, a torn last line, and a head
    file that disagrees with the end of the log. It cannot catch a log rewritten from
    scratch by someone who can write the files (see docs/architecture.md).

    \b
    Examples:
      expacti log verify
      expacti log verify --json
    """
    audit = _open_log()
    result = _verify_with_progress(audit, show_bar=not as_json)
    if as_json:
        payload = {
            "ok": result.ok,
            "count": result.count,
            "first_bad_line": result.first_bad_line,
            "path": str(result.path) if result.path else None,
            "message": result.message,
            "torn_tail": result.torn_tail,
            "recovered": result.recovered,
        }
        click.echo(json.dumps(payload, sort_keys=True))
    elif result.ok:
        click.echo(result.message)
    else:
        where = f"{result.path}: " if result.path else ""
        click.secho(f"audit log verification FAILED: {where}{result.message}", err=True, fg="red")
        click.echo(f"{result.count:,} records verified before the problem", err=True)
    ctx.exit(0 if result.ok else 1)


def _verify_with_progress(audit: AuditLog, *, show_bar: bool) -> Any:
    total = sum(path.stat().st_size for path in audit.segments()) if audit.directory.is_dir() else 0
    err_console = None
    if show_bar and total >= PROGRESS_MIN_BYTES:
        from expacti_cli.ui.escape import console

        err_console = console(stderr=True)
    if err_console is None or not err_console.is_terminal:
        return audit.verify()
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

    columns = ("verifying", BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("verify", total=total)
        return audit.verify(progress=lambda done, _total: bar.update(task, completed=done))


@log.command("repair")
def repair() -> None:
    """Make the log writable again after a crash, losing nothing.

    A torn last line is kept and marked by a new record; a missing or mismatching head file
    is reset, and the reset is recorded. Changed or removed records are not "repaired":
    `expacti log verify` keeps reporting them.

    \b
    Example:
      expacti log repair && expacti log verify
    """
    done = _open_log().repair()
    if not done:
        click.echo("nothing to repair")
    for line in done:
        click.echo(escape_for_display(line))
