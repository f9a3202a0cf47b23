"""`expacti doctor`: checks of an installation, each with what to do about a problem.

Each check returns `Check`s: ok, warn (works, but something is missing or odd) or fail
(something expacti needs is broken). The command exits 1 when any check fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from expacti_cli.doctor import broker, environment, files
from expacti_cli.doctor.model import FAIL, OK, WARN, Check, fail

__all__ = ["FAIL", "OK", "WARN", "Check", "run_checks"]


def run_checks(start_broker: bool = True) -> list[Check]:
    """Every check, in the order a user would fix things."""
    steps: list[Callable[[], Iterable[Check]]] = [
        environment.installation,
        files.directories,
        files.config_file,
        files.rules_file,
        files.audit_log,
    ]
    results: list[Check] = []
    for step in steps:
        results.extend(_safely(step))
    runtime = list(_safely(broker.runtime_directory))
    results.extend(runtime)
    private = all(c.status != FAIL for c in runtime)
    results.extend(_safely(lambda: broker.broker(start=start_broker and private)))
    for step in (
        environment.shell_integration,
        environment.shim,
        environment.agents,
        environment.tmux,
        environment.terminal,
    ):
        results.extend(_safely(step))
    return results


def _safely(step: Callable[[], Iterable[Check]]) -> list[Check]:
    """A check that crashes is itself a failed check, never a crashed doctor."""
    try:
        return list(step())
    except Exception as exc:  # noqa: BLE001 - reported to the user with its type
        name = getattr(step, "__name__", "check").replace("_", "-")
        return [
            fail(
                name,
                f"the check itself failed: {type(exc).__name__}: {exc}",
                "report this as a bug, with the output of `expacti doctor --json`",
            )
        ]
