"""JH3xx — which web origins may talk to the server (CORS and websocket origins)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..snapshot import Snapshot
from .base import Finding, Rule, Severity

# Origins an attacker can serve a page from; a pattern accepting any of them accepts everyone.
# "null" is what sandboxed iframes and data: URLs send, and any page can create those.
ATTACKER_ORIGINS = (
    "https://attacker.example",
    "http://attacker.example:8080",
    "null",
    "https://a.b.c.attacker.example",
)
_END_ANCHOR = re.compile(r"(\$|\\Z)\)*$")
# An unescaped '.*' or '.+' with nothing after it but anchors and closing parentheses.
_TRAILING_WILDCARD = re.compile(r"(?<!\\)\.[*+]\??(?=(?:\$|\\Z|\))*$)")
# A '.' between letters or digits is meant as the dot of a host name, but matches any character.
_BARE_DOT = re.compile(r"(?<=[A-Za-z0-9])\.(?=[A-Za-z0-9])")


def pattern_accepts_any(pattern: str, fullmatch: bool = True) -> bool:
    """True when jupyter_server's match of the pattern accepts an attacker's origin.

    jupyter_server >= 2.18 uses ``re.fullmatch``; older versions ``re.match`` (a prefix match).
    """
    if not pattern:
        return False  # jupyter_server ignores an empty pattern
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    match = compiled.fullmatch if fullmatch else compiled.match
    return any(match(origin) for origin in ATTACKER_ORIGINS)


def pattern_invalid(pattern: str) -> str:
    """The regex error of ``pattern``, or '' when it compiles."""
    try:
        re.compile(pattern)
    except re.error as e:
        return str(e)
    return ""


def alternatives(pattern: str) -> list[str]:
    """The top-level ``|`` branches of a regular expression."""
    branches, depth, start, in_class, escaped = [], 0, 0, False, False
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            branches.append(pattern[start:i])
            start = i + 1
    return [*branches, pattern[start:]]


def pattern_loose(pattern: str, fullmatch: bool = True) -> str:
    """Why a pattern accepts origins next to the intended ones, or '' when it does not."""
    branches = alternatives(pattern)
    if any(_TRAILING_WILDCARD.search(b) for b in branches):
        return "ends with a wildcard ('.*'), so it also accepts '<your origin>.attacker.net'"
    if not fullmatch and not all(_END_ANCHOR.search(b) for b in branches):
        return (
            "is not anchored with '$': this jupyter_server accepts origins that merely start "
            "with it, like '<your origin>.attacker.net'"
        )
    if _BARE_DOT.search(pattern):
        return (
            "has an unescaped '.', which matches any character: written for app.example.com, it "
            "also accepts app-example.com, a domain anyone can register"
        )
    return ""


def tightened(pattern: str, fullmatch: bool = True) -> str:
    """``pattern`` with host dots escaped, trailing wildcards dropped and, if needed, '$' added."""
    fixed = []
    for branch in alternatives(pattern):
        branch = _BARE_DOT.sub(r"\\.", _TRAILING_WILDCARD.sub("", branch.strip()))
        if not fullmatch and not _END_ANCHOR.search(branch):
            branch += "$"
        fixed.append(branch)
    return "|".join(fixed)


class AnyOrigin(Rule):
    """Every web origin may use the server: cross-site websocket hijacking.

    Insecure (the seeds' workaround for a broken proxy)::

        c.ServerApp.allow_origin = '*'      # or 'null', which any page can send from an iframe

    Any page the user visits can open a kernel websocket and run code: remote code execution.
    The proxy's real problem is the Host header (see ``jupyter hardening nginx-snippet``).

    Fix::

        c.ServerApp.allow_origin = 'https://app.example.com'   # only a site that must call the API
    """

    id = "JH301"
    name = "any-origin"
    severity = Severity.ERROR
    traits = ("ServerApp.allow_origin", "ServerApp.allow_origin_pat")
    summary = "allow_origin='*' or 'null', or an allow_origin_pat matching any origin"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire on '*' or a pattern that matches attacker origins."""
        fix = (
            "remove c.ServerApp.allow_origin (same-origin needs none); behind a proxy, send "
            "'proxy_set_header Host $host:<port>;' instead (jupyter hardening nginx-snippet)"
        )
        if snap.allow_origin == "*":
            yield self.finding(
                "ServerApp.allow_origin = '*': any web page can open kernel websockets and run "
                "code on this server (cross-site websocket hijacking).",
                fix,
                traits=("ServerApp.allow_origin",),
            )
        elif snap.allow_origin == "null":
            yield self.finding(
                "ServerApp.allow_origin = 'null': sandboxed iframes and data: URLs send "
                "'Origin: null', and any web page can create them, open kernel websockets and "
                "run code here.",
                fix,
                traits=("ServerApp.allow_origin",),
            )
        elif not snap.allow_origin and pattern_accepts_any(
            snap.allow_origin_pat, snap.origin_pat_fullmatch
        ):
            yield self.finding(
                f"{snap.setting_name('allow_origin_pat')} = {snap.allow_origin_pat!r} matches any "
                "origin (e.g. https://attacker.example): any web page can run code here.",
                snap.override_fix("allow_origin_pat") + "anchor the pattern to your own site, e.g. "
                r"c.ServerApp.allow_origin_pat = r'^https://app\.example\.com$'",
                traits=("ServerApp.allow_origin_pat",),
            )


class LooseOriginPattern(Rule):
    """An ``allow_origin_pat`` that accepts origins next to the intended one, or is invalid.

    Insecure::

        c.ServerApp.allow_origin_pat = r'https://app.example.com'      # '.' is any character
        c.ServerApp.allow_origin_pat = r'https://app\\.example\\.com.*'   # any suffix

    The first also accepts ``https://app-example.com``, the second
    ``https://app.example.com.attacker.net``: domains anyone can register. jupyter_server before
    2.18 matches only the start of the origin (``re.match``), so there a pattern without a final
    ``$`` is loose too.

    Fix::

        c.ServerApp.allow_origin_pat = r'^https://app\\.example\\.com$'
    """

    id = "JH302"
    name = "loose-origin-pattern"
    severity = Severity.WARNING
    traits = ("ServerApp.allow_origin_pat",)
    summary = (
        "allow_origin_pat with an unescaped '.', a trailing '.*', no '$' (before 2.18), or invalid"
    )

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire on a loose or invalid pattern that is not already matching everything."""
        pat = snap.allow_origin_pat
        if not pat or snap.allow_origin:
            return
        error = pattern_invalid(pat)
        if error:
            yield self.finding(
                f"{snap.setting_name('allow_origin_pat')} is not a valid regular expression "
                f"({error}): jupyter_server fails on it.",
                snap.override_fix("allow_origin_pat")
                + r"c.ServerApp.allow_origin_pat = r'^https://app\.example\.com$'",
                severity=Severity.ERROR,
            )
            return
        loose = pattern_loose(pat, snap.origin_pat_fullmatch)
        if loose and not pattern_accepts_any(pat, snap.origin_pat_fullmatch):
            yield self.finding(
                f"{snap.setting_name('allow_origin_pat')} = {pat!r} {loose}.",
                snap.override_fix("allow_origin_pat")
                + f"c.ServerApp.allow_origin_pat = r'{tightened(pat, snap.origin_pat_fullmatch)}'",
            )


class CredentialsBroadOrigin(Rule):
    """``allow_credentials`` with an origin list that includes attackers.

    Insecure::

        c.ServerApp.allow_origin = '*'
        c.ServerApp.allow_credentials = True

    Cross-origin requests then carry the user's cookies: other sites act as the user.

    Fix::

        c.ServerApp.allow_origin = 'https://app.example.com'   # one exact origin
    """

    id = "JH303"
    name = "credentials-broad-origin"
    severity = Severity.ERROR
    traits = ("ServerApp.allow_credentials", "ServerApp.allow_origin", "ServerApp.allow_origin_pat")
    summary = "allow_credentials with a broad origin"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when credentials are allowed and origins are wildcard or loose."""
        if not snap.allow_credentials:
            return
        broad = snap.allow_origin in ("*", "null") or (
            not snap.allow_origin
            and snap.allow_origin_pat
            and (
                pattern_accepts_any(snap.allow_origin_pat, snap.origin_pat_fullmatch)
                or pattern_loose(snap.allow_origin_pat, snap.origin_pat_fullmatch)
            )
        )
        if broad:
            yield self.finding(
                "ServerApp.allow_credentials = True with a broad allowed origin: other sites' "
                "requests carry the user's cookies.",
                "c.ServerApp.allow_credentials = False, or allow one exact origin: "
                "c.ServerApp.allow_origin = 'https://app.example.com'",
            )
