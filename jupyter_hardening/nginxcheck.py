"""``jupyter hardening nginx-check``: audit the nginx config people already have in front of Jupyter.

Parses with crossplane (files, or the sections of ``nginx -T``), finds the locations that
proxy to Jupyter, and reports what ``nginx-snippet`` gets right and the config gets wrong, with
file:line and the exact line that fixes it (JH750-JH769, documented in rules/nginxconf.py).
gixy-next's findings are added when gixy is installed. ``c.Hardening.accepted_risks`` is read
from the Jupyter config files the server reads, as `check` honours it: an accepted finding is
shown as accepted and does not count. Light on purpose: it never imports the server application.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jupyter_core.application import JupyterApp

from .facts import HTTP_PORT, default_port, valid_port
from .printable import redacted_url
from .proxy.nginx import PROXY_TIMEOUT, TLS12_CIPHERS
from .proxy.options import DEFAULT_MAX_BODY_SIZE, HSTS
from .rules.base import Severity
from .safefile import not_a_file

Stmt = dict[str, Any]

MOZILLA_INTERMEDIATE = frozenset(
    [*TLS12_CIPHERS.split(":"), "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"]
)
OLD_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1")
# Below this, ordinary notebooks with a few plots cannot be saved: a save is one PUT.
BODY_SIZE_FLOOR = 100 * 1024 * 1024
# Shorter than this, an idle kernel or terminal websocket is cut by nginx.
READ_TIMEOUT_FLOOR = 3600
DEFAULT_READ_TIMEOUT = 60
DEFAULT_BODY_SIZE = 1024 * 1024
# gixy plugins that say what an own check already says.
GIXY_DUPLICATES = {"host_spoofing": "JH751", "proxy_buffering_off": "JH760"}


@dataclass(frozen=True)
class Issue:
    """One finding in a config file: what, where, and the line that fixes it."""

    id: str
    name: str
    severity: Severity
    file: str
    line: int
    message: str
    fix: str
    # How --fix changes the file: (action, line, directive regex, text); see apply_edits.
    edits: tuple[tuple[str, int, str, str], ...] = ()
    # Accepted with c.Hardening.accepted_risks (its id), and the reason given there.
    accepted: bool = False
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """The finding as JSON (``--format json``)."""
        return {
            "id": self.id,
            "name": self.name,
            "severity": self.severity.label,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "fix": self.fix,
            "accepted": self.accepted,
            "reason": self.reason,
        }


class CheckError(ValueError):
    """A file that cannot be read or parsed; the message is one line."""


@dataclass
class Scope:
    """A block (http, server, location) with the directives it inherits from its parents."""

    stmts: list[Stmt]
    file: str
    parent: Scope | None = None

    def own(self, name: str) -> list[Stmt]:
        """This block's own directives called ``name``."""
        return [s for s in self.stmts if s.get("directive") == name]

    def inherited(self, name: str) -> list[Stmt]:
        """The directives nginx applies here: this level's if any, else the parent's (nginx's
        array directives such as proxy_set_header and add_header inherit only when a level
        has none of its own)."""
        scope: Scope | None = self
        while scope is not None:
            found = scope.own(name)
            if found:
                return found
            scope = scope.parent
        return []

    def value(self, name: str) -> Stmt | None:
        """The effective single-valued directive ``name`` (or None: nginx's default)."""
        found = self.inherited(name)
        return found[-1] if found else None


@dataclass(frozen=True)
class Target:
    """What counts as Jupyter: ports (or sockets) proxy_pass may point at; empty: every one."""

    ports: frozenset[int] = frozenset()
    socks: frozenset[str] = frozenset()
    base_url: str = ""

    @property
    def any(self) -> bool:
        """True when nothing narrows it: every proxy_pass is judged."""
        return not self.ports and not self.socks


# ----------------------------------------------------------------------------- reading


def _parse_file(path: str, follow: bool) -> list[dict[str, Any]]:
    import crossplane

    result = crossplane.parse(
        path, check_ctx=False, catch_errors=True, comments=False, single=not follow
    )
    errors = [e for conf in result["config"] for e in conf["errors"]]
    if errors:
        first = errors[0]
        line = first.get("line")  # None where crossplane does not know it
        where = f"{first.get('file', path)}:{line}" if line else str(first.get("file", path))
        error = first["error"]
        if "maximum recursion depth exceeded" in error:  # crossplane recurses once per level
            error = "blocks nest too deep to be read (about 900 levels or more); nest them less"
        raise CheckError(f"{where}: {error}")
    configs = list(result["config"])
    if follow:
        _refuse_include_loop(configs)
    return configs


def _refuse_include_loop(configs: list[dict[str, Any]]) -> None:
    """CheckError on an include that leads back to a file including it: crossplane reads each
    file once, but nginx includes it again and again, until it crashes (nginx -t: a segfault)."""

    def includes(stmts: list[Stmt]) -> Iterator[tuple[Stmt, int]]:
        for stmt in stmts:
            for index in stmt.get("includes", ()):
                yield stmt, index
            yield from includes(stmt.get("block", []))

    edges = [list(includes(conf.get("parsed", []))) for conf in configs]
    done: set[int] = set()

    def visit(index: int, path: list[int]) -> None:
        for stmt, target in edges[index]:
            if target in path:
                raise CheckError(
                    f"{configs[index]['file']}:{stmt.get('line')}: include "
                    f"{' '.join(stmt.get('args', []))} leads back to {configs[target]['file']}, "
                    "which nginx would include again and again until it crashes; fix: remove "
                    "that include"
                )
            if target not in done:
                visit(target, [*path, target])
        done.add(index)

    for start in range(len(configs)):
        if start not in done:
            visit(start, [start])


def read_files(paths: list[str]) -> list[dict[str, Any]]:
    """crossplane's parsed files for ``paths`` and what they include."""
    configs: list[dict[str, Any]] = []
    for path in paths:
        if not Path(path).is_file():
            raise CheckError(f"{path}: {not_a_file(path)}")
        configs += _parse_file(path, follow=True)
    return configs


SECTION = re.compile(r"^# configuration file (.+):\s*$", re.M)


def read_nginx_t(text: str) -> list[dict[str, Any]]:
    """The files that ``nginx -T`` printed, each parsed alone under its own name."""
    parts = SECTION.split(text)
    configs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="jupyter-hardening-nginx-check-") as tmp:
        for i in range(1, len(parts) - 1, 2):
            name, body = parts[i].strip(), parts[i + 1]
            copy = Path(tmp) / f"{i}.conf"
            copy.write_text(body)
            for conf in _parse_file(str(copy), follow=False):
                conf["file"] = name
                configs.append(conf)
    if not configs:
        raise CheckError("`nginx -T` printed no configuration file")
    return configs


# ----------------------------------------------------------------------------- walking


def _walk(stmts: list[Stmt], scope: Scope, servers: list[Scope]) -> None:
    for stmt in stmts:
        if stmt.get("directive") == "http":
            _walk(stmt.get("block", []), Scope(stmt.get("block", []), scope.file, scope), servers)
        elif stmt.get("directive") == "server" and "block" in stmt:
            servers.append(Scope(stmt["block"], scope.file, scope))


def servers_of(configs: list[dict[str, Any]]) -> tuple[list[Scope], list[Stmt], list[Stmt]]:
    """Every server block, with http-level directives of any file as their parent; the maps
    and upstreams."""
    http: list[Stmt] = []
    maps: list[Stmt] = []
    upstreams: list[Stmt] = []

    def collect(stmts: list[Stmt], in_http: bool) -> None:
        for s in stmts:
            name = s.get("directive")
            if name == "http":
                collect(s.get("block", []), True)
            elif name == "map":
                maps.append(s)
            elif name == "upstream":
                upstreams.append(s)
            elif name not in ("server", "events", "stream", "include") and in_http:
                http.append(s)

    for conf in configs:
        # A conf.d file holds http-level directives at its top.
        top_is_http = not any(s.get("directive") == "http" for s in conf["parsed"])
        collect(conf["parsed"], top_is_http)
    root = Scope(http, "")
    servers: list[Scope] = []
    for conf in configs:
        _walk(conf["parsed"], Scope([], conf["file"], root), servers)
    for server in servers:
        server.parent = Scope(http, server.file)
    return servers, maps, upstreams


def locations(scope: Scope) -> Iterator[Scope]:
    """Every location in a server, nested ones too."""
    for stmt in scope.stmts:
        if stmt.get("directive") == "location" and "block" in stmt:
            inner = Scope(stmt["block"], scope.file, scope)
            inner.stmts = stmt["block"]
            yield _with_header(inner, stmt)
            yield from locations(inner)


def _with_header(scope: Scope, stmt: Stmt) -> Scope:
    scope.location = stmt  # type: ignore[attr-defined]
    return scope


PROXY_PASS = re.compile(r"^(https?)://(unix:[^:]+:|\[[^\]]+\](?::\d+)?|[^/:]+(?::\d+)?)(/.*)?$")


def proxy_target(url: str, upstreams: list[Stmt]) -> tuple[set[int], set[str], str]:
    """(ports, sockets, URI part) that a proxy_pass argument reaches."""
    match = PROXY_PASS.match(url)
    if match is None:
        return set(), set(), ""
    where, uri = match.group(2), match.group(3) or ""
    if where.startswith("unix:"):
        return set(), {where[5:-1]}, uri
    port = where.rsplit(":", 1)[1] if ":" in where.split("]")[-1] else ""
    if port:
        return {int(port)}, set(), uri
    for up in upstreams:
        if up["args"] and up["args"][0] == where:
            ports, socks = set(), set()
            for s in up.get("block", []):
                if s.get("directive") == "server" and s["args"]:
                    addr = s["args"][0]
                    if addr.startswith("unix:"):
                        socks.add(addr[5:])
                    elif ":" in addr.split("]")[-1]:
                        ports.add(int(addr.rsplit(":", 1)[1]))
                    else:
                        ports.add(HTTP_PORT)  # nginx's default for a server without one
            return ports, socks, uri
    return {default_port(match.group(1))}, set(), uri


# ----------------------------------------------------------------------------- the checks

WEBSOCKET_LINES = (
    "proxy_http_version 1.1;\n"
    "proxy_set_header Upgrade $http_upgrade;\n"
    "proxy_set_header Connection $connection_upgrade;"
)
CONNECTION_MAP = (
    "map $http_upgrade $connection_upgrade {\n    default upgrade;\n    ''      close;\n}"
)


def _size(value: str) -> int | None:
    match = re.fullmatch(r"([0-9]+)([kKmMgG]?)", value)
    if not match:
        return None
    return (
        int(match.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
    )


def _seconds(value: str) -> int | None:
    total = 0
    for number, unit in re.findall(r"([0-9]+)(ms|[smhdwMy]?)", value):
        scale = {"ms": 0.001, "": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
        scale.update({"M": 2592000, "y": 31536000})
        total += int(int(number) * scale[unit])
    return total if re.fullmatch(r"([0-9]+(ms|[smhdwMy]?))+", value) else None


def _listen_ports(server: Scope) -> list[tuple[int, bool]]:
    ports = []
    ssl_on = any(s["args"][:1] == ["on"] for s in server.own("ssl"))
    for stmt in server.own("listen"):
        if not stmt["args"]:
            continue
        where = stmt["args"][0]
        port = where.rsplit(":", 1)[-1] if not where.startswith("unix:") else ""
        if port.isdigit():
            ports.append((int(port), ssl_on or "ssl" in stmt["args"][1:]))
    return ports or [(HTTP_PORT, ssl_on)]


def _headers(scope: Scope) -> dict[str, Stmt]:
    return {s["args"][0].lower(): s for s in scope.inherited("proxy_set_header") if s["args"]}


def check_location(
    server: Scope, loc: Scope, upstreams: list[Stmt], maps: list[Stmt], target: Target
) -> Iterator[Issue]:
    """The issues of one location that proxies to Jupyter."""
    file = loc.file
    stmt = loc.location  # type: ignore[attr-defined]
    (proxy_pass,) = loc.own("proxy_pass")[-1:]
    url = proxy_pass["args"][0] if proxy_pass["args"] else ""
    ports = _listen_ports(server)
    tls_ports = [p for p, tls in ports if tls]
    public = tls_ports[0] if tls_ports else ports[0][0]
    default = default_port("https" if tls_ports else "http")
    host_line = (
        f"proxy_set_header Host $host:{public};"
        if public != default
        else ("proxy_set_header Host $host;")
    )

    after = int(proxy_pass.get("line", 0))

    def issue(
        rule: str,
        name: str,
        sev: Severity,
        at: Stmt,
        message: str,
        fix: str,
        *edits: tuple[str, int, str, str],
    ) -> Issue:
        return Issue(rule, name, sev, file, int(at.get("line", 0)), message, fix, edits)

    def line_of(at: Stmt) -> int:
        return int(at.get("line", 0))

    host_re = r"proxy_set_header\s+Host\s+[^;]*;"

    headers = _headers(loc)
    host = headers.get("host")
    if host is None:
        yield issue(
            "JH750",
            "host-not-passed",
            Severity.ERROR,
            proxy_pass,
            "The location passes no Host header, so nginx sends the proxy_pass address: Jupyter's "
            "origin check then blocks the login form (404) and every websocket.",
            host_line,
            ("after", after, "", host_line),
        )
    else:
        value = " ".join(host["args"][1:])
        if value in ("$host", "$server_name") and public != default:
            yield issue(
                "JH750",
                "host-without-port",
                Severity.ERROR,
                host,
                f"`proxy_set_header Host {value};` drops the port {public} the browser puts in "
                "Origin, so Jupyter's origin check blocks the login form (404, 'Blocking Cross "
                "Origin API request') and every websocket.",
                host_line,
                ("replace", line_of(host), host_re, host_line),
            )
        elif value == "$http_host":
            yield issue(
                "JH751",
                "host-from-client",
                Severity.WARNING,
                host,
                "`proxy_set_header Host $http_host;` passes whatever Host the client sent "
                "(gixy: host_spoofing), also to server blocks that were never meant for it.",
                host_line,
                ("replace", line_of(host), host_re, host_line),
            )
    upgrade = headers.get("upgrade")
    connection = headers.get("connection")
    version = loc.value("proxy_http_version")
    missing = []
    if version is None or version["args"][:1] != ["1.1"]:
        missing.append("proxy_http_version 1.1;")
    if upgrade is None or "$http_upgrade" not in upgrade["args"][1:]:
        missing.append("proxy_set_header Upgrade $http_upgrade;")
    if connection is None or not connection["args"][1:]:
        missing.append("proxy_set_header Connection $connection_upgrade;")
    elif connection["args"][1].startswith("$"):
        variable = connection["args"][1]
        if not any(m["args"][1:2] == [variable] for m in maps):
            missing.append(f"map $http_upgrade {variable} {{ default upgrade; '' close; }}")
    elif connection["args"][1].lower() != "upgrade":
        missing.append("proxy_set_header Connection $connection_upgrade;")
    if missing:
        ws_edits = []
        for old, pattern in (
            (version, r"proxy_http_version\s+[^;]*;"),
            (upgrade, r"proxy_set_header\s+Upgrade\s+[^;]*;"),
            (connection, r"proxy_set_header\s+Connection\s+[^;]*;"),
        ):
            if old is not None and old in loc.stmts:
                ws_edits.append(("delete", line_of(old), pattern, ""))
        ws_edits.append(("after", after, "", WEBSOCKET_LINES))
        if not any(m["args"][1:2] == ["$connection_upgrade"] for m in maps):
            ws_edits.append(("top", 0, "", CONNECTION_MAP))
        yield issue(
            "JH752",
            "websocket-not-passed",
            Severity.ERROR,
            proxy_pass,
            "Websockets do not pass: notebooks never connect to their kernel, terminals stay "
            "blank.",
            " ".join(missing)
            + (
                " and, in http {}: map $http_upgrade $connection_upgrade { default upgrade; '' "
                "close; }"
                if "proxy_set_header Connection $connection_upgrade;" in missing
                and not any(m["args"][1:2] == ["$connection_upgrade"] for m in maps)
                else ""
            ),
            *ws_edits,
        )
    if tls_ports and "x-forwarded-proto" not in headers and "x-scheme" not in headers:
        yield issue(
            "JH762",
            "forwarded-proto-missing",
            Severity.WARNING,
            proxy_pass,
            "Neither X-Forwarded-Proto nor X-Scheme is passed: behind TLS, Jupyter sees http, "
            "so its login cookie loses Secure and its redirects point to http.",
            "proxy_set_header X-Forwarded-Proto $scheme; (and c.ServerApp.trust_xheaders = True "
            "with Jupyter on 127.0.0.1)",
            ("after", after, "", "proxy_set_header X-Forwarded-Proto $scheme;"),
        )
    for name in ("origin", "referer", "sec-websocket-origin"):
        removed = headers.get(name)
        if removed is not None:
            yield issue(
                "JH753",
                "origin-hidden",
                Severity.ERROR,
                removed,
                f"`proxy_set_header {removed['args'][0]} {' '.join(removed['args'][1:]) or chr(34) * 2};`"
                " hides the browser's origin from Jupyter: its origin check then lets any web "
                "site's pages open kernel websockets and run code.",
                f"remove this line, and set {host_line}",
                (
                    "delete",
                    line_of(removed),
                    rf"proxy_set_header\s+{removed['args'][0]}\s*[^;]*;",
                    "",
                ),
            )
    _, _, uri = proxy_target(url, upstreams)
    prefix = stmt["args"][-1] if stmt["args"] else "/"
    if uri:
        base = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
        plain = url[: len(url) - len(uri)]
        if uri.rstrip("/") == prefix.rstrip("/"):
            yield issue(
                "JH754",
                "proxy-pass-uri",
                Severity.WARNING,
                proxy_pass,
                f"`proxy_pass {url};` has a URI part: nginx then decodes and re-encodes the path "
                "(gixy: proxy_pass_normalized), which breaks file names with %2F or spaces.",
                f"proxy_pass {plain};",
                ("replace", after, r"proxy_pass\s+[^;]*;", f"proxy_pass {plain};"),
            )
        else:
            yield issue(
                "JH754",
                "proxy-pass-uri",
                Severity.ERROR,
                proxy_pass,
                f"`proxy_pass {url};` replaces the location's prefix {prefix} with {uri}: Jupyter "
                "gets paths without its base_url, and its links and redirects miss the proxy.",
                f"proxy_pass {plain}; with c.ServerApp.base_url = {base!r}",
            )
    body = loc.value("client_max_body_size")
    body_line = f"client_max_body_size {DEFAULT_MAX_BODY_SIZE};"
    size = _size(body["args"][0]) if body and body["args"] else DEFAULT_BODY_SIZE
    if size is not None and 0 < size < BODY_SIZE_FLOOR:
        shown = body["args"][0] if body else "1m (nginx's default)"
        yield issue(
            "JH755",
            "body-size",
            Severity.WARNING,
            body or proxy_pass,
            f"client_max_body_size {shown}: a notebook is saved in one PUT of the whole file, so "
            f"notebooks over about {size / 1024 / 1024:g} MB (a few plots) fail to save with 413.",
            f"client_max_body_size {DEFAULT_MAX_BODY_SIZE}; (jupyter_server's own limit)",
            (
                ("replace", line_of(body), r"client_max_body_size\s+[^;]*;", body_line)
                if body
                else ("after", after, "", body_line)
            ),
        )
    timeout = loc.value("proxy_read_timeout")
    seconds = _seconds(timeout["args"][0]) if timeout and timeout["args"] else DEFAULT_READ_TIMEOUT
    if seconds is not None and seconds < READ_TIMEOUT_FLOOR:
        shown = timeout["args"][0] if timeout else "60s (nginx's default)"
        yield issue(
            "JH756",
            "read-timeout",
            Severity.WARNING,
            timeout or proxy_pass,
            f"proxy_read_timeout {shown}: nginx closes kernel and terminal websockets that "
            "stay quiet longer (a long computation, a coffee break).",
            f"proxy_read_timeout {PROXY_TIMEOUT}; proxy_send_timeout {PROXY_TIMEOUT};",
            *(
                [
                    (
                        "replace",
                        line_of(timeout),
                        r"proxy_read_timeout\s+[^;]*;",
                        f"proxy_read_timeout {PROXY_TIMEOUT};",
                    )
                ]
                if timeout
                else [("after", after, "", f"proxy_read_timeout {PROXY_TIMEOUT};")]
            ),
            *(
                []
                if loc.value("proxy_send_timeout")
                else [("after", after, "", f"proxy_send_timeout {PROXY_TIMEOUT};")]
            ),
        )
    buffering = loc.value("proxy_buffering")
    if buffering is not None and buffering["args"][:1] == ["off"]:
        yield issue(
            "JH760",
            "proxy-buffering-off",
            Severity.INFO,
            buffering,
            "proxy_buffering off ties a Jupyter connection to every slow client (gixy: "
            "proxy_buffering_off); Jupyter's websockets do not need it.",
            "remove `proxy_buffering off;`",
            ("delete", line_of(buffering), r"proxy_buffering\s+off\s*;", ""),
        )
    hsts = [
        s
        for s in loc.inherited("add_header")
        if s["args"] and s["args"][0].lower() == "strict-transport-security"
    ]
    if tls_ports and not hsts:
        yield issue(
            "JH759",
            "no-hsts",
            Severity.WARNING,
            stmt,
            "No Strict-Transport-Security header reaches the browser here: a first visit by "
            "http (a typed address, an old link) can be intercepted.",
            f'add_header Strict-Transport-Security "{HSTS}" always; at the server level (an '
            "add_header in a location drops the server's)",
            # At the server's level unless the location has add_headers of its own (which
            # drop the server's): one there would drop the server's other headers.
            (
                "after",
                after
                if loc.own("add_header") or not server.own("listen")
                else line_of(server.own("listen")[-1]),
                "",
                f'add_header Strict-Transport-Security "{HSTS}" always;',
            ),
        )


def check_server(server: Scope, target: Target) -> Iterator[Issue]:
    """TLS issues of a server that proxies to Jupyter."""
    ports = _listen_ports(server)
    for stmt in server.own("ssl"):
        yield Issue(
            "JH758",
            "ssl-on",
            Severity.WARNING,
            server.file,
            int(stmt.get("line", 0)),
            "`ssl on;` is deprecated since nginx 1.15.0 and refused by 1.25.1 and newer; it also "
            "turns TLS on for every listen of the server.",
            f"remove `ssl on;` and write `listen {ports[0][0]} ssl;`",
            (
                ("delete", int(stmt.get("line", 0)), r"\bssl\s+on\s*;", ""),
                *(
                    ("replace", int(listen.get("line", 0)), r"listen\s+[^;]*;", _with_ssl(listen))
                    for listen in server.own("listen")
                    if "ssl" not in listen["args"]
                ),
            ),
        )
    if not any(tls for _, tls in ports):
        listen = server.own("listen")
        yield Issue(
            "JH761",
            "no-tls",
            Severity.ERROR,
            server.file,
            int((listen[0] if listen else {"line": 0}).get("line", 0)),
            f"Jupyter is served on port {ports[0][0]} without TLS: passwords, tokens and code "
            "cross the network in clear text.",
            "listen 443 ssl; with ssl_certificate and ssl_certificate_key (see `jupyter "
            "hardening nginx-snippet`)",
        )
        return
    protocols = server.value("ssl_protocols")
    if protocols is not None:
        old = [p for p in protocols["args"] if p in OLD_PROTOCOLS]
        if old:
            yield Issue(
                "JH757",
                "tls-protocols",
                Severity.WARNING,
                protocols_file(server, protocols),
                int(protocols.get("line", 0)),
                f"ssl_protocols allows {' '.join(old)}, which Mozilla's intermediate profile "
                "(and every current browser) has dropped.",
                "ssl_protocols TLSv1.2 TLSv1.3;",
                (
                    (
                        "replace",
                        int(protocols.get("line", 0)),
                        r"ssl_protocols\s+[^;]*;",
                        "ssl_protocols TLSv1.2 TLSv1.3;",
                    ),
                ),
            )
    ciphers = server.value("ssl_ciphers")
    if ciphers is not None and ciphers["args"]:
        named = [c for c in ciphers["args"][0].split(":") if c and not c.startswith(("!", "-"))]
        extra = [c for c in named if c not in MOZILLA_INTERMEDIATE]
        if extra:
            shown = ":".join(extra[:4]) + (" ..." if len(extra) > 4 else "")
            yield Issue(
                "JH757",
                "tls-ciphers",
                Severity.WARNING,
                protocols_file(server, ciphers),
                int(ciphers.get("line", 0)),
                f"ssl_ciphers goes beyond Mozilla's intermediate profile ({shown}): CBC, SHA-1 "
                "or 3DES suites that current browsers never need.",
                f"ssl_ciphers {TLS12_CIPHERS};",
                (
                    (
                        "replace",
                        int(ciphers.get("line", 0)),
                        r"ssl_ciphers\s+('[^']*'|\"[^\"]*\"|[^;\s]*)\s*;",
                        f"ssl_ciphers {TLS12_CIPHERS};",
                    ),
                ),
            )


def _with_ssl(listen: Stmt) -> str:
    return "listen " + " ".join([listen["args"][0], "ssl", *listen["args"][1:]]) + ";"


def protocols_file(server: Scope, stmt: Stmt) -> str:
    """The file a directive came from (a server's own, else its parent's)."""
    return server.file if stmt in server.stmts else (server.parent.file if server.parent else "")


# Without a running server or --port: Jupyter's own default ports, else every proxy_pass.
JUPYTER_PORTS = frozenset(range(8888, 8900))


def audit(configs: list[dict[str, Any]], target: Target) -> list[Issue]:
    """Every issue of the servers and locations that proxy to Jupyter."""
    servers, maps, upstreams = servers_of(configs)
    proxying: list[tuple[Scope, Scope, set[int], set[str]]] = []
    for server in servers:
        for loc in locations(server):
            passes = loc.own("proxy_pass")
            if passes and passes[-1]["args"]:
                ports, socks, _ = proxy_target(passes[-1]["args"][0], upstreams)
                proxying.append((server, loc, ports, socks))
    if target.any:
        usual = [p for p in proxying if p[2] & JUPYTER_PORTS]
        chosen = usual or proxying
    else:
        chosen = [p for p in proxying if p[2] & target.ports or p[3] & target.socks]
    if not chosen:
        where = ", ".join(str(p) for p in sorted(target.ports)) or "any port"
        return [
            Issue(
                "JH768",
                "no-jupyter-location",
                Severity.INFO,
                configs[0]["file"] if configs else "",
                0,
                f"No location proxies to Jupyter ({where}): nothing was judged.",
                "give the Jupyter port with --port PORT, or the file that holds its server block",
            )
        ]
    found: list[Issue] = []
    done: list[Scope] = []
    for server, loc, _, _ in chosen:
        if not any(server is d for d in done):
            done.append(server)
            found += check_server(server, target)
        found += check_location(server, loc, upstreams, maps, target)
    unique = {(i.id, i.file, i.line, i.name): i for i in found}
    return sorted(unique.values(), key=lambda i: (-i.severity, i.file, i.line, i.id))


# ----------------------------------------------------------------------------- gixy


def gixy_issues(paths: list[str], own: list[Issue]) -> list[Issue]:
    """gixy-next's findings for ``paths`` (nothing when gixy is not installed)."""
    gixy = shutil.which("gixy", path=str(Path(sys.executable).parent)) or shutil.which("gixy")
    if gixy is None or not paths:
        return []
    try:
        done = subprocess.run(
            [gixy, "--format", "json", *paths],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        results = json.loads(done.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return []
    levels = {"HIGH": Severity.WARNING, "MEDIUM": Severity.WARNING}
    said = {i.id for i in own}
    issues = []
    for r in results if isinstance(results, list) else []:
        plugin = str(r.get("plugin", ""))
        file = str(r.get("file") or r.get("path") or "")
        if GIXY_DUPLICATES.get(plugin) in said:
            continue
        issues.append(
            Issue(
                "JH769",
                f"gixy:{plugin}",
                levels.get(str(r.get("severity", "")).upper(), Severity.INFO),
                file,
                int(r.get("line") or 0),
                f"{r.get('summary', '')} {r.get('reason', '')}".strip(),
                f"see {r.get('reference', 'https://gixy.io')}",
            )
        )
    return issues


# ----------------------------------------------------------------------------- --fix


def apply_edits(text: str, issues: list[Issue], file: str) -> tuple[str, list[Issue]]:
    """``text`` (the file ``file``) with the issues' edits applied; and the issues left as
    they were (no edit, or an edit in another file)."""
    lines = text.split("\n")
    original = list(lines)
    inserts: dict[int, list[str]] = {}
    top: list[str] = []
    emptied: set[int] = set()
    left = []
    for issue in issues:
        if not issue.edits or Path(issue.file).resolve() != Path(file).resolve():
            left.append(issue)
            continue
        for action, at, pattern, new in issue.edits:
            if action == "top":
                if new not in top:
                    top.append(new)
            elif action == "after":
                block = inserts.setdefault(at, [])
                block += [part for part in new.split("\n") if part not in block]
            elif 0 < at <= len(lines):
                lines[at - 1] = re.sub(pattern, new.replace("\\", "\\\\"), lines[at - 1], count=1)
                if not lines[at - 1].strip():
                    emptied.add(at)
    out: list[str] = []
    top_lines = "\n".join(top).split("\n") if top else []
    http = next((i for i, t in enumerate(lines) if re.match(r"\s*http\s*\{", t)), None)
    if top_lines and http is None:
        out += [*top_lines, ""]
    for number, line in enumerate(lines, 1):
        if number not in emptied:
            out.append(line)
        if top_lines and http == number - 1:
            out += ["    " + t for t in top_lines]
        before = original[number - 1]
        indent = before[: len(before) - len(before.lstrip())]
        out += [indent + new for new in inserts.get(number, [])]
    return "\n".join(out), left


def write_fixed(source: str, output: str, issues: list[Issue]) -> tuple[str, list[Issue]]:
    """Write the corrected ``source`` to ``output`` (never in place); return the diff and the
    issues --fix leaves to you."""
    import difflib

    if os.path.realpath(output) == os.path.realpath(source):
        raise CheckError(
            f"--fix {output} is the file checked; give another file (it is never fixed in place)"
        )
    if Path(output).is_dir():
        raise CheckError(f"--fix {output} is a folder; give a file name such as jupyter.conf")
    original = Path(source).read_text()
    fixed, left = apply_edits(original, issues, source)
    from .outputfile import write_atomically

    try:
        write_atomically(output, fixed)
    except OSError as e:
        raise CheckError(f"cannot write --fix {output}: {e.strerror or e}") from None
    diff = difflib.unified_diff(
        original.splitlines(keepends=True),
        fixed.splitlines(keepends=True),
        fromfile=source,
        tofile=output,
    )
    return "".join(diff), left


# ----------------------------------------------------------------------------- output


def counts(issues: list[Issue]) -> dict[str, int]:
    """Issues per severity, accepted ones left out, plus the number accepted (as `check`)."""
    found = {
        s.label: sum(i.severity == s and not i.accepted for i in issues)
        for s in sorted(Severity, reverse=True)
    }
    return {**found, "accepted": sum(i.accepted for i in issues)}


def accept(issues: list[Issue], accepted: dict[str, str]) -> list[Issue]:
    """``issues`` with those whose id ``accepted`` names marked accepted, with the reason."""
    return [
        replace(i, accepted=True, reason=accepted[i.id]) if i.id in accepted else i for i in issues
    ]


def render_text(issues: list[Issue], sources: list[str]) -> str:
    """The human-readable result."""
    c = counts(issues)
    head = "OK: nothing to fix" if all(i.accepted for i in issues) else "findings to fix"
    lines = [
        f"nginx-check of {', '.join(sources)}: {head} "
        f"({c['error']} error, {c['warning']} warning, {c['info']} info"
        + (f", {c['accepted']} accepted)" if c["accepted"] else ")")
    ]
    for i in issues:
        tag = f" [accepted: {i.reason}]" if i.accepted else ""
        lines += [
            "",
            f"{i.severity.label.upper():8}{i.id} {i.name}{tag}  {i.file}:{i.line}",
            f"        {i.message}",
            f"        fix: {i.fix}",
        ]
    return "\n".join(lines)


def render_json(issues: list[Issue], sources: list[str]) -> str:
    """The result as JSON."""
    return json.dumps(
        {
            "sources": sources,
            "findings": [i.to_json() for i in issues],
            "counts": counts(issues),
        },
        indent=2,
    )


def render_sarif(issues: list[Issue], sources: list[str]) -> str:
    """The result as a SARIF 2.1.0 log (the same shape as ``check --format sarif``)."""
    from pathlib import Path

    from . import __version__
    from .sarif import DOCS_URL, INFORMATION_URI, LEVELS, SCHEMA, SRCROOT, artifact_location

    root = Path.cwd()
    rules: dict[str, dict[str, Any]] = {}
    for i in issues:
        rules.setdefault(
            i.id,
            {
                "id": i.id,
                "name": i.name,
                "shortDescription": {"text": i.name.replace("-", " ")},
                "helpUri": f"{DOCS_URL}#{i.id.lower()}",
                "defaultConfiguration": {"level": LEVELS[i.severity]},
            },
        )
    index = {rule_id: n for n, rule_id in enumerate(rules)}
    results = [
        {
            "ruleId": i.id,
            "ruleIndex": index[i.id],
            "level": LEVELS[i.severity],
            "message": {"text": f"{i.message} Fix: {i.fix}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact_location(i.file, root),
                        "region": {"startLine": max(i.line, 1)},
                    }
                }
            ],
            # Accepted: visible, but it does not fail a scan (as `check --format sarif`).
            **(
                {"suppressions": [{"kind": "external", "justification": i.reason}]}
                if i.accepted
                else {}
            ),
        }
        for i in issues
    ]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "jupyter_hardening nginx-check",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": list(rules.values()),
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": root.resolve().as_uri() + "/"}},
                "results": results,
                "properties": {"sources": sources},
            }
        ],
    }
    return json.dumps(log, indent=2)


def target_from(port: int, upstream: str, runtime_dir: str | None = None) -> Target:
    """--port / --upstream, else the running servers' ports and sockets, else every proxy."""
    if port:
        return Target(frozenset({port}))
    if upstream:
        if upstream.startswith("unix:"):
            return Target(socks=frozenset({upstream[5:].rstrip(":")}))
        match = re.search(r":([0-9]+)/?$", upstream)
        if not match:
            shown = redacted_url(upstream)
            raise CheckError(f"--upstream {shown!r} is not HOST:PORT or unix:/path.sock")
        port = int(match.group(1))
        if not valid_port(port):
            shown = redacted_url(upstream)
            raise CheckError(f"--upstream {shown!r}: a port is 1-65535, not {port}")
        return Target(frozenset({port}))
    from .runtime import running_servers

    servers = running_servers(runtime_dir)
    return Target(
        frozenset(s.port for s in servers if not s.sock),
        frozenset(s.sock for s in servers if s.sock),
    )


def default_sources() -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """What `nginx -T` shows (nginx installed), else /etc/nginx/nginx.conf and its includes."""
    from .proxy.probe import find_program

    binary = find_program("nginx", "nginx")
    if binary:
        done = subprocess.run(
            [binary, "-T"], capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode == 0 and SECTION.search(done.stdout):
            return read_nginx_t(done.stdout), [f"`{binary} -T`"], []
    conf = "/etc/nginx/nginx.conf"
    return read_files([conf]), [conf], [conf]


def main_check(
    files: list[str],
    port: int,
    upstream: str,
    fmt: str,
    use_gixy: bool = True,
    fix: str = "",
    accepted: dict[str, str] | None = None,
) -> tuple[int, str]:
    """(exit status, output) of nginx-check; raises CheckError for exit 2.

    ``accepted``: c.Hardening.accepted_risks; --fix still corrects what they name.
    """
    accepted = accepted or {}
    target = target_from(port, upstream, os.environ.get("JUPYTER_RUNTIME_DIR"))
    if fix:
        if len(files) != 1:
            raise CheckError("--fix OUTPUT takes exactly one FILE to correct")
        diff, _ = write_fixed(files[0], fix, audit(read_files(files), target))
        status, report = main_check([fix], port, upstream, fmt, use_gixy, accepted=accepted)
        if fmt == "json":
            data = json.loads(report)
            data["fixed"] = {"output": fix, "diff": diff}
            return status, json.dumps(data, indent=2)
        return status, (diff or f"nothing to change; {fix} is a copy\n") + "\n" + report
    if files:
        configs, sources, paths = read_files(files), files, files
    else:
        configs, sources, paths = default_sources()
    issues = audit(configs, target)
    if use_gixy and not any(i.id == "JH768" for i in issues):
        issues += gixy_issues(paths, issues)
        issues.sort(key=lambda i: (-i.severity, i.file, i.line, i.id))
    issues = accept(issues, accepted)
    render = {"json": render_json, "sarif": render_sarif}.get(fmt, render_text)
    text = render(issues, sources)
    errors = any(i.severity == Severity.ERROR and not i.accepted for i in issues)
    return (1 if errors else 0), text


@dataclass
class _Args:
    files: list[str] = field(default_factory=list)
    port: int = 0
    upstream: str = ""
    fmt: str = "text"
    gixy: bool = True
    fix: str = ""


USAGE = (
    "usage: jupyter hardening nginx-check [FILE ...] [--port PORT | --upstream HOST:PORT] "
    "[--format text|json|sarif] [--no-gixy] [--fix OUTPUT]"
)


def parse_args(argv: list[str]) -> _Args:
    """The command line, or CheckError with one line."""
    args = _Args()
    items = iter(argv)
    for arg in items:
        name, has, value = arg.partition("=")
        if name in ("--port", "--upstream", "--format", "--fix"):
            if not has:
                value = next(items, "")
            if not value:
                raise CheckError(f"{name} needs a value")
            if name == "--port":
                if not value.isdigit() or not valid_port(int(value)):
                    raise CheckError(f"--port {value!r} is not a port number")
                args.port = int(value)
            elif name == "--upstream":
                args.upstream = value
            elif name == "--fix":
                args.fix = value
            else:
                if value not in ("text", "json", "sarif"):
                    raise CheckError("--format must be text, json or sarif")
                args.fmt = value
        elif arg == "--no-gixy":
            args.gixy = False
        elif arg in ("-h", "--help"):
            raise SystemExit(print(USAGE) or 0)
        elif arg.startswith("-"):
            raise CheckError(f"unknown option {arg!r}; {USAGE}")
        else:
            args.files.append(arg)
    if args.port and args.upstream:
        raise CheckError("give --port or --upstream, not both")
    return args


def main(
    argv: list[str] | None = None, accepted: Callable[[], dict[str, str]] | None = None
) -> None:
    """``jupyter-hardening-nginx-check``: exit 0 clean or warnings, 1 errors, 2 usage/files.

    ``accepted`` reads c.Hardening.accepted_risks (after the arguments are parsed).
    """
    try:
        args = parse_args(list(sys.argv[1:] if argv is None else argv))
        risks = accepted() if accepted is not None else {}
        status, text = main_check(
            args.files, args.port, args.upstream, args.fmt, args.gixy, args.fix, risks
        )
    except CheckError as e:
        message = "".join(c if c.isprintable() else "?" for c in str(e))
        print(f"jupyter hardening nginx-check: {message}", file=sys.stderr)
        sys.exit(2)
    print(text)
    sys.exit(status)


class NginxCheckApp(JupyterApp):
    """Audit the nginx config in front of Jupyter: what nginx-snippet gets right and it gets wrong.

    FILE ... are nginx.conf or conf.d/sites-available files (default: what `nginx -T` shows,
    else /etc/nginx/nginx.conf and its includes). Ids named in c.Hardening.accepted_risks
    (jupyter_server_config.py) are reported as accepted. Exit status: 0 clean, warnings only
    or accepted, 1 errors, 2 usage error or a file that cannot be read.
    """

    name = "jupyter-hardening-nginx-check"
    description = __doc__
    # c.Hardening.accepted_risks is read from the files the server reads.
    config_file_name = "jupyter_server_config"

    _argv: list[str] = []

    def initialize(self, argv: Any = None) -> None:
        """Keep the arguments; they are parsed by :func:`parse_args` (one-line errors)."""
        self._argv = list(sys.argv[1:] if argv is None else argv)

    def start(self) -> None:
        """Run the check."""
        main(self._argv, self.accepted_risks)

    def accepted_risks(self) -> dict[str, str]:
        """c.Hardening.accepted_risks from the Jupyter config files, or CheckError (one line)."""
        from traitlets import TraitError

        from .config import Hardening

        try:
            self.load_config_file(suppress_errors=False)
        except Exception as e:  # a config file that raises: its text may hold secrets
            raise CheckError(
                f"a Jupyter config file in {', '.join(self.config_file_paths)} cannot be "
                f"loaded ({type(e).__name__}); `jupyter hardening check` names it"
            ) from None
        try:
            return dict(Hardening(config=self.config).accepted_risks)
        except TraitError as e:
            raise CheckError(str(e)) from None
