"""Live proxy diagnosis: recognise a broken reverse proxy from the requests that reach the server.

jupyter_server calls tornado's ``log_function`` setting once per finished request with its
handler; ``extension.watch_requests`` wraps it (and imports this module with the first request). The wrapper only looks at the status, the handler's class and a
few request headers, and counts; findings (JH710-JH715) are built when /hardening or /metrics ask
(:meth:`Diagnosis.findings`), and only after a count changed. Nothing but counters, times and one
redacted example per kind is kept: no cookie, token, query string or request body.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .facts import PublicURL, default_port, ip_literal, loopback_literal
from .record import replace
from .rules.base import Finding, Severity
from .rules.live import LIVE_RULES
from .snapshot import Snapshot

# A Host or Origin host worth repeating in a fix: a DNS name or an address, with a port.
_HOSTPORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]{1,253})(?::([0-9]{1,5}))?$")
# Kernel, session and terminal ids are not secret, but say nothing either.
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}")
# Headers an example may show (never Cookie, Authorization or anything else).
SHOWN_HEADERS = ("Origin", "Host", "Upgrade", "Connection", "X-Forwarded-Proto", "Via")
# 404s outside base_url whose first segment was judged, at most this many (a scanner's paths).
_PREFIX_CACHE_SIZE = 256


# The kinds of fault, declared (and documented) in rules/live.py.
KINDS = {rule.id: rule for rule in LIVE_RULES}


@dataclass
class Seen:
    """What is kept of one kind: a count, two times, and the first example (redacted)."""

    count: int
    first: float
    last: float
    example: str
    detail: dict[str, str]
    proxy: str


@dataclass(frozen=True)
class Context:
    """The server's settings the signatures are judged against (read once, at startup)."""

    base_url: str = "/"
    public: PublicURL | None = None
    trust_xheaders: bool = False
    allow_remote_access: bool = False
    local_hostnames: tuple[str, ...] = ("localhost",)
    remote: bool = False
    port: int = 8888
    sock: str = ""
    # Does a path (a 404 outside base_url) match a route once base_url is put in front?
    routed: Callable[[str], bool] = field(default=lambda path: False)

    @property
    def upstream(self) -> str:
        """The proxy_pass argument that reaches this server, without a URI part."""
        if self.sock:
            return f"http://unix:{self.sock}:"
        return f"http://127.0.0.1:{self.port}"


def context_for(serverapp: Any, snapshot: Snapshot, port: Any = None, sock: Any = None) -> Context:
    """The Context of a live ServerApp (``port`` and ``sock`` as read at startup, when given)."""
    web_app = serverapp.web_app

    def routed(path: str) -> bool:
        from tornado.httputil import HTTPServerRequest

        request = HTTPServerRequest(method="GET", uri=path)
        return _matches(web_app.default_router, request, 0)

    return Context(
        base_url=snapshot.base_url,
        public=snapshot.public,
        trust_xheaders=snapshot.trust_xheaders,
        allow_remote_access=snapshot.allow_remote_access,
        local_hostnames=tuple(h.lower() for h in snapshot.local_hostnames),
        remote=snapshot.remote,
        port=int((getattr(serverapp, "port", 0) if port is None else port) or 0),
        sock=str((getattr(serverapp, "sock", "") if sock is None else sock) or ""),
        routed=routed,
    )


# jupyter_server's catch-all route that answers 404: a match there is no match.
_CATCH_ALL = {"(.*)", "(.*)$", ".*$", "/(.*)", "/(.*)$"}


def _matches(router: Any, request: Any, depth: int) -> bool:
    """True when a route of ``router`` (host rules hold path rules) other than a catch-all
    matches ``request``'s path."""
    for rule in getattr(router, "rules", ()):
        regex = getattr(rule.matcher, "regex", None)
        if regex is not None:
            if regex.pattern not in _CATCH_ALL and rule.matcher.match(request) is not None:
                return True
        elif depth < 3 and _matches(rule.target, request, depth + 1):
            return True
    return False


def _split_hostport(value: str) -> tuple[str, str] | None:
    """(host, port) of ``value`` ('' when no port), or None when it is not a plain host[:port]."""
    match = _HOSTPORT.match(value.strip())
    if match is None:
        return None
    return match.group(1).lower(), match.group(2) or ""


def which_proxy(headers: Any) -> str:
    """'caddy', 'apache' or 'nginx' (the default): what the request's headers show.

    Verified with Debian's proxies: Apache's mod_proxy (2.4) adds ``X-Forwarded-Server`` (and
    X-Forwarded-Host/-For); Caddy 2.6 adds ``X-Forwarded-Host``, ``-Proto`` and ``-For`` but
    no Via (newer Caddy versions may add ``Via: ... Caddy``); nginx adds only what its config
    says, and nginx-snippet's config sets no X-Forwarded-Host.
    """
    if "caddy" in headers.get("Via", "").lower():
        return "caddy"
    if "X-Forwarded-Server" in headers:
        return "apache"
    if "X-Forwarded-Host" in headers and "X-Forwarded-Proto" in headers:
        return "caddy"
    return "nginx"


def redact_path(path: str) -> str:
    """The path with ids replaced and cut after four segments (file names say too much)."""
    parts = _ID.sub("<id>", path).split("/")
    if len(parts) > 6:
        parts = [*parts[:6], "..."]
    return "/".join(parts)[:200]


def _example(handler: Any, status: int) -> str:
    request = handler.request
    shown = []
    for name in SHOWN_HEADERS:
        value = request.headers.get(name)
        if value is None:
            continue
        if name == "Origin":
            parts = urlsplit(value)
            value = f"{parts.scheme}://{parts.netloc}"
        shown.append(f"{name}: {value[:100]}")
    headers = ", ".join(shown) or "no proxy headers"
    text = f"{request.method} {redact_path(request.path)} answered {status} ({headers})"
    return "".join(c if c.isprintable() else "?" for c in text)


class Diagnosis:
    """Counts the proxy faults seen in requests; builds findings from the counts on demand."""

    def __init__(self, context: Context, log: Any = None, accepted: dict[str, str] | None = None):
        self.context = context
        self.log = log
        # c.Hardening.accepted_risks: an accepted kind is still counted, and logged as accepted.
        self.accepted = dict(accepted or {})
        self.seen: dict[str, Seen] = {}
        # Bumped on every count change: the live report re-merges only when it moved.
        self.version = 0
        self._lock = threading.Lock()
        self._ws_classes: dict[type, bool] = {}
        self._prefixes: dict[str, bool] = {}
        public = context.public
        self._https_public = public is not None and public.scheme == "https"
        self._public_host = public.host.lower() if public is not None else ""

    # -- the request path: cheap checks, then count -------------------------------------------

    def observe(self, handler: Any) -> None:
        """Look at one finished request (called from tornado's log_function)."""
        status = handler.get_status()
        request = handler.request
        headers = request.headers
        if status >= 400:
            self._blocked(handler, status, headers)
        cls = type(handler)
        is_ws = self._ws_classes.get(cls)
        if is_ws is None:
            from tornado.websocket import WebSocketHandler

            is_ws = self._ws_classes[cls] = issubclass(cls, WebSocketHandler)
        if is_ws:
            self._websocket(handler, status, headers)
        forwarded = "X-Forwarded-For" in headers or "X-Real-Ip" in headers
        if self._https_public and request.protocol == "http":
            host = headers.get("Host", "")
            if forwarded or host.split(":")[0].lower() == self._public_host:
                proto = headers.get("X-Forwarded-Proto", "")
                if proto.lower() != "https":
                    self._count("JH712", handler, status, {"header": proto})
        if forwarded and not self.context.trust_xheaders:
            self._count("JH715", handler, status, {})

    def _blocked(self, handler: Any, status: int, headers: Any) -> None:
        host = headers.get("Host")
        origin = headers.get("Origin")
        if status in (403, 404) and origin and host:
            self._origin(handler, status, origin, host)
        if status == 403 and host and not self.context.allow_remote_access:
            self._host_check(handler, status, host)
        if status == 404:
            self._base_url(handler, status)

    def _origin(self, handler: Any, status: int, origin: str, host: str) -> None:
        parts = urlsplit(origin.lower())
        if parts.netloc == host or parts.scheme not in ("http", "https"):
            return
        seen_origin = _split_hostport(parts.netloc)
        seen_host = _split_hostport(host)
        if seen_origin is None or seen_host is None:
            return
        o_host, o_port = seen_origin
        h_host, h_port = seen_host
        if o_host == h_host:
            how = "port"
        elif loopback_literal(h_host) or (h_port and h_port == str(self.context.port)):
            # nginx's default Host is the proxy_pass address ($proxy_host).
            how = "host"
        else:
            return  # a page of another site: the check did its job
        self._count(
            "JH710",
            handler,
            status,
            {"how": how, "port": o_port, "scheme": parts.scheme, "host": o_host, "seen": host},
        )

    def _host_check(self, handler: Any, status: int, host: str) -> None:
        seen = _split_hostport(host)
        if seen is None:
            return
        name = seen[0].strip("[]")
        if name.startswith("/") or loopback_literal(name) or name in self.context.local_hostnames:
            return  # jupyter_server accepted this Host: the 403 came from elsewhere
        address = ip_literal(name) is not None
        self._count("JH713", handler, status, {"host": name, "address": str(address)})

    def _base_url(self, handler: Any, status: int) -> None:
        base = self.context.base_url
        path = handler.request.path
        if base == "/" or path.startswith(base) or not path.startswith("/"):
            return
        prefix = path.split("/", 2)[1]
        hit = self._prefixes.get(prefix)
        if hit is None:
            hit = self.context.routed(base + path.lstrip("/"))
            if len(self._prefixes) < _PREFIX_CACHE_SIZE:
                self._prefixes[prefix] = hit
        if hit:
            self._count("JH714", handler, status, {})

    def _websocket(self, handler: Any, status: int, headers: Any) -> None:
        missing = []
        if handler.request.version == "HTTP/1.0":
            missing.append("proxy_http_version")
        if headers.get("Upgrade", "").lower() != "websocket":
            missing.append("Upgrade")
        if "upgrade" not in headers.get("Connection", "").lower():
            missing.append("Connection")
        if missing:
            self._count("JH711", handler, status, {"missing": " ".join(missing)})

    def _count(self, kind: str, handler: Any, status: int, detail: dict[str, str]) -> None:
        now = time.time()
        seen = self.seen.get(kind)
        if seen is not None:
            seen.count += 1
            seen.last = now
            self.version += 1
            return
        with self._lock:
            if kind in self.seen:
                self.seen[kind].count += 1
                self.seen[kind].last = now
            else:
                proxy = which_proxy(handler.request.headers)
                self.seen[kind] = Seen(1, now, now, _example(handler, status), detail, proxy)
                self._log_first(kind)
            self.version += 1

    def _log_first(self, kind: str) -> None:
        if self.log is None:
            return
        finding = self.finding(kind)
        if kind in self.accepted:
            self.log.info(
                "[jupyter_hardening] %s %s (accepted: %s): %s",
                finding.id,
                finding.name,
                self.accepted[kind],
                finding.message,
            )
            return
        self.log.warning(
            "[jupyter_hardening] %s %s: %s Fix: %s (logged once; count and last seen at "
            "/hardening)",
            finding.id,
            finding.name,
            finding.message,
            finding.fix,
        )

    # -- findings, built on demand ------------------------------------------------------------

    def findings(self) -> list[Finding]:
        """One finding per kind seen, worst first."""
        found = [self.finding(kind) for kind in sorted(self.seen)]
        return sorted(found, key=lambda f: -f.severity)

    def finding(self, kind_id: str) -> Finding:
        """The finding for a kind that has been seen."""
        kind = KINDS[kind_id]
        seen = self.seen[kind_id]
        message, fix = getattr(self, "_" + kind_id.lower())(seen)
        when = dt.datetime.fromtimestamp(seen.last, dt.timezone.utc).strftime("%H:%M:%S UTC")
        times = "once" if seen.count == 1 else f"{seen.count} times"
        severity = kind.severity
        if kind_id == "JH713" and not self._matches_public(seen.detail.get("host", "")):
            severity = Severity.INFO
        return Finding(
            id=kind.id,
            name=kind.name,
            severity=severity,
            traits=kind.traits,
            message=f"{message} Seen {times}, last at {when}; first: {seen.example}.",
            fix=fix,
        )

    def _matches_public(self, host: str) -> bool:
        return bool(self._public_host) and host == self._public_host

    def _jh710(self, seen: Seen) -> tuple[str, str]:
        d = seen.detail
        default = str(default_port(d["scheme"]))
        port = d["port"] if d["port"] and d["port"] != default else ""
        host = "$host:" + port if port else "$host"
        origin = f"{d['scheme']}://{d['host']}" + (f":{d['port']}" if d["port"] else "")
        if d["how"] == "port":
            what = (
                f"Jupyter blocked requests from its own pages: the browser is at {origin} but "
                f"the Host header that reaches Jupyter is {d['seen']!r} (the proxy drops the "
                "port), so the origin check fails: the login form answers 404 and kernels do "
                "not connect."
            )
        else:
            what = (
                f"Jupyter blocked requests from its own pages: the browser is at {origin} but "
                f"the Host header that reaches Jupyter is {d['seen']!r}, the proxy's own "
                "upstream address (nginx sends that unless told otherwise), so the origin "
                "check fails."
            )
        fixes = {
            "nginx": f"proxy_set_header Host {host};",
            "caddy": "remove `header_up Host ...` from reverse_proxy (Caddy passes the "
            "browser's Host, port included, by default)",
            "apache": "ProxyPreserveHost On",
        }
        return what, self._fix(seen, fixes) + " (never allow_origin = '*')"

    def _jh711(self, seen: Seen) -> tuple[str, str]:
        missing = seen.detail["missing"].split()
        lines = {
            "proxy_http_version": "proxy_http_version 1.1;",
            "Upgrade": "proxy_set_header Upgrade $http_upgrade;",
            "Connection": "proxy_set_header Connection $connection_upgrade;",
        }
        absent = " and ".join(
            {"proxy_http_version": "HTTP/1.1", "Upgrade": "Upgrade", "Connection": "Connection"}[m]
            for m in missing
        )
        what = (
            f"Websocket requests (kernels, terminals, events) reach Jupyter without {absent}: "
            "the proxy does not pass websockets, so notebooks never connect to their kernel."
        )
        nginx = " ".join(lines[m] for m in missing)
        if "Connection" in missing:
            nginx += (
                " with, in http {}: map $http_upgrade $connection_upgrade { default upgrade; "
                "'' close; }"
            )
        fixes = {
            "nginx": nginx,
            "caddy": "use reverse_proxy without header_up Connection/Upgrade overrides "
            "(Caddy proxies websockets by default)",
            "apache": "ProxyPass / http://127.0.0.1:PORT/ upgrade=websocket (Apache 2.4.47+, "
            "mod_proxy_wstunnel before)",
        }
        return what, self._fix(seen, fixes)

    def _jh712(self, seen: Seen) -> tuple[str, str]:
        header = seen.detail.get("header", "")
        if header:
            why = f"the proxy sends X-Forwarded-Proto: {header}"
        else:
            why = "the proxy sends no X-Forwarded-Proto"
        what = (
            "Hardening.public_url is https, but requests reach Jupyter as plain http "
            f"({why}): the login cookie loses Secure and redirects point to http."
        )
        fixes = {
            "nginx": "proxy_set_header X-Forwarded-Proto $scheme;",
            "caddy": "remove `header_up X-Forwarded-Proto ...` (Caddy sets it by default)",
            "apache": 'RequestHeader set X-Forwarded-Proto "https"',
        }
        fix = self._fix(seen, fixes)
        if not self.context.trust_xheaders:
            fix += ", and c.ServerApp.trust_xheaders = True (Jupyter on 127.0.0.1)"
        return what, fix

    def _jh713(self, seen: Seen) -> tuple[str, str]:
        host = seen.detail["host"]
        if seen.detail.get("address") == "True":
            what = (
                f"Requests for the address {host} were refused with 403 'non-local Host': "
                "jupyter_server takes an address in Host only when it is loopback."
            )
            fix = (
                "c.ServerApp.allow_remote_access = True (keep Jupyter on 127.0.0.1 behind the "
                "proxy), or give the proxy a host name and list it in local_hostnames"
            )
        else:
            names = [*self.context.local_hostnames, host]
            what = (
                f"Requests for {host} were refused with 403 'non-local Host': it is not in "
                "ServerApp.local_hostnames."
            )
            fix = f"c.ServerApp.local_hostnames = {names!r}"
        if not self._matches_public(host):
            what += (
                " If nobody reaches this server by that name, this is the DNS-rebinding check "
                "doing its job, and nothing needs to change."
            )
        return what, fix

    def _jh714(self, seen: Seen) -> tuple[str, str]:
        base = self.context.base_url
        what = (
            f"Requests reach Jupyter without its base_url {base} (e.g. /lab instead of "
            f"{base}lab) and get 404: the proxy's proxy_pass has a URI part, which replaces "
            "the location's prefix."
        )
        fixes = {
            "nginx": f"proxy_pass {self.context.upstream}; (no path after the port) inside "
            f"location {base}",
            "caddy": f"reverse_proxy 127.0.0.1:{self.context.port} without handle_path or "
            "uri strip_prefix",
            "apache": f"ProxyPass {base} http://127.0.0.1:{self.context.port}{base}",
        }
        return what, self._fix(seen, fixes)

    def _jh715(self, seen: Seen) -> tuple[str, str]:
        what = (
            "Requests come through a proxy (X-Forwarded-For) but ServerApp.trust_xheaders is "
            "off: Jupyter logs the proxy's address for every client and judges the scheme by "
            "the proxy hop."
        )
        if self.context.remote:
            fix = (
                "c.ServerApp.ip = '127.0.0.1' (only the proxy reaches Jupyter), then "
                "c.ServerApp.trust_xheaders = True"
            )
        else:
            fix = "c.ServerApp.trust_xheaders = True"
        return what, fix

    def _fix(self, seen: Seen, fixes: dict[str, str]) -> str:
        if seen.proxy == "nginx":
            return fixes["nginx"]
        name = seen.proxy.capitalize()
        return f"{name}: {fixes[seen.proxy]} (nginx: {fixes['nginx']})"


def tornado_log(handler: Any) -> None:
    """tornado's own request log line (Application.log_request without a log_function)."""
    from tornado.log import access_log

    status = handler.get_status()
    method = (
        access_log.info
        if status < 400
        else access_log.warning
        if status < 500
        else access_log.error
    )
    method(
        "%d %s %.2fms",
        status,
        handler._request_summary(),
        1000.0 * handler.request.request_time(),
    )


def merge(base: Any, diagnosis: Diagnosis | None, accepted: dict[str, str]) -> Any:
    """``base`` (a Report) with the diagnosis' findings added; never blocking (it serves)."""
    from .report import Item

    if diagnosis is None or not diagnosis.seen:
        return base
    extra = tuple(
        Item(f, f.id in accepted, accepted.get(f.id, ""), False) for f in diagnosis.findings()
    )
    items = tuple(sorted((*base.items, *extra), key=lambda i: -i.finding.severity))
    verdict = base.verdict
    if verdict == "ok" and any(
        not i.accepted and i.finding.severity >= Severity.WARNING for i in extra
    ):
        verdict = "warn"
    return replace(base, items=items, verdict=verdict)
