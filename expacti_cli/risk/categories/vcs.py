"""Version control: git (and gh, hg, svn). Reading is free; rewriting history is not."""

from __future__ import annotations

from expacti_cli.analysis.model import SimpleCommand
from expacti_cli.risk.categories.base import (
    DESTRUCTIVE,
    MUTATING,
    Category,
    Table,
    Verdict,
    args_after,
    entry,
    has_flag,
    verb,
)

NAME = "vcs"

PROGRAMS = frozenset({"git", "gh", "hg", "svn", "tig", "lazygit", "git-lfs", "glab"})

T = Table(
    NAME,
    {
        "read": entry(5, "read-only git command", "read-only git command"),
        "fetch": entry(8, "fetches from a remote", "git fetch", MUTATING),
        "stage": entry(8, "stages or records local changes", "git staging", MUTATING),
        "commit": entry(12, "records a commit", "git commit", MUTATING),
        "local": entry(15, "changes the local repository", "local git change", MUTATING),
        "pull": entry(20, "pulls and merges remote changes", "git pull", MUTATING),
        "history": entry(30, "rewrites local history", "history rewrite", MUTATING),
        "push": entry(25, "pushes to a remote", "push", MUTATING),
        "discard": entry(
            35, "discards uncommitted changes", "discard of local changes", DESTRUCTIVE
        ),
        "branch-delete": entry(
            35, "deletes a branch, tag or stash", "branch deletion", DESTRUCTIVE
        ),
        "remote-delete": entry(
            45, "deletes a remote branch or tag", "remote branch deletion", DESTRUCTIVE
        ),
        "reset-hard": entry(
            45, "git reset --hard discards uncommitted work", "hard reset", DESTRUCTIVE
        ),
        "clean": entry(
            45, "git clean deletes untracked files", "untracked file deletion", DESTRUCTIVE
        ),
        "rewrite-all": entry(60, "rewrites the whole history", "history rewrite", DESTRUCTIVE),
        "forge-read": entry(5, "reads from the code forge", "read-only forge command"),
        "forge-write": entry(
            20, "creates or edits issues and pull requests", "forge change", MUTATING
        ),
        "forge-merge": entry(40, "merges a pull request", "pull request merge", MUTATING),
        "forge-release": entry(45, "publishes a release or runs a workflow", "release", MUTATING),
        "forge-delete": entry(90, "deletes a repository", "repository deletion", DESTRUCTIVE),
        "forge-api": entry(30, "calls the forge API", "forge API call", MUTATING),
    },
)

GIT_VERBS = frozenset(
    """
    status log diff show branch tag remote fetch pull push add commit checkout switch restore
    merge rebase cherry-pick revert stash reset clean rm mv init clone config describe blame
    rev-parse ls-files ls-remote ls-tree cat-file shortlog reflog gc filter-branch filter-repo
    update-ref worktree submodule bisect grep archive apply am format-patch notes lfs help
    version whatchanged count-objects fsck prune sparse-checkout maintenance replace
    """.split()
)
_GIT_READ = frozenset(
    """
    status log diff show blame describe rev-parse ls-files ls-remote ls-tree cat-file
    shortlog grep help version whatchanged count-objects fsck archive format-patch
    """.split()
)


def _git(part: SimpleCommand) -> Verdict:
    sub = verb(part, GIT_VERBS)
    rest = args_after(part, sub)
    if sub in _GIT_READ or sub == "":
        return T("read")
    if sub == "fetch":
        return T("fetch")
    if sub in ("add", "mv", "rm", "apply", "am", "notes", "sparse-checkout", "lfs"):
        return T("stage")
    if sub in ("commit", "revert", "init", "clone"):
        return T("commit")
    if sub == "pull":
        return T("pull")
    if sub == "push":
        if has_flag(part, "d", ("delete",)) or any(ref.startswith(":") for ref in rest[1:]):
            return T("remote-delete")
        return T("push")
    if sub == "branch":
        if has_flag(part, "dD", ("delete",)):
            return T("branch-delete")
        if has_flag(part, "mMcC", ("move", "copy", "set-upstream-to")):
            return T("local")
        return T("read")
    if sub == "tag":
        if has_flag(part, "d", ("delete",)):
            return T("branch-delete")
        return T("read") if not rest else T("local")
    if sub == "stash":
        if rest[:1] in (("drop",), ("clear",)):
            return T("branch-delete")
        return T("read") if rest[:1] in (("list",), ("show",)) else T("local")
    if sub == "remote":
        return T("read") if not rest or rest[0] in ("show", "get-url") else T("local")
    if sub == "config":
        reads = ("get", "list", "get-all", "get-regexp", "l")
        if has_flag(part, "l", reads) or len(rest) <= 1:
            return T("read")
        if any(word.lower() == "core.hookspath" for word in rest):
            # Pointing git at another hooks directory is writing hooks.
            return T("local", (".git/hooks",), text="sets core.hooksPath")
        return T("local")
    if sub == "reset":
        return T("reset-hard") if "hard" in part.long_flags else T("local")
    if sub == "clean":
        dry = has_flag(part, "n", ("dry-run",))
        return T("read") if dry else T("clean", ("./",))
    if sub in ("checkout", "restore"):
        discards = has_flag(part, "f", ("force", "worktree", "staged")) or "." in rest
        return T("discard") if discards or sub == "restore" or "--" in part.argv else T("local")
    if sub in ("rebase", "reflog", "gc", "prune", "replace", "update-ref"):
        if sub == "reflog" and (not rest or rest[0] == "show"):
            return T("read")
        return T("history")
    if sub in ("filter-branch", "filter-repo"):
        return T("rewrite-all")
    return T("local")


_GH_WRITE_VERBS = frozenset({"create", "edit", "comment", "close", "reopen", "review", "ready"})


def _forge(part: SimpleCommand) -> Verdict:
    positionals = part.positionals
    group = positionals[0] if positionals else ""
    action = positionals[1] if len(positionals) > 1 else ""
    if group == "api":
        method = ""
        for i, word in enumerate(part.argv):
            if word in ("-X", "--method") and i + 1 < len(part.argv):
                method = part.argv[i + 1].upper()
        if method == "DELETE":
            return T("forge-delete", text="deletes through the forge API")
        return T("forge-api") if method not in ("", "GET") else T("forge-read")
    if action == "delete" or (group == "repo" and action in ("archive", "rename")):
        return T("forge-delete")
    if action == "merge":
        return T("forge-merge")
    if group in ("release", "workflow", "run") and action in ("create", "run", "upload", "rerun"):
        return T("forge-release")
    if action in _GH_WRITE_VERBS or group in ("secret", "variable"):
        return T("forge-write")
    return T("forge-read")


def _other(part: SimpleCommand) -> Verdict:
    sub = part.subcommand
    if sub in ("status", "log", "diff", "info", "annotate", "blame", "cat", "ls", ""):
        return T("read")
    if sub in ("push", "commit", "ci"):
        return T("push")
    return T("local")


def judge(part: SimpleCommand) -> Verdict:
    if part.program == "git":
        return _git(part)
    if part.program in ("gh", "glab"):
        return _forge(part)
    if part.program in ("tig", "lazygit", "git-lfs"):
        return T("read") if part.program == "tig" else T("local")
    return _other(part)


CATEGORY = Category(
    NAME,
    "vcs",
    "git and friends: reading is free, pushing and rewriting history are not",
    PROGRAMS,
    judge,
    T.examples,
)
