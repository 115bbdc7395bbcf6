"""Text from settings made safe to print, log and serve: no control characters, no secrets."""

from __future__ import annotations

import re

# C0 and C1 control characters other than newline and tab: a terminal would act on them.
# Patterns stay strings, compiled (and cached by re) on first use: every server start
# imports this module, most never print a control character or a rejected secret.
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
# Traits whose value must not be repeated when traitlets rejects it ("..., not the str 'abc'").
SECRET_TRAITS = ("token", "password", "hashed_password", "cookie_secret")
_REJECTED_VALUE = r"^(The '(\w+)' trait of .*?, not the [\w.]+) .*$"


def printable(text: str) -> str:
    """``text`` safe for a terminal, a log and UTF-8: control characters and lone surrogates
    escaped as Python would write them."""
    text = re.sub(_CONTROL, lambda m: f"\\x{ord(m[0]):02x}", text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def hide_secret_value(message: str) -> str:
    """traitlets' message for a rejected value, without the value when the trait is a secret."""
    match = re.match(_REJECTED_VALUE, message, re.DOTALL)
    if match and match[2] in SECRET_TRAITS:
        return f"{match[1]} (value not shown)."
    return message
