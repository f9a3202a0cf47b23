"""config.toml: schema, loading (tomllib), validation and writing.

Every key is declared once in `KEYS` with its type, default and help; loading rejects unknown
keys and bad values with an error that names the key and the file. The file is only ever
written by `set_value` / `unset_value`, which validate first and replace the file atomically.

`[projects."/srv/app"]` tables override a few keys (`PROJECT_KEYS`) for commands whose working
directory is inside that directory: the longest matching directory wins, compared after
resolving symlinks on both sides, so a command is judged by where it really runs.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from expacti_cli import paths
from expacti_cli.errors import ConfigError
from expacti_cli.risk.model import CustomPattern, RiskSettings

_DEFAULT_RISK = RiskSettings()


@dataclass(frozen=True)
class Key:
    """One configuration key: dotted name, type name for messages, default, check, help."""

    name: str
    kind: str  # "int", "str", "bool", "tristate", "list", "choice", "table", "patterns"
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None


KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        Key(
            "auto_approve_below",
            "int",
            0,
            "Commands scoring below this pass without a human (0 = off: every command not "
            "allowed by a rule asks).",
            low=0,
            high=100,
        ),
        Key(
            "strict_anomalies",
            "tristate",
            "auto",
            "Send a command a rule allows to a human when it shows anomalies: true, false, or "
            '"auto" (on outside your usual hours, judged from your history).',
        ),
        Key(
            "approval_timeout",
            "int",
            60,
            "Seconds a request waits for a decision before `on_timeout` applies.",
            low=30,
            high=600,
        ),
        Key(
            "on_timeout",
            "choice",
            "deny",
            "What happens when no one decides in time.",
            choices=("deny", "approve"),
        ),
        Key(
            "reviewer",
            "str",
            "",
            "Your identity in the audit log (default: git user.email, else $USER@host).",
        ),
        Key(
            "approval_ui",
            "choice",
            "auto",
            "Where `expacti run` shows approval prompts.",
            choices=("auto", "split", "inline", "external"),
        ),
        Key(
            "prompt_detection",
            "choice",
            "on",
            "Gate statements typed at prompts without shell hooks (psql, mysql, sqlite3, "
            "python, sh, ssh) inside `expacti run`.",
            choices=("on", "off"),
        ),
        Key(
            "prompt_patterns",
            "list",
            [],
            "More prompts to gate at (regexes matched at the start of the cursor's row, e.g. "
            '"^myrepl> "); a line submitted at one is gated as a command.',
        ),
        Key(
            "mcp_output_limit",
            "int",
            65536,
            "Bytes of stdout and of stderr `expacti mcp` returns per command (the middle of "
            "longer output is left out, and the cut marked).",
            low=1024,
            high=16 * 1024 * 1024,
        ),
        Key(
            "risk.production_markers",
            "list",
            list(_DEFAULT_RISK.production_markers),
            "Words that mark a production target in hosts, kube contexts, DB names and URLs.",
        ),
        Key(
            "risk.protected_branches",
            "list",
            list(_DEFAULT_RISK.protected_branches),
            "Git branches whose pushes and resets count as production changes.",
        ),
        Key(
            "risk.programs",
            "table",
            {},
            'Program -> risk category overrides, e.g. `risk.programs.deploy.sh = "cloud"`.',
        ),
        Key(
            "risk.patterns",
            "patterns",
            [],
            "Custom patterns: [[risk.patterns]] with name, regex, score (0-100), reason.",
        ),
    )
}


PROJECTS = "projects"
# Keys a [projects."DIR"] table may override.
PROJECT_KEYS: tuple[str, ...] = ("auto_approve_below", "strict_anomalies")


@dataclass(frozen=True)
class DirectorySettings:
    """The values that apply to a command run in one directory (a project's, else global)."""

    project: str  # the [projects."..."] key that applies, "" when none does
    auto_approve_below: int
    strict_anomalies: bool | str  # True, False or "auto"


@dataclass(frozen=True)
class Config:
    """The validated configuration. Values crossing into pure modules go via `risk`."""

    path: Path
    values: dict[str, Any]
    risk: RiskSettings
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)  # directory -> overrides

    @property
    def auto_approve_below(self) -> int:
        return int(self.values["auto_approve_below"])

    @property
    def strict_anomalies(self) -> bool | str:
        value: bool | str = self.values["strict_anomalies"]
        return value

    def for_directory(self, cwd: str | None) -> DirectorySettings:
        """The settings for a command run in `cwd`: the innermost matching project's overrides."""
        values = dict(self.values)
        matching = projects_holding(cwd, self.projects) if cwd else []
        for project in matching:  # outermost first: an inner project overrides an outer one
            values.update(self.projects[project])
        return DirectorySettings(
            project=matching[-1] if matching else "",
            auto_approve_below=int(values["auto_approve_below"]),
            strict_anomalies=values["strict_anomalies"],
        )

    @property
    def approval_timeout(self) -> int:
        return int(self.values["approval_timeout"])

    @property
    def on_timeout(self) -> str:
        return str(self.values["on_timeout"])

    @property
    def reviewer(self) -> str:
        return str(self.values["reviewer"])

    @property
    def approval_ui(self) -> str:
        return str(self.values["approval_ui"])

    @property
    def mcp_output_limit(self) -> int:
        return int(self.values["mcp_output_limit"])

    def get(self, name: str) -> Any:
        if name not in KEYS:
            raise ConfigError(f"unknown key {name!r} (known: {', '.join(KEYS)})")
        return self.values[name]


def _flatten(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Turn the TOML document into {dotted key: value} for the keys we know."""
    flat: dict[str, Any] = {}
    for top, value in data.items():
        if top == PROJECTS:
            continue  # checked by _projects
        if top == "risk" and isinstance(value, dict):
            for sub, subvalue in value.items():
                flat[f"risk.{sub}"] = subvalue
        else:
            flat[top] = value
    unknown = [k for k in flat if k not in KEYS]
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in {path} (known keys: {', '.join(KEYS)})")
    return flat


def _check(key: Key, value: Any, where: str, label: str = "") -> Any:
    """Validate one value; return it normalised. `where` names the file or the command line,
    `label` the key as the file spells it when that is not its plain name (inside a project)."""

    def bad(expected: str) -> ConfigError:
        name = label or key.name
        at = f"{name} in {where}" if where else name
        return ConfigError(f"{at}: expected {expected}, got {value!r}")

    if key.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        if (key.low is not None and value < key.low) or (key.high is not None and value > key.high):
            raise bad(f"an integer from {key.low} to {key.high}")
        return value
    if key.kind == "tristate":
        if not isinstance(value, bool) and value != "auto":
            raise bad('true, false or "auto"')
        return value
    if key.kind == "str":
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if key.kind == "choice":
        if value not in key.choices:
            raise bad(" or ".join(repr(c) for c in key.choices))
        return value
    if key.kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise bad("a list of non-empty strings")
        return value
    if key.kind == "table":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise bad('a table of program = "category"')
        _check_categories(key, value, where)
        return value
    if key.kind == "patterns":
        return _check_patterns(key, value, where)
    raise AssertionError(key.kind)


def _known_categories() -> tuple[str, ...] | None:
    try:
        from expacti_cli import risk

        return tuple(getattr(risk, "CATEGORY_NAMES", ()) or ())
    except ImportError:
        return None


def _check_categories(key: Key, value: dict[str, str], where: str) -> None:
    known = _known_categories()
    if not known:
        return
    for program, category in value.items():
        if category not in known:
            raise ConfigError(
                f"{key.name}.{program}{' in ' + where if where else ''}: unknown category {category!r} "
                f"(known: {', '.join(known)})"
            )


def _check_patterns(key: Key, value: Any, where: str) -> list[dict[str, Any]]:
    import re

    if not isinstance(value, list):
        raise ConfigError(f"{key.name} in {where}: expected [[risk.patterns]] tables")
    for i, item in enumerate(value):
        at = f"{key.name}[{i}] in {where}"
        if not isinstance(item, dict):
            raise ConfigError(f"{at}: expected a table with name, regex, score")
        extra = set(item) - {"name", "regex", "score", "reason"}
        if extra:
            raise ConfigError(f"{at}: unknown field {sorted(extra)[0]!r}")
        if not isinstance(item.get("regex"), str):
            raise ConfigError(f"{at}: 'regex' must be a string")
        try:
            re.compile(item["regex"])
        except re.error as exc:
            raise ConfigError(f"{at}: bad regex {item['regex']!r}: {exc}") from None
        from expacti_cli.matching import RulePatternError, check_regex_speed

        try:
            check_regex_speed(item["regex"])
        except RulePatternError as exc:
            raise ConfigError(f"{at}: bad regex {item['regex']!r}: {exc}") from None
        score = item.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
            raise ConfigError(f"{at}: 'score' must be an integer from 0 to 100")
        for text_field in ("name", "reason"):
            if text_field in item and not isinstance(item[text_field], str):
                raise ConfigError(f"{at}: {text_field!r} must be a string")
    return value


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def _risk_settings(values: dict[str, Any]) -> RiskSettings:
    own = [paths.config_dir(), paths.data_dir(), paths.runtime_dir()]
    return RiskSettings(
        production_markers=tuple(values["risk.production_markers"]),
        protected_branches=tuple(values["risk.protected_branches"]),
        program_categories=tuple(sorted(values["risk.programs"].items())),
        patterns=tuple(
            CustomPattern(
                name=p.get("name", f"pattern-{i + 1}"),
                regex=p["regex"],
                score=p["score"],
                reason=p.get("reason", ""),
            )
            for i, p in enumerate(values["risk.patterns"])
        ),
        expacti_home=str(paths.home_override() or paths.config_dir()),
        protected_paths=tuple(dict.fromkeys(str(p) for p in own)),
    )


def load_config(path: Path | None = None) -> Config:
    """Read and validate config.toml (a missing file means all defaults)."""
    path = path or paths.config_file()
    return load_config_from_document(_read_file(path), path)


_TRUE = ("true", "on", "yes", "1")
_FALSE = ("false", "off", "no", "0")


def _parse_tristate(text: str) -> Any:
    word = text.strip().lower()
    return True if word in _TRUE else False if word in _FALSE else word


_PARSERS: dict[str, Callable[[str], Any]] = {
    "int": lambda s: int(s) if s.strip().lstrip("-").isdigit() else s,
    "tristate": _parse_tristate,
    "str": str,
    "choice": str,
    "list": lambda s: [item.strip() for item in s.split(",") if item.strip()],
}


def parse_cli_value(name: str, text: str) -> tuple[str, Any]:
    """Turn `expacti config set NAME TEXT` into (key name, validated value)."""
    if name.startswith("risk.programs."):
        program = name[len("risk.programs.") :]
        if not program:
            raise ConfigError("risk.programs.PROGRAM needs a program name")
        _check_categories(KEYS["risk.programs"], {program: text}, "")
        return name, text
    key = KEYS.get(name)
    if key is None:
        raise ConfigError(f"unknown key {name!r} (known: {', '.join(KEYS)})")
    parser = _PARSERS.get(key.kind)
    if parser is None:
        raise ConfigError(f"{name} cannot be set from the command line: edit {paths.config_file()}")
    return name, _check(key, parser(text), "")


def project_key(directory: str) -> str:
    """How a project directory given on the command line is written into config.toml."""
    expanded = os.path.expanduser(directory)
    if not expanded.strip():
        raise ConfigError("--project needs a directory")
    return os.path.normpath(os.path.abspath(expanded))


def projects_holding(cwd: str, projects: dict[str, dict[str, Any]]) -> list[str]:
    """The projects whose directory holds `cwd`, outermost first (the last one is closest).

    Both sides are compared with symlinks resolved: a command is judged by the directory it
    really runs in, so a link inside a project that points elsewhere is not inside it, and a
    link from elsewhere into the project is. Path boundaries count: /srv/app does not hold
    /srv/application.
    """
    if not projects or not cwd or not os.path.isabs(cwd):
        return []
    where = os.path.realpath(cwd)
    found: list[tuple[int, str]] = []
    for directory in sorted(projects):
        root = os.path.realpath(os.path.expanduser(directory))
        if where == root or where.startswith(root.rstrip("/") + "/"):
            found.append((len(root), directory))
    return [directory for _, directory in sorted(found)]


def _projects(document: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """Validate the [projects."DIR"] tables: absolute directories, only PROJECT_KEYS."""
    tables = document.get(PROJECTS, {})
    if not isinstance(tables, dict):
        raise ConfigError(f'{PROJECTS} in {path}: expected [{PROJECTS}."/some/dir"] tables')
    projects: dict[str, dict[str, Any]] = {}
    for directory, table in tables.items():
        label = f"{PROJECTS}.{_toml_key(directory)}"
        if not os.path.isabs(os.path.expanduser(directory)):
            raise ConfigError(f"{label} in {path}: the directory must be an absolute path")
        if not isinstance(table, dict):
            raise ConfigError(f"{label} in {path}: expected a table of settings")
        checked: dict[str, Any] = {}
        for name, value in table.items():
            if name not in PROJECT_KEYS:
                raise ConfigError(
                    f"{label}.{name} in {path}: not a per-project key "
                    f"(per-project keys: {', '.join(PROJECT_KEYS)})"
                )
            checked[name] = _check(KEYS[name], value, str(path), f"{label}.{name}")
        projects[directory] = checked
    return projects


def _toml_key(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def set_value(name: str, text: str, path: Path | None = None, *, project: str | None = None) -> Any:
    """Validate and write one value (of a project's table when `project` is given); the file
    is replaced atomically. Returns the value."""
    path = path or paths.config_file()
    document = _read_file(path)
    _flatten(document, path)  # refuse to rewrite a file that already has bad keys
    _projects(document, path)
    if project is not None:
        if name not in PROJECT_KEYS:
            raise ConfigError(
                f"{name!r} cannot be set per project (per-project keys: {', '.join(PROJECT_KEYS)})"
            )
        directory = project_key(project)
        label = f"{PROJECTS}.{_toml_key(directory)}.{name}"
        value = _check(KEYS[name], _PARSERS[KEYS[name].kind](text), "", label)
        document.setdefault(PROJECTS, {}).setdefault(directory, {})[name] = value
        _write(document, path)
        return value
    name, value = parse_cli_value(name, text)
    if name.startswith("risk."):
        table = document.setdefault("risk", {})
        if name.startswith("risk.programs."):
            table.setdefault("programs", {})[name[len("risk.programs.") :]] = value
        else:
            table[name[len("risk.") :]] = value
    else:
        document[name] = value
    _write(document, path)
    return value


def unset_value(name: str, path: Path | None = None, *, project: str | None = None) -> bool:
    """Remove a key from config.toml (back to its default, or to the global value inside a
    project; a project left empty is removed). Returns False when it was not set."""
    path = path or paths.config_file()
    document = _read_file(path)
    _flatten(document, path)
    _projects(document, path)
    if project is not None:
        tables = document.get(PROJECTS, {})
        key = project_key(project)
        table = tables.get(key, {})
        if name not in table:
            return False
        del table[name]
        if not table:
            del tables[key]
        if not tables:
            document.pop(PROJECTS, None)
    elif name.startswith("risk.") and name in KEYS:
        table = document.get("risk", {})
        if name[len("risk.") :] not in table:
            return False
        del table[name[len("risk.") :]]
        if not table:
            document.pop("risk")
    elif name in KEYS:
        if name not in document:
            return False
        del document[name]
    else:
        raise ConfigError(f"unknown key {name!r} (known: {', '.join(KEYS)})")
    _write(document, path)
    return True


def _write(document: dict[str, Any], path: Path) -> None:
    """Validate the whole document, then replace the file atomically (fsync'd)."""
    import tomli_w

    load_config_from_document(document, path)  # whole-file validation before writing
    paths.ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".toml")
    try:
        with os.fdopen(fd, "wb") as fh:
            tomli_w.dump(document, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_config_from_document(document: dict[str, Any], path: Path) -> Config:
    """Validate an in-memory document as if it were the file at `path`."""
    flat = _flatten(document, path)
    values = {name: key.default for name, key in KEYS.items()}
    for name, value in flat.items():
        values[name] = _check(KEYS[name], value, str(path))
    return Config(
        path=path, values=values, risk=_risk_settings(values), projects=_projects(document, path)
    )
