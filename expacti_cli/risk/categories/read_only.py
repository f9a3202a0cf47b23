"""Read-only: looking at files, text and the system without changing anything."""

from __future__ import annotations

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories.base import MUTATING, Category, Table, Verdict, entry

NAME = "read_only"

PROGRAMS = frozenset(
    """
    ls ll la dir vdir cat tac less more most head tail grep egrep fgrep rg ag ack fd tree pwd
    echo printf wc sort uniq cut tr diff cmp comm file stat du df which whereis type whoami id
    hostname uname date cal uptime man help info tldr jq yq column basename dirname realpath
    readlink sha1sum sha256sum sha512sum md5sum md5 cksum b2sum true false test [ [[ sleep cd
    pushd popd dirs alias unalias hash xxd hexdump od strings nl rev fold fmt paste join seq
    bat batcat expand unexpand look locate mdfind zcat zgrep zless bzcat xzcat base64 base32
    iconv envsubst tput clear reset stty tty printenv env set declare local export unset
    shift exit return read wait jobs fg bg times ulimit getconf lsb_release sw_vers arch nproc
    groups last w who users finger locale expacti sed awk gawk mawk nawk history
    """.split()
)

T = Table(
    NAME,
    {
        "read": entry(2, "reads files or prints information", "read-only command"),
        "find": entry(3, "searches files", "file search"),
        "shell-state": entry(2, "changes shell state only", "shell builtin"),
        "sed-i": entry(20, "edits files in place", "in-place file edit", MUTATING),
        "awk-code": entry(25, "awk program runs commands or writes files", "awk program", MUTATING),
        "history-clear": entry(45, "clears the shell history", "history wipe", MUTATING),
        "assignment": entry(1, "variable assignment", "variable assignment"),
    },
)

_AWK_CODE = ("system(", "| getline", '|"', "print >", "printf >", "print>", ">>")


def judge(part: SimpleCommand) -> Verdict:
    program = part.program
    if program == "sed":
        if (
            "i" in part.short_flags
            or "in-place" in part.long_flags
            or any(word.startswith("-i") for word in part.argv[1:])
        ):
            return T("sed-i", part.positionals[1:])
        return T("read")
    if program in ("awk", "gawk", "mawk", "nawk"):
        script = part.positionals[0] if part.positionals else ""
        if any(marker in script for marker in _AWK_CODE) or "i" in part.short_flags:
            return T("awk-code", part.positionals[1:])
        return T("read")
    if program == "history" and ("c" in part.short_flags or "d" in part.short_flags):
        return T("history-clear")
    if program in ("cd", "pushd", "popd", "export", "unset", "set", "alias", "declare", "local"):
        return T("shell-state")
    return T("read")


CATEGORY = Category(
    NAME,
    "read-only",
    "reads files, searches text, prints information; changes nothing",
    PROGRAMS,
    judge,
    T.examples,
)
