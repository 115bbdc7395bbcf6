"""What a proxy config is made of, validated: the public name and port, TLS files, the Jupyter
upstream, the body limit; and the Jupyter settings that must match it.

Every value from the command line, a config file or a runtime file passes a check here before
any generator (nginx, Caddy, Apache) sees it. Pure: no subprocess, no file is read.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ..facts import (
    HTTP_PORT,
    HTTPS_PORT,
    base_url_problem,
    ip_literal,
    is_host_name,
    local_address,
    valid_port,
)
from ..printable import redacted_url

# Default body limit: jupyter_server's own ServerApp.max_body_size (512 MiB). A notebook is saved
# in one PUT of the whole file; a bigger nginx limit would only buffer bodies Jupyter refuses.
DEFAULT_MAX_BODY_SIZE = "512m"

# Debian's CA bundle (ca-certificates), for an https upstream without --upstream-ca.
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

HSTS = "max-age=63072000"

LETSENCRYPT_LIVE = "/etc/letsencrypt/live"

# Mozilla's intermediate profile, ECDHE suites (nginx serves DHE suites only with a dhparam file).
ECDHE_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)

# What nginx would misread in an argument: directive ends, blocks, quotes, variables, comments.
UNSAFE = re.compile(r"[;{}\"'$#\\`\s]")

SAFE_PATH = re.compile(r"^/[A-Za-z0-9._@+=,:~/%-]*$")

SAFE_URL_REST = re.compile(r"^[A-Za-z0-9._~!&()*+,=:@%/?-]*$")

# [0-9], not \d: Python's \d takes any script's digits, which nginx reads as garbage.
BODY_SIZE = re.compile(r"^([0-9]{1,6})([kKmMgG]?)$")


class SnippetError(ValueError):
    """A value that cannot go into the config; the message is one line and names the fix."""


def _unsafe(option: str, value: str, fix: str) -> SnippetError:
    names = {" ": "a space", "\n": "a newline", "\t": "a tab", "\r": "a carriage return"}
    bad = sorted({c for c in value if UNSAFE.match(c)})
    shown = " and ".join(names.get(c, repr(c)) for c in bad)
    return SnippetError(
        f"{option} {redacted_url(value)!r} contains {shown or 'characters nginx cannot take'}, "
        f"which nginx would read as config syntax; {fix}"
    )


def host_ok(host: str) -> bool:
    """A host nginx can take: a DNS name, a dotted IPv4 address or a bracketed IPv6 address.

    nginx reads anything that is not an address as a name to resolve: ``[:1]`` or
    ``1.2.3.256`` would fail at start-up instead of here, and ``0127.0.0.1`` or ``0x7f.1``, which
    the resolver reads as addresses in octal or hex (87.0.0.1, 127.0.0.1), would connect where a
    reader does not expect.
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
    return (
        is_host_name(host)
        and not UNSAFE.search(host)
        and not numeric_ipv4(host)
        and not socket_prefix(host)
    )


def socket_prefix(host: str) -> bool:
    """True for a host named ``unix`` (any case): nginx reads ``unix:`` in proxy_pass and listen
    as a unix socket, so ``http://unix:8888`` is the socket file ``8888`` in nginx's working
    folder, which whoever can create it there receives the logins through."""
    return host.lower() == "unix"


def _refuse_socket_prefix(option: str, value: str, host: str) -> None:
    if socket_prefix(host):
        raise SnippetError(
            f"{option} {redacted_url(value)!r}: nginx reads a host named {host} as a unix socket "
            f"({host}:PORT is a socket file in its working folder); give the host's full name "
            "or its address"
        )


def numeric_ipv4(host: str) -> str:
    """The dotted address of a host that the resolver reads as IPv4 in another form (``0x7f.1``,
    ``0x7f000001``): nginx passes it to getaddrinfo, which takes it as 127.0.0.1. '' for a name."""
    import socket

    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except (OSError, UnicodeError, ValueError):
        return ""


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
    if match and match.group(1):
        _refuse_socket_prefix(option, value, match.group(1))
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
    if match:
        _refuse_socket_prefix(option, value, match.group(2))
    if (
        not match
        or not host_ok(match.group(2))
        or not SAFE_URL_REST.match(match.group(4) or "")
        or (match.group(3) and not valid_port(int(match.group(3))))
    ):
        raise SnippetError(
            f"{option} {redacted_url(value)!r} is not an http(s) URL; write e.g. https://host/path"
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


def size_bytes(size: str) -> int:
    """An nginx-style size (parse_body_size's ``512m``, ``1g``, ``0``) in bytes."""
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    return int(size.rstrip("kmg")) * units[size[-1] if size[-1] in "kmg" else ""]


def letsencrypt_files(domain: str, live: str) -> tuple[str, str]:
    """certbot's certificate chain and key for ``domain`` in its ``live`` folder."""
    domain = check_server_name(domain, "--letsencrypt")
    root = check_file_path(live.rstrip("/") or "/", "--letsencrypt-live")
    return f"{root}/{domain}/fullchain.pem", f"{root}/{domain}/privkey.pem"


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
        if address is None and self.host.lower().rstrip(".") == "localhost":
            return _resolves_to_loopback(self.host)
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
    # A name on this machine (localhost) can still be verified, when its own CA is given.
    named_https = upstream.scheme == "https" and not upstream.sock
    if ca and not (remote_https or (named_https and ip_literal(upstream.host) is None)):
        raise SnippetError(
            "--upstream-ca is for an https Jupyter reached by name (--upstream https://HOST:PORT); "
            "drop it"
        )
    if not (remote_https or ca):
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

    def wrong() -> SnippetError:
        return SnippetError(
            f"{option} {redacted_url(value)!r} is not http://HOST:PORT or unix:/path/to.sock"
        )

    if match is None:
        if re.fullmatch(r"(?:https?://)?[^/]+:\d+/.+", value):
            raise SnippetError(
                f"{option} {redacted_url(value)!r} has a path: give only http://HOST:PORT and set "
                "--base-url (nginx then passes paths to Jupyter unchanged)"
            )
        raise wrong()
    scheme, host, port = match.group(1) or "http", match.group(2), int(match.group(3))
    if not valid_port(port):
        raise SnippetError(f"{option} {redacted_url(value)!r}: a port is 1-65535, not {port}")
    _refuse_socket_prefix(option, value, host)
    address = numeric_ipv4(host)
    if address and address != host:
        raise SnippetError(
            f"{option} {redacted_url(value)!r}: {host} is the address {address} written another "
            f"way (octal or hex parts; nginx connects there); write {scheme}://{address}:{port}"
        )
    if not host_ok(host):
        raise wrong()
    return Upstream(scheme, host.lower(), port)


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


def _resolves_to_loopback(host: str) -> bool:
    """True when every address ``host`` resolves to here is loopback (as the proxy will see it:
    'localhost' is in /etc/hosts); a name is resolved, never trusted by its spelling."""
    import ipaddress
    import socket

    try:
        found = socket.getaddrinfo(host, None, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found}
    return bool(addresses) and all(a.is_loopback for a in addresses)


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


def signin_url(signin: str, back: str) -> str:
    """Where an auth gate sends a browser that is not signed in: ``signin`` with the way ``back``
    appended as ``?rd=...`` (or after a trailing '=', e.g. ``https://vouch.example.com/login?url=``)."""
    if signin.endswith("="):
        return signin + back
    return signin + ("&" if "?" in signin else "?") + "rd=" + back


def header_lines(
    opts: SnippetOptions, proxy: str, command: str, source: str, settings: Sequence[str] = ()
) -> list[str]:
    """The lines every config starts with: who wrote it, from which server, the public address
    and the Jupyter settings that must match it (``settings``: the proxy's own, after them)."""
    return [
        f"Jupyter behind {proxy}, written by `jupyter hardening {command}`.",
        f"Made from the Jupyter server {source}.",
        f"Public address: {opts.public_url}",
        "The Jupyter server must run with these settings (jupyter_server_config.py):",
        *(f"  {line}" for line in [*companion_settings(opts), *settings]),
    ]


def remote_lines(opts: SnippetOptions) -> list[str]:
    """The warning for a Jupyter on another host: only the proxy may reach its port."""
    if opts.upstream.loopback:
        return []
    return [
        f"Jupyter runs on another host ({opts.upstream.host}): let only this proxy reach its",
        "port (firewall), and keep trust_xheaders off there.",
    ]


def port_mapping_lines(opts: SnippetOptions, listener: str) -> list[str]:
    """The note for a proxy that listens on another port than the one browsers use."""
    if opts.browser_port == opts.listen_port:
        return []
    return [
        f"{listener} listens on {opts.listen_port}; a port mapping in front of it serves "
        f"{opts.browser_port}."
    ]
