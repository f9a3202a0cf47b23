"""How bad each statement kind is, to keep the worst of several (a CTE that deletes...)."""

from __future__ import annotations

from expacti_cli.analysis.model import SqlKind

KIND_ORDER = {
    SqlKind.READ: 0,
    SqlKind.SESSION: 1,
    SqlKind.WRITE_WHERE: 2,
    SqlKind.DDL: 3,
    SqlKind.WRITE_NO_WHERE: 4,
    SqlKind.DESTRUCTIVE: 5,
    SqlKind.UNKNOWN: 6,
}
