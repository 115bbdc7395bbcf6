"""Build the nginx config that puts a Jupyter server behind TLS with its protections left on.

Pure functions: validated options and a description of the server go in, a crossplane payload
(nested dicts) comes out, and ``crossplane.build`` turns it into text. Nothing is templated, and
every value from the user or a runtime file is checked before it reaches the payload.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Any

import crossplane

from .facts import (
    HTTP_PORT,
    HTTPS_PORT,
    base_url_problem,
    ip_literal,
    is_host_name,
    local_address,
    valid_port,
)

Stmt = dict[str, Any]

# Default body limit: jupyter_server's own ServerApp.max_body_size (512 MiB). A notebook is saved
# in one PUT of the whole file; a bigger nginx limit would only buffer bodies Jupyter refuses.
DEFAULT_MAX_BODY_SIZE = "512m"
# Debian's CA bundle (ca-certificates), for an https upstream without --upstream-ca.
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Kernel and terminal websockets can sit idle for hours; nginx's 60 s default cuts them.
PROXY_TIMEOUT = "1d"
AUTH_LOCATION = "/_jupyter_auth"
SIGNIN_LOCATION = "@jupyter_signin"
CONNECTION_VARIABLE = "$jupyter_connection_upgrade"
HSTS = "max-age=63072000"
# Mozilla intermediate, ECDHE suites only: the DHE suites need an ssl_dhparam file, without which
# nginx disables them anyway.
TLS12_CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ]
)
# What nginx would misread in an argument: directive ends, blocks, quotes, variables, comments.
UNSAFE = re.compile(r"[;{}\"'$#\\`\s]")
SAFE_PATH = re.compile(r"^/[A-Za-z0-9._@+=,:~/%-]*$")
SAFE_URL_REST = re.compile(r"^[A-Za-z0-9._~!&()*+,=:@%/?-]*$")
# [0-9], not \d: Python's \d takes any script's digits, which nginx reads as garbage.
BODY_SIZE = re.compile(r"^([0-9]{1,6})([kKmMgG]?)$")


# BoringSSL prints no version; it has every feature used here.
UNVERSIONED = (99,)


class SnippetError(ValueError):
    """A value that cannot go into the config; the message is one line and names the fix."""


def _unsafe(option: str, value: str, fix: str) -> SnippetError:
    names = {" ": "a space", "\n": "a newline", "\t": "a tab", "\r": "a carriage return"}
    bad = sorted({c for c in value if UNSAFE.match(c)})
    shown = " and ".join(names.get(c, repr(c)) for c in bad)
    return SnippetError(
        f"{option} {value!r} contains {shown or 'characters nginx cannot take'}, which nginx would "
        f"read as config syntax; {fix}"
    )


# ----------------------------------------------------------------------------- validation


def host_ok(host: str) -> bool:
    """A host nginx can take: a DNS name, a dotted IPv4 address or a bracketed IPv6 address.

    nginx reads anything that is not an address as a name to resolve, so ``[:1]`` or
    ``0127.0.0.1`` would fail at start-up instead of here.
    """
    if host.startswith("[") and host.endswith("]") and "%" not in host:  # no zone ids in nginx
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    return is_host_name(host) and not UNSAFE.search(host)


def check_server_name(value: str, option: str = "--server-name") -> str:
    """A DNS host name (what people type), lower-cased."""
    if UNSAFE.search(value):
        raise _unsafe(option, value, "give just the host name, e.g. jupyter.example.com")
    if not is_host_name(value):
        raise SnippetError(f"{option} {value!r} is not a host name; write e.g. jupyter.example.com")
    return value.lower()


def parse_listen(value: str, option: str = "--listen") -> tuple[str, int]:
    """``[ADDR:]PORT`` as (address or '', port); ADDR is IPv4, [IPv6] or a host name."""
    if UNSAFE.search(value):
        raise _unsafe(option, value, "write [ADDR:]PORT, e.g. 8443 or 0.0.0.0:443 or [::]:443")
    match = re.fullmatch(r"(?:(\[[0-9A-Fa-f:.]+\]|[0-9.]+|[A-Za-z0-9.-]+):)?([0-9]{1,5})", value)
    port = int(match.group(2)) if match else 0
    if not match or not valid_port(port) or (match.group(1) and not host_ok(match.group(1))):
        raise SnippetError(f"{option} {value!r} is not [ADDR:]PORT; write e.g. 8443 or 0.0.0.0:443")
    return match.group(1) or "", port


def check_file_path(value: str, option: str) -> str:
    """An absolute file path nginx can take as a bare word."""
    if UNSAFE.search(value):
        raise _unsafe(option, value, "use a path without spaces, quotes, ; { } $ # or newlines")
    if not value.startswith("/"):
        raise SnippetError(f"{option} {value!r} must be an absolute path (nginx reads it as root)")
    if not SAFE_PATH.match(value) or "/../" in value + "/":
        raise SnippetError(f"{option} {value!r} holds characters that do not belong in a file path")
    return value


def check_socket_path(value: str, option: str) -> str:
    """A unix socket path nginx's ``unix:PATH:`` upstream keeps whole: a file path without ':'.

    nginx ends the path at the first ':': ``proxy_pass http://unix:/run/a:b.sock:`` connects to
    /run/a (whoever can create that socket receives the logins) and sends ``b.sock:`` as the
    request path.
    """
    path = check_file_path(value, option)
    if ":" in path:
        cut = path.split(":", 1)[0]
        raise SnippetError(
            f"{option} {value!r} contains ':', where nginx ends a unix: socket path (it would "
            f"connect to {cut}); use a socket path without ':' (c.ServerApp.sock)"
        )
    return path


def check_base_url(value: str, option: str = "--base-url") -> str:
    """A clean URL prefix ending in '/', as c.ServerApp.base_url holds it."""
    if UNSAFE.search(value):
        raise _unsafe(option, value, "use a plain path such as /jp/")
    path = "/" + value.strip("/") + "/" if value.strip("/") else "/"
    problem = base_url_problem(path)
    if problem:
        raise SnippetError(f"{option} {value!r} {problem}; use a plain path such as /jp/")
    if "%" in path:
        # nginx matches locations against the decoded path: `location /a%41/` never matches.
        raise SnippetError(
            f"{option} {value!r} contains a %-escape, which an nginx location never matches; "
            "use a plain path such as /jp/"
        )
    return path


def check_url(value: str, option: str) -> str:
    """An absolute http(s) URL safe to write as one nginx argument."""
    if UNSAFE.search(value):
        raise _unsafe(option, value, "give a plain URL; nginx variables are not allowed here")
    match = re.fullmatch(
        r"(https?)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?(/.*)?", value
    )
    if (
        not match
        or not host_ok(match.group(2))
        or not SAFE_URL_REST.match(match.group(4) or "")
        or (match.group(3) and not valid_port(int(match.group(3))))
    ):
        raise SnippetError(
            f"{option} {value!r} is not an http(s) URL; write e.g. https://host/path"
        )
    return value


def parse_body_size(value: str, option: str = "--max-body-size") -> str:
    """An nginx size (``512m``, ``1g``, ``0`` for no limit), normalized to lower case."""
    match = BODY_SIZE.match(value.strip())
    if not match:
        if UNSAFE.search(value):
            raise _unsafe(option, value, "write a size such as 512m or 1g")
        raise SnippetError(f"{option} {value!r} is not a size; write e.g. 512m or 1g (0: no limit)")
    return match.group(1) + match.group(2).lower()


@dataclass(frozen=True)
class Upstream:
    """Where nginx reaches Jupyter: ``http://127.0.0.1:8888`` or a unix socket."""

    scheme: str = "http"
    host: str = "127.0.0.1"
    port: int = 8888
    sock: str = ""
    # CA bundle nginx verifies an https Jupyter on another host with (proxy_ssl_verify).
    ca: str = ""

    @property
    def verify(self) -> bool:
        """True when nginx checks Jupyter's certificate (set for https across a network)."""
        return bool(self.ca)

    @property
    def loopback(self) -> bool:
        """True when Jupyter is on this machine: a unix socket or a loopback address."""
        if self.sock:
            return True
        address = ip_literal(self.host)
        return address is not None and address.is_loopback

    @property
    def proxy_pass(self) -> str:
        """The proxy_pass argument, without a URI part so paths pass unchanged."""
        if self.sock:
            return f"{self.scheme}://unix:{self.sock}:"
        return f"{self.scheme}://{self.host}:{self.port}"


def upstream_for(hostname: str, port: int, sock: str = "", secure: bool = False) -> Upstream:
    """Where to reach a server from its runtime file's hostname/port/sock/secure."""
    scheme = "https" if secure else "http"
    if sock:
        return Upstream(scheme, sock=check_socket_path(sock, "the server's sock"))
    host = local_address(hostname.lower())
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    if not host_ok(host) or not valid_port(port):
        shown = hostname if hostname.isprintable() else repr(hostname)
        raise SnippetError(
            f"the server's hostname/port {shown}:{port} (from its runtime file) is not a host "
            "and port nginx can reach; choose another server, or give --upstream"
        )
    return Upstream(scheme, host, port)


def upstream_with_ca(upstream: Upstream, ca: str) -> Upstream:
    """``upstream`` checked by nginx against ``ca`` (default: the system's CA bundle).

    Without proxy_ssl_verify nginx takes any certificate from an https upstream: anyone on the
    network between nginx and Jupyter could pose as Jupyter and read passwords and code.
    """
    remote_https = upstream.scheme == "https" and not upstream.loopback
    if ca and not remote_https:
        raise SnippetError(
            "--upstream-ca is for an https Jupyter on another host (--upstream https://HOST:PORT); "
            "drop it"
        )
    if not remote_https:
        return upstream
    if ip_literal(upstream.host) is not None:
        raise SnippetError(
            f"nginx verifies an https upstream by host name, and {upstream.host} is an address: "
            "give the name in Jupyter's certificate, e.g. --upstream https://jupyter.internal:"
            f"{upstream.port}"
        )
    return replace(upstream, ca=check_file_path(ca, "--upstream-ca") if ca else SYSTEM_CA_BUNDLE)


def parse_upstream(value: str, option: str = "--upstream") -> Upstream:
    """``[http[s]://]HOST:PORT`` or ``unix:/path/to.sock``, with no path (base_url passes as is)."""
    if UNSAFE.search(value):
        raise _unsafe(option, value, "write http://HOST:PORT or unix:/path/to.sock")
    if value.startswith("unix:"):
        # One ':' closes the path in nginx's syntax (unix:/path:), so one is dropped, not all.
        path = value[5:]
        return Upstream(sock=check_socket_path(path[:-1] if path.endswith(":") else path, option))
    match = re.fullmatch(
        r"(?:(https?)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})(/?)", value.strip()
    )
    if match is None:
        if re.fullmatch(r"(?:https?://)?[^/]+:\d+/.+", value):
            raise SnippetError(
                f"{option} {value!r} has a path: give only http://HOST:PORT and set --base-url "
                "(nginx then passes paths to Jupyter unchanged)"
            )
        raise SnippetError(f"{option} {value!r} is not http://HOST:PORT or unix:/path/to.sock")
    scheme, host, port = match.group(1) or "http", match.group(2), int(match.group(3))
    if not host_ok(host) or not valid_port(port):
        raise SnippetError(f"{option} {value!r} is not http://HOST:PORT or unix:/path/to.sock")
    return Upstream(scheme, host.lower(), port)


# ----------------------------------------------------------------------------- nginx -V


@dataclass(frozen=True)
class NginxInfo:
    """What the installed nginx and its TLS library support (from ``nginx -V``)."""

    version: tuple[int, ...]
    tls_library: str = "OpenSSL"
    tls_version: tuple[int, ...] = (1, 1, 1)
    modules: frozenset[str] = field(default_factory=frozenset)
    detected: bool = True

    @property
    def label(self) -> str:
        """e.g. 'nginx 1.22.1 with OpenSSL 3.0.19'."""
        v = ".".join(map(str, self.version))
        tls = ".".join(map(str, self.tls_version)) if self.tls_version != UNVERSIONED else ""
        return f"nginx {v} with {self.tls_library} {tls}".rstrip()

    def has(self, module: str) -> bool:
        """True when nginx was built with ``--with-<module>``."""
        return module in self.modules

    @property
    def tls13(self) -> bool:
        """TLS 1.3: nginx 1.13.0+ and OpenSSL 1.1.1+ (LibreSSL 3.2+, any BoringSSL)."""
        if self.version < (1, 13, 0):
            return False
        if self.tls_library == "OpenSSL":
            return self.tls_version >= (1, 1, 1)
        if self.tls_library == "LibreSSL":
            return self.tls_version >= (3, 2, 0)
        return True

    @property
    def curves(self) -> str:
        """Mozilla's intermediate groups, limited to those this TLS library knows."""
        groups = []
        if self.tls_library == "OpenSSL" and self.tls_version >= (3, 5, 0):
            groups.append("X25519MLKEM768")
        if self.tls_library != "OpenSSL" or self.tls_version >= (1, 1, 0):
            groups.append("X25519")
        return ":".join([*groups, "prime256v1", "secp384r1"])

    @property
    def http2_directive(self) -> bool:
        """nginx 1.25.1+ takes ``http2 on;``; older ones need ``listen ... http2``."""
        return self.version >= (1, 25, 1)


# Assumed when no nginx is installed here: what Debian 11 / Ubuntu 20.04 and newer all accept.
BASELINE_NGINX = NginxInfo(
    (1, 18, 0),
    "OpenSSL",
    (1, 1, 1),
    frozenset({"http_ssl_module", "http_v2_module", "http_auth_request_module"}),
    detected=False,
)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def parse_nginx_v(text: str) -> NginxInfo:
    """Parse the output of ``nginx -V`` (it goes to stderr)."""
    match = re.search(r"nginx version: [\w.-]+?/(\d+\.\d+(?:\.\d+)?)", text)
    if not match:
        raise SnippetError("cannot read the nginx version from `nginx -V`")
    version = _version(match.group(1))
    library = "OpenSSL"
    tls_version: tuple[int, ...] = (1, 0, 0)
    libs = re.findall(r"(?:built|running) with (OpenSSL|LibreSSL|BoringSSL)\s*([\d.]*)", text)
    if libs:
        library = libs[0][0]
        # "built with OpenSSL 3.0.22 (running with OpenSSL 3.0.19)": the older one decides.
        known = [_version(v) for lib, v in libs if lib == library and v]
        tls_version = min(known) if known else UNVERSIONED
    modules = frozenset(re.findall(r"--with-(\w+_module)\b", text))
    return NginxInfo(version, library, tls_version, modules)


# ----------------------------------------------------------------------------- the payload


@dataclass(frozen=True)
class SnippetOptions:
    """Validated inputs of one snippet."""

    server_name: str
    listen_port: int = HTTPS_PORT
    # The port browsers use, when something in front of nginx maps ports (default: listen_port).
    public_port: int = 0
    listen_address: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    base_url: str = "/"
    upstream: Upstream = field(default_factory=Upstream)
    http_redirect: bool = False
    http_port: int = HTTP_PORT
    auth_request: str = ""
    auth_signin: str = ""
    max_body_size: str = DEFAULT_MAX_BODY_SIZE
    location_only: bool = False

    @property
    def public_origin(self) -> str:
        """``https://host[:port]``, as a browser writes it in the Origin header."""
        port = "" if self.browser_port == HTTPS_PORT else f":{self.browser_port}"
        return f"https://{self.server_name}{port}"

    @property
    def browser_port(self) -> int:
        """The port in the address bar (and so in Origin and Host)."""
        return self.public_port or self.listen_port

    @property
    def public_url(self) -> str:
        """The value for c.Hardening.public_url."""
        return self.public_origin + self.base_url


def companion_settings(opts: SnippetOptions) -> list[str]:
    """The Jupyter settings that must match this proxy (as config-file lines)."""
    up = opts.upstream
    local = up.loopback
    lines = []
    if up.sock:
        lines.append(f"c.ServerApp.sock = {up.sock!r}")
    elif local:
        lines.append(f"c.ServerApp.ip = {up.host.strip('[]')!r}")
    lines.append(f"c.ServerApp.base_url = {opts.base_url!r}")
    if ip_literal(opts.server_name) is not None:
        # jupyter_server's host check takes an address only when it is loopback (JH704).
        lines.append("c.ServerApp.allow_remote_access = True")
    else:
        lines.append(f"c.ServerApp.local_hostnames = {['localhost', opts.server_name]!r}")
    # Forwarded headers are trustworthy only when nothing but this proxy reaches Jupyter (JH701).
    if local:
        lines.append("c.ServerApp.trust_xheaders = True")
    lines += [
        "c.IdentityProvider.secure_cookie = True",
        f"c.Hardening.public_url = {opts.public_url!r}",
    ]
    return lines


def _d(directive: str, *args: str | int, block: list[Stmt] | None = None) -> Stmt:
    stmt: Stmt = {"directive": directive, "args": [str(a) for a in args]}
    if block is not None:
        stmt["block"] = block
    return stmt


def _comment(text: str) -> Stmt:
    if "\n" in text or "\r" in text:  # values are validated; this is a last guard
        raise SnippetError("a comment line may not contain a newline")
    return {"directive": "#", "args": [], "comment": f" {text}".rstrip()}


def _header(opts: SnippetOptions, source: str, nginx: NginxInfo) -> list[Stmt]:
    lines = [
        "Jupyter behind nginx, written by `jupyter hardening nginx-snippet`.",
        f"Made from the Jupyter server {source}.",
        f"Public address: {opts.public_url}",
        "The Jupyter server must run with these settings (jupyter_server_config.py):",
        *(f"  {line}" for line in companion_settings(opts)),
    ]
    if not opts.upstream.loopback:
        lines += [
            f"Jupyter runs on another host ({opts.upstream.host}): let only this proxy reach its",
            "port (firewall), and keep trust_xheaders off there.",
        ]
        if opts.upstream.verify:
            lines.append(
                f"nginx checks Jupyter's certificate (name {opts.upstream.host}) against "
                f"{opts.upstream.ca}."
            )
        elif opts.upstream.scheme == "http" and not opts.upstream.sock:
            lines += [
                "Passwords and code travel from nginx to Jupyter in plain http: keep that hop on",
                "a private network, or give Jupyter a certificate and use --upstream https://.",
            ]
    if opts.browser_port != opts.listen_port:
        lines.append(
            f"nginx listens on {opts.listen_port}; a port mapping in front of it serves "
            f"{opts.browser_port}."
        )
    if opts.location_only:
        lines += [
            "Paste the locations below inside your existing `server { ... }` with",
            f"`listen {opts.listen_port} ssl;` and `server_name {opts.server_name};`.",
            "Keep HSTS (add_header Strict-Transport-Security) at that server's level.",
        ]
        if opts.base_url == "/":
            lines.append("The `location /` below replaces the server's own `location /`.")
    else:
        lines += [
            "Install: save as /etc/nginx/conf.d/jupyter.conf (inside http {}), then",
            "`nginx -t && systemctl reload nginx`.",
        ]
        tls = nginx.label if nginx.detected else f"{nginx.label} or newer (no nginx found here)"
        lines.append(f"TLS settings: Mozilla intermediate, for {tls}.")
    return [_comment(line) for line in lines]


def _jupyter_location(opts: SnippetOptions, nginx: NginxInfo) -> Stmt:
    # Jupyter compares Origin with Host; $host alone drops the port a browser puts in Origin.
    host = "$host" if opts.browser_port == HTTPS_PORT else f"$host:{opts.browser_port}"
    # A map cannot go inside server {}, so --location-only asks for the upgrade on every
    # request; Jupyter ignores it on plain requests.
    connection = "upgrade" if opts.location_only else CONNECTION_VARIABLE
    block: list[Stmt] = []
    if opts.auth_request:
        block += [_d("auth_request", AUTH_LOCATION), _d("error_page", 401, "=", SIGNIN_LOCATION)]
    block += [
        _d("proxy_pass", opts.upstream.proxy_pass),
        *_upstream_tls(opts.upstream, nginx),
        _d("proxy_http_version", "1.1"),
        _d("proxy_set_header", "Host", host),
        _d("proxy_set_header", "X-Real-IP", "$remote_addr"),
        _d("proxy_set_header", "X-Forwarded-For", "$proxy_add_x_forwarded_for"),
        _d("proxy_set_header", "X-Forwarded-Proto", "$scheme"),
        _d("proxy_set_header", "X-Scheme", "$scheme"),
        _d("proxy_set_header", "Upgrade", "$http_upgrade"),
        _d("proxy_set_header", "Connection", connection),
        _d("proxy_read_timeout", PROXY_TIMEOUT),
        _d("proxy_send_timeout", PROXY_TIMEOUT),
        _d("client_max_body_size", opts.max_body_size),
    ]
    return _d("location", opts.base_url, block=block)


def _upstream_tls(upstream: Upstream, nginx: NginxInfo) -> list[Stmt]:
    # nginx's default for an https upstream is to accept any certificate (proxy_ssl_verify off).
    if not upstream.verify:
        return []
    return [
        _d("proxy_ssl_verify", "on"),
        _d("proxy_ssl_trusted_certificate", upstream.ca),
        _d("proxy_ssl_verify_depth", 3),  # the default, 1, refuses chains with an intermediate
        _d("proxy_ssl_server_name", "on"),
        # nginx before 1.13.0 refuses the word TLSv1.3 (nginx -t: invalid value), as in _tls.
        _d("proxy_ssl_protocols", "TLSv1.2", *(["TLSv1.3"] if nginx.tls13 else [])),
    ]


def _signin_target(opts: SnippetOptions) -> str:
    back = opts.public_origin + "$request_uri"
    signin = opts.auth_signin
    if signin.endswith("="):
        return signin + back
    return signin + ("&" if "?" in signin else "?") + "rd=" + back


def _auth_locations(opts: SnippetOptions) -> list[Stmt]:
    if not opts.auth_request:
        return []
    return [
        _d(
            "location",
            "=",
            AUTH_LOCATION,
            block=[
                _d("internal"),
                _d("proxy_pass", opts.auth_request),
                _d("proxy_pass_request_body", "off"),
                _d("proxy_set_header", "Content-Length", ""),
                _d("proxy_set_header", "X-Original-URI", "$request_uri"),
                _d("proxy_set_header", "X-Original-Method", "$request_method"),
                _d("proxy_set_header", "X-Forwarded-Uri", "$request_uri"),
                _d("proxy_set_header", "X-Forwarded-Host", "$host"),
                _d("proxy_set_header", "X-Forwarded-Proto", "$scheme"),
                _d("proxy_set_header", "X-Real-IP", "$remote_addr"),
            ],
        ),
        _d("location", SIGNIN_LOCATION, block=[_d("return", 302, _signin_target(opts))]),
    ]


def _tls(opts: SnippetOptions, nginx: NginxInfo) -> list[Stmt]:
    return [
        _d("ssl_certificate", opts.tls_cert),
        _d("ssl_certificate_key", opts.tls_key),
        _d("ssl_protocols", "TLSv1.2", *(["TLSv1.3"] if nginx.tls13 else [])),
        _d("ssl_ecdh_curve", nginx.curves),
        _d("ssl_ciphers", TLS12_CIPHERS),
        _d("ssl_prefer_server_ciphers", "off"),
        _d("ssl_session_timeout", "1d"),
        _d("ssl_session_cache", "shared:JupyterSSL:10m"),
        _d("ssl_session_tickets", "off"),
    ]


def _listen(opts: SnippetOptions, port: int, *params: str) -> Stmt:
    where = f"{opts.listen_address}:{port}" if opts.listen_address else str(port)
    return _d("listen", where, *params)


def build_payload(opts: SnippetOptions, nginx: NginxInfo, source: str) -> list[Stmt]:
    """The crossplane payload: header comments, then a map and servers (or bare locations)."""
    if opts.auth_request and not nginx.has("http_auth_request_module"):
        raise SnippetError(
            f"--auth-request needs nginx's auth_request module, which {nginx.label} lacks "
            "(Debian: apt-get install nginx-light or nginx-full)"
        )
    if not nginx.has("http_ssl_module"):
        raise SnippetError(
            f"{nginx.label} was built without TLS (http_ssl_module); install nginx-light"
        )
    if opts.auth_request and not opts.auth_signin:
        raise SnippetError(
            "--auth-request needs --auth-signin URL: where nginx sends people who are not signed "
            "in, e.g. https://auth.example.com/oauth2/start"
        )
    payload = _header(opts, source, nginx)
    locations = [*_auth_locations(opts), _jupyter_location(opts, nginx)]
    if opts.location_only:
        return payload + locations
    http2 = nginx.has("http_v2_module")
    listen = _listen(
        opts, opts.listen_port, "ssl", *(["http2"] if http2 and not nginx.http2_directive else [])
    )
    server: list[Stmt] = [
        listen,
        *([_d("http2", "on")] if http2 and nginx.http2_directive else []),
        _d("server_name", opts.server_name),
        _d("server_tokens", "off"),
        *_tls(opts, nginx),
        # Every add_header at this one level: one in a location would silently drop this one.
        _d("add_header", "Strict-Transport-Security", HSTS, "always"),
    ]
    if opts.base_url != "/":
        server.append(_d("location", "=", "/", block=[_d("return", 302, opts.base_url)]))
    server += locations
    payload.append(
        _d(
            "map",
            "$http_upgrade",
            CONNECTION_VARIABLE,
            # The empty key must be the directive '' (empty string): crossplane writes the
            # directive '""' as the two-character key '""', which never matches.
            block=[_d("default", "upgrade"), _d("", "close")],
        )
    )
    if opts.http_redirect:
        payload.append(
            _d(
                "server",
                block=[
                    _listen(opts, opts.http_port),
                    _d("server_name", opts.server_name),
                    _d("server_tokens", "off"),
                    _d("return", 301, opts.public_origin + "$request_uri"),
                ],
            )
        )
    payload.append(_d("server", block=server))
    return payload


def _numbered(block: list[Stmt], counter: list[int]) -> list[Stmt]:
    # crossplane joins a comment to the previous line when both carry the same line number.
    out = []
    for stmt in block:
        counter[0] += 1
        stmt = {**stmt, "line": counter[0]}
        if "block" in stmt:
            stmt["block"] = _numbered(stmt["block"], counter)
        out.append(stmt)
    return out


def render(payload: list[Stmt]) -> str:
    """nginx config text for a payload."""
    return str(crossplane.build(_numbered(payload, [0]))) + "\n"


def generate(opts: SnippetOptions, nginx: NginxInfo, source: str) -> str:
    """The nginx config for ``opts`` on ``nginx``; ``source`` names the Jupyter server."""
    return render(build_payload(opts, nginx, source))
