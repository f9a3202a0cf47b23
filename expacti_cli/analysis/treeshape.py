"""Shapes of the tree-sitter-bash tree the walker relies on, and fixes for its quirks."""

from __future__ import annotations

from tree_sitter import Node

# Nodes that hold statements in sequence; redirects on them apply to every command inside.
SEQUENCES = frozenset(
    {
        "program",
        "compound_statement",
        "subshell",
        "do_group",
        "if_statement",
        "elif_clause",
        "else_clause",
        "while_statement",
        "for_statement",
        "c_style_for_statement",
        "case_statement",
        "case_item",
        "function_definition",
        "negated_command",
        "ERROR",
    }
)
STATEMENTS = frozenset(
    {
        "command",
        "redirected_statement",
        "pipeline",
        "list",
        "variable_assignment",
        "variable_assignments",
        "declaration_command",
        "unset_command",
        "test_command",
    }
    | SEQUENCES
)
OPERATORS = frozenset({";", "&&", "||", "&", ";;", ";&", ";;&"})


def split_rightmost(node: Node) -> tuple[list[tuple[Node, str]], Node]:
    """A list's statements before its last one (each with the operator after it), and the
    last one."""
    items: list[Node | str] = []

    def flatten(list_node: Node) -> None:
        for child in list_node.children:
            if not child.is_named:
                if child.type in OPERATORS:
                    items.append(child.type)
            elif child.type == "list":
                flatten(child)
            elif child.type != "comment":
                items.append(child)

    flatten(node)
    statements = [i for i in items if not isinstance(i, str)]
    operators = [i for i in items if isinstance(i, str)]
    return list(zip(statements[:-1], operators, strict=False)), statements[-1]


def split_leftmost(node: Node) -> tuple[Node | None, list[tuple[str, Node]]]:
    """A list's first statement, and the (operator, statement) pairs after it."""
    lead: Node | None = None
    rest: list[tuple[str, Node]] = []
    op = ""
    for child in node.children:
        if not child.is_named:
            if child.type in OPERATORS:
                op = child.type
            continue
        if child.type == "comment":
            continue
        if lead is None:
            if child.type == "list":
                lead, inner = split_leftmost(child)
                rest.extend(inner)
            else:
                lead = child
        else:
            rest.append((op, child))
    return lead, rest


def glued_newline(node: Node) -> bool:
    """A word tree-sitter glued across a break bash would have ended the command at.

    An unquoted word spanning a newline (`$` + newline + `rm`), or a concatenation whose
    pieces are not adjacent (`echo ``` + newline + `rm` comes out as one word).
    """
    t = node.type
    if t == "concatenation":
        end = -1
        for child in node.children:
            if end >= 0 and child.start_byte != end:
                return True
            end = child.end_byte
            if glued_newline(child):
                return True
        return False
    if t not in ("word", "simple_expansion", "number"):
        return False
    raw = node.text or b""
    return b"\n" in raw.replace(b"\\\n", b"")


def suspicious_word(word_value: str, node: Node) -> bool:
    """Cheap pre-check before glued_newline: only words with a newline or pieces qualify."""
    return "\n" in word_value or node.type == "concatenation"
