"""The one tree-sitter-bash parser, built once at import, and helpers to read its tree."""

from __future__ import annotations

import tree_sitter_bash
from tree_sitter import Language, Node, Parser, Tree

_LANGUAGE = Language(tree_sitter_bash.language())
# Building a Parser costs far more than parsing a short command: do it once per process.
_PARSER = Parser(_LANGUAGE)


def parse(source: bytes) -> Tree:
    """Parse shell source into a tree-sitter tree (never raises on bad syntax)."""
    return _PARSER.parse(source)


def node_text(node: Node) -> str:
    """The source text of a node, lossless for invalid UTF-8 (surrogateescape)."""
    raw = node.text
    if raw is None:
        return ""
    return raw.decode("utf-8", "surrogateescape")


def first_error(root: Node) -> Node | None:
    """The first ERROR or MISSING node in source order (only called when has_error)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing or node.type == "ERROR":
            return node
        if node.has_error:
            stack.extend(reversed(node.children))
    return None


def describe_error(root: Node, source: bytes, what: str = "command") -> str:
    """A human-readable syntax error message naming where the parser gave up."""
    node = first_error(root)
    if node is None:
        return f"syntax error in {what}"
    row, col = node.start_point
    if node.is_missing:
        return f"syntax error in {what}: missing {node.type!r} at line {row + 1}, column {col + 1}"
    near = source[node.start_byte : node.start_byte + 30].decode("utf-8", "replace")
    near = near.split("\n", 1)[0]
    return f"syntax error in {what} at line {row + 1}, column {col + 1} near {near!r}"
