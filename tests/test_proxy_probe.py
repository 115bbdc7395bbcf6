"""What the installed proxy supports (jupyter_hardening/proxy/probe.py): version output of nginx,
Caddy and Apache builds parsed, and the program found where distributions put it."""

from __future__ import annotations

import pytest

from jupyter_hardening.proxy.options import SnippetError
from jupyter_hardening.proxy.probe import (
    BASELINE_APACHE,
    find_program,
    parse_apache_v,
    parse_caddy_version,
    parse_nginx_v,
)

DEBIAN_V = """nginx version: nginx/1.22.1
built with OpenSSL 3.0.22 25 Aug 2026 (running with OpenSSL 3.0.19 27 Jan 2026)
TLS SNI support enabled
configure arguments: --with-cc-opt='-g -O2' --prefix=/usr/share/nginx --with-compat \
--with-http_ssl_module --with-http_stub_status_module --with-http_realip_module \
--with-http_auth_request_module --with-http_v2_module --with-http_dav_module
"""
NGINX_ORG_V = """nginx version: nginx/1.27.4
built by gcc 12.2.0 (Debian 12.2.0-14)
built with OpenSSL 3.5.0 8 Apr 2025
TLS SNI support enabled
configure arguments: --prefix=/etc/nginx --with-http_ssl_module --with-http_v2_module \
--with-http_v3_module --with-http_auth_request_module
"""
OLD_V = """nginx version: nginx/1.12.2
built with OpenSSL 1.0.2k-fips  26 Jan 2017
configure arguments: --with-http_ssl_module
"""
LIBRESSL_V = """nginx version: openresty/1.21.4.3
built with LibreSSL 3.8.2
configure arguments: --with-http_ssl_module --with-http_v2_module
"""
BORINGSSL_V = """nginx version: nginx/1.25.3
built with BoringSSL
configure arguments: --with-http_ssl_module --with-http_v2_module
"""

DEBIAN = parse_nginx_v(DEBIAN_V)
APACHE_V = "Server version: Apache/2.4.71 (Debian)\nServer built:   2026-11-12T08:58:41\n"
DEBIAN_APACHE = parse_apache_v(APACHE_V, "OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19)")


def test_parse_debian_nginx() -> None:
    """Debian 12: the older of built/running OpenSSL counts; http2 on the listen line."""
    assert DEBIAN.version == (1, 22, 1)
    assert DEBIAN.tls_version == (3, 0, 19)
    assert DEBIAN.label == "nginx 1.22.1 with OpenSSL 3.0.19"
    assert DEBIAN.has("http_v2_module") and DEBIAN.has("http_auth_request_module")
    assert DEBIAN.tls13 and not DEBIAN.http2_directive
    assert DEBIAN.curves == "X25519:prime256v1:secp384r1"


@pytest.mark.parametrize(
    ("text", "tls13", "http2_on", "curves"),
    [
        (NGINX_ORG_V, True, True, "X25519MLKEM768:X25519:prime256v1:secp384r1"),
        (OLD_V, False, False, "prime256v1:secp384r1"),
        (LIBRESSL_V, True, False, "X25519:prime256v1:secp384r1"),
        (BORINGSSL_V, True, True, "X25519:prime256v1:secp384r1"),
    ],
    ids=["nginx.org-1.27-openssl-3.5", "1.12-openssl-1.0.2", "openresty-libressl", "boringssl"],
)
def test_parse_other_builds(text: str, tls13: bool, http2_on: bool, curves: str) -> None:
    """TLS 1.3, the http2 syntax and the curve list follow what each build supports."""
    info = parse_nginx_v(text)
    assert (info.tls13, info.http2_directive, info.curves) == (tls13, http2_on, curves)


def test_garbage_version_is_an_error() -> None:
    """Output that is not nginx -V is refused."""
    with pytest.raises(SnippetError, match="nginx version"):
        parse_nginx_v("command not found")


def test_parse_versions() -> None:
    """Debian's caddy prints '2.6.2', upstream 'v2.7.6 h1:...'; httpd and OpenSSL from -v."""
    assert parse_caddy_version("2.6.2").version == (2, 6, 2)
    assert parse_caddy_version("v2.7.6 h1:abc=\n").version == (2, 7, 6)
    assert DEBIAN_APACHE.version == (2, 4, 71) and DEBIAN_APACHE.tls_version == (3, 0, 19)
    assert DEBIAN_APACHE.upgrade_websocket and DEBIAN_APACHE.tls13
    assert DEBIAN_APACHE.curves == "X25519:prime256v1:secp384r1"
    assert parse_apache_v(APACHE_V, "OpenSSL 3.5.1 1 Jul 2025").curves.startswith("X25519MLKEM768:")
    assert not BASELINE_APACHE.upgrade_websocket
    for bad in ("", "Server version: nginx/1.2"):
        with pytest.raises(SnippetError):
            parse_apache_v(bad)
    with pytest.raises(SnippetError):
        parse_caddy_version("no version")


@pytest.mark.parametrize(("proxy", "name"), [("nginx", "nginx"), ("apache", "apache2")])
def test_find_program_looks_in_sbin(proxy: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Debian installs nginx and apache2 in /usr/sbin, which a user's PATH often lacks."""
    from .fixtures import require_tool

    installed = require_tool(f"/usr/sbin/{name}", name)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert find_program(proxy, name) == installed
    assert find_program(proxy, "no-such-proxy") is None
