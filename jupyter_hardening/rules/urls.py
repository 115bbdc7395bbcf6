"""JH5xx — the server's URL prefix (base_url)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..snapshot import Snapshot
from .base import Finding, Rule, Severity

# Unreserved and sub-delim characters that survive browsers, tornado routing and nginx config.
# A string: re compiles (and caches) it for a base_url other than '/', not at every start.
SAFE_BASE_URL = r"^/(?:[A-Za-z0-9._~!&',=:@%-]+/)*$"


def base_url_problem(base_url: str) -> str:
    """Why ``base_url`` breaks URLs or proxies, or '' when it is a clean path."""
    if base_url == "/":
        return ""  # jupyter_server's default passes every check below: no pattern compiled
    if re.search(r"[\x00-\x20\x7f]", base_url):
        return "contains whitespace or control characters"
    bad = sorted(set(re.findall(r"[;{}\"'$#?\\<>`^|\[\]]", base_url)))
    if bad:
        return "contains " + " ".join(repr(c) for c in bad)
    # jupyter_server and tornado join base_url into their URL patterns unescaped: there these
    # are regex operators, and '/a+b/' serves Jupyter at /aab/ and 404s at /a+b/.
    operators = sorted(set(re.findall(r"[()*+]", base_url)))
    if operators:
        return (
            "contains "
            + " ".join(repr(c) for c in operators)
            + ", which jupyter_server's URL patterns read as regex operators (404 everywhere)"
        )
    if "//" in base_url:
        return "contains an empty path segment ('//')"
    if any(seg in (".", "..") for seg in base_url.split("/")):
        return "contains '.' or '..' segments, which browsers and proxies rewrite"
    if not re.match(SAFE_BASE_URL, base_url):
        return "contains characters outside the URL path alphabet"
    return ""


class BaseUrlNotPath(Rule):
    """``base_url`` written as a full URL.

    Insecure (from the seeds)::

        c.NotebookApp.base_url = 'http://www.yourdomain.com/notebook'

    jupyter_server turns it into the path ``/http://www.yourdomain.com/notebook/``: every link
    breaks, and people then loosen other settings to make it work.

    Fix::

        c.ServerApp.base_url = '/notebook/'
    """

    id = "JH501"
    name = "base-url-not-path"
    severity = Severity.ERROR
    traits = ("ServerApp.base_url",)
    summary = "base_url is a full URL, not a path"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the normalized base_url holds a scheme or host."""
        if snap.base_url == "/":
            return  # jupyter_server's default matches neither pattern below
        match = re.match(r"^/*(?:[A-Za-z][A-Za-z0-9+.-]*:)?//[^/]*(/.*)?$", snap.base_url)
        if match or re.match(r"^/+[A-Za-z][A-Za-z0-9+.-]*:/", snap.base_url):
            path = "/" + (match.group(1) or "/").strip("/") if match else "/"
            path = path.rstrip("/") + "/"
            yield self.finding(
                f"ServerApp.base_url = {snap.base_url!r} is a full URL; jupyter_server only "
                "takes the path part, so every link breaks.",
                f"c.ServerApp.base_url = {path!r} (the host belongs in c.Hardening.public_url "
                "and in the proxy's server_name)",
                remedy={"base_url": path},
            )


class BaseUrlUnsafe(Rule):
    """``base_url`` holding characters that break URLs, cookies or proxy configs.

    Insecure::

        c.ServerApp.base_url = '/my notebooks;v2/'

    Spaces, ``;``, quotes, braces, ``$``, ``?`` and ``#`` are mangled by browsers and can inject
    directives into a proxy configuration; ``(``, ``)``, ``*`` and ``+`` are regex operators in
    jupyter_server's URL patterns (``'/a+b/'`` serves Jupyter at ``/aab/``).

    Fix::

        c.ServerApp.base_url = '/my-notebooks-v2/'
    """

    id = "JH502"
    name = "base-url-unsafe"
    severity = Severity.ERROR
    traits = ("ServerApp.base_url",)
    summary = "base_url holds characters that break URLs, Jupyter's routes or proxies"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the base_url is not in the safe path alphabet (full URLs are JH501's)."""
        if "://" in snap.base_url or re.match(r"^/+[A-Za-z][A-Za-z0-9+.-]*:/", snap.base_url):
            return
        problem = base_url_problem(snap.base_url)
        if problem:
            safe = (
                re.sub(r"[^A-Za-z0-9._~-]+", "-", snap.base_url.strip("/")).strip("-") or "jupyter"
            )
            yield self.finding(
                f"ServerApp.base_url {problem}: links, cookies and proxy configs break on it.",
                f"c.ServerApp.base_url = '/{safe}/'",
                remedy={"base_url": f"/{safe}/"},
            )
