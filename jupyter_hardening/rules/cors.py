"""JH3xx — which web origins may talk to the server (CORS and websocket origins)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..snapshot import Snapshot
from .base import Finding, Rule, Severity

# Origins an attacker can serve a page from; a pattern accepting any of them accepts everyone.
ATTACKER_ORIGINS = (
    "https://attacker.example",
    "http://attacker.example:8080",
    "null",
    "https://a.b.c.attacker.example",
)


def pattern_accepts_any(pattern: str) -> bool:
    """True when jupyter_server's ``re.match`` of the pattern accepts an attacker's origin."""
    if not pattern:
        return False  # jupyter_server ignores an empty pattern
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    return any(compiled.match(origin) for origin in ATTACKER_ORIGINS)


def pattern_invalid(pattern: str) -> str:
    """The regex error of ``pattern``, or '' when it compiles."""
    try:
        re.compile(pattern)
    except re.error as e:
        return str(e)
    return ""


class AnyOrigin(Rule):
    """Every web origin may use the server: cross-site websocket hijacking.

    Insecure (the seeds' workaround for a broken proxy)::

        c.ServerApp.allow_origin = '*'

    Any page the user visits can open a kernel websocket and run code: remote code execution.
    The proxy's real problem is the Host header (see ``jupyter hardening nginx-snippet``).
    """

    id = "JH301"
    name = "any-origin"
    severity = Severity.ERROR
    traits = ("ServerApp.allow_origin", "ServerApp.allow_origin_pat")
    summary = "allow_origin='*' or an allow_origin_pat matching any origin"

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
        elif not snap.allow_origin and pattern_accepts_any(snap.allow_origin_pat):
            yield self.finding(
                f"ServerApp.allow_origin_pat = {snap.allow_origin_pat!r} matches any origin "
                "(e.g. https://attacker.example): any web page can run code here.",
                "anchor the pattern to your own site, e.g. "
                r"c.ServerApp.allow_origin_pat = r'^https://app\.example\.com$'",
                traits=("ServerApp.allow_origin_pat",),
            )


class LooseOriginPattern(Rule):
    """An ``allow_origin_pat`` that is not anchored at the end, or is not a valid regex.

    Insecure::

        c.ServerApp.allow_origin_pat = r'https://app\\.example\\.com'

    jupyter_server uses ``re.match`` (anchored at the start only): this pattern also accepts
    ``https://app.example.com.attacker.net``.
    """

    id = "JH302"
    name = "loose-origin-pattern"
    severity = Severity.WARNING
    traits = ("ServerApp.allow_origin_pat",)
    summary = "allow_origin_pat not anchored with $, or invalid"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire on an unanchored or invalid pattern that is not already matching everything."""
        pat = snap.allow_origin_pat
        if not pat or snap.allow_origin:
            return
        error = pattern_invalid(pat)
        if error:
            yield self.finding(
                f"ServerApp.allow_origin_pat is not a valid regular expression ({error}): "
                "jupyter_server will fail to start.",
                r"c.ServerApp.allow_origin_pat = r'^https://app\.example\.com$'",
                severity=Severity.ERROR,
            )
        elif not pattern_accepts_any(pat) and not re.search(r"(\$|\\Z)\)*$", pat):
            yield self.finding(
                f"ServerApp.allow_origin_pat = {pat!r} is not anchored with '$': it also accepts "
                "origins that merely start with it, like '<your origin>.attacker.net'.",
                f"c.ServerApp.allow_origin_pat = r'{pat.rstrip()}$'",
            )


class CredentialsWithBroadOrigin(Rule):
    """``allow_credentials`` with an origin list that includes attackers.

    Insecure::

        c.ServerApp.allow_origin = '*'
        c.ServerApp.allow_credentials = True

    Cross-origin requests then carry the user's cookies: other sites act as the user.
    """

    id = "JH303"
    name = "credentials-broad-origin"
    severity = Severity.ERROR
    traits = ("ServerApp.allow_credentials", "ServerApp.allow_origin", "ServerApp.allow_origin_pat")
    summary = "allow_credentials with a broad origin"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when credentials are allowed and origins are wildcard or unanchored."""
        if not snap.allow_credentials:
            return
        broad = snap.allow_origin == "*" or (
            not snap.allow_origin
            and snap.allow_origin_pat
            and (
                pattern_accepts_any(snap.allow_origin_pat)
                or not snap.allow_origin_pat.endswith("$")
            )
        )
        if broad:
            yield self.finding(
                "ServerApp.allow_credentials = True with a broad allowed origin: other sites' "
                "requests carry the user's cookies.",
                "c.ServerApp.allow_credentials = False, or allow one exact origin: "
                "c.ServerApp.allow_origin = 'https://app.example.com'",
            )
