"""Values of the risk engine: levels, reasons, scores and the user's risk settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    LOW = "LOW"  # 0-29
    MEDIUM = "MEDIUM"  # 30-59
    HIGH = "HIGH"  # 60-84
    CRITICAL = "CRITICAL"  # 85-100

    @classmethod
    def of(cls, score: int) -> Level:
        if score >= 85:
            return cls.CRITICAL
        if score >= 60:
            return cls.HIGH
        if score >= 30:
            return cls.MEDIUM
        return cls.LOW

    @property
    def floor(self) -> int:
        return {"LOW": 0, "MEDIUM": 30, "HIGH": 60, "CRITICAL": 85}[self.value]


@dataclass(frozen=True)
class Reason:
    """One line of "why": a category base or a modifier, with its effect on the score."""

    code: str  # stable id: "category:database", "mod:production_target", "custom:my-pattern"
    text: str  # for humans: 'production target: "prod"'
    points: int  # base score for a category, delta for a modifier (may be 0)
    part: int = -1  # index of the part (Analysis.parts) it is about; -1 = whole command


@dataclass(frozen=True)
class PartScore:
    """The score of one simple command."""

    index: int  # index in Analysis.parts
    text: str
    category: str
    score: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Score:
    """The risk of a whole command line: at least the worst of its parts."""

    command: str
    score: int  # 0-100
    level: Level
    summary: str  # one line: "database write on a production target"
    reasons: tuple[Reason, ...]  # the reasons behind the final score, most important first
    parts: tuple[PartScore, ...] = ()
    unparsed: bool = False
    anomalies: tuple[str, ...] = ()  # filled in by the anomaly engine (later), never by risk

    def to_json(self) -> dict[str, object]:
        return {
            "command": self.command,
            "score": self.score,
            "level": self.level.value,
            "summary": self.summary,
            "unparsed": self.unparsed,
            "reasons": [
                {"code": r.code, "text": r.text, "points": r.points, "part": r.part}
                for r in self.reasons
            ],
            "parts": [
                {
                    "index": p.index,
                    "text": p.text,
                    "category": p.category,
                    "score": p.score,
                    "reasons": [r.code for r in p.reasons],
                }
                for p in self.parts
            ],
        }


@dataclass(frozen=True)
class CustomPattern:
    """A user pattern from config: a regex over the whole command or a part, with a score."""

    name: str
    regex: str
    score: int  # the part scores at least this
    reason: str = ""


@dataclass(frozen=True)
class RiskSettings:
    """Everything configurable about scoring. Built from config.toml by the config layer."""

    production_markers: tuple[str, ...] = ("prod", "production", "prd", "live")
    protected_branches: tuple[str, ...] = ("main", "master", "production", "release")
    program_categories: tuple[tuple[str, str], ...] = ()  # (program, category) overrides
    patterns: tuple[CustomPattern, ...] = field(default=())
    expacti_home: str = ""  # expacti's own directory (EXPACTI_HOME or the config dir)
    # Every path that is expacti's own (config, data, sockets): a write there scores CRITICAL.
    protected_paths: tuple[str, ...] = ()
