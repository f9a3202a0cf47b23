"""Permissions: file modes and owners, users and groups."""

from __future__ import annotations

import re

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories.base import DESTRUCTIVE, MUTATING, Category, Table, Verdict, entry

NAME = "permissions"

PROGRAMS = frozenset(
    {"chmod", "chown", "chgrp", "chattr", "setfacl", "umask", "passwd", "chpasswd", "usermod"}
    | {"useradd", "adduser", "userdel", "deluser", "groupadd", "groupdel", "gpasswd", "chsh"}
    | {"setcap", "visudo", "icacls", "takeown"}
)

T = Table(
    NAME,
    {
        "umask": entry(5, "changes the default file mode", "umask change", MUTATING),
        "chmod": entry(20, "changes file modes", "permission change", MUTATING),
        "chgrp": entry(20, "changes file groups", "group change", MUTATING),
        "chown": entry(25, "changes file owners", "ownership change", MUTATING),
        "acl": entry(25, "changes access control lists", "ACL change", MUTATING),
        "chattr": entry(
            30, "changes file attributes (immutable, append-only)", "attribute change", MUTATING
        ),
        "world": entry(
            40, "makes files writable by everyone", "world-writable permission change", MUTATING
        ),
        "user": entry(45, "creates or changes user accounts", "account change", MUTATING),
        "password": entry(50, "changes passwords", "password change", MUTATING),
        "setuid": entry(60, "sets setuid/setgid or capabilities", "privilege bit change", MUTATING),
        "userdel": entry(60, "deletes user accounts or groups", "account deletion", DESTRUCTIVE),
        "sudoers": entry(75, "edits sudoers", "sudoers edit", MUTATING),
    },
)

# 777, 666, o+w, a+w, +w: anyone may write. Modes are octal: the last digit is "others".
_WORLD_WRITABLE = re.compile(r"^(?:[0-7]?[0-7][0-7][2367]|[ugoa]*[ao][ugoa]*\+[rwxXst]*w|\+[rx]*w)")
_SETUID = re.compile(r"^(?:[2-7][0-7]{3}|[ugoa]*\+[rwxX]*s)")


def judge(part: SimpleCommand) -> Verdict:
    program, positionals = part.program, part.positionals
    if program == "chmod":
        mode, files = (positionals[0], positionals[1:]) if positionals else ("", ())
        if _SETUID.match(mode):
            return T("setuid", files)
        if _WORLD_WRITABLE.match(mode):
            return T("world", files)
        return T("chmod", files)
    if program in ("chown", "chgrp"):
        return T(program, positionals[1:])
    if program == "chattr":
        return T("chattr", positionals[1:])
    if program in ("setfacl", "icacls", "takeown"):
        return T("acl", positionals)
    if program == "umask":
        return T("umask")
    if program in ("passwd", "chpasswd"):
        return T("password")
    if program in ("userdel", "deluser", "groupdel"):
        return T("userdel")
    if program == "setcap":
        return T("setuid", positionals[1:])
    if program == "visudo":
        return T("sudoers", ("/etc/sudoers",))
    return T("user")


CATEGORY = Category(
    NAME,
    "permissions",
    "changes file modes, owners, users and groups",
    PROGRAMS,
    judge,
    T.examples,
)
