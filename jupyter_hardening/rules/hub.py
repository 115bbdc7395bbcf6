"""JH8xx — a JupyterHub user server judged in the hub's model (see docs/jupyterhub.md).

These rules fire only when the snapshot's ``hub`` is set (jupyterhub-singleuser, as the server
extension of JupyterHub >= 4 or the legacy app). Their fixes name where a hub admin changes
things: ``jupyterhub_config.py`` (``c.Spawner.args``, ``c.Spawner.environment``), z2jh's
``values.yaml``, or the user image's config; never a setting the hub overrides.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..record import replace
from ..snapshot import Snapshot
from .base import Finding, Rule, Severity
from .csp import frame_ancestors


class HubAuthReplaced(Rule):
    """A JupyterHub user server whose identity provider is not the hub's.

    Insecure (jupyterhub_config.py)::

        c.Spawner.args = ['--ServerApp.identity_provider_class=jupyter_server.auth.IdentityProvider']

    jupyterhub-singleuser installs ``JupyterHubIdentityProvider`` (the hub's OAuth), but command
    line options outrank it. With another provider the hub's login and its per-user access check
    no longer guard the server: whoever reaches the port gets in with whatever that provider
    accepts (with no token configured: anyone).

    Fix (jupyterhub_config.py: leave the identity provider to jupyterhub-singleuser)::

        c.Spawner.args = []
    """

    id = "JH801"
    name = "hub-auth-replaced"
    severity = Severity.ERROR
    traits = ("ServerApp.identity_provider_class",)
    summary = "JupyterHub user server not guarded by the hub's OAuth"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when a hub user server's identity provider is not JupyterHub's."""
        if snap.hub is not None and not snap.hub.hub_auth:
            yield self.finding(
                f"This JupyterHub user server uses {snap.hub.other_identity_provider}, not the "
                "hub's JupyterHubIdentityProvider: the hub's login and access check no longer "
                "guard it.",
                "remove --ServerApp.identity_provider_class from c.Spawner.args in "
                "jupyterhub_config.py (z2jh: singleuser.cmd / singleuser.extraFiles) and from the "
                "user image's jupyter_server_config.py",
                remedy={"hub": replace(snap.hub, hub_auth=True)},
            )


class HubSharedOriginFraming(Rule):
    """``frame-ancestors 'self'`` on a hub where every user server shares one origin.

    Insecure (the user image's jupyter_server_config.py, hub without ``subdomain_host``)::

        c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "frame-ancestors 'self'"}}

    Without ``c.JupyterHub.subdomain_host`` the hub and all user servers are one origin, so
    ``'self'`` lets any user's page frame another user's server and drive it. JupyterHub's
    web-security docs list ``frame-ancestors 'self'`` as insecure there; its own default for
    user servers is ``frame-ancestors 'none'``. Subdomains are the only reliable isolation.

    Fix (or ``c.JupyterHub.subdomain_host`` in jupyterhub_config.py)::

        c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "frame-ancestors 'none'"}}
    """

    id = "JH802"
    name = "hub-shared-origin-framing"
    severity = Severity.WARNING
    traits = ("ServerApp.tornado_settings",)
    summary = "frame-ancestors 'self' where all JupyterHub user servers share one origin"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when a hub without subdomains lets 'self' frame the server."""
        if snap.hub is None or snap.hub.subdomains:
            return
        # No custom CSP at all: jupyter_server's default frame-ancestors 'self' is served.
        sources = ["'self'"] if snap.csp is None else frame_ancestors(snap.csp)
        if sources and "'self'" in (s.lower() for s in sources):
            yield self.finding(
                "frame-ancestors allows 'self', and this hub serves every user on one origin (no "
                "subdomain_host): any user's page can frame this server.",
                "c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "
                "\"frame-ancestors 'none'\"}} in the user image's jupyter_server_config.py (or "
                "remove the CSP there: the hub's extension then sends frame-ancestors 'none'); "
                "best, c.JupyterHub.subdomain_host = 'https://hub.example.org'",
                remedy={"csp": "frame-ancestors 'none'"},
            )


# Settings jupyterhub-singleuser sets above config files: a fix must not tell a hub admin to set them.
HUB_OVERRIDES = ("ip", "port", "base_url", "trust_xheaders", "allow_remote_access")
WHERE = (
    " (under JupyterHub: in the user image's jupyter_server_config.py, or as "
    "--Class.trait=value in c.Spawner.args in jupyterhub_config.py; z2jh: singleuser.extraFiles "
    "or singleuser.cmd in values.yaml)"
)


def where_in_hub(finding: Finding) -> Finding:
    """The finding with its fix saying where a hub admin writes a config line."""
    fix = finding.fix
    if "c." not in fix or any(
        k in fix for k in ("jupyterhub_config.py", "user image", "c.JupyterHub", "c.Spawner")
    ):
        return finding
    if any(f"c.ServerApp.{key} " in fix for key in HUB_OVERRIDES):
        return finding  # the hub overrides it; the rule's own hub branch names the hub's fix
    return replace(finding, fix=fix + WHERE)
