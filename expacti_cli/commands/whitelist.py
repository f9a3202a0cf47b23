"""`expacti whitelist list|add|rm|test`: manage allow/deny rules and try commands against them."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from expacti_cli.errors import ExitStatus, InputError
from expacti_cli.matching import (
    Rule,
    RuleAction,
    RuleKind,
    RulePatternError,
    too_broad,
    validate_pattern,
)
from expacti_cli.ui.escape import escape_for_display

if TYPE_CHECKING:
    from expacti_cli.policy import Decision
    from expacti_cli.risk.model import Score
    from expacti_cli.store.rules import RulesStore

_TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TTL_RE = re.compile(r"(\d+)\s*([smhdw])")


def parse_ttl(text: str) -> timedelta:
    """`7d`, `12h`, `30m`, `1w`, `1d12h` -> timedelta (raises InputError)."""
    compact = text.strip().lower()
    parts = _TTL_RE.findall(compact)
    if not compact or _TTL_RE.sub("", compact).strip():
        raise InputError(f"bad --ttl {text!r}: use a number and a unit, e.g. 30m, 12h, 7d, 2w")
    seconds = sum(int(n) * _TTL_UNITS[unit] for n, unit in parts)
    if seconds <= 0:
        raise InputError(f"bad --ttl {text!r}: it must be longer than zero")
    return timedelta(seconds=seconds)


def rule_creator() -> str:
    """Who adds a rule: config `reviewer`, else `git config user.email`, else `$USER@host`."""
    import getpass
    import socket
    import subprocess

    from expacti_cli.config import load_config

    try:
        reviewer = str(load_config().reviewer).strip()
    except Exception:  # a broken config must not stop a rule change; `config show` reports it
        reviewer = ""
    if reviewer:
        return reviewer
    try:
        email = subprocess.run(
            ["git", "config", "user.email"], capture_output=True, text=True, timeout=3
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        email = ""
    if email:
        return email
    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def audit_rule_change(
    kind: str, rule: Rule, actor: str, *, extra: dict[str, Any] | None = None
) -> None:
    """Record a rule change in the audit log; errors writing it propagate (a rule change that
    cannot be audited is undone by the caller). `extra`: more fields for the record."""
    from expacti_cli.store.audit import AuditLog
    from expacti_cli.store.rules import rule_to_doc

    AuditLog.open().append(
        {
            **(extra or {}),
            "kind": kind,
            "source": "cli",
            "reviewer": actor,
            "rule_id": rule.id,
            "rule": rule_to_doc(rule),
            "summary": f"{kind.replace('_', ' ')}: {rule.describe()} ({rule.id})",
        }
    )


def _store() -> RulesStore:
    from expacti_cli.store.rules import RulesStore

    return RulesStore()


def _show(text: str) -> str:
    return escape_for_display(text)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def _rule_json(rule: Rule, now: datetime) -> dict[str, Any]:
    from expacti_cli.store.rules import rule_to_doc

    return {**rule_to_doc(rule), "expired": rule.is_expired(now)}


@click.group()
def whitelist() -> None:
    """Manage allow/deny rules and test commands against them.

    A command is allowed by rules only if every part of it (`a && b`, `a | b`, ...) is allowed
    and no part, even one nested in `bash -c` or `$(...)`, is denied. Deny wins.

    \b
    Rule kinds:
      exact   the part (or the whole line) is exactly the pattern (default)
      prefix  the command's words start with the pattern's words: `git log` never
              matches `git logout`
      glob    one pattern word per command word; `*` does not cross `/`, `**` does;
              a lone `*` is exactly one argument and never an option
      regex   a regular expression matching the part's whole text; it must name the
              program (`(npm|yarn) install .*`, not `\\S+ install .*`)
    Commands with substitution, eval, obfuscation, nested commands or a file-writing
    redirect are only ever allowed by an exact rule. Deny rules look through sudo, env,
    timeout, xargs...; `--deny --kind prefix 'rm -rf'` also catches `rm -r -f`, `rm -fr`.

    \b
    Examples:
      expacti whitelist add 'npm test'
      expacti whitelist add --kind prefix 'git log'
      expacti whitelist add --deny --kind prefix 'rm -rf'
      expacti whitelist test 'npm test && rm -rf ~'
      expacti whitelist list
      expacti whitelist rm 3f2a
      expacti whitelist suggest
    """


@whitelist.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of rules.")
@click.option("--all", "show_all", is_flag=True, help="Include expired rules.")
def list_rules(as_json: bool, show_all: bool) -> None:
    """List the rules, oldest first (expired ones only with --all).

    \b
    Examples:
      expacti whitelist list
      expacti whitelist list --all --json
    """
    now = datetime.now(UTC)
    rules = _store().list()
    shown = [r for r in rules if show_all or not r.is_expired(now)]
    hidden = len(rules) - len(shown)
    if as_json:
        click.echo(json.dumps([_rule_json(r, now) for r in shown], sort_keys=True))
        return
    from rich.table import Table

    from expacti_cli.ui.escape import console

    out = console()
    if not shown:
        out.print("no rules yet: add one with `expacti whitelist add PATTERN`", markup=False)
    else:
        table = Table(show_edge=False, pad_edge=False)
        for name in ("id", "action", "kind", "pattern", "scope", "expires", "hits", "last used"):
            table.add_column(name, overflow="fold", no_wrap=name not in ("pattern", "scope"))
        table.add_column("note", overflow="fold")
        for r in shown:
            expires = "expired" if r.is_expired(now) else _when(r.expires_at)
            table.add_row(
                r.id,
                r.action.value,
                r.kind.value,
                _show(r.pattern),
                _show(r.scope) or "-",
                expires,
                str(r.hits),
                _when(r.last_used),
                _show(r.note),
                style="red" if r.action is RuleAction.DENY else None,
            )
        out.print(table)
    if hidden:
        noun = "rule" if hidden == 1 else "rules"
        out.print(f"{hidden} expired {noun} hidden (--all shows them)", markup=False)


@whitelist.command("add")
@click.argument("pattern")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in RuleKind]),
    default=RuleKind.EXACT.value,
    show_default=True,
    help="How PATTERN matches a command.",
)
@click.option("--deny", is_flag=True, help="A deny rule: matching commands are refused.")
@click.option(
    "--scope", type=click.Path(file_okay=False), help="Apply only when cwd is inside DIR."
)
@click.option("--ttl", help="Expire after this long: 30m, 12h, 7d, 2w.")
@click.option("--note", default="", help="Why this rule exists.")
@click.option("--force", is_flag=True, help="Add an allow rule even if it covers a shell, sudo...")
@click.option("--json", "as_json", is_flag=True, help="Print the stored rule as JSON.")
def add(
    pattern: str,
    kind: str,
    deny: bool,
    scope: str | None,
    ttl: str | None,
    note: str,
    force: bool,
    as_json: bool,
) -> None:
    """Add a rule for PATTERN (an exact allow rule unless told otherwise).

    An allow rule that would cover a shell, an interpreter, sudo, xargs, npx or eval (for
    example `--kind prefix bash`) lets the agent run anything: it is refused unless --force.

    \b
    Examples:
      expacti whitelist add 'npm test'
      expacti whitelist add --kind prefix 'git log' --note 'read-only history'
      expacti whitelist add --kind glob 'git checkout feature/*'
      expacti whitelist add --kind regex 'pytest( -[qx])*( tests/\\S+)?'
      expacti whitelist add --scope ~/src/app --ttl 7d 'make deploy-staging'
      expacti whitelist add --deny --kind prefix 'terraform destroy'
    """
    rule_kind = RuleKind(kind)
    action = RuleAction.DENY if deny else RuleAction.ALLOW
    try:
        validate_pattern(rule_kind, pattern)
    except RulePatternError as exc:
        raise InputError(f"bad {rule_kind.value} pattern {_show(pattern)!r}: {exc}") from None
    now = datetime.now(UTC)
    rule = Rule(
        id="",
        pattern=pattern if rule_kind is RuleKind.REGEX else pattern.strip(),
        kind=rule_kind,
        action=action,
        scope=str(Path(scope).expanduser().resolve()) if scope else "",
        expires_at=now + parse_ttl(ttl) if ttl else None,
        note=note,
        created_at=now,
        source="manual",
    )
    why = too_broad(rule)
    if why and not force:
        raise InputError(
            f"refusing to add {_show(rule.describe())}: {why}, so it would let any command run. "
            "Use an exact rule, a narrower pattern, or --force if you really mean it."
        )
    rule = replace(rule, creator=rule_creator())
    store = _store()
    stored, created = store.add(rule)
    if created:
        try:
            audit_rule_change("rule_added", stored, stored.creator)
        except Exception:
            store.remove(stored.id)  # an unaudited rule must not stay in force
            raise
    if as_json:
        click.echo(json.dumps({**_rule_json(stored, now), "created": created}, sort_keys=True))
        return
    if why:
        click.echo(f"warning: {why}", err=True)
    if stored.action is RuleAction.ALLOW and stored.kind is RuleKind.EXACT and _unparsable(stored):
        click.echo(
            "warning: this command cannot be parsed, and an unparsed command is never allowed "
            "by a rule: a human will still be asked",
            err=True,
        )
    verb = "added" if created else "already present as"
    expires = f", expires {_when(stored.expires_at)} UTC" if stored.expires_at else ""
    click.echo(f"{verb} {stored.id}: {_show(stored.describe())}{expires}")


def _unparsable(rule: Rule) -> bool:
    from expacti_cli.analysis import analyze  # type: ignore[attr-defined,unused-ignore]

    return bool(analyze(rule.pattern).unparsed)


@whitelist.command("rm")
@click.argument("rule_id")
def remove(rule_id: str) -> None:
    """Remove the rule RULE_ID (a unique prefix of the id is enough).

    \b
    Examples:
      expacti whitelist rm 3f2a1b9c
      expacti whitelist rm 3f2
    """
    store = _store()
    rule = store.remove(rule_id)
    audit_rule_change("rule_removed", rule, rule_creator())
    click.echo(f"removed {rule.id}: {_show(rule.describe())}")


@whitelist.command("test")
@click.argument("command")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as one JSON object.")
@click.option(
    "--cwd",
    type=click.Path(file_okay=False),
    help="Pretend the command runs in DIR (for scoped rules). Default: the current directory.",
)
@click.pass_context
def test(ctx: click.Context, command: str, as_json: bool, cwd: str | None) -> None:
    """Show which rule decides each part of COMMAND, its risk score, and the outcome.

    Nothing is run and hit counts are not touched. Exit status: 0 when rules (or the
    auto_approve_below threshold) allow the command, 1 when a human would be asked,
    3 when a rule denies it.

    \b
    Examples:
      expacti whitelist test 'npm test && rm -rf ~'
      expacti whitelist test --cwd ~/src/app 'make deploy-staging'
      expacti whitelist test --json 'git log -3'
    """
    from expacti_cli.analysis import analyze  # type: ignore[attr-defined,unused-ignore]
    from expacti_cli.config import load_config
    from expacti_cli.policy import Action, decide
    from expacti_cli.risk import score_command  # type: ignore[attr-defined,unused-ignore]

    cfg = load_config()
    where = str(Path(cwd).expanduser().resolve()) if cwd else os.getcwd()
    analysis = analyze(command)
    score = score_command(command, cfg.risk)
    rules = _store().list()
    decision = decide(
        analysis,
        score,
        rules,
        cwd=where,
        now=datetime.now(UTC),
        auto_approve_below=cfg.for_directory(where).auto_approve_below,
        threshold_scope=(f"project {p}" if (p := cfg.for_directory(where).project) else ""),
    )
    if as_json:
        payload = {"command": command, "cwd": where, **decision.to_json(), "risk": score.to_json()}
        click.echo(json.dumps(payload, sort_keys=True))
    else:
        _print_decision(command, where, decision, score)
    code = {Action.ALLOW: ExitStatus.OK, Action.DENY: ExitStatus.DENIED}.get(
        decision.action, ExitStatus.ERROR
    )
    ctx.exit(int(code))


def _print_decision(command: str, cwd: str, decision: Decision, score: Score) -> None:
    click.echo(f"command: {_show(command)}")
    click.echo(f"cwd:     {_show(cwd)}")
    for n, part in enumerate(decision.parts, 1):
        click.echo(f"  part {n}: {_show(part.text.strip())}")
        click.echo(f"    -> {_show(part.explanation)}")
    click.echo(f"risk:    {score.level.value} {score.score}  {_show(score.summary)}")
    for reason in score.reasons[:5]:
        click.echo(f"    {reason.points:+4d}  {_show(reason.text)}")
    if decision.action == "ask":
        verdict = decision.reason  # already "ask (LEVEL N): why"
    else:
        verdict = f"{decision.action.value} by {decision.via.value}: {decision.reason}"
    click.echo(f"decision: {_show(verdict)}")


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    from expacti_cli.store.audit_query import parse_when

    if value is None:
        return None
    try:
        return parse_when(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@whitelist.command("suggest")
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Approvals a rule needs behind it.",
)
@click.option(
    "--since",
    callback=_since,
    help="Learn only from approvals since: 2h, 3d, 1w or an ISO date (denials always count).",
)
@click.option("--accept", "accept_spec", metavar="N[,M]", help="Add these suggestions: 1,3 or 2-4.")
@click.option("--accept-all", is_flag=True, help="Add every suggestion.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object with every suggestion.")
@click.option("-v", "--verbose", is_flag=True, help="Also list candidates the checks dropped.")
def suggest(
    min_count: int,
    since: datetime | None,
    accept_spec: str | None,
    accept_all: bool,
    as_json: bool,
    verbose: bool,
) -> None:
    """Propose rules for commands humans approved again and again.

    Similar approved commands are grouped and only the words that vary are generalised
    (`docker logs api-7d9f`, `docker logs web-1a2b` -> prefix `docker logs`). Each proposal
    shows how many approvals it covers, examples it matches, and commands from history it
    must not match: every denied command and every command scored above the rule's level.
    A proposal that the real matcher finds would allow one of those, or whose wildcards
    would also let in a riskier command (a production target, `--force`), is dropped.
    Shells, interpreters, sudo, xargs, npx, eval and compound commands never get a rule.

    On a terminal you are asked which to add; `--accept` takes the numbers that a run over
    the same history showed. Added rules record that they came from a suggestion and which
    approvals supported them, and are audited like `whitelist add`.

    \b
    Examples:
      expacti whitelist suggest
      expacti whitelist suggest --since 2w --min-count 5
      expacti whitelist suggest --accept 1,3
      expacti whitelist suggest --json | jq '.suggestions[].rule'
    """
    from expacti_cli.commands.whitelist_suggest import run

    run(
        min_count=min_count,
        since=since,
        accept_spec=accept_spec,
        accept_all=accept_all,
        as_json=as_json,
        verbose=verbose,
    )
