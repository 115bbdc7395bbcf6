"""Another identity provider, as an image or ``c.Spawner.args`` might install one (rule JH801).

jupyterhub's singleuser extension exits at load unless the provider has ``page_config_hook``
(a plain IdentityProvider crashes it), so a provider that can replace the hub's has one.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.identity import IdentityProvider


class OtherProvider(IdentityProvider):
    """jupyter_server's token provider, with the hook the hub's extension calls."""

    def page_config_hook(self, handler: Any, page_config: dict[str, Any]) -> dict[str, Any]:
        """Leave the page config as it is."""
        return page_config
