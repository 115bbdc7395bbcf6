"""Build the Apache httpd <VirtualHost> that puts a Jupyter server behind TLS.

What Jupyter needs from httpd, and its defaults do not give: websockets (``upgrade=websocket`` on
ProxyPass from 2.4.47, mod_rewrite + mod_proxy_wstunnel before), the browser's Host with its port
(ProxyPreserveHost), X-Forwarded-Proto, and a timeout long enough for idle kernels (httpd closes a
proxied connection after 60 s without traffic). httpd does not apply LimitRequestBody to proxied
requests (measured on 2.4.71, in VirtualHost, Location and Proxy context alike), so the body
limit is Jupyter's own c.ServerApp.max_body_size.
"""

from __future__ import annotations

import re

from ..facts import HTTPS_PORT
from .options import (
    ECDHE_CIPHERS,
    HSTS,
    SYSTEM_CA_BUNDLE,
    SnippetError,
    SnippetOptions,
    Upstream,
    header_lines,
    port_mapping_lines,
    remote_lines,
    size_bytes,
)
from .probe import ApacheInfo
from .text import Node, Raw, apache_conf, comment, node

# Kernel and terminal websockets can sit idle for hours; httpd's Timeout (60 s) would cut them.
PROXY_TIMEOUT_SECONDS = 86400

# jupyter_server's ServerApp.max_body_size default (512 MiB).
JUPYTER_MAX_BODY = 512 * 1024 * 1024

# Mozilla's intermediate profile (guideline 5.7) for Apache; with DHE suites, which httpd
# 2.4.7+ serves with its built-in parameters (nginx would need a dhparam file).
CIPHERS = ":".join(
    [
        *ECDHE_CIPHERS,
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
    ]
)


def _backend(up: Upstream, path: str) -> str:
    """The ProxyPass target for ``path`` (base_url) on ``up``."""
    if up.sock:
        return f"unix:{up.sock}|{up.scheme}://localhost{path}"
    return f"{up.scheme}://{up.host}:{up.port}{path}"


def _proxy_tls(up: Upstream) -> list[Node]:
    if up.scheme != "https":
        return []
    if up.verify:
        ca = [] if up.ca == SYSTEM_CA_BUNDLE else [node("SSLProxyCACertificateFile", up.ca)]
        return [
            node("SSLProxyEngine", "on"),
            node("SSLProxyVerify", "require"),
            node("SSLProxyVerifyDepth", 3),
            node("SSLProxyCheckPeerName", "on"),
            *ca,
        ]
    # Jupyter on this machine with its own certificate: no network hop, as with nginx.
    return [
        node("SSLProxyEngine", "on"),
        node("SSLProxyVerify", "none"),
        node("SSLProxyCheckPeerName", "off"),
        node("SSLProxyCheckPeerExpire", "off"),
    ]


def _legacy_regex(base_url: str) -> str:
    # mod_rewrite reads a regex: its special characters go into [c] classes; what a class or
    # httpd itself would read differently is refused rather than escaped with backslashes.
    if not re.fullmatch(r"[A-Za-z0-9/_.~!&()*+,=:@-]+", base_url):
        raise SnippetError(
            f"base_url {base_url!r} (from --base-url, the server's base_url or the path of "
            "c.Hardening.public_url) holds characters a mod_rewrite pattern cannot take; on "
            "Apache before 2.4.47 use a base_url of letters, digits, '-', '_' and '/'"
        )
    return "^" + "".join(f"[{c}]" if c in ".()*+" else c for c in base_url) + "(.*)$"


def _websocket_rewrite(opts: SnippetOptions, apache: ApacheInfo) -> list[Node]:
    if apache.upgrade_websocket:
        return []
    up = opts.upstream
    ws = "wss" if up.scheme == "https" else "ws"
    target = (
        f"unix:{up.sock}|{ws}://localhost{opts.base_url}$1"
        if up.sock
        else f"{ws}://{up.host}:{up.port}{opts.base_url}$1"
    )
    return [
        node("RewriteEngine", "on"),
        node("RewriteCond", Raw("%{HTTP:Upgrade}"), "=websocket", "[NC]"),
        node("RewriteRule", Raw(_legacy_regex(opts.base_url)), Raw(target), "[P,L,NE]"),
    ]


def _header(opts: SnippetOptions, source: str, apache: ApacheInfo) -> list[Node]:
    size = size_bytes(opts.max_body_size)
    own = [f"c.ServerApp.max_body_size = {size}"] if size and size != JUPYTER_MAX_BODY else []
    lines = header_lines(opts, "Apache httpd", "apache-snippet", source, own) + remote_lines(opts)
    lines.append(
        "Body size: httpd leaves proxied bodies unlimited (LimitRequestBody does not apply to"
    )
    lines.append("ProxyPass); Jupyter's c.ServerApp.max_body_size (512 MiB by default) decides.")
    lines += port_mapping_lines(opts, "httpd")
    ws = (
        "ProxyPass upgrade=websocket (httpd 2.4.47+)"
        if apache.upgrade_websocket
        else "mod_rewrite and mod_proxy_wstunnel (httpd before 2.4.47)"
    )
    tested = apache.label if apache.detected else f"{apache.label} or newer (no httpd found here)"
    lines += [
        f"Modules: a2enmod {' '.join(apache.modules)}   (optional: a2enmod http2)",
        "Install (Debian/Ubuntu): save as /etc/apache2/sites-available/jupyter.conf, then",
        "`a2ensite jupyter && apachectl configtest && systemctl reload apache2`.",
    ]
    if opts.listen_port == HTTPS_PORT:
        lines.append("Port 443 is opened by ports.conf (Listen 443 with mod_ssl).")
    else:
        lines.append(
            f"The Listen line below opens port {opts.listen_port}; keep it out of ports.conf."
        )
    lines += [
        f"Websockets: {ws}.",
        f"TLS settings: Mozilla intermediate, for {tested}.",
        "Also set, outside this file: ServerTokens Prod (conf-available/security.conf).",
    ]
    return [comment(line) for line in lines]


def build_vhost(opts: SnippetOptions, apache: ApacheInfo, source: str) -> list[Node]:
    """The header comments, a Listen line (ports other than 443) and the <VirtualHost>."""
    where = f"{opts.listen_address}:{opts.listen_port}" if opts.listen_address else ""
    tls = [
        node("SSLEngine", "on"),
        node("SSLCertificateFile", opts.tls_cert),
        node("SSLCertificateKeyFile", opts.tls_key),
        node("SSLProtocol", "-all", "+TLSv1.2", *(["+TLSv1.3"] if apache.tls13 else [])),
        node("SSLOpenSSLConfCmd", "Curves", apache.curves),
        node("SSLCipherSuite", CIPHERS),
        node("SSLHonorCipherOrder", "off"),
        node("SSLSessionTickets", "off"),
    ]
    base = opts.base_url
    backend = _backend(opts.upstream, base)
    keys = [f"timeout={PROXY_TIMEOUT_SECONDS}"]
    if apache.upgrade_websocket:
        keys.append("upgrade=websocket")
    vhost: list[Node] = [
        node("ServerName", opts.server_name),
        node("ServerSignature", "Off"),
        *tls,
        node("Protocols", "h2", "http/1.1"),
        # Every Header at this one level; Jupyter sends its own CSP and nosniff.
        node("Header", "always", "set", "Strict-Transport-Security", HSTS),
        node("ProxyRequests", "Off"),
        # The browser's Host, with its port: Jupyter compares it with Origin.
        node("ProxyPreserveHost", "On"),
        node("RequestHeader", "set", "X-Forwarded-Proto", "https"),
        # httpd passes on whatever X-Real-IP the client sent; tornado would believe it.
        node("RequestHeader", "set", "X-Real-IP", Raw("expr=%{REMOTE_ADDR}")),
        # Paths pass to Jupyter as the browser wrote them (%2F in file names included).
        node("AllowEncodedSlashes", "NoDecode"),
        *_proxy_tls(opts.upstream),
    ]
    if base != "/":
        vhost.append(node("RedirectMatch", 302, Raw("^/$"), base))
    vhost += [
        *_websocket_rewrite(opts, apache),
        node("ProxyPass", base, backend, *keys, "nocanon"),
        node("ProxyPassReverse", base, backend),
    ]
    host = where or f"*:{opts.listen_port}"
    listen = (
        [] if opts.listen_port == HTTPS_PORT else [node("Listen", where or str(opts.listen_port))]
    )
    return [*_header(opts, source, apache), *listen, node("VirtualHost", host, block=vhost)]


def generate(opts: SnippetOptions, apache: ApacheInfo, source: str) -> str:
    """The httpd config text for ``opts``; ``source`` names the Jupyter server."""
    return apache_conf(build_vhost(opts, apache, source))
