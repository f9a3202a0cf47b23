"""A static fish completion file rendered from the command tree.

`__expacti_parse` reads the tokens before the cursor once (command path, arguments seen,
whether options are still read, where a command line of its own starts) and every
`complete` line asks `__expacti_at PATH WHAT` about it.
"""

from __future__ import annotations

from docgen.tree import CHOICE, COMMAND, DIR, FILE, Command, Option, Value
from docgen.words import HEADER, command_line_index, one_line, simple_word, spec_key


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


ENGINE = r"""
function __expacti_parse --description 'Where the command line before the cursor stands'
    set -l key (commandline -pc)
    if test "$key" = "$__expacti_parsed_key"
        return
    end
    set -g __expacti_parsed_key $key
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l path ''
    set -l npos 0
    set -l options 1
    set -l cmdline_at 0
    set -l value_next 0
    set -l spec (__expacti_spec '')
    set -l index 1
    for token in $tokens
        set index (math $index + 1)
        if test $cmdline_at -gt 0
            continue
        else if test $value_next = 1
            set value_next 0
        else if test $options = 1; and test "$token" = '--'
            set options 0
        else if test $options = 1; and string match -qr -- '^-.' $token
            if not string match -q -- '--*=*' $token; and contains -- $token (string split ' ' -- $spec[2])
                set value_next 1
            end
        else if test $npos = 0; and contains -- $token (string split ' ' -- $spec[1])
            set path (string trim -- "$path $token")
            set spec (__expacti_spec $path)
        else
            if test -n "$spec[4]"; and test $npos -ge $spec[4]
                set cmdline_at $index
                continue
            end
            set npos (math $npos + 1)
            test "$spec[5]" = 1; or set options 0
        end
    end
    set -g __expacti_state $path $npos $options $cmdline_at $value_next $spec[3]
end

function __expacti_at --argument-names path what n --description 'Is the cursor at WHAT of PATH?'
    __expacti_parse
    set -l state $__expacti_state
    test "$state[1]" = "$path"; or return 1
    switch $what
        case opt
            # also while the word is an option's value: fish offers it from that option's line
            test $state[4] = 0; and test $state[3] = 1
            return
    end
    test $state[5] = 0; or return 1  # the word is an option's value
    switch $what
        case sub
            test $state[4] = 0; and test $state[2] = 0
        case arg
            # argument n, or a later one when the last argument repeats (nargs "N+")
            test $state[4] = 0; or return 1
            test $state[2] = $n; and return 0
            string match -q -- '*+' $state[6]; and test $state[2] -gt $n
            and test (string replace '+' '' -- $state[6]) = (math $n + 1)
        case cmdline
            test $state[4] != 0; or begin
                set -l spec (__expacti_spec $path)
                test -n "$spec[4]"; and test $state[2] -ge $spec[4]
            end
    end
end

function __expacti_complete_command_line --description 'Complete the words after exec/run as a command'
    __expacti_parse
    set -l tokens (commandline -opc)
    if test $__expacti_state[4] != 0
        set tokens $tokens[$__expacti_state[4]..-1]
    else
        set tokens
    end
    complete -C (string join ' ' -- (string escape -- $tokens) (commandline -ct))
end

complete -c expacti -f
"""


def _spec_case(command: Command) -> str:
    subs = " ".join(simple_word(s.path[-1]) for s in command.subcommands)
    vopts = " ".join(simple_word(n) for o in command.options if o.takes_value for n in o.names)
    cmdline = command_line_index(command)
    nargs = str(len(command.arguments))
    if command.arguments and command.arguments[-1].nargs == -1:
        nargs += "+"
    lines = [
        subs,
        vopts,
        nargs,
        "" if cmdline is None else str(cmdline),
        str(int(command.interspersed)),
    ]
    return f"        case {_quote(spec_key(command))}\n" + "".join(
        f"            echo {_quote(line)}\n" for line in lines
    )


def _value_flags(value: Value) -> str:
    if value.kind == CHOICE:
        return "-x -a " + _quote(" ".join(simple_word(c) for c in value.choices))
    if value.kind == FILE:
        return "-r -F"
    if value.kind == DIR:
        return "-x -a '(__fish_complete_directories (commandline -ct))'"
    return "-x"


def _option_line(command: Command, option: Option) -> str:
    names = []
    for name in option.names:
        if name.startswith("--"):
            names.append(f"-l {simple_word(name[2:])}")
        elif len(name) == 2:
            names.append(f"-s {simple_word(name[1:])}")
        else:
            names.append(f"-o {simple_word(name[1:])}")
    flags = _value_flags(option.value) if option.takes_value else ""
    condition = _quote(f"__expacti_at '{spec_key(command)}' opt")
    parts = [
        "complete -c expacti -n",
        condition,
        *names,
        flags,
        "-d",
        _quote(one_line(option.help)),
    ]
    return " ".join(p for p in parts if p)


def _lines(command: Command) -> list[str]:
    key = spec_key(command)
    lines = [f"# expacti {key}".rstrip()]
    for sub in command.subcommands:
        condition = _quote(f"__expacti_at '{key}' sub")
        lines.append(
            f"complete -c expacti -n {condition} -a {simple_word(sub.path[-1])} "
            f"-d {_quote(one_line(sub.summary))}"
        )
    lines.extend(_option_line(command, option) for option in command.options)
    for index, argument in enumerate(command.arguments):
        if argument.value.kind == COMMAND:
            condition = _quote(f"__expacti_at '{key}' cmdline")
            lines.append(
                f"complete -c expacti -n {condition} -a '(__expacti_complete_command_line)'"
            )
            break
        if argument.value.kind in (CHOICE, FILE, DIR):
            condition = _quote(f"__expacti_at '{key}' arg {index}")
            flags = _value_flags(argument.value).replace("-r ", "").replace("-x ", "")
            lines.append(f"complete -c expacti -n {condition} {flags} -d {_quote(argument.name)}")
    return lines


def render(root: Command) -> str:
    specs = "".join(_spec_case(command) for command in root.walk())
    body = "\n".join("\n".join(_lines(command)) + "\n" for command in root.walk())
    return (
        "# fish completion for expacti.\n"
        f"# {HEADER}\n"
        "# Install: copy this file to ~/.config/fish/completions/expacti.fish\n"
        "\n"
        "function __expacti_spec --argument-names path --description 'What PATH accepts'\n"
        "    # subcommands; options taking a value; arguments (N+: the last repeats);\n"
        "    # the argument from which words are a command line; options after arguments (1/0)\n"
        "    switch $path\n"
        f"{specs}"
        "    end\n"
        "end\n" + ENGINE + "\n" + body
    )
