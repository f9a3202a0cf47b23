"""Static decoding of payloads (never executed): what `echo ... | base64 -d` would print.

Used to show a reviewer what an obfuscated command really runs, and to analyse the decoded
text as code when it is fed to a shell.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from expacti_cli.analysis.words import Word, decode_escapes

PREVIEW_LIMIT = 2000

# Programs whose output is a decoded or fetched payload: piping them into a shell hides code.
DECODERS = frozenset({"base64", "base32", "xxd", "openssl", "uudecode", "gunzip", "zcat", "rev"})
FETCHERS = frozenset({"curl", "wget", "fetch", "http", "https", "nc", "ncat"})


def is_decoder(program: str, args: Sequence[str]) -> bool:
    """base64 -d, xxd -r, openssl ... -d, gunzip, rev: output that is not what was written."""
    if program in ("base64", "base32"):
        return any(a in ("-d", "--decode", "-D") or (a.startswith("-") and "d" in a) for a in args)
    if program == "xxd":
        return any(a.startswith("-") and "r" in a for a in args)
    if program == "openssl":
        return any(a in ("-d", "-base64", "-a", "base64") for a in args)
    return program in DECODERS


def _printable(text: str) -> bool:
    return all(ch.isprintable() or ch in "\n\t\r" for ch in text)


def _bytes_to_text(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if _printable(text) else None


def decode_base64(text: str) -> str | None:
    compact = "".join(text.split())
    if not compact:
        return None
    try:
        raw = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=False)
    except (binascii.Error, ValueError):
        return None
    return _bytes_to_text(raw)


def decode_base32(text: str) -> str | None:
    compact = "".join(text.split()).upper()
    try:
        raw = base64.b32decode(compact + "=" * (-len(compact) % 8))
    except (binascii.Error, ValueError):
        return None
    return _bytes_to_text(raw)


def decode_hex(text: str) -> str | None:
    compact = "".join(text.split())
    if compact.lower().startswith("0x"):
        compact = compact[2:]
    compact = compact.replace("\\x", "")
    try:
        raw = bytes.fromhex(compact)
    except ValueError:
        return None
    return _bytes_to_text(raw)


def echo_output(args: Sequence[Word]) -> tuple[str, bool]:
    """What `echo ARGS` prints, and whether an escape hid characters (echo -e '\\x72')."""
    i = 0
    interpret = False
    newline = True
    while i < len(args) and args[i].value[:1] == "-" and set(args[i].value[1:]) <= set("neE"):
        if len(args[i].value) < 2:
            break
        flags = args[i].value[1:]
        interpret = ("e" in flags) or (interpret and "E" not in flags)
        newline = newline and "n" not in flags
        i += 1
    text = " ".join(a.value for a in args[i:])
    numeric = False
    if interpret:
        text, numeric = decode_escapes(text, octal_needs_zero=True)
    return text + ("\n" if newline else ""), numeric


def printf_output(args: Sequence[Word]) -> tuple[str, bool]:
    """What `printf FORMAT ARGS` prints (only %s/%b/%c/%d are filled in)."""
    i = 0
    if args and args[0].value == "--":
        i = 1
    if i >= len(args):
        return "", False
    fmt, numeric = decode_escapes(args[i].value)
    values = [a.value for a in args[i + 1 :]]
    if "%" not in fmt:
        return fmt, numeric
    out: list[str] = []
    k = 0
    j = 0
    while j < len(fmt):
        ch = fmt[j]
        if ch == "%" and j + 1 < len(fmt):
            spec = fmt[j + 1]
            if spec == "%":
                out.append("%")
            elif spec in "sbcdi":
                value = values[k] if k < len(values) else ""
                k += 1
                if spec == "b":
                    value, esc = decode_escapes(value, octal_needs_zero=True)
                    numeric = numeric or esc
                out.append(value[:1] if spec == "c" else value)
            else:
                out.append(fmt[j : j + 2])
            j += 2
            continue
        out.append(ch)
        j += 1
    return "".join(out), numeric


def decoder_output(program: str, args: Sequence[str], stdin: str) -> tuple[str | None, str]:
    """(decoded text, kind) for a decoder fed literal stdin; (None, kind) when undecodable."""
    if program == "base64" or (program == "openssl" and ("base64" in args or "-a" in args)):
        return decode_base64(stdin), "base64"
    if program == "base32":
        return decode_base32(stdin), "base32"
    if program == "xxd":
        return decode_hex(stdin), "hex"
    if program == "rev":
        return "\n".join(line[::-1] for line in stdin.split("\n")), "reversed text"
    return None, program


def preview(kind: str, text: str) -> str:
    """A note for Analysis.notes; long payloads say how long they were."""
    body = text.strip("\n")
    if len(body) > PREVIEW_LIMIT:
        body = f"{body[:PREVIEW_LIMIT]}... ({len(body)} characters in all)"
    return f"decoded {kind}: {body}"
