"""expacti: a gate between an AI agent deciding to run a command and the command running."""

__version__ = "0.1.0"
