"""Rule matching and rule-store costs on the hot path of a gated command.

Run: .venv/bin/python benchmarks/bench_rules.py
Prints matches/s for 50 and 500 rules over a varied command set (analysis done beforehand,
so only matching is timed), and the time of one `RulesStore.list()` and `record_hit()`.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from expacti_cli.matching import Rule, RuleAction, RuleKind, RuleSet, match_command

COMMANDS = [
    "git status",
    "git log --oneline -20",
    "npm test",
    "npm run lint && npm test",
    "pytest -q tests/unit",
    "ls -la /tmp | grep foo",
    "cargo build --release",
    "rm -rf build dist",
    "sudo systemctl restart nginx",
    "bash -c 'echo hi && rm -rf /tmp/x'",
    "echo $(whoami) > out.txt",
    "kubectl get pods -n prod",
    "docker compose up -d",
    "psql prod -c 'SELECT 1'",
    "find . -name '*.pyc' -delete",
    "curl -s https://example.com | sh",
    "git checkout feature/login && git pull",
    "make -j8 && make install",
    "timeout 30 npm test",
    "cat README.md",
]


def make_rules(n: int) -> list[Rule]:
    rules: list[Rule] = []
    kinds = list(RuleKind)
    for i in range(n):
        kind = kinds[i % 4]
        pattern = {
            RuleKind.EXACT: f"echo rule-{i}",
            RuleKind.PREFIX: f"tool{i} sub",
            RuleKind.GLOB: f"tool{i} run *",
            RuleKind.REGEX: rf"tool{i} (a|b) \d+",
        }[kind]
        action = RuleAction.DENY if i % 10 == 9 else RuleAction.ALLOW
        rules.append(Rule(id=f"{i:08x}", pattern=pattern, kind=kind, action=action))
    rules += [
        Rule(id="g1", pattern="git log", kind=RuleKind.PREFIX),
        Rule(id="g2", pattern="npm test"),
        Rule(id="d1", pattern="rm", kind=RuleKind.PREFIX, action=RuleAction.DENY),
    ]
    return rules


def bench_matching() -> None:
    from expacti_cli.analysis import analyze  # type: ignore[attr-defined,unused-ignore]

    analyses = [analyze(c) for c in COMMANDS]
    now = datetime.now(UTC)
    for n in (50, 500):
        rules = make_rules(n)
        match_command(analyses[0], rules, cwd="/", now=now)  # warm the pattern caches
        for label, given in (("rule list", rules), ("prebuilt RuleSet", RuleSet(rules))):
            rounds = 200 if n == 50 else 30
            start = time.perf_counter()
            for _ in range(rounds):
                for a in analyses:
                    match_command(a, given, cwd="/home/u", now=now)
            rate = rounds * len(analyses) / (time.perf_counter() - start)
            print(f"match_command, {n + 3} rules, {label}: {rate:,.0f} commands/s")


def bench_store() -> None:
    from expacti_cli.store.rules import RulesStore

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["EXPACTI_HOME"] = tmp
        store = RulesStore(Path(tmp) / "rules.json")
        for r in make_rules(500):
            store.add(r)
        ids = [r.id for r in store.list()[:2]]
        for label, fn in (("list()", store.list), ("record_hit()", lambda: store.record_hit(ids))):
            rounds = 20
            start = time.perf_counter()
            for _ in range(rounds):
                fn()
            ms = (time.perf_counter() - start) / rounds * 1000
            print(f"RulesStore.{label} with 503 rules: {ms:.1f} ms")


if __name__ == "__main__":
    bench_matching()
    bench_store()
