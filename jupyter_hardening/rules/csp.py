"""JH6xx — who may frame the server (Content-Security-Policy frame-ancestors).

jupyter_server sends ``frame-ancestors 'self'`` unless ``tornado_settings['headers']`` carries
its own ``Content-Security-Policy``, which then replaces it unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..snapshot import Snapshot
from .base import Finding, Rule, Severity

KEYWORDS = frozenset({"'self'", "'none'"})
SCHEME_ONLY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:$")
CSP_TRAIT = ("ServerApp.tornado_settings",)


def directives(csp: str) -> dict[str, list[str]]:
    """Parse a CSP header into {directive: [sources]}; the first of duplicates wins, as in browsers."""
    parsed: dict[str, list[str]] = {}
    for part in csp.split(";"):
        tokens = part.split()
        if tokens:
            parsed.setdefault(tokens[0].lower(), tokens[1:])
    return parsed


def ignored_sources(sources: list[str]) -> list[str]:
    """Sources of frame-ancestors that browsers drop (quoted hosts, nonces, unknown keywords)."""
    return [s for s in sources if s.startswith("'") and s.lower() not in KEYWORDS]


def _suggest(sources: list[str], base: str = "'self'") -> str:
    fixed = []
    for s in sources:
        if s.startswith("'") and s.lower() not in KEYWORDS:
            s = s.strip("'")
        if s == "*" or SCHEME_ONLY.match(s):
            continue
        if s.startswith("http://"):
            s = "https://" + s[len("http://") :]
        if s and s not in fixed:
            fixed.append(s)
    if base == "'none'":  # JupyterHub on one origin: 'self' is every other user's server
        return base
    if "'self'" not in fixed and "'none'" not in fixed:
        fixed.insert(0, "'self'")
    return " ".join(fixed)


def _fix(sources: list[str], snap: Snapshot | None = None) -> str:
    # JupyterHub's web-security docs: without subdomain_host, frame-ancestors 'self' lets every
    # user's server frame every other's; the hub's own default is 'none'.
    base = (
        "'none'"
        if snap is not None and snap.hub is not None and not snap.hub.subdomains
        else "'self'"
    )
    return (
        "c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "
        f'"frame-ancestors {_suggest(sources, base)}"}}}}'
    )


class FrameAncestorsMissing(Rule):
    """A custom CSP without ``frame-ancestors``: any site may frame Jupyter (clickjacking).

    Insecure::

        c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "default-src 'self'"}}

    An ``X-Frame-Options: DENY`` or ``SAMEORIGIN`` header next to it protects as well: browsers
    obey it when the policy has no frame-ancestors.

    Fix::

        c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "default-src 'self'; frame-ancestors 'self'"}}
    """

    id = "JH601"
    name = "frame-ancestors-missing"
    severity = Severity.WARNING
    traits = CSP_TRAIT
    summary = "Custom Content-Security-Policy without frame-ancestors"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when a custom CSP lacks frame-ancestors."""
        # Without frame-ancestors, browsers obey X-Frame-Options: DENY or SAMEORIGIN protects.
        if (
            snap.csp is not None
            and "frame-ancestors" not in directives(snap.csp)
            and snap.x_frame_options not in ("DENY", "SAMEORIGIN")
        ):
            yield self.finding(
                "The Content-Security-Policy in ServerApp.tornado_settings replaces Jupyter's and "
                "has no frame-ancestors: any web site can frame Jupyter and trick clicks.",
                "add frame-ancestors to it, e.g. " + _fix([], snap),
            )


class FrameAncestorsBroad(Rule):
    """``frame-ancestors`` allowing any site (``*``, ``https:``) or sites over plain http.

    Insecure::

        c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "frame-ancestors *"}}

    Fix::

        c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "frame-ancestors 'self' https://portal.example.com"}}
    """

    id = "JH602"
    name = "frame-ancestors-broad"
    severity = Severity.ERROR
    traits = CSP_TRAIT
    summary = "frame-ancestors with *, scheme-only or http: sources"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire on wildcard/scheme-only (error) or http:// host sources (warning)."""
        if snap.csp is None:
            return
        sources = directives(snap.csp).get("frame-ancestors")
        if not sources:
            return
        broad = [s for s in sources if s == "*" or SCHEME_ONLY.match(s) or s.startswith("*")]
        plain = [s for s in sources if s.lower().startswith("http://")]
        if broad:
            yield self.finding(
                f"frame-ancestors allows {' '.join(broad)}: any web site can frame Jupyter "
                "(clickjacking).",
                _fix(sources, snap),
            )
        elif plain:
            yield self.finding(
                f"frame-ancestors allows {' '.join(plain)} over plain http: a network attacker can "
                "frame Jupyter from it.",
                _fix(sources, snap),
                severity=Severity.WARNING,
            )


class FrameAncestorsIgnored(Rule):
    """``frame-ancestors`` sources that browsers ignore.

    Insecure (from the seeds)::

        "frame-ancestors 'https://my.example.com' 'self'"

    A host in quotes is not a source expression: browsers drop it, so the embedding site is
    refused and people then remove the CSP altogether.

    Fix::

        "frame-ancestors https://my.example.com 'self'"
    """

    id = "JH603"
    name = "frame-ancestors-ignored"
    severity = Severity.WARNING
    traits = CSP_TRAIT
    summary = "frame-ancestors sources that browsers ignore (quoted hosts)"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when some frame-ancestors sources are quoted non-keywords."""
        if snap.csp is None:
            return
        sources = directives(snap.csp).get("frame-ancestors") or []
        ignored = ignored_sources(sources)
        if ignored:
            yield self.finding(
                f"frame-ancestors has {' '.join(ignored)}, which browsers ignore (a host is "
                "written without quotes).",
                _fix(sources, snap),
            )
