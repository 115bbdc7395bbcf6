"""JH81x-JH82x — the hub's own configuration (``jupyter hardening hub-check``, docs/hub-check.md).

These rules judge a HubSnapshot: what ``jupyterhub_config.py`` (its flags and environment) makes
the hub do, loaded as ``jupyterhub`` loads it. Each fix names the ``jupyterhub_config.py`` line
and, where one exists, the zero-to-jupyterhub ``values.yaml`` key (z2jh). ``c.Spawner.args``
and friends are judged by the user-server rules under their own ids (see hubcheck.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from ..printable import shell_word
from ..snapshot import Snapshot
from .auth import MIN_COOKIE_SECRET_BITS
from .base import Finding, Rule, Severity
from .exposure import advisory_findings

if TYPE_CHECKING:  # hub-check's data: imported by hub-check, not by every server start
    from ..hubsnapshot import HubSnapshot

# The hub's packages whose advisories hub-check reports: the hub process runs them.
HUB_PACKAGES = (
    "jupyterhub",
    "oauthenticator",
    "jupyterhub-nativeauthenticator",
    "jupyterhub-ldapauthenticator",
    "dockerspawner",
    "jupyterhub-kubespawner",
    "jupyterhub-systemdspawner",
    "batchspawner",
    "jupyterhub-idle-culler",
    "tornado",
)
# OAuth providers where anybody can make an account: allow_all lets the whole world in.
PUBLIC_PROVIDERS = (
    "GitHubOAuthenticator",
    "GitLabOAuthenticator",
    "GoogleOAuthenticator",
    "BitbucketOAuthenticator",
    "GlobusOAuthenticator",
    "MediaWikiOAuthenticator",
)


class HubRule(Rule):
    """A rule of the hub's configuration: judges a HubSnapshot only."""

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Judge ``snap`` when it is a hub's configuration."""
        from ..hubsnapshot import HubSnapshot

        if isinstance(snap, HubSnapshot):
            yield from self.judge(snap)

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Yield the findings of this rule for the hub's configuration."""
        raise NotImplementedError


class HubPublicWithoutTLS(HubRule):
    """The hub's public address is reachable from other hosts over plain http.

    Insecure (jupyterhub_config.py)::

        c.JupyterHub.bind_url = 'http://0.0.0.0:8000'

    Every login password, session cookie and notebook travels readable by anyone on the path.
    The proxy listens on ``bind_url`` (which ``ip`` and ``port`` also set; the default
    ``http://:8000`` is every interface). Quiet when the proxy speaks TLS itself
    (``ssl_cert``), listens on a unix socket, or on loopback only, where a TLS proxy in front
    (nginx, Caddy, an ingress) is the only way in. With an external proxy
    (``ConfigurableHTTPProxy.should_start = False``, as z2jh runs it) the proxy's TLS is not in
    this file: a warning, quiet once ``public_url`` is ``https://``.

    Fix (or ``c.JupyterHub.bind_url = 'http://127.0.0.1:8000'`` behind a TLS proxy; z2jh:
    ``proxy.https.enabled: true`` with ``proxy.https.hosts``)::

        c.JupyterHub.ssl_cert = '/etc/letsencrypt/live/hub.example.org/fullchain.pem'
        c.JupyterHub.ssl_key = '/etc/letsencrypt/live/hub.example.org/privkey.pem'
    """

    id = "JH810"
    name = "hub-public-without-tls"
    severity = Severity.ERROR
    traits = ("JupyterHub.bind_url", "JupyterHub.ip", "JupyterHub.ssl_cert")
    summary = "The hub's public address is reachable over plain http"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire on a non-loopback http bind without ssl_cert."""
        if snap.ssl_cert or snap.public_socket or snap.public_is_loopback:
            return
        host = snap.public_host or "every interface"
        if snap.proxy_external:
            # The proxy is started elsewhere (z2jh: its own pod): its TLS is not in this file,
            # but an https public_url says the admin put it there (jupyterhub keeps bind_url
            # http without ssl_cert).
            if snap.hub_public_url.startswith("https://"):
                return
            yield self.finding(
                f"JupyterHub's public URL is {snap.bind_url} ({host}, plain http) and its proxy "
                "runs outside the hub (should_start = False): unless that proxy or one in front "
                "of it terminates TLS, passwords and cookies cross the network readable.",
                "terminate TLS at the external proxy and say so: c.JupyterHub.public_url = "
                "'https://hub.example.org/' in jupyterhub_config.py (z2jh: proxy.https.enabled: "
                "true with proxy.https.hosts in values.yaml)",
                severity=Severity.WARNING,
                remedy={"hub_public_url": "https://hub.example.org/"},
            )
            return
        yield self.finding(
            f"JupyterHub's proxy listens on {snap.bind_url} ({host}) over plain http: "
            "passwords, session cookies and notebooks cross the network readable.",
            "c.JupyterHub.ssl_cert = '/path/fullchain.pem' and c.JupyterHub.ssl_key = "
            "'/path/privkey.pem' in jupyterhub_config.py, or c.JupyterHub.bind_url = "
            "'http://127.0.0.1:8000' behind a TLS proxy (z2jh: proxy.https.enabled: true "
            "with proxy.https.hosts in values.yaml)",
            remedy={"public_host": "127.0.0.1", "public_is_loopback": True},
        )


class HubApiExposed(HubRule):
    """The hub's own API listens beyond loopback while its user servers run on this host.

    Insecure (jupyterhub_config.py, LocalProcessSpawner)::

        c.JupyterHub.hub_ip = '0.0.0.0'

    The hub's API (port 8081) is meant for the proxy and the user servers only. With a local
    spawner both run on this host, so loopback is enough, and every other host that can reach
    port 8081 gets a login page and an API to probe that nothing needs to offer. Container and
    remote spawners do need it (their servers call the hub from elsewhere): then the rule is
    quiet, and a firewall or z2jh's ``hub.networkPolicy.enabled: true`` keeps others out.

    Fix::

        c.JupyterHub.hub_ip = '127.0.0.1'
    """

    id = "JH811"
    name = "hub-api-exposed"
    severity = Severity.WARNING
    traits = ("JupyterHub.hub_ip", "JupyterHub.hub_bind_url")
    summary = "The hub's API listens beyond loopback though only local servers need it"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire on a non-loopback hub bind with a local spawner and a hub-started proxy."""
        if snap.hub_is_loopback or snap.spawner_kind not in ("local", "shared-user"):
            return
        if snap.proxy_external:
            return  # an external proxy may run elsewhere and need the hub's address
        yield self.finding(
            f"The hub's API listens on {snap.hub_host or 'every interface'} "
            f"({snap.hub_bind_setting}), but its proxy and its {snap.spawner.rsplit('.', 1)[-1]} "
            "servers run on this host: other hosts reach an API nothing needs to offer them.",
            "c.JupyterHub.hub_ip = '127.0.0.1' in jupyterhub_config.py (and remove "
            "c.JupyterHub.hub_bind_url, or make it 'http://127.0.0.1:8081')",
            remedy={"hub_host": "127.0.0.1", "hub_is_loopback": True},
        )


class HubDummyAuthenticator(HubRule):
    """DummyAuthenticator: anyone logs in, as any user name, admins included.

    Insecure (jupyterhub_config.py)::

        c.JupyterHub.authenticator_class = 'dummy'

    It accepts any user name with any password; with ``c.DummyAuthenticator.password`` set,
    any user name with that one shared password (JupyterHub 5.3 deprecates it). A name in
    ``admin_users`` is an admin for whoever types it. JupyterHub logs "not meant for
    production"; it is for tests.

    Fix (PAM: this host's Unix accounts; or an OAuthenticator, or NativeAuthenticator; z2jh:
    ``hub.config.JupyterHub.authenticator_class``)::

        c.JupyterHub.authenticator_class = 'pam'
    """

    id = "JH812"
    name = "hub-dummy-authenticator"
    severity = Severity.ERROR
    traits = ("JupyterHub.authenticator_class", "DummyAuthenticator.password")
    summary = "DummyAuthenticator lets anyone log in as anyone"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire on DummyAuthenticator, with or without its password."""
        if "DummyAuthenticator" not in snap.authenticator_classes:
            return
        if snap.dummy_password_length:
            who = (
                f"anyone who knows one shared password (set, {snap.dummy_password_length} "
                "characters) logs in as any user name"
            )
        else:
            who = "anyone logs in as any user name with any password"
        admins = f", admins ({', '.join(snap.admin_users)}) included" if snap.admin_users else ""
        yield self.finding(
            f"The hub uses DummyAuthenticator: {who}{admins}.",
            "c.JupyterHub.authenticator_class = 'pam' (or an OAuthenticator, or 'native') in "
            "jupyterhub_config.py (z2jh: hub.config.JupyterHub.authenticator_class in values.yaml)",
            remedy={
                "authenticator": "jupyterhub.auth.PAMAuthenticator",
                "authenticator_classes": (
                    "PAMAuthenticator",
                    "LocalAuthenticator",
                    "Authenticator",
                ),
                "dummy_password_length": 0,
                "allow_all": False,
            },
        )


class HubOpenSignup(HubRule):
    """NativeAuthenticator with ``open_signup`` and ``allow_all``: anyone signs up and is in.

    Insecure (jupyterhub_config.py)::

        c.JupyterHub.authenticator_class = 'native'
        c.NativeAuthenticator.open_signup = True
        c.Authenticator.allow_all = True

    ``open_signup`` authorizes every new account at once, without an admin's approval, and
    ``allow_all`` lets every authorized account in: whoever reaches the sign-up page gets a
    server and runs code on it.

    Fix (new accounts wait for an admin's approval at ``/hub/authorize``)::

        c.NativeAuthenticator.open_signup = False
    """

    id = "JH813"
    name = "hub-open-signup"
    severity = Severity.ERROR
    traits = ("NativeAuthenticator.open_signup", "Authenticator.allow_all")
    summary = "NativeAuthenticator's open sign-up with allow_all lets anyone in"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire on open sign-up with allow_all."""
        if snap.open_signup and snap.allow_all:
            yield self.finding(
                "NativeAuthenticator.open_signup authorizes every new account at once and "
                "Authenticator.allow_all lets every account in: anyone who reaches the sign-up "
                "page gets a server.",
                "c.NativeAuthenticator.open_signup = False in jupyterhub_config.py (an admin "
                "approves accounts at /hub/authorize; z2jh: "
                "hub.config.NativeAuthenticator.open_signup: false)",
                remedy={"open_signup": False},
            )


class HubOAuthAllowAll(HubRule):
    """An OAuthenticator with ``allow_all``: every account at the provider gets a server.

    Insecure (jupyterhub_config.py)::

        c.JupyterHub.authenticator_class = 'github'
        c.Authenticator.allow_all = True

    ``allow_all`` is checked first, so ``allowed_users``, ``allowed_organizations`` or
    ``allowed_groups`` set beside it change nothing. An error for providers anyone can join
    (GitHub, GitLab.com, Google without ``hosted_domain``, Bitbucket, Globus, MediaWiki), a
    warning for your own identity provider (GenericOAuthenticator, Azure AD, Auth0, OpenShift,
    CILogon with ``allowed_idps``, a self-hosted GitLab), where the accounts are yours.

    Fix (with the provider's narrower setting: ``allowed_organizations``,
    ``allowed_groups``, ``allowed_google_groups``; z2jh: ``hub.config.Authenticator``)::

        c.Authenticator.allow_all = False
        c.Authenticator.allowed_users = {'alice', 'bob'}
    """

    id = "JH814"
    name = "hub-oauth-allow-all"
    severity = Severity.ERROR
    traits = ("Authenticator.allow_all", "JupyterHub.authenticator_class")
    summary = "An OAuthenticator with allow_all admits every account at the provider"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire on allow_all with an OAuthenticator; an error when the provider is public."""
        if not (snap.oauth and snap.allow_all):
            return
        provider = snap.authenticator_classes[0]
        public = provider in PUBLIC_PROVIDERS and not snap.oauth_narrowed_by
        ignored = (
            f" ({', '.join(snap.oauth_allowed)} set beside it change nothing)"
            if snap.oauth_allowed
            else ""
        )
        who = (
            f"every account anyone can make at {provider.removesuffix('OAuthenticator')}"
            if public
            else "every account of your identity provider"
            + (f" ({snap.oauth_narrowed_by})" if snap.oauth_narrowed_by else "")
        )
        yield self.finding(
            f"{provider} with Authenticator.allow_all = True lets {who} log in and get a "
            f"server{ignored}.",
            "c.Authenticator.allow_all = False with c.Authenticator.allowed_users = {...} or the "
            f"provider's allowed groups/organizations in jupyterhub_config.py (z2jh: "
            f"hub.config.Authenticator.allow_all: false and hub.config.{provider} in values.yaml)",
            severity=Severity.ERROR if public else Severity.WARNING,
            remedy={"allow_all": False},
        )


class HubAdminAccess(HubRule):
    """``admin_access``: admins act as any user (and the admin role does so anyway).

    Insecure (jupyterhub_config.py)::

        c.JupyterHub.admin_access = True

    Deprecated since JupyterHub 2.0: the built-in ``admin`` role already holds
    ``access:servers``, so every admin can open any user's server, run code as that user and
    read their files. The line says the deployment means that; what limits it is RBAC: give the
    people who administer users a custom role without ``access:servers``.

    Fix (remove the line; and for admins who should not enter servers, a role)::

        c.JupyterHub.load_roles = [{'name': 'user-admins', 'scopes': ['admin:users'], 'users': ['alice']}]
    """

    id = "JH815"
    name = "hub-admin-access"
    severity = Severity.WARNING
    traits = ("JupyterHub.admin_access",)
    summary = "admin_access: admins can act as any user"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire when admin_access is set."""
        if snap.admin_access:
            yield self.finding(
                "c.JupyterHub.admin_access = True: admins open any user's server and run code as "
                "that user (deprecated since JupyterHub 2.0: the admin role holds access:servers "
                "anyway, so the line changes nothing but says it is intended).",
                "remove c.JupyterHub.admin_access from jupyterhub_config.py (z2jh: "
                "hub.config.JupyterHub.admin_access); give those who only manage users a role "
                "without access:servers: c.JupyterHub.load_roles = [{'name': 'user-admins', "
                "'scopes': ['admin:users'], 'users': [...]}]",
                remedy={"admin_access": False},
            )


class HubAdminUsers(HubRule):
    """The admin list: who can act as every user.

    Insecure (jupyterhub_config.py, more admins than people who run the hub)::

        c.Authenticator.admin_users = {'alice', 'bob', 'carol', 'dave', 'erin'}

    Each name in ``admin_users`` holds the ``admin`` role: it can open and control every
    user's server (``access:servers``), make tokens for any user and change the hub's users.
    Reported as info so the list is reviewed; a name an attacker can register (open sign-up, a
    public OAuth provider) is an admin for whoever takes it.

    Fix (only the people who run the hub)::

        c.Authenticator.admin_users = {'alice'}
    """

    id = "JH816"
    name = "hub-admin-users"
    severity = Severity.INFO
    traits = ("Authenticator.admin_users",)
    summary = "The admin list: each admin can act as every user"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Report the admins."""
        if snap.admin_users:
            yield self.finding(
                f"{len(snap.admin_users)} admin user(s): {', '.join(snap.admin_users)}; each can "
                "open every user's server and act as that user (the admin role).",
                "keep c.Authenticator.admin_users in jupyterhub_config.py to the people who run "
                "the hub (z2jh: hub.config.Authenticator.admin_users)",
                remedy={"admin_users": ()},
            )


class HubCookieSecretWeak(HubRule):
    """The hub's cookie secret is weak or not 32 bytes.

    Insecure (jupyterhub_config.py)::

        c.JupyterHub.cookie_secret = b'secret'

    The cookie secret signs every login cookie of the hub: whoever guesses it logs in as any
    user, admins included. JupyterHub wants exactly 32 random bytes.

    Fix (JupyterHub then generates 32 random bytes into ``cookie_secret_file``, mode 0600; or
    ``export JPY_COOKIE_SECRET=$(openssl rand -hex 32)``; z2jh: leave ``hub.cookieSecret``
    unset, the chart generates it)::

        c.JupyterHub.cookie_secret_file = '/srv/jupyterhub/jupyterhub_cookie_secret'
    """

    id = "JH817"
    name = "hub-cookie-secret-weak"
    severity = Severity.ERROR
    traits = ("JupyterHub.cookie_secret", "JupyterHub.cookie_secret_file")
    summary = "The hub's cookie secret is weak or not 32 bytes"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire on a secret under the strength floor or of the wrong length."""
        if snap.cookie_secret_source in ("", "new"):
            return
        weak = snap.cookie_secret_bits < MIN_COOKIE_SECRET_BITS
        if not weak and snap.cookie_secret_length == 32:
            return
        where = {
            "config": "c.JupyterHub.cookie_secret",
            "env": "$JPY_COOKIE_SECRET",
            "file": "JupyterHub.cookie_secret_file",
        }[snap.cookie_secret_source]
        yield self.finding(
            f"The hub's cookie secret ({where}) is {snap.cookie_secret_length} bytes, about "
            f"{max(snap.cookie_secret_bits, 0.0):.0f} bits: it signs every login cookie, and JupyterHub "
            "wants 32 random bytes.",
            "remove c.JupyterHub.cookie_secret from jupyterhub_config.py and let JupyterHub "
            "generate c.JupyterHub.cookie_secret_file, or set JPY_COOKIE_SECRET=$(openssl rand "
            "-hex 32) (z2jh: leave hub.cookieSecret unset, the chart generates it)",
            severity=Severity.ERROR if weak else Severity.WARNING,
            remedy={
                "cookie_secret_length": 32,
                "cookie_secret_bits": 256.0,  # 32 random bytes, as `openssl rand -hex 32` makes
            },
        )


class HubSecretInConfig(HubRule):
    """A secret written in ``jupyterhub_config.py``: the cookie secret or an API token.

    Insecure (jupyterhub_config.py)::

        c.JupyterHub.services = [{'name': 'grader', 'api_token': '3f1c0ffee5d7a8b9c0d1e2f3a4b5c6d7'}]

    A config file is copied, committed, shown in support threads and read by everyone who can
    read ``/etc/jupyterhub``; a service token there is a credential with its service's scopes
    (``api_tokens``: a user's; ``service_tokens``: a service's), a cookie secret there forges every login, and the proxy's
    ``auth_token`` rewrites every route. Read them from the environment or a 0600 file instead.

    Fix (the service reads the same variable; z2jh: omit ``hub.services.NAME.apiToken`` and
    ``proxy.secretToken``, the chart generates them)::

        c.JupyterHub.services = [{'name': 'grader', 'api_token': os.environ['GRADER_TOKEN']}]
    """

    id = "JH818"
    name = "hub-secret-in-config"
    severity = Severity.WARNING
    traits = ("JupyterHub.services", "JupyterHub.api_tokens", "JupyterHub.service_tokens")
    summary = "A secret (cookie secret, API token) is written in jupyterhub_config.py"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """One finding per secret whose value is written in the config file."""
        for secret in snap.written_secrets:
            yield self.finding(
                f"{secret.setting} is written in the config file (set, {secret.length} "
                "characters): whoever reads or is sent the file holds the credential.",
                f"read it from the environment instead, e.g. os.environ['...'] in "
                f"jupyterhub_config.py, and rotate the value that was written down "
                f"({_z2jh_secret(secret.trait)})",
                traits=(secret.trait,),
                remedy={
                    "written_secrets": tuple(s for s in snap.written_secrets if s != secret),
                    **({"cookie_secret_written": False} if "cookie" in secret.trait else {}),
                },
            )


def _z2jh_secret(trait: str) -> str:
    return {
        "JupyterHub.cookie_secret": "z2jh: leave hub.cookieSecret unset, the chart generates it",
        "ConfigurableHTTPProxy.auth_token": "z2jh: leave proxy.secretToken unset",
        "JupyterHub.services": "z2jh: omit hub.services.NAME.apiToken, the chart generates it",
    }.get(trait, "z2jh: hub.services.NAME with no apiToken, the chart generates it")


class HubFileReadable(HubRule):
    """The cookie secret file or the hub's sqlite database can be read by other users.

    Insecure (shell)::

        -rw-r--r-- jupyterhub_cookie_secret
        -rw-r--r-- jupyterhub.sqlite

    The cookie secret forges every login; the database holds every user, their servers'
    addresses, OAuth clients and (hashed) tokens, and encrypted ``auth_state``. JupyterHub
    itself refuses a cookie secret file that *others* can read, but not one its group can,
    and writes ``jupyterhub.sqlite`` with the process umask (0644 by default).

    Fix (shell; the hub's user keeps reading them)::

        chmod 600 jupyterhub_cookie_secret jupyterhub.sqlite
    """

    id = "JH819"
    name = "hub-file-readable"
    severity = Severity.WARNING
    traits = ("JupyterHub.cookie_secret_file", "JupyterHub.db_url")
    summary = "The cookie secret file or the sqlite database is readable by others"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """One finding per hub file readable by group or others."""
        for f in snap.files:
            if not f.readable_by_others or f.mode is None:
                continue
            refused = f.role == "cookie secret file" and bool(f.mode & 0o007)
            yield self.finding(
                f"The hub's {f.role} {f.path} is mode {f.mode:04o}: other users can read it"
                + (
                    " (and JupyterHub refuses to start with it: 'cookie_secret_file can be read "
                    "or written by anybody')."
                    if refused
                    else "."
                ),
                f"chmod 600 {shell_word(f.path)}",
                traits=(f.setting,),
                severity=Severity.ERROR if refused else Severity.WARNING,
                remedy={
                    "files": tuple(
                        dataclasses.replace(g, mode=0o600) if g == f else g for g in snap.files
                    )
                },
            )


class HubProxyTokenMissing(HubRule):
    """An external proxy (``should_start = False``) and no ``CONFIGPROXY_AUTH_TOKEN``.

    Insecure (jupyterhub_config.py, CONFIGPROXY_AUTH_TOKEN not exported)::

        c.ConfigurableHTTPProxy.should_start = False

    The hub and an external configurable-http-proxy share one token that guards the proxy's
    route API. Without it JupyterHub refuses to start ("auth_token or CONFIGPROXY_AUTH_TOKEN
    env is required"); a proxy started without one accepts route changes from anyone who
    reaches its API port.

    Fix (the same value in the proxy's environment; z2jh: ``proxy.secretToken``, generated)::

        export CONFIGPROXY_AUTH_TOKEN=$(openssl rand -hex 32)
    """

    id = "JH820"
    name = "hub-proxy-token-missing"
    severity = Severity.ERROR
    traits = ("ConfigurableHTTPProxy.should_start", "ConfigurableHTTPProxy.auth_token")
    summary = "An external proxy without CONFIGPROXY_AUTH_TOKEN"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire on an external proxy without a token."""
        if snap.proxy_external and not snap.proxy_token_length:
            yield self.finding(
                "ConfigurableHTTPProxy.should_start = False and no CONFIGPROXY_AUTH_TOKEN: "
                "JupyterHub refuses to start, and the external proxy's route API has no "
                "shared secret.",
                "export CONFIGPROXY_AUTH_TOKEN=$(openssl rand -hex 32) in the environment of both "
                "the hub and configurable-http-proxy (z2jh: proxy.secretToken, generated when "
                "unset)",
                remedy={"proxy_token_length": 64},
            )


class HubSharedUnixUser(HubRule):
    """SimpleLocalProcessSpawner in a hub with more than one user: one Unix user for all.

    Insecure (jupyterhub_config.py)::

        c.JupyterHub.spawner_class = 'simple'
        c.Authenticator.allow_all = True

    Every user's server runs as the hub's own Unix user: each user can read the others' files
    and their server's ``JUPYTERHUB_API_TOKEN`` from ``/proc/PID/environ`` (tests show it),
    then act as them. JupyterHub documents this spawner as for testing.

    Fix (each user's server as that user's Unix account; DockerSpawner or KubeSpawner for
    isolation without Unix accounts)::

        c.JupyterHub.spawner_class = 'localprocess'
    """

    id = "JH821"
    name = "hub-shared-unix-user"
    severity = Severity.ERROR
    traits = ("JupyterHub.spawner_class",)
    summary = "SimpleLocalProcessSpawner: every user's server runs as one Unix user"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire on the shared-user spawner when more than one person can log in."""
        if snap.spawner_kind == "shared-user" and snap.multi_user:
            yield self.finding(
                f"{snap.spawner.rsplit('.', 1)[-1]} runs every user's server as the hub's own Unix "
                "user: any user reads the others' files and API tokens (/proc/PID/environ) and "
                "acts as them.",
                "c.JupyterHub.spawner_class = 'localprocess' (each user's own Unix account) or "
                "'docker' / KubeSpawner in jupyterhub_config.py",
                remedy={
                    "spawner": "jupyterhub.spawner.LocalProcessSpawner",
                    "spawner_classes": ("LocalProcessSpawner", "Spawner"),
                },
            )


class HubUserConfigEnabled(HubRule):
    """User servers read the user's own ``~/.jupyter``: users can switch the audit off.

    Insecure (jupyterhub_config.py: the default)::

        c.Spawner.disable_user_config = False

    A user's ``~/.jupyter/jupyter_server_config.json`` loads after the image's config: it can
    disable jupyter_hardening (``jpserver_extensions``), lower ``c.Hardening.refuse_at`` and
    undo the admin's settings that are not on the command line.

    Fix (z2jh: ``singleuser.extraEnv: {JUPYTERHUB_DISABLE_USER_CONFIG: "1"}``)::

        c.Spawner.disable_user_config = True
    """

    id = "JH822"
    name = "hub-user-config-enabled"
    severity = Severity.WARNING
    traits = ("Spawner.disable_user_config",)
    summary = "User servers load the user's ~/.jupyter config (disable_user_config off)"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire when users' config folders are read."""
        if not snap.disable_user_config:
            yield self.finding(
                "User servers load each user's ~/.jupyter config after the admin's: a user can "
                "switch jupyter_hardening off and undo the image's settings.",
                "c.Spawner.disable_user_config = True in jupyterhub_config.py (z2jh: "
                "singleuser.extraEnv: {JUPYTERHUB_DISABLE_USER_CONFIG: '1'})",
                remedy={"disable_user_config": True},
            )


class HubNoSubdomains(HubRule):
    """No ``subdomain_host``: the hub and every user's server share one origin.

    Insecure (jupyterhub_config.py: the default)::

        c.JupyterHub.subdomain_host = ''

    On one origin, JavaScript in one user's notebook or a file served by their server runs
    with the same origin as another user's server and the hub: JupyterHub's security docs call
    per-user subdomains the only reliable protection against users attacking each other. The
    trade-off: wildcard DNS (``*.hub.example.org``) and a wildcard certificate. A warning,
    since many hubs whose users trust each other accept it:
    ``c.Hardening.accepted_risks = {'JH823': 'one research group, users trust each other'}``.

    Fix (z2jh: ``hub.config.JupyterHub.subdomain_host``, with wildcard DNS and certificate)::

        c.JupyterHub.subdomain_host = 'https://hub.example.org'
    """

    id = "JH823"
    name = "hub-no-subdomains"
    severity = Severity.WARNING
    traits = ("JupyterHub.subdomain_host",)
    summary = "No subdomain_host: all user servers share one origin"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire when subdomain_host is empty."""
        if not snap.subdomain_host:
            yield self.finding(
                "No c.JupyterHub.subdomain_host: the hub and every user's server share one "
                "origin, so one user's page can script another's server (the only reliable "
                "isolation is per-user subdomains; it needs wildcard DNS and a wildcard "
                "certificate).",
                "c.JupyterHub.subdomain_host = 'https://hub.example.org' in jupyterhub_config.py "
                "with *.hub.example.org in DNS and the certificate (z2jh: "
                "hub.config.JupyterHub.subdomain_host), or accept: c.Hardening.accepted_risks = "
                "{'JH823': '<why users trust each other>'}",
                remedy={"subdomain_host": "https://hub.example.org"},
            )


class HubInternalPlainHttp(HubRule):
    """Container or remote user servers reached over plain http (``internal_ssl`` off).

    Insecure (jupyterhub_config.py)::

        c.JupyterHub.spawner_class = 'docker'

    With DockerSpawner or KubeSpawner the proxy reaches each user's server over the network,
    and each server calls the hub's API with its token: over plain http, anything on that
    network reads the traffic and the tokens. ``internal_ssl`` turns on mutual TLS between
    proxy, hub and servers (the hub makes the certificates).

    Fix (on Kubernetes, z2jh's ``singleuser.networkPolicy.enabled: true`` limits who can
    reach the servers instead)::

        c.JupyterHub.internal_ssl = True
    """

    id = "JH824"
    name = "hub-internal-plain-http"
    severity = Severity.WARNING
    traits = ("JupyterHub.internal_ssl", "JupyterHub.spawner_class")
    summary = "Network spawner without internal_ssl: internal traffic in plain http"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire on a network spawner without internal_ssl."""
        if snap.spawner_kind == "network" and not snap.internal_ssl:
            yield self.finding(
                f"{snap.spawner.rsplit('.', 1)[-1]} servers are reached over the network in plain "
                "http: anything on that network reads notebooks, cookies and the servers' API "
                "tokens.",
                "c.JupyterHub.internal_ssl = True in jupyterhub_config.py (mutual TLS between "
                "proxy, hub and servers), or on Kubernetes z2jh's "
                "singleuser.networkPolicy.enabled: true",
                remedy={"internal_ssl": True},
            )


class HubCookieHostPrefix(HubRule):
    """``cookie_host_prefix_enabled`` that does not match ``subdomain_host``.

    Insecure (jupyterhub_config.py: subdomains without the ``__Host-`` prefix)::

        c.JupyterHub.subdomain_host = 'https://hub.example.org'
        c.JupyterHub.cookie_host_prefix_enabled = False

    With per-user subdomains, a user's server on ``alice.hub.example.org`` can set cookies for
    ``hub.example.org`` (cookie tossing) unless the hub's cookies carry the ``__Host-`` prefix.
    Without subdomains the prefix does the opposite of what is wanted: ``__Host-`` cookies
    must be set on path ``/``, so every user server on the one origin receives the hub's
    cookies; JupyterHub recommends it only with per-user domains.

    Fix (with subdomain_host; without it, leave the prefix off)::

        c.JupyterHub.cookie_host_prefix_enabled = True
    """

    id = "JH825"
    name = "hub-cookie-host-prefix"
    severity = Severity.WARNING
    traits = ("JupyterHub.cookie_host_prefix_enabled", "JupyterHub.subdomain_host")
    summary = "cookie_host_prefix_enabled does not match subdomain_host"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """Fire on subdomains without the prefix, or the prefix without subdomains."""
        if snap.subdomain_host and not snap.cookie_host_prefix:
            yield self.finding(
                "subdomain_host is set but the hub's cookies lack the __Host- prefix: a user's "
                "server on its own subdomain can toss cookies to the hub's domain.",
                "c.JupyterHub.cookie_host_prefix_enabled = True in jupyterhub_config.py (z2jh: "
                "hub.config.JupyterHub.cookie_host_prefix_enabled: true)",
                remedy={"cookie_host_prefix": True},
            )
        elif snap.cookie_host_prefix and not snap.subdomain_host:
            yield self.finding(
                "cookie_host_prefix_enabled without subdomain_host: __Host- cookies are set on "
                "path /, so every user's server on the hub's one origin receives the hub's "
                "cookies.",
                "c.JupyterHub.cookie_host_prefix_enabled = False in jupyterhub_config.py, or set "
                "c.JupyterHub.subdomain_host (z2jh: hub.config.JupyterHub)",
                remedy={"cookie_host_prefix": False},
            )


class HubKnownAdvisory(HubRule):
    """The installed JupyterHub (or an authenticator or spawner of the hub) has advisories.

    The hub's packages (jupyterhub, the OAuthenticator, NativeAuthenticator, LDAP
    authenticator, DockerSpawner, KubeSpawner, SystemdSpawner, batchspawner, the idle culler
    and tornado), as installed where hub-check runs, are matched against the advisory
    snapshot of ``jupyter hardening advisories`` (JH902's data). Critical and high advisories
    are errors, moderate ones warnings, low ones info. An advisory is accepted by its id or
    an alias in ``c.Hardening.accepted_risks`` in jupyterhub_config.py.

    Insecure::

        pip install 'jupyterhub==4.1.5'   # CVE-2024-41942 and later advisories

    Fix (the lowest version that fixes every advisory, named in the finding)::

        pip install -U 'jupyterhub>=5.5.0'
    """

    id = "JH826"
    name = "hub-known-advisory"
    severity = Severity.ERROR
    traits = ("Hardening.accepted_risks",)
    summary = "The hub's installed packages have published security advisories"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """One finding per vulnerable hub package."""
        return self.judge_accepting(snap, {})

    def check_accepting(self, snap: Snapshot, accepted: Mapping[str, str]) -> Iterator[Finding]:
        """:meth:`judge`, with advisories accepted one by one (as JH902)."""
        from ..hubsnapshot import HubSnapshot

        if isinstance(snap, HubSnapshot):
            yield from self.judge_accepting(snap, accepted)

    def judge_accepting(self, snap: HubSnapshot, accepted: Mapping[str, str]) -> Iterator[Finding]:
        """Findings for the advisories not accepted, one per advisory accepted."""
        return advisory_findings(
            self, snap.vulnerable, accepted, "the hub serves users", owner="The hub's "
        )
