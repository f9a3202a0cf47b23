"""`expacti hook install|uninstall`: idempotent, only our entry, everything else preserved."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from expacti_cli.integrations import settings


@pytest.fixture(autouse=True)
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    return home


CLAUDE_SETTINGS = {
    "permissions": {"allow": ["Bash(npm test)"]},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Edit", "hooks": [{"type": "command", "command": "lint-edit"}]},
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "audit-bash"}]},
        ],
        "PostToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": "log"}]}],
    },
    "model": "opus",
}


def our_claude_hooks(data: dict) -> list[dict]:  # type: ignore[type-arg]
    return [
        h
        for e in data.get("hooks", {}).get("PreToolUse", [])
        for h in e["hooks"]
        if settings.is_our_command(h["command"], "claude")
    ]


def test_claude_install_is_idempotent_and_preserves_the_rest(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "app"
    path = project / ".claude" / "settings.json"
    path.parent.mkdir(parents=True)
    original = json.dumps(CLAUDE_SETTINGS, indent=4)
    path.write_text(original)

    first = run_cli("hook", "install", "claude", "--project", str(project))
    assert first.returncode == 0, first.stderr
    data = json.loads(path.read_text())
    [ours] = our_claude_hooks(data)
    assert ours["timeout"] >= 600 and ours["type"] == "command"
    entry = next(e for e in data["hooks"]["PreToolUse"] if ours in e["hooks"])
    assert entry["matcher"] == "Bash"
    without = json.loads(path.read_text())
    without["hooks"]["PreToolUse"].remove(entry)
    assert without == CLAUDE_SETTINGS
    assert Path(str(path) + ".expacti-backup").read_text() == original

    after_first = path.read_text()
    second = run_cli("hook", "install", "claude", "--project", str(project))
    assert "already installed" in second.stdout
    assert path.read_text() == after_first

    removed = run_cli("hook", "uninstall", "claude", "--project", str(project))
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert json.loads(path.read_text()) == CLAUDE_SETTINGS
    again = run_cli("hook", "uninstall", "claude", "--project", str(project))
    assert "nothing to remove" in again.stdout


def test_claude_user_settings_and_fresh_file(fake_home: Path) -> None:
    path = settings.settings_path("claude", None, user=True)
    assert path == fake_home / ".claude" / "settings.json"
    change = settings.install("claude", path, "/opt/bin/expacti hook claude")
    assert change.changed and change.backup is None
    assert (
        our_claude_hooks(json.loads(path.read_text()))[0]["command"]
        == "/opt/bin/expacti hook claude"
    )
    # A moved install is replaced, not duplicated.
    settings.install("claude", path, "/new/bin/expacti hook claude")
    assert [h["command"] for h in our_claude_hooks(json.loads(path.read_text()))] == [
        "/new/bin/expacti hook claude"
    ]
    settings.uninstall("claude", path)
    assert json.loads(path.read_text()) == {}


def test_claude_refuses_a_file_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{ not json")
    with pytest.raises(settings.SettingsError):
        settings.install("claude", path, "expacti hook claude")
    assert path.read_text() == "{ not json"


CODEX_CONFIG = """# my codex config
model = "o4-mini"

[model_providers.local]
name = "local"
base_url = "http://127.0.0.1:9/v1"   # keep this comment

[[hooks.PreToolUse]]
matcher = "apply_patch"
[[hooks.PreToolUse.hooks]]
type = "command"
command = "check-patch"
"""


def test_codex_install_appends_one_block_and_uninstall_restores(run_cli, fake_home: Path) -> None:  # type: ignore[no-untyped-def]
    path = fake_home / ".codex" / "config.toml"
    path.parent.mkdir()
    path.write_text(CODEX_CONFIG)
    done = run_cli("hook", "install", "codex", env={"HOME": str(fake_home)})
    assert done.returncode == 0, done.stderr
    assert "/hooks" in done.stdout and "trust" in done.stdout
    text = path.read_text()
    assert text.startswith(CODEX_CONFIG)
    hooks = tomllib.loads(text)["hooks"]["PreToolUse"]
    assert [h["matcher"] for h in hooks] == ["apply_patch", "Bash"]
    [ours] = hooks[1]["hooks"]
    assert settings.is_our_command(ours["command"], "codex") and ours["timeout"] >= 600
    assert run_cli("hook", "install", "codex", env={"HOME": str(fake_home)}).stdout.startswith(
        f"{path}: already installed"
    )
    assert path.read_text() == text
    assert run_cli("hook", "uninstall", "codex", env={"HOME": str(fake_home)}).returncode == 0
    assert path.read_text() == CODEX_CONFIG


def test_codex_home_and_no_project_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "ch"))
    assert settings.settings_path("codex", None, False) == tmp_path / "ch" / "config.toml"
    with pytest.raises(settings.SettingsError, match="--user"):
        settings.settings_path("codex", tmp_path, False)


def test_codex_config_that_cannot_be_extended_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = "hooks = { PreToolUse = [] }\n"
    path.write_text(original)
    with pytest.raises(settings.SettingsError, match="by hand"):
        settings.install("codex", path, "expacti hook codex")
    assert path.read_text() == original


def test_cursor_install_and_uninstall(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "p"
    path = project / ".cursor" / "hooks.json"
    path.parent.mkdir(parents=True)
    original = {"version": 1, "hooks": {"afterFileEdit": [{"command": "fmt"}]}}
    path.write_text(json.dumps(original))
    assert run_cli("hook", "install", "cursor", "--project", str(project)).returncode == 0
    data = json.loads(path.read_text())
    [ours] = data["hooks"]["beforeShellExecution"]
    assert settings.is_our_command(ours["command"], "cursor")
    assert data["hooks"]["afterFileEdit"] == original["hooks"]["afterFileEdit"]
    before = path.read_text()
    assert (
        "already installed"
        in run_cli("hook", "install", "cursor", "--project", str(project)).stdout
    )
    assert path.read_text() == before
    assert run_cli("hook", "uninstall", "cursor", "--project", str(project)).returncode == 0
    assert json.loads(path.read_text()) == original


def test_print_changes_nothing(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for agent in ("claude", "cursor"):
        shown = run_cli("hook", "install", agent, "--project", str(tmp_path), "--print")
        assert shown.returncode == 0 and f"hook {agent}" in shown.stdout
    assert not (tmp_path / ".claude").exists()
    assert not (tmp_path / ".cursor").exists()


@pytest.mark.parametrize(
    ("command", "agent", "ours"),
    [
        ("/x/.venv/bin/expacti hook claude", "claude", True),
        ("expacti hook claude", "claude", True),
        ("'/path with space/expacti' hook codex", "codex", True),
        ("/usr/bin/python3 -m expacti_cli hook cursor", "cursor", True),
        ("expacti hook codex", "claude", False),
        ("my-expacti hook claude", "claude", False),
        ("expacti hook claude; rm -rf ~", "claude", False),
        ("audit-bash", "claude", False),
        (None, "claude", False),
    ],
)
def test_is_our_command(command: object, agent: str, ours: bool) -> None:
    assert settings.is_our_command(command, agent) is ours
