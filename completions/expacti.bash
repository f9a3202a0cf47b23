# bash completion for expacti.
# Generated from the click command tree by scripts/gen_docs.py; do not edit by hand.
# Install: `source /path/to/expacti.bash` in ~/.bashrc, or copy this file to
# ~/.local/share/bash-completion/completions/expacti (with bash-completion).

_expacti_spec() {
    # What command path $1 accepts: subcommands, options, options taking a value,
    # the number of arguments (rest=1: the last repeats), the argument from which the
    # words are a command line (cmdline), and whether options may follow arguments.
    subs="" opts="" vopts="" nargs=0 rest=0 cmdline="" inter=1
    case "$1" in
        "")
            subs="approve config context daemon deny doctor exec hook log mcp pending run score shell stats whitelist"; opts="-V --version -h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=0 ;;
        "approve")
            subs=""; opts="--whitelist --note --json -h --help"; vopts="--note"; nargs=1; rest=0; cmdline=""; inter=1 ;;
        "config")
            subs="get path set show unset"; opts="-h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=0 ;;
        "config get")
            subs=""; opts="--json --project -h --help"; vopts="--project"; nargs=1; rest=0; cmdline=""; inter=1 ;;
        "config path")
            subs=""; opts="-h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "config set")
            subs=""; opts="--project -h --help"; vopts="--project"; nargs=2; rest=0; cmdline=""; inter=1 ;;
        "config show")
            subs=""; opts="--json -h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "config unset")
            subs=""; opts="--project -h --help"; vopts="--project"; nargs=1; rest=0; cmdline=""; inter=1 ;;
        "context")
            subs=""; opts="--session --clear --json -h --help"; vopts="--session"; nargs=1; rest=0; cmdline=""; inter=1 ;;
        "daemon")
            subs="start status stop"; opts="-h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=0 ;;
        "daemon start")
            subs=""; opts="-h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "daemon status")
            subs=""; opts="--json -h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "daemon stop")
            subs=""; opts="--json -h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "deny")
            subs=""; opts="--reason --json -h --help"; vopts="--reason"; nargs=1; rest=0; cmdline=""; inter=1 ;;
        "doctor")
            subs=""; opts="--json --no-start -h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "exec")
            subs=""; opts="--context --timeout --json -h --help"; vopts="--context --timeout"; nargs=1; rest=1; cmdline="0"; inter=0 ;;
        "hook")
            subs="claude codex cursor install uninstall"; opts="-h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=0 ;;
        "hook claude")
            subs=""; opts="-h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "hook codex")
            subs=""; opts="-h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "hook cursor")
            subs=""; opts="-h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "hook install")
            subs=""; opts="--project --user --print -h --help"; vopts="--project"; nargs=1; rest=0; cmdline=""; inter=1 ;;
        "hook uninstall")
            subs=""; opts="--project --user -h --help"; vopts="--project"; nargs=1; rest=0; cmdline=""; inter=1 ;;
        "log")
            subs="repair show verify"; opts="--json --csv --since --until --session --decision --min-risk --grep -n --limit -f --follow -h --help"; vopts="--since --until --session --decision --min-risk --grep -n --limit"; nargs=0; rest=0; cmdline=""; inter=0 ;;
        "log repair")
            subs=""; opts="-h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "log show")
            subs=""; opts="--json -h --help"; vopts=""; nargs=1; rest=0; cmdline=""; inter=1 ;;
        "log verify")
            subs=""; opts="--json -h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "mcp")
            subs=""; opts="--print-config --context --name --approval-timeout --http --port -h --help"; vopts="--print-config --context --name --approval-timeout --port"; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "pending")
            subs=""; opts="--json -h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "run")
            subs=""; opts="--name --context --record --no-split -h --help"; vopts="--name --context --record"; nargs=1; rest=1; cmdline="0"; inter=0 ;;
        "score")
            subs=""; opts="--json --explain --batch -h --help"; vopts="--batch"; nargs=1; rest=1; cmdline=""; inter=1 ;;
        "shell")
            subs=""; opts="-h --help"; vopts=""; nargs=1; rest=1; cmdline=""; inter=0 ;;
        "stats")
            subs=""; opts="--days --session --top --json -h --help"; vopts="--days --session --top"; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "whitelist")
            subs="add list rm suggest test"; opts="-h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=0 ;;
        "whitelist add")
            subs=""; opts="--kind --deny --scope --ttl --note --force --json -h --help"; vopts="--kind --scope --ttl --note"; nargs=1; rest=0; cmdline=""; inter=1 ;;
        "whitelist list")
            subs=""; opts="--json --all -h --help"; vopts=""; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "whitelist rm")
            subs=""; opts="-h --help"; vopts=""; nargs=1; rest=0; cmdline=""; inter=1 ;;
        "whitelist suggest")
            subs=""; opts="--min-count --since --accept --accept-all --json -v --verbose -h --help"; vopts="--min-count --since --accept"; nargs=0; rest=0; cmdline=""; inter=1 ;;
        "whitelist test")
            subs=""; opts="--json --cwd -h --help"; vopts="--cwd"; nargs=1; rest=0; cmdline=""; inter=1 ;;
    esac
}

_expacti_values() {
    # What the value of option $2 (or argument "@N") of command path $1 can be.
    kind="" words=""
    case "$1|$2" in
        "config get|@0") kind=choice; words="auto_approve_below strict_anomalies approval_timeout on_timeout reviewer approval_ui prompt_detection prompt_patterns mcp_output_limit risk.production_markers risk.protected_branches risk.programs risk.patterns" ;;
        "config set|@0") kind=choice; words="auto_approve_below strict_anomalies approval_timeout on_timeout reviewer approval_ui prompt_detection prompt_patterns mcp_output_limit risk.production_markers risk.protected_branches risk.programs risk.patterns" ;;
        "hook install|--project") kind=dir ;;
        "hook install|@0") kind=choice; words="claude codex cursor" ;;
        "hook uninstall|--project") kind=dir ;;
        "hook uninstall|@0") kind=choice; words="claude codex cursor" ;;
        "log|--decision") kind=choice; words="approved denied auto_approved_rule auto_approved_threshold timed_out withdrawn" ;;
        "mcp|--print-config") kind=choice; words="claude cursor codex" ;;
        "run|--record") kind=file ;;
        "shell|@0") kind=file ;;
        "whitelist add|--kind") kind=choice; words="exact prefix glob regex" ;;
        "whitelist add|--scope") kind=dir ;;
        "whitelist test|--cwd") kind=dir ;;
    esac
}

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
