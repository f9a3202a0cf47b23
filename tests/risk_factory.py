"""Build `SimpleCommand`/`Analysis` values by hand, to test risk rules without the parser."""

from __future__ import annotations

from typing import Any

from expacti_cli.analysis.model import Analysis, Redirect, SimpleCommand, SqlKind, SqlStatement

_SUBCOMMAND_TOOLS = frozenset(
    {"git", "kubectl", "docker", "npm", "yarn", "pnpm", "cargo", "go", "helm", "terraform", "pip"}
    | {"systemctl", "gh", "aws", "gcloud", "apt", "apt-get", "brew", "expacti", "uv", "poetry"}
)


def part(*argv: str, **fields: Any) -> SimpleCommand:
    """`part("rm", "-rf", "~")`: flags split the simple way (`-rf` -> r, f; `--x=y` -> x)."""
    short: set[str] = set()
    long: set[str] = set()
    positionals: list[str] = []
    for word in argv[1:]:
        if word.startswith("--") and len(word) > 2:
            long.add(word[2:].split("=", 1)[0])
        elif word.startswith("-") and len(word) > 1:
            short.update(word[1:])
        else:
            positionals.append(word)
    program = argv[0].rsplit("/", 1)[-1] if argv else ""
    values: dict[str, Any] = {
        "text": " ".join(argv),
        "words": tuple(argv),
        "argv": tuple(argv),
        "program": program,
        "short_flags": frozenset(short),
        "long_flags": frozenset(long),
        "positionals": tuple(positionals),
        "subcommand": positionals[0] if program in _SUBCOMMAND_TOOLS and positionals else "",
    }
    values.update(fields)
    return SimpleCommand(**values)


def analysis(*parts: SimpleCommand, **fields: Any) -> Analysis:
    source = fields.pop("source", " ; ".join(p.text for p in parts))
    return Analysis(source=source, parts=tuple(parts), **fields)


def write_to(target: str) -> Redirect:
    return Redirect(op=">", target=target, is_write=True)


def sql(kind: SqlKind, verb: str, concurrently: bool = False) -> tuple[SqlStatement, ...]:
    return (SqlStatement(kind=kind, verb=verb, text=verb, concurrently=concurrently),)
