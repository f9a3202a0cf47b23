"""Domain errors and exit statuses shared by every command."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Exit codes scripts can rely on (documented in `expacti --help` and the man page)."""

    OK = 0
    ERROR = 1  # a runtime error (bad file, bad config, failed verification)
    USAGE = 2  # bad command-line usage (click's own code)
    DENIED = 3  # `whitelist test`: a rule denies the command
    NOT_EXECUTED = 126  # a gated command was denied or timed out and did not run
    INTERRUPTED = 130  # Ctrl-C


class ExpactiError(Exception):
    """An error with a message for humans; the CLI edge turns it into a clean exit."""

    exit_code: int = ExitStatus.ERROR

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(ExpactiError):
    """A bad key or value in config.toml (the message names both the key and the file)."""


class StoreError(ExpactiError):
    """A data file that cannot be read or written safely (the message names the file)."""


class InputError(ExpactiError):
    """Input that is refused as a whole, e.g. a command over the size limit."""
