"""What jupyter_server, browsers and the proxies accept: addresses, host names, ports, URL paths
and patterns. The rules, the proxy generators, the preflight and the diagnosis read them here.

Imported at every server start: the standard library only, ``ipaddress`` and ``socket`` when
a function needs them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .printable import without_userinfo
from .record import Record

if TYPE_CHECKING:
    import ipaddress

# ----------------------------------------------------------------------------- addresses

# ServerApp.ip values that listen on every interface: jupyter_server turns '*' into '', and
# '0.0.0.0', '::' and '[::]' bind every IPv4 / IPv6 address.
WILDCARD_ADDRESSES = frozenset({"", "*", "0.0.0.0", "::", "[::]"})  # noqa: S104 - values we judge
# Every server start imports this module: its patterns are strings, compiled (and cached by re)
# on first use, and jupyter_server's default base_url '/' is judged without compiling any.
# An RFC 1123 host name: labels of letters, digits and '-', none starting or ending with '-'.
HOSTNAME = r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$"


def is_wildcard(ip: str) -> bool:
    """True when ``ServerApp.ip = ip`` listens on every interface."""
    return ip in WILDCARD_ADDRESSES


def is_host_name(host: str) -> bool:
    """True when ``host`` is a DNS host name (an IPv4 address also has this form)."""
    return bool(re.match(HOSTNAME, host))


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` spells (``[::1]`` brackets allowed), or None for a host name."""
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def loopback_literal(host: str) -> bool:
    """True for ``localhost`` and loopback addresses, without asking a resolver.

    This is what jupyter_server's Host check accepts without ``local_hostnames``: an address
    only when it is loopback, a name only when listed (``localhost`` by default).
    """
    if host == "localhost":
        return True
    address = ip_literal(host)
    return address is not None and address.is_loopback


def browser_loopback(host: str) -> bool:
    """True when a browser treats ``host`` as this machine: ``localhost``, ``*.localhost``
    (a secure context even over http) and loopback addresses."""
    return host.endswith(".localhost") or loopback_literal(host)


def binds_loopback(ip: str) -> bool:
    """True when ``ServerApp.ip = ip`` (an address or host name) only binds loopback interfaces."""
    if is_wildcard(ip):
        return False
    host = ip.strip("[]")
    # Only the name itself: `*.localhost` is resolved like any other name, since nothing but
    # the resolver (/etc/hosts, DNS) decides where it points, and jupyter_server binds there.
    if host == "localhost":
        return True
    address = ip_literal(host)
    if address is not None:
        return address.is_loopback
    import ipaddress
    import socket

    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def local_address(ip: str) -> str:
    """The address a client on this machine uses for a server listening on ``ip``: a wildcard
    (or ``localhost``) is reached on loopback, any other address is the only one it answers on."""
    if ip in ("::", "[::]"):
        return "::1"
    if is_wildcard(ip) or ip == "localhost":
        return "127.0.0.1"
    return ip


# ----------------------------------------------------------------------------- ports

HTTP_PORT = 80
HTTPS_PORT = 443


def default_port(scheme: str) -> int:
    """The port a URL of ``scheme`` means without one: 443 for https, else 80."""
    return HTTPS_PORT if scheme == "https" else HTTP_PORT


def valid_port(port: int) -> bool:
    """True for a TCP port a server can listen on and a URL can name (1-65535)."""
    return 0 < port < 65536


# ----------------------------------------------------------------------------- base_url

# Unreserved and sub-delim characters that survive browsers, tornado routing and nginx config.
SAFE_BASE_URL = r"^/(?:[A-Za-z0-9._~!&',=:@%-]+/)*$"
# 'http://host/jp' as jupyter_server normalizes it ('/http://host/jp/'), or '//host/jp/'.
_FULL_URL = r"^/*(?:[A-Za-z][A-Za-z0-9+.-]*:)?//[^/]*(/.*)?$"
# '/https:/host/' and other scheme-led paths a single slash made of '//'.
_SCHEME_PATH = r"^/+[A-Za-z][A-Za-z0-9+.-]*:/"


def full_url_path(base_url: str) -> str | None:
    """The path a base_url written as a full URL means ('/http://h/jp/' -> '/jp/'), else None."""
    if base_url == "/":
        return None  # jupyter_server's default matches neither pattern
    match = re.match(_FULL_URL, base_url)
    if match:
        path = "/" + (match.group(1) or "/").strip("/")
        return path.rstrip("/") + "/"
    if re.match(_SCHEME_PATH, base_url):
        return "/"
    return None


def base_url_problem(base_url: str) -> str:
    """Why ``base_url`` breaks URLs or proxies, or '' when it is a clean path."""
    if base_url == "/":
        return ""  # jupyter_server's default passes every check below
    if re.search(r"[\x00-\x20\x7f]", base_url):
        return "contains whitespace or control characters"
    bad = sorted(set(re.findall(r"[;{}\"'$#?\\<>`^|\[\]]", base_url)))
    if bad:
        return "contains " + " ".join(repr(c) for c in bad)
    # jupyter_server and tornado join base_url into their URL patterns unescaped: there these
    # are regex operators, and '/a+b/' serves Jupyter at /aab/ and 404s at /a+b/.
    operators = sorted(set(re.findall(r"[()*+]", base_url)))
    if operators:
        return (
            "contains "
            + " ".join(repr(c) for c in operators)
            + ", which jupyter_server's URL patterns read as regex operators (404 everywhere)"
        )
    if "//" in base_url:
        return "contains an empty path segment ('//')"
    if any(seg in (".", "..") for seg in base_url.split("/")):
        return "contains '.' or '..' segments, which browsers and proxies rewrite"
    if not re.match(SAFE_BASE_URL, base_url):
        return "contains characters outside the URL path alphabet"
    return ""


def route_pattern_problem(base_url: str) -> str:
    """Why jupyter_server's route patterns fail once ``base_url`` is joined into them, or ''.

    They join it unescaped (see JH502); a named group compiles alone but clashes with the
    routes' own ``(?P<path>...)``.
    """
    problem = pattern_invalid(base_url)
    if problem:
        return problem
    named = sorted(re.compile(base_url).groupindex)
    return f"named group {named[0]!r} beside the routes' own" if named else ""


# ----------------------------------------------------------------------------- patterns


def pattern_invalid(pattern: str) -> str:
    """The regex error of ``pattern`` (as Python's ``re``, jupyter_server's, reports it), or ''."""
    try:
        re.compile(pattern)
    except re.error as e:
        return str(e)
    except (RecursionError, OverflowError, MemoryError):
        return "too deeply nested for Python's re module"
    return ""


# ----------------------------------------------------------------------------- public_url


class PublicURL(Record):
    """The parts of ``c.Hardening.public_url``: scheme, host, port (explicit or default), path."""

    scheme: str
    host: str
    port: int
    path: str


def parse_public_url(url: str) -> PublicURL:
    """Parse a public URL, or raise ValueError with a message naming the problem."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    # Messages are logged and printed: never repeat a user:password written into the URL.
    url = without_userinfo(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{url!r} must start with https:// (or http://)")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{url!r} must be scheme://host[:port]/path, without query or user")
    host = parts.hostname or ""
    if not is_host_name(host):
        raise ValueError(f"{url!r} has no valid host name")
    try:
        port = parts.port or default_port(parts.scheme)
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    path = parts.path or "/"
    if not path.endswith("/"):
        path += "/"
    problem = base_url_problem(path)
    if problem:
        raise ValueError(f"the path of {url!r} {problem}")
    return PublicURL(parts.scheme, host.lower(), port, path)


def public_url_or_none(url: str) -> PublicURL | None:
    """``url`` parsed, or None when it is empty or invalid (c.Hardening validates it first)."""
    if not url:
        return None
    try:
        return parse_public_url(url)
    except ValueError:
        return None
