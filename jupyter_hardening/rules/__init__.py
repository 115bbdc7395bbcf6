"""The ordered registry of rules: one module per concern, ids in bands (JH1xx network ...)."""

from __future__ import annotations

from .auth import (
    DeprecatedPasswordName,
    PaddedToken,
    PasswordNotHashed,
    SecretFileReadable,
    WeakCookieSecret,
    WeakPasswordHash,
    WeakToken,
    XSRFDisabled,
)
from .base import Finding, Rule, Severity
from .cors import AnyOrigin, CredentialsWithBroadOrigin, LooseOriginPattern
from .csp import FrameAncestorsIgnored, FrameAncestorsMissing, FrameAncestorsTooBroad
from .meta import AuditDisabled, UnknownAcceptedRisk, UnreadableSetting
from .network import LocalWithoutAuth, RemoteWithoutAuth, RemoteWithoutTLS, RootRemote
from .proxy import (
    CookieNotSecureBehindTLS,
    PublicButExposed,
    PublicHostNotLocal,
    PublicPathMismatch,
    XHeadersDirect,
)
from .tls import (
    CertificateExpiry,
    ClientCAUnusable,
    KeyFilePermissions,
    KeyMismatch,
    SelfSigned,
    TLSFileUnusable,
    WeakKey,
)
from .urls import BaseUrlNotPath, BaseUrlUnsafeCharacters

RULES: tuple[Rule, ...] = (
    UnreadableSetting(),
    UnknownAcceptedRisk(),
    AuditDisabled(),
    RemoteWithoutTLS(),
    RemoteWithoutAuth(),
    LocalWithoutAuth(),
    RootRemote(),
    WeakToken(),
    PasswordNotHashed(),
    WeakPasswordHash(),
    DeprecatedPasswordName(),
    XSRFDisabled(),
    PaddedToken(),
    WeakCookieSecret(),
    SecretFileReadable(),
    AnyOrigin(),
    LooseOriginPattern(),
    CredentialsWithBroadOrigin(),
    TLSFileUnusable(),
    KeyFilePermissions(),
    CertificateExpiry(),
    KeyMismatch(),
    WeakKey(),
    SelfSigned(),
    ClientCAUnusable(),
    BaseUrlNotPath(),
    BaseUrlUnsafeCharacters(),
    FrameAncestorsMissing(),
    FrameAncestorsTooBroad(),
    FrameAncestorsIgnored(),
    XHeadersDirect(),
    CookieNotSecureBehindTLS(),
    PublicPathMismatch(),
    PublicHostNotLocal(),
    PublicButExposed(),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_ID", "Finding", "Rule", "Severity"]
