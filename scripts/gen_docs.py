"""Generate the shell completions and the man page from the click command tree.

    python scripts/gen_docs.py          # rewrite completions/ and man/ from the code
    python scripts/gen_docs.py --check  # exit 1 and name the stale files; change nothing

Run it with the project's virtualenv after adding or changing a command or an option; the
tests (tests/test_completions.py, tests/test_man.py) fail while the files on disk are stale.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from docgen import generate  # noqa: E402

REGENERATE = "run: python scripts/gen_docs.py"


def stale(outputs: dict[Path, str]) -> list[tuple[Path, str]]:
    """(file, unified diff) for every generated file that differs from what is on disk."""
    found = []
    for path, text in outputs.items():
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = ""
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(keepends=True),
                text.splitlines(keepends=True),
                f"{path.relative_to(ROOT)} (on disk)",
                f"{path.relative_to(ROOT)} (generated)",
                n=1,
            )
            found.append((path, "".join(diff)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    outputs = generate.all_outputs(ROOT)
    if args.check:
        problems = stale(outputs)
        for path, diff in problems:
            print(f"stale: {path.relative_to(ROOT)}\n{diff}", file=sys.stderr)
        if problems:
            print(REGENERATE, file=sys.stderr)
        return 1 if problems else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
