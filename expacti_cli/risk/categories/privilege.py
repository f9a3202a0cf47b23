"""Privilege and secrets: root shells, keys, password stores, secret managers.

Commands run *through* sudo are judged by their own category plus the elevated modifier;
this category covers the tools whose job is privilege or secrets themselves.
"""

from __future__ import annotations

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories.base import MUTATING, Category, Table, Verdict, entry, has_flag

NAME = "privilege"

ROOT_SHELLS = frozenset({"sudo", "su", "doas", "pkexec", "run0", "sudoedit", "runas"})
PROGRAMS = ROOT_SHELLS | frozenset(
    {"ssh-keygen", "ssh-add", "ssh-agent", "gpg", "gpg2", "security", "pass", "op", "vault"}
    | {"bw", "keyctl", "openssl", "age", "sops", "aws-vault", "chroot", "nsenter", "unshare"}
    | {"capsh", "secret-tool", "gopass", "lpass", "certutil", "keytool", "htpasswd", "doppler"}
    | {"infisical", "chamber", "berglas", "step"}
)

T = Table(
    NAME,
    {
        "info": entry(5, "shows privilege or key information", "privilege information"),
        "crypto": entry(10, "encrypts, hashes or inspects certificates", "crypto operation"),
        "keygen": entry(20, "creates keys or certificates", "key generation", MUTATING),
        "agent": entry(25, "loads keys into an agent", "key agent change", MUTATING),
        "secret-write": entry(45, "stores or changes secrets", "secret change", MUTATING),
        "root-edit": entry(50, "edits a file as root", "root file edit", MUTATING),
        "namespace": entry(50, "enters another root or namespace", "namespace switch", MUTATING),
        "secret-read": entry(60, "reads secrets from a secret store", "secret read"),
        "export-key": entry(70, "exports private keys", "private key export"),
        "root-shell": entry(70, "opens a root shell", "root shell", MUTATING),
    },
)

_SECRET_READ = frozenset(
    {"get", "read", "show", "reveal", "export", "find-generic-password", "lookup"}
)
_SECRET_READ2 = frozenset(
    {"find-internet-password", "dump-keychain", "item", "run", "decrypt", "-d"}
)
_SECRET_WRITE = frozenset(
    {"put", "write", "set", "insert", "edit", "create", "delete", "rm", "patch"}
)


def _secret_store(part: SimpleCommand) -> Verdict:
    words = set(part.positionals[:3])
    if part.program in ("sops", "age") and (
        "d" in part.short_flags or "decrypt" in part.long_flags
    ):
        return T("secret-read")
    if words & _SECRET_READ or words & _SECRET_READ2:
        return T("secret-read")
    if words & _SECRET_WRITE:
        return T("secret-write")
    return T("info")


def judge(part: SimpleCommand) -> Verdict:
    program = part.program
    if program in ROOT_SHELLS:
        if program == "sudoedit" or (program == "sudo" and "e" in part.short_flags):
            return T("root-edit", part.positionals)
        if program == "sudo" and part.short_flags & {"l", "v", "k", "K", "V"}:
            return T("info")
        return T("root-shell")
    if program in ("ssh-keygen",):
        if part.short_flags & {"l", "F", "R", "y", "L"}:
            return T("info")
        return T("keygen")
    if program in ("ssh-add", "ssh-agent"):
        return T("info") if "l" in part.short_flags or "L" in part.short_flags else T("agent")
    if program in ("gpg", "gpg2"):
        if any(flag.startswith("export-secret") for flag in part.long_flags):
            return T("export-key")
        if has_flag(part, "d", ("decrypt",)):
            return T("secret-read", text="decrypts data")
        if has_flag(part, "k", ("list-keys", "list-secret-keys", "fingerprint", "verify")):
            return T("info")
        return T("crypto")
    if program in ("openssl", "certutil", "keytool", "htpasswd", "step"):
        return T("crypto")
    if program in ("chroot", "nsenter", "unshare", "capsh"):
        return T("namespace")
    if program == "ssh-keygen":
        return T("keygen")
    return _secret_store(part)


CATEGORY = Category(
    NAME,
    "privilege/secrets",
    "root shells, keys, password managers and secret stores",
    PROGRAMS,
    judge,
    T.examples,
)
