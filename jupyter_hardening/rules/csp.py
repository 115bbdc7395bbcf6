"""JH6xx — who may frame the server (Content-Security-Policy frame-ancestors).

jupyter_server sends ``frame-ancestors 'self'`` unless ``tornado_settings['headers']`` carries
its own ``Content-Security-Policy``, which then replaces it unchecked.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..snapshot import Snapshot
from .base import Finding, Rule, Severity

KEYWORDS = frozenset({"'self'", "'none'"})
CSP_TRAIT = ("ServerApp.tornado_settings",)


def directives(csp: str) -> dict[str, list[str]]:
    """Parse one policy into {directive: [sources]}; the first of duplicates wins, as in browsers."""
    parsed: dict[str, list[str]] = {}
    for part in csp.split(";"):
        tokens = part.split()
        if tokens:
            parsed.setdefault(tokens[0].lower(), tokens[1:])
    return parsed


def policies(csp: str) -> list[str]:
    """The policies of a header value: browsers split it at ',' and enforce each one."""
    return [p for p in csp.split(",") if p.strip()]


def frame_ancestors(csp: str) -> list[str] | None:
    """The frame-ancestors sources that decide who may frame the page, or None for none.

    Every policy is enforced, so a page may be framed only where each policy with
    frame-ancestors allows it: the most restrictive one decides — one that admits no one
    before one with only named sites, before one with plain-http sites, before one that admits
    anyone; the first of equals. (``"frame-ancestors 'self' https://*.github.io, default-src
    'self'"`` was read as one policy, its last source 'https://*.github.io,'.)
    """
    found = [
        d["frame-ancestors"] for p in policies(csp) if "frame-ancestors" in (d := directives(p))
    ]
    if not found:
        return None
    return min(found, key=_openness)


def _openness(sources: list[str]) -> int:
    """0 for a policy that lets no one frame, 1 named sites only, 2 plain-http sites among
    them, 3 sites anyone can be."""
    if source_problems(sources, "error"):
        return 3
    if source_problems(sources, "warning"):
        return 2
    return 0 if [s.lower() for s in sources] in ([], ["'none'"]) else 1


def ignored_sources(sources: list[str]) -> list[str]:
    """Sources of frame-ancestors that browsers drop (quoted hosts, nonces, unknown keywords)."""
    return [s for s in sources if s.startswith("'") and s.lower() not in KEYWORDS]


def misread_keywords(sources: list[str]) -> list[str]:
    """``self``/``none`` without quotes: browsers read them as host names."""
    return [s for s in sources if s.lower() in ("self", "none")]


def source_problems(sources: list[str], severity: str) -> list[tuple[str, str]]:
    """(source, why) for the sources :func:`frame_source_problem` judges at ``severity``.

    The Public Suffix List is loaded only when a source holds a '*.' wildcard.
    """
    from ..origins import frame_source_problem

    found = []
    for source in sources:
        if source.lower() in ("self", "none"):
            continue  # JH603's
        level, why = frame_source_problem(source)
        if level == severity:
            found.append((source, why))
    return found


def _looks_like_a_host(text: str) -> bool:
    """A quoted frame-ancestors source that was meant as a host ('https://my.example.com'),
    not as a keyword of another directive ('unsafe-inline', 'nonce-...', 'sha256-...')."""
    return "://" in text or "." in text or text.lower() == "localhost"


def _suggest(sources: list[str], base: str = "'self'") -> str:
    from ..origins import frame_source_problem

    fixed = []
    for s in sources:
        if s.lower() in ("self", "none"):
            s = f"'{s.lower()}'"
        elif s.startswith("'") and s.lower() not in KEYWORDS:
            inner = s.strip("'")
            if not _looks_like_a_host(inner):
                continue  # 'unsafe-inline', 'nonce-...': no meaning in frame-ancestors, dropped
            s = inner
        if frame_source_problem(s)[0] == "error":
            continue
        if s.lower().startswith("http://"):
            s = "https://" + s[len("http://") :]
        if s and s not in fixed:
            fixed.append(s)
    if "'none'" in fixed or base == "'none'":
        # with other sources browsers ignore 'none'; on a JupyterHub without subdomains 'self'
        # is every other user's server (the hub's own default is 'none')
        return "'none'"
    if "'self'" not in fixed:
        fixed.insert(0, "'self'")
    return " ".join(fixed)


def _base(snap: Snapshot) -> str:
    # JupyterHub's web-security docs: without subdomain_host, frame-ancestors 'self' lets every
    # user's server frame every other's; the hub's own default is 'none'.
    return "'none'" if snap.hub is not None and not snap.hub.subdomains else "'self'"


def fixed_csp(csp: str, sources: list[str], base: str = "'self'") -> str:
    """``csp`` with the frame-ancestors directive that decides (:func:`frame_ancestors`)
    replaced by the suggested one, or one added to its first policy."""
    directive = f"frame-ancestors {_suggest(sources, base)}"
    listed = [p.strip() for p in policies(csp)] or [""]
    deciding = frame_ancestors(csp)
    target = 0
    for k, policy in enumerate(listed):
        if deciding is not None and directives(policy).get("frame-ancestors") == deciding:
            target = k
            break
    parts = [p.strip() for p in listed[target].split(";") if p.strip()]
    for i, part in enumerate(parts):
        if part.split()[0].lower() == "frame-ancestors":
            parts[i] = directive
            break
    else:
        parts.append(directive)
    listed[target] = "; ".join(parts)
    return ", ".join(listed)


def _fix(snap: Snapshot, csp: str, sources: list[str]) -> str:
    return (
        "c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "
        f"{fixed_csp(csp, sources, _base(snap))!r}}}}}"
    )


def _remedy(snap: Snapshot, csp: str, sources: list[str]) -> dict[str, str]:
    return {"csp": fixed_csp(csp, sources, _base(snap))}


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
            and frame_ancestors(snap.csp) is None
            and snap.x_frame_options not in ("DENY", "SAMEORIGIN")
        ):
            yield self.finding(
                "The Content-Security-Policy in ServerApp.tornado_settings replaces Jupyter's and "
                "has no frame-ancestors: any web site can frame Jupyter and trick clicks.",
                "add frame-ancestors to it, e.g. " + _fix(snap, snap.csp, []),
                remedy=_remedy(snap, snap.csp, []),
            )


class FrameAncestorsBroad(Rule):
    """``frame-ancestors`` admitting sites anyone can host, or sites over plain http.

    Insecure::

        c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy':
            "frame-ancestors 'self' https://*"}}       # also *, https:, *.github.io, *.appspot.com

    Any site (or anyone who puts a page under a public suffix such as github.io, appspot.com or
    web.app) can frame Jupyter and trick clicks: an error. ``http://`` hosts are a warning: only
    an on-path network attacker can serve a page there, and framing still needs the user's clicks.

    Fix::

        c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "frame-ancestors 'self' https://portal.example.com"}}
    """

    id = "JH602"
    name = "frame-ancestors-broad"
    severity = Severity.ERROR
    traits = CSP_TRAIT
    summary = "frame-ancestors with *, a scheme alone, a wildcard under a public suffix, or http:"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire on sources anyone can host (error) or http:// host sources (warning)."""
        if snap.csp is None:
            return
        sources = frame_ancestors(snap.csp)
        if not sources:
            return
        broad = source_problems(sources, "error")
        plain = source_problems(sources, "warning")
        if broad:
            yield self.finding(
                f"frame-ancestors allows {' '.join(s for s, _ in broad)} ({broad[0][1]}): any "
                "web site can frame Jupyter (clickjacking).",
                _fix(snap, snap.csp, sources),
                remedy=_remedy(snap, snap.csp, sources),
            )
        elif plain:
            yield self.finding(
                f"frame-ancestors allows {' '.join(s for s, _ in plain)} over plain http: a "
                "network attacker can frame Jupyter from it.",
                _fix(snap, snap.csp, sources),
                severity=Severity.WARNING,
                remedy=_remedy(snap, snap.csp, sources),
            )


class FrameAncestorsIgnored(Rule):
    """``frame-ancestors`` sources that browsers ignore or misread.

    Insecure (from the seeds)::

        "frame-ancestors 'https://my.example.com' 'self'"
        "frame-ancestors none"        # a host named 'none', not the keyword 'none'

    A host in quotes is not a source expression: browsers drop it, so the embedding site is
    refused and people then remove the CSP altogether. ``self`` and ``none`` without quotes are
    host names to browsers: Jupyter's own pages can no longer frame it, and a machine called
    ``none`` or ``self`` on the local network (a DNS search domain) can.

    Fix::

        "frame-ancestors https://my.example.com 'self'"
    """

    id = "JH603"
    name = "frame-ancestors-ignored"
    severity = Severity.WARNING
    traits = CSP_TRAIT
    summary = "frame-ancestors sources that browsers ignore (quoted hosts) or misread (bare self)"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when some frame-ancestors sources are quoted non-keywords."""
        if snap.csp is None:
            return
        sources = frame_ancestors(snap.csp) or []
        ignored = ignored_sources(sources)
        if ignored:
            yield self.finding(
                f"frame-ancestors has {' '.join(ignored)}, which browsers ignore (a host is "
                "written without quotes).",
                _fix(snap, snap.csp, sources),
                remedy=_remedy(snap, snap.csp, sources),
            )
        misread = misread_keywords(sources)
        if misread:
            yield self.finding(
                f"frame-ancestors has {' '.join(misread)} without quotes, which browsers read as "
                "a host name, not as a keyword (keywords are written in single quotes).",
                _fix(snap, snap.csp, sources),
                remedy=_remedy(snap, snap.csp, sources),
            )
