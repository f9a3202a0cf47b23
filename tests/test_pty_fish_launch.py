"""How `expacti run` starts fish so that it gets the integration."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from expacti_cli.pty import integration


def test_fish_sources_the_vendor_file_from_its_init_command(tmp_path: Path) -> None:
    stubs = integration.write_stubs(tmp_path / "shells")
    launch = integration.fish_launch(["fish", "--no-config"], "n0nce123", stubs, {})
    vendor = stubs / "data" / "fish" / "vendor_conf.d" / integration.FISH_VENDOR_FILE
    assert launch.integration == "fish"
    assert launch.argv == ["fish", "--init-command", f"source '{vendor}'", "--no-config"]
    assert launch.env["EXPACTI_NONCE"] == "n0nce123"
    assert launch.env["XDG_DATA_DIRS"] == f"{stubs / 'data'}:{integration.DEFAULT_XDG_DATA_DIRS}"
    text = vendor.read_text()
    assert f"source '{integration.FISH_SCRIPT}'" in text
    assert f"set -g __expacti_line_gate '{integration.LINE_GATE}'" in text


def test_launch_for_names_the_integration() -> None:
    assert integration.launch_for(["/usr/bin/fish"], "n0nce123").integration == "fish"
    assert integration.launch_for(["zsh", "-l"], "n0nce123").integration == "zsh"


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_the_integration_script_is_valid_fish() -> None:
    done = subprocess.run(
        ["fish", "--no-execute", str(integration.FISH_SCRIPT)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_a_non_interactive_fish_is_left_alone(tmp_path: Path) -> None:
    stubs = integration.write_stubs(tmp_path / "shells")
    env = dict(os.environ, HOME=str(tmp_path), **integration.nested_env(stubs, {}))
    done = subprocess.run(
        ["fish", "-c", "functions -q __expacti_enter; and echo hooked; or echo plain"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert done.stdout == "plain\n", done.stderr
