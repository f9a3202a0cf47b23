"""What `expacti mcp` adds to a command an agent runs through its `exec` tool.

Run: .venv/bin/python benchmarks/bench_mcp.py [--quick]

- startup: from spawning `expacti mcp` to the tool list (the MCP SDK's client over stdio,
  broker already running).
- exec: one `tools/call exec` of a whitelisted `true` (submit, rule match, fsync'd audit record,
  run, exit record) against spawning `bash -c true` from the same client process; the two
  alternate so machine noise hits both alike.
- score: one `tools/call score` (analysis and policy, nothing runs): the MCP round trip floor.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import broker_home, spread


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def _measure(calls: int) -> dict[str, Any]:
    import anyio
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=str(Path(sys.executable).with_name("expacti")),
        args=["mcp"],
        env=dict(os.environ),
    )
    started = time.perf_counter()
    async with Client(params) as client:
        await client.list_tools()
        startup = time.perf_counter() - started
        gated, plain, scored = [], [], []
        for _ in range(calls):
            t = time.perf_counter()
            result = await client.call_tool("exec", {"command": "true"})
            gated.append(time.perf_counter() - t)
            assert result.structured_content and result.structured_content["exit_code"] == 0
            t = time.perf_counter()
            await anyio.run_process(["bash", "-c", "true"])
            plain.append(time.perf_counter() - t)
            t = time.perf_counter()
            await client.call_tool("score", {"command": "true"})
            scored.append(time.perf_counter() - t)
    g, p = statistics.median(gated), statistics.median(plain)
    return {
        "calls": calls,
        "startup_to_tool_list_ms": _ms(startup),
        "exec_true_median_ms": _ms(g),
        "exec_true_spread_ms": _ms(spread(gated)),
        "bash_c_true_median_ms": _ms(p),
        "bash_c_true_spread_ms": _ms(spread(plain)),
        "exec_added_ms": _ms(g - p),
        "exec_ratio": round(g / p, 1),
        "score_median_ms": _ms(statistics.median(scored)),
        "score_spread_ms": _ms(spread(scored)),
    }


def run(quick: bool) -> dict[str, Any]:
    import anyio

    with broker_home("expacti-bench-mcp-"):
        expacti = str(Path(sys.executable).with_name("expacti"))
        subprocess.run([expacti, "whitelist", "add", "true"], check=True, capture_output=True)
        calls = 20 if quick else 100
        figures: dict[str, Any] = anyio.run(_measure, calls)
    return figures


if __name__ == "__main__":
    for name, value in run(quick="--quick" in sys.argv).items():
        print(f"{name:30} {value}")
