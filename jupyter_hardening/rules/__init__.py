"""The ordered registry of rules: one module per concern, ids in bands (JH1xx network ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .auth import (
    DeprecatedPasswordName,
    PasswordNotHashed,
    SecretFileReadable,
    TokenWhitespace,
    WeakCookieSecret,
    WeakPasswordHash,
    WeakToken,
    XSRFDisabled,
)
from .base import Described, Finding, Rule, Severity
from .cors import (
    AnyOrigin,
    CredentialsBroadOrigin,
    LooseOriginPattern,
    OriginPatternBacktracking,
)
from .csp import FrameAncestorsBroad, FrameAncestorsIgnored, FrameAncestorsMissing
from .exposure import AdvisoriesStale, KnownAdvisory, RouteWithoutLogin
from .extensions import ExtensionMissing, ExtensionSettingsDropped
from .hub import HubAuthReplaced, HubSharedOriginFraming
from .meta import AuditDisabled, UnknownAcceptedRisk, UnreadableSetting
from .network import LocalWithoutAuth, RemoteWithoutAuth, RemoteWithoutTLS, RootRemote
from .proxy import (
    CookieNotSecure,
    ProxyBypass,
    PublicHostNotLocal,
    PublicPathMismatch,
    XHeadersDirect,
)
from .tls import (
    CertificateExpiry,
    ClientCAUnusable,
    KeyMismatch,
    KeyPermissions,
    SelfSigned,
    TLSFileUnusable,
    WeakKey,
)
from .urls import BaseUrlNotPath, BaseUrlUnsafe

RULES: tuple[Rule, ...] = (
    UnreadableSetting(),
    UnknownAcceptedRisk(),
    AuditDisabled(),
    ExtensionMissing(),
    ExtensionSettingsDropped(),
    RemoteWithoutTLS(),
    RemoteWithoutAuth(),
    LocalWithoutAuth(),
    RootRemote(),
    WeakToken(),
    PasswordNotHashed(),
    WeakPasswordHash(),
    DeprecatedPasswordName(),
    XSRFDisabled(),
    TokenWhitespace(),
    WeakCookieSecret(),
    SecretFileReadable(),
    AnyOrigin(),
    LooseOriginPattern(),
    CredentialsBroadOrigin(),
    OriginPatternBacktracking(),
    TLSFileUnusable(),
    KeyPermissions(),
    CertificateExpiry(),
    KeyMismatch(),
    WeakKey(),
    SelfSigned(),
    ClientCAUnusable(),
    BaseUrlNotPath(),
    BaseUrlUnsafe(),
    FrameAncestorsMissing(),
    FrameAncestorsBroad(),
    FrameAncestorsIgnored(),
    XHeadersDirect(),
    CookieNotSecure(),
    PublicPathMismatch(),
    PublicHostNotLocal(),
    ProxyBypass(),
    HubAuthReplaced(),
    HubSharedOriginFraming(),
    RouteWithoutLogin(),
    KnownAdvisory(),
    AdvisoriesStale(),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}

# The other registries are made when first asked for (PEP 562): a server start needs none of them,
# and their modules hold 30 classes of long docstrings.
# - HUB_RULES (JH81x-JH82x) judge a hub's configuration (hub-check), never a server: a registry
#   of their own, since they judge a HubSnapshot.
# - LIVE_RULES (JH71x, judged from the requests the server sees) and NGINX_RULES (JH75x-JH76x,
#   judged by nginx-check from nginx files) are documented and acceptable like RULES, but never
#   run on a snapshot.
# - DOCUMENTED is every id, in id order (docs/rules.md, --list-rules); KNOWN_IDS is what
#   c.Hardening.accepted_risks may name (besides advisory ids).
if TYPE_CHECKING:
    HUB_RULES: tuple[Rule, ...]
    HUB_RULES_BY_ID: dict[str, Rule]
    LIVE_RULES: tuple[Described, ...]
    NGINX_RULES: tuple[Described, ...]
    DOCUMENTED: tuple[Rule | Described, ...]
    KNOWN_IDS: frozenset[str]


def _hub_rules() -> tuple[Rule, ...]:
    from . import hubconfig as h

    return (
        h.HubPublicWithoutTLS(),
        h.HubApiExposed(),
        h.HubDummyAuthenticator(),
        h.HubOpenSignup(),
        h.HubOAuthAllowAll(),
        h.HubAdminAccess(),
        h.HubAdminUsers(),
        h.HubCookieSecretWeak(),
        h.HubSecretInConfig(),
        h.HubFileReadable(),
        h.HubProxyTokenMissing(),
        h.HubSharedUnixUser(),
        h.HubUserConfigEnabled(),
        h.HubNoSubdomains(),
        h.HubInternalPlainHttp(),
        h.HubCookieHostPrefix(),
        h.HubKnownAdvisory(),
    )


def _registries() -> dict[str, Any]:
    from .live import LIVE_RULES
    from .nginxconf import NGINX_RULES

    hub = _hub_rules()
    every: tuple[Rule | Described, ...] = (*RULES, *LIVE_RULES, *NGINX_RULES, *hub)
    documented = tuple(sorted(every, key=lambda rule: rule.id))
    return {
        "HUB_RULES": hub,
        "HUB_RULES_BY_ID": {rule.id: rule for rule in hub},
        "LIVE_RULES": LIVE_RULES,
        "NGINX_RULES": NGINX_RULES,
        "DOCUMENTED": documented,
        "KNOWN_IDS": frozenset(rule.id for rule in documented),
    }


def __getattr__(name: str) -> Any:
    """Make the registries other than RULES on first use of any of them (see above)."""
    if name not in (
        "HUB_RULES",
        "HUB_RULES_BY_ID",
        "LIVE_RULES",
        "NGINX_RULES",
        "DOCUMENTED",
        "KNOWN_IDS",
    ):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    made = _registries()
    globals().update(made)
    return made[name]


__all__ = [
    "DOCUMENTED",
    "HUB_RULES",
    "HUB_RULES_BY_ID",
    "KNOWN_IDS",
    "LIVE_RULES",
    "NGINX_RULES",
    "RULES",
    "RULES_BY_ID",
    "Described",
    "Finding",
    "Rule",
    "Severity",
]
