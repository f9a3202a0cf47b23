"""Install and remove our pre-tool-use hook in each agent's settings file.

Every edit preserves the rest of the file, is idempotent (installing twice changes nothing,
uninstalling removes only our entry), keeps a copy of the previous file next to it
(`<file>.expacti-backup`) and replaces the file atomically.

Where each agent reads hooks (design-notes §2):
- Claude Code: `.claude/settings.json` of a project, or `~/.claude/settings.json`
  ($CLAUDE_CONFIG_DIR when set): `hooks.PreToolUse[]` entries `{matcher, hooks: [{type,
  command, timeout}]}`.
- Codex CLI: `$CODEX_HOME/config.toml` (default ~/.codex): `[[hooks.PreToolUse]]` with
  `matcher = "Bash"` and a `[[hooks.PreToolUse.hooks]]` table. Codex runs a hook it does not
  manage only after the user trusts it (`/hooks` in its TUI); until then it skips it silently.
- Cursor: `.cursor/hooks.json` of a project, or `~/.cursor/hooks.json`: `{"version": 1,
  "hooks": {"beforeShellExecution": [{"command", "timeout"}]}}`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from expacti_cli.errors import ExpactiError

# Longer than the longest approval wait (broker.gate.MAX_TIMEOUT = 600 s) plus the hook's own
# grace: an agent that kills a slow hook may run the command (Claude treats a timeout as a
# non-blocking error), so the broker's deny must always arrive first.
HOOK_TIMEOUT = 660
BACKUP_SUFFIX = ".expacti-backup"
TOML_BEGIN = "# >>> expacti hook (added by `expacti hook install codex`; remove with `expacti hook uninstall codex`)"
TOML_END = "# <<< expacti hook"


class SettingsError(ExpactiError):
    """A settings file we cannot safely edit (the message says how to do it by hand)."""


@dataclass(frozen=True)
class Change:
    """The result of an install or uninstall."""

    path: Path
    changed: bool
    backup: Path | None
    message: str


def hook_command(agent: str) -> str:
    """The command line an agent runs for our hook: the installed `expacti` script."""
    script = Path(sys.executable).with_name("expacti")
    if script.is_file() and os.access(script, os.X_OK):
        return f"{shlex.quote(str(script))} hook {agent}"
    found = shutil.which("expacti")
    if found:
        return f"{shlex.quote(found)} hook {agent}"
    return f"{shlex.quote(sys.executable)} -m expacti_cli hook {agent}"


def is_our_command(command: object, agent: str) -> bool:
    """True for a hook command line that runs `expacti hook AGENT` (any install path)."""
    if not isinstance(command, str):
        return False
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    if len(words) < 3 or words[-2:] != ["hook", agent]:
        return False
    return os.path.basename(words[0]) == "expacti" or words[1:3] == ["-m", "expacti_cli"]


def settings_path(agent: str, project: Path | None, user: bool) -> Path:
    """Which file to edit for `agent` (project default: the current directory)."""
    home = Path(os.environ.get("HOME") or Path.home())
    if agent == "codex":
        if project is not None:
            raise SettingsError(
                "Codex reads hooks from $CODEX_HOME/config.toml (default ~/.codex/config.toml); "
                "use --user"
            )
        codex_home = os.environ.get("CODEX_HOME", "").strip()
        return (Path(codex_home) if codex_home else home / ".codex") / "config.toml"
    if agent == "claude":
        if user:
            config = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
            return (Path(config) if config else home / ".claude") / "settings.json"
        return (project or Path.cwd()) / ".claude" / "settings.json"
    if agent == "cursor":
        return (home if user else (project or Path.cwd())) / ".cursor" / "hooks.json"
    raise SettingsError(f"unknown agent {agent!r}")


# --- files -----------------------------------------------------------------------------------


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from None


def _write(path: Path, text: str, original: str | None) -> Path | None:
    """Replace `path` atomically; back up the previous content first. Returns the backup."""
    backup = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if original is not None else 0o644
        if original is not None:
            backup = path.with_name(path.name + BACKUP_SUFFIX)
            backup.write_text(original, encoding="utf-8")
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        raise SettingsError(f"cannot write {path}: {exc}") from None
    return backup


def _load_json(path: Path, text: str | None) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SettingsError(f"{path} is not valid JSON ({exc}); fix it first") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} does not hold a JSON object; fix it first")
    return data


def _dump_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _list_at(data: dict[str, Any], path: Path, *keys: str) -> list[Any]:
    """data[k1][k2]... as a list, creating missing levels (refusing wrong types)."""
    node: Any = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise SettingsError(f"{path}: {key!r} is not an object; fix it first")
    value = node.setdefault(keys[-1], [])
    if not isinstance(value, list):
        raise SettingsError(f"{path}: {keys[-1]!r} is not a list; fix it first")
    return value


def _prune(data: dict[str, Any], *keys: str) -> None:
    """Drop data[k1]...[kn] and then its parents, each only when it became empty."""
    chain: list[tuple[dict[str, Any], str]] = []
    node: Any = data
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return
        chain.append((node, key))
        node = node[key]
    for parent, key in reversed(chain):
        if parent[key] in ({}, []):
            del parent[key]
        else:
            return


# --- Claude Code -----------------------------------------------------------------------------


def claude_entry(command: str) -> dict[str, Any]:
    return {
        "matcher": "Bash",
        "hooks": [{"type": "command", "command": command, "timeout": HOOK_TIMEOUT}],
    }


def _remove_claude(entries: list[Any]) -> bool:
    removed = False
    for entry in list(entries):
        hooks = entry.get("hooks") if isinstance(entry, dict) else None
        if not isinstance(hooks, list):
            continue
        kept = [
            h
            for h in hooks
            if not (isinstance(h, dict) and is_our_command(h.get("command"), "claude"))
        ]
        if len(kept) != len(hooks):
            removed = True
            if kept:
                entry["hooks"] = kept
            else:
                entries.remove(entry)
    return removed


def _edit_claude(data: dict[str, Any], path: Path, command: str | None) -> bool:
    """Install `command` (None: uninstall) in parsed Claude settings; False: no change."""
    entries = _list_at(data, path, "hooks", "PreToolUse")
    ours = [
        e
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("hooks"), list)
        and any(
            isinstance(h, dict) and is_our_command(h.get("command"), "claude") for h in e["hooks"]
        )
    ]
    if command is not None and ours == [claude_entry(command)]:
        return False
    removed = _remove_claude(entries)
    if command is not None:
        entries.append(claude_entry(command))
        return True
    _prune(data, "hooks", "PreToolUse")
    return removed


# --- Cursor ----------------------------------------------------------------------------------


def cursor_entry(command: str) -> dict[str, Any]:
    return {"command": command, "timeout": HOOK_TIMEOUT}


def _edit_cursor(data: dict[str, Any], path: Path, command: str | None) -> bool:
    entries = _list_at(data, path, "hooks", "beforeShellExecution")
    ours = [
        e for e in entries if isinstance(e, dict) and is_our_command(e.get("command"), "cursor")
    ]
    if command is not None and ours == [cursor_entry(command)]:
        return False
    entries[:] = [e for e in entries if not any(e is o for o in ours)]
    if command is not None:
        data.setdefault("version", 1)
        entries.append(cursor_entry(command))
        return True
    _prune(data, "hooks", "beforeShellExecution")
    return bool(ours)


def _edit_json(agent: str, path: Path, command: str | None) -> tuple[str | None, str]:
    original = _read(path)
    data = _load_json(path, original)
    edit = _edit_claude if agent == "claude" else _edit_cursor
    if not edit(data, path, command):
        return original, original or ""  # nothing to change: leave the file byte for byte
    return original, _dump_json(data)


# --- Codex -----------------------------------------------------------------------------------


def codex_block(command: str) -> str:
    return (
        f"{TOML_BEGIN}\n"
        "[[hooks.PreToolUse]]\n"
        'matcher = "Bash"\n'
        "\n"
        "[[hooks.PreToolUse.hooks]]\n"
        'type = "command"\n'
        f"command = {json.dumps(command)}\n"
        f"timeout = {HOOK_TIMEOUT}\n"
        f"{TOML_END}\n"
    )


def _without_codex_block(text: str) -> str:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    inside = False
    for line in lines:
        if line.rstrip("\n") == TOML_BEGIN:
            inside = True
            continue
        if inside and line.rstrip("\n") == TOML_END:
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise SettingsError(
            f"our block in the Codex config has no end marker ({TOML_END!r}); fix it by hand"
        )
    result = "".join(out)
    return result.rstrip("\n") + "\n" if result.strip() else ""


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML ({exc}); fix it first") from None


def _edit_codex(path: Path, command: str | None) -> tuple[str | None, str]:
    original = _read(path)
    _parse_toml(path, original or "")
    base = _without_codex_block(original or "")
    if command is None:
        if TOML_BEGIN not in (original or ""):
            return original, original or ""
        return original, base
    if (original or "").count(TOML_BEGIN) == 1 and codex_block(command) in (original or ""):
        return original, original or ""
    text = (base + "\n" if base else "") + codex_block(command)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        raise SettingsError(
            f"{path} defines hooks.PreToolUse in a way a [[hooks.PreToolUse]] table cannot "
            f"extend; add this by hand:\n{codex_block(command)}"
        ) from None
    return original, text


def codex_trust_note(path: Path) -> str:
    """What the user must still do in Codex, from what its config records about trust."""
    text = _read(path) or ""
    try:
        state = tomllib.loads(text).get("hooks", {}).get("state")
    except (tomllib.TOMLDecodeError, AttributeError):
        state = None
    base = (
        "Codex runs this hook only after you trust it: start `codex`, type /hooks and trust "
        "the expacti hook (until then Codex skips it silently and commands are NOT gated)."
    )
    if not state:
        return base + f" No trust record is in {path} yet."
    return (
        base
        + f" {path} has hook trust records under [hooks.state]; check /hooks lists expacti as trusted."
    )


# --- entry points ----------------------------------------------------------------------------


def claude_settings_arg(command: str | None = None) -> str:
    """JSON for `claude --settings ...`: our hook without touching the user's files."""
    entry = claude_entry(command or hook_command("claude"))
    return json.dumps({"hooks": {"PreToolUse": [entry]}})


def render(agent: str, command: str) -> str:
    """The snippet `install` would add (for --print)."""
    if agent == "codex":
        return codex_block(command)
    if agent == "claude":
        return _dump_json({"hooks": {"PreToolUse": [claude_entry(command)]}})
    return _dump_json({"version": 1, "hooks": {"beforeShellExecution": [cursor_entry(command)]}})


def _apply(agent: str, path: Path, command: str | None) -> Change:
    if agent == "codex":
        original, text = _edit_codex(path, command)
    else:
        original, text = _edit_json(agent, path, command)
    if (original or "") == text or (original is None and not text):
        what = "already installed" if command is not None else "not installed; nothing to remove"
        return Change(path, False, None, f"{path}: {what}")
    backup = _write(path, text, original)
    what = "installed" if command is not None else "removed"
    return Change(path, True, backup, f"{path}: expacti hook {what}")


def install(agent: str, path: Path, command: str | None = None) -> Change:
    return _apply(agent, path, command or hook_command(agent))


def uninstall(agent: str, path: Path) -> Change:
    return _apply(agent, path, None)
