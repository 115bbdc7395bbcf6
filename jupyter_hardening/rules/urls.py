"""JH5xx — the server's URL prefix (base_url)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..facts import base_url_problem, full_url_path
from ..snapshot import Snapshot
from .base import Finding, Rule, Severity


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
        path = full_url_path(snap.base_url)
        if path is not None:
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
        if full_url_path(snap.base_url) is not None:
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
