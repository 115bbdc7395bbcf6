"""Build the nginx config that puts a Jupyter server behind TLS with its protections left on.

Pure functions: validated options and what the installed nginx supports go in, a crossplane
payload (nested dicts) comes out, and ``crossplane.build`` turns it into text. Nothing is
templated, and every value was checked (options.py) before it reaches the payload.
"""

from __future__ import annotations

from typing import Any

from ..facts import HTTPS_PORT
from .options import (
    ECDHE_CIPHERS,
    HSTS,
    SnippetError,
    SnippetOptions,
    Upstream,
    header_lines,
    port_mapping_lines,
    remote_lines,
    signin_url,
)
from .probe import NginxInfo

Stmt = dict[str, Any]

# Kernel and terminal websockets can sit idle for hours; nginx's 60 s default cuts them.
PROXY_TIMEOUT = "1d"

AUTH_LOCATION = "/_jupyter_auth"

SIGNIN_LOCATION = "@jupyter_signin"

CONNECTION_VARIABLE = "$jupyter_connection_upgrade"

# Mozilla intermediate, ECDHE suites only: the DHE suites need an ssl_dhparam file, without which
# nginx disables them anyway.
TLS12_CIPHERS = ":".join(ECDHE_CIPHERS)


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
    lines = header_lines(opts, "nginx", "nginx-snippet", source) + remote_lines(opts)
    if opts.upstream.verify:
        lines.append(
            f"nginx checks Jupyter's certificate (name {opts.upstream.host}) against "
            f"{opts.upstream.ca}."
        )
    elif not opts.upstream.loopback and opts.upstream.scheme == "http" and not opts.upstream.sock:
        lines += [
            "Passwords and code travel from nginx to Jupyter in plain http: keep that hop on",
            "a private network, or give Jupyter a certificate and use --upstream https://.",
        ]
    lines += port_mapping_lines(opts, "nginx")
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
    return signin_url(opts.auth_signin, opts.public_origin + "$request_uri")


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
    import crossplane  # only when a config is written: nginx-check reads the constants here

    return str(crossplane.build(_numbered(payload, [0]))) + "\n"


def generate(opts: SnippetOptions, nginx: NginxInfo, source: str) -> str:
    """The nginx config for ``opts`` on ``nginx``; ``source`` names the Jupyter server."""
    return render(build_payload(opts, nginx, source))
