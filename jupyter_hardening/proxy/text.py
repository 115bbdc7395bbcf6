"""Config text for Caddy and Apache httpd from a small tree, with each format's quoting.

A proxy config is built as a tree of ``Node`` (a directive, its arguments, maybe a block) and
written by an emitter that quotes every argument for the target format or refuses it. Values are
validated before they get here; the emitter is the last guard: no argument can end a line, open
or close a block, start a comment or be expanded as a variable or placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .options import SnippetError


class Raw(str):
    """An argument of our own that may hold placeholders (``{host}``, ``%{REMOTE_ADDR}s``).

    Written without quoting: only constants of the generators and values validated before they
    were joined to one may be Raw.
    """

    __slots__ = ()


@dataclass(frozen=True)
class Node:
    """One directive with its arguments; with ``block`` (even empty) it opens a block/section."""

    name: str
    args: tuple[str, ...] = ()
    block: tuple[Node, ...] | None = None
    comment: bool = False  # a '# ...' line; ``name`` is its text


def node(name: str, *args: str | int, block: Sequence[Node] | None = None) -> Node:
    """A directive; ``block`` makes it a block (Caddy) or a section (Apache)."""
    return Node(
        name,
        tuple(a if isinstance(a, str) else str(a) for a in args),
        None if block is None else tuple(block),
    )


def comment(text: str) -> Node:
    """A comment line (no newline in it: a second line would be config)."""
    if any(not c.isprintable() for c in text):
        raise SnippetError("a comment line may hold only printable characters")
    return Node(text, comment=True)


def _comment_line(text: str, indent: str) -> str:
    return f"{indent}# {text}".rstrip()


# A Caddyfile token written bare: no whitespace, quotes, braces (placeholders, {$ENV}), backslash
# or backtick; '#' (a comment) and '<<' (a heredoc, Caddy 2.7+) may not start it.
CADDY_BARE = re.compile(r"^(?!<<)[A-Za-z0-9._~!&()*+,=:@%/?\[\]^|<>;'-]+$")

# Inside "...": anything printable but the characters Caddy expands or escapes.
CADDY_QUOTABLE = re.compile(r'^[^"\\`{}\x00-\x1f\x7f]*$')

CADDY_RAW = re.compile(r"^(?:[A-Za-z0-9._~!&()*+,=:@%/?\[\]-]|\{[a-z_.]+\})+$")


def caddy_token(value: str) -> str:
    """``value`` as one Caddyfile token: bare, in double quotes, or refused."""
    if isinstance(value, Raw):
        if not CADDY_RAW.match(value):
            raise SnippetError(f"internal: {value!r} is not a Caddyfile placeholder token")
        return str(value)
    if CADDY_BARE.match(value):
        return value
    if CADDY_QUOTABLE.match(value) and value.isprintable():
        return f'"{value}"'
    raise SnippetError(
        f"{value!r} holds characters a Caddyfile token cannot take (quotes, braces, "
        "backslashes, control characters)"
    )


def caddyfile(nodes: Sequence[Node], depth: int = 0) -> str:
    """Caddyfile text, indented with tabs as ``caddy fmt`` writes it."""
    indent = "\t" * depth
    out = []
    for n in nodes:
        if n.comment:
            out.append(_comment_line(n.name, indent) + "\n")
            continue
        words = " ".join([caddy_token(n.name), *(caddy_token(a) for a in n.args)])
        if n.block is None:
            out.append(f"{indent}{words}\n")
        else:
            out.append(f"{indent}{words} {{\n{caddyfile(n.block, depth + 1)}{indent}}}\n")
    return "".join(out)


# An Apache argument written bare: httpd splits on whitespace, reads quotes, expands ${VAR}
# and ends a section's arguments at '>'; a trailing backslash continues the line.
APACHE_BARE = re.compile(r"^[A-Za-z0-9._~!&()*+,=:@%/?\[\]^|;-]+$")

APACHE_QUOTABLE = re.compile(r'^[^"\\`$<>\x00-\x1f\x7f]*$')

APACHE_RAW = re.compile(r"^[A-Za-z0-9._~!&()*+,=:@%/?\[\]^|{}*$\"-]+$")


def apache_arg(value: str) -> str:
    """``value`` as one httpd argument: bare, in double quotes, or refused."""
    if isinstance(value, Raw):
        if not APACHE_RAW.match(value) or "${" in value:
            raise SnippetError(f"internal: {value!r} is not an Apache format argument")
        return str(value)
    if APACHE_BARE.match(value):
        return value
    if APACHE_QUOTABLE.match(value) and value.isprintable():
        return f'"{value}"'
    raise SnippetError(
        f"{value!r} holds characters an Apache argument cannot take (quotes, backslashes, "
        "$, < >, control characters)"
    )


APACHE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def apache_conf(nodes: Sequence[Node], depth: int = 0) -> str:
    """httpd config text: directives, and ``<Section args>`` ... ``</Section>`` for blocks."""
    indent = "    " * depth
    out = []
    for n in nodes:
        if n.comment:
            out.append(_comment_line(n.name, indent) + "\n")
            continue
        if not APACHE_NAME.match(n.name):
            raise SnippetError(f"internal: {n.name!r} is not an Apache directive name")
        words = " ".join([n.name, *(apache_arg(a) for a in n.args)])
        if n.block is None:
            out.append(f"{indent}{words}\n")
        else:
            out.append(f"{indent}<{words}>\n{apache_conf(n.block, depth + 1)}{indent}</{n.name}>\n")
    return "".join(out)
