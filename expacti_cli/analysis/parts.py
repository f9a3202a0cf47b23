"""Parts under construction: the scope a part is found in and its mutable fields."""

from __future__ import annotations

from dataclasses import MISSING, fields

from expacti_cli.analysis.model import Redirect, SimpleCommand, SqlStatement


def _field_defaults() -> dict[str, object]:
    """SimpleCommand's defaults, read from the dataclass so added fields come along."""
    out: dict[str, object] = {}
    for f in fields(SimpleCommand):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = ""
    return out


_DEFAULTS = _field_defaults()


class Scope:
    """Where nested parts are found: depth, owning top-level part, how they were reached."""

    __slots__ = ("depth", "top", "via", "remote_host", "container", "defaults")

    def __init__(
        self,
        depth: int = 0,
        top: int = -1,  # -1 at depth 0: each part is its own top
        via: tuple[str, ...] = (),
        remote_host: str = "",
        container: str = "",
    ) -> None:
        self.depth = depth
        self.top = top
        self.via = via
        self.remote_host = remote_host
        self.container = container
        # a part's starting fields in this scope, copied in one go by _Part
        self.defaults: dict[str, object] = {
            **_DEFAULTS,
            "words": (),
            "argv": (),
            "program": "",
            "depth": depth,
            "top": top,
            "via": via,
            "remote_host": remote_host,
            "container": container,
        }

    def child(self, top: int, label: str, remote_host: str = "", container: str = "") -> Scope:
        return Scope(
            self.depth + 1,
            top,
            (*self.via, label),
            remote_host or self.remote_host,
            container or self.container,
        )


ROOT_SCOPE = Scope()


class PartBuilder:
    """Mutable twin of SimpleCommand while the walk fills it in.

    Its __dict__ holds exactly SimpleCommand's fields, so freezing hands that dict to a new
    SimpleCommand: building frozen dataclasses field by field cost more than parsing.
    """

    __slots__ = ("__dict__", "feeds_code")

    text: str
    words: tuple[str, ...]
    argv: tuple[str, ...]
    program: str
    short_flags: frozenset[str]
    long_flags: frozenset[str]
    positionals: tuple[str, ...]
    subcommand: str
    env: tuple[tuple[str, str], ...]
    wrappers: tuple[str, ...]
    redirects: tuple[Redirect, ...]
    depth: int
    top: int
    via: tuple[str, ...]
    remote_host: str
    container: str
    background: bool
    pipeline_position: int
    pipeline_length: int
    piped_into: str
    dynamic_program: bool
    dynamic_args: bool
    has_substitution: bool
    is_eval: bool
    obfuscated: bool
    interpreter_code: str
    sql: tuple[SqlStatement, ...]
    db_client: str
    db_target: str
    find_actions: tuple[str, ...]

    def __init__(self, text: str, scope: Scope) -> None:
        d = self.__dict__
        d.update(scope.defaults)
        d["text"] = text
        self.feeds_code = False  # a shell/interpreter reading its code from the pipe

    def freeze(self) -> SimpleCommand:
        frozen = object.__new__(SimpleCommand)
        frozen.__dict__.update(self.__dict__)
        return frozen
