"""Property tests for command analysis: it never raises, never loses a part, fails closed."""

from __future__ import annotations

import shlex

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expacti_cli.analysis import Analysis, analyze
from expacti_cli.analysis.walker import ROOT_SCOPE, Walker

SHELLISH = st.text(
    alphabet=st.sampled_from(list("ab rm-f/$`'\"\\|&;()<>{}[]\n\t=*~#!0123456789xEOF.")),
    max_size=60,
)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _well_formed(analysis: Analysis) -> None:
    assert isinstance(analysis, Analysis)
    assert isinstance(analysis.source, str)
    for p in analysis.parts:
        assert 0 <= p.top < len(analysis.parts)
        assert analysis.parts[p.top].depth == 0
        assert isinstance(p.program, str)


@FAST
@given(st.text(max_size=200))
def test_never_raises_on_text(command: str) -> None:
    _well_formed(analyze(command))


@FAST
@given(st.binary(max_size=200))
def test_never_raises_on_bytes(command: bytes) -> None:
    analysis = analyze(command)
    _well_formed(analysis)
    assert analysis.source.encode("utf-8", "surrogateescape") == command


@FAST
@given(SHELLISH)
def test_never_raises_on_shell_syntax(command: str) -> None:
    _well_formed(analyze(command))


@FAST
@given(SHELLISH, st.integers(min_value=0, max_value=3))
def test_never_raises_with_any_depth_limit(command: str, depth: int) -> None:
    analysis = analyze(command, max_depth=depth)
    _well_formed(analysis)
    assert all(p.depth <= depth for p in analysis.parts)


# --- never lose a part --------------------------------------------------------------------------

DANGER = "rm -rf /tmp/victim"


def _quote(cmd: str) -> str:
    return shlex.quote(cmd)


# Each wrapping hides the command one way a gate must see through. Some only make sense
# around a simple command (`sudo (a && b)` is not bash) or a command not sent to the
# background (`a & | cat` is not bash): (wrap, needs, gives) with states simple > fg > bg.
SIMPLE, FG, BG, KEEP = 0, 1, 2, -1  # KEEP: at least FG, BG stays BG
WRAPPINGS = [
    (lambda c: f"sudo {c}", SIMPLE, SIMPLE),
    (lambda c: f"sudo -u root -H {c}", SIMPLE, SIMPLE),
    (lambda c: f"env -i A=1 {c}", SIMPLE, SIMPLE),
    (lambda c: f"FOO=bar {c}", SIMPLE, FG),  # a wrapper would run FOO=bar
    (lambda c: f"timeout -s KILL 5 {c}", SIMPLE, SIMPLE),
    (lambda c: f"nice -n 5 {c}", SIMPLE, SIMPLE),
    (lambda c: f"nohup {c}", SIMPLE, SIMPLE),
    (lambda c: f"stdbuf -oL {c}", SIMPLE, SIMPLE),
    (lambda c: f"setsid {c}", SIMPLE, SIMPLE),
    (lambda c: f"time {c}", SIMPLE, SIMPLE),
    (lambda c: f"command {c}", SIMPLE, SIMPLE),
    (lambda c: f"exec {c}", SIMPLE, SIMPLE),
    (lambda c: f"xargs -0 -n 1 {c}", SIMPLE, SIMPLE),
    (lambda c: f"bash -c {_quote(c)}", BG, SIMPLE),
    (lambda c: f"sh -lc {_quote(c)}", BG, SIMPLE),
    (lambda c: f"eval {_quote(c)}", BG, SIMPLE),
    (lambda c: f"echo $( {c} )", BG, SIMPLE),
    (lambda c: f"cat <( {c} )", BG, SIMPLE),
    (lambda c: f"ssh -p 22 deploy@prod {_quote(c)}", BG, SIMPLE),
    (lambda c: f"docker exec -u root web sh -c {_quote(c)}", BG, SIMPLE),
    (lambda c: f"kubectl exec -n prod api-0 -- sh -c {_quote(c)}", BG, SIMPLE),
    (lambda c: f"watch -n 1 {_quote(c)}", BG, SIMPLE),
    (lambda c: f"bash <<'EOF{len(c)}'\n{c}\nEOF{len(c)}", BG, SIMPLE),
    (lambda c: f"true && {c}", BG, KEEP),
    (lambda c: f"false || {c}", BG, KEEP),
    (lambda c: f"ls; {c}", BG, KEEP),
    (lambda c: f"{c} | cat", FG, FG),
    (lambda c: f"( {c} )", BG, FG),
    (lambda c: f"{{ {c}\n}}", BG, FG),
    (lambda c: f"if true; then\n{c}\nfi", BG, FG),
    (lambda c: f"for i in 1; do\n{c}\ndone", BG, FG),
    (lambda c: f"{c} > /dev/null 2>&1", FG, FG),
    (lambda c: f"{c} &", FG, BG),
]


def _wrapped(chain: list[int]) -> str:
    command = DANGER
    state = SIMPLE
    for index in chain:
        wrap, needs, gives = WRAPPINGS[index]
        if state > needs:
            continue
        command = wrap(command)
        state = max(FG, state) if gives == KEEP else gives
    return command


CHAINS = st.lists(st.integers(min_value=0, max_value=len(WRAPPINGS) - 1), max_size=4)


@settings(max_examples=400, deadline=None)
@given(CHAINS)
def test_a_wrapped_dangerous_command_is_never_lost(chain: list[int]) -> None:
    command = _wrapped(chain)
    analysis = analyze(command, max_depth=20)
    assert not analysis.unparsed, (command, analysis.problems)
    found = [
        p
        for p in analysis.parts
        if p.program == "rm" and {"r", "f"} <= p.short_flags and "/tmp/victim" in p.positionals
    ]
    assert found, (command, [(p.program, p.argv) for p in analysis.parts])


@settings(max_examples=200, deadline=None)
@given(CHAINS)
def test_past_the_depth_limit_analysis_fails_closed(chain: list[int]) -> None:
    command = _wrapped(chain)
    analysis = analyze(command, max_depth=1)
    if not any(p.program == "rm" for p in analysis.parts):
        assert analysis.depth_exceeded and analysis.unparsed, command


# --- syntax errors ------------------------------------------------------------------------------

BREAKERS = [' "unterminated', " $(", " `", " &&", " |", " )", "; fi", "; done", " ((", " <", " 'x"]


@settings(max_examples=300, deadline=None)
@given(CHAINS, st.sampled_from(BREAKERS))
def test_syntax_errors_are_unparsed(chain: list[int], breaker: str) -> None:
    command = _wrapped(chain) + breaker
    analysis = analyze(command)
    assert analysis.unparsed, command
    assert analysis.problems


# --- the fast path agrees with the parser -------------------------------------------------------

PLAIN_WORD = st.one_of(
    st.text(alphabet="abcrmfgit-./:@%+,=~_0123456789", min_size=1, max_size=8),
    st.sampled_from(["sh", "bash", "psql", "echo", "base64", "-d", "-c", "sudo", "xargs"]),
    st.sampled_from(["'x; y'", '"a && b"', "'rm -rf /'", "'SELECT 1'", "cm0gLXJmIC8="]),
    st.sampled_from(["*.py", "src/*", "{}", "{a,b}", "\\;", "a\\ b", "\\rm", "time", "x?"]),
    st.text(alphabet="ab c;&|-'", max_size=6).map(lambda s: '"' + s + '"'),
    st.text(alphabet='ab c;&|-"', max_size=6).map(lambda s: "'" + s + "'"),
)
PLAIN_REDIRECT = st.tuples(
    st.sampled_from([">", ">>", "2>", "2>>", "<", "&>", ">&", "2>&", "12>", ">|"]),
    st.sampled_from(["", " "]),
    st.sampled_from(["out.txt", "/dev/null", "1", "2", "-", "'a b'", '"log"']),
).map("".join)
PLAIN_COMMAND = st.tuples(
    st.lists(PLAIN_WORD, min_size=1, max_size=5),
    st.lists(st.tuples(st.integers(0, 5), PLAIN_REDIRECT, st.sampled_from([" ", ""])), max_size=2),
).map(
    lambda parts: "".join(
        [
            " ".join(parts[0][: min(i, len(parts[0]))])
            + sep
            + redirect
            + " "
            + " ".join(parts[0][min(i, len(parts[0])) :])
            for i, redirect, sep in parts[1][:1]
        ]
        or [" ".join(parts[0])]
    ).strip()
)
PLAIN_LINE = st.lists(
    st.tuples(PLAIN_COMMAND, st.sampled_from([" && ", " || ", "; ", ";", " | ", "|"])),
    min_size=1,
    max_size=4,
).map(lambda items: "".join(c + op for c, op in items)[: -len(items[-1][1])])


@settings(max_examples=400, deadline=None)
@given(PLAIN_LINE)
def test_fast_path_matches_the_parser(line: str) -> None:
    fast = Walker(5)
    if not fast.run_plain(line):
        return
    slow = Walker(5)
    slow.run(line, ROOT_SCOPE)
    if slow.unparsed:
        return  # e.g. a reserved word the fast path refused anyway
    assert [p.freeze() for p in fast.parts] == [p.freeze() for p in slow.parts], line
    assert fast.operators == slow.operators


PREFIX = st.text(alphabet=st.sampled_from(list("ab $`'\"\\|&;()<>{}#=!-x0\t")), max_size=12)


@settings(max_examples=500, deadline=None)
@given(PREFIX)
def test_a_command_on_its_own_line_is_never_lost(prefix: str) -> None:
    """After any complete line, the next line's command is a part, or the whole is unparsed.

    (An open here-doc or a trailing backslash legitimately turns the next line into data.)
    """
    if "<<" in prefix or prefix.endswith("\\"):
        return
    analysis = analyze(f"{prefix}\n{DANGER}")
    found = any(p.program == "rm" and "/tmp/victim" in p.positionals for p in analysis.parts)
    assert found or analysis.unparsed, (prefix, [(p.program, p.argv) for p in analysis.parts])
