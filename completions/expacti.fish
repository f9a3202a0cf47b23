# fish completion for expacti.
# Generated from the click command tree by scripts/gen_docs.py; do not edit by hand.
# Install: copy this file to ~/.config/fish/completions/expacti.fish

function __expacti_spec --argument-names path --description 'What PATH accepts'
    # subcommands; options taking a value; arguments (N+: the last repeats);
    # the argument from which words are a command line; options after arguments (1/0)
    switch $path
        case ''
            echo 'approve config context daemon deny doctor exec hook log mcp pending run score shell stats whitelist'
            echo ''
            echo '0'
            echo ''
            echo '0'
        case 'approve'
            echo ''
            echo '--note'
            echo '1'
            echo ''
            echo '1'
        case 'config'
            echo 'get path set show unset'
            echo ''
            echo '0'
            echo ''
            echo '0'
        case 'config get'
            echo ''
            echo '--project'
            echo '1'
            echo ''
            echo '1'
        case 'config path'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'config set'
            echo ''
            echo '--project'
            echo '2'
            echo ''
            echo '1'
        case 'config show'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'config unset'
            echo ''
            echo '--project'
            echo '1'
            echo ''
            echo '1'
        case 'context'
            echo ''
            echo '--session'
            echo '1'
            echo ''
            echo '1'
        case 'daemon'
            echo 'start status stop'
            echo ''
            echo '0'
            echo ''
            echo '0'
        case 'daemon start'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'daemon status'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'daemon stop'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'deny'
            echo ''
            echo '--reason'
            echo '1'
            echo ''
            echo '1'
        case 'doctor'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'exec'
            echo ''
            echo '--context --timeout'
            echo '1+'
            echo '0'
            echo '0'
        case 'hook'
            echo 'claude codex cursor install uninstall'
            echo ''
            echo '0'
            echo ''
            echo '0'
        case 'hook claude'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'hook codex'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'hook cursor'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'hook install'
            echo ''
            echo '--project'
            echo '1'
            echo ''
            echo '1'
        case 'hook uninstall'
            echo ''
            echo '--project'
            echo '1'
            echo ''
            echo '1'
        case 'log'
            echo 'repair show verify'
            echo '--since --until --session --decision --min-risk --grep -n --limit'
            echo '0'
            echo ''
            echo '0'
        case 'log repair'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'log show'
            echo ''
            echo ''
            echo '1'
            echo ''
            echo '1'
        case 'log verify'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'mcp'
            echo ''
            echo '--print-config --context --name --approval-timeout --port'
            echo '0'
            echo ''
            echo '1'
        case 'pending'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'run'
            echo ''
            echo '--name --context --record'
            echo '1+'
            echo '0'
            echo '0'
        case 'score'
            echo ''
            echo '--batch'
            echo '1+'
            echo ''
            echo '1'
        case 'shell'
            echo ''
            echo ''
            echo '1+'
            echo ''
            echo '0'
        case 'stats'
            echo ''
            echo '--days --session --top'
            echo '0'
            echo ''
            echo '1'
        case 'whitelist'
            echo 'add list rm suggest test'
            echo ''
            echo '0'
            echo ''
            echo '0'
        case 'whitelist add'
            echo ''
            echo '--kind --scope --ttl --note'
            echo '1'
            echo ''
            echo '1'
        case 'whitelist list'
            echo ''
            echo ''
            echo '0'
            echo ''
            echo '1'
        case 'whitelist rm'
            echo ''
            echo ''
            echo '1'
            echo ''
            echo '1'
        case 'whitelist suggest'
            echo ''
            echo '--min-count --since --accept'
            echo '0'
            echo ''
            echo '1'
        case 'whitelist test'
            echo ''
            echo '--cwd'
            echo '1'
            echo ''
            echo '1'
    end
end

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

# expacti
complete -c expacti -n '__expacti_at \'\' sub' -a approve -d 'Review pending commands, or approve one by id'
complete -c expacti -n '__expacti_at \'\' sub' -a config -d 'Show, get and set configuration values'
complete -c expacti -n '__expacti_at \'\' sub' -a context -d 'Show or change the context a reviewer sees for a session\'s commands'
complete -c expacti -n '__expacti_at \'\' sub' -a daemon -d 'Show, start or stop the local approval broker'
complete -c expacti -n '__expacti_at \'\' sub' -a deny -d 'Deny a pending command by id'
complete -c expacti -n '__expacti_at \'\' sub' -a doctor -d 'Check the broker, files, shell integration, agent hooks and tmux; say what to...'
complete -c expacti -n '__expacti_at \'\' sub' -a exec -d 'Gate one command: run it once a rule or a human allows it'
complete -c expacti -n '__expacti_at \'\' sub' -a hook -d 'Agent pre-tool-use hooks (Claude Code, Codex, Cursor): run, install, uninstall'
complete -c expacti -n '__expacti_at \'\' sub' -a log -d 'Show, follow and verify the audit log'
complete -c expacti -n '__expacti_at \'\' sub' -a mcp -d 'Serve the gated exec tool to MCP clients, or print their config snippet'
complete -c expacti -n '__expacti_at \'\' sub' -a pending -d 'List commands waiting for approval'
complete -c expacti -n '__expacti_at \'\' sub' -a run -d 'Run an agent or a shell in a terminal whose commands are gated'
complete -c expacti -n '__expacti_at \'\' sub' -a score -d 'Score a command\'s risk (0-100) and explain why'
complete -c expacti -n '__expacti_at \'\' sub' -a shell -d 'Behave like bash, gating every -c command (same as expacti-sh)'
complete -c expacti -n '__expacti_at \'\' sub' -a stats -d 'How many commands passed without a human; top and unused rules; per day'
complete -c expacti -n '__expacti_at \'\' sub' -a whitelist -d 'Manage allow/deny rules and test commands against them'
complete -c expacti -n '__expacti_at \'\' opt' -s V -l version -d 'Show the version and exit'
complete -c expacti -n '__expacti_at \'\' opt' -s h -l help -d 'Show this message and exit'

# expacti approve
complete -c expacti -n '__expacti_at \'approve\' opt' -l whitelist -d 'Also add an exact allow rule for this command'
complete -c expacti -n '__expacti_at \'approve\' opt' -l note -x -d 'Why it is approved (kept in the audit log)'
complete -c expacti -n '__expacti_at \'approve\' opt' -l json -d 'Print the result as JSON'
complete -c expacti -n '__expacti_at \'approve\' opt' -s h -l help -d 'Show this message and exit'

# expacti config
complete -c expacti -n '__expacti_at \'config\' sub' -a get -d 'Print the value of KEY'
complete -c expacti -n '__expacti_at \'config\' sub' -a path -d 'Print the path of config.toml'
complete -c expacti -n '__expacti_at \'config\' sub' -a set -d 'Set KEY to VALUE (lists are comma-separated) and save config.toml'
complete -c expacti -n '__expacti_at \'config\' sub' -a show -d 'Show every key with its value, marking the ones that differ from the default'
complete -c expacti -n '__expacti_at \'config\' sub' -a unset -d 'Remove KEY from config.toml: back to its default (in a project: to the global...'
complete -c expacti -n '__expacti_at \'config\' opt' -s h -l help -d 'Show this message and exit'

# expacti config get
complete -c expacti -n '__expacti_at \'config get\' opt' -l json -d 'Print the value as JSON'
complete -c expacti -n '__expacti_at \'config get\' opt' -l project -x -d 'Print the value that applies to commands run in DIR (its project\'s, else global)'
complete -c expacti -n '__expacti_at \'config get\' opt' -s h -l help -d 'Show this message and exit'
complete -c expacti -n '__expacti_at \'config get\' arg 0' -a 'auto_approve_below strict_anomalies approval_timeout on_timeout reviewer approval_ui prompt_detection prompt_patterns mcp_output_limit risk.production_markers risk.protected_branches risk.programs risk.patterns' -d 'KEY'

# expacti config path
complete -c expacti -n '__expacti_at \'config path\' opt' -s h -l help -d 'Show this message and exit'

# expacti config set
complete -c expacti -n '__expacti_at \'config set\' opt' -l project -x -d 'Apply to commands run in or under DIR (a [projects."DIR"] table); only auto_a...'
complete -c expacti -n '__expacti_at \'config set\' opt' -s h -l help -d 'Show this message and exit'
complete -c expacti -n '__expacti_at \'config set\' arg 0' -a 'auto_approve_below strict_anomalies approval_timeout on_timeout reviewer approval_ui prompt_detection prompt_patterns mcp_output_limit risk.production_markers risk.protected_branches risk.programs risk.patterns' -d 'KEY'

# expacti config show
complete -c expacti -n '__expacti_at \'config show\' opt' -l json -d 'Print all values as one JSON object'
complete -c expacti -n '__expacti_at \'config show\' opt' -s h -l help -d 'Show this message and exit'

# expacti config unset
complete -c expacti -n '__expacti_at \'config unset\' opt' -l project -x -d 'Apply to commands run in or under DIR (a [projects."DIR"] table); only auto_a...'
complete -c expacti -n '__expacti_at \'config unset\' opt' -s h -l help -d 'Show this message and exit'

# expacti context
complete -c expacti -n '__expacti_at \'context\' opt' -l session -x -d 'The session to change (default: $EXPACTI_SESSION, the session this runs in)'
complete -c expacti -n '__expacti_at \'context\' opt' -l clear -d 'Remove the session\'s context'
complete -c expacti -n '__expacti_at \'context\' opt' -l json -d 'Print the result as JSON'
complete -c expacti -n '__expacti_at \'context\' opt' -s h -l help -d 'Show this message and exit'

# expacti daemon
complete -c expacti -n '__expacti_at \'daemon\' sub' -a start -d 'Start the broker now (it also starts by itself when a command needs it)'
complete -c expacti -n '__expacti_at \'daemon\' sub' -a status -d 'Show whether the broker runs, its pid, and what it is holding'
complete -c expacti -n '__expacti_at \'daemon\' sub' -a stop -d 'Stop the broker'
complete -c expacti -n '__expacti_at \'daemon\' opt' -s h -l help -d 'Show this message and exit'

# expacti daemon start
complete -c expacti -n '__expacti_at \'daemon start\' opt' -s h -l help -d 'Show this message and exit'

# expacti daemon status
complete -c expacti -n '__expacti_at \'daemon status\' opt' -l json -d 'Print the status as JSON'
complete -c expacti -n '__expacti_at \'daemon status\' opt' -s h -l help -d 'Show this message and exit'

# expacti daemon stop
complete -c expacti -n '__expacti_at \'daemon stop\' opt' -l json -d 'Print the result as JSON'
complete -c expacti -n '__expacti_at \'daemon stop\' opt' -s h -l help -d 'Show this message and exit'

# expacti deny
complete -c expacti -n '__expacti_at \'deny\' opt' -l reason -x -d 'Why (sent to the waiting command\'s stderr)'
complete -c expacti -n '__expacti_at \'deny\' opt' -l json -d 'Print the result as JSON'
complete -c expacti -n '__expacti_at \'deny\' opt' -s h -l help -d 'Show this message and exit'

# expacti doctor
complete -c expacti -n '__expacti_at \'doctor\' opt' -l json -d 'Print the checks as one JSON object'
complete -c expacti -n '__expacti_at \'doctor\' opt' -l no-start -d 'Do not start the broker to check it (only a running one)'
complete -c expacti -n '__expacti_at \'doctor\' opt' -s h -l help -d 'Show this message and exit'

# expacti exec
complete -c expacti -n '__expacti_at \'exec\' opt' -l context -x -d 'Why the command is needed (shown to the reviewer)'
complete -c expacti -n '__expacti_at \'exec\' opt' -l timeout -x -d 'Seconds to wait for a decision (30-600; default: config approval_timeout)'
complete -c expacti -n '__expacti_at \'exec\' opt' -l json -d 'Write expacti\'s own messages as JSON lines on stderr'
complete -c expacti -n '__expacti_at \'exec\' opt' -s h -l help -d 'Show this message and exit'
complete -c expacti -n '__expacti_at \'exec\' cmdline' -a '(__expacti_complete_command_line)'

# expacti hook
complete -c expacti -n '__expacti_at \'hook\' sub' -a claude -d 'Claude Code PreToolUse hook: JSON in on stdin, permissionDecision JSON out (e...'
complete -c expacti -n '__expacti_at \'hook\' sub' -a codex -d 'Codex CLI PreToolUse hook: exit 0 allows; exit 2 with the reason on stderr bl...'
complete -c expacti -n '__expacti_at \'hook\' sub' -a cursor -d 'Cursor beforeShellExecution hook: answers {"permission": "allow"|"deny", ...}'
complete -c expacti -n '__expacti_at \'hook\' sub' -a install -d 'Add `expacti hook AGENT` to the agent\'s settings (idempotent, with a backup)'
complete -c expacti -n '__expacti_at \'hook\' sub' -a uninstall -d 'Remove our hook from the agent\'s settings (nothing else is touched)'
complete -c expacti -n '__expacti_at \'hook\' opt' -s h -l help -d 'Show this message and exit'

# expacti hook claude
complete -c expacti -n '__expacti_at \'hook claude\' opt' -s h -l help -d 'Show this message and exit'

# expacti hook codex
complete -c expacti -n '__expacti_at \'hook codex\' opt' -s h -l help -d 'Show this message and exit'

# expacti hook cursor
complete -c expacti -n '__expacti_at \'hook cursor\' opt' -s h -l help -d 'Show this message and exit'

# expacti hook install
complete -c expacti -n '__expacti_at \'hook install\' opt' -l project -x -a '(__fish_complete_directories (commandline -ct))' -d 'Project directory (Claude, Cursor; default: the current directory)'
complete -c expacti -n '__expacti_at \'hook install\' opt' -l user -d 'The user-wide settings file instead'
complete -c expacti -n '__expacti_at \'hook install\' opt' -l print -d 'Show the snippet; change nothing'
complete -c expacti -n '__expacti_at \'hook install\' opt' -s h -l help -d 'Show this message and exit'
complete -c expacti -n '__expacti_at \'hook install\' arg 0' -a 'claude codex cursor' -d 'AGENT'

# expacti hook uninstall
complete -c expacti -n '__expacti_at \'hook uninstall\' opt' -l project -x -a '(__fish_complete_directories (commandline -ct))' -d 'Project directory (Claude, Cursor; default: the current directory)'
complete -c expacti -n '__expacti_at \'hook uninstall\' opt' -l user -d 'The user-wide settings file instead'
complete -c expacti -n '__expacti_at \'hook uninstall\' opt' -s h -l help -d 'Show this message and exit'
complete -c expacti -n '__expacti_at \'hook uninstall\' arg 0' -a 'claude codex cursor' -d 'AGENT'

# expacti log
complete -c expacti -n '__expacti_at \'log\' sub' -a repair -d 'Make the log writable again after a crash, losing nothing'
complete -c expacti -n '__expacti_at \'log\' sub' -a show -d 'Show every field of one record (ID or a unique prefix of it)'
complete -c expacti -n '__expacti_at \'log\' sub' -a verify -d 'Recompute the whole hash chain; exit 1 and name the first bad line if it is b...'
complete -c expacti -n '__expacti_at \'log\' opt' -l json -d 'One JSON object a line (records as stored)'
complete -c expacti -n '__expacti_at \'log\' opt' -l csv -d 'CSV with a header row'
complete -c expacti -n '__expacti_at \'log\' opt' -l since -x -d 'Only records after WHEN: 2h, 3d, 2024-05-01T14:00'
complete -c expacti -n '__expacti_at \'log\' opt' -l until -x -d 'Only records before WHEN'
complete -c expacti -n '__expacti_at \'log\' opt' -l session -x -d 'Only records of this session'
complete -c expacti -n '__expacti_at \'log\' opt' -l decision -x -a 'approved denied auto_approved_rule auto_approved_threshold timed_out withdrawn' -d 'Only these decisions (repeatable)'
complete -c expacti -n '__expacti_at \'log\' opt' -l min-risk -x -d 'Only scores at least this: 60 or HIGH'
complete -c expacti -n '__expacti_at \'log\' opt' -l grep -x -d 'Only commands matching REGEX (case-insensitive)'
complete -c expacti -n '__expacti_at \'log\' opt' -s n -l limit -x -d 'At most N records (0: all)'
complete -c expacti -n '__expacti_at \'log\' opt' -s f -l follow -d 'Keep printing new records as they arrive (Ctrl-C stops)'
complete -c expacti -n '__expacti_at \'log\' opt' -s h -l help -d 'Show this message and exit'

# expacti log repair
complete -c expacti -n '__expacti_at \'log repair\' opt' -s h -l help -d 'Show this message and exit'

# expacti log show
complete -c expacti -n '__expacti_at \'log show\' opt' -l json -d 'The record as stored, with its exit code joined'
complete -c expacti -n '__expacti_at \'log show\' opt' -s h -l help -d 'Show this message and exit'

# expacti log verify
complete -c expacti -n '__expacti_at \'log verify\' opt' -l json -d 'The result as one JSON object'
complete -c expacti -n '__expacti_at \'log verify\' opt' -s h -l help -d 'Show this message and exit'

# expacti mcp
complete -c expacti -n '__expacti_at \'mcp\' opt' -l print-config -x -a 'claude cursor codex' -d 'Print the snippet that registers this server with CLIENT, then exit'
complete -c expacti -n '__expacti_at \'mcp\' opt' -l context -x -d 'What the agent is working on (shown to the reviewer when a call gives none)'
complete -c expacti -n '__expacti_at \'mcp\' opt' -l name -x -d 'Session name the reviewer sees'
complete -c expacti -n '__expacti_at \'mcp\' opt' -l approval-timeout -x -d 'Seconds a command waits for a human (30-600; default: config approval_timeout)'
complete -c expacti -n '__expacti_at \'mcp\' opt' -l http -d 'Serve streamable HTTP on 127.0.0.1 instead of stdio'
complete -c expacti -n '__expacti_at \'mcp\' opt' -l port -x -d 'Port for --http (0: any free port)'
complete -c expacti -n '__expacti_at \'mcp\' opt' -s h -l help -d 'Show this message and exit'

# expacti pending
complete -c expacti -n '__expacti_at \'pending\' opt' -l json -d 'Print the requests as a JSON array'
complete -c expacti -n '__expacti_at \'pending\' opt' -s h -l help -d 'Show this message and exit'

# expacti run
complete -c expacti -n '__expacti_at \'run\' opt' -l name -x -d 'A name for this session (shown to the reviewer)'
complete -c expacti -n '__expacti_at \'run\' opt' -l context -x -d 'What the session is for (shown to the reviewer)'
complete -c expacti -n '__expacti_at \'run\' opt' -l record -r -F -d 'Write the session to FILE as an asciicast v2 recording'
complete -c expacti -n '__expacti_at \'run\' opt' -l no-split -d 'Inside tmux, do not open a pane running `expacti approve`'
complete -c expacti -n '__expacti_at \'run\' opt' -s h -l help -d 'Show this message and exit'
complete -c expacti -n '__expacti_at \'run\' cmdline' -a '(__expacti_complete_command_line)'

# expacti score
complete -c expacti -n '__expacti_at \'score\' opt' -l json -d 'Print JSON (one object per line with --batch)'
complete -c expacti -n '__expacti_at \'score\' opt' -l explain -d 'Also compare COMMAND with your history (anomalies) and list every category, m...'
complete -c expacti -n '__expacti_at \'score\' opt' -l batch -x -d 'Score each line of FILE (- for stdin) instead of COMMAND'
complete -c expacti -n '__expacti_at \'score\' opt' -s h -l help -d 'Show this message and exit'

# expacti shell
complete -c expacti -n '__expacti_at \'shell\' opt' -s h -l help -d 'Show this message and exit'
complete -c expacti -n '__expacti_at \'shell\' arg 0' -F -d 'ARGS'

# expacti stats
complete -c expacti -n '__expacti_at \'stats\' opt' -l days -x -d 'Report on the last N days (today included)'
complete -c expacti -n '__expacti_at \'stats\' opt' -l session -x -d 'Only commands of this session'
complete -c expacti -n '__expacti_at \'stats\' opt' -l top -x -d 'Show this many rules in the top rules'
complete -c expacti -n '__expacti_at \'stats\' opt' -l json -d 'One JSON object (keys below)'
complete -c expacti -n '__expacti_at \'stats\' opt' -s h -l help -d 'Show this message and exit'

# expacti whitelist
complete -c expacti -n '__expacti_at \'whitelist\' sub' -a add -d 'Add a rule for PATTERN (an exact allow rule unless told otherwise)'
complete -c expacti -n '__expacti_at \'whitelist\' sub' -a list -d 'List the rules, oldest first (expired ones only with --all)'
complete -c expacti -n '__expacti_at \'whitelist\' sub' -a rm -d 'Remove the rule RULE_ID (a unique prefix of the id is enough)'
complete -c expacti -n '__expacti_at \'whitelist\' sub' -a suggest -d 'Propose rules for commands humans approved again and again'
complete -c expacti -n '__expacti_at \'whitelist\' sub' -a test -d 'Show which rule decides each part of COMMAND, its risk score, and the outcome'
complete -c expacti -n '__expacti_at \'whitelist\' opt' -s h -l help -d 'Show this message and exit'

# expacti whitelist add
complete -c expacti -n '__expacti_at \'whitelist add\' opt' -l kind -x -a 'exact prefix glob regex' -d 'How PATTERN matches a command'
complete -c expacti -n '__expacti_at \'whitelist add\' opt' -l deny -d 'A deny rule: matching commands are refused'
complete -c expacti -n '__expacti_at \'whitelist add\' opt' -l scope -x -a '(__fish_complete_directories (commandline -ct))' -d 'Apply only when cwd is inside DIR'
complete -c expacti -n '__expacti_at \'whitelist add\' opt' -l ttl -x -d 'Expire after this long: 30m, 12h, 7d, 2w'
complete -c expacti -n '__expacti_at \'whitelist add\' opt' -l note -x -d 'Why this rule exists'
complete -c expacti -n '__expacti_at \'whitelist add\' opt' -l force -d 'Add an allow rule even if it covers a shell, sudo...'
complete -c expacti -n '__expacti_at \'whitelist add\' opt' -l json -d 'Print the stored rule as JSON'
complete -c expacti -n '__expacti_at \'whitelist add\' opt' -s h -l help -d 'Show this message and exit'

# expacti whitelist list
complete -c expacti -n '__expacti_at \'whitelist list\' opt' -l json -d 'One JSON array of rules'
complete -c expacti -n '__expacti_at \'whitelist list\' opt' -l all -d 'Include expired rules'
complete -c expacti -n '__expacti_at \'whitelist list\' opt' -s h -l help -d 'Show this message and exit'

# expacti whitelist rm
complete -c expacti -n '__expacti_at \'whitelist rm\' opt' -s h -l help -d 'Show this message and exit'

# expacti whitelist suggest
complete -c expacti -n '__expacti_at \'whitelist suggest\' opt' -l min-count -x -d 'Approvals a rule needs behind it'
complete -c expacti -n '__expacti_at \'whitelist suggest\' opt' -l since -x -d 'Learn only from approvals since: 2h, 3d, 1w or an ISO date (denials always co...'
complete -c expacti -n '__expacti_at \'whitelist suggest\' opt' -l accept -x -d 'Add these suggestions: 1,3 or 2-4'
complete -c expacti -n '__expacti_at \'whitelist suggest\' opt' -l accept-all -d 'Add every suggestion'
complete -c expacti -n '__expacti_at \'whitelist suggest\' opt' -l json -d 'One JSON object with every suggestion'
complete -c expacti -n '__expacti_at \'whitelist suggest\' opt' -s v -l verbose -d 'Also list candidates the checks dropped'
complete -c expacti -n '__expacti_at \'whitelist suggest\' opt' -s h -l help -d 'Show this message and exit'

# expacti whitelist test
complete -c expacti -n '__expacti_at \'whitelist test\' opt' -l json -d 'Print the decision as one JSON object'
complete -c expacti -n '__expacti_at \'whitelist test\' opt' -l cwd -x -a '(__fish_complete_directories (commandline -ct))' -d 'Pretend the command runs in DIR (for scoped rules)'
complete -c expacti -n '__expacti_at \'whitelist test\' opt' -s h -l help -d 'Show this message and exit'
