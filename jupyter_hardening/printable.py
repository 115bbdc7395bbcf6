"""Text from settings made safe to print, log and serve."""

from __future__ import annotations

import re

# C0 and C1 control characters other than newline and tab: a terminal would act on them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` safe for a terminal, a log and UTF-8: control characters and lone surrogates
    escaped as Python would write them."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
