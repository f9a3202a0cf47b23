"""Network and remote: HTTP clients, downloads, ssh/scp, sockets.

`ssh host CMD` is judged here as a connection; the remote command itself is a nested part
scored by its own category (plus the remote-host modifier).
"""

from __future__ import annotations

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories.base import MUTATING, Category, Table, Verdict, entry, flag_value

NAME = "network"

DOWNLOADERS = frozenset({"curl", "wget", "http", "https", "xh", "aria2c", "fetch", "httpie"})
PROGRAMS = DOWNLOADERS | frozenset(
    {"ssh", "scp", "sftp", "mosh", "nc", "netcat", "ncat", "socat", "telnet", "ftp", "ping"}
    | {"ping6", "dig", "nslookup", "host", "traceroute", "tracepath", "mtr", "whois", "nmap"}
    | {"ssh-copy-id", "ssh-keyscan", "netstat", "ss", "tcpdump", "wireshark", "tshark", "autossh"}
    | {"rclone", "ngrok", "cloudflared", "tailscale", "openvpn", "wg", "wg-quick", "lftp"}
)

T = Table(
    NAME,
    {
        "lookup": entry(3, "looks up or probes the network", "network lookup"),
        "get": entry(15, "makes an HTTP request", "HTTP request"),
        "download": entry(20, "downloads files", "download", MUTATING),
        "remote-command": entry(
            15, "runs a command over ssh (scored separately)", "remote command"
        ),
        "send": entry(30, "sends data to a server (POST/PUT/upload)", "HTTP write", MUTATING),
        "delete": entry(40, "sends an HTTP DELETE", "HTTP delete", MUTATING),
        "shell": entry(30, "opens a remote shell", "remote shell", MUTATING),
        "copy": entry(30, "copies files to or from another host", "remote copy", MUTATING),
        "scan": entry(35, "scans or captures network traffic", "network scan"),
        "socket": entry(40, "opens a raw network connection", "raw socket"),
        "tunnel": entry(45, "exposes a local service or opens a tunnel", "tunnel", MUTATING),
        "listen": entry(45, "listens for connections", "listener", MUTATING),
        "key-install": entry(
            45, "installs an ssh key on another host", "ssh key install", MUTATING
        ),
        "bind-shell": entry(85, "connects a shell to a network socket", "network shell", MUTATING),
    },
)

_SEND_FLAGS = frozenset(
    {"data", "data-binary", "data-raw", "data-urlencode", "form", "upload-file", "json"}
)


def _http(part: SimpleCommand) -> Verdict:
    method = flag_value(part, "-X", "--request", "--method").upper()
    if part.program in ("http", "https", "xh", "httpie") and part.positionals:
        first = part.positionals[0].upper()
        method = first if first in ("POST", "PUT", "PATCH", "DELETE") else method
    if method == "DELETE":
        return T("delete")
    if method in ("POST", "PUT", "PATCH") or part.long_flags & _SEND_FLAGS:
        return T("send")
    if part.program == "curl" and part.short_flags & {"d", "F", "T"}:
        return T("send")
    if part.program == "wget" and not ("O" in part.short_flags and flag_value(part, "-O") == "-"):
        return T("download")
    if part.program == "curl" and (part.short_flags & {"o", "O"} or "output" in part.long_flags):
        return T("download", (flag_value(part, "-o", "--output"),))
    if part.program in ("aria2c", "fetch"):
        return T("download")
    return T("get")


def judge(part: SimpleCommand) -> Verdict:
    program = part.program
    if program in DOWNLOADERS:
        return _http(part)
    if program in ("ssh", "autossh", "mosh"):
        if part.short_flags & {"R", "L", "D"} and "N" in part.short_flags:
            return T("tunnel")
        return T("remote-command") if len(part.positionals) > 1 else T("shell")
    if program in ("scp", "sftp", "rclone", "lftp"):
        return T("copy", part.positionals[-1:])
    if program in ("nc", "netcat", "ncat", "socat"):
        if part.short_flags & {"e", "c"} or any("exec:" in w.lower() for w in part.argv):
            return T("bind-shell")
        return T("listen") if "l" in part.short_flags else T("socket")
    if program == "ssh-copy-id":
        return T("key-install")
    if program in ("nmap", "tcpdump", "wireshark", "tshark"):
        return T("scan")
    if program in ("ngrok", "cloudflared", "openvpn", "wg", "wg-quick", "tailscale"):
        return T("tunnel")
    if program == "telnet" or program == "ftp":
        return T("socket")
    return T("lookup")


CATEGORY = Category(
    NAME,
    "network",
    "talks to other machines: HTTP, downloads, ssh, copies, sockets",
    PROGRAMS,
    judge,
    T.examples,
)
