"""The click tree of `expacti` as plain data: every command, option, argument and value kind.

Read at run time from `expacti_cli.cli`, so a command added to COMMANDS (or an option added to
a command) shows up in the completions and the man page the next time they are generated.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass

import click

# Value kinds: what a shell should offer for an option's value or an argument.
NONE = "none"  # a flag: takes no value
TEXT = "text"  # free text: nothing to offer
CHOICE = "choice"  # one of `choices`
FILE = "file"
DIR = "dir"
COMMAND = "command"  # the rest of the line is a command line of its own (exec, run)


@dataclass(frozen=True)
class Value:
    kind: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]  # short names first: ("-n", "--limit")
    help: str
    value: Value
    metavar: str  # "" for flags
    multiple: bool

    @property
    def takes_value(self) -> bool:
        return self.value.kind != NONE


@dataclass(frozen=True)
class Argument:
    name: str  # as shown in usage: PATTERN
    value: Value
    nargs: int  # -1: any number
    required: bool


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]  # () for the root
    summary: str  # one line
    help: str  # the full help text as written (with click's \b markers)
    usage: str  # "expacti whitelist add [OPTIONS] PATTERN"
    options: tuple[Option, ...]
    arguments: tuple[Argument, ...]
    subcommands: tuple[Command, ...]
    interspersed: bool  # False: options end at the first argument (exec, run, shell)
    invokable: bool  # runs on its own (a leaf, or a group like `log` that does something)
    epilog: str

    @property
    def name(self) -> str:
        return " ".join(("expacti", *self.path))

    def walk(self) -> Iterator[Command]:
        """This command and every command below it, depth first, in name order."""
        yield self
        for sub in self.subcommands:
            yield from sub.walk()


# Values the click tree cannot tell us: (command path, argument name) -> where they come from.
def _config_keys() -> tuple[str, ...]:
    from expacti_cli.config import KEYS

    return tuple(KEYS)


_KNOWN_VALUES = {
    (("config", "get"), "key"): _config_keys,
    (("config", "set"), "key"): _config_keys,
}

# Arguments whose words are a command line of their own (`expacti exec -- psql ...`).
_COMMAND_LINE_ARGS = {"command", "program"}


def _value(path: tuple[str, ...], param: click.Parameter) -> Value:
    if isinstance(param, click.Option) and (param.is_flag or param.count):
        return Value(NONE)
    known = _KNOWN_VALUES.get((path, param.name or ""))
    if known is not None:
        return Value(CHOICE, known())
    kind = param.type
    if isinstance(kind, click.Choice):
        return Value(CHOICE, tuple(str(c) for c in kind.choices))
    if isinstance(kind, click.File):
        return Value(FILE)
    if isinstance(kind, click.Path):
        if kind.dir_okay and not kind.file_okay:
            return Value(DIR)
        return Value(FILE)
    if kind is click.UNPROCESSED and param.nargs == -1:
        return Value(COMMAND if param.name in _COMMAND_LINE_ARGS else FILE)
    return Value(TEXT)


def _clean(text: str) -> str:
    """Help text as written, dedented. A paragraph that starts with a line holding only
    click's \\b marker is preformatted (examples, tables): renderers keep its lines."""
    return inspect.cleandoc(text or "").strip()


def _option(path: tuple[str, ...], param: click.Option, ctx: click.Context) -> Option:
    names = sorted(param.opts, key=lambda n: (n.startswith("--"), n))
    value = _value(path, param)
    if value.kind == NONE:
        metavar = ""
    elif value.kind == CHOICE:
        metavar = (param.name or "value").upper()  # the choices are listed separately
    else:
        metavar = param.make_metavar(ctx)
    return Option(
        names=tuple(names) + tuple(param.secondary_opts),
        help=_clean(param.help or ""),
        value=value,
        metavar=metavar,
        multiple=bool(param.multiple),
    )


def _argument(path: tuple[str, ...], param: click.Argument, ctx: click.Context) -> Argument:
    return Argument(
        name=(param.metavar or param.name or "ARG").upper(),
        value=_value(path, param),
        nargs=param.nargs,
        required=param.required,
    )


def _command(
    command: click.Command, ctx: click.Context, path: tuple[str, ...], summary: str = ""
) -> Command:
    options: list[Option] = []
    arguments: list[Argument] = []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if isinstance(param, click.Option):
            options.append(_option(path, param, ctx))
        elif isinstance(param, click.Argument):
            arguments.append(_argument(path, param, ctx))
    subcommands: list[Command] = []
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = click.Context(sub, info_name=name, parent=ctx, **sub.context_settings)
            subcommands.append(_command(sub, sub_ctx, (*path, name), _summaries().get(name, "")))
    pieces = " ".join(command.collect_usage_pieces(ctx))
    return Command(
        path=path,
        summary=summary or _clean(command.get_short_help_str(limit=200)),
        help=_clean(command.help or ""),
        usage=f"{ctx.command_path} {pieces}".strip(),
        options=tuple(options),
        arguments=tuple(arguments),
        subcommands=tuple(subcommands),
        interspersed=ctx.allow_interspersed_args,
        invokable=not isinstance(command, click.Group) or command.invoke_without_command,
        epilog=_clean(command.epilog or ""),
    )


def _summaries() -> dict[str, str]:
    """The one-line help of each top-level command, as `expacti --help` shows it."""
    from expacti_cli.cli import COMMANDS

    return {name: entry[2] for name, entry in COMMANDS.items()}


def load() -> Command:
    """The whole `expacti` command tree, imported from the installed package."""
    from expacti_cli.cli import cli

    ctx = click.Context(cli, info_name="expacti", **cli.context_settings)
    return _command(cli, ctx, ())
