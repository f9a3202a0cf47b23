"""`expacti-sh`: a stand-in for bash that gates every `-c` command, then becomes the real shell.

For its caller it behaves like bash: same arguments, same exit code, same output, because
once the broker allows the command the process *is* the real bash (`os.execv`, by absolute
path, with the exact same arguments). A denied command never starts: the reason goes to
stderr and the exit status is 126.

What is gated:
- `-c STRING` (also `-lc`, `-c -l`, extra words as $0 $1 ...): STRING. Claude Code's per-call
  wrapper is unwrapped to the command it evals (scored, shown, whitelisted and audited as
  that); its snapshot-building call and `-c env` pass as audited agent plumbing.
- a script file: the invocation itself (`bash deploy.sh`); the file's text is not on the
  command line.
- commands piped into the shell (`... | bash`): the commands themselves. The shim reads stdin
  to its end (up to 1 MiB, else deny), gates that text, and on allow hands bash an in-memory
  file with exactly those bytes as its stdin.
- an interactive shell (a terminal on stdin, no -c, no file) is not gated by the shim: inside
  an `expacti run` session (EXPACTI_SESSION set) it starts with that session's bash
  integration, which gates each typed line at Enter; elsewhere it is plain bash, and the shim
  says so on stderr.

Hot path: imports stay within wire.py's C-level modules (see benchmarks/bench_shim.py).
"""

from __future__ import annotations

import os
import sys

from expacti_cli.shim import args as bash_args
from expacti_cli.shim import claude, decide, wire

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

NOT_EXECUTED = 126  # errors.ExitStatus.NOT_EXECUTED (importing errors would pull in enum)
DEFAULT_REAL_SHELL = "/bin/bash"
ENV_REAL_SHELL = "EXPACTI_REAL_SHELL"
ENV_EXEC_MARK = "EXPACTI_SHIM_EXEC"  # "<pid>:<args digest>" set just before exec
MAX_PIPED = 1024 * 1024  # commands piped into the shell that we read, show and replay


class ShimRefused(Exception):
    """The shim will not run anything (the message says why)."""


def _printable(text: str) -> str:
    """`text` with control and invisible characters as escapes (it goes to a terminal)."""
    return "".join(
        c
        if c.isprintable() or c == " "
        else (f"\\x{ord(c):02x}" if ord(c) < 256 else f"<U+{ord(c):04X}>")
        for c in text
    )


def _say(message: str) -> None:
    try:
        os.write(2, f"expacti: {_printable(message)}\n".encode("utf-8", "backslashreplace"))
    except OSError:
        pass


def _args_digest(args: list[str]) -> str:
    return wire.command_hash("\0".join(args), "")[:16]


def real_shell(own_path: str, environ: dict[str, str] | os._Environ[str]) -> str:
    """The real shell to exec: absolute, executable, and never this shim again."""
    shell = environ.get(ENV_REAL_SHELL, "").strip() or DEFAULT_REAL_SHELL
    if not os.path.isabs(shell):
        raise ShimRefused(f"{ENV_REAL_SHELL} must be an absolute path, not {shell!r}")
    resolved = os.path.realpath(shell)
    if own_path and resolved == os.path.realpath(own_path):
        raise ShimRefused(f"{ENV_REAL_SHELL} points at the shim itself ({shell}); refusing to loop")
    if not os.access(resolved, os.X_OK) or os.path.isdir(resolved):
        raise ShimRefused(f"the real shell {shell} is not an executable file")
    return shell


def _check_not_looping(args: list[str]) -> None:
    """Refuse when a shim exec'd this very process with these very arguments: the real
    shell is (another copy of) the shim. A nested shell started by a command has another
    pid, so it is gated normally."""
    mark = os.environ.get(ENV_EXEC_MARK, "")
    if mark and mark == f"{os.getpid()}:{_args_digest(args)}":
        raise ShimRefused(
            f"the real shell turned out to be a shim again (loop); set {ENV_REAL_SHELL} to bash"
        )


def _exec(
    shell: str,
    argv0: str,
    args: list[str],
    keep_fd: int | None = None,
    stdin_bytes: bytes | None = None,
) -> NoReturn:
    os.environ[ENV_EXEC_MARK] = f"{os.getpid()}:{_args_digest(args)}"
    if stdin_bytes is not None:
        _replace_stdin(stdin_bytes)
    if keep_fd is not None:
        # The broker sees this connection as the gated command's session for as long as the
        # command runs: processes under it cannot approve anything.
        os.set_inheritable(keep_fd, True)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(shell, [argv0, *args])
    except OSError as exc:
        _say(f"cannot run {shell}: {exc.strerror}")
        os._exit(NOT_EXECUTED)


def _read_stdin(limit: int) -> bytes | None:
    """Everything on stdin (None when it is longer than `limit`)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _replace_stdin(data: bytes) -> None:
    """Make fd 0 an in-memory file holding exactly `data` (what was read and approved)."""
    fd = os.memfd_create("expacti-stdin")
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    os.dup2(fd, 0)
    os.close(fd)


def _exec_interactive(shell: str, argv0: str, args: list[str]) -> NoReturn:
    """An interactive shell: inside an `expacti run` session, with the session's shell
    integration (typed lines gated at Enter); elsewhere plain, and we say it is not gated."""
    if os.environ.get("EXPACTI_SESSION", "").strip():
        from expacti_cli.pty.integration import bash_launch  # once per interactive shell

        launch = bash_launch([shell, *args], os.urandom(16).hex())
        if launch is not None:
            os.environ.update(launch.env)
            _exec(shell, argv0, launch.argv[1:])
    if os.isatty(2):
        _say("interactive shell: typed commands are not gated here (`expacti run` gates them)")
    _exec(shell, argv0, args)


def _claude_dirs(environ: dict[str, str] | os._Environ[str]) -> tuple[str, str]:
    home = environ.get("HOME", "") or os.path.expanduser("~")
    config = environ.get("CLAUDE_CONFIG_DIR", "").strip() or os.path.join(home, ".claude")
    return home, config


def _on_queued(queued: dict[str, Any]) -> None:
    request = queued["request"]
    if not os.isatty(2):
        return  # an agent reads our stderr: no chatter, only the outcome
    short = str(request.get("id", ""))[:8]
    level, score = request.get("level", "?"), request.get("score", "?")
    _say(f"waiting for approval ({level} {score}): run `expacti approve` [request {short}]")


def gated_text(
    invocation: bash_args.Invocation, args: list[str], shell: str, config_dir: str
) -> tuple[str, str]:
    """What the broker scores, shows, matches and audits for this invocation, and a note for
    the reviewer ("" when none)."""
    if invocation.mode == bash_args.COMMAND and invocation.command is not None:
        # With CLAUDE_CODE_SHELL_PREFIX (the user's own setting, in our environment), Claude
        # Code runs `PREFIX 'WRAPPER'`: only that exact form is unwrapped, and the reviewer is
        # told the command runs through the prefix program.
        prefix = os.environ.get("CLAUDE_CODE_SHELL_PREFIX") or None
        wrapper = claude.unwrap_call(invocation.command, config_dir, prefix=prefix)
        if wrapper is None:
            return invocation.command, ""
        note = f"runs through CLAUDE_CODE_SHELL_PREFIX {wrapper.prefix}" if wrapper.prefix else ""
        return wrapper.command, note
    # A script file (or stdin we cannot replay): the invocation is what a reviewer can see.
    name = os.path.basename(shell) or "bash"
    return " ".join(claude.quote(word) for word in [name, *args]), ""


def run(argv: list[str]) -> int:
    """Gate and exec; returns only when nothing may run (the exit status)."""
    argv0, args = (argv[0] if argv else "expacti-sh"), argv[1:]
    try:
        shell = real_shell(argv0, os.environ)
        _check_not_looping(args)
    except ShimRefused as exc:
        _say(f"{exc}; nothing ran")
        return NOT_EXECUTED
    invocation = bash_args.parse(args, stdin_is_tty=os.isatty(0))
    if invocation.mode == bash_args.NOTHING:
        _exec(shell, argv0, args)
    if invocation.mode == bash_args.INTERACTIVE:
        _exec_interactive(shell, argv0, args)
    try:
        cwd = os.getcwd()
    except OSError as exc:
        _say(f"cannot tell the current directory ({exc.strerror}); nothing ran")
        return NOT_EXECUTED
    home, config_dir = _claude_dirs(os.environ)
    plumbing = None
    if claude.is_env_call(args):
        plumbing = "claude-env"
    elif claude.is_snapshot_call(args, home, config_dir):
        plumbing = "claude-snapshot"
    if plumbing is not None:
        recorded = decide.record_plumbing(
            args[-1],
            plumbing,
            cwd=cwd,
            session=os.environ.get("EXPACTI_SESSION", "").strip(),
            keep_open=True,
        )
        if not recorded.allowed:
            _say(recorded.reason)
            return NOT_EXECUTED
        keep = recorded.connection.fileno() if recorded.connection is not None else None
        _exec(shell, argv0, args, keep_fd=keep)
    text, note = gated_text(invocation, args, shell, config_dir)
    context = os.environ.get("EXPACTI_CONTEXT", "").strip()
    if note:
        context = f"{context} ({note})" if context else note
    piped = None
    if invocation.mode == bash_args.SCRIPT and invocation.script is None:
        if not hasattr(os, "memfd_create"):
            pass  # cannot replay stdin here: gate the bare invocation as before
        elif (piped := _read_stdin(MAX_PIPED)) is None:
            _say(f"more than {MAX_PIPED} bytes of commands piped into the shell; nothing ran")
            return NOT_EXECUTED
        elif not piped.strip():
            _exec(shell, argv0, args, stdin_bytes=piped)  # nothing to run: nothing to ask
        else:
            how = f"commands piped into `{text}`"
            text = piped.decode("utf-8", "surrogateescape")
            context = f"{context} ({how})" if context else how
    verdict = decide.submit(
        text,
        cwd=cwd,
        session=os.environ.get("EXPACTI_SESSION", "").strip(),
        source="shim",
        context=context,
        on_queued=_on_queued,
        keep_open=True,
    )
    if not verdict.allowed:
        what = "timed out" if verdict.decision == "timed_out" else "denied"
        _say(f"{what}: {verdict.reason}")
        return NOT_EXECUTED
    keep = verdict.connection.fileno() if verdict.connection is not None else None
    _exec(shell, argv0, args, keep_fd=keep, stdin_bytes=piped)


def main(argv: list[str] | None = None) -> NoReturn:
    """Console entry point (`expacti-sh`, and the `bash` launcher in shim directories)."""
    try:
        code = run(list(sys.argv if argv is None else argv))
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # noqa: BLE001 - a bug must not run the command
        _say(f"internal error ({type(exc).__name__}: {exc}); nothing ran")
        code = NOT_EXECUTED
    sys.exit(code)
