"""A static bash completion script for `expacti`, rendered from the command tree.

Static, not click's `_EXPACTI_COMPLETE` shim: that would start Python and import the CLI on
every TAB. The script is plain bash (3.2 or later; bash-completion is optional: with it, the
command line after `expacti exec --` / `expacti run` is completed as that command's own).
"""

from __future__ import annotations

from docgen.tree import CHOICE, COMMAND, DIR, FILE, Command, Value
from docgen.words import HEADER, command_line_index, simple_word, spec_key

ENGINE = r"""
_expacti_add() {
    # Append each line of stdin to COMPREPLY (file names may hold spaces).
    local line
    while IFS= read -r line; do COMPREPLY+=("$line"); done
}

_expacti_complete_value() {
    # Complete word $3 as the value of option $2 (or argument "@N") of command path $1.
    local kind words
    _expacti_values "$1" "$2"
    case $kind in
        choice) _expacti_add < <(compgen -W "$words" -- "$3") ;;
        file) compopt -o filenames 2>/dev/null; _expacti_add < <(compgen -f -- "$3") ;;
        dir) compopt -o filenames 2>/dev/null; _expacti_add < <(compgen -d -- "$3") ;;
    esac
}

_expacti_complete_command_line() {
    # The words from index $1 on are a command line of their own.
    if declare -F _comp_command_offset >/dev/null; then
        _comp_command_offset "$1"
    elif declare -F _command_offset >/dev/null; then
        _command_offset "$1"
    elif ((COMP_CWORD == $1)); then
        _expacti_add < <(compgen -c -- "${COMP_WORDS[COMP_CWORD]}" | sort -u)
    else
        compopt -o filenames 2>/dev/null
        _expacti_add < <(compgen -f -- "${COMP_WORDS[COMP_CWORD]}")
    fi
}

_expacti() {
    COMPREPLY=()
    local cur=${COMP_WORDS[COMP_CWORD]} path="" word i npos=0 options=1 valopt=""
    local subs opts vopts nargs rest cmdline inter
    _expacti_spec ""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if ((options)) && [[ $word == -- ]]; then
            options=0
        elif ((options)) && [[ $word == -?* ]]; then
            if [[ " $vopts " == *" $word "* ]]; then
                # The value is the next word, or the one after a separate "=" (COMP_WORDBREAKS).
                [[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
                if ((i + 1 >= COMP_CWORD)); then valopt=$word; break; fi
                ((i++))
            fi
        elif ((npos == 0)) && [[ -n $subs && " $subs " == *" $word "* ]]; then
            path=${path:+$path }$word
            _expacti_spec "$path"
        elif [[ -n $cmdline ]] && ((npos >= cmdline)); then
            _expacti_complete_command_line "$i"
            return 0
        else
            ((npos++))
            ((inter)) || options=0
        fi
    done
    if [[ -n $valopt ]]; then
        [[ $cur == = ]] && cur=""
        _expacti_complete_value "$path" "$valopt" "$cur"
    elif ((options)) && [[ $cur == --?*=* && " $vopts " == *" ${cur%%=*} "* ]]; then
        # --option=value as one word (when "=" is not in COMP_WORDBREAKS)
        _expacti_complete_value "$path" "${cur%%=*}" "${cur#*=}"
        COMPREPLY=("${COMPREPLY[@]/#/${cur%%=*}=}")
    elif ((options)) && [[ $cur == -* ]]; then
        _expacti_add < <(compgen -W "$opts" -- "$cur")
    elif ((npos == 0)) && [[ -n $subs ]]; then
        _expacti_add < <(compgen -W "$subs" -- "$cur")
    elif [[ -n $cmdline ]] && ((npos >= cmdline)); then
        _expacti_complete_command_line "$COMP_CWORD"
    elif ((npos < nargs)); then
        _expacti_complete_value "$path" "@$npos" "$cur"
    elif ((rest && nargs > 0)); then
        _expacti_complete_value "$path" "@$((nargs - 1))" "$cur"
    fi
    return 0
}

complete -F _expacti expacti
"""


def _words(items: list[str]) -> str:
    return " ".join(simple_word(item) for item in items)


def _spec_case(command: Command) -> str:
    options = [name for option in command.options for name in option.names]
    value_options = [
        name for option in command.options if option.takes_value for name in option.names
    ]
    cmdline = command_line_index(command)
    rest = bool(command.arguments) and command.arguments[-1].nargs == -1
    fields = [
        f'subs="{_words([s.path[-1] for s in command.subcommands])}"',
        f'opts="{_words(options)}"',
        f'vopts="{_words(value_options)}"',
        f"nargs={len(command.arguments)}",
        f"rest={int(rest)}",
        f'cmdline="{"" if cmdline is None else cmdline}"',
        f"inter={int(command.interspersed)}",
    ]
    return f'        "{spec_key(command)}")\n            ' + "; ".join(fields) + " ;;"


def _value_case(key: str, value: Value) -> str | None:
    if value.kind == CHOICE:
        body = f'kind=choice; words="{_words(list(value.choices))}"'
    elif value.kind in (FILE, DIR):
        body = f"kind={value.kind}"
    else:
        return None
    return f'        "{key}") {body} ;;'


def _value_cases(root: Command) -> list[str]:
    cases: list[str] = []
    for command in root.walk():
        prefix = spec_key(command)
        for option in command.options:
            for name in option.names if option.takes_value else ():
                case = _value_case(f"{prefix}|{name}", option.value)
                if case:
                    cases.append(case)
        for index, argument in enumerate(command.arguments):
            if argument.value.kind != COMMAND:
                case = _value_case(f"{prefix}|@{index}", argument.value)
                if case:
                    cases.append(case)
    return cases


def render(root: Command) -> str:
    specs = "\n".join(_spec_case(command) for command in root.walk())
    values = "\n".join(_value_cases(root))
    return (
        "# bash completion for expacti.\n"
        f"# {HEADER}\n"
        "# Install: `source /path/to/expacti.bash` in ~/.bashrc, or copy this file to\n"
        "# ~/.local/share/bash-completion/completions/expacti (with bash-completion).\n"
        "\n"
        "_expacti_spec() {\n"
        "    # What command path $1 accepts: subcommands, options, options taking a value,\n"
        "    # the number of arguments (rest=1: the last repeats), the argument from which the\n"
        "    # words are a command line (cmdline), and whether options may follow arguments.\n"
        '    subs="" opts="" vopts="" nargs=0 rest=0 cmdline="" inter=1\n'
        '    case "$1" in\n'
        f"{specs}\n"
        "    esac\n"
        "}\n"
        "\n"
        "_expacti_values() {\n"
        '    # What the value of option $2 (or argument "@N") of command path $1 can be.\n'
        '    kind="" words=""\n'
        '    case "$1|$2" in\n'
        f"{values}\n"
        "    esac\n"
        "}\n" + ENGINE
    )
