"""JH3xx — which web origins may talk to the server (CORS and websocket origins)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..facts import browser_loopback, pattern_invalid
from ..snapshot import Snapshot
from .base import Finding, Rule, Severity, without_override

# Patterns as strings, compiled (and cached by re) when an origin pattern is judged: not at
# every server start.
_END_ANCHOR = r"(\$|\\Z)\)*$"
# An unescaped '.*' or '.+' with nothing after it but anchors and closing parentheses.
_TRAILING_WILDCARD = r"(?<!\\)\.[*+]\??(?=(?:\$|\\Z|\))*$)"
# A '.' between letters or digits is meant as the dot of a host name, but matches any character.
_BARE_DOT = r"(?<=[A-Za-z0-9])\.(?=[A-Za-z0-9])"


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
    if any(re.search(_TRAILING_WILDCARD, b) for b in branches):
        return "ends with a wildcard ('.*'), so it also accepts '<your origin>.attacker.net'"
    if not fullmatch and not all(re.search(_END_ANCHOR, b) for b in branches):
        return (
            "is not anchored with '$': this jupyter_server accepts origins that merely start "
            "with it, like '<your origin>.attacker.net'"
        )
    if re.search(_BARE_DOT, pattern):
        return (
            "has an unescaped '.', which matches any character: written for app.example.com, it "
            "also accepts app-example.com, a domain anyone can register"
        )
    return ""


def tightened(pattern: str, fullmatch: bool = True) -> str:
    """``pattern`` with host dots escaped, trailing wildcards dropped and, if needed, '$' added."""
    fixed = []
    for branch in alternatives(pattern):
        branch = re.sub(_BARE_DOT, r"\\.", re.sub(_TRAILING_WILDCARD, "", branch.strip()))
        if not fullmatch and not re.search(_END_ANCHOR, branch):
            branch += "$"
        fixed.append(branch)
    return "|".join(fixed)


def suggested_pattern(pattern: str, fullmatch: bool = True) -> str:
    """The pattern a fix suggests for ``pattern``: the tightened one if it admits no attacker's
    origin (the generator proves it), else one built from the names it seems to mean."""
    from ..origins import judge_pattern, safe_pattern

    fixed = tightened(pattern, fullmatch)
    judged = judge_pattern(fixed, fullmatch)
    if not (judged.too_long or judged.backtracking or judged.admits_attacker):
        return fixed
    return safe_pattern(pattern, fullmatch)


def _pattern_remedy(snap: Snapshot, pattern: str) -> dict[str, Any]:
    return {
        "allow_origin_pat": pattern,
        "tornado_overrides": without_override(snap, "allow_origin_pat"),
    }


class AnyOrigin(Rule):
    """Every web origin may use the server: cross-site websocket hijacking.

    Insecure (the seeds' workaround for a broken proxy)::

        c.ServerApp.allow_origin = '*'      # or 'null', which any page can send from an iframe
        c.ServerApp.allow_origin_pat = '.*'

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
        """Fire on '*' or a pattern that matches origins unrelated to any site."""
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
                remedy={"allow_origin": ""},
            )
        elif snap.allow_origin == "null":
            yield self.finding(
                "ServerApp.allow_origin = 'null': sandboxed iframes and data: URLs send "
                "'Origin: null', and any web page can create them, open kernel websockets and "
                "run code here.",
                fix,
                traits=("ServerApp.allow_origin",),
                remedy={"allow_origin": ""},
            )
        elif not snap.allow_origin and snap.allow_origin_pat:
            from ..origins import judge_pattern, safe_pattern

            judged = judge_pattern(snap.allow_origin_pat, snap.origin_pat_fullmatch)
            if judged.generic:
                safe = safe_pattern(snap.allow_origin_pat, snap.origin_pat_fullmatch)
                yield self.finding(
                    f"{snap.setting_name('allow_origin_pat')} = {snap.allow_origin_pat!r} matches "
                    f"any origin (it admits {judged.generic[0].origin}): any web page can run "
                    "code here.",
                    snap.override_fix("allow_origin_pat") + "remove it (same-origin needs none), "
                    f"or anchor it to your own site: c.ServerApp.allow_origin_pat = r'{safe}'",
                    traits=("ServerApp.allow_origin_pat",),
                    remedy=_pattern_remedy(snap, safe),
                )


class LooseOriginPattern(Rule):
    """An ``allow_origin_pat`` that admits origins an attacker can obtain, or is invalid.

    Insecure::

        c.ServerApp.allow_origin_pat = r'https://app.example.com'        # '.' is any character
        c.ServerApp.allow_origin_pat = r'https://app\\.example\\.com[^/]*'   # any suffix
        c.ServerApp.allow_origin_pat = r'https://.*\\.github\\.io'      # anyone's github.io page
        c.ServerApp.allow_origin_pat = r'https?://app\\.example\\.com'   # plain http too

    They admit ``https://app-example.com``, ``https://app.example.com.evil.net`` and
    ``https://evil.github.io`` (names anyone can register: an error naming one), and
    ``http://app.example.com``, which an on-path network attacker (public Wi-Fi) serves
    (an error too: a page there runs code on the server). The judgement tries origins built
    around the names the pattern seems to mean, against the pattern as jupyter_server matches it
    (``re.fullmatch`` from 2.18, ``re.match`` before, where a pattern without ``$`` is loose).
    The suggested pattern is proven by the same generator to admit no attacker's origin.

    Fix::

        c.ServerApp.allow_origin_pat = r'^https://app\\.example\\.com$'
    """

    id = "JH302"
    name = "loose-origin-pattern"
    severity = Severity.ERROR
    traits = ("ServerApp.allow_origin_pat",)
    summary = (
        "allow_origin_pat admitting lookalike, public-suffix or plain-http origins, or invalid"
    )

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire on a pattern admitting an attacker's origin, a loose or an invalid pattern."""
        if snap.allow_origin and snap.allow_origin not in ("*", "null"):
            yield from self._exact(snap)
        pat = snap.allow_origin_pat
        if not pat or snap.allow_origin:
            return
        name = snap.setting_name("allow_origin_pat")
        error = pattern_invalid(pat)
        if error:
            yield self.finding(
                f"{name} is not a valid regular expression ({error}): jupyter_server fails on it.",
                snap.override_fix("allow_origin_pat")
                + r"c.ServerApp.allow_origin_pat = r'^https://app\.example\.com$'",
                remedy=_pattern_remedy(snap, r"^https://app\.example\.com$"),
            )
            return
        from ..origins import judge_pattern, safe_pattern

        full = snap.origin_pat_fullmatch
        judged = judge_pattern(pat, full)
        if judged.backtracking or judged.generic:
            return  # JH304's and JH301's
        fixed = safe_pattern(pat, full) if judged.too_long else suggested_pattern(pat, full)
        fix = snap.override_fix("allow_origin_pat") + f"c.ServerApp.allow_origin_pat = r'{fixed}'"
        remedy = _pattern_remedy(snap, fixed)
        loose = pattern_loose(pat, full)
        if judged.anyone:
            admitted = judged.anyone[0]
            yield self.finding(
                f"{name} = {pat!r} admits {admitted.origin} ({admitted.why}): a page there can "
                "open kernel websockets and run code here"
                + (f"; the pattern {loose}." if loose else "."),
                fix,
                remedy=remedy,
            )
        elif judged.plain_http:
            admitted = judged.plain_http[0]
            yield self.finding(
                f"{name} = {pat!r} admits {admitted.origin} ({admitted.why}, e.g. on public "
                "Wi-Fi): a page injected there can open kernel websockets and run code here.",
                fix,
                remedy=remedy,
            )
        elif judged.too_long:
            yield self.finding(
                f"{name} is {len(pat)} characters long, too long to judge what it admits.",
                fix,
                severity=Severity.WARNING,
                remedy=remedy,
            )
        elif loose:
            yield self.finding(
                f"{name} = {pat!r} {loose}.", fix, severity=Severity.WARNING, remedy=remedy
            )

    def _exact(self, snap: Snapshot) -> Iterator[Finding]:
        from ..origins import parse_origin

        origin = parse_origin(snap.allow_origin)
        # The browser's own machine, as patterns and frame-ancestors are judged: Chromium maps
        # *.localhost to loopback whatever the resolver says (checked: evil.localhost answered
        # from 127.0.0.1 with no /etc/hosts entry).
        if origin is None or origin.scheme != "http" or browser_loopback(origin.host):
            return
        https = f"https://{origin.host}" + (f":{origin.port}" if origin.port else "")
        yield self.finding(
            f"ServerApp.allow_origin = {snap.allow_origin!r} is plain http: an on-path network "
            "attacker can serve a page at that origin and run code here.",
            f"serve that site over https and set c.ServerApp.allow_origin = {https!r}",
            traits=("ServerApp.allow_origin",),
            remedy={"allow_origin": https},
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
        broad = snap.allow_origin in ("*", "null")
        if not snap.allow_origin and snap.allow_origin_pat:
            from ..origins import judge_pattern

            judged = judge_pattern(snap.allow_origin_pat, snap.origin_pat_fullmatch)
            broad = (
                judged.admits_attacker
                or bool(judged.backtracking)
                or bool(pattern_loose(snap.allow_origin_pat, snap.origin_pat_fullmatch))
            )
        if broad:
            yield self.finding(
                "ServerApp.allow_credentials = True with a broad allowed origin: other sites' "
                "requests carry the user's cookies.",
                "c.ServerApp.allow_credentials = False, or allow one exact origin: "
                "c.ServerApp.allow_origin = 'https://app.example.com'",
                remedy={"allow_credentials": False},
            )


class OriginPatternBacktracking(Rule):
    """An ``allow_origin_pat`` that can backtrack catastrophically: one request stalls the server.

    Insecure::

        c.ServerApp.allow_origin_pat = r'https://([a-z]+\\.?)+\\.example\\.com'   # nested repeats
        c.ServerApp.allow_origin_pat = r'https://.*\\..*\\.example\\.com'         # n² per Origin

    jupyter_server matches the Origin of every request against the pattern (twice: fullmatch,
    then a prefix match for its warning), in the one thread that serves everyone. A request with
    a long, failing Origin then takes seconds to centuries. Found from the regex's structure (a
    repeat holding a repeat that can match the same text, overlapping alternatives under a
    repeat, repeats in a row that can trade text), never by running the pattern.

    Fix (each label ends in a '.', which the repeat inside cannot take)::

        c.ServerApp.allow_origin_pat = r'https://(?:[a-z0-9-]+\\.)+example\\.com'
    """

    id = "JH304"
    name = "origin-pattern-backtracking"
    severity = Severity.ERROR
    traits = ("ServerApp.allow_origin_pat",)
    summary = "allow_origin_pat that can backtrack catastrophically (a request stalls the server)"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the pattern's tree shows catastrophic backtracking."""
        if snap.allow_origin or not snap.allow_origin_pat:
            return
        from ..origins import backtracking, safe_pattern

        why = backtracking(snap.allow_origin_pat)
        if why:
            safe = safe_pattern(snap.allow_origin_pat, snap.origin_pat_fullmatch)
            yield self.finding(
                f"{snap.setting_name('allow_origin_pat')} = {snap.allow_origin_pat!r} can "
                f"backtrack catastrophically: {why}. jupyter_server matches every request's "
                "Origin against it, so one request with a long Origin can stall the server for "
                "every user.",
                snap.override_fix("allow_origin_pat")
                + f"c.ServerApp.allow_origin_pat = r'{safe}'  # list your origins; no repeat "
                "inside a repeat",
                remedy=_pattern_remedy(snap, safe),
            )
