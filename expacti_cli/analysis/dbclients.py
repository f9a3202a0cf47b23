"""Database clients: where the SQL (or redis / mongo code) and the target are on the argv."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from expacti_cli.analysis.normalize import program_family
from expacti_cli.analysis.words import Word

DB_CLIENTS = frozenset({"psql", "mysql", "sqlite3", "mongosh", "redis-cli"})
DIALECTS = {
    "psql": "sql",
    "mysql": "sql",
    "sqlite3": "sql",
    "mongosh": "mongo",
    "redis-cli": "redis",
}


@dataclass(frozen=True)
class DbInvocation:
    client: str  # normalised: psql, mysql, sqlite3, mongosh, redis-cli
    dialect: str  # sql, mongo, redis
    code: tuple[str, ...] = ()  # statements given on the command line
    files: tuple[str, ...] = ()  # script files it reads (-f, .js files): content unknown
    target: str = ""  # database / URL / host as written
    reads_stdin: bool = False  # no code on the command line: statements come from stdin


def db_client(program: str) -> str:
    """The normalised client name for a program, or ""."""
    family = program_family(program)
    return family if family in DB_CLIENTS else ""


def _join_target(host: str, db: str) -> str:
    if host and db and host not in db:
        return f"{host}/{db}"
    return db or host


def _options(
    args: Sequence[Word], value_letters: str, longs: dict[str, str], attached_only: str = ""
) -> tuple[list[tuple[str, str]], list[str]]:
    """Split an argv into (option letter, value) pairs and positionals.

    Short bundles are read like getopt does (`-tAc SQL` is -t -A -c SQL); `longs` maps long
    names (`--command`) to their letter; letters in `attached_only` take only an attached value
    (mysql `-pSECRET`).
    """
    opts: list[tuple[str, str]] = []
    positionals: list[str] = []
    i, n = 0, len(args)
    while i < n:
        word = args[i]
        w = word.value
        i += 1
        if word.dynamic or len(w) < 2 or w[0] != "-":
            positionals.append(w)
            continue
        if w == "--":
            positionals.extend(a.value for a in args[i:])
            break
        if w.startswith("--"):
            name, eq, value = w.partition("=")
            letter = longs.get(name)
            if letter is None:
                continue
            if not eq:
                value = args[i].value if i < n else ""
                i += 1
            opts.append((letter, value))
            continue
        for k in range(1, len(w)):
            ch = w[k]
            if ch in attached_only:
                opts.append((ch, w[k + 1 :]))
                break
            if ch in value_letters:
                rest = w[k + 1 :]
                if not rest:
                    rest = args[i].value if i < n else ""
                    i += 1
                opts.append((ch, rest))
                break
    return opts, positionals


_PSQL_LONGS = {
    "--command": "c",
    "--dbname": "d",
    "--file": "f",
    "--host": "h",
    "--port": "p",
    "--username": "U",
    "--set": "v",
    "--variable": "v",
    "--output": "o",
    "--pset": "P",
    "--field-separator": "F",
    "--record-separator": "R",
    "--table-attr": "T",
    "--log-file": "L",
}


def _psql(args: Sequence[Word]) -> DbInvocation:
    opts, positionals = _options(args, "cdfhpUvoPFRTL", _PSQL_LONGS)
    code = [v for k, v in opts if k == "c"]
    files = [v for k, v in opts if k == "f"]
    db = next((v for k, v in opts if k == "d"), "")
    host = next((v for k, v in opts if k == "h"), "")
    if not db and positionals:
        db = positionals[0]
    return DbInvocation(
        "psql",
        "sql",
        tuple(code),
        tuple(files),
        _join_target(host, db),
        reads_stdin=not code and not files,
    )


_MYSQL_LONGS = {
    "--execute": "e",
    "--database": "D",
    "--host": "h",
    "--user": "u",
    "--port": "P",
    "--socket": "S",
}


def _mysql(client: str, args: Sequence[Word]) -> DbInvocation:
    opts, positionals = _options(args, "eDhuPS", _MYSQL_LONGS, attached_only="p")
    code = [v for k, v in opts if k == "e"]
    db = next((v for k, v in opts if k == "D"), "")
    host = next((v for k, v in opts if k == "h"), "")
    if not db and positionals:
        db = positionals[0]
    return DbInvocation(
        "mysql", "sql", tuple(code), (), _join_target(host, db), reads_stdin=not code
    )


def _sqlite3(args: Sequence[Word]) -> DbInvocation:
    code: list[str] = []
    files: list[str] = []
    positionals: list[str] = []
    i, n = 0, len(args)
    value_opts = ("-cmd", "--cmd", "-separator", "-nullvalue", "-newline", "-init", "-vfs")
    while i < n:
        w = args[i].value
        if w in value_opts:
            if i + 1 < n:
                if w in ("-cmd", "--cmd"):
                    code.append(args[i + 1].value)
                elif w == "-init":
                    files.append(args[i + 1].value)
            i += 2
            continue
        if not w.startswith("-") or args[i].dynamic:
            positionals.append(w)
        i += 1
    db = positionals[0] if positionals else ""
    code.extend(positionals[1:])
    has_sql = len(positionals) > 1
    return DbInvocation("sqlite3", "sql", tuple(code), tuple(files), db, reads_stdin=not has_sql)


def _mongosh(args: Sequence[Word]) -> DbInvocation:
    code: list[str] = []
    files: list[str] = []
    target = host = ""
    i, n = 0, len(args)
    value_opts = (
        "--username",
        "-u",
        "--password",
        "-p",
        "--port",
        "--authenticationDatabase",
        "--authenticationMechanism",
        "--tlsCAFile",
        "--tlsCertificateKeyFile",
        "--apiVersion",
    )
    while i < n:
        w = args[i].value
        if w == "--eval" or w.startswith("--eval="):
            if "=" in w:
                code.append(w.split("=", 1)[1])
                i += 1
            else:
                if i + 1 < n:
                    code.append(args[i + 1].value)
                i += 2
            continue
        if w in ("--file", "-f"):
            if i + 1 < n:
                files.append(args[i + 1].value)
            i += 2
            continue
        if w == "--host" or w.startswith("--host="):
            host = w.split("=", 1)[1] if "=" in w else (args[i + 1].value if i + 1 < n else "")
            i += 1 if "=" in w else 2
            continue
        if w in value_opts:
            i += 2
            continue
        if not w.startswith("-") or args[i].dynamic:
            if w.endswith(".js"):
                files.append(w)
            elif not target:
                target = w
        i += 1
    return DbInvocation(
        "mongosh",
        "mongo",
        tuple(code),
        tuple(files),
        _join_target(host, target),
        reads_stdin=not code and not files,
    )


_REDIS_VALUE_OPTS = frozenset(
    "-h -p -a -s -u -n -r -i -d -D --user --pass --askpass --cacert --cacertdir --cert --key "
    "--sni --tls-ciphers --tls-ciphersuites --pattern --count --quoted-pattern --rdb "
    "--functions-rdb --eval --pipe-timeout --memkeys-samples --replica --pipe -e".split()
)


def _redis(args: Sequence[Word]) -> DbInvocation:
    host = uri = ""
    command: list[str] = []
    files: list[str] = []
    i, n = 0, len(args)
    scan = False
    while i < n:
        w = args[i].value
        if command:
            command.append(w)
            i += 1
            continue
        if w == "-h" and i + 1 < n:
            host = args[i + 1].value
        elif w == "-u" and i + 1 < n:
            uri = args[i + 1].value
        elif w == "--eval" and i + 1 < n:
            files.append(args[i + 1].value)
        elif w in ("--scan", "--bigkeys", "--memkeys", "--hotkeys", "--stat", "--latency"):
            scan = True
        if w in _REDIS_VALUE_OPTS and w not in ("--pipe",):
            i += 2
            continue
        if w.startswith("-") and not args[i].dynamic:
            i += 1
            continue
        command.append(w)
        i += 1
    code: tuple[str, ...] = ()
    if command:
        code = (" ".join(_redis_quote(c) for c in command),)
    elif scan:
        code = ("SCAN",)
    return DbInvocation(
        "redis-cli",
        "redis",
        code,
        tuple(files),
        uri or host,
        reads_stdin=not command and not scan and not files,
    )


def _redis_quote(word: str) -> str:
    if word and not any(c.isspace() or c in "\"'" for c in word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def db_invocation(client: str, args: Sequence[Word]) -> DbInvocation:
    """Read a DB client's argv (after the program word)."""
    if client == "psql":
        return _psql(args)
    if client == "mysql":
        return _mysql(client, args)
    if client == "sqlite3":
        return _sqlite3(args)
    if client == "mongosh":
        return _mongosh(args)
    return _redis(args)
