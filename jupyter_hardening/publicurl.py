"""Parse and validate ``c.Hardening.public_url``: the address people type to reach Jupyter."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$"
)


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` spells (``[::1]`` brackets allowed), or None for a host name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class PublicURL:
    """The parts of a public URL: scheme, host, port (explicit or default) and path."""

    scheme: str
    host: str
    port: int
    path: str


def parse_public_url(url: str) -> PublicURL:
    """Parse a public URL, or raise ValueError with a message naming the problem."""
    parts = urlsplit(url.strip())
    # Messages are logged and printed: never repeat a user:password written into the URL.
    url = re.sub(r"(^|//)[^/]*@", r"\1<user>@", url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{url!r} must start with https:// (or http://)")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{url!r} must be scheme://host[:port]/path, without query or user")
    host = parts.hostname or ""
    if not HOSTNAME.match(host):
        raise ValueError(f"{url!r} has no valid host name")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    path = parts.path or "/"
    if not path.endswith("/"):
        path += "/"
    from .rules.urls import base_url_problem

    problem = base_url_problem(path)
    if problem:
        raise ValueError(f"the path of {url!r} {problem}")
    return PublicURL(parts.scheme, host.lower(), port, path)
