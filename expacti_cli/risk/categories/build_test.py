"""Build and test: compilers, test runners, linters, task runners, interpreters running code.

Running the project's own code is routine for an agent, so the bases are low; what the code
does is not visible here, which is why scripts and inline code sit a little higher.
"""

from __future__ import annotations

import re

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories.base import MUTATING, Category, Table, Verdict, entry

NAME = "build"

SHELLS = frozenset(
    {"sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "ash", "busybox", "csh", "tcsh"}
)
INTERPRETERS = frozenset(
    {"python", "python2", "python3", "node", "nodejs", "deno", "bun", "ruby", "perl", "php"}
    | {"lua", "Rscript", "osascript", "pwsh", "powershell", "tclsh", "groovy", "java", "irb"}
    | {"ipython", "jshell", "scala", "elixir", "erl", "ts-node", "tsx"}
)
TOOLS = frozenset(
    """
    make cmake ninja meson gradle gradlew mvn mvnw ant sbt bazel bazelisk buck just task
    pytest tox nox jest vitest mocha karma playwright cypress tsc eslint prettier ruff black
    isort mypy pyright flake8 pylint bandit rustc rustfmt clippy-driver gcc g++ cc c++ clang
    clang++ ld javac kotlinc swift swiftc xcodebuild dotnet mix rake rspec cucumber phpunit
    pre-commit shellcheck hadolint golangci-lint gofmt goimports webpack vite esbuild rollup
    parcel turbo nx lerna storybook coverage nosetests behave hypothesis ctest valgrind gdb lldb
    strace ltrace perf hyperfine time
    """.split()
)
PROGRAMS = SHELLS | INTERPRETERS | TOOLS | {"source", ".", "eval"}

T = Table(
    NAME,
    {
        "check": entry(8, "runs linters or type checkers", "lint run"),
        "test": entry(10, "runs the project's tests", "test run"),
        "build": entry(12, "builds the project", "build"),
        "run": entry(15, "runs the project or a task", "task run", MUTATING),
        "shell-inline": entry(
            10, "runs an inline shell script (its commands are scored too)", "inline shell script"
        ),
        "repl": entry(15, "starts an interactive interpreter", "interactive session"),
        "inline": entry(20, "runs inline code", "inline code", MUTATING),
        "script": entry(25, "runs a script whose content is not shown", "script run", MUTATING),
        "stdin": entry(25, "runs code read from its input", "code from input", MUTATING),
        "deploy-task": entry(
            40, "runs a task that deploys, releases or migrates", "deploy task", MUTATING
        ),
    },
)

_DEPLOYISH = re.compile(r"deploy|release|publish|prod|migrat|seed|drop|destroy|upload|push", re.I)
_CHECKS = frozenset({"eslint", "prettier", "ruff", "black", "isort", "mypy", "pyright", "flake8"})
_TESTS = frozenset({"pytest", "tox", "nox", "jest", "vitest", "mocha", "karma", "playwright"})
_TASK_RUNNERS = frozenset({"make", "just", "task", "rake", "gradle", "gradlew", "mvn", "mvnw"})


def _task_verdict(names: tuple[str, ...], default: str) -> Verdict:
    """Task names that sound like deploying or migrating get more attention than `build`."""
    for name in names:
        if _DEPLOYISH.search(name):
            return T("deploy-task", text=f'runs task "{name}"')
        if "test" in name or "check" in name or "lint" in name:
            return T("test")
        if name.startswith(("build", "compile", "dist", "bundle", "typecheck")):
            return T("build")
    return T(default)


def judge_interpreter(part: SimpleCommand) -> Verdict:
    """Shells and interpreters: inline code, a script file, stdin, or a REPL."""
    program = part.program
    if program in SHELLS:
        if "c" in part.short_flags:
            # The script's commands are parsed and scored as nested parts.
            return T("shell-inline")
        if part.positionals:
            return T("script", text=f'runs script "{part.positionals[0]}"')
        return T("stdin") if part.pipeline_position > 0 or part.redirects else T("repl")
    if part.interpreter_code:
        return T("inline")
    if program in ("java", "scala") and not part.positionals:
        return T("repl")
    if part.positionals:
        first = part.positionals[0]
        if first in ("test", "-m") or "test" in first:
            return T("test")
        return T("script", text=f'runs script "{first}"')
    if part.long_flags & {"version", "help"} or "V" in part.short_flags:
        return Verdict(NAME, 2, "prints its version", "version check")
    return T("stdin") if part.pipeline_position > 0 or part.redirects else T("repl")


def tool_verdict(program: str) -> Verdict:
    """The verdict for a known tool by name alone (`npx jest`, `uv run pytest`)."""
    if program in _CHECKS or program in ("shellcheck", "hadolint", "golangci-lint", "tsc"):
        return T("check")
    if program in _TESTS or program in ("rspec", "phpunit", "ctest", "cucumber", "behave"):
        return T("test")
    return T("build")


_VERSIONED_INTERPRETER = re.compile(r"^(?:python|pypy|node|ruby|perl|php|lua)[0-9.]+$")


def judge(part: SimpleCommand) -> Verdict:
    program = part.program
    if program in SHELLS or program in INTERPRETERS or _VERSIONED_INTERPRETER.match(program):
        return judge_interpreter(part)
    if program == "eval":
        return T("shell-inline", text="evaluates text as shell code (its commands are scored too)")
    if program in ("source", "."):
        name = part.positionals[0] if part.positionals else ""
        return T("script", text=f'sources "{name}" into the shell')
    if program in _TASK_RUNNERS:
        return _task_verdict(part.positionals, "build")
    if program == "dotnet":
        return _task_verdict(part.positionals[:1], "build")
    if program == "time" or program == "hyperfine":
        return T("run")
    return tool_verdict(program)


CATEGORY = Category(
    NAME,
    "build/test",
    "compiles, tests, lints and runs the project's code or scripts",
    PROGRAMS,
    judge,
    T.examples,
)
