"""config.toml: schema, loading (tomllib), validation and writing.

Every key is declared once in `KEYS` with its type, default and help; loading rejects unknown
keys and bad values with an error that names the key and the file. The file is only ever
written by `set_value`, which validates first and replaces the file atomically.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
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
    kind: str  # "int", "str", "bool", "list", "choice", "table", "patterns"
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


@dataclass(frozen=True)
class Config:
    """The validated configuration. Values crossing into pure modules go via `risk`."""

    path: Path
    values: dict[str, Any]
    risk: RiskSettings

    @property
    def auto_approve_below(self) -> int:
        return int(self.values["auto_approve_below"])

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

    def get(self, name: str) -> Any:
        if name not in KEYS:
            raise ConfigError(f"unknown key {name!r} (known: {', '.join(KEYS)})")
        return self.values[name]


def _flatten(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Turn the TOML document into {dotted key: value} for the keys we know."""
    flat: dict[str, Any] = {}
    for top, value in data.items():
        if top == "risk" and isinstance(value, dict):
            for sub, subvalue in value.items():
                flat[f"risk.{sub}"] = subvalue
        else:
            flat[top] = value
    unknown = [k for k in flat if k not in KEYS]
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in {path} (known keys: {', '.join(KEYS)})")
    return flat


def _check(key: Key, value: Any, where: str) -> Any:
    """Validate one value; return it normalised. `where` names the file or the command line."""

    def bad(expected: str) -> ConfigError:
        at = f"{key.name} in {where}" if where else key.name
        return ConfigError(f"{at}: expected {expected}, got {value!r}")

    if key.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        if (key.low is not None and value < key.low) or (key.high is not None and value > key.high):
            raise bad(f"an integer from {key.low} to {key.high}")
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


_PARSERS: dict[str, Callable[[str], Any]] = {
    "int": lambda s: int(s) if s.strip().lstrip("-").isdigit() else s,
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


def set_value(name: str, text: str, path: Path | None = None) -> Any:
    """Validate and write one value; the file is replaced atomically. Returns the value."""
    import tomli_w

    path = path or paths.config_file()
    name, value = parse_cli_value(name, text)
    document = _read_file(path)
    _flatten(document, path)  # refuse to rewrite a file that already has bad keys
    if name.startswith("risk."):
        table = document.setdefault("risk", {})
        if name.startswith("risk.programs."):
            table.setdefault("programs", {})[name[len("risk.programs.") :]] = value
        else:
            table[name[len("risk.") :]] = value
    else:
        document[name] = value
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
    return value


def load_config_from_document(document: dict[str, Any], path: Path) -> Config:
    """Validate an in-memory document as if it were the file at `path`."""
    flat = _flatten(document, path)
    values = {name: key.default for name, key in KEYS.items()}
    for name, value in flat.items():
        values[name] = _check(KEYS[name], value, str(path))
    return Config(path=path, values=values, risk=_risk_settings(values))
