"""Normalising what a command names: program, flags, positionals and subcommand."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache


def program_name(value: str) -> str:
    """`/bin/rm`, `./rm` and `rm` all give `rm` (quotes and `\\` are already removed)."""
    if "/" in value:
        stripped = value.rstrip("/")
        return stripped.rsplit("/", 1)[-1] if stripped else value
    return value


_FAMILY_PREFIXES = (
    ("python", "python"),
    ("pypy", "python"),
    ("pip", "pip"),
    ("ruby", "ruby"),
    ("perl", "perl"),
    ("php", "php"),
    ("node", "node"),
)
_FAMILY_EXACT = {
    "nodejs": "node",
    "mariadb": "mysql",
    "mongo": "mongosh",
    "docker-compose": "docker",
    "podman": "docker",
    "apt-get": "apt",
    "oc": "kubectl",
    "tofu": "terraform",
    "doas": "sudo",
}


@lru_cache(maxsize=4096)
def program_family(program: str) -> str:
    """Group versioned or aliased names: `python3.11` -> `python`, `nodejs` -> `node`."""
    family = _FAMILY_EXACT.get(program)
    if family is not None:
        return family
    for prefix, fam in _FAMILY_PREFIXES:
        if program.startswith(prefix):
            rest = program[len(prefix) :]
            if not rest or rest.replace(".", "").isdigit():
                return fam
    return program


def split_flags(args: Sequence[str]) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """Short flags (bundles split), long flags (without `--` and `=value`) and positionals.

    Everything after `--` is positional; a lone `-` is positional (stdin).
    """
    short: set[str] = set()
    long: set[str] = set()
    positionals: list[str] = []
    for index, arg in enumerate(args):
        if arg[:1] != "-" or len(arg) < 2:
            positionals.append(arg)
        elif arg[1] != "-":
            short.update(arg[1:])
        elif arg == "--":
            positionals.extend(args[index + 1 :])
            break
        else:
            long.add(arg[2:].split("=", 1)[0])
    return (
        frozenset(short) if short else _EMPTY,
        frozenset(long) if long else _EMPTY,
        tuple(positionals),
    )


_EMPTY: frozenset[str] = frozenset()


# Options placed before a tool's subcommand that take a separate value: skipping them is what
# makes `git -C dir push` a push and `kubectl -n prod delete` a delete.
_GLOBAL_VALUE_OPTIONS: dict[str, frozenset[str]] = {
    "git": frozenset(
        {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--super-prefix", "--config-env"}
    ),
    "kubectl": frozenset(
        {
            "--context",
            "-n",
            "--namespace",
            "--kubeconfig",
            "-s",
            "--server",
            "--cluster",
            "--user",
            "--token",
            "--as",
            "--as-group",
            "--as-uid",
            "-v",
            "--v",
            "--request-timeout",
            "--cache-dir",
            "--certificate-authority",
            "--client-certificate",
            "--client-key",
            "--tls-server-name",
            "-l",
            "--selector",
        }
    ),
    "docker": frozenset(
        {
            "-H",
            "--host",
            "--context",
            "-c",
            "--config",
            "-l",
            "--log-level",
            "--tlscacert",
            "--tlscert",
            "--tlskey",
            "-f",
            "--file",
            "-p",
            "--project-name",
            "--project-directory",
            "--env-file",
            "--profile",
        }
    ),
    "npm": frozenset({"--prefix", "-w", "--workspace", "--registry", "--userconfig", "--cache"}),
    "yarn": frozenset({"--cwd"}),
    "pnpm": frozenset({"-C", "--dir", "--filter", "-F"}),
    "cargo": frozenset({"-C", "--config", "-Z", "--color", "--manifest-path"}),
    "helm": frozenset(
        {
            "--kube-context",
            "-n",
            "--namespace",
            "--kubeconfig",
            "--registry-config",
            "--repository-cache",
            "--repository-config",
        }
    ),
    "aws": frozenset(
        {
            "--profile",
            "--region",
            "--output",
            "--endpoint-url",
            "--query",
            "--cli-read-timeout",
            "--cli-connect-timeout",
            "--ca-bundle",
            "--color",
        }
    ),
    "gcloud": frozenset(
        {
            "--project",
            "--account",
            "--configuration",
            "--format",
            "--verbosity",
            "--impersonate-service-account",
            "--billing-project",
        }
    ),
    "az": frozenset({"--subscription", "--output", "-o", "--query"}),
    "systemctl": frozenset(
        {
            "-H",
            "--host",
            "-M",
            "--machine",
            "-t",
            "--type",
            "-p",
            "--property",
            "-s",
            "--signal",
            "-n",
            "--lines",
            "-o",
            "--output",
            "--root",
            "--state",
            "--kill-whom",
        }
    ),
    "apt": frozenset({"-o", "-c", "-t"}),
    "pip": frozenset(
        {"--log", "--proxy", "--retries", "--timeout", "--cache-dir", "--cert", "--python"}
    ),
    "gh": frozenset({"-R", "--repo"}),
    "make": frozenset({"-C", "-f", "--file", "--directory", "-j", "--jobs", "-o", "-W"}),
    "terraform": frozenset(),
    "go": frozenset(),
    "brew": frozenset(),
    "dnf": frozenset({"-c", "--releasever", "--setopt"}),
    "yum": frozenset({"-c", "--releasever", "--setopt"}),
    "snap": frozenset(),
    "gem": frozenset(),
    "bun": frozenset({"--cwd"}),
    "uv": frozenset({"--directory", "--project", "--python"}),
    "poetry": frozenset({"-C", "--directory", "-P", "--project"}),
    "npx": frozenset({"-p", "--package"}),
    "rustup": frozenset(),
    "flyctl": frozenset({"-a", "--app"}),
    "heroku": frozenset({"-a", "--app"}),
    "pulumi": frozenset({"-C", "--cwd", "-s", "--stack"}),
    "launchctl": frozenset(),
    "composer": frozenset({"-d", "--working-dir"}),
    "doctl": frozenset({"-t", "--access-token", "--context", "-o", "--output"}),
    "service": frozenset(),
}
_ALIASES = {"yum": "yum", "dnf": "dnf", "fly": "flyctl"}


@lru_cache(maxsize=4096)
def has_subcommand(program: str) -> bool:
    """Whether a program is a multi-command tool whose first positional is a subcommand."""
    family = program_family(program)
    return family in _GLOBAL_VALUE_OPTIONS or program in _ALIASES


def subcommand(program: str, args: Sequence[str]) -> str:
    """The first positional of a multi-command tool after its global options ("" if none)."""
    family = program_family(program)
    family = _ALIASES.get(program, family)
    value_opts = _GLOBAL_VALUE_OPTIONS.get(family)
    if value_opts is None:
        return ""
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--":
            continue
        if arg.startswith("-") and len(arg) > 1:
            if arg in value_opts:
                skip = True
            continue
        if family == "cargo" and arg.startswith("+"):
            continue  # toolchain selector: cargo +nightly build
        return arg
    return ""
