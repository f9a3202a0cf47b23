"""One check's result: ok, warn (works, but something is missing or odd) or fail."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

OK = "ok"
WARN = "warn"
FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str  # stable id: "config", "broker", "agent:claude", ...
    status: str  # OK, WARN or FAIL
    message: str  # what was found, one line
    fix: str = ""  # what to do about it (empty when ok)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ok(name: str, message: str) -> Check:
    return Check(name, OK, message)


def warn(name: str, message: str, fix: str) -> Check:
    return Check(name, WARN, message, fix)


def fail(name: str, message: str, fix: str) -> Check:
    return Check(name, FAIL, message, fix)
