"""One read of a JupyterHub's configuration (``jupyterhub_config.py``) into plain, frozen data.

The input of the JH81x-JH82x rules (rules/hubconfig.py). Like the server's Snapshot, it holds
facts *about* secrets (a cookie secret's length and strength, where a token is written) and
never the secrets themselves. It is a Snapshot so that the report, the policy, SARIF and
provenance of ``check`` serve ``hub-check`` unchanged; the server fields keep their defaults.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from typing import Any

from .record import field
from .snapshot import Snapshot

# Spawners whose user servers all run as the hub's own Unix user.
SHARED_USER_SPAWNERS = ("SimpleLocalProcessSpawner",)
# Spawners that start user servers on this host, each as its user.
LOCAL_SPAWNERS = ("LocalProcessSpawner", "SystemdSpawner", "SudoSpawner")
# Spawners that start user servers in containers or on other hosts: the proxy reaches them over
# the network, and they reach the hub's API over it.
NETWORK_SPAWNERS = (
    "DockerSpawner",
    "SwarmSpawner",
    "SystemUserSpawner",
    "KubeSpawner",
    "BatchSpawnerBase",
    "SSHSpawner",
    "YarnSpawner",
)


@dataclass(frozen=True)
class HubFile:
    """A file the hub reads a secret from or keeps its state in, with its mode."""

    role: str  # 'cookie secret file' or 'database'
    setting: str  # the setting that names it: JupyterHub.cookie_secret_file, JupyterHub.db_url
    path: str
    mode: int | None = None  # None: the file does not exist (yet)

    @property
    def readable_by_others(self) -> bool:
        """True when users other than the owner may read the file."""
        return self.mode is not None and bool(self.mode & (stat.S_IRGRP | stat.S_IROTH))


@dataclass(frozen=True)
class WrittenSecret:
    """A secret whose value is written in the config file itself (never the value)."""

    setting: str  # the setting as the report names it: "JupyterHub.services[0]['api_token']"
    trait: str  # the Class.trait the config file assigns (for its file:line)
    length: int


class HubSnapshot(Snapshot):
    """The effective security settings of one JupyterHub configuration, as it would start."""

    hub_version: str = ""
    config_file: str = ""
    # The public side (the proxy's bind): JupyterHub.bind_url, which ip/port also set.
    bind_url: str = "http://:8000"
    public_host: str = ""
    public_is_loopback: bool = False
    public_socket: bool = False
    ssl_cert: str = ""
    hub_public_url: str = ""  # JupyterHub.public_url: where users reach it (an outer proxy's)
    # The hub's own API (JupyterHub.hub_bind_url or hub_ip).
    hub_bind_setting: str = "JupyterHub.hub_ip"
    hub_host: str = "127.0.0.1"
    hub_is_loopback: bool = True
    # Authentication and admins.
    authenticator: str = "jupyterhub.auth.PAMAuthenticator"
    authenticator_classes: tuple[str, ...] = ("PAMAuthenticator", "Authenticator")
    allow_all: bool = False
    allowed_users: tuple[str, ...] = ()
    admin_users: tuple[str, ...] = ()
    dummy_password_length: int = 0
    open_signup: bool = False
    # OAuthenticator: the allowed_* settings that are set, and what narrows who can log in at
    # all (Google's hosted_domain, a self-hosted GitLab, CILogon's allowed_idps).
    oauth_allowed: tuple[str, ...] = ()
    oauth_narrowed_by: str = ""
    admin_access: bool = False
    # Secrets: the cookie secret (source, length and bits are the Snapshot's own fields).
    cookie_secret_written: bool = False
    written_secrets: tuple[WrittenSecret, ...] = ()
    files: tuple[HubFile, ...] = ()
    proxy_class: str = "ConfigurableHTTPProxy"
    proxy_external: bool = False
    proxy_token_length: int = 0
    # Spawning.
    spawner: str = "jupyterhub.spawner.LocalProcessSpawner"
    spawner_classes: tuple[str, ...] = ("LocalProcessSpawner", "Spawner")
    multi_user: bool = True
    disable_user_config: bool = False
    subdomain_host: str = ""
    internal_ssl: bool = False
    cookie_host_prefix: bool = False
    # Server findings that c.Spawner.args/cmd/environment cause (the user-server rules' own).
    spawner_findings: tuple[Any, ...] = field(default=(), compare=False)
    spawner_args: tuple[str, ...] = ()

    @property
    def spawner_kind(self) -> str:
        """'shared-user', 'local', 'network' or 'unknown'."""
        names = set(self.spawner_classes)
        if names & set(SHARED_USER_SPAWNERS):
            return "shared-user"
        if names & set(NETWORK_SPAWNERS):
            return "network"
        if names & set(LOCAL_SPAWNERS):
            return "local"
        return "unknown"

    @property
    def oauth(self) -> bool:
        """True for an OAuthenticator."""
        return "OAuthenticator" in self.authenticator_classes

    def settings(self) -> dict[str, Any]:
        """The effective settings, redacted: safe to log and to serve."""
        secret = {
            "config": f"set in the config ({self.cookie_secret_length} bytes)",
            "env": f"from $JPY_COOKIE_SECRET ({self.cookie_secret_length} bytes)",
            "file": f"from JupyterHub.cookie_secret_file ({self.cookie_secret_length} bytes)",
            "new": "generated at the first start and written to JupyterHub.cookie_secret_file",
        }.get(self.cookie_secret_source, "not known")
        return {
            "JupyterHub.version": self.hub_version,
            "JupyterHub.config_file": self.config_file,
            "JupyterHub.bind_url": self.bind_url,
            "JupyterHub.ssl_cert": self.ssl_cert,
            "JupyterHub.public_url": self.hub_public_url,
            "JupyterHub.hub_bind_url": self.hub_host,
            "JupyterHub.authenticator_class": self.authenticator,
            "Authenticator.allow_all": self.allow_all,
            "Authenticator.allowed_users": len(self.allowed_users),
            "Authenticator.admin_users": list(self.admin_users),
            "JupyterHub.admin_access": self.admin_access,
            "JupyterHub.cookie_secret": secret,
            "JupyterHub.cookie_secret_file": next(
                (_file_text(f) for f in self.files if f.role == "cookie secret file"), ""
            ),
            "JupyterHub.db_url": next(
                (_file_text(f) for f in self.files if f.role == "database"), "not a sqlite file"
            ),
            "secrets written in the config": [
                f"{s.setting} (set, {s.length} characters)" for s in self.written_secrets
            ],
            "ConfigurableHTTPProxy.should_start": not self.proxy_external,
            "ConfigurableHTTPProxy.auth_token": (
                f"set ({self.proxy_token_length} characters)"
                if self.proxy_token_length
                else ("generated at start" if not self.proxy_external else "not set")
            ),
            "JupyterHub.spawner_class": self.spawner,
            "Spawner.args": list(self.spawner_args),
            "Spawner.disable_user_config": self.disable_user_config,
            "JupyterHub.subdomain_host": self.subdomain_host,
            "JupyterHub.internal_ssl": self.internal_ssl,
            "JupyterHub.cookie_host_prefix_enabled": self.cookie_host_prefix,
            "advisory snapshot": self.advisories.describe(),
        }


def _file_text(f: HubFile) -> str:
    mode = "does not exist yet" if f.mode is None else f"mode {f.mode:04o}"
    return f"{f.path} ({mode})"
