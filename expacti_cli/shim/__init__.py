"""The shell shim: `expacti-sh` (and `expacti shell`) stands in for bash and gates `-c` commands.

wire.py      the broker protocol with C-level stdlib modules only (the shim must start fast)
decide.py    submit one command and wait for the broker's verdict
args.py      how bash reads its arguments: which string a `-c` invocation runs
claude.py    Claude Code's plumbing: the snapshot call, `-c env`, the per-call eval wrapper
main.py      the `expacti-sh` entry point: guard, gate, then exec the real shell
launcher.py  writes a `bash` launcher with a fast interpreter line, for shim directories

Nothing here may import rich, tinydb, tree-sitter, prompt_toolkit or click on the hot path:
the broker does the scoring, the shim only asks.
"""
