"""Where expacti keeps things. `EXPACTI_HOME` overrides every path (config, data, sockets)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "EXPACTI_HOME"


def home_override() -> Path | None:
    value = os.environ.get(ENV_HOME, "").strip()
    return Path(value).expanduser().absolute() if value else None


def config_dir() -> Path:
    if (home := home_override()) is not None:
        return home
    import platformdirs

    return Path(platformdirs.user_config_dir("expacti"))


def data_dir() -> Path:
    if (home := home_override()) is not None:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir("expacti"))


def runtime_dir() -> Path:
    """Sockets and pid files. Kept private (0700) by whoever creates it."""
    if (home := home_override()) is not None:
        return home / "run"
    xdg = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    # Without XDG_RUNTIME_DIR (containers, ssh without pam_systemd) stay under our data dir
    # rather than a shared /tmp path another user could pre-create.
    return Path(xdg) / "expacti" if xdg else data_dir() / "run"


def config_file() -> Path:
    return config_dir() / "config.toml"


def rules_file() -> Path:
    return data_dir() / "rules.json"


def audit_dir() -> Path:
    return data_dir() / "audit"


def protected_paths() -> tuple[Path, ...]:
    """Paths an agent must never write to: expacti's own config, data and sockets."""
    return (config_dir(), data_dir(), runtime_dir())


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) with mode 0700 if missing; return it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
