"""`expacti stats`: how much of an agent's work passed without a human, and what did not.

Reads the audit log newest first and stops once it is past the period it reports on, so the
cost follows the period, not the size of the log; records are counted as they stream by
(expacti_cli.learn.stats) and never held. Rule ids, patterns and sessions came from users or
agents: they are shown through `escape_for_display`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from expacti_cli.learn.stats import (
    UNUSED_DAYS,
    Stats,
    StatsBuilder,
    Window,
    parse_time,
)
from expacti_cli.ui.escape import escape_for_display

if TYPE_CHECKING:
    from rich.console import Console

    from expacti_cli.matching import Rule
    from expacti_cli.store.audit import AuditLog

PROGRESS_MIN_BYTES = 8 * 1024 * 1024  # smaller logs are read before a bar could draw
PROGRESS_EVERY = 4096  # records between progress updates
# Records are written in time order; this much slack keeps a small clock step back from
# ending the newest-first scan too early (as `log --since` does).
CLOCK_SLACK = timedelta(minutes=10)
CHART_WIDTH = 40
BAR = {"auto": "█", "asked": "▒", "denied": "░"}
BAR_STYLE = {"auto": "green", "asked": "yellow", "denied": "red"}
# outcome -> (label, note)
OUTCOME_LABEL = {
    "auto_rule": ("auto-approved by a rule", ""),
    "auto_threshold": ("auto-approved: low risk", "(below auto_approve_below)"),
    "approved_human": ("approved by a human", ""),
    "timed_out_approved": ("ran after a timeout", "(on_timeout = approve)"),
    "withdrawn": ("withdrawn", "(the agent stopped waiting)"),
    "denied_human": ("denied by a human", ""),
    "timed_out_denied": ("denied: no answer in time", ""),
    "denied_rule": ("denied by a rule", ""),
    "denied_other": ("denied: other", "(no decision possible: error, broker stopped)"),
}

JSON_HELP = """\b
JSON keys (--json; "version" changes if they ever do):
  version, now, since, days, session, total
  passed_without_human  {count, share}      share is a fraction 0-1
  groups / shares       {auto, asked, denied}: every command is in exactly one
  outcomes / outcome_shares  auto_rule, auto_threshold, approved_human,
                        timed_out_approved, withdrawn, denied_human,
                        timed_out_denied, denied_rule, denied_other
  asked                 {count, share}: requests that waited for a human
  denied_by             {rule, human, timeout, other}
  review                {decisions, median_ms, p90_ms}: human decisions only
  top_rules             [{id, hits, exists, action, kind, pattern, scope,
                        hits_total, last_used, created_at}]
  unused_rules          {days, rules: [{id, action, kind, pattern, ...}]}
  per_day               [{date, auto, asked, denied, total}], oldest first
  excluded              {plumbing, carried}: decisions not counted as commands
"""


def _now_option(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    moment = parse_time(value)
    if moment is None:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}")
    return moment


@click.command(epilog=JSON_HELP)
@click.option(
    "--days",
    type=click.IntRange(min=1, max=3660),
    default=14,
    show_default=True,
    help="Report on the last N days (today included).",
)
@click.option("--session", metavar="ID", help="Only commands of this session.")
@click.option(
    "--top",
    type=click.IntRange(min=0, max=1000),
    default=10,
    show_default=True,
    help="Show this many rules in the top rules.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (keys below).")
@click.option("--now", "now", hidden=True, callback=_now_option, help="Report as of this time.")
def stats(days: int, session: str | None, top: int, as_json: bool, now: datetime) -> None:
    """Show how many commands passed without a human, and where the friction is.

    Counts every gated command of the period by what happened to it: auto-approved (by a
    rule or below the risk threshold), asked (a human approved it, or nobody answered), or
    denied (by a rule, a human or the timeout); the median time a human took to decide;
    the rules that did the most work; allow rules unused for 30 days (candidates for
    `expacti whitelist rm`); and a chart per day.

    \b
    Examples:
      expacti stats
      expacti stats --days 30
      expacti stats --session 3f2a9c --json | jq .passed_without_human.share
    """
    from expacti_cli.store.audit import AuditLog
    from expacti_cli.store.rules import RulesStore

    audit = AuditLog.open()
    builder = StatsBuilder(Window(now=now, days=days), session=session)
    empty = not audit.exists()
    if not empty:
        _read(audit, builder, progress=not as_json)
    result = builder.result(RulesStore().list(), top=top)
    if as_json:
        click.echo(json.dumps(result.to_json(), sort_keys=True))
        return
    if empty:
        click.echo(f"no audit records yet (the log lives in {audit.directory}): nothing to count")
        return
    _warn_torn(audit)
    _print(_console(), result)


def _read(audit: AuditLog, builder: StatsBuilder, *, progress: bool) -> None:
    """Stream the log newest first into `builder`, stopping once past what it needs."""
    with _progress(audit, builder.window, enabled=progress) as tick:
        for count, record in enumerate(audit.iter_records(reverse=True), start=1):
            moment = parse_time(record.get("time"))
            if builder.past_scan(moment, CLOCK_SLACK):
                break
            builder.add(record, moment)
            if count % PROGRESS_EVERY == 0:
                tick(moment, count)


@contextmanager
def _progress(audit: AuditLog, window: Window, *, enabled: bool) -> Iterator[Any]:
    """A bar on stderr for a big log on a terminal; it measures how far back in time the walk is."""

    def nothing(moment: datetime | None, count: int) -> None:
        return None

    size = sum(path.stat().st_size for path in audit.segments()) if enabled else 0
    err_console = None
    if size >= PROGRESS_MIN_BYTES:
        from expacti_cli.ui.escape import console

        err_console = console(stderr=True)
    if err_console is None or not err_console.is_terminal:
        yield nothing
        return
    from rich.progress import BarColumn, Progress, TextColumn

    span = max((window.now - window.scan_since).total_seconds(), 1.0)
    columns = (
        TextColumn("reading the audit log"),
        BarColumn(),
        TextColumn("{task.fields[records]:,} records"),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("stats", total=span, records=0)

        def tick(moment: datetime | None, count: int) -> None:
            done = span if moment is None else (window.now - moment).total_seconds()
            bar.update(task, completed=min(max(done, 0.0), span), records=count)

        yield tick


def _warn_torn(audit: AuditLog) -> None:
    torn = audit.torn_tail()
    if torn is not None:
        click.secho(
            f"warning: {torn.path} line {torn.line} is incomplete (a crash while writing?); "
            "it is not counted. `expacti log repair` marks it.",
            err=True,
            fg="yellow",
        )


# --- rendering -------------------------------------------------------------------------------


def _console() -> Console:
    from expacti_cli.ui.escape import console

    return console()


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def _duration(ms: int | None) -> str:
    """12 s, 3 min 05 s, 2 h 10 min: review times at a glance."""
    if ms is None:
        return "-"
    seconds = round(ms / 1000)
    if seconds < 60:
        return f"{ms / 1000:.1f} s" if ms < 10_000 else f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _day(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d") if moment else "never"


def _print(console: Console, result: Stats) -> None:
    from rich.text import Text

    window = result.window
    title = f"last {window.days} day{'s' if window.days != 1 else ''}"
    title += f" ({window.first_day.isoformat()} to {window.last_day.isoformat()})"
    if result.session is not None:
        title += f", session {escape_for_display(result.session)}"
    console.print(Text(f"expacti stats: {title}", style="bold"))
    console.print()
    if result.total == 0:
        console.print("no gated commands in this period")
    else:
        _print_outcomes(console, result)
    _print_excluded(console, result)
    _print_top_rules(console, result)
    _print_unused(console, result)
    if result.total:
        _print_chart(console, result)


def _print_outcomes(console: Console, result: Stats) -> None:
    from rich.table import Table
    from rich.text import Text

    auto = result.group("auto")
    headline = Text(_percent(result.share(auto)), style="bold green")
    headline.append(" of commands passed without a human", style="bold")
    headline.append(f"  ({auto:,} of {result.total:,})")
    console.print(headline)
    console.print()
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column("what", no_wrap=True)
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("note", overflow="fold")
    for outcome, count in result.counts.items():
        if count:
            label, note = OUTCOME_LABEL[outcome]
            table.add_row(label, f"{count:,}", _percent(result.share(count)), note)
    table.add_row()
    asked, denied = result.reached_human, result.group("denied")
    denied_by = ", ".join(
        f"{label} {result.counts[key]:,}"
        for label, key in (
            ("rule", "denied_rule"),
            ("human", "denied_human"),
            ("timeout", "timed_out_denied"),
            ("other", "denied_other"),
        )
        if result.counts[key]
    )
    table.add_row("asked a human", f"{asked:,}", _percent(result.share(asked)), "")
    table.add_row(
        "denied",
        f"{denied:,}",
        _percent(result.share(denied)),
        f"({denied_by})" if denied_by else "",
    )
    decisions = len(result.review_times_ms)
    if decisions:
        plural = "s" if decisions != 1 else ""
        note = f"(p90 {_duration(result.p90_review_ms)}, {decisions:,} human decision{plural})"
        table.add_row("median review time", _duration(result.median_review_ms), "", note)
    else:
        table.add_row("median review time", "-", "", "(no human decisions)")
    console.print(table)


def _print_excluded(console: Console, result: Stats) -> None:
    plumbing, carried = result.excluded["plumbing"], result.excluded["carried"]
    notes = []
    if plumbing:
        notes.append(f"{plumbing:,} agent plumbing call{'s' if plumbing != 1 else ''}")
    if carried:
        notes.append(f"{carried:,} hook approval{'s' if carried != 1 else ''} carried to the shell")
    if notes:
        console.print(f"not counted as commands: {', '.join(notes)}", style="dim")


def _rule_text(rule: Rule | None) -> str:
    if rule is None:
        return "(rule removed since)"
    text = f"{rule.action.value} {rule.kind.value} {rule.pattern!r}"
    if rule.scope:
        text += f" in {rule.scope}"
    return escape_for_display(text)


def _print_top_rules(console: Console, result: Stats) -> None:
    from rich.table import Table

    console.print()
    console.print("Top rules (decisions in this period)", style="bold")
    if not result.top_rules:
        console.print("  no rule decided a command in this period")
        return
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
    for header, justify in (("ID", "left"), ("HITS", "right"), ("EVER", "right")):
        table.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("LAST USED", no_wrap=True)
    table.add_column("RULE", overflow="fold")
    for use in result.top_rules:
        rule = use.rule
        table.add_row(
            escape_for_display(use.id),
            f"{use.hits:,}",
            f"{rule.hits:,}" if rule else "-",
            _day(rule.last_used) if rule else "-",
            _rule_text(rule),
        )
    console.print(table)


def _print_unused(console: Console, result: Stats) -> None:
    from rich.table import Table

    console.print()
    console.print(
        f"Allow rules unused for {UNUSED_DAYS} days (remove with `expacti whitelist rm ID`)",
        style="bold",
    )
    if not result.unused_rules:
        console.print("  none")
        return
    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
    for header in ("ID", "LAST USED", "ADDED"):
        table.add_column(header, no_wrap=True)
    table.add_column("RULE", overflow="fold")
    for rule in result.unused_rules:
        table.add_row(
            escape_for_display(rule.id),
            _day(rule.last_used),
            _day(rule.created_at) if rule.created_at else "?",
            _rule_text(rule),
        )
    console.print(table)


def bar_cells(counts: dict[str, int], scale: float) -> dict[str, int]:
    """Cells per segment of one day's bar; a segment that is not zero gets at least one."""
    return {name: max(1, round(n * scale)) if n else 0 for name, n in counts.items()}


def _print_chart(console: Console, result: Stats) -> None:
    from rich.text import Text

    console.print()
    legend = Text("Per day  ", style="bold")
    for name in ("auto", "asked", "denied"):
        legend.append(BAR[name], style=BAR_STYLE[name])
        legend.append(f" {name}  ")
    console.print(legend)
    busiest = max(day.total for day in result.per_day)
    scale = CHART_WIDTH / busiest if busiest else 0.0
    for day in result.per_day:
        line = Text(day.day.strftime("%a %m-%d  "))
        cells = bar_cells({"auto": day.auto, "asked": day.asked, "denied": day.denied}, scale)
        for name, width in cells.items():
            line.append(BAR[name] * width, style=BAR_STYLE[name])
        pad = max(0, CHART_WIDTH + 3 - sum(cells.values()))
        line.append(" " * pad + f"{day.total:>6,}")
        console.print(line)
