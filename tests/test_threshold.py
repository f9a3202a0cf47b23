"""auto_approve_below per project and strict_anomalies: config and policy (issue 5).

`[projects."DIR"]` tables override `auto_approve_below` and `strict_anomalies` for commands run
in DIR or below; the policy keeps anything with anomalies or unparsed parts away from the
threshold, and under strictness sends a rule-allowed command with anomalies to a human.
"""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_helpers import NOW, rule, simple

from expacti_cli.analysis.model import Analysis
from expacti_cli.config import load_config, projects_holding, set_value, unset_value
from expacti_cli.errors import ConfigError
from expacti_cli.policy import Action, Via, decide
from expacti_cli.risk.model import Level, Score


def write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text)
    return path


def test_the_innermost_project_wins_and_inherits_the_outer_ones(expacti_home: Path) -> None:
    write(
        expacti_home,
        "auto_approve_below = 10\n"
        '[projects."/srv/app"]\nauto_approve_below = 30\nstrict_anomalies = true\n'
        '[projects."/srv/app/vendor"]\nauto_approve_below = 0\n',
    )
    cfg = load_config()
    cases = {
        "/srv/app": ("/srv/app", 30, True),
        "/srv/app/src/lib": ("/srv/app", 30, True),
        "/srv/app/vendor/x": ("/srv/app/vendor", 0, True),  # strictness from /srv/app
        "/srv/application": ("", 10, "auto"),  # a path boundary, not a string prefix
        "/srv": ("", 10, "auto"),
        "relative/dir": ("", 10, "auto"),
        "": ("", 10, "auto"),
    }
    for cwd, (project, below, strict) in cases.items():
        got = cfg.for_directory(cwd)
        assert (got.project, got.auto_approve_below, got.strict_anomalies) == (
            project,
            below,
            strict,
        ), cwd


def test_symlinks_are_judged_by_where_the_command_really_runs(
    expacti_home: Path, tmp_path: Path
) -> None:
    project = tmp_path / "real-app"
    (project / "src").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link-to-app").symlink_to(project)
    (project / "escape").symlink_to(elsewhere)
    (tmp_path / "app-alias").symlink_to(project)
    # the project is configured through a symlink of its own
    write(expacti_home, f'[projects."{tmp_path / "app-alias"}"]\nauto_approve_below = 40\n')
    cfg = load_config()
    assert cfg.for_directory(str(project / "src")).auto_approve_below == 40
    assert cfg.for_directory(str(tmp_path / "link-to-app" / "src")).auto_approve_below == 40
    assert cfg.for_directory(str(project / "escape")).auto_approve_below == 0


def test_set_and_unset_a_project_value(expacti_home: Path, tmp_path: Path) -> None:
    set_value("auto_approve_below", "15")
    set_value("auto_approve_below", "35", project=str(tmp_path / "app" / ".." / "app"))
    set_value("strict_anomalies", "off", project=str(tmp_path / "app"))
    cfg = load_config()
    assert cfg.projects == {
        str(tmp_path / "app"): {"auto_approve_below": 35, "strict_anomalies": False}
    }
    assert cfg.auto_approve_below == 15
    assert unset_value("auto_approve_below", project=str(tmp_path / "app"))
    assert not unset_value("auto_approve_below", project=str(tmp_path / "app"))
    assert unset_value("strict_anomalies", project=str(tmp_path / "app"))
    assert load_config().projects == {}
    assert "projects" not in (expacti_home / "config.toml").read_text()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("auto_approve_below", "101", r'projects\."/srv/app"\.auto_approve_below: .*0 to 100'),
        ("auto_approve_below", "x", "expected an integer"),
        ("strict_anomalies", "sometimes", 'true, false or "auto"'),
        ("approval_timeout", "60", "cannot be set per project"),
        ("risk.production_markers", "prod", "cannot be set per project"),
    ],
)
def test_bad_project_values_are_refused_and_nothing_is_lost(
    expacti_home: Path, key: str, value: str, message: str
) -> None:
    set_value("auto_approve_below", "20", project="/srv/app")
    before = (expacti_home / "config.toml").read_bytes()
    with pytest.raises(ConfigError, match=message):
        set_value(key, value, project="/srv/app")
    assert (expacti_home / "config.toml").read_bytes() == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[projects."/srv/app"]\nauto_approve_below = 500\n',
            r'projects\."/srv/app"\.auto_approve_below in .*config\.toml',
        ),
        (
            '[projects."/srv/app"]\nreviewer = "x"\n',
            r'projects\."/srv/app"\.reviewer in .*not a per-project key',
        ),
        ('[projects."srv/app"]\nauto_approve_below = 5\n', "must be an absolute path"),
        ("projects = 3\n", r"projects in .*config\.toml"),
        ('[projects]\n"/srv/app" = 3\n', "expected a table of settings"),
        ('strict_anomalies = "yes"\n', r"strict_anomalies in .*config\.toml"),
    ],
)
def test_bad_project_tables_name_the_key_and_the_file(
    expacti_home: Path, text: str, message: str
) -> None:
    path = write(expacti_home, text)
    with pytest.raises(ConfigError, match=message):
        load_config()
    with pytest.raises(ConfigError):  # and nothing rewrites a file it cannot read back
        set_value("approval_timeout", "90")
    assert path.read_text() == text


_segment = st.text(alphabet=string.ascii_lowercase + "-._", min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..")
)


@settings(max_examples=200, deadline=None)
@given(
    root=st.lists(_segment, min_size=1, max_size=3),
    rest=st.lists(_segment, max_size=3),
    tail=_segment,
)
def test_project_matching_respects_path_boundaries(
    root: list[str], rest: list[str], tail: str
) -> None:
    base = "/nonexistent-expacti-test/" + "/".join(root)
    projects = {base: {"auto_approve_below": 1}}
    inside = base + "".join("/" + r for r in rest)
    assert projects_holding(inside, projects) == [base]
    sibling = base + tail  # /x/app vs /x/appX: a longer name, never inside
    assert projects_holding(sibling, projects) == []
    assert projects_holding(os.path.dirname(base), projects) == []


# --- policy ----------------------------------------------------------------------------------


def score(n: int, *, anomalies: tuple[str, ...] = (), unparsed: bool = False) -> Score:
    return Score("x", n, Level.of(n), "test", (), unparsed=unparsed, anomalies=anomalies)


RULES = [rule("npm test", rid="T"), rule("rm", "prefix", "deny", rid="D")]


def test_strict_anomalies_send_a_whitelisted_command_to_a_human() -> None:
    flagged = score(5, anomalies=("burst: 30 commands in the last minute",))
    lenient = decide(simple("npm test"), flagged, RULES, cwd="/", now=NOW)
    assert (lenient.action, lenient.via) == (Action.ALLOW, Via.RULE)
    strict = decide(
        simple("npm test"), flagged, RULES, cwd="/", now=NOW, strict_anomalies=flagged.anomalies
    )
    assert (strict.action, strict.via) == (Action.ASK, Via.DEFAULT)
    assert "strict_anomalies" in strict.reason and "burst: 30 commands" in strict.reason
    assert strict.rule_ids == ()  # no rule hit is recorded for a command a human decides
    denied = decide(simple("rm -rf x"), flagged, RULES, cwd="/", now=NOW, strict_anomalies=("x",))
    assert denied.action is Action.DENY  # a deny rule still wins


def test_the_threshold_reason_names_the_project() -> None:
    d = decide(
        simple("ls"),
        score(12),
        [],
        cwd="/srv/app",
        now=NOW,
        auto_approve_below=30,
        threshold_scope="project /srv/app",
    )
    assert (d.action, d.via) == (Action.ALLOW, Via.THRESHOLD)
    assert d.reason == "LOW 12 is below auto_approve_below = 30 (project /srv/app)"


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(0, 100),
    below=st.integers(0, 100),
    anomalies=st.lists(st.text(min_size=1, max_size=20), max_size=3),
    unparsed=st.booleans(),
)
def test_anomalies_and_unparsed_commands_never_pass_by_threshold(
    n: int, below: int, anomalies: list[str], unparsed: bool
) -> None:
    a = Analysis(source="ls", parts=simple("ls").parts, unparsed=unparsed)
    d = decide(
        a, score(n, anomalies=tuple(anomalies)), [], cwd="/", now=NOW, auto_approve_below=below
    )
    passed = d.action is Action.ALLOW
    assert passed == (n < below and not anomalies and not unparsed)
    if passed:
        assert d.via is Via.THRESHOLD
