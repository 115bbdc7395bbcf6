"""Facts about running as a JupyterHub user server (jupyterhub-singleuser), read without importing
JupyterHub: the snapshot's ``hub`` field, and the admin-facing names of the places to fix things.

jupyterhub-singleuser sets ``ip``, ``port``, ``base_url``, ``trust_xheaders``,
``allow_remote_access`` and the identity provider above config files (DESIGN.md), so a fix inside
a hub is never ``c.ServerApp.ip = ...``: it is the hub's config, the Spawner's args or environment,
or the user image's config.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from .record import Record

# The identity provider JupyterHub >= 4's server extension installs (its OAuth).
HUB_IDENTITY_PROVIDER = "jupyterhub.singleuser.extension.JupyterHubIdentityProvider"
HUB_EXTENSION = "jupyterhub"  # the jpserver_extensions key of jupyterhub.singleuser.extension
LEGACY_MODULE = (
    "jupyterhub.singleuser.mixins"  # SingleUserNotebookApp (JUPYTERHUB_SINGLEUSER_EXTENSION=0)
)

# Where a hub admin changes a user server's setting (never a setting the hub overrides).
WHERE_INTERNAL_SSL = (
    "c.JupyterHub.internal_ssl = True in jupyterhub_config.py (mutual TLS between proxy, hub and "
    "user servers)"
)
WHERE_NETWORK_POLICY = (
    "on Kubernetes, z2jh's singleuser.networkPolicy.enabled: true (values.yaml) so only the proxy "
    "and the hub reach the server's port"
)


# A Record (record.py), not a dataclass or a NamedTuple: this module is imported at every start.
class HubFacts(Record):
    """This server runs under JupyterHub: how, and what the hub arranged for it."""

    # "extension" (JupyterHub >= 4's jupyterhub.singleuser.extension) or "legacy" (the app).
    mode: str
    user: str = ""
    server_name: str = ""
    # The hub's OAuth decides who gets in (its identity provider, or the legacy app's handlers).
    hub_auth: bool = True
    # The identity provider jupyter_server really uses, when it is not the hub's.
    other_identity_provider: str = ""
    # User servers on their own subdomains (c.JupyterHub.subdomain_host): one origin per user.
    subdomains: bool = False
    # c.Spawner.disable_user_config (JUPYTERHUB_DISABLE_USER_CONFIG): ~/.jupyter is not read.
    user_config_disabled: bool = False
    # The length of JUPYTERHUB_API_TOKEN: the hub's credential for this server, not a login token.
    api_token_length: int = 0

    def settings(self) -> dict[str, Any]:
        """Redacted facts for the report's settings."""
        return {
            "JupyterHub.mode": self.mode,
            "JupyterHub.user": self.user,
            "JupyterHub.server_name": self.server_name,
            "JupyterHub.subdomains": self.subdomains,
            "Spawner.disable_user_config": self.user_config_disabled,
        }


def _bool_env(name: str) -> bool:
    # jupyterhub.utils._bool_env: '' and '0' are false.
    return os.environ.get(name, "").lower() not in ("", "0", "false", "no")


def _host(url: str) -> str:
    try:
        return (urlparse(url).hostname or "").lower()
    except ValueError:
        return ""


def hub_facts(serverapp: Any, idp: Any) -> HubFacts | None:
    """The hub context of ``serverapp``, or None when it is no JupyterHub user server."""
    extensions = getattr(serverapp, "jpserver_extensions", {}) or {}
    extension = isinstance(extensions, Mapping) and bool(extensions.get(HUB_EXTENSION))
    legacy = any(cls.__module__ == LEGACY_MODULE for cls in type(serverapp).__mro__)
    if not (extension or legacy):
        return None
    provider = f"{type(idp).__module__}.{type(idp).__qualname__}" if idp is not None else ""
    mro = {f"{c.__module__}.{c.__qualname__}" for c in type(idp).__mro__} if idp else set()
    # The legacy app patches jupyter_server's base handler: the hub checks every request there.
    hub_auth = legacy or HUB_IDENTITY_PROVIDER in mro
    public, public_hub = (
        os.environ.get("JUPYTERHUB_PUBLIC_URL", ""),
        os.environ.get("JUPYTERHUB_PUBLIC_HUB_URL", ""),
    )
    # With subdomain_host, this server's public URL is on the user's own host (alice.hub.org).
    subdomains = bool(_host(public)) and _host(public) != _host(public_hub)
    token = os.environ.get("JUPYTERHUB_API_TOKEN") or os.environ.get("JPY_API_TOKEN") or ""
    return HubFacts(
        mode="extension" if extension else "legacy",
        user=os.environ.get("JUPYTERHUB_USER", ""),
        server_name=os.environ.get("JUPYTERHUB_SERVER_NAME", ""),
        hub_auth=hub_auth,
        other_identity_provider="" if hub_auth else provider,
        subdomains=subdomains,
        user_config_disabled=_bool_env("JUPYTERHUB_DISABLE_USER_CONFIG")
        or bool(getattr(serverapp, "disable_user_config", False)),
        api_token_length=len(token),
    )
