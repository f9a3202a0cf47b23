"""User extensions through RiskSettings: markers, branches, program categories, patterns."""

from __future__ import annotations

from expacti_cli.risk import Level, RiskSettings, score_command
from expacti_cli.risk.model import CustomPattern


def reason_codes(command: str, settings: RiskSettings | None = None) -> set[str]:
    return {r.code for r in score_command(command, settings).reasons}


def test_extra_production_marker() -> None:
    command = 'psql db-main -c "UPDATE t SET x = 1 WHERE id = 2"'
    assert "mod:production_target" not in reason_codes(command)
    settings = RiskSettings(production_markers=("prod", "db-main"))
    assert "mod:production_target" in reason_codes(command, settings)


def test_no_markers_means_no_production_bump() -> None:
    command = 'psql prod -c "UPDATE t SET x = 1 WHERE id = 2"'
    assert "mod:production_target" not in reason_codes(command, RiskSettings(production_markers=()))


def test_protected_branches_are_configurable() -> None:
    assert "mod:protected_branch" not in reason_codes("git push origin develop")
    settings = RiskSettings(protected_branches=("develop",))
    assert "mod:protected_branch" in reason_codes("git push origin develop", settings)
    assert "mod:protected_branch" not in reason_codes("git push origin main", settings)


def test_program_category_override() -> None:
    default = score_command("./deploy.sh")
    assert "mod:unknown_program" in {r.code for r in default.reasons}
    settings = RiskSettings(program_categories=(("deploy.sh", "cloud"),))
    overridden = score_command("./deploy.sh", settings)
    assert overridden.parts[0].category == "cloud"
    assert "mod:unknown_program" not in {r.code for r in overridden.reasons}
    quiet = RiskSettings(program_categories=(("deploy.sh", "read_only"),))
    assert score_command("./deploy.sh", quiet).level == Level.LOW


def test_custom_pattern_on_a_part_sets_a_minimum() -> None:
    pattern = CustomPattern(
        name="billing", regex=r"\bbilling\b", score=70, reason="touches billing"
    )
    settings = RiskSettings(patterns=(pattern,))
    score = score_command("ls billing && git status", settings)
    assert score.score == 70
    reason = next(r for r in score.reasons if r.code == "custom:billing")
    assert reason.text == "touches billing"
    # patterns never lower a score
    assert score_command("rm -rf ~ billing", settings).score >= score_command("rm -rf ~").score


def test_custom_pattern_over_the_whole_command() -> None:
    pattern = CustomPattern(name="two-step", regex=r"git pull && make", score=40)
    settings = RiskSettings(patterns=(pattern,))
    score = score_command("git pull && make", settings)
    assert score.score == 40
    assert "custom:two-step" in {r.code for r in score.reasons}


def test_bad_custom_regex_is_ignored_not_raised() -> None:
    settings = RiskSettings(patterns=(CustomPattern(name="bad", regex="(", score=90),))
    assert score_command("ls", settings).level == Level.LOW


def test_protected_paths_from_settings(tmp_path: object) -> None:
    settings = RiskSettings(expacti_home="/opt/gate", protected_paths=("/var/lib/gate-data",))
    assert score_command("echo x > /opt/gate/config.toml", settings).score >= 95
    assert score_command("rm -rf /var/lib/gate-data/audit", settings).score >= 95
    assert score_command("rm -rf /var/lib/gate-database", settings).score < 95
