"""``jupyter hardening hub-check``: audit a JupyterHub's own configuration without starting it.

The configuration is loaded by JupyterHub's Application itself (``jupyterhub.app.JupyterHub``:
its command line, ``config_file`` and the environment its settings read), calling only its
config-loading methods: no database is opened, no proxy, no network. Its authenticator, spawner
and proxy classes are read with their config, without running their ``__init__`` (which may
open the database or a Kubernetes client). The HubSnapshot is judged by the JH81x-JH82x rules,
``c.Spawner.args`` by the user-server rules, with the report, policy, SARIF and provenance of
``check``. JupyterHub is imported here only, and only when the command runs.
"""

from __future__ import annotations

import binascii
import contextlib
import json
import os
import re
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlparse

from traitlets import Enum, Unicode

from . import __version__
from .command import StrictCommand, option_names
from .hubsnapshot import HubFile, HubSnapshot, WrittenSecret
from .printable import hide_secret_value, without_userinfo
from .provenance import HIDDEN, Provenance, Source, attach, command_line_sources, file_sources_of
from .record import replace
from .report import Report, evaluate, render_text, run_rules
from .rules import HUB_RULES, RULES, RULES_BY_ID, Finding, Rule, Severity
from .rules.hubconfig import HUB_PACKAGES, HubRule
from .safefile import not_a_file

NEEDS_JUPYTERHUB = "hub-check needs JupyterHub: pip install 'jupyter_hardening[hub]'"
FORMATS = ("text", "json", "sarif")
HEADLINES = {
    "ok": "OK: nothing to fix in the hub's configuration",
    "warn": "WARN: the hub's configuration has findings to fix",
    "refuse": "REFUSE: the hub's configuration has blocking findings",
}
# Settings whose values are secrets (their text never reaches a report) beyond provenance's own.
HUB_SECRETS = (
    "JupyterHub.services",
    "JupyterHub.api_tokens",
    "JupyterHub.service_tokens",
    "JupyterHub.proxy_auth_token",
    "JupyterHub.cookie_secret",
    "JupyterHub.db_url",
    "JupyterHub.db_kwargs",
    "ConfigurableHTTPProxy.auth_token",
    "Proxy.auth_token",
    "CryptKeeper.keys",
    "Spawner.environment",
    "DummyAuthenticator.password",
    "SharedPasswordAuthenticator.user_password",
    "SharedPasswordAuthenticator.admin_password",
)
_HUB_SECRET_TRAITS = frozenset(setting.rpartition(".")[2] for setting in HUB_SECRETS)
# Variables JupyterHub reads for a setting when the config does not set it.
ENVIRONMENT = {
    "JupyterHub.cookie_secret": "JPY_COOKIE_SECRET",
    "ConfigurableHTTPProxy.auth_token": "CONFIGPROXY_AUTH_TOKEN",
    "CryptKeeper.keys": "JUPYTERHUB_CRYPT_KEY",
}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
# z2jh keys for c.Spawner.args-born findings (KubeSpawner reads hub.config.KubeSpawner).
SPAWNER_WHERE = "z2jh: hub.config.KubeSpawner.args or singleuser.cmd in values.yaml"


class HubConfigError(Exception):
    """The hub's configuration cannot be loaded: one line for the user."""


class NoJupyterHub(HubConfigError):
    """JupyterHub is not installed."""


# --- loading, as jupyterhub does ----------------------------------------------------------------


def load_hub(argv: list[str]) -> Any:
    """A JupyterHub application with its command line and config file loaded, nothing started."""
    try:
        from jupyterhub.app import JupyterHub
    except ImportError:
        raise NoJupyterHub(NEEDS_JUPYTERHUB) from None
    given = config_file_option(argv)
    if given and not Path(given).is_file():
        raise HubConfigError(f"--config {given}: {not_a_file(given)}")
    hub = JupyterHub(log_level="CRITICAL")
    # traitlets' catch_config_error turns a bad value into a log line and exit(1): call the
    # methods it wraps, so that the error is one line of ours and exit 2.
    parse = _unwrapped(type(hub).parse_command_line)
    load = _unwrapped(type(hub).load_config_file)
    try:
        parse(hub, argv)
    except SystemExit:
        raise HubConfigError("the hub's command line is invalid (see the message above)") from None
    except Exception as e:
        raise HubConfigError(
            f"the hub's command line is invalid: {hide_secret_value(str(e)).splitlines()[0]}"
        ) from None
    if hub.extra_args:
        raise HubConfigError(f"unexpected argument {hub.extra_args[0]!r}")
    path = Path(hub.config_file)
    try:
        load(hub, hub.config_file)
    except (
        Exception,
        SystemExit,
    ) as e:  # a broken config file: file:line and the parser's words, no value
        from .configfiles import load_error

        error = load_error(path) if path.is_file() else None
        if error is not None:
            line, reason = error
            where = f"{path}:{line}" if line else str(path)
            raise HubConfigError(
                f"the config file {where} fails to load ({reason}): jupyterhub would not start; "
                f"fix: correct {where}"
            ) from None
        raise HubConfigError(
            f"the hub's configuration is invalid: {hide_secret_value(str(e)).splitlines()[0]}"
        ) from None
    if "JupyterHubApp" in hub.config:  # what JupyterHub.initialize does with the old name
        config = hub.config.copy()
        config.JupyterHub.merge(config.JupyterHubApp)
        hub.update_config(config)
    return hub


def _unwrapped(method: Any) -> Any:
    return getattr(method, "__wrapped__", method)


def config_file_option(argv: list[str]) -> str:
    """The config file named on the command line (-f, --config, --JupyterHub.config_file)."""
    value = ""
    args = iter(argv)
    for arg in args:
        name, has_value, given = arg.partition("=")
        if name in ("-f", "--f", "--config", "--JupyterHub.config_file"):
            value = given if has_value else next(args, "")
    return value


def configured(hub: Any, cls: type[Any]) -> Any:
    """An instance of ``cls`` with the hub's config and none of its own ``__init__``.

    traitlets resolves config sections along the class's MRO and dynamic defaults (e.g.
    DummyAuthenticator's allow_all) as the hub would; the class's constructor, which may open
    the database (NativeAuthenticator) or a cluster client (KubeSpawner), does not run.
    """
    from traitlets.config import Configurable

    def init(self: Any, **kwargs: Any) -> None:
        Configurable.__init__(self, **kwargs)

    probe = type(cls.__name__, (cls,), {"__init__": init, "__module__": cls.__module__})
    return probe(config=hub.config, parent=hub)


def class_names(cls: type[Any]) -> tuple[str, ...]:
    """The config section names of ``cls``: itself first, then its bases."""
    from traitlets.config import Configurable, LoggingConfigurable

    stop = {Configurable, LoggingConfigurable}
    return tuple(
        c.__name__
        for c in cls.__mro__
        if isinstance(c, type) and issubclass(c, Configurable) and c not in stop
    )


def _host(url: str) -> tuple[str, bool]:
    """(host, is a unix socket) of a bind URL."""
    parsed = urlparse(url)
    if parsed.scheme.endswith("+unix"):
        return "", True
    return parsed.hostname or "", False


def _secret_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    text = str(value or "").strip()
    if _HEX.match(text) and len(text) % 2 == 0:
        return binascii.a2b_hex(text)
    return text.encode()


def _cookie_secret(hub: Any, config_texts: list[str]) -> tuple[str, bytes, bool]:
    """(source, secret, written in a config file) of the hub's cookie secret, as init_secrets."""
    configured_value = hub.config.JupyterHub.get("cookie_secret")
    if configured_value:
        secret = _secret_bytes(configured_value)
        return "config", secret, _written(secret, config_texts)
    if os.environ.get("JPY_COOKIE_SECRET"):
        return "env", _secret_bytes(os.environ["JPY_COOKIE_SECRET"]), False
    path = Path(hub.cookie_secret_file or "").expanduser()
    if hub.cookie_secret_file and path.is_file():
        try:
            text = path.read_text()[:4096].strip()
        except (OSError, UnicodeDecodeError):
            return "", b"", False
        if _HEX.match(text):
            return "file", _secret_bytes(text), False
        try:
            return "file", binascii.a2b_base64(text), False
        except binascii.Error:
            return "file", text.encode(), False
    return "new", b"", False


def _written(secret: bytes | str, texts: list[str]) -> bool:
    """True when the secret's value (as text, hex or a bytes literal) is in a config file."""
    if isinstance(secret, str):
        forms = [secret]
    else:
        forms = [secret.hex(), secret.hex().upper(), repr(secret)[2:-1]]
        with contextlib.suppress(UnicodeDecodeError):
            forms.append(secret.decode())
    return any(len(form) >= 8 and form in text for form in forms for text in texts)


def _mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return None


def _redacted_args(args: Iterable[Any]) -> list[str]:
    """Command-line arguments with the values of secret options hidden: ``--X.token=VALUE``,
    and ``--X.token VALUE`` (traitlets takes the next item as the value)."""
    from .provenance import is_secret

    shown: list[str] = []
    hide_next = False
    for arg in map(str, args):
        name, has_value, _ = arg.partition("=")
        if hide_next:
            shown.append(HIDDEN)
            hide_next = False
        elif arg.startswith("-") and is_secret(name.lstrip("-")):
            shown.append(f"{name}={HIDDEN}" if has_value else arg)
            hide_next = not has_value
        else:
            shown.append(without_userinfo(arg))
    return shown


def take_hub_snapshot(hub: Any) -> HubSnapshot:
    """One read of the loaded hub's effective settings (no secret kept)."""
    import jupyterhub

    from . import advisories
    from .atrest import secret_strength
    from .facts import binds_loopback

    texts = [Path(f).read_text(errors="replace") for f in hub._loaded_config_files]
    public_host, public_socket = _host(hub.bind_url)
    if hub.hub_bind_url:
        hub_setting = "JupyterHub.hub_bind_url"
        hub_host, hub_socket = _host(hub.hub_bind_url)
    else:
        hub_setting, hub_host, hub_socket = "JupyterHub.hub_ip", hub.hub_ip, False
    with warnings.catch_warnings():  # DummyAuthenticator.password warns DeprecationWarning
        warnings.simplefilter("ignore")
        auth_class, spawner_class, proxy_class = (
            hub.authenticator_class,
            hub.spawner_class,
            hub.proxy_class,
        )
        auth = configured(hub, auth_class)
        spawner = configured(hub, spawner_class)
        proxy = configured(hub, proxy_class)
        auth_names = class_names(auth_class)
        admins = tuple(sorted(set(auth.admin_users) | set(hub.admin_users or ())))
        allowed = tuple(sorted(auth.allowed_users))
        allow_all = bool(getattr(auth, "allow_all", not allowed))
        oauth_allowed = tuple(
            f"{auth_names[0]}.{name}"
            for name in sorted(auth.trait_names(config=True))
            if name.startswith("allowed_") and getattr(auth, name)
        )
        narrowed = ""
        if getattr(auth, "hosted_domain", None):
            narrowed = "GoogleOAuthenticator.hosted_domain"
        elif "GitLabOAuthenticator" in auth_names and "gitlab.com" not in str(
            getattr(auth, "gitlab_url", "gitlab.com")
        ):
            narrowed = "a self-hosted GitLabOAuthenticator.gitlab_url"
        open_signup = bool(getattr(auth, "open_signup", False)) and bool(
            getattr(auth, "enable_signup", True)
        )
        dummy_password = (
            str(getattr(auth, "password", "") or "") if ("DummyAuthenticator" in auth_names) else ""
        )
        args = [*list(spawner.cmd or [])[1:], *list(spawner.args or [])]
        environment = dict(spawner.environment or {})
        disable_user_config = bool(spawner.disable_user_config) or str(
            environment.get("JUPYTERHUB_DISABLE_USER_CONFIG", "")
        ).lower() not in ("", "0", "false", "no")
        should_start = bool(proxy.should_start)
    source, cookie, cookie_written = _cookie_secret(hub, texts)
    written: list[WrittenSecret] = []
    if cookie_written:
        written.append(
            WrittenSecret("JupyterHub.cookie_secret", "JupyterHub.cookie_secret", len(cookie))
        )
    for i, service in enumerate(hub.services or []):
        token = service.get("api_token") if isinstance(service, Mapping) else None
        if token and _written(str(token), texts):
            name = service.get("name", i)
            written.append(
                WrittenSecret(
                    f"JupyterHub.services[{i}]['api_token'] (service {name!r})",
                    "JupyterHub.services",
                    len(str(token)),
                )
            )
    for trait, owner in (("api_tokens", "user"), ("service_tokens", "service")):
        tokens = getattr(hub, trait, None) or {}
        for token in tokens:
            if _written(str(token), texts):
                written.append(
                    WrittenSecret(
                        f"JupyterHub.{trait} ({owner} {tokens[token]!r})",
                        f"JupyterHub.{trait}",
                        len(str(token)),
                    )
                )
    proxy_token = str(
        hub.config.get(proxy_class.__name__, {}).get("auth_token")
        or hub.config.Proxy.get("auth_token")
        or hub.config.JupyterHub.get("proxy_auth_token")
        or ""
    )
    if proxy_token and _written(proxy_token, texts):
        written.append(
            WrittenSecret(
                "ConfigurableHTTPProxy.auth_token",
                "ConfigurableHTTPProxy.auth_token",
                len(proxy_token),
            )
        )
    proxy_token = proxy_token or os.environ.get("CONFIGPROXY_AUTH_TOKEN", "")
    files = []
    if source in ("file", "new") and hub.cookie_secret_file:
        # JupyterHub's init_secrets: os.path.abspath(os.path.expanduser(...)), no symlinks resolved
        path = Path.cwd() / Path(hub.cookie_secret_file).expanduser()
        files.append(
            HubFile("cookie secret file", "JupyterHub.cookie_secret_file", str(path), _mode(path))
        )
    db_url = str(hub.db_url or "")
    if db_url.startswith("sqlite:///") and ":memory:" not in db_url:
        path = Path.cwd() / db_url[len("sqlite:///") :]
        files.append(HubFile("database", "JupyterHub.db_url", str(path), _mode(path)))
    info, records = advisories.choose()
    wanted = {advisories.normalize(p) for p in HUB_PACKAGES}
    vulnerable = advisories.match(records, advisories.installed_versions(wanted)) if records else ()
    snap = HubSnapshot(
        hub_version=jupyterhub.__version__,
        config_file=", ".join(str(Path(f).absolute()) for f in hub._loaded_config_files),
        bind_url=without_userinfo(hub.bind_url),  # the snapshot is shown: no user:password@
        public_host=public_host,
        public_is_loopback=bool(public_host) and binds_loopback(public_host),
        public_socket=public_socket,
        ssl_cert=str(hub.ssl_cert or ""),
        hub_public_url=without_userinfo(str(hub.public_url or "")),
        hub_bind_setting=hub_setting,
        hub_host=hub_host,
        hub_is_loopback=hub_socket or (bool(hub_host) and binds_loopback(hub_host)),
        authenticator=f"{auth_class.__module__}.{auth_class.__qualname__}",
        authenticator_classes=auth_names,
        allow_all=allow_all,
        allowed_users=allowed,
        admin_users=admins,
        dummy_password_length=len(dummy_password),
        open_signup=open_signup,
        oauth_allowed=oauth_allowed,
        oauth_narrowed_by=narrowed,
        admin_access=bool(hub.admin_access),
        cookie_secret_source=source,
        cookie_secret_length=len(cookie),
        cookie_secret_bits=secret_strength(cookie) if cookie else 256.0,
        cookie_secret_written=cookie_written,
        written_secrets=tuple(written),
        files=tuple(files),
        proxy_class=proxy_class.__name__,
        proxy_external=not should_start,
        proxy_token_length=len(proxy_token),
        spawner=f"{spawner_class.__module__}.{spawner_class.__qualname__}",
        spawner_classes=class_names(spawner_class),
        multi_user=allow_all or len(set(allowed) | set(admins)) > 1 or open_signup,
        disable_user_config=disable_user_config,
        subdomain_host=str(hub.subdomain_host or ""),
        internal_ssl=bool(hub.internal_ssl),
        cookie_host_prefix=bool(getattr(hub, "cookie_host_prefix_enabled", False)),
        spawner_args=tuple(_redacted_args(args)),
        advisories=info,
        vulnerable=vulnerable,
    )
    cmd_args = {str(a) for a in list(spawner.cmd or [])[1:]}
    return replace(snap, spawner_findings=spawner_findings(snap, args, cmd_args))


# --- c.Spawner.args judged by the user-server rules ---------------------------------------------


def _server_config(args: list[str]) -> Any:
    """The traitlets Config that ``args`` give jupyterhub-singleuser (a ServerApp)."""
    from jupyter_server.serverapp import ServerApp
    from traitlets.config.loader import KVArgParseConfigLoader

    aliases = ServerApp.class_traits()["aliases"].default()
    flags = ServerApp.class_traits()["flags"].default()
    config = KVArgParseConfigLoader(args, aliases=aliases, flags=flags).load_config()
    if "NotebookApp" in config:  # notebook_shim forwards the legacy names
        config.ServerApp.merge(config.NotebookApp)
    return config


def _server_snapshot(snap: HubSnapshot, config: Any) -> tuple[Any, Any]:
    """(the user server as the hub starts it, the same with ``config`` applied)."""
    from .hubcontext import HUB_IDENTITY_PROVIDER, HubFacts
    from .snapshot import Snapshot

    network = snap.spawner_kind in ("network", "unknown")
    facts = HubFacts(
        mode="extension",
        subdomains=bool(snap.subdomain_host),
        user_config_disabled=snap.disable_user_config,
    )
    base = Snapshot(
        ip="0.0.0.0" if network else "127.0.0.1",  # noqa: S104 - what container spawners bind
        ip_is_loopback=not network,
        allow_remote_access=True,
        trust_xheaders=True,
        identity_provider=HUB_IDENTITY_PROVIDER,
        csp="frame-ancestors 'none'",  # the hub extension's
        hub=facts,
        advisories=snap.advisories,
    )
    server = config.get("ServerApp", {})
    changes: dict[str, Any] = {}

    def value(name: str) -> Any:
        from jupyter_server.serverapp import ServerApp

        raw = server[name]
        trait = ServerApp.class_traits()[name]
        if isinstance(raw, str):
            return trait.from_string(raw)
        if hasattr(raw, "get_value"):
            return raw.get_value(trait)
        return raw

    for name in (
        "disable_check_xsrf",
        "allow_origin",
        "allow_origin_pat",
        "allow_credentials",
        "allow_unauthenticated_access",
    ):
        if name in server:
            changes[name] = value(name)
    if "local_hostnames" in server:
        changes["local_hostnames"] = tuple(value("local_hostnames"))
    if "identity_provider_class" in server:
        provider = value("identity_provider_class")
        name = (
            provider if isinstance(provider, str) else f"{provider.__module__}.{provider.__name__}"
        )
        if name != HUB_IDENTITY_PROVIDER:
            changes["identity_provider"] = name
            changes["hub"] = replace(facts, hub_auth=False, other_identity_provider=name)
    if "jpserver_extensions" in server:
        extensions = value("jpserver_extensions")
        if isinstance(extensions, Mapping) and extensions.get("jupyter_hardening") is False:
            changes["extension_enabled"] = False
    settings = value("tornado_settings") if "tornado_settings" in server else {}
    if isinstance(settings, Mapping):
        for key in ("disable_check_xsrf", "allow_origin", "allow_origin_pat"):
            if key in settings:
                changes[key] = settings[key]
                overrides = changes.get("tornado_overrides", ())
                changes["tornado_overrides"] = (*overrides, (key, "ServerApp.tornado_settings"))
        headers = settings.get("headers")
        if isinstance(headers, Mapping) and "Content-Security-Policy" in headers:
            changes["csp"] = headers["Content-Security-Policy"]
    return base, replace(base, **changes)


def spawner_findings(
    snap: HubSnapshot, args: list[str], from_cmd: set[str] | None = None
) -> tuple[Finding, ...]:
    """Findings of the user-server rules that ``c.Spawner.args`` (and the arguments of
    ``c.Spawner.cmd``, listed in ``from_cmd``) cause."""
    if not args:
        return ()
    try:
        config = _server_config(args)
        base, judged = _server_snapshot(snap, config)
    except (Exception, SystemExit):  # args singleuser cannot parse fail the spawn themselves
        return ()
    before = {(f.id, f.message) for f in run_rules(base)}
    found = []
    shown_args = _redacted_args(args)
    for f in run_rules(judged):
        if (f.id, f.message) in before:
            continue
        names = [t.rpartition(".")[2] for t in f.traits if "." in t]
        chosen = [i for i, a in enumerate(args) if any(n in a.replace("-", "_") for n in names)]
        setting_args = [args[i] for i in chosen]
        shown = ", ".join(shown_args[i] for i in chosen)
        trait = (
            "Spawner.cmd"
            if setting_args and set(setting_args) <= (from_cmd or set())
            else "Spawner.args"
        )
        fix = f"remove {shown} from c.{trait} in jupyterhub_config.py"
        found.append(
            replace(
                f,
                traits=(trait,),
                message=f"c.{trait} starts every user server with "
                f"{shown or ' '.join(shown_args)}: {f.message}",
                fix=f"{fix} ({SPAWNER_WHERE})" if shown else f"{f.fix} ({SPAWNER_WHERE})",
                remedy=(),
            )
        )
    return tuple(found)


class SpawnerServerSettings(HubRule):
    """The user-server rules' findings on ``c.Spawner.args`` (evaluated with the hub rules).

    Not in the registry: its findings carry the server rules' own ids (JH205 ...).
    """

    id = "JH8SA"
    name = "spawner-server-settings"
    severity = Severity.ERROR
    traits = ("Spawner.args",)
    summary = "User-server settings in c.Spawner.args"

    def judge(self, snap: HubSnapshot) -> Iterator[Finding]:
        """The stored findings, each with the remedy that removes it."""
        for f in snap.spawner_findings:
            rest = tuple(g for g in snap.spawner_findings if g is not f)
            yield replace(f, remedy=(("spawner_findings", rest),))


# What a hub report evaluates: the hub rules, c.Spawner.args through the server rules, and the
# age of the advisory snapshot.
EVALUATED: tuple[Rule, ...] = (*HUB_RULES, SpawnerServerSettings(), RULES_BY_ID["JH903"])


def evaluate_hub(
    snap: HubSnapshot, refuse_at: str = "error", accepted: dict[str, str] | None = None
) -> Report:
    """The policy applied to the hub's findings (``report.evaluate`` with the hub's rules)."""
    return evaluate(snap, refuse_at, accepted, rules=EVALUATED)


# --- provenance ---------------------------------------------------------------------------------


class HubProvenance(Provenance):
    """Where each of the hub's settings is set: its config file and line, a flag, a variable."""

    def __init__(self, hub: Any, aliases: Mapping[str, tuple[str, ...]]):
        self.aliases = dict(aliases)
        sources: list[Source] = []
        for setting, var in ENVIRONMENT.items():
            if os.environ.get(var):
                sources.append(Source(setting, "environment", HIDDEN, key=var))
        paths = [Path(f) for f in hub._loaded_config_files]
        sources += file_sources_of(paths)
        sources += command_line_sources(hub)
        self.sources = [_hide(s) for s in sources]
        self.effective = {}

    def all_for(self, setting: str) -> list[Source]:
        """Every source of ``setting`` under its class's section names (c.DummyAuthenticator.x
        sets Authenticator.x), lowest priority first."""
        cls, _, trait = setting.partition(".")
        names = {f"{name}.{trait}" for name in self.aliases.get(cls, (cls,))} | {setting}
        return [s for s in self.sources if s.setting in names]


def _hide(source: Source) -> Source:
    """``source`` without the value of a hub secret (tokens in services, db passwords), under
    whichever class it is set (c.MyProxy.auth_token for a subclass of ConfigurableHTTPProxy)."""
    trait = source.setting.rpartition(".")[2]
    if trait not in _HUB_SECRET_TRAITS and not source.setting.endswith(".args"):
        # A URL's user:password@ (bind_url, public_url, a proxy's api_url ...).
        return replace(
            source, value=without_userinfo(source.value), key=without_userinfo(source.key)
        )
    if source.setting.endswith(".args") and isinstance(source.raw, list | tuple):
        value = repr(_redacted_args(source.raw))
    else:
        value = HIDDEN
    key = source.key
    if source.origin == "command line" and "=" in key:
        key = key.split("=", 1)[0] + "=" + HIDDEN
    return replace(source, value=value, key=key)


def _aliases(snap: HubSnapshot) -> dict[str, tuple[str, ...]]:
    """Section names by the base names rules use: Authenticator -> (DummyAuthenticator, ...)."""
    return {
        "Authenticator": snap.authenticator_classes,
        snap.authenticator_classes[0]: snap.authenticator_classes,
        "Spawner": snap.spawner_classes,
        "ConfigurableHTTPProxy": (snap.proxy_class, "ConfigurableHTTPProxy", "Proxy"),
    }


# --- the report ---------------------------------------------------------------------------------


def _policy(hub: Any) -> tuple[str, dict[str, str]]:
    """(refuse_at, accepted_risks) from ``c.Hardening`` in the hub's config."""
    from traitlets import TraitError

    from .config import Hardening

    try:
        policy = Hardening(config=hub.config)
        return str(policy.refuse_at), dict(policy.accepted_risks)
    except TraitError as e:
        raise HubConfigError(f"c.Hardening in the hub's config: {e}") from None


def audit(argv: list[str]) -> Report:
    """The report on the hub configuration that ``jupyterhub ARGV`` would load."""
    # Deprecation warnings of the hub's packages (and of the config file) are no findings, and
    # must not become errors in a caller that turns warnings into errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _audit(argv)


def _audit(argv: list[str]) -> Report:
    hub = load_hub(argv)
    refuse_at, accepted = _policy(hub)
    try:
        snap = take_hub_snapshot(hub)
    except ImportError as e:  # a spawner or authenticator class that is not installed here
        raise HubConfigError(
            f"a class the hub's configuration names cannot be imported here ({e.name or e}): "
            "run hub-check in the hub's environment"
        ) from None
    except Exception as e:
        raise HubConfigError(
            f"the hub's configuration is invalid: {hide_secret_value(str(e)).splitlines()[0]}"
        ) from None
    report = evaluate_hub(snap, refuse_at, accepted)
    attached: Report = attach(report, HubProvenance(hub, _aliases(snap)))
    return attached


def hub_report(config_file: str | None = None) -> dict[str, Any]:
    """The JSON report ``hub-check --format json`` prints, in-process (for hub-service).

    ``config_file`` defaults to ``jupyterhub_config.py`` in the current folder, as for
    ``jupyterhub``. Raises HubConfigError (one line) for a configuration that cannot be loaded.
    """
    return audit([f"--JupyterHub.config_file={config_file}"] if config_file else []).to_json()


# --- the command --------------------------------------------------------------------------------


class HubCheckApp(StrictCommand):
    """Audit a JupyterHub's configuration (jupyterhub_config.py), without starting the hub.

    Loads the configuration as `jupyterhub` does (its config file, command-line options and
    environment) and judges it with the JH81x-JH82x rules and, for c.Spawner.args, the user
    server rules. Any option that is not this command's goes to JupyterHub (--ip=0.0.0.0,
    --JupyterHub.admin_access=True). Exit status: 0 no blocking finding, 1 blocking findings
    (per c.Hardening.refuse_at in the hub's config), 2 usage or configuration error.
    """

    name = "jupyter-hardening-hub-check"
    version = __version__
    description = __doc__
    examples = """
    jupyter hardening hub-check                          # ./jupyterhub_config.py
    jupyter hardening hub-check --config /etc/jupyterhub/jupyterhub_config.py
    jupyter hardening hub-check --format sarif > hub.sarif
    """

    output_format = Enum(
        list(FORMATS), "text", config=True, help="Output format: text, json or sarif (SARIF 2.1.0)."
    )
    config_path = Unicode(
        "", config=True, help="The hub's config file (default: ./jupyterhub_config.py)."
    )
    aliases = {"format": "HubCheckApp.output_format", "config": "HubCheckApp.config_path"}
    flags: dict[str, Any] = {}

    hub_argv: list[str] = []

    def initialize(self, argv: Any = None) -> None:
        """Refuse unknown options; keep JupyterHub's for the hub."""
        args = list(sys.argv[1:] if argv is None else argv)
        try:
            from jupyterhub.app import JupyterHub
        except ImportError:
            self.no_jupyterhub()
        self.passthrough_valued, self.passthrough_switches = option_names(
            JupyterHub.aliases, JupyterHub.flags
        )
        own, self.hub_argv = [], []
        items = iter(args)
        for arg in items:
            name = arg.split("=", 1)[0]
            if name in ("--format", "--config"):
                own.append(arg)
                if "=" not in arg:
                    own.append(next(items, ""))
            elif arg in ("-h", "--help", "--help-all", "--version"):
                own.append(arg)
            else:
                self.hub_argv.append(arg)
        problem = self.argv_problem(args)
        if problem:
            self.fail(problem)
        self.strict_initialize(own, super().initialize)

    def no_jupyterhub(self) -> NoReturn:
        """The one line for a machine without JupyterHub, exit 2."""
        print(NEEDS_JUPYTERHUB, file=sys.stderr)
        self.exit(2)
        raise SystemExit(2)  # pragma: no cover - exit() raises

    def start(self) -> None:
        """Audit and print the report; exit 1 on blocking findings."""
        argv = list(self.hub_argv)
        if self.config_path:
            if not Path(self.config_path).is_file():
                self.fail(f"--config {self.config_path}: {not_a_file(self.config_path)}")
            argv = [f"--JupyterHub.config_file={self.config_path}", *argv]
        try:
            report = audit(argv)
        except NoJupyterHub:
            self.no_jupyterhub()
        except HubConfigError as e:
            self.fail(str(e))
        if self.output_format == "json":
            print(json.dumps(report.to_json(), indent=2))
        elif self.output_format == "sarif":
            from .sarif import sarif_log

            print(json.dumps(sarif_log([report], rules=(*HUB_RULES, *RULES)), indent=2))
        else:
            print(render_text(report, HEADLINES))
        self.exit(1 if report.verdict == "refuse" else 0)
