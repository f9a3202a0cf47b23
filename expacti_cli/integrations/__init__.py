"""Integrations with coding agents that can ask before running a command.

agents.py    each agent's pre-tool-use hook: read its JSON, answer in its format (pure)
hook.py      run one hook: read stdin, decide through the broker, answer (fail closed)
settings.py  write/remove our hook in each agent's settings file, preserving the rest
"""
