"""The `expacti` console script: serves `expacti exec -- CMD...` without importing click.

`expacti exec` sits on an agent's hot path (every gated command pays its start-up), so its
plain form goes straight to `exec_run.fast_main`; every other form goes to the click CLI.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["exec"]:
        from expacti_cli.commands.exec_run import fast_main

        code = fast_main(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    from expacti_cli.cli import main as full_main

    full_main()
