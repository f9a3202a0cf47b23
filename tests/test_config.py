"""config.toml: defaults, `expacti config` end-to-end, and errors that name key and file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from expacti_cli.config import load_config, set_value
from expacti_cli.errors import ConfigError


def test_defaults_without_a_file(expacti_home: Path) -> None:
    cfg = load_config()
    assert cfg.path == expacti_home / "config.toml"
    assert cfg.auto_approve_below == 0
    assert cfg.approval_timeout == 60
    assert cfg.on_timeout == "deny"
    assert "prod" in cfg.risk.production_markers
    assert str(expacti_home) in cfg.risk.protected_paths[0]


def test_set_then_load_round_trip(expacti_home: Path) -> None:
    set_value("auto_approve_below", "20")
    set_value("risk.production_markers", "prod, db-main")
    cfg = load_config()
    assert cfg.auto_approve_below == 20
    assert cfg.risk.production_markers == ("prod", "db-main")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("auto_approve_below", "abc", "expected an integer"),
        ("auto_approve_below", "101", "from 0 to 100"),
        ("approval_timeout", "5", "from 30 to 600"),
        ("on_timeout", "maybe", "'deny' or 'approve'"),
        ("no_such_key", "1", "unknown key 'no_such_key'"),
        ("risk.patterns", "x", "cannot be set from the command line"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    expacti_home: Path, key: str, value: str, message: str
) -> None:
    set_value("approval_timeout", "90")
    before = (expacti_home / "config.toml").read_bytes()
    with pytest.raises(ConfigError, match=message):
        set_value(key, value)
    assert (expacti_home / "config.toml").read_bytes() == before


def test_unknown_key_in_file_names_key_and_file(expacti_home: Path) -> None:
    expacti_home.mkdir(parents=True)
    path = expacti_home / "config.toml"
    path.write_text("auto_approve_below = 10\ncolour = 'blue'\n")
    with pytest.raises(ConfigError) as info:
        load_config()
    assert "'colour'" in str(info.value) and str(path) in str(info.value)


def test_bad_pattern_regex_names_the_entry(expacti_home: Path) -> None:
    expacti_home.mkdir(parents=True)
    (expacti_home / "config.toml").write_text(
        '[[risk.patterns]]\nname = "x"\nregex = "("\nscore = 50\n'
    )
    with pytest.raises(ConfigError, match=r"risk.patterns\[0\].*bad regex"):
        load_config()


def test_invalid_toml_is_an_error_not_a_reset(expacti_home: Path) -> None:
    expacti_home.mkdir(parents=True)
    path = expacti_home / "config.toml"
    path.write_text("auto_approve_below = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config()
    with pytest.raises(ConfigError):
        set_value("approval_timeout", "90")
    assert path.read_text() == "auto_approve_below = = 3\n"


def test_cli_show_get_set(run_cli) -> None:  # type: ignore[no-untyped-def]
    res = run_cli("config", "set", "auto_approve_below", "25")
    assert res.returncode == 0, res.stderr
    assert run_cli("config", "get", "auto_approve_below").stdout.strip() == "25"
    shown = json.loads(run_cli("config", "show", "--json").stdout)
    assert shown["values"]["auto_approve_below"] == 25
    bad = run_cli("config", "set", "approval_timeout", "9999")
    assert bad.returncode == 1
    assert "approval_timeout" in bad.stderr and "from 30 to 600" in bad.stderr
    assert "Traceback" not in bad.stderr
