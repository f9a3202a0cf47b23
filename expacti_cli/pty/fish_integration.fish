# expacti shell integration for fish, loaded by `expacti run` with `fish --init-command`, and
# through a vendor_conf.d file (XDG_DATA_DIRS) by a fish started from inside the session.
#
# Every key bound to `execute` (Enter as \r and \n, in every bind mode, default and vi) runs
# __expacti_enter instead: it expands abbreviations, sends the exact commandline to the gate
# and runs `commandline -f execute` only once the line is allowed; a denied line is cleared
# and the reason printed. fish_preexec is the backstop: a line that reaches execution without
# passing the gate (another binding, a text that differs from the approved one) is gated
# there; fish cannot cancel a line from an event handler, so if that one is denied the shell
# ends (`exec`s a new fish in its place) before the line runs. Bindings and hooks are put back
# at every prompt. Prompts carry OSC 133 marks with this session's nonce.

# Only an interactive shell is hooked; a script or `fish -c` gets nothing, not even functions.
status is-interactive; or return 0
set -q __expacti_loaded; and return 0

function __expacti_setup
    set -g __expacti_loaded 1

    set -g __expacti_nonce $EXPACTI_NONCE
    # Programs the shell starts must not see the nonce (they could print fake marks with it).
    set -e EXPACTI_NONCE
    if not string match -qr '^[0-9a-f]{8,}$' -- "$__expacti_nonce"
        set __expacti_nonce (printf '%04x' (random 0 65535) (random 0 65535) (random 0 65535) (random 0 65535) | string join '')
    end
    set -q __expacti_python; or set -g __expacti_python $EXPACTI_PYTHON
    set -q __expacti_python[1]; or set -g __expacti_python python3
    set -q __expacti_line_gate; or set -g __expacti_line_gate $EXPACTI_LINE_GATE
    set -q __expacti_line_gate[1]; or set -g __expacti_line_gate (string replace -r '/[^/]*\$' '' -- (status filename))/line_gate.py
    set -e EXPACTI_PYTHON EXPACTI_LINE_GATE

    set -g __expacti_phase 1 # 0: blocked, 1: at the prompt, 2: the line was allowed
    set -g __expacti_approved ''
    set -g __expacti_request ''
    __expacti_install
end

function __expacti_osc -a kind
    printf '\e]133;%s;expacti=%s\a' $kind $__expacti_nonce
end

# Ask the broker about $argv[1]; 0 when it may run (__expacti_request names the request).
# $argv[2]: "zle" when asked from a key binding (the cursor is at the end of the typed line).
function __expacti_ask -a text from
    # The gate prints the id of the request that allowed the line (for the exit-status mark);
    # the line goes on stdin: argv would cap it at 128 KiB.
    set -l at_end 0
    test "$from" = zle; and set at_end 1
    set -l request (printf '%s\n' $text | env EXPACTI_GATE_AT_LINE_END=$at_end $__expacti_python -IS $__expacti_line_gate)
    set -l st $pipestatus[2]
    if test "$st" = 0
        set -g __expacti_request (string replace -ra '[^0-9a-f]' '' -- "$request" | string join '')
        return 0
    end
    set -g __expacti_request ''
    return 1
end

# Bound in place of `execute`.
function __expacti_enter
    set -l text (commandline | string collect)
    if test -z (string trim -- "$text" | string collect)
        commandline -f execute
        return
    end
    commandline --is-valid
    set -l valid $status
    # Incomplete (an open block or quote, a trailing backslash): `execute` adds a new line
    # and nothing runs yet; the whole text is gated on the Enter that completes it.
    if test $valid -eq 2; or string match -qr '(^|[^\\\\])(\\\\\\\\)*\\\\$' -- $text
        commandline -f execute
        return
    end
    # `execute` would expand an abbreviation at the cursor after the gate saw the line: expand
    # it now instead, and let the next Enter gate the text that runs. (Asked once per text: a
    # word that is an abbreviation but not where fish expands it does not stop the line.)
    set -l word (commandline -ct)
    if test -n "$word"; and abbr -q -- $word 2>/dev/null; and test "$__expacti_abbr_seen" != "$text"
        set -g __expacti_abbr_seen $text
        commandline -f expand-abbr
        return
    end
    # Emptied first: Ctrl-C while the gate waits ends this function where it is (fish
    # cancels it), and the line must be gone then too.
    commandline -r ''
    if __expacti_ask $text zle
        set -g __expacti_phase 2
        set -g __expacti_approved $text
        commandline -r -- $text
        commandline -f execute
        return
    end
    set -g __expacti_approved ''
    commandline -f repaint
end

function __expacti_preexec --on-event fish_preexec
    if test "$__expacti_phase" = 2; and test "$argv[1]" = "$__expacti_approved"
        __expacti_osc "C;expacti-request=$__expacti_request"
        return
    end
    set -g __expacti_phase 0
    set -g __expacti_approved ''
    if __expacti_ask "$argv[1]"
        set -g __expacti_phase 2
        __expacti_osc "C;expacti-request=$__expacti_request"
        return
    end
    # fish runs the line once this handler returns: end this shell first, keeping the
    # terminal usable with a new one.
    echo "expacti: the line did not run; starting a new fish" >&2
    set -lx EXPACTI_NONCE $__expacti_nonce
    exec $__expacti_fish_path --init-command "source "(string escape -- $__expacti_vendor_file)
    exit 1
end

function __expacti_postexec --on-event fish_postexec
    set -l st $status
    __expacti_osc "D;$st"
    set -g __expacti_request ''
end

function __expacti_prompt_event --on-event fish_prompt
    set -g __expacti_phase 1
    set -g __expacti_approved ''
    __expacti_install
    __expacti_osc A
end

# Every binding whose commands include `execute`, in every mode, goes through the gate.
function __expacti_bind_enter
    for mode in (bind -L)
        for line in (bind --preset -M $mode) (bind --user -M $mode)
            set -l words (string split ' ' -- $line)
            contains -- execute $words; or continue
            contains -- __expacti_enter $words; and continue
            # bind [--preset] [-s] -M MODE [-m NEW] KEY COMMANDS...
            set -l flags
            set -l key
            set -l i 2
            while test $i -le (count $words)
                switch $words[$i]
                    case --preset
                    case -s --silent
                        set -a flags -s
                    case -M --mode
                        set i (math $i + 1)
                    case -m --sets-mode
                        set i (math $i + 1)
                        set -a flags -m $words[$i]
                    case '*'
                        set key $words[$i]
                        break
                end
                set i (math $i + 1)
            end
            test -n "$key"; or continue
            # The key is printed escaped the way `bind` reads it back.
            eval bind $flags -M (string escape -- $mode) $key __expacti_enter
        end
    end
end

function __expacti_install
    __expacti_bind_enter
    # The input mark ends the prompt: wrap the user's fish_prompt (again if it was replaced).
    if functions -q fish_prompt; and not string match -q '*__expacti_user_prompt*' -- (functions fish_prompt | string collect)
        functions -e __expacti_user_prompt
        functions -c fish_prompt __expacti_user_prompt
        function fish_prompt
            __expacti_user_prompt
            __expacti_osc B
        end
    end
end

# An interactive bash, zsh or fish started from this shell gets the integration too, with
# this session's nonce (given to that shell alone, which takes it out of its environment).
function bash --wraps bash
    set -lx EXPACTI_NONCE $__expacti_nonce
    set -l launch ($__expacti_python -IS $__expacti_integration_py bash $argv | string split0)
    if test (count $launch) -lt 2
        echo "expacti: cannot start bash with the shell integration" >&2
        return 126
    end
    set -e EXPACTI_NONCE
    command $launch
end

function zsh --wraps zsh
    set -lx EXPACTI_NONCE $__expacti_nonce
    set -lx EXPACTI_USER_ZDOTDIR "$ZDOTDIR"
    set -lx ZDOTDIR $__expacti_zdotdir
    command zsh $argv
end

function fish --wraps fish
    set -lx EXPACTI_NONCE $__expacti_nonce
    command fish --init-command "source "(string escape -- $__expacti_vendor_file) $argv
end

set -g __expacti_fish_path (status fish-path 2>/dev/null; or command -s fish)
__expacti_setup
