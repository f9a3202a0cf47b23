"""The risk engine (pure): a command line in, a 0-100 score with its reasons out.

Every simple command found by the analysis (nested ones included) is scored on its own:
its category gives a base score, modifiers add points or pin a floor, and the command line
scores at least its worst part (plus a small bump when several parts are risky).
Levels: LOW 0-29, MEDIUM 30-59, HIGH 60-84, CRITICAL 85-100.

The 14 categories (one module each in `risk/categories/`):

    read_only     ls, cat, grep, jq, echo, sed/awk without writes           1-45
    build         tests, builds, linters, scripts, interpreters             8-40
    vcs           git, gh: status 5, commit 12, push 25, reset --hard 45    5-90
    packages      npm/pip/cargo/apt/brew installs, removals, publishing     3-80
    file_delete   rm, find -delete, shred                                   10-55
    file_write    cp, mv, tee, sed -i, rsync, editors, redirects             2-45
    permissions   chmod, chown, users, sudoers                              5-75
    processes     kill, systemctl, crontab, pm2                             3-70
    network       curl, wget, ssh, scp, nc                                  3-85
    containers    docker, kubectl, helm (kubectl delete deployment: 98)     5-98
    cloud         aws, gcloud, az, terraform, deploy CLIs, ansible          10-90
    database      psql/mysql/sqlite3/mongosh/redis-cli by SQL kind, tools   8-95
    system        dd, mkfs, partitions, mounts, firewall, kernel, power     3-90
    privilege     root shells, keys, secret stores                          5-70

A program no category claims is "unknown" (base 0, +40 from the unknown-program modifier).

The 25 modifiers (`risk/modifiers.py`): recursive, force, root_path, home_path, system_path,
production_target, protected_branch, no_where, skip_confirmation, pipe_to_shell, obfuscation,
remote_host, all_resources, background, persistence_write (-> CRITICAL), expacti_tamper
(-> CRITICAL), secret_read, unknown_program, unparsed (-> at least HIGH), indirection,
write_redirect, wildcard_delete, elevated, inline_code, data_upload.

Users extend it through `RiskSettings`: production markers, protected branches, a program's
category, and custom patterns (a regex over a part or the whole command with a minimum score).
`expacti score --explain` prints both lists with their points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The engine is imported on first use (PEP 562): `config.py` needs only `risk.model`, and
# importing the categories and modifiers costs ~60 ms that `expacti run` and the CLI's light
# commands should not pay at start.
if TYPE_CHECKING:
    from expacti_cli.analysis.model import Analysis
    from expacti_cli.risk.categories import CATEGORIES
    from expacti_cli.risk.model import Level, PartScore, Reason, RiskSettings, Score
    from expacti_cli.risk.modifiers import MODIFIERS
    from expacti_cli.risk.scorer import score_analysis

    CATEGORY_NAMES: tuple[str, ...]

_LAZY = {
    "Analysis": ("expacti_cli.analysis.model", "Analysis"),
    "CATEGORIES": ("expacti_cli.risk.categories", "CATEGORIES"),
    "MODIFIERS": ("expacti_cli.risk.modifiers", "MODIFIERS"),
    "Level": ("expacti_cli.risk.model", "Level"),
    "PartScore": ("expacti_cli.risk.model", "PartScore"),
    "Reason": ("expacti_cli.risk.model", "Reason"),
    "RiskSettings": ("expacti_cli.risk.model", "RiskSettings"),
    "Score": ("expacti_cli.risk.model", "Score"),
    "score_analysis": ("expacti_cli.risk.scorer", "score_analysis"),
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "CATEGORY_NAMES":
        # Names accepted for `risk.programs.<program> = "<category>"` in config.toml.
        from expacti_cli.risk.categories import CATEGORIES, UNKNOWN

        value: Any = (*(c.name for c in CATEGORIES), UNKNOWN)
    elif name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def score_command(command: str | bytes, settings: RiskSettings | None = None) -> Score:
    """Analyse and score one command line. Never raises."""
    from expacti_cli.risk.scorer import failsafe_score, score_analysis

    try:
        from expacti_cli.analysis import analyze

        analysis = analyze(command)
    except Exception as exc:  # noqa: BLE001 - a parser bug must fail closed, not crash
        source = (
            command.decode("utf-8", "surrogateescape") if isinstance(command, bytes) else command
        )
        return failsafe_score(str(source), exc)
    return score_analysis(analysis, settings)


__all__ = [
    "CATEGORIES",
    "CATEGORY_NAMES",
    "MODIFIERS",
    "Analysis",
    "Level",
    "PartScore",
    "Reason",
    "RiskSettings",
    "Score",
    "score_analysis",
    "score_command",
]
