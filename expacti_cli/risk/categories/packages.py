"""Package managers: installing, removing and publishing packages (npm, pip, apt, brew...).

The language package managers also run the project's scripts (`npm test`, `cargo build`);
those are handed to the build/test category so `npm test` scores like a test run.
"""

from __future__ import annotations

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories import build_test
from expacti_cli.risk.categories.base import (
    DESTRUCTIVE,
    MUTATING,
    Category,
    Table,
    Verdict,
    entry,
    has_flag,
)

NAME = "packages"

JS = frozenset({"npm", "yarn", "pnpm", "bun"})
RUNNERS = frozenset({"npx", "pnpx", "bunx", "uvx", "pipx"})
LANG = frozenset({"pip", "pip3", "uv", "poetry", "pdm", "conda", "mamba", "micromamba", "gem"})
LANG2 = frozenset({"bundle", "bundler", "cargo", "go", "composer", "hatch", "rye", "deno"})
SYSTEM = frozenset(
    {"apt", "apt-get", "aptitude", "dpkg", "yum", "dnf", "rpm", "zypper", "pacman", "yay"}
    | {"apk", "snap", "flatpak", "port", "choco", "winget", "scoop", "nix-env", "brew"}
)
PROGRAMS = JS | RUNNERS | LANG | LANG2 | SYSTEM

T = Table(
    NAME,
    {
        "read": entry(3, "lists or shows packages", "package query"),
        "local": entry(15, "changes the project's package setup", "package setup change", MUTATING),
        "install": entry(
            20, "installs packages (their install scripts run)", "package install", MUTATING
        ),
        "remove": entry(20, "removes project packages", "package removal", MUTATING),
        "global": entry(30, "installs packages globally", "global package install", MUTATING),
        "remote-exec": entry(30, "downloads and runs a package", "download-and-run", MUTATING),
        "system-update": entry(
            15, "refreshes the system package index", "package index refresh", MUTATING
        ),
        "system-install": entry(
            35, "installs or upgrades system packages", "system package install", MUTATING
        ),
        "system-remove": entry(
            45, "removes system packages", "system package removal", DESTRUCTIVE
        ),
        "publish": entry(
            60, "publishes a package to a public registry", "package publish", MUTATING
        ),
        "unpublish": entry(
            80, "unpublishes or yanks a released package", "package unpublish", DESTRUCTIVE
        ),
    },
)

_READ_VERBS = frozenset(
    {"list", "ls", "show", "info", "view", "why", "outdated", "search", "freeze", "audit"}
    | {"explain", "help", "config", "doctor", "check", "query", "policy", "inspect", "tree"}
    | {"env", "--version", "-v", "version", "whoami", "fund", "pack", "licenses", "deps"}
)
_INSTALL_VERBS = frozenset({"install", "i", "ci", "add", "update", "upgrade", "up", "sync", "get"})
_INSTALL_VERBS2 = frozenset({"require", "reinstall", "dedupe", "prune", "link", "lock", "download"})
_REMOVE_VERBS = frozenset({"uninstall", "remove", "rm", "un", "r", "erase", "unlink", "purge"})
_TEST_VERBS = frozenset({"test", "t", "tst", "bench", "check", "clippy", "vet", "lint", "fmt"})
_BUILD_VERBS = frozenset({"build", "b", "compile", "doc", "generate", "tsc"})
_RUN_VERBS = frozenset({"start", "dev", "serve", "exec", "run", "run-script", "x", "dlx"})


def _lang(part: SimpleCommand, sub: str, rest: tuple[str, ...]) -> Verdict:
    if sub in ("publish", "release"):
        return T("publish")
    if sub in ("unpublish", "yank", "deprecate"):
        return T("unpublish")
    if sub in _TEST_VERBS:
        return build_test.T("check" if sub in ("fmt", "lint", "clippy", "vet", "check") else "test")
    if sub in _BUILD_VERBS:
        return build_test.T("build")
    if sub in _RUN_VERBS:
        names = rest[:1] if sub in ("run", "run-script", "exec") else (sub,)
        if sub in ("exec", "x", "dlx") and part.program in JS:
            return T("remote-exec")
        if part.program in ("uv", "poetry", "pdm", "hatch", "rye", "bundle") and rest:
            # `uv run pytest`, `poetry run python manage.py ...`: judge the tool being run.
            inner = rest[0]
            if inner in build_test.TOOLS:
                return build_test.tool_verdict(inner)
        return build_test._task_verdict(names, "run")
    if sub in _REMOVE_VERBS:
        return T("remove")
    if sub in _INSTALL_VERBS or sub in _INSTALL_VERBS2 or (sub == "" and part.program == "yarn"):
        if has_flag(part, "g", ("global", "user", "system", "break-system-packages")):
            return T("global")
        if part.program in ("go", "cargo", "gem") and sub == "install":
            return T("global")
        return T("install")
    if sub in _READ_VERBS or sub == "":
        return T("read")
    if part.program in JS:
        # `npm lint` style aliases and bare script names via yarn/pnpm/bun (`yarn dev`).
        return build_test._task_verdict((sub,), "run")
    return T("local")


def _system(part: SimpleCommand, sub: str) -> Verdict:
    program = part.program
    if program in ("pacman", "yay", "dpkg", "rpm"):
        flags = part.short_flags
        if flags & {"R", "r", "P", "e"} and "q" not in flags:
            return T("system-remove")
        if flags & {"S", "U", "i"} and not flags & {"Q", "l", "s"}:
            return T("system-install")
        return T("read")
    if sub in _REMOVE_VERBS or sub in ("autoremove", "uninstall", "delete", "del"):
        return T("system-remove")
    if sub in ("update", "refresh", "makecache") and program not in ("brew", "yum", "dnf", "snap"):
        return T("system-update")
    if sub in _INSTALL_VERBS or sub in ("dist-upgrade", "full-upgrade", "tap", "cask"):
        return T("system-install")
    if sub in ("clean", "cleanup", "autoclean"):
        return T("local")
    return T("read")


def judge(part: SimpleCommand) -> Verdict:
    program = part.program
    positionals = part.positionals
    if program in RUNNERS:
        tool = positionals[0] if positionals else ""
        if program == "pipx" and tool in ("install", "uninstall", "list", "upgrade"):
            return _lang(part, tool, positionals[1:])
        if tool in build_test.TOOLS:
            return build_test.tool_verdict(tool)
        return T("remote-exec", text=f'downloads and runs "{tool}"' if tool else "")
    sub = part.subcommand or (positionals[0] if positionals else "")
    rest = positionals[1:] if positionals[:1] == (sub,) else positionals
    if program == "uv" and sub == "pip" and rest:
        sub, rest = rest[0], rest[1:]
    if program == "uv" and sub == "tool" and rest:
        sub, rest = rest[0], rest[1:]
        return T("global") if sub == "install" else _lang(part, sub, rest)
    if program == "conda" and sub == "env" and rest[:1] == ("remove",):
        return T("remove", text="removes a conda environment")
    if program in SYSTEM:
        return _system(part, sub)
    return _lang(part, sub, rest)


CATEGORY = Category(
    NAME,
    "package manager",
    "installs, removes and publishes packages; install scripts run arbitrary code",
    PROGRAMS,
    judge,
    T.examples,
)
