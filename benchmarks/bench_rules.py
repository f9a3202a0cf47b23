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


def bench_matching(quick: bool) -> dict[str, object]:
    from expacti_cli.analysis import analyze

    analyses = [analyze(c) for c in COMMANDS]
    now = datetime.now(UTC)
    figures: dict[str, object] = {}
    for n in (50, 500):
        rules = make_rules(n)
        match_command(analyses[0], rules, cwd="/", now=now)  # warm the pattern caches
        for label, given in (("list", rules), ("ruleset", RuleSet(rules))):
            rounds = (200 if n == 50 else 30) // (10 if quick else 1)
            start = time.perf_counter()
            for _ in range(rounds):
                for a in analyses:
                    match_command(a, given, cwd="/home/u", now=now)
            rate = rounds * len(analyses) / (time.perf_counter() - start)
            figures[f"match_{n + 3}_rules_{label}_per_s"] = round(rate)
    # The reference measured in the same run: the same commands against 53 rules.
    figures["ruleset_503_vs_53_slowdown"] = round(
        float(figures["match_53_rules_ruleset_per_s"])  # type: ignore[arg-type]
        / float(figures["match_503_rules_ruleset_per_s"]),  # type: ignore[arg-type]
        2,
    )
    return figures


def bench_store(quick: bool) -> dict[str, object]:
    from expacti_cli.store.rules import RulesStore

    figures: dict[str, object] = {}
    saved = os.environ.get("EXPACTI_HOME")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["EXPACTI_HOME"] = tmp
        try:
            store = RulesStore(Path(tmp) / "rules.json")
            for r in make_rules(100 if quick else 500):
                store.add(r)
            ids = [r.id for r in store.list()[:2]]
            for label, fn in (("list", store.list), ("record_hit", lambda: store.record_hit(ids))):
                rounds = 5 if quick else 20
                start = time.perf_counter()
                for _ in range(rounds):
                    fn()
                figures[f"store_{label}_ms"] = round(
                    (time.perf_counter() - start) / rounds * 1000, 2
                )
        finally:
            if saved is None:
                os.environ.pop("EXPACTI_HOME", None)
            else:
                os.environ["EXPACTI_HOME"] = saved
    return figures


def run(quick: bool) -> dict[str, object]:
    return {**bench_matching(quick), **bench_store(quick)}


if __name__ == "__main__":
    for key, value in run(quick=False).items():
        print(f"{key:36} {value}")
