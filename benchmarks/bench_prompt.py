"""The prompt detector's costs: the screen model on the output path, the gate on the input path.

- feed: `ScreenModel.feed` (what `expacti run` does with every output chunk) against copying
  the same chunks into a bytearray, for bulk text, coloured bulk text and a full-screen
  program's output (cursor addressing: nothing can be dropped, pyte parses it all). Bulk
  output is compacted (what scrolled off is never parsed), so it should cost next to nothing.
- keystroke: `PromptGate.input_gate` on one key (the fast path) against a function that
  returns its argument.
- run: `expacti run -- cat BIGFILE` with prompt detection on against off (ratio off/on:
  1.0 = it costs nothing end to end).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

MB = 1024 * 1024
CHUNK = 64 * 1024


def _chunks(data: bytes) -> list[bytes]:
    return [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]


def _samples(size: int) -> dict[str, bytes]:
    plain = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/!?\r\n"
    coloured = b"\x1b[01;34mdirectory\x1b[0m  \x1b[32mscript.sh\x1b[0m  plain-file.txt  more\r\n"
    tui = b"".join(
        b"\x1b[%d;1H\x1b[7m %3d%% \x1b[0m\x1b[K row %d of a full-screen program"
        % (i % 24 + 1, i % 100, i)
        for i in range(size // 40)
    )
    return {
        "plain": (plain * (size // len(plain) + 1))[:size],
        "coloured": (coloured * (size // len(coloured) + 1))[:size],
        "tui": tui[: min(size // 32, MB)],  # pyte parses every byte of it: a smaller sample
    }


def _feed_rate(data: bytes, rounds: int) -> tuple[float, float]:
    from expacti_cli.pty.screen import ScreenModel

    chunks = _chunks(data)
    model_times, copy_times = [], []
    for _ in range(rounds):
        model = ScreenModel(24, 80)
        start = time.perf_counter()
        for chunk in chunks:
            model.feed(chunk)
        model.cursor_line()  # what is pending gets parsed when someone looks
        model_times.append(time.perf_counter() - start)
        sink = bytearray()
        start = time.perf_counter()
        for chunk in chunks:
            sink += chunk
        copy_times.append(time.perf_counter() - start)
    mb = len(data) / MB
    return mb / statistics.median(model_times), mb / statistics.median(copy_times)


def _keystroke_ns() -> tuple[float, float]:
    from types import SimpleNamespace

    from expacti_cli.pty.prompt_gate import PromptGate

    gate = PromptGate(session="bench", probe=lambda master: None)
    gate.on_start(SimpleNamespace(ends=SimpleNamespace(master=-1)))

    def identity(data: bytes) -> bytes:
        return data

    n = 200_000
    gated = min(timeit.repeat(lambda: gate.input_gate(b"a"), number=n, repeat=5)) / n * 1e9
    plain = min(timeit.repeat(lambda: identity(b"a"), number=n, repeat=5)) / n * 1e9
    return gated, plain


def _run_ratio(quick: bool) -> dict[str, Any]:
    from benchmarks.bench_pty import _drain_time, _stop_broker

    size_mb = 4 if quick else 20
    rounds = 3 if quick else 7
    env = dict(os.environ, TERM="xterm")
    env.pop("TMUX", None)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as on_home, tempfile.TemporaryDirectory() as off_home:
        Path(off_home, "config.toml").write_text('prompt_detection = "off"\n')
        big = Path(on_home) / "big.txt"
        line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/!?\n"
        big.write_bytes(line * (size_mb * MB // len(line)) + b"THE-END-MARKER\n")
        argv = [sys.executable, "-m", "expacti_cli", "run", "--no-split", "--", "cat", str(big)]
        ratios, on_times = [], []
        for _ in range(rounds):
            t_on = _drain_time(argv, dict(env, EXPACTI_HOME=on_home), b"THE-END-MARKER")
            t_off = _drain_time(argv, dict(env, EXPACTI_HOME=off_home), b"THE-END-MARKER")
            on_times.append(t_on)
            ratios.append(t_off / t_on)
        _stop_broker(dict(env, EXPACTI_HOME=on_home))
        _stop_broker(dict(env, EXPACTI_HOME=off_home))
    figures["run_file_mb"] = size_mb
    figures["run_detect_on_s_median"] = round(statistics.median(on_times), 3)
    # ~1.0: detection costs nothing on `cat BIGFILE` end to end
    figures["run_ratio_off_over_on_median"] = round(statistics.median(ratios), 2)
    figures["run_ratio_off_over_on_range"] = f"{min(ratios):.2f}..{max(ratios):.2f}"
    return figures


def run(quick: bool) -> dict[str, Any]:
    size = (8 if quick else 64) * MB
    rounds = 3 if quick else 7
    figures: dict[str, Any] = {"feed_sample_mb": size // MB}
    for name, data in _samples(size).items():
        model, copy = _feed_rate(data, rounds)
        figures[f"feed_{name}_mb_s"] = round(model, 1)
        figures[f"feed_{name}_copy_mb_s"] = round(copy, 1)
    gated, plain = _keystroke_ns()
    figures["keystroke_gate_ns"] = round(gated, 1)
    figures["keystroke_identity_ns"] = round(plain, 1)
    figures.update(_run_ratio(quick))
    return figures


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
