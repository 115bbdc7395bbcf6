"""Build the Caddyfile site block that puts a Jupyter server behind Caddy.

Caddy's defaults already suit Jupyter in the ways nginx's do not: it passes the browser's Host
through to Jupyter unchanged (port included, which Jupyter's origin check compares with Origin),
upgrades websockets by itself, sets X-Forwarded-For/-Proto, and has no read timeout on an idle
websocket. The block keeps those defaults and sets the rest: TLS (automatic HTTPS, or your
certificate), HSTS, the body size, a trusted X-Real-IP, and optionally a forward_auth gate.
"""

from __future__ import annotations

import re

from .options import (
    HSTS,
    SYSTEM_CA_BUNDLE,
    SnippetError,
    SnippetOptions,
    Upstream,
    header_lines,
    port_mapping_lines,
    remote_lines,
    signin_url,
    size_bytes,
)
from .probe import CaddyInfo
from .text import Node, Raw, caddyfile, comment, node


def _upstream(up: Upstream) -> tuple[str, list[Node]]:
    """The reverse_proxy upstream address and its transport settings."""
    if up.sock:
        return f"unix/{up.sock}", []
    if up.scheme == "http":
        return f"{up.host}:{up.port}", []
    address = f"https://{up.host}:{up.port}"
    if up.verify:
        # Caddy checks an https upstream against the system's CAs by default.
        tls = [] if up.ca == SYSTEM_CA_BUNDLE else [node("tls_trusted_ca_certs", up.ca)]
        return address, [node("transport", "http", block=[node("tls"), *tls])] if tls else []
    # Jupyter on this machine with its own certificate (for a name, not for 127.0.0.1): as with
    # nginx, there is no network hop to protect, so its certificate is not checked.
    return address, [node("transport", "http", block=[node("tls_insecure_skip_verify")])]


def _header(opts: SnippetOptions, source: str, caddy: CaddyInfo) -> list[Node]:
    lines = header_lines(opts, "Caddy", "caddy-snippet", source) + remote_lines(opts)
    if opts.tls_cert:
        lines.append("TLS: the certificate given with --tls-cert; Caddy's own TLS defaults.")
    else:
        lines += [
            f"TLS: Caddy's automatic HTTPS gets and renews a certificate for {opts.server_name};",
            "it must resolve to this host, with port 80 or 443 reachable from the internet",
            "(or give --tls-cert/--tls-key).",
        ]
    lines += port_mapping_lines(opts, "Caddy")
    tested = caddy.label if caddy.detected else f"{caddy.label} or newer (no Caddy found here)"
    lines += [
        "Caddy passes the browser's Host (with its port) to Jupyter, upgrades websockets and has",
        "no timeout on idle ones: those defaults are kept. A config reload closes websockets;",
        "JupyterLab reconnects.",
        "Install: add this site block to /etc/caddy/Caddyfile (or `import` this file there),",
        "then `caddy validate --config /etc/caddy/Caddyfile && systemctl reload caddy`.",
        f"Written for {tested}.",
    ]
    return [comment(line) for line in lines]


def _forward_auth(opts: SnippetOptions) -> list[Node]:
    if not opts.auth_request:
        return []
    match = re.fullmatch(r"(https?)://([^/]+)(/.*)?", opts.auth_request)
    assert match is not None  # check_url took it
    scheme, where, path = match.groups()
    block = [node("uri", path or "/")]
    if opts.auth_signin:
        target = signin_url(opts.auth_signin, opts.public_origin + "{uri}")
        block += [
            node("@signin", "status", 401),
            node("handle_response", "@signin", block=[node("redir", "*", Raw(target), 302)]),
        ]
    return [
        node("forward_auth", f"{scheme}://{where}" if scheme == "https" else where, block=block)
    ]


def build_site(opts: SnippetOptions, caddy: CaddyInfo, source: str) -> list[Node]:
    """The header comments and the site block."""
    if opts.auth_request and not caddy.forward_auth:
        raise SnippetError(f"--forward-auth needs Caddy 2.5.1 or newer; this is {caddy.label}")
    if opts.auth_signin and not opts.auth_request:
        raise SnippetError(
            "--auth-signin goes with --forward-auth URL; add it, or drop --auth-signin"
        )
    site: list[Node] = []
    if opts.listen_address:
        site.append(node("bind", opts.listen_address.strip("[]")))
    if opts.tls_cert:
        site.append(node("tls", opts.tls_cert, opts.tls_key))
    site.append(node("header", "Strict-Transport-Security", HSTS))
    size = size_bytes(opts.max_body_size)
    if size:
        # Caddy has no body limit of its own: Jupyter's (512 MiB by default) would decide.
        site.append(node("request_body", block=[node("max_size", size)]))
    address, transport = _upstream(opts.upstream)
    proxy = node(
        "reverse_proxy",
        address,
        block=[
            # Caddy passes on whatever X-Real-IP the client sent; tornado (trust_xheaders)
            # would take it as the client's address.
            node("header_up", "X-Real-IP", Raw("{remote_host}")),
            *transport,
        ],
    )
    if opts.base_url == "/":
        site += [*_forward_auth(opts), proxy]
    else:
        site += [
            node("redir", "/", opts.base_url, 302),
            node("handle", Raw(opts.base_url + "*"), block=[*_forward_auth(opts), proxy]),
            node("handle", block=[node("respond", 404)]),
        ]
    return [
        *_header(opts, source, caddy),
        node(f"{opts.server_name}:{opts.listen_port}", block=site),
    ]


def generate(opts: SnippetOptions, caddy: CaddyInfo, source: str) -> str:
    """The Caddyfile text for ``opts``; ``source`` names the Jupyter server."""
    return caddyfile(build_site(opts, caddy, source))
