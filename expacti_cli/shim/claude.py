"""Claude Code's shell plumbing, recognised exactly (design-notes §2).

Claude Code runs every Bash tool call as `$SHELL -c SCRIPT`, where SCRIPT wraps the model's
command in boilerplate (checked against Claude Code 2.1.197, whose generator builds it as):

    source SNAPSHOT 2>/dev/null || true && shopt -u extglob 2>/dev/null || true
      && eval QUOTED_COMMAND [< /dev/null] && pwd -P >| TMPDIR/claude-ID-cwd

(one line, parts joined by " && "; the `source` part is missing until a snapshot exists, and
then the shell also gets `-l`). With CLAUDE_CODE_SHELL_PREFIX set, the extglob part is
`SHOPT_PREFIXED` and the whole script is handed to the prefix program: `PREFIX 'SCRIPT'`. Before the first call it runs `$SHELL -c -l SNAPSHOT_SCRIPT`,
which sources ~/.bashrc and writes the snapshot file, and `$SHELL -c env` once.

`unwrap_call` returns the command only when every character outside the quoted command is
that boilerplate, and computes the command's value exactly as bash would (the quoting is
Claude's: bare safe words, or single quotes with `'"'"'` for a quote; `'\\''` is also read).
`is_snapshot_call` re-renders the snapshot script from the values it extracts and requires
the result to equal the script byte for byte. Anything else is an ordinary command.

Pure: no I/O; HOME and the Claude config directory are passed in. No `re` (the shim's
import budget): the grammar is small enough to scan by hand.
"""

from __future__ import annotations

_SAFE_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=@+,-")
_HEX = frozenset("0123456789abcdef")
_BASE36 = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset("0123456789")
_NAME = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")

SOURCE_TAIL = " 2>/dev/null || true && "
BUN_OPTIONS = 'export BUN_OPTIONS="--smol${BUN_OPTIONS:+ $BUN_OPTIONS}"'
SHOPT = "shopt -u extglob 2>/dev/null || true"
# With CLAUDE_CODE_SHELL_PREFIX set, Claude Code cannot tell which shell runs the script and
# uses this instead (2.1.197's v$p), whatever $SHELL is.
SHOPT_PREFIXED = (
    "{ shopt -u extglob || setopt NO_EXTENDED_GLOB NO_BARE_GLOB_QUAL; } >/dev/null 2>&1 || true"
)
DEVNULL = " < /dev/null"
PWD_PART = " && pwd -P >| "


def quote(word: str) -> str:
    """Claude Code's shell quoting of one word (its `Qa`)."""
    if word == "":
        return "''"
    if all(c in _SAFE_BARE for c in word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


def read_word(text: str, start: int) -> tuple[str, int] | None:
    """The value of the shell word at text[start:] and where it ends (at a space, a newline
    or the end), if it is made only of safe bare characters, '...' segments, "'" and \\'.
    None for an empty word or any other character (`$`, `"x"`, `;`, a backslash...)."""
    i, n = start, len(text)
    parts: list[str] = []
    while i < n:
        c = text[i]
        if c in " \n":
            break
        if c in _SAFE_BARE:
            j = i
            while j < n and text[j] in _SAFE_BARE:
                j += 1
            parts.append(text[i:j])
            i = j
        elif c == "'":
            close = text.find("'", i + 1)
            if close < 0:
                return None
            parts.append(text[i + 1 : close])
            i = close + 1
        elif text.startswith('"\'"', i):
            parts.append("'")
            i += 3
        elif text.startswith("\\'", i):
            parts.append("'")
            i += 2
        else:
            return None
    if i == start:
        return None
    return "".join(parts), i


class Wrapper:
    """A recognised per-call wrapper: the command it evals and the boilerplate around it."""

    __slots__ = ("command", "token", "snapshot", "bun", "devnull", "cwd_file", "prefix")

    def __init__(
        self,
        command: str,
        token: str,
        snapshot: str | None,
        bun: bool,
        devnull: bool,
        cwd_file: str,
        prefix: str | None = None,
    ) -> None:
        self.command = command  # what eval runs: the value of `token`
        self.token = token  # the quoted command exactly as it appears in the script
        self.snapshot = snapshot
        self.bun = bun
        self.devnull = devnull
        self.cwd_file = cwd_file
        self.prefix = prefix  # CLAUDE_CODE_SHELL_PREFIX: the program the script is handed to

    def render(self) -> str:
        """The script this wrapper was read from (used by tests to prove exactness)."""
        parts = []
        if self.snapshot is not None:
            parts.append(f"source {quote(self.snapshot)} 2>/dev/null || true")
        if self.bun:
            parts.append(BUN_OPTIONS)
        parts.append(SHOPT if self.prefix is None else SHOPT_PREFIXED)
        parts.append(f"eval {self.token}{DEVNULL if self.devnull else ''}")
        parts.append(f"pwd -P >| {quote(self.cwd_file)}")
        script = " && ".join(parts)
        if self.prefix is None:
            return script
        head = prefix_head(self.prefix)
        assert head is not None  # only set from a prefix that has one
        return head + quote(script)


def prefix_head(prefix: str) -> str | None:
    """What Claude Code 2.1.197 writes before the quoted script when CLAUDE_CODE_SHELL_PREFIX
    is set (its W4n): the prefix quoted as one word, except that from its last " -" on the
    rest is written as it is (`/bin/wrap --flag x` -> `/bin/wrap --flag x 'SCRIPT'`). None
    when that unquoted rest holds anything but plain words (it would be shell code)."""
    cut = prefix.rfind(" -")
    if cut <= 0:
        return quote(prefix) + " "
    program, flags = prefix[:cut], prefix[cut + 1 :]
    if not all(c in _SAFE_BARE or c == " " for c in flags):
        return None
    return f"{quote(program)} {flags} "


def _is_snapshot_path(path: str, config_dir: str) -> bool:
    """CONFIG/shell-snapshots/snapshot-bash-<ms>-<base36>.sh, nothing else."""
    prefix = config_dir.rstrip("/") + "/shell-snapshots/snapshot-bash-"
    if not config_dir.startswith("/") or not path.startswith(prefix) or not path.endswith(".sh"):
        return False
    stamp, dash, rand = path[len(prefix) : -3].partition("-")
    return (
        dash == "-"
        and 0 < len(stamp) <= 16
        and all(c in _DIGITS for c in stamp)
        and 0 < len(rand) <= 16
        and all(c in _BASE36 for c in rand)
    )


def _is_cwd_file(path: str) -> bool:
    """An absolute TMPDIR/claude-<hex>-cwd with no `.`/`..`/empty components."""
    if not path.startswith("/") or "\n" in path or "\0" in path:
        return False
    parts = path.split("/")[1:]
    if any(p in ("", ".", "..") for p in parts):
        return False
    name = parts[-1]
    middle = name[len("claude-") : -len("-cwd")]
    return (
        name.startswith("claude-")
        and name.endswith("-cwd")
        and 0 < len(middle) <= 64
        and all(c in _HEX for c in middle)
    )


def unwrap_call(script: str, config_dir: str, prefix: str | None = None) -> Wrapper | None:
    """The command inside Claude Code's per-call wrapper, or None when `script` is anything
    but that exact boilerplate around one quoted command.

    `prefix`: the CLAUDE_CODE_SHELL_PREFIX Claude Code runs with (None or "" when unset).
    With one, the wrapper comes as `PREFIX 'WRAPPER'` (see `prefix_head`) and only that form
    is recognised; the command then runs through the prefix program, which callers should
    tell the reviewer."""
    if not isinstance(script, str):
        return None
    if prefix:
        head = prefix_head(prefix)
        if head is None or not script.startswith(head):
            return None
        word = read_word(script, len(head))
        if word is None or word[1] != len(script) or script[len(head) :] != quote(word[0]):
            return None
        inner = _unwrap_script(word[0], config_dir, SHOPT_PREFIXED)
        if inner is None:
            return None
        inner.prefix = prefix
        return inner
    return _unwrap_script(script, config_dir, SHOPT)


def _unwrap_script(script: str, config_dir: str, shopt: str) -> Wrapper | None:
    pos = 0
    snapshot = None
    if script.startswith("source "):
        word = read_word(script, len("source "))
        if word is None:
            return None
        snapshot, pos = word
        if (
            script[len("source ") : pos] != quote(snapshot)  # boilerplate is quoted one way only
            or not script.startswith(SOURCE_TAIL, pos)
            or not _is_snapshot_path(snapshot, config_dir)
        ):
            return None
        pos += len(SOURCE_TAIL)
    bun = script.startswith(BUN_OPTIONS + " && ", pos)
    if bun:
        pos += len(BUN_OPTIONS) + 4
    head = shopt + " && eval "
    if not script.startswith(head, pos):
        return None
    pos += len(head)
    word = read_word(script, pos)
    if word is None:
        return None
    command, end = word
    token = script[pos:end]
    pos = end
    devnull = script.startswith(DEVNULL, pos)
    if devnull:
        pos += len(DEVNULL)
    if not script.startswith(PWD_PART, pos):
        return None
    pos += len(PWD_PART)
    word = read_word(script, pos)
    if (
        word is None
        or word[1] != len(script)
        or script[pos:] != quote(word[0])
        or not _is_cwd_file(word[0])
    ):
        return None
    return Wrapper(command, token, snapshot, bun, devnull, word[0])


def is_env_call(args: list[str]) -> bool:
    """Claude Code's one `$SHELL -c env` probe, exactly."""
    return args == ["-c", "env"]


# --- the snapshot-building script --------------------------------------------------------------
# Transcribed from Claude Code 2.1.197's generator (bash variant); tests/test_shim_claude.py
# checks a script captured from the real CLI against `render_snapshot_script`.

_SNAPSHOT_INTRO = (
    "\n\n"
    "      # First, create/clear the snapshot file\n"
    '      echo "# Snapshot file" >| "$SNAPSHOT_FILE"\n'
    "\n"
    "      # When this file is sourced, we first unalias to avoid conflicts\n"
    '      # This is necessary because aliases get "frozen" inside function definitions at '
    "definition time,\n"
    "      # which can cause unexpected behavior when functions use commands that conflict "
    "with aliases\n"
    '      echo "# Unset all aliases to avoid conflicts with functions" >> "$SNAPSHOT_FILE"\n'
    '      echo "unalias -a 2>/dev/null || true" >> "$SNAPSHOT_FILE"\n'
    "\n"
    "      "
)
_USER_STATE = (  # functions, shell options and aliases: only when ~/.bashrc exists
    "\n"
    '      echo "# Functions" >> "$SNAPSHOT_FILE"\n'
    "\n"
    "      # Force autoload all functions first\n"
    "      declare -f > /dev/null 2>&1\n"
    "\n"
    "      # Now get user function names - filter completion functions (single underscore "
    "prefix)\n"
    "      # but keep double-underscore helpers (e.g. __zsh_like_cd from mise, __pyenv_init)\n"
    "      declare -F | cut -d' ' -f3 | grep -vE '^_[^_]' | while read func; do\n"
    "        # Encode the function to base64, preserving all special characters\n"
    '        encoded_func=$(declare -f "$func" | base64 )\n'
    "        # Write the function definition to the snapshot\n"
    '        echo "eval \\"\\$(echo \'$encoded_func\' | base64 -d)\\" > /dev/null 2>&1" >> '
    '"$SNAPSHOT_FILE"\n'
    "      done\n"
    "    \n"
    '      echo "# Shell Options" >> "$SNAPSHOT_FILE"\n'
    '      shopt -p | head -n 1000 >> "$SNAPSHOT_FILE"\n'
    '      set -o | grep "on" | awk \'{print "set -o " $1}\' | head -n 1000 >> '
    '"$SNAPSHOT_FILE"\n'
    '      echo "shopt -s expand_aliases" >> "$SNAPSHOT_FILE"\n'
    "    \n"
    '      echo "# Aliases" >> "$SNAPSHOT_FILE"\n'
    '      # Filter out winpty aliases on Windows to avoid "stdin is not a tty" errors\n'
    "      # Git Bash automatically creates aliases like \"alias node='winpty node.exe'\" for\n"
    "      # programs that need Win32 Console in mintty, but winpty fails when there's no TTY\n"
    '      if [[ "$OSTYPE" == "msys" ]] || [[ "$OSTYPE" == "cygwin" ]]; then\n'
    "        alias | grep -v \"='winpty \" | sed 's/^alias //g' | sed 's/^/alias -- /' | "
    'head -n 1000 >> "$SNAPSHOT_FILE"\n'
    "      else\n"
    "        alias | sed 's/^alias //g' | sed 's/^/alias -- /' | head -n 1000 >> "
    '"$SNAPSHOT_FILE"\n'
    "      fi\n"
    "  "
)
_NO_USER_STATE = 'echo "shopt -s expand_aliases" >> "$SNAPSHOT_FILE"'
_RG_HEAD = (
    "\n"
    "      # Check for rg availability\n"
    '      echo "# Check for rg availability" >> "$SNAPSHOT_FILE"\n'
    '      echo "if ! (unalias rg 2>/dev/null; command -v rg) >/dev/null 2>&1; then" >> '
    '"$SNAPSHOT_FILE"\n'
    "  "
)
_RG_TAIL = '\n      echo "fi" >> "$SNAPSHOT_FILE"\n  '
_FIND_GREP_HEAD = (
    "\n"
    "      # Shadow find/grep with embedded bfs/ugrep (ant-native only)\n"
    '      echo "# Shadow find/grep with embedded bfs/ugrep" >> "$SNAPSHOT_FILE"\n'
    "      cat >> \"$SNAPSHOT_FILE\" << 'FIND_GREP_FUNC_END'\n"
)
_FIND_GREP_TAIL = "\nFIND_GREP_FUNC_END\n    "
_OUTRO = (
    "\n\n"
    "      # Exit silently on success, only report errors\n"
    '      if [ ! -f "$SNAPSHOT_FILE" ]; then\n'
    '        echo "Error: Snapshot file was not created at $SNAPSHOT_FILE" >&2\n'
    "        exit 1\n"
    "      fi\n"
    "    "
)
_VCS_DIRS = (".git", ".svn", ".hg", ".bzr", ".jj", ".sl")
_GREP_PASSTHROUGH = (
    "-*-filter*",
    "-*-pager*",
    "-*-view*",
    "-*-format-open*",
    "-*-config*",
    "---*",
    "-@*",
    "-*-save-config*",
    "-[Zz]*",
    "-[!-]*[Zz]*",
    "--null",
    "--null-data",
)


def _shadow_function(
    name: str,
    argv0: str,
    claude_bin: str,
    args: tuple[str, ...] = (),
    passthrough: tuple[str, ...] = (),
) -> str:
    """Claude Code's `lyo`: a shell function that runs its embedded tool under ARGV0."""
    call = f'{" ".join(args)} ${{1+"$@"}}' if args else '${1+"$@"}'
    guard = (
        [
            "  local _cc_a",
            '  for _cc_a in ${1+"$@"}; do',
            f'    case "$_cc_a" in {"|".join(passthrough)}) command {name} ${{1+"$@"}}; return ;; esac',
            "  done",
        ]
        if passthrough
        else []
    )
    lines = [
        f"function {name} {{",
        *guard,
        '  local _cc_bin="${CLAUDE_CODE_EXECPATH:-}"',
        f"  [[ -x $_cc_bin ]] || _cc_bin={quote(claude_bin)}",
        f'  if [[ ! -x $_cc_bin ]]; then command {name} ${{1+"$@"}}; return; fi',
        "  if [[ -n ${ZSH_VERSION:-} ]]; then",
        f'    ARGV0={argv0} "$_cc_bin" {call}',
        '  elif [[ "$OSTYPE" == "msys" ]] || [[ "$OSTYPE" == "cygwin" ]] || [[ "$OSTYPE" == "win32" ]]; then',
        f'    ARGV0={argv0} "$_cc_bin" {call}',
        "  else",
        f'    (exec -a {argv0} "$_cc_bin" {call})',
        "  fi",
        "}",
    ]
    return "\n".join(lines)


class SnapshotCall:
    """The values that vary in Claude Code's snapshot-building script."""

    __slots__ = (
        "snapshot",
        "rc_file",
        "rg_argv0",
        "rg_alias",
        "claude_bin",
        "find_grep",
        "path",
        "marker",
    )

    def __init__(
        self,
        snapshot: str,
        rc_file: str | None,
        rg_argv0: str | None,
        rg_alias: str | None,
        claude_bin: str,
        find_grep: bool,
        path: str,
        marker: str,
    ) -> None:
        self.snapshot = snapshot
        self.rc_file = rc_file  # None: "# No user config file to source"
        self.rg_argv0 = rg_argv0  # rg as a function of the claude binary ...
        self.rg_alias = rg_alias  # ... or as an alias to a system rg (exactly one is set)
        self.claude_bin = claude_bin
        self.find_grep = find_grep
        self.path = path
        self.marker = marker

    def render(self) -> str:
        """The script Claude Code would generate for these values."""
        source = (
            f'source "{self.rc_file}" < /dev/null'
            if self.rc_file is not None
            else "# No user config file to source"
        )
        if self.rg_argv0 is not None:
            rg = (
                "\n      cat >> \"$SNAPSHOT_FILE\" << 'RIPGREP_FUNC_END'\n  "
                + _shadow_function("rg", self.rg_argv0, self.claude_bin)
                + "\nRIPGREP_FUNC_END\n    "
            )
        else:
            rg = f"\n      echo '  alias rg='\"'{self.rg_alias}'\" >> \"$SNAPSHOT_FILE\"\n    "
        tools = ""
        if self.find_grep:
            shadows = [
                "unalias find 2>/dev/null || true",
                "unalias grep 2>/dev/null || true",
                _shadow_function(
                    "find", "bfs", self.claude_bin, ("-S", "dfs", "-regextype", "findutils-default")
                ),
                _shadow_function(
                    "grep",
                    "ugrep",
                    self.claude_bin,
                    ("-G", "--ignore-files", "--hidden", "-I")
                    + tuple(f"--exclude-dir={d}" for d in _VCS_DIRS),
                    _GREP_PASSTHROUGH,
                ),
            ]
            tools = _FIND_GREP_HEAD + "\n".join(shadows) + _FIND_GREP_TAIL
        path_part = (
            "\n\n      # Add PATH to the file\n"
            f"      cat >> \"$SNAPSHOT_FILE\" << '{self.marker}'\n"
            f"export PATH={quote(self.path)}\n"
            f"{self.marker}\n  "
        )
        tail = _RG_HEAD + rg + _RG_TAIL + tools + path_part
        state = _USER_STATE if self.rc_file is not None else _NO_USER_STATE
        return (
            f"SNAPSHOT_FILE={quote(self.snapshot)}\n      {source}"
            + _SNAPSHOT_INTRO
            + state
            + "\n\n      "
            + tail
            + _OUTRO
        )


def _between(text: str, before: str, after: str) -> str | None:
    start = text.find(before)
    if start < 0:
        return None
    start += len(before)
    end = text.find(after, start)
    return None if end < 0 else text[start:end]


def _word_line(text: str, before: str) -> str | None:
    """The value of the word after the first `before`, which must end its line."""
    start = text.find(before)
    if start < 0:
        return None
    word = read_word(text, start + len(before))
    if word is None or not text.startswith("\n", word[1]):
        return None
    return word[0]


def parse_snapshot_script(script: str, home: str, config_dir: str) -> SnapshotCall | None:
    """The values of a genuine snapshot-building script, or None for anything else."""
    if not isinstance(script, str) or not script.startswith("SNAPSHOT_FILE="):
        return None
    snapshot = _word_line(script, "SNAPSHOT_FILE=")
    if snapshot is None or not _is_snapshot_path(snapshot, config_dir):
        return None
    rc_candidate = home.rstrip("/") + "/.bashrc"
    rc_file = rc_candidate if f'\n      source "{rc_candidate}" < /dev/null\n' in script else None
    if not home.startswith("/") or any(c in rc_candidate for c in '"$`\\\n'):
        rc_file = None
    claude_bin = _word_line(script, "  [[ -x $_cc_bin ]] || _cc_bin=") or ""
    rg_argv0 = (
        _between(script, "\n    (exec -a ", ' "$_cc_bin"')
        if "'RIPGREP_FUNC_END'" in script
        else None
    )
    if rg_argv0 is not None and not (rg_argv0 and all(c in _NAME for c in rg_argv0)):
        return None
    rg_alias = None
    if rg_argv0 is None:
        rg_alias = _between(script, "echo '  alias rg='\"'", '\'" >> "$SNAPSHOT_FILE"\n')
        # Inside double quotes in the build call: nothing that expands, no line breaks.
        if rg_alias is None or any(c in rg_alias for c in '"$`!\n'):
            return None
    suffix = _between(script, "<< 'PATH_END_", "'\nexport PATH=")
    if suffix is None or not 0 < len(suffix) <= 16 or not all(c in _BASE36 for c in suffix):
        return None
    marker = "PATH_END_" + suffix
    path = _word_line(script, "'\nexport PATH=")
    # A line break inside a value could end a here-document early and turn data into code.
    if path is None or "\n" in path or "\n" in claude_bin:
        return None
    call = SnapshotCall(
        snapshot=snapshot,
        rc_file=rc_file,
        rg_argv0=rg_argv0,
        rg_alias=rg_alias,
        claude_bin=claude_bin,
        find_grep="'FIND_GREP_FUNC_END'" in script,
        path=path,
        marker=marker,
    )
    # Every variable part sits on a line of its own; the render must match byte for byte.
    return call if call.render() == script else None


def is_snapshot_call(args: list[str], home: str, config_dir: str) -> bool:
    """Claude Code's `$SHELL -c -l SNAPSHOT_SCRIPT`, exactly."""
    return (
        len(args) == 3
        and args[:2] == ["-c", "-l"]
        and parse_snapshot_script(args[2], home, config_dir) is not None
    )
