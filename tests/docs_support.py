"""Helpers for the tests of generated docs: the generator, and the command tree it reads."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "run: python scripts/gen_docs.py"


def gen_docs() -> ModuleType:
    """scripts/gen_docs.py as a module (it puts scripts/ on sys.path for its docgen package)."""
    scripts = str(ROOT / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    import gen_docs as module

    return module


@cache
def outputs() -> dict[Path, str]:
    """What the generator would write now, from the current click tree."""
    return dict(gen_docs().generate.all_outputs(ROOT))


def staleness(path: Path) -> str | None:
    """None when `path` on disk is what the generator makes; else a message with the diff."""
    problems = dict(gen_docs().stale({path: outputs()[path]}))
    if path not in problems:
        return None
    return f"{path.relative_to(ROOT)} is stale; {REGENERATE}\n{problems[path][:3000]}"


def command_paths() -> list[tuple[str, ...]]:
    """Every command and subcommand below the root, as word tuples."""
    gen_docs()
    from docgen import tree

    return [c.path for c in tree.load().walk() if c.path]


def command_tree():  # type: ignore[no-untyped-def]
    gen_docs()
    from docgen import tree

    return tree.load()
