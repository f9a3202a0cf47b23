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

from expacti_cli.analysis.model import SimpleCommand, SqlKind
from expacti_cli.risk.categories import build_test, network
from expacti_cli.risk.categories.base import Verdict
from expacti_cli.risk.model import RiskSettings


@dataclass(frozen=True, slots=True)
class Hit:
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
    redirects = tuple(r.target for r in part.redirects if r.is_write and r.target)
    return targets + redirects if redirects else targets


def _is_system_path(target: str) -> bool:
    if not target.startswith("/") or target.startswith(_HARMLESS_SYSTEM):
        return False
    first = target[1:].split("/", 1)[0]
    return first in _SYSTEM_DIRS


# --------------------------------------------------------------------------- the modifiers


def recursive(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if not (verdict.destructive or verdict.category == "permissions"):
        return None
    if part.short_flags & {"r", "R"} or "recursive" in part.long_flags:
        if part.program in ("scp", "rsync", "cp", "grep"):
            return None
        return Hit(12, "recursive: every file below the targets", "recursive")
    return None


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
        return Hit(25, "force push: rewrites the remote history", "with force")
    return Hit(8, "force: no prompts, errors ignored", "forced")


def root_path(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    for target in write_targets(part, verdict):
        if normalise_path(target) in _ROOT_TARGETS:
            return Hit(60, 'root path: "/"', "of the root directory")
    return None


def home_path(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    for target in write_targets(part, verdict):
        path = normalise_path(target)
        if path in _HOME_TARGETS or _HOME_DIR.match(path):
            return Hit(
                45, f'home path: "{target}" (the whole home directory)', "of the home directory"
            )
        if _HOME_DOTDIR.match(path) and verdict.destructive:
            return Hit(
                20, f'home path: "{target}" (a configuration directory)', "in the home directory"
            )
    return None


def system_path(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    for target in write_targets(part, verdict):
        if _is_system_path(normalise_path(target)):
            return Hit(30, f'system path: "{target}"', "in a system directory")
    return None


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


def production_target(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    if ctx.markers is None:
        return None
    if verdict.category in _PLACELESS and not (
        part.remote_host or part.db_target or part.container or part.env
    ):
        return None  # local file commands name no host, context or database
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
    if not verdict.mutating or verdict.category == "file_delete":
        return None
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


def persistence_write(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    for target in write_targets(part, verdict):
        for pattern, kind in _PERSISTENCE:
            if pattern.search(target):
                return Hit(50, f'writes to {kind}: "{target}"', "", 88, f"write to {kind}")
    return None


_EXPACTI_PATH = re.compile(
    r"(?:^|/)\.expacti(?:/|$)|(?:^|/)(?:\.config|\.local/share|\.cache|Application Support|"
    r"AppData/(?:Local|Roaming)|etc|run/user/\d+)/expacti(?:/|$)|\$\{?EXPACTI_"
)
_EXPACTI_READS = frozenset({"list", "ls", "test", "show", "get", "path", "--help", "-h"})
_EXPACTI_WRITES = frozenset({"approve", "deny", "whitelist", "config", "rules", "allow"})


def _is_protected(target: str, protected: tuple[str, ...]) -> bool:
    if _EXPACTI_PATH.search(target):
        return True
    if target.startswith("~"):
        # Expanding ~ reads $HOME, not the disk; it lets `~/.config/...` match the real path.
        target = os.path.expanduser(target)
    return any(target == p or target.startswith(p + "/") for p in protected)


def _expacti_subcommand(part: SimpleCommand) -> str:
    positionals = part.positionals
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
    if not (verdict.targets or part.redirects or part.env or part.program in _TAMPER_PROGRAMS):
        return None
    text = ""
    for target in write_targets(part, verdict):
        if _is_protected(target, ctx.protected_paths):
            text = f'changes expacti\'s own files: "{target}"'
            break
    if not text and part.program == "expacti" and (sub := _expacti_subcommand(part)):
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
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY|ACCESS_KEY|CREDENTIAL|_AUTH\b|_PAT\b"
)
_SECRET_VERBS = frozenset({"get-secret-value", "get-parameter", "get-parameters", "access"})
_PRINTERS = frozenset({"echo", "printf", "printenv", "print"})
_NOT_READERS = frozenset(
    {"touch", "mkdir", "ls", "stat", "test", "[", "[[", "file", "du", "find", "realpath"}
    | {"basename", "dirname", "which", "chmod", "chown", "ssh-keygen", "cd", "export", "unset"}
)


def secret_read(part: SimpleCommand, verdict: Verdict, ctx: Context) -> Hit | None:
    program = part.program
    if verdict.category in ("file_delete", "permissions") or program in _NOT_READERS:
        return None
    # One search over all words (a line each) is much cheaper than one per word.
    if len(part.argv) > 1 and _SECRET_PATH_LINES.search("\n".join(part.argv[1:])):
        word = next((w for w in part.argv[1:] if _SECRET_PATH.search(w)), part.argv[1])
        return Hit(60, f'secret read: "{word}"', "", headline="secret file read")
    for redirect in part.redirects:
        if redirect.op == "<" and _SECRET_PATH.search(redirect.target):
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
    if _SECRET_VERBS.intersection(part.positionals) and verdict.category == "cloud":
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


def _inline_command_score(code: str, ctx: Context) -> tuple[int, str]:
    """Score shell commands that inline code passes to os.system & co (one level deep)."""
    if _SCORING_INLINE.get():
        return 0, ""
    from expacti_cli.analysis import analyze
    from expacti_cli.risk.scorer import score_analysis

    token = _SCORING_INLINE.set(True)
    try:
        best, best_text = 0, ""
        for match in _COMMAND_LITERAL.finditer(code):
            literal = match.group(2)
            score = score_analysis(analyze(literal), ctx.settings).score
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
PART_MODIFIERS = tuple(
    (m.code, check) for m, check in _CHECKED if not (m.needs_write or m.needs_mutating)
)
MUTATING_MODIFIERS = tuple((m.code, check) for m, check in _CHECKED if m.needs_mutating)
WRITE_MODIFIERS = tuple((m.code, check) for m, check in _CHECKED if m.needs_write)
UNPARSED_FLOOR = 60
