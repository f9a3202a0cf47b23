# expacti shell integration for zsh, loaded by `expacti run` through a ZDOTDIR of stub files
# (.zshenv, .zprofile, .zshrc, .zlogin) that each run `source THIS STAGE`.
#
# Startup: every stub reads the user's own file of that name from their ZDOTDIR (or HOME), with
# ZDOTDIR set to the user's value while it runs, so their setup behaves as without expacti; once
# the last file is read, ZDOTDIR is the user's again.
#
# Gating, in an interactive shell: the accept-line widgets (accept-line, accept-and-hold,
# accept-line-and-down-history, accept-and-infer-next-history) send the whole command
# ($PREBUFFER$BUFFER) to the gate on Enter and run it only once allowed. preexec is the
# backstop: a line that reaches execution without passing the widget (history expansion, a
# line still incomplete when Enter was pressed, `zle .accept-line` from another widget, a
# text that differs from the approved one) is gated there, with the text zsh is about to run.
# preexec cannot cancel a line, so a DEBUG trap does: while the phase is 0 (blocked) it skips
# every top-level command (ERR_EXIT set in a DEBUG trap skips the next command).
# Prompts carry OSC 133 marks with this session's nonce.

# --- startup stages -------------------------------------------------------------------------

if [[ $1 == zshenv ]]; then
    typeset -g __expacti_stubs=$ZDOTDIR
    typeset -g __expacti_user_zdotdir=${EXPACTI_USER_ZDOTDIR-}
    typeset -g __expacti_norcs=${EXPACTI_ZSH_NORCS-}
    typeset -g __expacti_nonce=${EXPACTI_NONCE-}
    # Programs the shell starts must not see the nonce (they could print fake marks with it).
    builtin unset EXPACTI_NONCE EXPACTI_ZSH_NORCS
    if [[ ${#__expacti_nonce} -lt 8 || $__expacti_nonce == *[^0-9a-f]* ]]; then
        __expacti_nonce=$(builtin printf '%04x' $RANDOM $RANDOM $RANDOM $RANDOM)
    fi
    # `zsh -f` asked for no startup files: expacti reads its stubs, and none of the others.
    [[ -n $__expacti_norcs ]] && builtin setopt no_global_rcs
fi

# The user's file for this stage, at top level (not in a function) as zsh itself would read it.
typeset -g __expacti_file=${__expacti_user_zdotdir:-$HOME}/.$1
if [[ -z $__expacti_norcs && -r $__expacti_file ]]; then
    if [[ -n $__expacti_user_zdotdir ]]; then
        builtin export ZDOTDIR=$__expacti_user_zdotdir
    else
        builtin unset ZDOTDIR
    fi
    builtin source -- "$__expacti_file"
    # A ~/.zshenv may point ZDOTDIR elsewhere (~/.config/zsh): the later files come from there.
    __expacti_user_zdotdir=${ZDOTDIR-}
    builtin export ZDOTDIR=$__expacti_stubs
fi
builtin unset __expacti_file

# Was that the last file zsh reads? (the user's file may also have turned RCS off)
if [[ ! -o rcs || $1 == zlogin || ($1 == zshrc && ! -o login) ||
    ($1 == zshenv && ! -o login && ! -o interactive) ]]; then
    if [[ -n $__expacti_user_zdotdir ]]; then
        builtin export ZDOTDIR=$__expacti_user_zdotdir
    else
        builtin unset ZDOTDIR
    fi
    builtin unset EXPACTI_USER_ZDOTDIR
    [[ -n $__expacti_norcs ]] && builtin setopt global_rcs
    typeset -g __expacti_started=1
fi

[[ -o interactive ]] || builtin return 0
# Install after the user's .zshrc (it may define its own accept-line), and again at the end.
[[ $1 == zshrc || $1 == zlogin || -n ${__expacti_started-} ]] || builtin return 0

# --- the integration --------------------------------------------------------------------------

typeset -gi __expacti_phase=1  # 0: blocked, 1: at the prompt, 2: the line was allowed
typeset -g __expacti_approved=  # the text the widget had allowed
typeset -g __expacti_request=  # the broker request that allowed the running line
typeset -ga __expacti_gate_cmd
__expacti_gate_cmd=("${__expacti_python:-python3}" -IS "${__expacti_line_gate}")

__expacti_osc() { builtin printf '\e]133;%s;expacti=%s\a' "$1" "$__expacti_nonce"; }

# Ask the broker about $1; 0 when it may run (__expacti_request names the request). $2: "zle"
# when asked from a widget (the cursor is at the end of the typed line).
__expacti_ask() {
    builtin emulate -L zsh
    local request
    # The gate prints the id of the request that allowed the line (for the exit-status mark).
    # The line goes on stdin (a here-string adds one newline): argv would cap it at 128 KiB.
    if request=$(EXPACTI_GATE_AT_LINE_END=${2:+1} "${__expacti_gate_cmd[@]}" <<<"$1"); then
        __expacti_request=${request//[^0-9a-f]/}
        return 0
    fi
    __expacti_request=
    return 1
}

# 0 when zsh would run $1 as it is once Enter is pressed: it parses as a whole, and nothing
# makes zsh read more lines (a trailing backslash, `&&`, `|`, a here-document) or change it
# (history expansion). Anything else is accepted unchecked and gated by preexec, whole.
__expacti_runs_as_typed() {
    builtin emulate -L zsh
    builtin setopt extended_glob
    local text=$1 tail
    tail=${(M)text%%(\\)#}  # the backslashes it ends with: an odd count continues the line
    (( ${#tail} % 2 )) && return 1
    [[ ${text%%[[:space:]]#} == *(\&\&|\|\||\||\|\&) ]] && return 1
    [[ $text == *'<<'* ]] && return 1
    if [[ -o bang_hist ]] && [[ $text == *'!'* || $text == '^'* ]]; then
        return 1
    fi
    builtin unset 'functions[__expacti_probe]'
    functions[__expacti_probe]=$text 2>/dev/null
    (( ${+functions[__expacti_probe]} )) || return 1
    builtin unset 'functions[__expacti_probe]'
    return 0
}

# The accept-line widgets: gate the whole command, then run the builtin widget.
__expacti_accept() {
    builtin emulate -L zsh
    local text=$PREBUFFER$BUFFER
    if [[ -z ${text//[[:space:]]/} ]] || ! __expacti_runs_as_typed "$text"; then
        __expacti_approved=
        zle .$WIDGET
        return
    fi
    if __expacti_ask "$text" zle; then
        __expacti_phase=2
        __expacti_approved=$text
        zle .$WIDGET
        return
    fi
    __expacti_approved=
    BUFFER=
    # Earlier lines of a multi-line command wait in the parser: abandon the whole command.
    [[ -n $PREBUFFER ]] && zle send-break
    zle -I  # the prompt is drawn again below the gate's messages
}

# Two texts are the same command; with HIST_REDUCE_BLANKS zsh hands preexec the line with
# its blanks reduced, so the words are compared then.
__expacti_same() {
    builtin emulate -L zsh
    [[ $1 == "$2" ]] && return 0
    [[ -o hist_reduce_blanks ]] || return 1
    local -a a b
    a=("${(z)1}")
    b=("${(z)2}")
    [[ ${(j:\0:)a} == "${(j:\0:)b}" ]]
}

__expacti_preexec() {
    builtin emulate -L zsh
    local line=${1:-$3}  # $1 is empty when history is off
    if (( __expacti_phase == 2 )) && __expacti_same "$__expacti_approved" "$line"; then
        __expacti_osc "C;expacti-request=${__expacti_request}"
        return
    fi
    __expacti_phase=0  # first: an interrupted gate leaves the line blocked
    __expacti_approved=
    if __expacti_ask "$line"; then
        __expacti_phase=2
        __expacti_osc "C;expacti-request=${__expacti_request}"
    else
        builtin print -ru2 -- "expacti: the line did not run"
    fi
}

__expacti_precmd() {
    local st=$?
    __expacti_phase=1
    __expacti_approved=
    __expacti_osc "D;$st"
    __expacti_request=
    __expacti_install
    return $st
}

# Last of the precmd hooks: themes set PS1 in theirs, the input mark goes at its very end.
__expacti_precmd_last() {
    local st=$?
    __expacti_osc A
    local mark=$'%{\e]133;B;expacti='$__expacti_nonce$'\a%}'
    [[ $PS1 == *"$mark" ]] || PS1=$PS1$mark
    return $st
}

# The DEBUG trap: while blocked, skip every command of the line (not those of functions the
# shell itself calls, such as the precmd hooks: they run one level down).
TRAPDEBUG() {
    (( __expacti_phase )) && return 0
    (( ${#funcstack} > 1 )) && return 0
    builtin setopt err_exit
}

# An interactive bash, zsh or fish started from this shell gets the integration too, with
# this session's nonce (given to that shell alone, which takes it out of its environment).
bash() {
    local -a launch
    launch=("${(@0)$(EXPACTI_NONCE=$__expacti_nonce "${__expacti_python:-python3}" -IS \
        "$__expacti_integration_py" bash "$@")}")
    if (( ${#launch} < 2 )); then
        builtin print -ru2 -- "expacti: cannot start bash with the shell integration"
        return 126
    fi
    command "${launch[@]}"
}
zsh() {
    EXPACTI_NONCE=$__expacti_nonce EXPACTI_USER_ZDOTDIR=${ZDOTDIR-} ZDOTDIR=$__expacti_stubs \
        command zsh "$@"
}
fish() {
    EXPACTI_NONCE=$__expacti_nonce command fish \
        --init-command "source ${(q)__expacti_stubs:h}/data/fish/vendor_conf.d/expacti.fish" "$@"
}

# Our widgets and hooks, in place and first (last for the prompt mark); run at every prompt,
# so a plugin that replaced accept-line or reordered the hooks is undone before the next line.
__expacti_install() {
    local w
    for w in accept-line accept-and-hold accept-line-and-down-history accept-and-infer-next-history; do
        [[ ${widgets[$w]-} == user:__expacti_accept ]] || zle -N $w __expacti_accept
    done
    [[ ${precmd_functions[1]-} == __expacti_precmd && ${precmd_functions[-1]-} == __expacti_precmd_last ]] ||
        precmd_functions=(__expacti_precmd ${precmd_functions:#__expacti_precmd(|_last)} __expacti_precmd_last)
    [[ ${preexec_functions[1]-} == __expacti_preexec ]] ||
        preexec_functions=(__expacti_preexec ${preexec_functions:#__expacti_preexec})
    builtin setopt debug_before_cmd
}

builtin zmodload zsh/parameter zsh/zle zsh/zleparameter 2>/dev/null
__expacti_install
