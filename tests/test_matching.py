"""Tables for rule matching, on hand-built analyses (independent of the parser)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from rules_helpers import NOW, analysis, part, rule, simple, write_to

from expacti_cli.analysis.model import Analysis, SimpleCommand
from expacti_cli.matching import (
    Rule,
    RuleKind,
    RulePatternError,
    match_command,
    too_broad,
    validate_pattern,
)


def verdict(a: Analysis, rules: list[Rule], cwd: str | None = "/home/u/src/app") -> str:
    m = match_command(a, rules, cwd=cwd, now=NOW)
    if m.denied:
        return "deny"
    return "allow" if m.allowed else "ask"


# (pattern, kind, command, allowed?) -- one simple command each
SINGLE_PART = [
    # exact: the text, trimmed, nothing more
    ("npm test", "exact", "npm test", True),
    ("npm test", "exact", "npm test --watch", False),
    ("npm test", "exact", "npm tes", False),
    ("  npm test ", "exact", "npm test", True),
    # prefix: whole words only
    ("git log", "prefix", "git log", True),
    ("git log", "prefix", "git log -3 --oneline", True),
    ("git log", "prefix", "git logout", False),
    ("git log", "prefix", "git", False),
    ("git log", "prefix", "git  log", True),  # words, not characters
    ("git log", "prefix", "git 'log'", True),  # quotes removed by the shell
    ("git log", "prefix", "sudo git log", False),  # allow rules see the words as written
    ("git log", "prefix", "GIT_PAGER=x git log", False),
    ("ls -la", "prefix", "ls -la /tmp", True),
    ("ls -la", "prefix", "ls -l -a", False),
    # glob: one pattern word per command word
    ("git checkout feature/*", "glob", "git checkout feature/login", True),
    ("git checkout feature/*", "glob", "git checkout feature/a/b", False),  # * stops at /
    ("git checkout feature/**", "glob", "git checkout feature/a/b", True),  # ** crosses /
    ("git checkout feature/*", "glob", "git checkout feature/x main", False),  # no extra arg
    ("git checkout feature/*", "glob", "git checkout main", False),
    ("cat /var/log/*", "glob", "cat /var/log/syslog /etc/shadow", False),  # the sudoers hole
    ("cat /var/log/*", "glob", "cat /var/log/../../etc/shadow", False),
    ("cat /var/log/**", "glob", "cat /var/log/../../etc/shadow", False),  # no climbing out
    ("rm -rf build/*", "glob", "rm -rf build/..", False),
    ("cat ../*.md", "glob", "cat ../README.md", True),  # .. written in the pattern is fine
    ("git push origin *", "glob", "git push origin feature", True),
    ("git push origin *", "glob", "git push origin --force", False),  # * is never an option
    ("git push origin *", "glob", "git push origin -f", False),
    ("pytest -*", "glob", "pytest -x", True),  # unless the pattern word is one
    ("rm *.pyc", "glob", "rm *", False),  # the shell would expand it into every file
    ("rm *.pyc", "glob", "rm *.pyc", True),  # the same word written
    ("echo ?", "glob", "echo a", True),
    ("echo ?", "glob", "echo ab", False),
    ("echo [ab]", "glob", "echo a", True),
    ("echo [!ab]", "glob", "echo c", True),
    ("echo [!ab]", "glob", "echo a", False),
    ("npm run *", "glob", "npm run", False),
    # regex: full match of the part's text
    (r"pytest( -[qx])*", "regex", "pytest -q -x", True),
    (r"pytest( -[qx])*", "regex", "pytest -q -x tests/evil.py", False),
    (r"pytest", "regex", "pytest; rm -rf /", False),  # (a parser splits this; text differs)
    (r"git (status|diff)", "regex", "git status", True),
    (r"git (status|diff)", "regex", "git statusx", False),
    # an allow regex must name the program (a shell would otherwise slip in)
    (r"\S+ install .*", "regex", "npm install x", False),
    (r"\w+ test", "regex", "npm test", False),
    (r"(npm|yarn) install .*", "regex", "yarn install x", True),
    (r"sudo .*", "regex", "sudo rm -rf /", False),
    (r"sudo apt .*", "regex", "sudo apt update", True),
    (r"sudo \S+ update", "regex", "sudo apt update", False),
    (r"echo .*", "regex", 'echo "a b"', True),
]


@pytest.mark.parametrize(("pattern", "kind", "command", "allowed"), SINGLE_PART)
def test_single_part(pattern: str, kind: str, command: str, allowed: bool) -> None:
    got = verdict(analysis(part(command)), [rule(pattern, kind)])
    assert got == ("allow" if allowed else "ask")


COMPOUND = [
    # every part must be covered
    (["npm test"], "npm test && rm -rf ~", "ask"),
    (["npm test", "git status"], "npm test && git status", "allow"),
    (["npm test"], "npm test && npm test", "allow"),
    # approving the whole line exactly does not approve its parts elsewhere
    (["git status && rm -rf tmp"], "git status && rm -rf tmp", "allow"),
    (["git status && rm -rf tmp"], "git status && rm -rf other", "ask"),
    (["git status && rm -rf tmp"], "rm -rf tmp", "ask"),
]


@pytest.mark.parametrize(("patterns", "command", "expected"), COMPOUND)
def test_compound(patterns: list[str], command: str, expected: str) -> None:
    assert verdict(simple(command), [rule(p) for p in patterns]) == expected


def test_empty_command_is_never_allowed() -> None:
    assert verdict(Analysis(source=""), [rule("x", "regex"), rule(".*", "regex")]) == "ask"


COMPLEX_PARTS = [
    ("it contains a command", part("echo $(whoami)", has_substitution=True)),
    ("it evaluates", part("eval $X", is_eval=True)),
    ("obfuscated", part("echo aGk= | base64 -d", obfuscated=True)),
    ("variable", part("$cmd -rf x", dynamic_program=True)),
    (
        "writes to a file",
        part("echo hi > out.txt", words=("echo", "hi"), redirects=(write_to("out.txt"),)),
    ),
]


@pytest.mark.parametrize(("why", "p"), COMPLEX_PARTS, ids=[w for w, _ in COMPLEX_PARTS])
@pytest.mark.parametrize("kind", ["prefix", "glob", "regex"])
def test_complex_parts_need_an_exact_rule(why: str, p: SimpleCommand, kind: str) -> None:
    broad = {"prefix": p.words[0], "glob": " ".join("*" for _ in p.words), "regex": ".*"}[kind]
    m = match_command(analysis(p), [rule(broad, kind)], cwd=None, now=NOW)
    assert not m.allowed
    assert why in m.parts[0].explanation
    assert match_command(analysis(p), [rule(p.text)], cwd=None, now=NOW).allowed


def test_non_writing_redirect_is_fine() -> None:
    from expacti_cli.analysis.model import Redirect

    quiet = part("make > /dev/null", words=("make",), redirects=(Redirect(">", "/dev/null"),))
    assert verdict(analysis(quiet), [rule("make", "prefix")]) == "allow"


def test_nested_parts_need_exact_rule_and_are_checked_by_deny() -> None:
    outer = part("bash -c 'rm -rf x'")
    inner = part("rm -rf x", depth=1, via=("bash -c",))
    a = analysis(outer, inner)
    assert verdict(a, [rule("bash", "prefix")]) == "ask"
    assert verdict(a, [rule("bash -c 'rm -rf x'")]) == "allow"
    assert verdict(a, [rule("bash -c 'rm -rf x'"), rule("rm", "prefix", "deny")]) == "deny"


def test_glob_refuses_dynamic_arguments() -> None:
    p = part("cat $F", dynamic_args=True)
    assert verdict(analysis(p), [rule("cat *", "glob")]) == "ask"
    assert verdict(analysis(p), [rule("cat", "prefix")]) == "allow"


# deny rules look through wrappers and normalise the program
DENY = [
    ("rm", "prefix", part("rm -rf x")),
    ("rm", "prefix", part("sudo rm -rf x")),
    ("rm", "prefix", part("/bin/rm -rf x")),
    ("rm", "prefix", part("\\rm -rf x", words=("\\rm", "-rf", "x"))),
    ("rm", "prefix", part("X=1 timeout 5 rm x")),
    ("rm -rf *", "glob", part("rm -rf --no-preserve-root")),  # deny globs are loose
    ("rm -rf /*", "glob", part("rm -rf /etc/x/y")),
    ("rm -rf /", "exact", part("sudo rm -rf /")),
    (r"rm .*", "regex", part("sudo rm -rf /")),
    (r"terraform (destroy|apply).*", "regex", part("terraform destroy -auto-approve")),
    # a deny prefix with flags: any spelling and order of the flags
    ("rm -rf", "prefix", part("rm -r -f x")),
    ("rm -rf", "prefix", part("rm -fr x")),
    ("rm -rf", "prefix", part("rm -f -R x")),
    ("rm -rf", "prefix", part("rm --recursive --force x")),
    ("rm -rf", "prefix", part("sudo rm -v --force -r x")),
    ("git push --force", "prefix", part("git push origin main -f")),
    ("rm -rf /", "prefix", part("rm -f -r /")),
]

DENY_MISSES = [
    ("rm -rf", "prefix", part("rm -r x")),  # -f missing
    ("rm -rf /", "prefix", part("rm -rf /tmp")),
    ("git push --force", "prefix", part("git pull --force")),
    ("rm", "prefix", part("rmdir x")),
    ("rm -rf *", "glob", part("rm -rf a b")),  # one word per pattern word, even for deny
]


@pytest.mark.parametrize(("pattern", "kind", "p"), DENY_MISSES)
def test_deny_misses(pattern: str, kind: str, p: SimpleCommand) -> None:
    assert verdict(analysis(p), [rule(pattern, kind, "deny"), rule(p.text)]) == "allow"


@pytest.mark.parametrize(("pattern", "kind", "p"), DENY)
def test_deny_sees_through_wrappers(pattern: str, kind: str, p: SimpleCommand) -> None:
    assert verdict(analysis(p), [rule(pattern, kind, "deny"), rule(p.text)]) == "deny"


def test_deny_catches_nested_parts() -> None:
    inner = part("rm -rf /", depth=1, via=("ssh prod",))
    a = analysis(part("ssh prod 'rm -rf /'"), inner)
    m = match_command(a, [rule("rm", "prefix", "deny", rid="D1")], cwd=None, now=NOW)
    assert m.denied and m.parts[0].denied_by == "D1"
    assert "nested" in m.parts[0].explanation and "rm -rf /" in m.parts[0].explanation


def test_deny_wins_over_allow_of_the_same_part() -> None:
    rules = [rule("git", "prefix"), rule("git push --force", "prefix", "deny")]
    assert verdict(simple("git status"), rules) == "allow"
    assert verdict(simple("git status && git push --force origin main"), rules) == "deny"


def test_deny_whole_line_exact_and_unparsed() -> None:
    bad = Analysis(source="rm -rf / ((", unparsed=True)
    assert verdict(bad, [rule("rm -rf / ((", "exact", "deny")]) == "deny"
    assert verdict(bad, [rule("rm .*", "regex", "deny")]) == "deny"
    assert verdict(bad, [rule("rm -rf / ((")]) == "ask"  # never allowed, even exactly


def test_unparsed_is_never_allowed() -> None:
    a = analysis(part("npm test"), unparsed=True)
    assert verdict(a, [rule("npm test"), rule("npm", "prefix"), rule(".*", "regex")]) == "ask"


# scope: the rule applies only inside its directory
SCOPE = [
    ("/home/u/src/app", "/home/u/src/app", "allow"),
    ("/home/u/src/app", "/home/u/src/app/lib", "allow"),
    ("/home/u/src/app", "/home/u/src/app/", "allow"),
    ("/home/u/src/app", "/home/u/src/apple", "ask"),
    ("/home/u/src/app", "/home/u/src", "ask"),
    ("/home/u/src/app", None, "ask"),  # unknown cwd: a scoped allow does not apply
    ("/", "/anything", "allow"),
]


@pytest.mark.parametrize(("scope", "cwd", "expected"), SCOPE)
def test_scope(scope: str, cwd: str | None, expected: str) -> None:
    assert verdict(simple("make"), [rule("make", scope=scope)], cwd=cwd) == expected


def test_scoped_deny_applies_when_cwd_unknown() -> None:
    rules = [rule("make"), rule("make", "prefix", "deny", scope="/srv")]
    assert verdict(simple("make"), rules, cwd=None) == "deny"
    assert verdict(simple("make"), rules, cwd="/home") == "allow"


def test_scoped_allow_stops_after_cd() -> None:
    rules = [rule("make", scope="/home/u/src/app"), rule("cd", "prefix")]
    assert verdict(simple("make && cd /etc"), rules) == "allow"
    assert verdict(simple("cd /etc && make"), rules) == "ask"


def test_expired_rules_are_ignored() -> None:
    gone = NOW - timedelta(seconds=1)
    later = NOW + timedelta(hours=1)
    assert verdict(simple("npm test"), [rule("npm test", expires_at=gone)]) == "ask"
    assert verdict(simple("npm test"), [rule("npm test", expires_at=later)]) == "allow"
    assert (
        verdict(simple("rm x"), [rule("rm x"), rule("rm", "prefix", "deny", expires_at=gone)])
        == "allow"
    )


# wrapped commands: a prefix/glob allow must name the program that really runs
WRAPPED = [
    ("sudo", "prefix", "sudo rm -rf /", "ask"),
    ("sudo apt", "prefix", "sudo apt update", "allow"),
    ("timeout 5", "prefix", "timeout 5 rm x", "ask"),
    ("timeout 5 npm test", "prefix", "timeout 5 npm test", "allow"),
    ("sudo *", "glob", "sudo rm", "ask"),
    ("sudo apt *", "glob", "sudo apt update", "allow"),
    ("X=1", "prefix", "X=1 rm -rf x", "ask"),
]


@pytest.mark.parametrize(("pattern", "kind", "command", "expected"), WRAPPED)
def test_wrapped_programs(pattern: str, kind: str, command: str, expected: str) -> None:
    assert verdict(analysis(part(command)), [rule(pattern, kind)]) == expected


def test_rule_ids_and_explanations() -> None:
    rules = [rule("npm test", rid="A"), rule("git log", "prefix", rid="B")]
    m = match_command(simple("npm test && git log -3"), rules, cwd=None, now=NOW)
    assert [p.allowed_by for p in m.parts] == ["A", "B"]
    assert m.rule_ids == ("A", "B")
    assert "allowed by rule B" in m.parts[1].explanation
    m = match_command(simple("npm test && rm -rf ~"), rules, cwd=None, now=NOW)
    assert m.rule_ids == ()  # nothing decided: no hits to count
    assert m.parts[1].explanation == "not covered by any rule"


def test_a_broken_stored_pattern_matches_nothing() -> None:
    rules = [rule("(", "regex"), rule("[", "glob"), rule("'", "prefix"), rule("npm test")]
    assert verdict(simple("npm test"), rules) == "allow"
    assert verdict(simple("ls"), rules) == "ask"


BAD_PATTERNS = [
    ("regex", "("),
    ("regex", "a{2,1}"),
    ("glob", "ls [abc"),
    ("prefix", "git 'log"),
    ("prefix", "git log; rm"),
    ("glob", "a | b"),
    ("exact", "   "),
    ("prefix", ""),
]


@pytest.mark.parametrize(("kind", "pattern"), BAD_PATTERNS)
def test_validate_rejects(kind: str, pattern: str) -> None:
    with pytest.raises(RulePatternError):
        validate_pattern(RuleKind(kind), pattern)


TOO_BROAD = [
    ("prefix", "bash", True),
    ("prefix", "/bin/sh", True),
    ("prefix", "sudo", True),
    ("prefix", "xargs", True),
    ("prefix", "npx", True),
    ("prefix", "python3", True),
    ("prefix", "eval", True),
    ("prefix", "FOO=1 bash", True),
    ("prefix", "FOO=1", True),
    ("glob", "* --version", True),
    ("glob", "py* -m *", True),
    ("glob", "/usr/bin/* x", True),
    ("regex", ".*", True),
    ("regex", r"\S+ -c .*", True),
    ("regex", "(sudo|doas) .*", True),
    ("prefix", "git log", False),
    ("glob", "git checkout *", False),
    ("regex", "npm (test|run lint)", False),
    ("exact", "bash -c 'make'", False),  # exact rules are narrow by nature
]


@pytest.mark.parametrize(("kind", "pattern", "broad"), TOO_BROAD)
def test_too_broad(kind: str, pattern: str, broad: bool) -> None:
    assert bool(too_broad(rule(pattern, kind))) == broad
    assert too_broad(rule(pattern, kind, "deny")) == ""  # a broad deny is only strict


def test_ruleset_is_reusable_and_checks_expiry_at_match_time() -> None:
    from expacti_cli.matching import RuleSet

    rules = RuleSet(
        [
            rule("npm test", expires_at=NOW + timedelta(hours=1)),
            rule("npm test && ls", expires_at=NOW + timedelta(hours=1)),
            rule("rm", "prefix", "deny", expires_at=NOW + timedelta(hours=1)),
        ]
    )
    for cmd, before in (("npm test", "allow"), ("npm test && ls", "allow"), ("rm x", "deny")):
        a = simple(cmd)
        assert verdict_at(a, rules, NOW) == before
        assert verdict_at(a, rules, NOW + timedelta(hours=2)) == "ask"


def verdict_at(a: Analysis, rules: object, now: datetime) -> str:
    m = match_command(a, rules, cwd="/", now=now)  # type: ignore[arg-type]
    return "deny" if m.denied else "allow" if m.allowed else "ask"


def test_whole_line_exact_rule_respects_scope() -> None:
    a = simple("make && make install")
    scoped = [rule("make && make install", scope="/srv/app")]
    assert verdict(a, scoped, cwd="/srv/app/x") == "allow"
    assert verdict(a, scoped, cwd="/home") == "ask"
