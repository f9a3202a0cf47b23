"""The approval broker: a local process that queues commands for a human decision.

protocol.py  the JSON-lines messages (versioned) and the command hash a decision binds to
server.py    the broker process (asyncio): queue, timeouts, audit records, reviewers
gate.py      what the broker decides alone: risk score + rules + policy
client.py    connecting (and starting the broker on demand) from the CLI
peers.py     SO_PEERCRED and /proc ancestry, for the no-self-approval check
sockets.py   the socket, lock and log paths under the runtime directory
"""
