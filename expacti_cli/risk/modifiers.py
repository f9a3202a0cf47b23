"""The 25 modifiers: what raises (or pins) a part's score above its category base.

Each modifier looks at one analysed part, the category's verdict and the scoring context, and
returns a `Hit` (points, text for the reason line, a phrase for the summary, and an optional
floor the part's score cannot go below) or None. Modifiers read only the analysed structure,
never free text: a commit message that says "rm -rf" or "prod" changes nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from expacti_cli.analysis.model import SimpleCommand, SqlKind
from expacti_cli.risk.categories import build_test, network
from expacti_cli.risk.categories.base import Verdict
from expacti_cli.risk.model import RiskSettings


class Hit(NamedTuple):
    """A modifier firing on a part (a tuple: cheap to build, and many are built per second)."""

    points: int
    text: str
    phrase: str = ""  # summary suffix: "on a production target"
    floor: int = 0  # the part scores at least this
    headline: str = ""  # replaces the category's summary when this hit outweighs the base


@dataclass(frozen=True)
class Context:
    """Per-settings data prepared once (compiled markers, overrides)."""

    settings: RiskSettings
    markers: re.Pattern[str] | None
    protected_branches: frozenset[str]
    overrides: dict[str, str]
    protected_paths: tuple[str, ...]  # expacti's own directories, without trailing "/"
    protected_prefixes: tuple[str, ...] = ()  # the same with a trailing "/"
    # The markers in lower case when all are ASCII (a cheap test before the regex), else None.
    marker_words: tuple[str, ...] | None = None


@lru_cache(maxsize=32)
def context_for(settings: RiskSettings) -> Context:
    markers = tuple(m.strip().lower() for m in settings.production_markers if m.strip())
    pattern = None
    if markers:
        alternatives = "|".join(re.escape(m) for m in sorted(markers, key=len, reverse=True))
        # A marker is a word of its own: "prod" matches "prod-db" and "db.prod1", not "product".
        pattern = re.compile(rf"(?<![a-z])(?:{alternatives})(?![a-z])", re.IGNORECASE)
    own = (settings.expacti_home, *settings.protected_paths)
    protected = tuple(dict.fromkeys(p.rstrip("/") for p in own if p.strip("/")))
    return Context(
        settings,
        pattern,
        frozenset(settings.protected_branches),
        dict(settings.program_categories),
        protected,
        tuple(p + "/" for p in protected),
        markers if all(m.isascii() for m in markers) else None,
    )


@dataclass(frozen=True)
class Modifier:
    code: str  # reason code is "mod:<code>"
    label: str
    points: str  # documented effect, for `expacti score --explain`
    description: str
    # None for modifiers the scorer applies to the whole command (unparsed).
    check: Callable[[SimpleCommand, Verdict, Context], Hit | None] | None
    # Hot-path savings: skipped for parts that write nothing / change nothing.
    needs_write: bool = False
    needs_mutating: bool = False


# --------------------------------------------------------------------------- helpers

_FILE_F_PROGRAMS = frozenset(
    {"kubectl", "oc", "helm", "docker", "docker-compose", "podman", "psql", "mysql", "tar"}
    | {"make", "awk", "gawk", "crontab", "sqlite3", "skaffold", "kustomize", "ansible-playbook"}
    | {"ssh", "grep", "tail", "journalctl", "git", "gcc", "cc", "clang", "sed", "pg_restore"}
)
_ROOT_TARGETS = frozenset({"/", "/*", "/.*", "/..", "/../*"})
_HOME_TARGETS = frozenset(
    {"~", "~/*", "~/.*", "$HOME", "${HOME}", "$HOME/*", "${HOME}/*", "$HOME/.*", "${HOME}/.*"}
    | {"/root", "/root/*", "/home", "/home/*", "/Users", "/Users/*", "~root"}
)
_HOME_DIR = re.compile(r"^/(?:home|Users)/[^/*]+(?:/\*|/\.\*)?$")
_HOME_DOTDIR = re.compile(r"^(?:~|\$HOME|\$\{HOME\}|/root|/(?:home|Users)/[^/]+)/\.[^/.][^/]*$")
_SYSTEM_DIRS = frozenset(
    {"etc", "usr", "var", "boot", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "opt", "srv"}
    | {"sys", "proc", "dev", "System", "Library", "Applications", "private", "snap", "nix"}
)
_HARMLESS_SYSTEM = (
    "/dev/null",
    "/dev/stdout",
    "/dev/stderr",
    "/dev/tty",
    "/dev/fd/",
    "/dev/shm/",
    "/var/tmp",
    "/private/tmp",
    "/private/var/folders",
    "/proc/self/fd/",
)
_SHELLISH = build_test.SHELLS | build_test.INTERPRETERS | {"source", "."}
_GLOB = re.compile(r"[*?\[]|\$")


def normalise_path(target: str) -> str:
    """`/etc/` -> `/etc`, `~/.` -> `~`, `//` -> `/`; relative paths stay relative."""
    while len(target) > 1 and target.endswith("/"):
        target = target[:-1]
    while target.endswith("/.") and len(target) > 2:
        target = target[:-2]
    if target.startswith("//"):
        target = "/" + target.lstrip("/")
    return target or "/"


def write_targets(part: SimpleCommand, verdict: Verdict) -> tuple[str, ...]:
    """Paths the part writes or deletes: the verdict's targets and write redirects."""
    targets = verdict.targets if verdict.mutating else ()
    if not part.redirects:
        return targets
    redirects = tuple(r.target for r in part.redirects if r.is_write and r.target)
    return targets + redirects if redirects else targets


def _is_system_path(target: str) -> bool:
    if not target.startswith("/") or target.startswith(_HARMLESS_SYSTEM):
        return False
    first = target[1:].split("/", 1)[0]
    return first in _SYSTEM_DIRS


_PERSISTENCE = (
    (
        re.compile(
            r"(?:^|/)\.(?:bashrc|bash_profile|bash_login|bash_logout|profile|zshrc|zprofile|"
            r"zshenv|zlogin|zlogout|kshrc|cshrc|tcshrc|inputrc|envrc|xprofile|xinitrc)$|"
            r"(?:^|/)\.config/fish/(?:config\.fish|conf\.d/)|^/etc/(?:profile|bash\.bashrc|"
            r"bashrc|zsh/|zshrc|environment|profile\.d/)"
        ),
        "a shell startup file",
    ),
    (re.compile(r"(?:^|/)\.git/hooks(?:/|$)|(?:^|/)hooks/(?:pre|post)-[a-z-]+$"), "a git hook"),
    (re.compile(r"^/etc/cron|^/var/spool/cron|^crontab$|^/etc/anacrontab"), "cron"),
    (re.compile(r"(?:^|/)\.ssh/(?:authorized_keys2?|rc|config)$|^/etc/ssh/"), "ssh access"),
    (
        re.compile(r"^/etc/sudoers|^/etc/(?:passwd|shadow|group|gshadow)$|^/etc/pam\.d/"),
        "accounts or sudoers",
    ),
    (
        re.compile(
            r"^/etc/(?:systemd|init\.d|rc\.local|ld\.so\.preload)|(?:^|/)\.config/systemd/|"
            r"^/(?:usr/)?lib/systemd/|(?:^|/)Library/Launch(?:Agents|Daemons)/|"
            r"(?:^|/)\.config/autostart/"
        ),
        "a startup service",
    ),
)


WHOLE_HOME, HOME_DOTDIR = 1, 2


class PathFacts(NamedTuple):
    """What writing or deleting one path touches (see `path_facts`)."""

    root: bool  # "/" itself
    home: int  # 0, WHOLE_HOME or HOME_DOTDIR (~/.ssh-style configuration directory)
    system: bool  # /etc, /usr, /var...
    persistence: str  # "a shell startup file", "cron"... or ""


@lru_cache(maxsize=4096)
def path_facts(target: str) -> PathFacts:
    """Classify a written or deleted path once: the same paths come back in command after
    command, and the path modifiers ask about each of them several times."""
    path = normalise_path(target)
    if path in _HOME_TARGETS or _HOME_DIR.match(path):
        home = WHOLE_HOME
    elif _HOME_DOTDIR.match(path):
        home = HOME_DOTDIR
    else:
        home = 0
    # Startup files are matched as written: `~/.bashrc` and `/etc/cron.d/x`.
    persistence = next((kind for pattern, kind in _PERSISTENCE if pattern.search(target)), "")
    return PathFacts(path in _ROOT_TARGETS, home, _is_system_path(path), persistence)


# --------------------------------------------------------------------------- the modifiers


def recursive(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if not (verdict.destructive or verdict.category == "permissions"):
        return None
    if part.short_flags & {"r", "R"} or "recursive" in part.long_flags:
        if part.program in ("scp", "rsync", "cp", "grep"):
            return None
        return _RECURSIVE_HIT
    return None


_RECURSIVE_HIT = Hit(12, "recursive: every file below the targets", "recursive")


def force(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if not verdict.mutating:
        return None
    forced = "force" in part.long_flags or "-force" in part.argv
    if not forced and "f" in part.short_flags and part.program not in _FILE_F_PROGRAMS:
        forced = True
    if part.program == "git" and "f" in part.short_flags and verdict.summary == "push":
        forced = True
    if not forced:
        return None
    if verdict.category == "vcs" and verdict.summary == "push":
        return _FORCE_PUSH_HIT
    return _FORCE_HIT


_FORCE_PUSH_HIT = Hit(25, "force push: rewrites the remote history", "with force")
_FORCE_HIT = Hit(8, "force: no prompts, errors ignored", "forced")


_ROOT_HIT = Hit(60, 'root path: "/"', "of the root directory")


def _root_path(targets: tuple[str, ...]) -> Hit | None:
    for target in targets:
        if path_facts(target).root:
            return _ROOT_HIT
    return None


def _home_path(targets: tuple[str, ...], verdict: Verdict) -> Hit | None:
    for target in targets:
        home = path_facts(target).home
        if home == WHOLE_HOME:
            return Hit(
                45, f'home path: "{target}" (the whole home directory)', "of the home directory"
            )
        if home == HOME_DOTDIR and verdict.destructive:
            return Hit(
                20, f'home path: "{target}" (a configuration directory)', "in the home directory"
            )
    return None


def _system_path(targets: tuple[str, ...]) -> Hit | None:
    for target in targets:
        if path_facts(target).system:
            return Hit(30, f'system path: "{target}"', "in a system directory")
    return None


def _persistence_write(targets: tuple[str, ...]) -> Hit | None:
    for target in targets:
        if kind := path_facts(target).persistence:
            return Hit(50, f'writes to {kind}: "{target}"', "", 88, f"write to {kind}")
    return None


def root_path(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    return _root_path(write_targets(part, verdict))


def home_path(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    return _home_path(write_targets(part, verdict), verdict)


def system_path(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    return _system_path(write_targets(part, verdict))


_PROD_FLAGS = (
    "--context",
    "--kube-context",
    "--cluster",
    "--profile",
    "--project",
    "--env",
    "--environment",
    "--stage",
    "--app",
    "--host",
    "--workspace",
    "--url",
    "--database-url",
    "--db",
    "--database",
    "--uri",
    "--dbname",
    "--connection",
    "--target",
    "--namespace",
    "--kubeconfig",
    "--region-profile",
    "--org",
    "--site",
    "--alias",
)
_PROD_FLAG_SET = frozenset(_PROD_FLAGS)
_PROD_SHORT_FLAGS = {
    "kubectl": ("-n",),
    "oc": ("-n",),
    "helm": ("-n",),
    "heroku": ("-a",),
    "fly": ("-a",),
    "flyctl": ("-a",),
    "psql": ("-h", "-d"),
    "mysql": ("-h", "-D"),
    "redis-cli": ("-h", "-u"),
    "docker": ("-H", "-c"),
    "mongosh": ("--host",),
    "pg_dump": ("-h", "-d"),
}
_PROD_ENV = re.compile(r"ENV|STAGE|URL|HOST|DATABASE|DB|CONTEXT|PROFILE|PROJECT|CLUSTER|DSN")
_REMOTE_PROGRAMS = frozenset({"ssh", "mosh", "autossh", "scp", "rsync", "sftp", "rclone"})


def _flag_values(part: SimpleCommand) -> list[str]:
    """Values of the options that name where a command acts (`--context prod`, `-n live`)."""
    argv = part.argv
    short = _PROD_SHORT_FLAGS.get(part.program, ())
    values = []
    for i in range(1, len(argv)):
        word = argv[i]
        if word[:1] != "-":
            continue
        name, eq, value = word.partition("=")
        if name in _PROD_FLAG_SET or name in short:
            if not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
            if value:
                values.append(value)
    return values


def _production_candidates(part: SimpleCommand, verdict: Verdict) -> list[str]:
    found = [value for value in (part.remote_host, part.db_target, part.container) if value]
    if len(part.argv) > 1:
        found.extend(_flag_values(part))
    for flag in part.long_flags:
        if flag in ("prod", "production", "live"):
            found.append("--" + flag)
    for name, value in part.env:
        if _PROD_ENV.search(name.upper()):
            found.append(value)
    program = part.program
    if program in _REMOTE_PROGRAMS:
        if program in ("ssh", "mosh", "autossh"):
            found.extend(part.positionals[:1])
        else:
            found.extend(w for w in part.positionals if ":" in w)
    elif program == "git" and verdict.summary == "push":
        positionals = part.positionals
        rest = positionals[positionals.index("push") + 1 :] if "push" in positionals else ()
        found.extend(rest[:1])  # the remote's name: `git push production`
    elif program in ("terraform", "tofu", "pulumi") and "workspace" in part.positionals:
        found.extend(part.positionals[-1:])
    if verdict.mutating:
        found.extend(w for w in part.positionals if "://" in w)
    return found


_PLACELESS = frozenset({"read_only", "build", "file_write", "file_delete", "permissions"})


def _may_name_marker(part: SimpleCommand, words: tuple[str, ...], argv_text: str) -> bool:
    """False when no production candidate of the part can contain a marker: every candidate
    is a word of argv (flags and positionals are argv words), the part of one after "=", an
    env value, the host, the database or the container. A necessary condition only (no
    word boundaries): the regex decides, this only skips building the candidates.
    `argv_text` is "\n".join(part.argv)."""
    text = argv_text
    if part.env or part.remote_host or part.db_target or part.container:
        extra = (part.remote_host, part.db_target, part.container)
        text = "\n".join((text, *(value for _, value in part.env), *extra))
    if not text.isascii():
        return True  # the regex's case folding knows more equivalences than str.lower()
    text = text.lower()
    for word in words:
        if word in text:
            return True
    return False


def production_target(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    return _production_target(part, verdict, ctx, "\n".join(part.argv))


def _production_target(
    part: SimpleCommand, verdict: Verdict, ctx: Context, argv_text: str
) -> Hit | None:
    if ctx.markers is None:
        return None
    if verdict.category in _PLACELESS and not (
        part.remote_host or part.db_target or part.container or part.env
    ):
        return None  # local file commands name no host, context or database
    if ctx.marker_words is not None and not _may_name_marker(part, ctx.marker_words, argv_text):
        return None
    for candidate in _production_candidates(part, verdict):
        if ctx.markers.search(candidate):
            points = 22 if verdict.mutating else 10
            return Hit(points, f'production target: "{candidate}"', "on a production target")
    return None


def _push_branches(part: SimpleCommand) -> list[str]:
    if "push" not in part.positionals:
        return []
    refspecs = part.positionals[part.positionals.index("push") + 1 :][1:]
    branches = []
    for refspec in refspecs:
        destination = refspec.lstrip("+").rsplit(":", 1)[-1]
        branches.append(destination.removeprefix("refs/heads/"))
    return branches


def protected_branch(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if part.program != "git" or verdict.summary != "push":
        return None
    for branch in _push_branches(part):
        if branch in ctx.protected_branches:
            return Hit(20, f'protected branch: "{branch}"', f"to {branch}")
    return None


def no_where(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    for statement in part.sql:
        if statement.kind == SqlKind.WRITE_NO_WHERE:
            return Hit(
                25, f"no WHERE clause: {statement.verb} touches every row", "without a WHERE clause"
            )
    return None


_SKIP_WORDS = frozenset(
    {"-y", "--yes", "--assume-yes", "-auto-approve", "--auto-approve", "--no-confirm"}
    | {"--noconfirm", "--non-interactive", "--noninteractive", "--force-yes", "--no-prompt"}
    | {"--yes-i-really-mean-it", "--accept-data-loss", "--skip-confirmation", "--confirm"}
    | {"--skip-prompt", "--no-input", "--unattended", "--silent-confirm", "-force"}
)


def skip_confirmation(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    return _skip_confirmation(part, verdict, "\n".join(part.argv))


def _skip_confirmation(part: SimpleCommand, verdict: Verdict, argv_text: str) -> Hit | None:
    if not verdict.mutating or verdict.category == "file_delete":
        return None
    # Most commands have none of these words: one set test instead of a test per word.
    if not _SKIP_WORDS.isdisjoint(part.argv) or "--confirm=" in argv_text:
        for word in part.argv[1:]:
            if word in _SKIP_WORDS or word.startswith("--confirm="):
                return Hit(15, f"skips confirmation: {word}", "without confirmation")
    if "y" in part.short_flags and verdict.category in ("packages", "system"):
        return Hit(15, "skips confirmation: -y", "without confirmation")
    if part.program in ("gcloud",) and ("q" in part.short_flags or "quiet" in part.long_flags):
        return Hit(15, "skips confirmation: --quiet", "without confirmation")
    return None


def pipe_to_shell(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if part.piped_into in _SHELLISH and part.program in network.DOWNLOADERS:
        # The producer side: `curl URL | sh` runs whatever the server sends.
        text = f"pipe to shell: output of {part.program} runs in {part.piped_into}"
        return Hit(72, text, "", headline="downloaded code piped into a shell")
    if part.program not in _SHELLISH or part.interpreter_code or "c" in part.short_flags:
        return None
    first = part.positionals[0] if part.positionals else ""
    from_procsub = first.startswith(("<(", "/dev/fd/", "/dev/stdin")) or first == "-"
    if not (part.pipeline_position > 0 and not first) and not from_procsub:
        return None
    downloaded = from_procsub and any(d in first for d in network.DOWNLOADERS)
    text = f"pipe to shell: {part.program} runs code from its input"
    return Hit(70 if downloaded else 60, text, "", headline="code piped into a shell")


def obfuscation(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if part.obfuscated:
        return Hit(50, "obfuscation: encoded or escaped code runs", "", 85, "obfuscated code")
    return None


def remote_host(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if part.remote_host:
        return Hit(15, f'remote host: runs on "{part.remote_host}"', "over ssh")
    if part.container:
        return Hit(10, f'remote host: runs inside "{part.container}"', "inside a container")
    return None


_ALL_FLAGS = frozenset({"all", "all-namespaces", "mirror", "all-databases", "everything", "prune"})
_ALL_CATEGORIES = frozenset({"containers", "cloud", "database", "processes", "permissions"})


def all_resources(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if not (
        verdict.destructive or verdict.category in _ALL_CATEGORIES or verdict.summary == "push"
    ):
        return None
    if not verdict.mutating:
        return None
    flags = part.long_flags & _ALL_FLAGS
    if flags:
        return Hit(15, f"all resources: --{min(flags)}", "of all resources")
    if part.program in ("kubectl", "oc") and "A" in part.short_flags:
        return Hit(15, "all resources: -A (every namespace)", "in every namespace")
    if (
        part.program in ("docker", "podman")
        and "a" in part.short_flags
        and "prune" in part.positionals
    ):
        return Hit(15, "all resources: -a", "of all resources")
    if verdict.category != "file_delete" and "*" in part.positionals:
        return Hit(15, 'all resources: "*"', "of everything")
    if part.program in ("kubectl", "oc") and "all" in part.positionals:
        return Hit(15, 'all resources: "all"', "of all resources")
    return None


_BACKGROUND_WRAPPERS = frozenset({"nohup", "setsid", "disown", "daemonize", "screen", "tmux"})


def background(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if part.background or (part.wrappers and _BACKGROUND_WRAPPERS.intersection(part.wrappers)):
        return Hit(5, "background: keeps running after the prompt returns", "in the background")
    return None


def persistence_write(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    return _persistence_write(write_targets(part, verdict))


_EXPACTI_PATH = re.compile(
    r"(?:^|/)\.expacti(?:/|$)|(?:^|/)(?:\.config|\.local/share|\.cache|Application Support|"
    r"AppData/(?:Local|Roaming)|etc|run/user/\d+)/expacti(?:/|$)|\$\{?EXPACTI_"
)
_EXPACTI_READS = frozenset({"list", "ls", "test", "show", "get", "path", "--help", "-h"})
_EXPACTI_WRITES = frozenset({"approve", "deny", "whitelist", "config", "rules", "allow"})


def _is_protected(target: str, ctx: Context) -> bool:
    # Every alternative of _EXPACTI_PATH contains one of these: most targets skip the regex.
    if ("expacti" in target or "EXPACTI_" in target) and _EXPACTI_PATH.search(target):
        return True
    if not ctx.protected_paths:
        return False
    if target.startswith("~"):
        # Expanding ~ reads $HOME, not the disk; it lets `~/.config/...` match the real path.
        target = os.path.expanduser(target)
    return target in ctx.protected_paths or target.startswith(ctx.protected_prefixes)


def _expacti_positionals(part: SimpleCommand) -> tuple[str, ...] | None:
    """The arguments given to expacti, whether run as `expacti ...` or `python -m expacti_cli ...`."""
    if part.program == "expacti":
        return part.positionals
    if part.program.startswith("python"):
        argv = part.argv
        for i in range(1, len(argv) - 1):
            if argv[i] == "-m" and argv[i + 1] in _EXPACTI_MODULES:
                return tuple(w for w in argv[i + 2 :] if not w.startswith("-"))
    return None


_EXPACTI_MODULES = frozenset({"expacti_cli", "expacti_cli.__main__", "expacti_cli.cli"})


def _may_tamper(program: str) -> bool:
    return program in _TAMPER_PROGRAMS or program.startswith("python")


def _expacti_subcommand(part: SimpleCommand) -> str:
    positionals = _expacti_positionals(part)
    if not positionals or positionals[0] not in _EXPACTI_WRITES:
        return ""
    action = positionals[1] if len(positionals) > 1 else ""
    if positionals[0] in ("whitelist", "config", "rules") and (
        action in _EXPACTI_READS or not action
    ):
        return ""
    return " ".join(positionals[:2])


_TAMPER_PROGRAMS = frozenset({"expacti", "kill", "pkill", "killall", "export", "unset"})


def expacti_tamper(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if not (verdict.targets or part.redirects or part.env or _may_tamper(part.program)):
        return None
    return _expacti_tamper(part, write_targets(part, verdict), ctx)


def _expacti_tamper(part: SimpleCommand, targets: tuple[str, ...], ctx: Context) -> Hit | None:
    text = ""
    for target in targets:
        if _is_protected(target, ctx):
            text = f'changes expacti\'s own files: "{target}"'
            break
    if not text and (sub := _expacti_subcommand(part)):
        text = f"changes expacti itself: expacti {sub}"
    if not text and part.program in ("kill", "pkill", "killall"):
        if any("expacti" in word for word in part.argv):
            text = "stops expacti"
    if not text:
        for name, _ in part.env:
            if name.startswith("EXPACTI_"):
                text = f"changes expacti's environment: {name}"
                break
        if part.program in ("export", "unset") and any(w.startswith("EXPACTI_") for w in part.argv):
            text = "changes expacti's environment"
    if text:
        return Hit(60, text, "", 95, "change to expacti itself")
    return None


_SECRET_PATH = re.compile(
    r"(?:^|/)\.env(?:\.(?!example|sample|template|dist|defaults?\b)[\w.-]+)?$|"
    r"(?:^|/)id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?$|(?:^|/)\.aws/credentials|"
    r"(?:^|/)\.(?:netrc|pgpass|my\.cnf|git-credentials|npmrc|pypirc|vault-token|htpasswd)$|"
    r"(?:^|/)\.docker/config\.json|(?:^|/)\.kube/config|(?:^|/)\.config/gcloud/|"
    r"(?:^|/)\.gnupg/|^/etc/(?:g?shadow|sudoers)|credentials\.json$|"
    r"service[-_]?account[\w.-]*\.json$|\.(?:pem|key|p12|pfx|jks|keystore|ppk)$|"
    r"(?:^|/)secrets?\.(?:ya?ml|json|toml|env)$|(?:^|/)master\.key$|\.terraform\.d/credentials"
)
_SECRET_PATH_LINES = re.compile(_SECRET_PATH.pattern, re.MULTILINE)
_ONE_LINE, _WHOLE_WORD = 1, 2


def _may_name_secret(text: str) -> bool:
    # Every alternative of _SECRET_PATH contains ".", "id_" or "/etc/": most words skip it.
    return "." in text or "id_" in text or "/etc/" in text


@lru_cache(maxsize=4096)
def secret_path_match(word: str) -> int:
    """0, or _ONE_LINE when one line of the word names a secret file, or _WHOLE_WORD when
    the word as a whole does (what the reason quotes). Cached: the regex has many unanchored
    alternatives and costs microseconds per word, and the same words come back."""
    if not _may_name_secret(word):
        return 0
    if _SECRET_PATH.search(word):
        return _WHOLE_WORD
    return _ONE_LINE if _SECRET_PATH_LINES.search(word) else 0


_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY|ACCESS_KEY|CREDENTIAL|_AUTH\b|_PAT\b"
)
_SECRET_VERBS = frozenset({"get-secret-value", "get-parameter", "get-parameters", "access"})
_PRINTERS = frozenset({"echo", "printf", "printenv", "print"})
_NOT_READERS = frozenset(
    {"touch", "mkdir", "ls", "stat", "test", "[", "[[", "file", "du", "find", "realpath"}
    | {"basename", "dirname", "which", "chmod", "chown", "ssh-keygen", "cd", "export", "unset"}
)


_NOT_SECRET_READS = frozenset({"file_delete", "permissions"})  # categories, see _NOT_READERS
# Programs whose arguments or output _secret_read looks at even when no word names a file.
_SECRET_PRINTERS = _PRINTERS | {"env", "kubectl", "oc"}


def secret_read(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    return _secret_read(part, verdict, "\n".join(part.argv))


def _secret_read(part: SimpleCommand, verdict: Verdict, argv_text: str) -> Hit | None:
    """secret_read; `argv_text` is "\n".join(part.argv), shared with other modifiers."""
    program = part.program
    if verdict.category in _NOT_SECRET_READS or program in _NOT_READERS:
        return None
    # The program's own name may contain "." too: then the words are looked at one by one.
    if len(part.argv) > 1 and _may_name_secret(argv_text):
        args = part.argv[1:]
        for word in args:
            if secret_path_match(word):
                # Quote the word that names the secret as a whole, else the first argument.
                word = next((w for w in args if secret_path_match(w) == _WHOLE_WORD), args[0])
                return Hit(60, f'secret read: "{word}"', "", headline="secret file read")
    for redirect in part.redirects:
        if redirect.op == "<" and secret_path_match(redirect.target) == _WHOLE_WORD:
            return Hit(60, f'secret read: "{redirect.target}"', "", headline="secret file read")
    if program in _PRINTERS or program == "env":
        names = [w for w in part.argv[1:] if _SECRET_NAME.search(w.upper())]
        if program in ("echo", "printf", "print"):
            names = [w for w in names if "$" in w]
        if names:
            return Hit(60, f"secret read: prints {names[0]}", "", headline="secret printed")
        if program in ("printenv", "env") and not part.positionals:
            return Hit(
                30, "secret read: dumps every environment variable", "", headline="environment dump"
            )
    if verdict.category == "cloud" and _SECRET_VERBS.intersection(part.positionals):
        return Hit(60, "secret read: fetches a secret value", "", headline="secret read")
    if program in ("kubectl", "oc") and {"secret", "secrets"} & set(part.positionals):
        if "get" in part.positionals or "describe" in part.positionals:
            return Hit(50, "secret read: kubernetes secret", "", headline="secret read")
    return None


def unknown_program(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if verdict.category == "unknown" and not part.dynamic_program:
        name = part.argv[0] if part.argv else part.program
        return Hit(40, f'unknown program: "{name}"', "", headline="unknown program")
    return None


def indirection(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if part.dynamic_program:
        name = part.argv[0] if part.argv else "?"
        text = f'indirection: program "{name}" is only known at run time'
        return Hit(50, text, "", 60, "program chosen at run time")
    if part.is_eval:
        if part.program == "fc":  # the commands it re-runs are not in the text at all
            return Hit(
                50,
                "indirection: re-runs earlier commands the reviewer cannot see",
                "",
                60,
                "re-run of shell history",
            )
        if part.dynamic_args or part.has_substitution:
            return Hit(
                40, "indirection: evaluates text built at run time", "", 60, "eval of run-time text"
            )
        return Hit(10, "indirection: eval of literal text", "")
    if part.has_substitution:
        return Hit(5, "indirection: command substitution (inner commands scored too)", "")
    return None


def write_redirect(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    for redirect in part.redirects:
        if redirect.is_write:
            if redirect.dynamic or not redirect.target:
                return Hit(20, f"write redirect: to a computed path ({redirect.op})", "")
            return Hit(15, f'write redirect: "{redirect.target}"', "")
    return None


_MULTI_INPUT = frozenset({"xargs", "parallel"})


def wildcard_delete(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if not verdict.destructive:
        return None
    if verdict.category == "file_delete" or verdict.category == "cloud":
        for target in verdict.targets:
            if _GLOB.search(target):
                kind = "variable" if "$" in target else "wildcard"
                return Hit(
                    15, f'wildcard delete: "{target}" expands at run time ({kind})', "by wildcard"
                )
    if _MULTI_INPUT.intersection(part.wrappers):
        return Hit(15, "wildcard delete: targets come from input (xargs)", "")
    if "{}" in verdict.targets or any(
        v.startswith(("find", "xargs", "parallel")) for v in part.via
    ):
        return Hit(15, "wildcard delete: targets are whatever find matches", "")
    return None


_ROOT_WRAPPERS = ("sudo", "doas", "pkexec", "run0", "su")
_HOST_ACCESS = re.compile(
    r"^(?:--(?:pid|network|net|ipc|uts|userns)=host|--cap-add=(?:ALL|SYS_ADMIN))$"
)


_CONTAINER_RUNNERS = frozenset({"docker", "podman", "nerdctl"})


def elevated(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if not part.wrappers and part.program not in _CONTAINER_RUNNERS:
        return None
    points, texts = 0, []
    root = next((w for w in part.wrappers if w in _ROOT_WRAPPERS), "")
    if root:
        points, texts = 10, [f"runs as root ({root})"]
    if part.program in ("docker", "podman", "nerdctl") and (
        {"run", "create"} & set(part.positionals)
    ):
        argv = part.argv
        if "--privileged" in argv:
            points, texts = points + 40, [*texts, "privileged container"]
        else:
            mounts = [
                argv[i + 1] for i, w in enumerate(argv[:-1]) if w in ("-v", "--volume", "--mount")
            ]
            mounts += [w.split("=", 1)[1] for w in argv if w.startswith(("--volume=", "--mount="))]
            host = any(
                m.startswith(("/:", "/var/run/docker.sock", "/etc:", "/root")) for m in mounts
            )
            if host or any(_HOST_ACCESS.match(w) for w in argv):
                points, texts = points + 30, [*texts, "container gets host access"]
    if points:
        return Hit(points, "elevated: " + ", ".join(texts), "with elevated privileges")
    return None


_CODE_EXEC = re.compile(
    r"os\.system|subprocess|popen|\bexec[a-zA-Z]*\(|child_process|spawn|Runtime\.getRuntime|"
    r"\bsystem\s*\(|`[^`]+`|\beval\s*\(|__import__|pty\.spawn"
)
_CODE_DELETE = re.compile(
    r"rmtree|os\.remove|os\.unlink|os\.rmdir|\bunlink\s*\(|rmSync|rmdirSync|fs\.rm|"
    r"File\.delete|FileUtils\.rm|\.unlink\(\)|rimraf"
)
_CODE_NET = re.compile(
    r"requests\.|urllib|http\.client|socket|fetch\(|axios|Net::HTTP|LWP|https?://"
)
_CODE_WRITE = re.compile(
    r"open\([^)]*['\"][wa]b?\+?['\"]|writeFile|write_text|write_bytes|File\.write"
)


# A string literal handed to a call that runs a command: os.system('...'), execSync("...").
_COMMAND_LITERAL = re.compile(
    r"(?:system|popen|run|call|check_output|check_call|getoutput|getstatusoutput|exec|execSync|"
    r"spawnSync|spawn|Popen|shell_exec|passthru)\s*\(\s*(?:\[\s*)?(['\"])((?:\\.|(?!\1).)*)\1"
)
_SCORING_INLINE: ContextVar[bool] = ContextVar("scoring_inline", default=False)


@lru_cache(maxsize=256)
def _literal_score(literal: str, settings: RiskSettings) -> int:
    """Score of one command string found in inline code (always run one level deep, see
    below). Cached: the same one-liners come back, and each costs a full analysis."""
    from expacti_cli.analysis import analyze
    from expacti_cli.risk.scorer import score_analysis

    return score_analysis(analyze(literal), settings).score


def _inline_command_score(code: str, ctx: Context) -> tuple[int, str]:
    """Score shell commands that inline code passes to os.system & co (one level deep)."""
    if _SCORING_INLINE.get():
        return 0, ""
    token = _SCORING_INLINE.set(True)
    try:
        best, best_text = 0, ""
        for match in _COMMAND_LITERAL.finditer(code):
            literal = match.group(2)
            score = _literal_score(literal, ctx.settings)
            if score > best:
                best, best_text = score, literal
        return best, best_text
    finally:
        _SCORING_INLINE.reset(token)


def inline_code(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    code = part.interpreter_code
    if not code:
        return None
    headline = "inline code that runs commands"
    if match := _CODE_EXEC.search(code) or _CODE_DELETE.search(code):
        inner, literal = _inline_command_score(code, ctx)
        if inner - verdict.base > 30:
            return Hit(
                inner - verdict.base, f'inline code: runs "{literal}"', "", headline=headline
            )
        return Hit(30, f'inline code: calls "{match.group(0)}"', "", headline=headline)
    if match := _CODE_NET.search(code) or _CODE_WRITE.search(code):
        return Hit(15, f'inline code: uses "{match.group(0)}"', "", headline="inline code")
    return None


_UPLOAD_FLAGS = frozenset({"upload-file", "post-file", "body-file"})


def data_upload(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    program = part.program
    if program in network.DOWNLOADERS:
        if "T" in part.short_flags or part.long_flags & _UPLOAD_FLAGS:
            return Hit(25, "data upload: sends a local file", "sending local files out")
        if any(w.startswith("@") or "=@" in w for w in part.argv[1:]):
            return Hit(25, "data upload: sends a local file", "sending local files out")
    elif program in ("scp", "rsync", "rclone", "sftp") and len(part.positionals) >= 2:
        *sources, destination = part.positionals
        if ":" in destination and any(":" not in s for s in sources):
            return Hit(
                20, f'data upload: copies local files to "{destination}"', "sending local files out"
            )
    elif program in ("nc", "netcat", "ncat", "socat"):
        if part.pipeline_position > 0 or any(r.op == "<" for r in part.redirects):
            return Hit(25, "data upload: sends data over a raw socket", "sending data out")
    return None


MODIFIERS: tuple[Modifier, ...] = (
    Modifier(
        "recursive",
        "recursive",
        "+12",
        "-r/-R/--recursive on a delete or permission change",
        recursive,
        needs_mutating=True,
    ),
    Modifier(
        "force",
        "force",
        "+8 (+25 for git push)",
        "-f/--force: no prompts, errors ignored; force push",
        force,
        needs_mutating=True,
    ),
    Modifier(
        "root_path", "root path", "+60", "writes or deletes / itself", root_path, needs_write=True
    ),
    Modifier(
        "home_path",
        "home path",
        "+45 (+20 for a dot-directory)",
        "the whole home directory, or ~/.ssh-style directories",
        home_path,
        needs_write=True,
    ),
    Modifier(
        "system_path",
        "system path",
        "+30",
        "/etc, /usr, /var, /boot, /bin, /lib, /dev, /System...",
        system_path,
        needs_write=True,
    ),
    Modifier(
        "production_target",
        "production target",
        "+22 (+10 for reads)",
        "a production marker in a host, kube context, DB target, URL or remote",
        production_target,
    ),
    Modifier(
        "protected_branch",
        "protected branch",
        "+20",
        "git push to a protected branch (main, master...)",
        protected_branch,
    ),
    Modifier(
        "no_where", "no WHERE clause", "+25", "UPDATE/DELETE that touches every row", no_where
    ),
    Modifier(
        "skip_confirmation",
        "skip confirmation",
        "+15",
        "-y, --yes, -auto-approve, --no-confirm, --accept-data-loss...",
        skip_confirmation,
        needs_mutating=True,
    ),
    Modifier(
        "pipe_to_shell",
        "pipe to shell",
        "+60 (+70 when downloaded)",
        "code from a pipe or process substitution runs in a shell",
        pipe_to_shell,
    ),
    Modifier(
        "obfuscation",
        "obfuscation",
        "+50, at least 85",
        "base64/hex-decoded or escaped code runs",
        obfuscation,
    ),
    Modifier(
        "remote_host",
        "remote host",
        "+15 (+10 in a container)",
        "runs through ssh, docker exec or kubectl exec",
        remote_host,
    ),
    Modifier(
        "all_resources",
        "all resources",
        "+15",
        "--all, -A, --all-namespaces, `*` on a change",
        all_resources,
        needs_mutating=True,
    ),
    Modifier("background", "background", "+5", "`&`, nohup, setsid: runs on unseen", background),
    Modifier(
        "persistence_write",
        "persistence write",
        "+50, at least 88",
        "writes rc files, git hooks, cron, ssh keys, sudoers, services",
        persistence_write,
        needs_write=True,
    ),
    Modifier(
        "expacti_tamper",
        "expacti tamper",
        "+60, at least 95",
        "changes expacti's own files, rules, config or environment",
        expacti_tamper,
    ),
    Modifier(
        "secret_read",
        "secret read",
        "+60 (+30 for a full env dump)",
        ".env, private keys, cloud credentials, printed tokens",
        secret_read,
    ),
    Modifier(
        "unknown_program",
        "unknown program",
        "+40",
        "a program no category knows (project scripts included)",
        unknown_program,
    ),
    Modifier(
        "unparsed", "unparsed", "at least 60", "the command could not be parsed: never LOW", None
    ),
    Modifier(
        "indirection",
        "indirection",
        "+5 to +50, at least 60 when dynamic",
        "program or eval text known only at run time; command substitution",
        indirection,
    ),
    Modifier(
        "write_redirect",
        "write redirect",
        "+15 (+20 to a computed path)",
        "> or >> to a file (not /dev/null or 2>&1)",
        write_redirect,
        needs_write=True,
    ),
    Modifier(
        "wildcard_delete",
        "wildcard delete",
        "+15",
        "a delete whose targets are globs, variables or come from xargs",
        wildcard_delete,
        needs_mutating=True,
    ),
    Modifier(
        "elevated",
        "elevated",
        "+10 sudo, +40 privileged container",
        "sudo/doas, docker --privileged, host mounts",
        elevated,
    ),
    Modifier(
        "inline_code",
        "inline code",
        "+15 to +30",
        "python -c/node -e code that runs commands, deletes, writes or talks to the network",
        inline_code,
    ),
    Modifier(
        "data_upload",
        "data upload",
        "+20 to +25",
        "curl -d @file, -T, scp to a remote, piping into nc",
        data_upload,
    ),
)

Check = Callable[[SimpleCommand, Verdict, Context], Hit | None]
_CHECKED: list[tuple[Modifier, Check]] = [(m, m.check) for m in MODIFIERS if m.check is not None]
# The order hits are listed in (it decides ties in the reasons and the summary): modifiers
# for any part, then for parts that change something, then for parts that write paths.
# `collect_hits` is the fast equivalent of running them in this order.
PART_MODIFIERS = tuple(
    (m.code, check) for m, check in _CHECKED if not (m.needs_write or m.needs_mutating)
)
MUTATING_MODIFIERS = tuple((m.code, check) for m, check in _CHECKED if m.needs_mutating)
WRITE_MODIFIERS = tuple((m.code, check) for m, check in _CHECKED if m.needs_write)
UNPARSED_FLOOR = 60

_UPLOADERS = network.DOWNLOADERS | {"scp", "rsync", "rclone", "sftp", "nc", "netcat", "ncat"}
_UPLOADERS |= {"socat"}


def collect_hits(part: SimpleCommand, verdict: Verdict, ctx: Context) -> list[tuple[str, Hit]]:
    """Every modifier that fires on the part, as ("mod:<code>", hit), in the order above.

    Same result as calling each check in turn (tests/test_risk_fast_path.py holds it to
    that), but the cheap precondition of each check is tested here first: most parts have no
    redirects, wrappers, SQL or inline code, and a call that returns None still costs.
    """
    hits: list[tuple[str, Hit]] = []
    program = part.program
    category = verdict.category
    argv_text = "\n".join(part.argv)  # for the cheap pre-checks of several modifiers
    hit: Hit | None
    if ctx.markers is not None and (
        category not in _PLACELESS
        or part.remote_host
        or part.db_target
        or part.container
        or part.env
    ):
        if (hit := _production_target(part, verdict, ctx, argv_text)) is not None:
            hits.append(("mod:production_target", hit))
    if program == "git" and verdict.summary == "push":
        if (hit := protected_branch(part, verdict, ctx)) is not None:
            hits.append(("mod:protected_branch", hit))
    if part.sql and (hit := no_where(part, verdict, ctx)) is not None:
        hits.append(("mod:no_where", hit))
    if program in _SHELLISH or (part.piped_into and program in network.DOWNLOADERS):
        if (hit := pipe_to_shell(part, verdict, ctx)) is not None:
            hits.append(("mod:pipe_to_shell", hit))
    if part.obfuscated and (hit := obfuscation(part, verdict, ctx)) is not None:
        hits.append(("mod:obfuscation", hit))
    if (part.remote_host or part.container) and (hit := remote_host(part, verdict, ctx)):
        hits.append(("mod:remote_host", hit))
    if (part.background or part.wrappers) and (hit := background(part, verdict, ctx)):
        hits.append(("mod:background", hit))
    targets = write_targets(part, verdict) if verdict.targets or part.redirects else ()
    if verdict.targets or part.redirects or part.env or _may_tamper(program):
        if (hit := _expacti_tamper(part, targets, ctx)) is not None:
            hits.append(("mod:expacti_tamper", hit))
    if (
        category not in _NOT_SECRET_READS
        and program not in _NOT_READERS
        and (
            (len(part.argv) > 1 and _may_name_secret(argv_text))
            or part.redirects
            or program in _SECRET_PRINTERS
            or category == "cloud"
        )
    ):
        if (hit := _secret_read(part, verdict, argv_text)) is not None:
            hits.append(("mod:secret_read", hit))
    if category == "unknown" and (hit := unknown_program(part, verdict, ctx)) is not None:
        hits.append(("mod:unknown_program", hit))
    if part.dynamic_program or part.is_eval or part.has_substitution:
        if (hit := indirection(part, verdict, ctx)) is not None:
            hits.append(("mod:indirection", hit))
    if part.wrappers or program in _CONTAINER_RUNNERS:
        if (hit := elevated(part, verdict, ctx)) is not None:
            hits.append(("mod:elevated", hit))
    if part.interpreter_code and (hit := inline_code(part, verdict, ctx)) is not None:
        hits.append(("mod:inline_code", hit))
    if program in _UPLOADERS and (hit := data_upload(part, verdict, ctx)) is not None:
        hits.append(("mod:data_upload", hit))

    if verdict.mutating:
        if (verdict.destructive or category == "permissions") and (
            hit := recursive(part, verdict, ctx)
        ) is not None:
            hits.append(("mod:recursive", hit))
        if (part.short_flags or part.long_flags or "-force" in part.argv) and (
            hit := force(part, verdict, ctx)
        ) is not None:
            hits.append(("mod:force", hit))
        if (hit := _skip_confirmation(part, verdict, argv_text)) is not None:
            hits.append(("mod:skip_confirmation", hit))
        if (verdict.destructive or category in _ALL_CATEGORIES or verdict.summary == "push") and (
            hit := all_resources(part, verdict, ctx)
        ) is not None:
            hits.append(("mod:all_resources", hit))
        if verdict.destructive and (hit := wildcard_delete(part, verdict, ctx)) is not None:
            hits.append(("mod:wildcard_delete", hit))

    if (verdict.mutating and verdict.targets) or part.redirects:
        if targets:
            if (hit := _root_path(targets)) is not None:
                hits.append(("mod:root_path", hit))
            if (hit := _home_path(targets, verdict)) is not None:
                hits.append(("mod:home_path", hit))
            if (hit := _system_path(targets)) is not None:
                hits.append(("mod:system_path", hit))
            if (hit := _persistence_write(targets)) is not None:
                hits.append(("mod:persistence_write", hit))
        if part.redirects and (hit := write_redirect(part, verdict, ctx)) is not None:
            hits.append(("mod:write_redirect", hit))
    return hits
