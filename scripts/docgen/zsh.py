"""A static zsh completion function (`_expacti`) rendered from the command tree.

One `_arguments` call per command; groups dispatch on the subcommand word with `_describe`.
The command line after `expacti exec --` or `expacti run` is completed by zsh's `_normal`.
"""

from __future__ import annotations

import re

from docgen.tree import CHOICE, COMMAND, DIR, FILE, Argument, Command, Option, Value
from docgen.words import HEADER, one_line, simple_word


def _quote(text: str) -> str:
    """`text` as one single-quoted zsh word."""
    return "'" + text.replace("'", "'\\''") + "'"


def _explain(text: str) -> str:
    """An option's explanation for inside `[...]` of an _arguments spec."""
    return re.sub(r"([\\\[\]])", r"\\\1", one_line(text))


def _message(text: str) -> str:
    """A message for `:message:action` (no unescaped colon)."""
    return text.replace("\\", "\\\\").replace(":", "\\:")


def _action(value: Value) -> str:
    if value.kind == CHOICE:
        return "(" + " ".join(simple_word(c) for c in value.choices) + ")"
    if value.kind == FILE:
        return "_files"
    if value.kind == DIR:
        return "_files -/"
    return " "


def function_name(command: Command) -> str:
    return "_" + "__".join(("expacti", *command.path)).replace("-", "_")


def _option_spec(option: Option) -> str:
    explain = f"[{_explain(option.help)}]"
    value = ""
    if option.takes_value:
        value = f":{_message(option.metavar or 'VALUE')}:{_action(option.value)}"
    if option.names[-1] in ("--help", "--version"):
        exclusive = "(- *)"  # nothing else makes sense after --help
    elif option.multiple:
        exclusive = "*"
    elif len(option.names) > 1:
        exclusive = "(" + " ".join(option.names) + ")"
    else:
        exclusive = ""

    def spelled(name: str) -> str:
        if not option.takes_value:
            return name
        return name + ("=" if name.startswith("--") else "+")

    if len(option.names) == 1:
        return _quote(exclusive + spelled(option.names[0]) + explain + value)
    names = ",".join(spelled(name) for name in option.names)
    return _quote(exclusive) + "{" + names + "}" + _quote(explain + value)


def _argument_specs(arguments: tuple[Argument, ...]) -> list[str]:
    specs = []
    for argument in arguments:
        if argument.value.kind == COMMAND:
            specs.append(_quote("(-):command: _command_names -e"))
            specs.append(_quote("*::arguments: _normal"))
            break
        colons = "::" if not argument.required and argument.nargs != -1 else ":"
        star = "*" if argument.nargs == -1 else ""
        specs.append(_quote(f"{star}{colons}{_message(argument.name)}:{_action(argument.value)}"))
    return specs


def _arguments_call(command: Command, extra: list[str]) -> str:
    flags = ["-s", "-S"]
    if not command.interspersed and not command.subcommands:
        flags.append("-A '-*'")
    if command.subcommands:
        flags.append("-C")
    specs = [_option_spec(o) for o in command.options] + extra
    return "    _arguments " + " ".join(flags) + " \\\n        " + " \\\n        ".join(specs)


def _leaf(command: Command) -> str:
    return (
        f"{function_name(command)}() {{\n"
        f"{_arguments_call(command, _argument_specs(command.arguments))}\n"
        "}\n"
    )


def _group(command: Command) -> str:
    entries = "\n".join(
        "            " + _quote(f"{sub.path[-1]}:{one_line(sub.summary)}")
        for sub in command.subcommands
    )
    dispatch = "\n".join(
        f"                {sub.path[-1]}) {function_name(sub)} ;;" for sub in command.subcommands
    )
    title = " ".join(("expacti", *command.path))
    context = "-".join(("expacti", *command.path))
    return (
        f"{function_name(command)}() {{\n"
        "    local curcontext=$curcontext state state_descr line ret=1\n"
        "    typeset -A opt_args\n"
        f"{_arguments_call(command, [_quote(': :->command'), _quote('*:: :->args')])} && ret=0\n"
        "    case $state in\n"
        "        command)\n"
        "            local -a commands=(\n"
        f"{entries}\n"
        "            )\n"
        f"            _describe -t commands {_quote(title + ' command')} commands && ret=0\n"
        "            ;;\n"
        "        args)\n"
        f"            curcontext=${{curcontext%:*:*}}:{context}-$words[1]:\n"
        "            case $words[1] in\n"
        f"{dispatch}\n"
        "            esac\n"
        "            ;;\n"
        "    esac\n"
        "    return ret\n"
        "}\n"
    )


def render(root: Command) -> str:
    functions = [_group(c) if c.subcommands else _leaf(c) for c in root.walk()]
    return (
        "#compdef expacti\n"
        "# zsh completion for expacti.\n"
        f"# {HEADER}\n"
        "# Install: copy this file, named _expacti, into a directory on $fpath before compinit\n"
        "# runs, e.g. `fpath=(~/.zfunc $fpath)` in ~/.zshrc.\n"
        "\n" + "\n".join(functions) + '\n_expacti "$@"\n'
    )
