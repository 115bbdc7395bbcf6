"""The ordered registry of rules: one module per concern, ids in bands (JH1xx network ...)."""

from __future__ import annotations

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
from .hubconfig import (
    HubAdminAccess,
    HubAdminUsers,
    HubApiExposed,
    HubCookieHostPrefix,
    HubCookieSecretWeak,
    HubDummyAuthenticator,
    HubFileReadable,
    HubInternalPlainHttp,
    HubKnownAdvisory,
    HubNoSubdomains,
    HubOAuthAllowAll,
    HubOpenSignup,
    HubProxyTokenMissing,
    HubPublicWithoutTLS,
    HubSecretInConfig,
    HubSharedUnixUser,
    HubUserConfigEnabled,
)
from .live import LIVE_RULES
from .meta import AuditDisabled, UnknownAcceptedRisk, UnreadableSetting
from .network import LocalWithoutAuth, RemoteWithoutAuth, RemoteWithoutTLS, RootRemote
from .nginxconf import NGINX_RULES
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

# The hub's own configuration (`jupyter hardening hub-check`): a registry of its own, since
# these rules judge a HubSnapshot, never a server.
HUB_RULES: tuple[Rule, ...] = (
    HubPublicWithoutTLS(),
    HubApiExposed(),
    HubDummyAuthenticator(),
    HubOpenSignup(),
    HubOAuthAllowAll(),
    HubAdminAccess(),
    HubAdminUsers(),
    HubCookieSecretWeak(),
    HubSecretInConfig(),
    HubFileReadable(),
    HubProxyTokenMissing(),
    HubSharedUnixUser(),
    HubUserConfigEnabled(),
    HubNoSubdomains(),
    HubInternalPlainHttp(),
    HubCookieHostPrefix(),
    HubKnownAdvisory(),
)
HUB_RULES_BY_ID = {rule.id: rule for rule in HUB_RULES}

# LIVE_RULES (JH71x, judged from the requests the server sees) and NGINX_RULES (JH75x-JH76x,
# judged by nginx-check from nginx files) are documented and acceptable like the rules above,
# but never run on a snapshot; HUB_RULES (JH81x-JH82x) run on a hub's configuration only
# (hub-check). DOCUMENTED is every id, in id order (docs/rules.md, --list-rules).
DOCUMENTED: tuple[Rule | Described, ...] = tuple(
    sorted((*RULES, *LIVE_RULES, *NGINX_RULES, *HUB_RULES), key=lambda rule: rule.id)
)
# What c.Hardening.accepted_risks may name (besides advisory ids).
KNOWN_IDS = frozenset(rule.id for rule in DOCUMENTED)

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
