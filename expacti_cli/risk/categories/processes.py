"""Processes and services: killing processes, starting and stopping services, scheduling jobs."""

from __future__ import annotations

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories.base import (
    DESTRUCTIVE,
    MUTATING,
    Category,
    Table,
    Verdict,
    args_after,
    entry,
    verb,
)

NAME = "processes"

PROGRAMS = frozenset(
    {"kill", "pkill", "killall", "systemctl", "service", "launchctl", "ps", "top", "htop"}
    | {"btop", "pgrep", "pidof", "lsof", "fuser", "free", "vmstat", "iostat", "crontab", "at"}
    | {"atrm", "batch", "pm2", "supervisorctl", "journalctl", "renice", "tmux", "screen"}
    | {"rc-service", "sv", "initctl", "loginctl", "foreman", "forever"}
)

T = Table(
    NAME,
    {
        "read": entry(3, "shows processes, services or logs", "process listing"),
        "session": entry(10, "manages terminal sessions", "terminal session"),
        "signal": entry(25, "sends a signal to a process", "process kill", MUTATING),
        "start": entry(25, "starts or reloads a service", "service start", MUTATING),
        "schedule": entry(30, "schedules a job", "job scheduling", MUTATING),
        "restart": entry(35, "restarts a service", "service restart", MUTATING),
        "kill-by-name": entry(35, "kills processes by name", "process kill", DESTRUCTIVE),
        "stop": entry(45, "stops or disables a service", "service stop", DESTRUCTIVE),
        "cron-edit": entry(50, "replaces or edits the crontab", "crontab change", MUTATING),
        "cron-remove": entry(70, "removes the whole crontab", "crontab removal", DESTRUCTIVE),
        "logs-delete": entry(30, "deletes logs", "log deletion", DESTRUCTIVE),
    },
)

_SERVICE_VERBS = frozenset(
    """
    status show list-units list-unit-files is-active is-enabled cat start stop restart reload
    enable disable mask unmask kill daemon-reload try-restart reload-or-restart isolate edit
    load unload bootstrap bootout kickstart list print reset-failed set-property
    """.split()
)


def _service(part: SimpleCommand) -> Verdict:
    sub = verb(part, _SERVICE_VERBS)
    if part.program in ("service", "rc-service") and len(part.positionals) >= 2:
        sub = part.positionals[1]
    target = args_after(part, sub)
    if sub in ("stop", "disable", "mask", "kill", "isolate", "unload", "bootout"):
        return T("stop", target)
    if sub in ("restart", "try-restart", "reload-or-restart", "kickstart"):
        return T("restart", target)
    if sub in ("start", "reload", "enable", "unmask", "daemon-reload", "load", "bootstrap"):
        return T("start", target)
    if sub in ("edit", "set-property", "reset-failed"):
        return T("start", target)
    return T("read")


def judge(part: SimpleCommand) -> Verdict:
    program, positionals = part.program, part.positionals
    if program in ("systemctl", "service", "launchctl", "rc-service", "sv", "initctl"):
        return _service(part)
    if program == "kill":
        return T("signal", text="lists signals") if "l" in part.short_flags else T("signal")
    if program in ("pkill", "killall"):
        return T("kill-by-name", text=f'kills every process named "{" ".join(positionals)}"')
    if program == "fuser":
        return T("kill-by-name") if "k" in part.short_flags else T("read")
    if program == "crontab":
        if "r" in part.short_flags:
            return T("cron-remove", ("crontab",))
        if "l" in part.short_flags and "e" not in part.short_flags:
            return T("read")
        return T("cron-edit", ("crontab",))
    if program in ("at", "batch"):
        return T("read") if "l" in part.short_flags else T("schedule")
    if program == "atrm":
        return T("stop")
    if program in ("pm2", "supervisorctl", "forever", "foreman"):
        sub = positionals[0] if positionals else ""
        if sub in ("delete", "kill", "stop", "remove"):
            return T("stop", positionals[1:])
        if sub in ("restart", "reload"):
            return T("restart", positionals[1:])
        if sub in ("start", "resurrect", "startup", "update"):
            return T("start", positionals[1:])
        return T("read")
    if program == "journalctl":
        vacuum = any(flag.startswith("vacuum") or flag == "rotate" for flag in part.long_flags)
        return T("logs-delete") if vacuum else T("read")
    if program in ("tmux", "screen"):
        return T("session")
    if program == "renice":
        return T("signal", text="changes a process's priority")
    return T("read")


CATEGORY = Category(
    NAME,
    "processes/services",
    "kills processes, starts and stops services, schedules jobs",
    PROGRAMS,
    judge,
    T.examples,
)
