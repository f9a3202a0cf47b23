# expacti shell integration for bash, loaded by `expacti run` with `bash --init-file THIS`.
#
# Enter (and Ctrl-J) first run __expacti_gate, which sends the exact line to the broker and
# clears it when it is denied, then accept-line. A DEBUG trap (extdebug) is the backstop: a
# line that reached execution without passing the gate (another accept key, a rebinding) is
# skipped command by command until the next prompt. Prompts carry OSC 133 marks with this
# session's nonce so a screen reader of the stream can tell our marks from printed ones.

# The user's own startup files first, as an interactive bash would read them.
if [[ -z ${EXPACTI_BASH_RC+set} ]]; then
    [[ -r /etc/bash.bashrc ]] && builtin source /etc/bash.bashrc
    [[ -r ~/.bashrc ]] && builtin source ~/.bashrc
elif [[ -n $EXPACTI_BASH_RC && -r $EXPACTI_BASH_RC ]]; then
    builtin source "$EXPACTI_BASH_RC"
fi

__expacti_nonce=${EXPACTI_NONCE-}
[[ $__expacti_nonce =~ ^[0-9a-f]{8,}$ ]] || __expacti_nonce=$(builtin printf '%04x' $RANDOM $RANDOM $RANDOM $RANDOM)
__expacti_gate_cmd=("${EXPACTI_PYTHON:-python3}" -IS "$EXPACTI_LINE_GATE")
# Programs the shell starts must not see the nonce (they could print fake marks with it).
builtin unset EXPACTI_NONCE EXPACTI_BASH_RC EXPACTI_LINE_GATE EXPACTI_PYTHON

__expacti_phase=0  # 0: blocked, 1: at the prompt, 2: this line was approved, 3: line continues
__expacti_prev_debug=  # a DEBUG trap of the user's setup (bash-preexec, ...), still run
__expacti_request=  # the broker request that allowed the running line
__expacti_poisoned=  # set after a denial in the middle of a multi-line command
__expacti_pending=  # the lines of a command still being typed (PS2 continuation)

__expacti_osc() { builtin printf '\e]133;%s;expacti=%s\a' "$1" "$__expacti_nonce"; }

# An interactive bash, zsh or fish started from this prompt gets the integration too, with this
# session's nonce (handed to that shell alone). zsh and fish find theirs through ZDOTDIR and
# XDG_DATA_DIRS, which `expacti run` set for the whole session; bash needs its --init-file,
# which integration.py works out (the argv comes back NUL-separated; unchanged when the bash
# is not interactive, such as `bash script.sh`).
__expacti_integration_py=${__expacti_gate_cmd[2]%/*}/integration.py
__expacti_python=${__expacti_gate_cmd[0]}
bash() {
    local -a launch
    builtin mapfile -d '' -t launch < <(EXPACTI_NONCE=$__expacti_nonce \
        "$__expacti_python" -IS "$__expacti_integration_py" bash "$@")
    if (( ${#launch[@]} < 1 )); then
        builtin printf 'expacti: cannot start bash with the shell integration\n' >&2
        return 126
    fi
    builtin command "${launch[@]}"
}
zsh() { EXPACTI_NONCE=$__expacti_nonce builtin command zsh "$@"; }
fish() { EXPACTI_NONCE=$__expacti_nonce builtin command fish "$@"; }

# 0: the text is a whole command; 1: bash wants more lines (an open quote, `do` without `done`).
__expacti_complete() {
    local -a opts=()
    builtin shopt -q extglob && opts+=(-O extglob)
    local err
    err=$("$BASH" --norc --noprofile "${opts[@]}" -n <<<"$1" 2>&1) && return 0
    [[ $err == *"unexpected end of file"* || $err == *"delimited by end-of-file"* ]] && return 1
    return 0  # another syntax error: complete (bash will refuse it; the broker sees it as unparsed)
}

__expacti_deny_line() {
    READLINE_LINE=
    READLINE_POINT=0
    __expacti_phase=0
    if [[ -n $__expacti_pending || -n $__expacti_poisoned ]]; then
        # Earlier lines of this command wait in bash's parser and cannot be taken back from
        # here: refuse every further line until the user abandons the command with Ctrl-C
        # (and should it still complete, the DEBUG trap skips all of it: the phase stays 0).
        __expacti_pending=
        __expacti_poisoned=1
        builtin printf 'expacti: this command was denied; press Ctrl-C to abandon it\n' >&2
    fi
}

__expacti_gate() {
    # bash exports READLINE_LINE to what bind -x runs: a long line would not fit in the
    # environment of the programs we start (E2BIG), and they have no business seeing it.
    builtin export -n READLINE_LINE READLINE_POINT READLINE_MARK 2>/dev/null
    local line=$READLINE_LINE expanded
    if [[ -n $__expacti_poisoned ]]; then
        __expacti_deny_line
        return
    fi
    # History expansion (`!!`, `!$`, `^a^b`) happens after Enter, so the text that would run
    # is not the text we see; `history -p` cannot be trusted to predict it from here. A line
    # that history expansion would change is refused (fail closed); other lines pass as typed.
    if [[ $- == *H* ]] && [[ $line == *'!'* || $line == '^'* ]]; then
        if ! expanded=$(builtin history -p -- "$line" 2>/dev/null) || [[ $expanded != "$line" ]]; then
            builtin printf 'expacti: history expansion cannot be gated: type the command itself (or run `set +H`)\n' >&2
            __expacti_deny_line
            return
        fi
    fi
    local text=$line
    [[ -n $__expacti_pending ]] && text=$__expacti_pending$'\n'$line
    if ! __expacti_complete "$text"; then
        __expacti_pending=$text
        __expacti_phase=3  # nothing runs until the command is complete and gated
        return
    fi
    local request
    # The gate prints the id of the request that allowed the line (for the exit-status mark).
    # The line goes on stdin (a here-string adds one newline): argv would cap it at 128 KiB.
    if request=$("${__expacti_gate_cmd[@]}" <<<"$text"); then
        __expacti_phase=2
        __expacti_request=${request//[!0-9a-f]/}
        __expacti_pending=
    else
        __expacti_deny_line
    fi
}

__expacti_prompt() {
    local status=$?
    __expacti_phase=1
    __expacti_pending=
    __expacti_poisoned=
    __expacti_osc "D;$status"
    __expacti_request=
    __expacti_osc A
    local mark='\[\e]133;B;expacti='"$__expacti_nonce"'\a\]'
    [[ $PS1 == *"$mark" ]] || PS1=$PS1$mark
    __expacti_own_trap
    return $status
}

__expacti_debug() {
    if ((__expacti_phase == 0)); then
        # Only our two entry points, called the way readline and PROMPT_COMMAND call them
        # (with the nonce written out), run while blocked; then whatever they run. A line
        # that calls them by name itself is skipped like any other command.
        case $BASH_COMMAND in
        "__expacti_prompt $__expacti_nonce" | "__expacti_gate $__expacti_nonce") return 0 ;;
        esac
        case ${FUNCNAME[1]-} in
        __expacti_prompt | __expacti_gate | __expacti_deny_line | __expacti_complete | __expacti_osc | __expacti_own_trap) return 0 ;;
        esac
        builtin printf 'expacti: skipped (the line did not pass the gate): %s\n' "$BASH_COMMAND" >&2
        return 1
    fi
    [[ -n $__expacti_prev_debug ]] || return 0
    builtin eval -- "$__expacti_prev_debug"
}

# Make our DEBUG trap the one installed, chaining to one the user's setup had: set before
# us, or since (some prompt frameworks install theirs from PROMPT_COMMAND). Runs at every
# prompt, so a trap replaced in between is put back.
__expacti_own_trap() {
    local current
    current=$(builtin trap -p DEBUG)
    [[ $current == "trap -- '__expacti_debug' DEBUG" ]] && return 0
    if [[ -n $current ]]; then
        current=${current#trap -- }
        builtin eval "__expacti_prev_debug=${current% DEBUG}"
    fi
    builtin trap __expacti_debug DEBUG
}

# PS0 is expanded after a line is read, before it runs: a line that did not pass the gate
# (phase 1 or 3 left over) turns the phase to 0. The subscript of an array of empty strings
# evaluates an arithmetic assignment in the shell itself and prints nothing (set -u safe).
__expacti_empty=("" "" "")
PS0='${__expacti_empty[__expacti_phase=(__expacti_phase==2?2:0)]}'$'\e]133;C;expacti-request=${__expacti_request};expacti='"$__expacti_nonce"$'\a'"${PS0-}"
if [[ $(builtin declare -p PROMPT_COMMAND 2>/dev/null) == "declare -a"* ]]; then
    PROMPT_COMMAND=("__expacti_prompt $__expacti_nonce" "${PROMPT_COMMAND[@]}")
else
    PROMPT_COMMAND="__expacti_prompt $__expacti_nonce"${PROMPT_COMMAND:+$'\n'$PROMPT_COMMAND}
fi
for __expacti_map in emacs vi-insert vi-command; do
    builtin bind -m "$__expacti_map" -x '"\C-x\C-g": __expacti_gate '"$__expacti_nonce"
    builtin bind -m "$__expacti_map" '"\C-x\C-a": accept-line'
    builtin bind -m "$__expacti_map" '"\C-m": "\C-x\C-g\C-x\C-a"'
    builtin bind -m "$__expacti_map" '"\C-j": "\C-x\C-g\C-x\C-a"'
    # Readline commands that run code without accept-line, so neither the gate nor PS0 sees
    # it: edit-and-execute-command (Ctrl-X Ctrl-E, vi `v`) runs the edited text through `fc`;
    # shell-expand-line (Meta-Ctrl-E) performs the line's command substitutions.
    builtin bind -m "$__expacti_map" -u edit-and-execute-command
    builtin bind -m "$__expacti_map" -u shell-expand-line
done
builtin unset __expacti_map

# Last, so nothing above is skipped by it. Our functions cannot be redefined or unset (a line
# that slipped past the gate could otherwise replace the prompt hook with its own code).
builtin readonly -f __expacti_gate __expacti_prompt __expacti_debug __expacti_deny_line \
    __expacti_complete __expacti_osc __expacti_own_trap
builtin shopt -s extdebug
__expacti_own_trap
