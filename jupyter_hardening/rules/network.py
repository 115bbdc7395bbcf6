"""JH1xx — who can reach the server, and what protects it on the way (network exposure)."""

from __future__ import annotations

from collections.abc import Iterator

from ..facts import is_wildcard
from ..snapshot import Snapshot
from .base import GENERATED_TOKEN, LOOPBACK, Finding, Rule, Severity, without_override


def _where(snap: Snapshot) -> str:
    if is_wildcard(snap.ip):
        return f"ServerApp.ip = {snap.ip!r} listens on all interfaces and is reachable from other hosts"
    return f"ServerApp.ip = {snap.ip!r} is reachable from other hosts"


class RemoteWithoutTLS(Rule):
    """Reachable from other hosts over plain http.

    Insecure::

        c.ServerApp.ip = '*'          # no certfile, no proxy

    The token or password, the session cookie and every notebook cross the network in clear text.

    Fix (behind a TLS proxy, ``jupyter hardening nginx-snippet``; or give the server
    ``c.ServerApp.certfile`` and ``keyfile``)::

        c.ServerApp.ip = '127.0.0.1'

    Under JupyterHub this is a warning, not a refusal: container spawners (KubeSpawner,
    DockerSpawner) start every user server on ``0.0.0.0`` and jupyterhub-singleuser sets ``ip``
    above config files, so only the proxy-to-server hop is plain http. The hub's fixes are
    ``c.JupyterHub.internal_ssl = True`` (mutual TLS: the server then has a certificate and a
    ``client_ca``, and this rule is quiet) or, on Kubernetes, z2jh's network policy.
    """

    id = "JH101"
    name = "remote-without-tls"
    severity = Severity.ERROR
    traits = ("ServerApp.ip", "ServerApp.certfile")
    summary = "Reachable from other hosts without TLS"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when the server is remote and has no certificate."""
        if snap.hub is not None and snap.remote and not snap.has_tls:
            from ..hubcontext import WHERE_INTERNAL_SSL, WHERE_NETWORK_POLICY  # only in a hub

            yield self.finding(
                f"This JupyterHub user server listens on {snap.ip or 'all interfaces'!r} (set by "
                "the spawner, above config files) over plain http: on the hop from the hub's "
                "proxy, other hosts on that network can read and reach it.",
                f"{WHERE_INTERNAL_SSL}; or {WHERE_NETWORK_POLICY}; or c.Spawner.ip = '127.0.0.1' "
                "with a local spawner",
                severity=Severity.WARNING,
                remedy=LOOPBACK,
            )
            return
        if snap.remote and not snap.has_tls:
            yield self.finding(
                f"{_where(snap)} over plain http: passwords, tokens and cookies travel in clear text.",
                "c.ServerApp.ip = '127.0.0.1' and put a TLS proxy in front "
                "(jupyter hardening nginx-snippet), or set c.ServerApp.certfile and "
                "c.ServerApp.keyfile",
                remedy=LOOPBACK,
            )


class RemoteWithoutAuth(Rule):
    """Reachable from other hosts with neither a token nor a password.

    Insecure::

        c.ServerApp.ip = '0.0.0.0'
        c.IdentityProvider.token = ''

    Anyone who can reach the port runs code as the server's user.

    Fix::

        jupyter server password      # stores an argon2 hash; or delete the token = '' line
    """

    id = "JH102"
    name = "remote-without-auth"
    severity = Severity.ERROR
    traits = ("ServerApp.ip", "IdentityProvider.token", "PasswordIdentityProvider.hashed_password")
    summary = "Reachable from other hosts with no authentication"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when remote and neither token nor password protects the server."""
        if snap.hub is not None and snap.hub.hub_auth:
            return  # JupyterHub's OAuth guards every request (JH801 fires when it does not)
        if snap.remote and not snap.auth_enabled:
            yield self.finding(
                f"{_where(snap)} and requires no token and no password: "
                "anyone who reaches the port can run code as this user.",
                "run `jupyter server password` (stores an argon2 hash), or remove "
                "c.IdentityProvider.token = '' so a random token is generated",
                remedy=GENERATED_TOKEN,
            )


class LocalWithoutAuth(Rule):
    """No authentication on a loopback server.

    Other users of the machine, and web pages through DNS rebinding when
    ``allow_remote_access`` is on, can run code as you.

    Insecure::

        c.ServerApp.ip = '127.0.0.1'
        c.IdentityProvider.token = ''
        c.ServerApp.allow_remote_access = True

    Fix::

        jupyter server password      # or delete the token = '' line: a random token is generated
    """

    id = "JH103"
    name = "local-without-auth"
    severity = Severity.WARNING
    traits = ("IdentityProvider.token", "ServerApp.allow_remote_access")
    summary = "No authentication on loopback"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire on a non-remote server with auth disabled."""
        if snap.remote or snap.auth_enabled or (snap.hub is not None and snap.hub.hub_auth):
            return
        fix = "remove c.IdentityProvider.token = '' (a random token is then generated)"
        if snap.allow_remote_access:
            yield self.finding(
                f"No token and no password, and {snap.setting_name('allow_remote_access')} = True: "
                "any web page can reach this server through DNS rebinding and run code.",
                snap.override_fix("allow_remote_access")
                + fix
                + ", and set c.ServerApp.allow_remote_access = False",
                severity=Severity.ERROR,
                remedy={
                    **GENERATED_TOKEN,
                    "allow_remote_access": False,
                    "tornado_overrides": without_override(snap, "allow_remote_access"),
                },
            )
        else:
            yield self.finding(
                "No token and no password: every user and process on this machine can run code "
                "as you.",
                fix,
                remedy=GENERATED_TOKEN,
            )


class RootRemote(Rule):
    """Running as root on a server that other hosts can reach.

    Insecure::

        jupyter lab --ip=0.0.0.0 --allow-root

    A kernel is a root shell for whoever logs in: one leaked token owns the machine.

    Fix::

        sudo useradd --system --create-home --home-dir /srv/jupyter --shell /bin/bash jupyter
        sudo jupyter hardening systemd-unit --user jupyter --output /etc/systemd/system/jupyter.service
    """

    id = "JH104"
    name = "root-remote"
    severity = Severity.WARNING
    traits = ("ServerApp.allow_root", "ServerApp.ip")
    summary = "Running as root while reachable from other hosts"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when root with allow_root on a remote server."""
        if snap.hub is not None and snap.remote and snap.running_as_root and snap.allow_root:
            yield self.finding(
                "This JupyterHub user server runs as root with ServerApp.allow_root = True: "
                "every kernel is a root shell in the user's container or host.",
                "run user servers as an unprivileged user: the image's USER (docker-stacks: "
                "jovyan), z2jh singleuser.uid: 1000 in values.yaml, LocalProcessSpawner as the "
                "user's own account; and drop --allow-root from c.Spawner.args",
                remedy={"running_as_root": False, "allow_root": False},
            )
            return
        if snap.remote and snap.running_as_root and snap.allow_root:
            yield self.finding(
                f"Running as root with ServerApp.allow_root = True, and {_where(snap)}: every "
                "kernel is a root shell.",
                "run Jupyter as an unprivileged user (useradd jupyter; a systemd unit with "
                "User=jupyter) and drop allow_root (c.ServerApp.allow_root = True in a config "
                "file, or --allow-root)",
                remedy={"running_as_root": False, "allow_root": False},
            )
