"""`expacti score`: the risk of a command (or a file of commands), with its reasons.

With --explain the command is also compared with the user's audit history by the anomaly
engine, as the broker would compare it now (cwd, EXPACTI_SESSION, the clock).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

import click

from expacti_cli.errors import ExitStatus, InputError

if TYPE_CHECKING:
    from rich.console import Console

    from expacti_cli.learn.anomaly import Findings
    from expacti_cli.risk.model import RiskSettings, Score

LEVEL_STYLES = {
    "LOW": "green",
    "MEDIUM": "yellow",
    "HIGH": "bold red",
    "CRITICAL": "bold white on red",
}
REASON_WIDTH = 45


def _max_command_bytes() -> int:
    from expacti_cli.analysis import MAX_COMMAND_BYTES

    return MAX_COMMAND_BYTES


def _check_size(command: str, limit: int) -> None:
    size = len(command.encode("utf-8", "surrogateescape"))
    if size > limit:
        raise InputError(
            f"command refused: {size:,} bytes is over the {limit:,}-byte limit "
            f"({limit // (1 << 20)} MiB); nothing was scored"
        )


def _settings() -> RiskSettings:
    from expacti_cli.config import load_config

    return load_config().risk


ANOMALY_CHECKS = {
    "off_hours": "the time of day (or of the week) is rare in your own history",
    "burst": "far more commands in the last minute than the session's own rate",
    "new_program": "a program that never ran before",
    "new_production_target": "a production target no command ran against before",
    "unlike_history": "far (token similarity) from every past command of the same program",
}


def _explain_data() -> dict[str, list[dict[str, Any]]]:
    from expacti_cli.learn.anomaly import MAX_ANOMALY_POINTS, POINTS
    from expacti_cli.risk import CATEGORIES, MODIFIERS

    return {
        "categories": [
            {
                "name": c.name,
                "label": c.label,
                "points": "{}-{}".format(*c.points_range),
                "description": c.description,
                "bases": [{"what": what, "points": points} for what, points in c.examples],
            }
            for c in CATEGORIES
        ],
        "modifiers": [
            {"name": m.code, "label": m.label, "points": m.points, "description": m.description}
            for m in MODIFIERS
        ],
        "anomalies": [
            {
                "name": name,
                "points": f"+{POINTS[name]} (at most +{MAX_ANOMALY_POINTS} in all)",
                "description": description,
            }
            for name, description in ANOMALY_CHECKS.items()
        ],
    }


def _judge_history(text: str, score: Score) -> tuple[Score, Findings]:
    """The score with what the anomaly engine finds against the audit history right now."""
    import os

    from expacti_cli.analysis import analyze
    from expacti_cli.broker.gate import judge_history
    from expacti_cli.learn.anomaly import apply_findings
    from expacti_cli.learn.profile import current_time

    findings = judge_history(
        analyze(text), score, now=current_time(), session=os.environ.get("EXPACTI_SESSION", "")
    )
    return apply_findings(score, findings), findings


def _render_score(out: Console, score: Score, *, show_command: bool) -> None:
    from rich.text import Text

    from expacti_cli.ui.escape import escape_for_display

    if show_command:
        out.print(Text("$ ") + Text(escape_for_display(score.command)), soft_wrap=True)
    line = Text(f"{score.level.value} {score.score}", style=LEVEL_STYLES[score.level.value])
    line.append("  " + escape_for_display(score.summary))
    out.print(line, soft_wrap=True)
    for reason in score.reasons:
        text = escape_for_display(reason.text)
        pad = " " * max(2, REASON_WIDTH + 1 - len(text))
        out.print(Text(f"  + {text}{pad}{reason.points:+d}"), soft_wrap=True)
    if len(score.parts) > 1:
        out.print(Text("  parts:"), soft_wrap=True)
        for part in score.parts:
            level = score.level.of(part.score).value
            row = Text(f"    {part.index + 1:>2}  ")
            row.append(f"{level} {part.score:<3}", style=LEVEL_STYLES[level])
            row.append("  " + escape_for_display(part.text))
            out.print(row, soft_wrap=True)


def _render_explain(out: Console) -> None:
    from rich.text import Text

    data = _explain_data()
    out.print(
        Text(f"\n{len(data['categories'])} categories (base points):", style="bold"), soft_wrap=True
    )
    for c in data["categories"]:
        out.print(Text(f"  {c['label']:<20}{c['points']:>7}  {c['description']}"), soft_wrap=True)
        for base in c["bases"]:
            out.print(
                Text(f"      {base['points']:>3}  {base['what']}", style="dim"), soft_wrap=True
            )
    out.print(Text(f"\n{len(data['modifiers'])} modifiers:", style="bold"), soft_wrap=True)
    for m in data["modifiers"]:
        out.print(Text(f"  {m['label']:<20}{m['points']:<36}{m['description']}"), soft_wrap=True)
    checks = data["anomalies"]
    out.print(Text(f"\n{len(checks)} anomaly checks (against your history):", style="bold"))
    for a in checks:
        out.print(Text(f"  {a['name']:<24}{a['points']:<32}{a['description']}"), soft_wrap=True)


def _render_history(out: Console, findings: Findings) -> None:
    from rich.text import Text

    if findings.anomalies:
        line = f"{len(findings.anomalies)} anomal{'y' if len(findings.anomalies) == 1 else 'ies'}"
        style = "bold yellow"
    else:
        line, style = "no anomalies", "green"
    out.print(
        Text(f"history: {findings.history} past commands; ") + Text(line, style=style),
        soft_wrap=True,
    )


def _batch_lines(source: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Numbered non-empty lines, decoded losslessly (invalid UTF-8 survives as surrogates)."""
    for number, raw in enumerate(source, start=1):
        line = raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "surrogateescape")
        if line.strip():
            yield number, line


def _run_batch(path: str, as_json: bool, settings: RiskSettings, limit: int) -> bool:
    """Score every line; True when every line could be scored."""
    from expacti_cli.risk import score_command
    from expacti_cli.ui.escape import console

    out = None if as_json else console()
    ok = True
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    with stream:
        for number, line in _batch_lines(stream):
            try:
                _check_size(line, limit)
            except InputError as exc:
                ok = False
                error = {"line": number, "error": str(exc), "command": None}
                if out is None:
                    click.echo(json.dumps(error))
                else:
                    click.echo(f"expacti: line {number}: {exc}", err=True)
                continue
            score = score_command(line, settings)
            if out is None:
                click.echo(json.dumps({"line": number, **score.to_json()}))
            else:
                _render_score(out, score, show_command=True)
    return ok


@click.command()
@click.argument("command", nargs=-1)
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (one object per line with --batch)."
)
@click.option(
    "--explain",
    is_flag=True,
    help="Also compare COMMAND with your history (anomalies) and list every category, "
    "modifier and anomaly check with its points.",
)
@click.option(
    "--batch",
    "batch",
    metavar="FILE|-",
    help="Score each line of FILE (- for stdin) instead of COMMAND.",
)
@click.pass_context
def score(
    ctx: click.Context, command: tuple[str, ...], as_json: bool, explain: bool, batch: str | None
) -> None:
    """Score a command's risk from 0 to 100 and say why.

    COMMAND is the command line as the agent would run it; quote it as one argument (several
    arguments are joined with spaces). Levels: LOW 0-29, MEDIUM 30-59, HIGH 60-84,
    CRITICAL 85-100. Commands over 1 MiB are refused. In batch mode each line is scored on its
    own; a refused line gets an error object and the exit status is 1.

    \b
    Examples:
      expacti score 'psql prod -c "UPDATE users SET plan = 1 WHERE id = 42"'
      expacti score --json 'npm test && rm -rf ~'
      expacti score --explain 'git push origin main'   # with anomalies from history
      expacti score --json --batch commands.txt
      history | cut -c8- | expacti score --json --batch -
    """
    if batch is not None and command:
        raise click.UsageError("give either COMMAND or --batch, not both")
    if batch is None and not command and not explain:
        raise click.UsageError("missing COMMAND (or --batch FILE, or --explain)")
    limit = _max_command_bytes()
    if batch is not None:
        if not _run_batch(batch, as_json, _settings(), limit):
            ctx.exit(ExitStatus.ERROR)
        return

    result = None
    if command:
        text = " ".join(command)
        _check_size(text, limit)
        from expacti_cli.risk import score_command

        result = score_command(text, _settings())
    findings = None
    if explain and result is not None:
        result, findings = _judge_history(text, result)
    if as_json:
        data: dict[str, Any] = result.to_json() if result is not None else {}
        if findings is not None:
            data["anomalies"] = [
                {"code": a.code, "text": a.text, "points": a.points} for a in findings.anomalies
            ]
            data["history"] = {"commands": findings.history, "notes": list(findings.notes)}
        if explain:
            data["explain"] = _explain_data()
        click.echo(json.dumps(data))
        return
    from expacti_cli.ui.escape import console

    out = console()
    if result is not None:
        _render_score(out, result, show_command=False)
    if findings is not None:
        _render_history(out, findings)
    if explain:
        _render_explain(out)
