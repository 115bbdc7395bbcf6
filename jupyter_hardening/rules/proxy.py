"""JH7xx — running behind a reverse proxy: forwarded headers, cookies and companion settings.

``c.Hardening.public_url`` tells these rules the address users type; with it they check that the
server's own settings agree with the proxy that ``jupyter hardening nginx-snippet`` writes.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..facts import ip_literal
from ..snapshot import Snapshot
from .base import LOOPBACK, Finding, Rule, Severity, without_override


class XHeadersDirect(Rule):
    """``trust_xheaders`` on a server that clients reach directly.

    Insecure::

        c.ServerApp.ip = '0.0.0.0'
        c.ServerApp.trust_xheaders = True

    Anyone can then send ``X-Forwarded-Proto: https`` and ``X-Real-Ip``: logs lie and cookie
    security follows the attacker's headers. Trust them only from a proxy on loopback.

    Fix::

        c.ServerApp.ip = '127.0.0.1'    # only the proxy on this machine reaches Jupyter

    Quiet under JupyterHub: jupyterhub-singleuser forces ``trust_xheaders = True`` above every
    config file, because the hub's proxy is the server's only intended client and passes the
    browser's scheme and address in those headers. Nothing in the user server can change it, so
    the finding would block every spawn and fix nothing; what matters there, who else can reach
    the port, is JH101's hub warning (``internal_ssl`` or a network policy).
    """

    id = "JH701"
    name = "xheaders-direct"
    severity = Severity.ERROR
    traits = ("ServerApp.trust_xheaders", "ServerApp.ip")
    summary = "trust_xheaders while reachable without the proxy"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when trust_xheaders is on and the server is remote (not the hub's forced value)."""
        if snap.trust_xheaders and snap.remote and snap.hub is None:
            yield self.finding(
                "ServerApp.trust_xheaders = True while the server is reachable from other hosts: "
                "anyone can forge X-Forwarded-* headers and bypass the proxy.",
                "c.ServerApp.ip = '127.0.0.1' so only the proxy on this machine reaches Jupyter",
                remedy=LOOPBACK,
            )


class CookieNotSecure(Rule):
    """A TLS proxy in front, but the login cookie is not marked Secure.

    Insecure::

        c.Hardening.public_url = 'https://jupyter.example.com/'
        # trust_xheaders off: Jupyter sees http and sends the cookie without Secure

    The browser will send that cookie over plain http too, where it can be stolen.

    Fix::

        c.ServerApp.trust_xheaders = True     # with Jupyter on loopback behind the proxy
        c.IdentityProvider.secure_cookie = True
    """

    id = "JH702"
    name = "cookie-not-secure"
    severity = Severity.WARNING
    traits = ("IdentityProvider.secure_cookie", "ServerApp.trust_xheaders")
    summary = "TLS proxy with a login cookie not marked Secure"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the public side is https but the cookie will not be Secure."""
        public = snap.public
        behind_tls = snap.trust_xheaders or (public is not None and public.scheme == "https")
        if snap.has_tls or not behind_tls:
            return
        if snap.secure_cookie is False or (snap.secure_cookie is None and not snap.trust_xheaders):
            yield self.finding(
                "Jupyter sits behind a TLS proxy but its login cookie is not marked Secure: the "
                "browser also sends it over plain http.",
                "c.IdentityProvider.secure_cookie = True (and c.ServerApp.trust_xheaders = True "
                "with the proxy on loopback)",
                remedy={"secure_cookie": True},
            )


class PublicPathMismatch(Rule):
    """``public_url``'s path differs from ``base_url``.

    The generated proxy passes paths unchanged; Jupyter must serve the same prefix.

    Insecure::

        c.Hardening.public_url = 'https://jupyter.example.com/jp/'
        c.ServerApp.base_url = '/'

    Fix::

        c.ServerApp.base_url = '/jp/'
    """

    id = "JH703"
    name = "public-path-mismatch"
    severity = Severity.ERROR
    traits = ("Hardening.public_url", "ServerApp.base_url")
    summary = "public_url path differs from base_url"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the paths differ."""
        public = snap.public
        if public is not None and public.path != snap.base_url:
            yield self.finding(
                f"Hardening.public_url has the path {public.path!r} but ServerApp.base_url is "
                f"{snap.base_url!r}: links and redirects break behind the proxy.",
                f"c.ServerApp.base_url = {public.path!r}",
                remedy={"base_url": public.path},
            )


class PublicHostNotLocal(Rule):
    """The proxy's host name is not in ``local_hostnames`` on a loopback server.

    jupyter_server answers 403 "non-local Host" to a proxied Host it does not know, unless
    ``allow_remote_access`` is on (which also lifts DNS-rebinding protection).

    Insecure::

        c.Hardening.public_url = 'https://jupyter.example.com/'
        c.ServerApp.ip = '127.0.0.1'      # local_hostnames left at ['localhost']

    Fix::

        c.ServerApp.local_hostnames = ['localhost', 'jupyter.example.com']
    """

    id = "JH704"
    name = "public-host-not-local"
    severity = Severity.ERROR
    traits = ("ServerApp.local_hostnames", "Hardening.public_url")
    summary = "public_url host missing from local_hostnames"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the public host would get 403 on a loopback server."""
        public = snap.public
        if public is None or snap.remote or snap.allow_remote_access:
            return
        address = ip_literal(public.host)
        if address is not None:
            # jupyter_server's host check takes an address only when it is loopback.
            if not address.is_loopback:
                yield self.finding(
                    f"Requests for {public.host} will get 403 'non-local Host': jupyter_server "
                    "accepts an address in the Host header only when it is loopback, and "
                    "ServerApp.local_hostnames holds names, not addresses.",
                    "c.ServerApp.allow_remote_access = True (Jupyter stays on loopback behind the "
                    "proxy), or give the proxy a host name and list it in "
                    "c.ServerApp.local_hostnames",
                    remedy={"allow_remote_access": True},
                )
            return
        if public.host not in {h.lower() for h in snap.local_hostnames}:
            names = [*snap.local_hostnames, public.host]
            yield self.finding(
                f"Requests for {public.host} will get 403 'non-local Host': it is not in "
                f"{snap.setting_name('local_hostnames')}.",
                snap.override_fix("local_hostnames") + f"c.ServerApp.local_hostnames = {names!r}",
                remedy={
                    "local_hostnames": tuple(names),
                    "tornado_overrides": without_override(snap, "local_hostnames"),
                },
            )


class ProxyBypass(Rule):
    """A proxy is declared (``public_url``), yet Jupyter listens beyond loopback.

    Clients can skip the proxy and its TLS, auth gate and limits by using the port directly.

    Insecure::

        c.Hardening.public_url = 'https://jupyter.example.com/'
        c.ServerApp.ip = '0.0.0.0'

    Fix::

        c.ServerApp.ip = '127.0.0.1'      # the proxy on this machine is the only way in
    """

    id = "JH705"
    name = "proxy-bypass"
    severity = Severity.WARNING
    traits = ("ServerApp.ip", "Hardening.public_url")
    summary = "public_url set but the server is not on loopback"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when public_url is set and ip is not loopback."""
        if snap.public_url and snap.remote:
            yield self.finding(
                f"Hardening.public_url is set (a proxy is in front), but ServerApp.ip = {snap.ip!r} "
                "lets clients bypass the proxy.",
                "c.ServerApp.ip = '127.0.0.1'",
                remedy=LOOPBACK,
            )
