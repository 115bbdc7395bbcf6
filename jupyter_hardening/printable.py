"""Text from settings made safe to print, log and serve: no control characters, no secrets."""

from __future__ import annotations

import re

# C0 and C1 control characters other than newline and tab: a terminal would act on them.
# Patterns stay strings, compiled (and cached by re) on first use: every server start
# imports this module, most never print a control character or a rejected secret.
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
# Traits whose values are secrets (provenance hides them, check refuses them on its command line).
# GatewayClient's auth_token and http_pwd are its credentials for the gateway.
SECRET_TRAITS = ("token", "password", "hashed_password", "cookie_secret", "auth_token", "http_pwd")
# traitlets' message for a rejected value ("..., not the str 'abc'"), which repeats the value.
_REJECTED_VALUE = r"^(The '\w+' trait of .*?, not the [\w.]+) .*$"
# traitlets' message for a command-line option it cannot load ("Error loading argument
# NAME=['value'], reason"), whose reason may list the values again ("..., got 2: [...]").
_UNLOADABLE_ARGUMENT = r"^Error loading argument ([^=\s]+)=(\[.*?\]), (.*)$"


def printable(text: str) -> str:
    """``text`` safe for a terminal, a log and UTF-8: control characters and lone surrogates
    escaped as Python would write them."""
    text = re.sub(_CONTROL, lambda m: f"\\x{ord(m[0]):02x}", text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def one_line(text: str) -> str:
    """printable(text) with newlines escaped too: a value inside one line of a log or a report
    (an accepted risk's reason) cannot start a line of its own."""
    return printable(text).replace("\n", "\\n")


def shell_word(word: str) -> str:
    """``word`` quoted for a shell command a fix suggests, that still names it exactly once
    printed: shlex.quote when every character is printable, else bash's $'...' with each byte
    that is not printable ASCII written as \\xHH (file names are bytes)."""
    import shlex

    if word.isprintable():  # False for control characters, lone surrogates, NBSP
        return shlex.quote(word)
    try:
        data = word.encode("utf-8", "surrogateescape")  # a name os.fsdecode() made
    except UnicodeEncodeError:
        data = word.encode("utf-8", "surrogatepass")
    quoted = "".join(
        chr(b) if 0x20 <= b < 0x7F and chr(b) not in "\\'" else f"\\x{b:02x}" for b in data
    )
    return f"$'{quoted}'"


def hide_secret_value(message: str) -> str:
    """traitlets' message for a rejected value, without the value, whatever the trait: a list
    of API tokens, a service's dict or a spawner's environment holds secrets under other names
    than the secret traits'."""
    match = re.match(_REJECTED_VALUE, message, re.DOTALL)
    if match:
        return f"{match[1]} (value not shown)."
    match = re.match(_UNLOADABLE_ARGUMENT, message, re.DOTALL)
    if match:
        return f"the option --{match[1]} cannot be loaded: {_reason(match[2], match[3])}"
    return message


def _reason(values: str, reason: str) -> str:
    """traitlets' reason for refusing an option, without the values given (``values``, their
    list as traitlets writes it): kept only when none of them is in it."""
    import ast

    if "LazyConfigValue" in reason:  # --lowercase.trait: no config section of that name
        return "no class of that name; write --Class.trait=VALUE, the class as in c.Class.trait"
    reason = re.sub(r":\s*\[.*$", "", reason, flags=re.DOTALL).rstrip(". ")
    try:
        given = [str(v) for v in ast.literal_eval(values)]
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        given = [values]
    if any(v and v in reason for v in given):
        return "(traitlets' reason, which repeats the value, is not shown)"
    return f"{reason} (value not shown)"


def without_userinfo(url: str) -> str:
    """``url`` with a user:password@ written as <user>@: everything from ``//`` (or the start,
    when there is none) to the last ``@`` before a space or a quote. A password may hold a
    ``/`` or an ``@`` that URL parsers (and JupyterHub, which derives its base_url from
    bind_url's path) read as the path, so neither stops it: a path with an ``@`` in it is
    hidden too, which shows less, never a secret."""
    if "//" in url:
        return re.sub(r"//[^\s'\"]*@", "//<user>@", url)
    return re.sub(r"^[^\s'\"]*@", "<user>@", url)


def redacted_url(text: str) -> str:
    """A URL as a message may repeat it: without a user:password@, its query (the
    ``?token=...`` of the URL Jupyter prints at startup) and its fragment (``#token=...``)."""
    text = re.sub(r"#.*", "#<fragment not shown>", without_userinfo(text), flags=re.DOTALL)
    return re.sub(r"\?.*", "?<query not shown>", text, flags=re.DOTALL)
