"""One read of a server's effective security settings into plain, frozen data.

The snapshot is the only input of every rule. It holds facts *about* secrets (a token's length
and strength, a password hash's algorithm) and never the secrets themselves, so it can be logged,
served and compared freely.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
import os
import re
import stat
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .advisories import SnapshotInfo, VulnerablePackage
from .atrest import (
    CookieSecretFacts,
    SecretFile,
    cookie_secret_facts,
    refresh_modes,
    secret_files,
)
from .exposure import OpenRoute
from .facts import PublicURL, binds_loopback, public_url_or_none
from .record import Record, field, replace
from .safefile import CERT_LIMIT, kind_of, read_bounded

if TYPE_CHECKING:
    from .hubcontext import HubFacts

# Patterns are compiled (and cached by re) when a password is set, not at every server start.
# jupyter_server.auth.security.passwd_check: 'algo:salt:hexdigest', compared to hexdigest().
# '\Z', not '$': a hash read from a file keeps its newline, and jupyter_server's check then fails.
_SALTED_HASH = r"^(?P<algo>[A-Za-z0-9_]+):(?P<salt>[!-9;-~]*):(?P<digest>[0-9a-f]+)\Z"
# argon2-cffi's encoded form; anything else makes PasswordHasher.verify raise on every login.
_ARGON2_HASH = (
    r"^\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+\Z"
)
# Token alphabets (token_strength): sets, not regexes, for the same reason.
_HEX = frozenset("0123456789abcdefABCDEF")
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_URLSAFE = _ALNUM | {"_", "-"}


# Records (record.py), as in atrest.py: this module is imported at every start.
class FileFacts(Record):
    """What could be learned about one file without reading secrets out of it."""

    path: str
    readable: bool
    mode: int | None = None
    error: str | None = None

    @property
    def group_or_world_readable(self) -> bool:
        """True when users other than the owner may read the file."""
        return self.mode is not None and bool(self.mode & (stat.S_IRGRP | stat.S_IROTH))


class TLSFacts(Record):
    """Certificate and key facts for ServerApp.certfile/keyfile/client_ca."""

    certfile: FileFacts | None = None
    keyfile: FileFacts | None = None
    client_ca: FileFacts | None = None
    cert_error: str | None = None
    key_error: str | None = None
    not_after: dt.datetime | None = None
    self_signed: bool | None = None
    key_matches: bool | None = None
    key_type: str | None = None
    key_bits: int | None = None


class Snapshot(Record):
    """The effective security settings of one Jupyter server, at one moment."""

    ip: str = "localhost"
    ip_is_loopback: bool = True
    port: int = 8888
    sock: str = ""
    base_url: str = "/"
    allow_origin: str = ""
    allow_origin_pat: str = ""
    # jupyter_server >= 2.18 matches allow_origin_pat against the whole origin (re.fullmatch),
    # older versions only its start (re.match).
    origin_pat_fullmatch: bool = True
    allow_credentials: bool = False
    allow_remote_access: bool = False
    local_hostnames: tuple[str, ...] = ("localhost",)
    disable_check_xsrf: bool = False
    trust_xheaders: bool = False
    allow_root: bool = False
    running_as_root: bool = False
    identity_provider: str = "jupyter_server.auth.identity.PasswordIdentityProvider"
    auth_enabled: bool = True
    token_length: int = 48
    token_bits: float = 192.0
    token_generated: bool = True
    # The token starts or ends with whitespace (a newline from `echo ... > $JUPYTER_TOKEN_FILE`).
    token_padded: bool = False
    password_kind: str = ""
    password_deprecated_name: str = ""
    password_required: bool = False
    secure_cookie: bool | None = None
    csp: str | None = None
    # X-Frame-Options from tornado_settings['headers'] (DENY / SAMEORIGIN), '' when not set.
    x_frame_options: str = ""
    public_url: str = ""
    tls: TLSFacts = field(default_factory=TLSFacts)
    certfile: str = ""
    keyfile: str = ""
    client_ca: str = ""
    extension_enabled: bool = True
    # (key, where) for ServerApp settings whose effective value comes from
    # c.ServerApp.tornado_settings or an extension app's settings (c.LabApp.settings).
    tornado_overrides: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()
    taken_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    server_version: str = ""
    # Set when this is a JupyterHub user server (jupyterhub-singleuser): rules judge in its model.
    hub: HubFacts | None = None
    # The key that signs login cookies: 'config' (ServerApp.cookie_secret, tornado_settings) or
    # 'file' (ServerApp.cookie_secret_file), its length in bytes and estimated strength in bits.
    cookie_secret_source: str = ""
    cookie_secret_length: int = 0
    cookie_secret_bits: float = 256.0
    # Files the server read a secret from (cookie secret, token, password hash), with modes.
    secret_files: tuple[SecretFile, ...] = ()
    # ServerApp.allow_unauthenticated_access, and the routes of the live web_app (every
    # extension's handlers included) that answer without login: see exposure.py.
    allow_unauthenticated_access: bool = True
    open_routes: tuple[OpenRoute, ...] = ()
    # The advisory snapshot in use, and the installed packages it finds vulnerable on this
    # platform: see advisories.py.
    advisories: SnapshotInfo = field(default_factory=SnapshotInfo)
    vulnerable: tuple[VulnerablePackage, ...] = ()
    # (kind, problem, fix) for enabled server extensions that are missing or failed to link.
    extension_problems: tuple[tuple[str, str, str], ...] = ()
    # public_url parsed once (None when it is not set): what the proxy rules read.
    public: PublicURL | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "public", public_url_or_none(self.public_url))

    @property
    def remote(self) -> bool:
        """True when hosts other than this one can connect (not loopback, not a unix socket)."""
        return not self.sock and not self.ip_is_loopback

    def setting_name(self, key: str) -> str:
        """Where the effective value of ``ServerApp.<key>`` is set: the trait or a settings dict."""
        source = dict(self.tornado_overrides).get(key)
        return f"{source}[{key!r}]" if source else f"ServerApp.{key}"

    def override_fix(self, key: str) -> str:
        """The first step of a fix when ``key`` is overridden by a settings dict, else ''."""
        source = dict(self.tornado_overrides).get(key)
        if source:
            return f"remove {key!r} from c.{source} (it overrides the trait); "
        return ""

    @property
    def has_tls(self) -> bool:
        """True when the server itself speaks https."""
        return bool(self.certfile)

    @property
    def has_token(self) -> bool:
        """True when a token is required (or accepted) for login."""
        return self.token_length > 0

    def settings(self) -> dict[str, Any]:
        """The effective settings, redacted: safe to log and to serve."""
        if self.password_kind in ("", "invalid", "plaintext"):
            password = {"": "not set", "invalid": "set, but not a valid hash"}.get(
                self.password_kind, "set in plain text (not a hash)"
            )
        else:
            password = f"{self.password_kind} hash"
        token = (
            f"set ({self.token_length} characters{', generated' if self.token_generated else ''})"
            if self.token_length
            else "not set"
        )
        if self.hub is not None and self.hub.hub_auth:
            # Never a login token under JupyterHub: logins go through the hub's OAuth.
            token = (
                f"JupyterHub's API token for this server (JUPYTERHUB_API_TOKEN, "
                f"{self.hub.api_token_length} characters): the hub's credential, not a login token"
            )
        return {
            "ServerApp.ip": self.ip,
            "ServerApp.port": self.port,
            "ServerApp.sock": self.sock,
            "ServerApp.base_url": self.base_url,
            "ServerApp.allow_origin": self.allow_origin,
            "ServerApp.allow_origin_pat": self.allow_origin_pat,
            "ServerApp.allow_credentials": self.allow_credentials,
            "ServerApp.allow_remote_access": self.allow_remote_access,
            "ServerApp.local_hostnames": list(self.local_hostnames),
            "ServerApp.disable_check_xsrf": self.disable_check_xsrf,
            "ServerApp.trust_xheaders": self.trust_xheaders,
            "ServerApp.allow_root": self.allow_root,
            "ServerApp.certfile": self.certfile,
            "ServerApp.keyfile": self.keyfile,
            "ServerApp.client_ca": self.client_ca,
            "ServerApp.identity_provider_class": self.identity_provider,
            "IdentityProvider.token": token,
            "PasswordIdentityProvider.hashed_password": password,
            "PasswordIdentityProvider.password_required": self.password_required,
            "IdentityProvider.secure_cookie": self.secure_cookie,
            "Content-Security-Policy": self.csp
            if self.csp is not None
            else "jupyter_server default (frame-ancestors 'self')",
            "Hardening.public_url": self.public_url,
            "running as root": self.running_as_root,
            # The keys above whose value comes from c.ServerApp.tornado_settings, not the trait.
            "ServerApp.tornado_settings overrides": [
                key for key, source in self.tornado_overrides if source.startswith("ServerApp.")
            ],
            # ... and those an extension app's settings (c.LabApp.settings) override.
            "extension settings overrides": [
                f"{source}[{key!r}]"
                for key, source in self.tornado_overrides
                if not source.startswith("ServerApp.")
            ],
            "ServerApp.cookie_secret": {
                "config": f"set in the config ({self.cookie_secret_length} bytes)",
                "file": f"from ServerApp.cookie_secret_file ({self.cookie_secret_length} bytes)",
            }.get(self.cookie_secret_source, "not known"),
            **(self.hub.settings() if self.hub is not None else {}),
            "ServerApp.allow_unauthenticated_access": self.allow_unauthenticated_access,
            "advisory snapshot": self.advisories.describe(),
            # notAfter of ServerApp.certfile, for readers of the JSON (the hub's fleet view).
            "ServerApp.certfile expires": self.tls.not_after.isoformat(timespec="seconds")
            if self.tls.not_after is not None
            else ("unreadable" if self.certfile else "no certificate"),
        }


def token_strength(token: str) -> float:
    """Estimate a token's entropy in bits from its length and alphabet (an upper bound)."""
    if not token:
        return 0.0
    chars = set(token)
    if chars <= _HEX:
        alphabet = 16
    elif chars <= _ALNUM:
        alphabet = 62
    elif chars <= _URLSAFE:
        alphabet = 64
    else:
        alphabet = 94
    # A token that repeats few characters ("abab...") is weak however long it is: cap the
    # alphabet estimate by the Shannon entropy of its own character frequencies.
    counts = Counter(token)
    shannon = -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())
    estimate = round(len(token) * min(math.log2(alphabet), shannon), 1)
    unit = repeated_unit(token)
    return min(estimate, token_strength(unit) if unit else estimate, step_bits(token))


def repeated_unit(secret: Any) -> Any:
    """The unit that ``secret`` (str or bytes) repeats when it is one repeated at least twice
    (``'SECRET123' * 8``: 'SECRET123'), else None. The prefix function (Knuth-Morris-Pratt)
    finds the smallest period in linear time; secrets are judged by their first 4096 items."""
    data = secret[:4096]
    n = len(data)
    border = [0] * n
    k = 0
    for i in range(1, n):
        while k and data[i] != data[k]:
            k = border[k - 1]
        if data[i] == data[k]:
            k += 1
        border[i] = k
    period = n - border[-1] if n else 0
    return data[:period] if 0 < period <= n // 2 else None


def step_bits(secret: Any) -> float:
    """Bits of a secret whose steps from one item to the next barely vary (``bytes(range(32))``,
    ``'0123456789abcdef'``): its first item and the entropy of its steps; inf when the steps
    vary as a generated secret's do (then character counts judge it)."""
    data = [ord(c) for c in secret[:4096]] if isinstance(secret, str) else list(secret[:4096])
    steps = [b - a for a, b in itertools.pairwise(data)]
    if len(steps) < 4 or len(set(steps)) * 4 > len(steps):
        return math.inf
    counts = Counter(steps)
    return round(8 - sum(c * math.log2(c / len(steps)) for c in counts.values()), 1)


def password_kind(hashed: str) -> str:
    """Classify PasswordIdentityProvider.hashed_password without revealing it."""
    if not hashed:
        return ""
    if hashed.startswith("argon2:"):
        return "argon2" if re.match(_ARGON2_HASH, hashed.removeprefix("argon2:")) else "invalid"
    match = re.match(_SALTED_HASH, hashed)
    if match and match["algo"].lower() in hashlib.algorithms_available:
        # A digest of the wrong length (or of a variable-length algorithm) can never match.
        try:
            size = hashlib.new(match["algo"]).digest_size
        except ValueError:  # listed, but disabled in this OpenSSL (md4 ...)
            size = 0
        if size and len(match["digest"]) == 2 * size:
            return match["algo"].lower()
        return "invalid"
    if hashed.startswith(("$argon2", "sha1:", "md5:", "sha256:")) or ":" in hashed:
        return "invalid"
    return "plaintext"


def file_facts(path: str) -> FileFacts:
    """Stat a file and check it can be read by this process."""
    # No expanduser: jupyter_server and tornado open the path as written, '~' included.
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        hint = (
            " (jupyter_server does not expand '~': write the full path)" if path[:1] == "~" else ""
        )
        return FileFacts(path, readable=False, error="does not exist" + hint)
    except OSError as e:
        return FileFacts(path, readable=False, error=e.strerror or str(e))
    if not stat.S_ISREG(st.st_mode):
        kind = f"is {kind_of(st.st_mode)}, not a regular file"
        return FileFacts(path, False, stat.S_IMODE(st.st_mode), kind)
    if st.st_size > CERT_LIMIT:
        too_big = f"is larger than {CERT_LIMIT // 2**20} MiB (not a certificate or key)"
        return FileFacts(path, False, stat.S_IMODE(st.st_mode), too_big)
    readable = os.access(p, os.R_OK)
    return FileFacts(
        path,
        readable=readable,
        mode=stat.S_IMODE(st.st_mode),
        error=None if readable else "is not readable by this user",
    )


def inspect_tls(certfile: str, keyfile: str, client_ca: str) -> TLSFacts:
    """Read certificate facts with cryptography; never keeps key material."""
    if not certfile:
        return TLSFacts(client_ca=file_facts(client_ca) if client_ca else None)
    # Imported only when there is a certificate: cryptography.x509 costs 30-80 ms of startup.
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    cert_ff = file_facts(certfile)
    key_path = keyfile or certfile
    key_ff = file_facts(key_path)
    ca_ff = file_facts(client_ca) if client_ca else None
    facts: dict[str, Any] = {"certfile": cert_ff, "keyfile": key_ff, "client_ca": ca_ff}
    cert = None
    # Any exception from cryptography (UnsupportedAlgorithm is neither a ValueError nor an
    # OSError) is a finding about the file: an audit that crashes would let the server start
    # unaudited, and a re-check would answer 500.
    if cert_ff.readable:
        try:
            cert = x509.load_pem_x509_certificate(read_bounded(certfile, CERT_LIMIT))
            facts["not_after"] = cert.not_valid_after_utc
            facts["self_signed"] = cert.issuer == cert.subject
        except OSError as e:  # a FIFO or device swapped in since the stat, a huge file
            facts["cert_error"] = f"cannot be read (it {e.strerror or e})"
        except Exception as e:
            cert = None
            facts.pop("not_after", None)
            facts["cert_error"] = f"cannot be parsed as a PEM certificate ({type(e).__name__})"
    data: bytes | None = None
    if key_ff.readable:
        try:
            data = read_bounded(key_path, CERT_LIMIT)
        except OSError as e:
            facts["key_error"] = f"cannot be read (it {e.strerror or e})"
    if data is not None:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except Exception as e:
            # The message of these errors never contains key bytes.
            facts["key_error"] = (
                f"cannot be loaded as an unencrypted PEM private key ({type(e).__name__})"
            )
        else:
            if isinstance(key, rsa.RSAPrivateKey):
                facts["key_type"], facts["key_bits"] = "RSA", key.key_size
            elif isinstance(key, ec.EllipticCurvePrivateKey):
                facts["key_type"], facts["key_bits"] = f"EC {key.curve.name}", key.key_size
            elif isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
                facts["key_type"] = type(key).__name__.replace("PrivateKey", "")
            if cert is not None:
                pub = serialization.PublicFormat.SubjectPublicKeyInfo
                enc = serialization.Encoding.DER
                try:
                    facts["key_matches"] = key.public_key().public_bytes(enc, pub) == (
                        cert.public_key().public_bytes(enc, pub)
                    )
                except Exception:
                    facts["key_matches"] = False
            del key, data
    return TLSFacts(**facts)


def _csp_from_headers(headers: Any) -> tuple[str | None, str | None]:
    """Return (custom CSP or None, problem or None) from tornado_settings['headers']."""
    if headers is None:
        return None, None
    if not isinstance(headers, Mapping):
        return None, (
            "ServerApp.tornado_settings['headers'] is a "
            f"{type(headers).__name__}, not a dict: jupyter_server will fail on every request"
        )
    # jupyter_server looks the key up case-sensitively: under any other spelling its default
    # policy is sent after the custom one and replaces it.
    if "Content-Security-Policy" not in headers:
        return None, None
    value = headers["Content-Security-Policy"]
    if isinstance(value, str):
        return value, None
    problem = (
        "ServerApp.tornado_settings['headers']['Content-Security-Policy'] is a "
        f"{type(value).__name__}, not a str: jupyter_server fails on API requests"
    )
    # tornado sends bytes as they are on pages; anything else is dropped (no CSP at all).
    return (value.decode("latin-1") if isinstance(value, bytes) else ""), problem


# Keys of ServerApp.tornado_settings that jupyter_server applies over the values of the traits of
# the same name (ServerWebApplication.init_settings: settings.update(tornado_settings)).
# allow_origin and allow_credentials are not among them: init_webapp always writes the traits.
TORNADO_OVERRIDES = ("disable_check_xsrf", "allow_remote_access", "local_hostnames")


def extension_settings_sources(serverapp: Any) -> dict[str, str]:
    """{key: 'LabApp.settings'} for web_app settings that an extension app merges when it loads.

    jupyterlab, notebook and other ExtensionApps update the tornado settings with their own
    ``c.<App>.settings`` after jupyter_server has written its traits there.
    """
    sources: dict[str, str] = {}
    manager = getattr(serverapp, "extension_manager", None)
    for apps in (getattr(manager, "extension_apps", None) or {}).values():
        for app in apps:
            name = type(app).__name__
            # Only what the config wrote: an app's own settings also hold copies of the server's.
            written = serverapp.config.get(name, {}).get("settings", {})
            if isinstance(written, Mapping) and isinstance(getattr(app, "settings", None), Mapping):
                sources.update(dict.fromkeys(map(str, written), f"{name}.settings"))
    return sources


# The flags a compiled pattern can carry, as inline groups (re.UNICODE is a str pattern's own).
_FLAG_LETTERS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))


def _inline_flags(compiled: re.Pattern[Any]) -> Any:
    """A compiled pattern's text with its flags written in (``(?x)...``): jupyter_server matches
    the compiled object, so re.VERBOSE or re.IGNORECASE change what it admits."""
    letters = "".join(letter for flag, letter in _FLAG_LETTERS if compiled.flags & flag)
    if letters and isinstance(compiled.pattern, str):
        return f"(?{letters}){compiled.pattern}"
    return compiled.pattern


def _effective_settings(
    serverapp: Any, settings: Mapping[str, Any], problems: list[str]
) -> dict[str, Any]:
    """The security settings the handlers read, with the keys tornado_settings overrides."""
    raw = serverapp.tornado_settings if isinstance(serverapp.tornado_settings, Mapping) else {}
    merged = extension_settings_sources(serverapp)
    values: dict[str, Any] = {key: getattr(serverapp, key) for key in TORNADO_OVERRIDES}
    sources: dict[str, str] = {}
    for key in TORNADO_OVERRIDES:
        if key not in settings:
            continue
        if key in raw:
            values[key] = settings[key]
            sources[key] = "ServerApp.tornado_settings"
        elif key in merged and settings[key] != values[key]:
            # Extension apps merge only keys the server has not set: most never take effect.
            values[key] = settings[key]
            sources[key] = merged[key]
    hostnames = values["local_hostnames"]
    if isinstance(hostnames, str | bytes) or not isinstance(hostnames, list | tuple | set):
        problems.append(
            f"{sources.get('local_hostnames', 'ServerApp.tornado_settings')}['local_hostnames'] "
            f"is a {type(hostnames).__name__}, "
            "not a list: jupyter_server then accepts any Host that is part of it"
        )
        hostnames = [hostnames.decode("latin-1") if isinstance(hostnames, bytes) else hostnames]
    values["local_hostnames"] = tuple(str(h) for h in hostnames)
    # init_webapp compiles the trait into settings['allow_origin_pat']; with the trait empty, a
    # pattern (a string or a compiled regex) in tornado_settings is used as it is.
    pattern = settings.get("allow_origin_pat") or ""
    if pattern and "allow_origin_pat" in merged:
        sources["allow_origin_pat"] = merged["allow_origin_pat"]
    elif not serverapp.allow_origin_pat and pattern:
        sources["allow_origin_pat"] = "ServerApp.tornado_settings"
    if isinstance(pattern, re.Pattern):
        pattern = _inline_flags(pattern)
    if not isinstance(pattern, str):
        problems.append(
            f"{sources.get('allow_origin_pat', 'ServerApp.tornado_settings')}['allow_origin_pat'] "
            f"is a {type(pattern).__name__}, not a "
            "str or compiled regex: cross-origin requests fail"
        )
        pattern = pattern.decode("latin-1") if isinstance(pattern, bytes) else ""
    values["allow_origin_pat"] = pattern
    values["tornado_overrides"] = tuple(sources.items())
    return values


def _safe(get: Any, default: Any, name: str, problems: list[str]) -> Any:
    try:
        return get()
    except Exception as e:  # a misconfigured server must give a finding, not a crash
        problems.append(f"{name} could not be read: {type(e).__name__}: {e}")
        return default


def take_snapshot(serverapp: Any, public_url: str = "") -> Snapshot:
    """Read the effective settings of a (linked, configured) ServerApp."""
    from jupyter_server import __version__ as server_version

    from . import advisories, exposure

    problems: list[str] = []
    idp = _safe(lambda: serverapp.identity_provider, None, "ServerApp.identity_provider", problems)
    token = (
        _safe(lambda: str(idp.token or ""), "", "IdentityProvider.token", problems) if idp else ""
    )
    hashed = str(getattr(idp, "hashed_password", "") or "")
    auth_enabled = _safe(
        lambda: bool(idp.auth_enabled),
        bool(token or hashed),
        "IdentityProvider.auth_enabled",
        problems,
    )
    web_app = getattr(serverapp, "web_app", None)
    settings = web_app.settings if web_app is not None else serverapp.tornado_settings
    headers = settings.get("headers")
    csp, problem = _csp_from_headers(headers)
    if problem:
        problems.append(problem)
    effective = _effective_settings(serverapp, settings, problems)
    x_frame_options = next(
        (
            str(value).strip().upper()
            for key, value in (headers.items() if isinstance(headers, Mapping) else ())
            if isinstance(key, str) and key.lower() == "x-frame-options" and isinstance(value, str)
        ),
        "",
    )

    cookie = _safe(
        lambda: cookie_secret_facts(serverapp, idp, settings),
        CookieSecretFacts(),
        "ServerApp.cookie_secret",
        problems,
    )
    files = _safe(lambda: secret_files(serverapp, idp, cookie.source), (), "secret files", problems)

    deprecated = ""
    for section in ("ServerApp", "NotebookApp"):
        # An empty password (a recipe's `c.NotebookApp.password = u''`) sets no password.
        if serverapp.config.get(section, {}).get("password"):
            deprecated = f"{section}.password"
            break

    hub = None
    extensions = getattr(serverapp, "jpserver_extensions", None) or {}
    named = isinstance(extensions, Mapping) and any(
        str(n).startswith("jupyterhub") for n in extensions
    )
    if "jupyterhub" in sys.modules or named:
        # A hub user server imported jupyterhub (its extension, or the legacy app): only then is
        # hubcontext imported, and it decides (issue 11: a start pays for what it uses).
        from .hubcontext import hub_facts

        hub = hub_facts(serverapp, idp)
    allow_unauthenticated = bool(getattr(serverapp, "allow_unauthenticated_access", True))
    open_routes = (
        _safe(
            lambda: exposure.open_routes(
                web_app, allow_unauthenticated, tuple(serverapp.jpserver_extensions)
            ),
            (),
            "the server's routes",
            problems,
        )
        if web_app is not None
        else ()
    )
    try:
        # Kept in the runtime folder (jupyter_server made it, mode 0700): see advisories.audit.
        advisory_info, vulnerable = advisories.audit(
            _safe(lambda: str(serverapp.runtime_dir), "", "ServerApp.runtime_dir", [])
        )
    except Exception as e:  # bad advisory data is an info finding (JH903), never a refusal
        advisory_info = SnapshotInfo(problem=f"cannot be used ({type(e).__name__}: {e})")
        vulnerable = ()

    ip = str(serverapp.ip)
    certfile = str(serverapp.certfile or "")
    keyfile = str(serverapp.keyfile or "")
    client_ca = str(serverapp.client_ca or "")
    return Snapshot(
        ip=ip,
        ip_is_loopback=binds_loopback(ip),
        port=int(serverapp.port),
        sock=str(serverapp.sock or ""),
        base_url=str(serverapp.base_url),
        allow_origin=str(serverapp.allow_origin),
        allow_origin_pat=effective["allow_origin_pat"],
        origin_pat_fullmatch=_origin_pat_fullmatch(),
        allow_credentials=bool(serverapp.allow_credentials),
        allow_remote_access=bool(effective["allow_remote_access"]),
        local_hostnames=effective["local_hostnames"],
        disable_check_xsrf=bool(effective["disable_check_xsrf"]),
        trust_xheaders=bool(serverapp.trust_xheaders),
        allow_root=bool(serverapp.allow_root),
        running_as_root=hasattr(os, "geteuid") and os.geteuid() == 0,
        identity_provider=f"{type(idp).__module__}.{type(idp).__qualname__}" if idp else "",
        auth_enabled=auth_enabled,
        token_length=len(token),
        token_bits=token_strength(token),
        token_generated=bool(getattr(idp, "token_generated", False)),
        token_padded=token != token.strip(),
        password_kind=password_kind(hashed),
        password_deprecated_name=deprecated,
        password_required=bool(getattr(idp, "password_required", False)),
        secure_cookie=_secure_cookie(idp),
        csp=csp,
        x_frame_options=x_frame_options,
        public_url=public_url,
        tls=inspect_tls(certfile, keyfile, client_ca),
        certfile=certfile,
        keyfile=keyfile,
        client_ca=client_ca,
        extension_enabled=bool(serverapp.jpserver_extensions.get("jupyter_hardening", False)),
        tornado_overrides=effective["tornado_overrides"],
        problems=tuple(problems),
        server_version=server_version,
        cookie_secret_source=cookie.source,
        cookie_secret_length=cookie.length,
        cookie_secret_bits=cookie.bits,
        secret_files=files,
        hub=hub,
        allow_unauthenticated_access=allow_unauthenticated,
        open_routes=open_routes,
        advisories=advisory_info,
        vulnerable=vulnerable,
    )


def _origin_pat_fullmatch() -> bool:
    """True when this jupyter_server matches allow_origin_pat with re.fullmatch (>= 2.18)."""
    from jupyter_server import utils

    return hasattr(utils, "origin_matches_pat")


def _secure_cookie(idp: Any) -> bool | None:
    if idp is None:
        return None
    options = getattr(idp, "cookie_options", {}) or {}
    if isinstance(options, Mapping) and "secure" in options:
        return bool(options["secure"])
    value = getattr(idp, "secure_cookie", None)
    return None if value is None else bool(value)


def refresh_files(snap: Snapshot) -> Snapshot:
    """Re-read what changes without a restart (certificates, permissions)."""
    return replace(
        snap,
        tls=inspect_tls(snap.certfile, snap.keyfile, snap.client_ca),
        secret_files=refresh_modes(snap.secret_files),
        taken_at=dt.datetime.now(dt.timezone.utc),
    )
