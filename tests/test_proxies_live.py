"""Real Caddy and Apache httpd on a non-default TLS port in front of a real `jupyter server` on
/jp/, used like a browser (password login cookie, Origin, XSRF; never a token).

The config under test is what `jupyter hardening caddy-snippet` / `apache-snippet` prints for the
running server, found through its runtime file. A naive config for each (Caddy with
`header_up Host {host}`, Apache without websocket handling) fails the same session, which shows
these tests can fail.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import websocket

from .fixtures import require_tool
from .nginx_util import PUBLIC_HOST, JupyterClient, TestCA, execute, resolve_to_loopback
from .proxy_util import (
    BASE_URL,
    SIGNIN,
    ProxiedJupyter,
    RunningProxy,
    apache_path,
    apache_wrapper,
    assert_auth_gate,
    assert_names_server_and_companions,
    assert_saves_100mb_notebook,
    assert_session,
    auth_stub,
    caddy_path,
    caddy_wrapper,
    proxied_jupyter,
    running_apache,
    running_caddy,
)

pytestmark = [pytest.mark.timeout(300)]

PROXIES = [
    pytest.param("caddy", marks=pytest.mark.caddy),
    pytest.param("apache", marks=pytest.mark.apache),
]


class Stack(ProxiedJupyter):
    """Jupyter with the companion settings, a test CA, and the proxy to run on its port."""

    def run(
        self, proxy: str, text: str, folder: Path, extra: str = ""
    ) -> AbstractContextManager[RunningProxy]:
        """``text`` running in a real Caddy or httpd on this stack's port."""
        if proxy == "caddy":
            return running_caddy(caddy_wrapper(folder, text), self.port)
        return running_apache(apache_wrapper(folder, text, extra=extra), self.port)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, password: tuple[str, str]) -> Iterator[Stack]:
    """A Jupyter server configured as the snippets' headers ask."""
    with proxied_jupyter(tmp_path_factory.mktemp("proxies"), password) as jupyter:
        yield Stack(**vars(jupyter))


def need(proxy: str) -> None:
    """Fail in CI, skip elsewhere, when the proxy is not installed."""
    if proxy == "caddy":
        require_tool(caddy_path() or "caddy", "Caddy (Debian caddy)")
    else:
        require_tool(apache_path() or "apache2", "Apache httpd (Debian apache2)")


@pytest.fixture(params=PROXIES)
def proxy(request: pytest.FixtureRequest) -> str:
    """caddy or apache; the test fails in CI when it is not installed."""
    name: str = request.param
    need(name)
    return name


def test_header_names_the_server_and_its_companion_settings(stack: Stack, proxy: str) -> None:
    """The header names the live server and the settings it needs, all present in its config."""
    assert_names_server_and_companions(stack.generated(proxy), stack)


def test_session_through_generated_config(stack: Stack, proxy: str, tmp_path: Path) -> None:
    """Password login, REST with XSRF + Origin, kernel and terminal websockets, via the proxy."""
    text = stack.generated(proxy)
    log_start = len(stack.server.log)
    with stack.run(proxy, text, tmp_path / proxy), resolve_to_loopback():
        client = stack.sign_in()
        assert any(c.name.startswith("username-") and c.secure for c in client.session.cookies)
        assert_session(client)
        status = client.session.get(client.url("api/status"), timeout=30)
        assert status.status_code == 200
        assert status.headers["Strict-Transport-Security"] == "max-age=63072000"
        root = client.session.get(stack.origin + "/", allow_redirects=False, timeout=30)
        assert root.status_code == 302 and root.headers["Location"].endswith(BASE_URL)
    log = stack.server.log[log_start:]
    assert "Blocking Cross Origin" not in log
    assert "non-local Host" not in log


def test_100mb_notebook_save(stack: Stack, proxy: str, tmp_path: Path) -> None:
    """A notebook save is one PUT of the whole file; 100 MB must pass the proxy and Jupyter."""
    text = stack.generated(proxy)
    with stack.run(proxy, text, tmp_path / proxy), resolve_to_loopback():
        assert_saves_100mb_notebook(stack.sign_in(), stack.home.work_dir)


@pytest.mark.caddy
def test_caddy_body_limit_is_enforced(stack: Stack, tmp_path: Path) -> None:
    """--max-body-size reaches Caddy: a body above it is refused before Jupyter sees it."""
    need("caddy")
    text = stack.generated("caddy", "--max-body-size=1m")
    with stack.run("caddy", text, tmp_path / "caddy"), resolve_to_loopback():
        client = stack.sign_in()
        body = {"type": "file", "format": "text", "content": "x" * (2 * 1024 * 1024)}
        refused = client.api("PUT", "api/contents/too-big.txt", json=body)
        # Caddy 2.6 reports the cut body as a failed proxy request (502).
        assert refused.status_code == 502, refused.status_code
        small = {"type": "file", "format": "text", "content": "x" * 1000}
        assert client.api("PUT", "api/contents/small.txt", json=small).status_code == 201
    assert not (stack.home.work_dir / "too-big.txt").exists()
    (stack.home.work_dir / "small.txt").unlink()


@pytest.mark.apache
def test_apache_does_not_limit_proxied_bodies(stack: Stack, tmp_path: Path) -> None:
    """Why apache-snippet leaves the body limit to Jupyter (c.ServerApp.max_body_size): httpd
    does not apply LimitRequestBody to ProxyPass, not even at 1 kB in the VirtualHost."""
    need("apache")
    text = stack.generated("apache", "--max-body-size=1m")
    assert "#   c.ServerApp.max_body_size = 1048576" in text
    limited = text.replace(
        "    ProxyRequests Off", "    LimitRequestBody 1000\n    ProxyRequests Off"
    )
    assert limited != text
    with stack.run("apache", limited, tmp_path / "apache"), resolve_to_loopback():
        client = stack.sign_in()
        body = {"type": "file", "format": "text", "content": "x" * (2 * 1024 * 1024)}
        assert client.api("PUT", "api/contents/through.txt", json=body).status_code == 201
    (stack.home.work_dir / "through.txt").unlink()


def naive_caddy(port: int, ca: TestCA, upstream: int) -> str:
    """The Caddyfile a forum answer gives: Host rewritten to {host}, which drops the port."""
    return f"""{PUBLIC_HOST}:{port} {{
	bind 127.0.0.1
	tls {ca.cert} {ca.key}
	reverse_proxy /jp/* 127.0.0.1:{upstream} {{
		header_up Host {{host}}
	}}
}}
"""


def naive_apache(port: int, ca: TestCA, upstream: int) -> str:
    """A VirtualHost as many guides write it: ProxyPass without any websocket handling."""
    return f"""Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
    ServerName {PUBLIC_HOST}
    SSLEngine on
    SSLCertificateFile {ca.cert}
    SSLCertificateKeyFile {ca.key}
    ProxyPreserveHost On
    RequestHeader set X-Forwarded-Proto https
    ProxyPass /jp/ http://127.0.0.1:{upstream}/jp/
    ProxyPassReverse /jp/ http://127.0.0.1:{upstream}/jp/
</VirtualHost>
"""


def test_naive_config_breaks_the_same_session(stack: Stack, proxy: str, tmp_path: Path) -> None:
    """Caddy with `header_up Host {host}`: the browser's login POST is blocked as cross-origin,
    and a script's cookie websocket too. Apache without websocket handling: login and REST work,
    but no kernel or terminal websocket opens."""
    naive = naive_caddy if proxy == "caddy" else naive_apache
    text = naive(stack.port, stack.ca, stack.server.port)
    log_start = len(stack.server.log)
    with stack.run(proxy, text, tmp_path / proxy), resolve_to_loopback():
        if proxy == "caddy":
            browser = stack.client()
            assert browser.login(stack.password).status_code == 404
            log = stack.server.log[log_start:]
            assert "Blocking Cross Origin API request for /jp/login" in log
            assert f"Origin: {stack.origin}, Host: {PUBLIC_HOST}\n" in log
            client = stack.client()
            assert client.script_login(stack.password).status_code == 302
            assert client.api("POST", "api/contents", json={"type": "notebook"}).status_code == 404
        else:
            client = stack.sign_in()
            created = client.api("POST", "api/contents", json={"type": "notebook"})
            assert created.status_code == 201
        with pytest.raises(websocket.WebSocketBadStatusException):
            client.websocket(f"terminals/websocket/{client.script_terminal()}")


def idle_then_execute(client: JupyterClient, idle: float) -> str:
    """Open a kernel websocket, leave it idle for ``idle`` seconds, then run 6*7 over it."""
    kernel = client.api("POST", "api/kernels", json={})
    assert kernel.status_code == 201, kernel.text
    kernel_id = kernel.json()["id"]
    ws = client.websocket(f"api/kernels/{kernel_id}/channels")
    try:
        assert execute(ws, "1+1") == "2"
        time.sleep(idle)
        return execute(ws, "6*7", timeout=20)
    finally:
        ws.close()
        client.api("DELETE", f"api/kernels/{kernel_id}")


@pytest.mark.apache
def test_apache_idle_kernel_websocket_outlives_timeout(stack: Stack, tmp_path: Path) -> None:
    """httpd closes a proxied connection after `Timeout` seconds without traffic (60 by default):
    an idle kernel would drop. With Timeout cut to 2 s, the generated VirtualHost (its own
    ProxyPass timeout) keeps an idle kernel websocket; the same without that key loses it."""
    need("apache")
    text = stack.generated("apache")
    short = "Timeout 2\n"
    with stack.run("apache", text, tmp_path / "gen", extra=short), resolve_to_loopback():
        assert idle_then_execute(stack.sign_in(), 5) == "42"
    cut = text.replace(" timeout=86400", "")
    assert cut != text
    with stack.run("apache", cut, tmp_path / "cut", extra=short), resolve_to_loopback():
        client = stack.sign_in()
        with pytest.raises((websocket.WebSocketException, OSError)):
            idle_then_execute(client, 5)


@pytest.mark.caddy
def test_caddy_forward_auth_gate(stack: Stack, tmp_path: Path) -> None:
    """Anonymous requests go to sign-in; signed-in ones reach Jupyter, websockets included."""
    need("caddy")
    with auth_stub("X-Forwarded-Uri") as stub:
        text = stack.generated("caddy", f"--forward-auth={stub.url}", f"--auth-signin={SIGNIN}")
        with stack.run("caddy", text, tmp_path / "caddy"), resolve_to_loopback():
            assert_auth_gate(stack, stub)
