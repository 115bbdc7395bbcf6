"""The ordered registry of rules: one module per concern, ids in bands (JH1xx network ...)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .base import Described, Finding, Rule, Severity

if TYPE_CHECKING:
    from ..snapshot import Snapshot

# The rule modules in registry order (the order of RULES), each with its rules' class names and
# its gate: a test of the snapshot that is false only where none of its rules can find
# anything, whatever the accepted risks; None for modules every snapshot needs. A server start
# imports a module only when its gate is true (issue 11): with jupyter_server's defaults, 5 of
# the 11. Each gate restates the first test of every check in its module, and
# tests/test_rule_gates.py proves it: on every rule case, and on snapshots made to close the
# gate in every other way, a closed gate's rules find nothing.
_MODULES: tuple[tuple[str, tuple[str, ...], Callable[[Snapshot], bool] | None], ...] = (
    ("meta", ("UnreadableSetting", "UnknownAcceptedRisk", "AuditDisabled"), None),
    ("extensions", ("ExtensionMissing", "ExtensionSettingsDropped"), None),
    ("network", ("RemoteWithoutTLS", "RemoteWithoutAuth", "LocalWithoutAuth", "RootRemote"), None),
    (
        "auth",
        (
            "WeakToken",
            "PasswordNotHashed",
            "WeakPasswordHash",
            "DeprecatedPasswordName",
            "XSRFDisabled",
            "TokenWhitespace",
            "WeakCookieSecret",
            "SecretFileReadable",
        ),
        None,
    ),
    (
        "cors",
        ("AnyOrigin", "LooseOriginPattern", "CredentialsBroadOrigin", "OriginPatternBacktracking"),
        lambda snap: bool(snap.allow_origin or snap.allow_origin_pat),
    ),
    (
        "tls",
        (
            "TLSFileUnusable",
            "KeyPermissions",
            "CertificateExpiry",
            "KeyMismatch",
            "WeakKey",
            "SelfSigned",
            "ClientCAUnusable",
        ),
        lambda snap: bool(snap.certfile or snap.keyfile or snap.client_ca),
    ),
    ("urls", ("BaseUrlNotPath", "BaseUrlUnsafe"), lambda snap: snap.base_url != "/"),
    (
        "csp",
        ("FrameAncestorsMissing", "FrameAncestorsBroad", "FrameAncestorsIgnored"),
        lambda snap: snap.csp is not None,
    ),
    (
        "proxy",
        (
            "XHeadersDirect",
            "CookieNotSecure",
            "PublicPathMismatch",
            "PublicHostNotLocal",
            "ProxyBypass",
        ),
        lambda snap: bool(snap.trust_xheaders or snap.public_url),
    ),
    ("hub", ("HubAuthReplaced", "HubSharedOriginFraming"), lambda snap: snap.hub is not None),
    ("exposure", ("RouteWithoutLogin", "KnownAdvisory", "AdvisoriesStale"), None),
)
_made: dict[str, tuple[Rule, ...]] = {}


def rules_of(module: str) -> tuple[Rule, ...]:
    """The rules of one module of the registry, made once (the same objects as in RULES)."""
    try:
        return _made[module]
    except KeyError:
        names = next(names for name, names, _ in _MODULES if name == module)
        imported = importlib.import_module(f"{__name__}.{module}")
        made = _made[module] = tuple(getattr(imported, name)() for name in names)
        return made


def rules_for(snap: Snapshot) -> tuple[Rule, ...]:
    """The rules that can find something in ``snap``, in registry order: RULES but for the
    modules whose gate is false (not imported)."""
    return tuple(
        rule
        for module, _, gate in _MODULES
        if gate is None or gate(snap)
        for rule in rules_of(module)
    )


# RULES, every rule in registry order, and the other registries are made when first asked for
# (PEP 562): a server start needs none of them.
# The other registries' modules hold 30 classes of long docstrings.
# - HUB_RULES (JH81x-JH82x) judge a hub's configuration (hub-check), never a server: a registry
#   of their own, since they judge a HubSnapshot.
# - LIVE_RULES (JH71x, judged from the requests the server sees) and NGINX_RULES (JH75x-JH76x,
#   judged by nginx-check from nginx files) are documented and acceptable like RULES, but never
#   run on a snapshot.
# - DOCUMENTED is every id, in id order (docs/rules.md, --list-rules); KNOWN_IDS is what
#   c.Hardening.accepted_risks may name (besides advisory ids).
if TYPE_CHECKING:
    RULES: tuple[Rule, ...]
    RULES_BY_ID: dict[str, Rule]
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


def _registries(name: str) -> dict[str, Any]:
    rules = tuple(rule for module, _, _ in _MODULES for rule in rules_of(module))
    if name in ("RULES", "RULES_BY_ID"):
        return {"RULES": rules, "RULES_BY_ID": {rule.id: rule for rule in rules}}
    from .live import LIVE_RULES
    from .nginxconf import NGINX_RULES

    hub = _hub_rules()
    every: tuple[Rule | Described, ...] = (*rules, *LIVE_RULES, *NGINX_RULES, *hub)
    documented = tuple(sorted(every, key=lambda rule: rule.id))
    return {
        "RULES": rules,
        "RULES_BY_ID": {rule.id: rule for rule in rules},
        "HUB_RULES": hub,
        "HUB_RULES_BY_ID": {rule.id: rule for rule in hub},
        "LIVE_RULES": LIVE_RULES,
        "NGINX_RULES": NGINX_RULES,
        "DOCUMENTED": documented,
        "KNOWN_IDS": frozenset(rule.id for rule in documented),
    }


def __getattr__(name: str) -> Any:
    """Make the registries on first use (see above)."""
    if name not in (
        "RULES",
        "RULES_BY_ID",
        "HUB_RULES",
        "HUB_RULES_BY_ID",
        "LIVE_RULES",
        "NGINX_RULES",
        "DOCUMENTED",
        "KNOWN_IDS",
    ):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    made = _registries(name)
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
    "rules_for",
    "rules_of",
]
