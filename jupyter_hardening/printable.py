"""Text from settings made safe to print, log and serve: no control characters, no secrets."""

from __future__ import annotations

import re

# C0 and C1 control characters other than newline and tab: a terminal would act on them.
# Patterns stay strings, compiled (and cached by re) on first use: every server start
# imports this module, most never print a control character or a rejected secret.
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
# Traits whose values are secrets (provenance hides them, check refuses them on its command line).
SECRET_TRAITS = ("token", "password", "hashed_password", "cookie_secret")
# traitlets' message for a rejected value ("..., not the str 'abc'"), which repeats the value.
_REJECTED_VALUE = r"^(The '\w+' trait of .*?, not the [\w.]+) .*$"


def printable(text: str) -> str:
    """``text`` safe for a terminal, a log and UTF-8: control characters and lone surrogates
    escaped as Python would write them."""
    text = re.sub(_CONTROL, lambda m: f"\\x{ord(m[0]):02x}", text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def hide_secret_value(message: str) -> str:
    """traitlets' message for a rejected value, without the value, whatever the trait: a list
    of API tokens, a service's dict or a spawner's environment holds secrets under other names
    than the secret traits'."""
    match = re.match(_REJECTED_VALUE, message, re.DOTALL)
    return f"{match[1]} (value not shown)." if match else message


def without_userinfo(url: str) -> str:
    """``url`` with a user:password@ written as <user>@."""
    return re.sub(r"(^|//)[^/]*@", r"\1<user>@", url)


def redacted_url(text: str) -> str:
    """A URL as a message may repeat it: without a user:password@ and without its query (the
    ``?token=...`` of the URL Jupyter prints at startup)."""
    return re.sub(r"\?.*", "?<query not shown>", without_userinfo(text), flags=re.DOTALL)
