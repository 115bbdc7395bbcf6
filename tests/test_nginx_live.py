"""A real nginx on a non-default TLS port in front of a real `jupyter server`, used like a browser.

The config under test is what `jupyter hardening nginx-snippet` prints for the running server
(found through its runtime file). The same session through a seed tutorial's config must fail,
which shows these tests can fail.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import websocket

from .fixtures import require_tool
from .nginx_util import (
    PUBLIC_HOST,
    JupyterClient,
    RunningNginx,
    TestCA,
    make_ca,
    nginx_conf,
    nginx_conf_including,
    resolve_to_loopback,
    run_code,
    running_nginx,
    terminal_echo,
)
from .servers import JupyterHome, ServerProcess, free_port, start

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(300)]

BASE_URL = "/jp/"


@dataclass
class Stack:
    """The pieces every test here shares: CA, Jupyter, and how to reach it."""

    ca: TestCA
    home: JupyterHome
    server: ServerProcess
    password: str
    nginx_port: int

    @property
    def origin(self) -> str:
        """What the browser puts in Origin for the proxied site."""
        return f"https://{PUBLIC_HOST}:{self.nginx_port}"

    def client(self) -> JupyterClient:
        """A fresh, signed-out browser-like client."""
        return JupyterClient(self.origin, BASE_URL, self.ca)

    def snippet(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `jupyter hardening nginx-snippet` as the user would, in this Jupyter home."""
        return subprocess.run(
            [sys.executable, "-m", "jupyter_hardening.cli", "nginx-snippet", *args],
            capture_output=True,
            text=True,
            env=self.home.env(),
            timeout=60,
            check=False,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, password: tuple[str, str]) -> Iterator[Stack]:
    """A password-protected Jupyter with the companion settings the snippet asks for."""
    require_tool("nginx", "nginx")
    root = tmp_path_factory.mktemp("live")
    home = JupyterHome(root / "jhome")
    nginx_port = free_port()
    secret, hashed = password
    home.write_config(
        f"""
c.ServerApp.ip = '127.0.0.1'
c.ServerApp.base_url = {BASE_URL!r}
c.ServerApp.local_hostnames = ['localhost', {PUBLIC_HOST!r}]
c.ServerApp.trust_xheaders = True
c.IdentityProvider.secure_cookie = True
c.IdentityProvider.token = ''
c.PasswordIdentityProvider.hashed_password = {hashed!r}
c.Hardening.public_url = 'https://{PUBLIC_HOST}:{nginx_port}{BASE_URL}'
# Faster start: the proxy is under test here, not the frontends.
c.ServerApp.jpserver_extensions = {{'jupyterlab': False, 'notebook': False, 'jupyter_lsp': False}}
"""
    )
    server = start(home)
    try:
        server.wait_ready(path=f"{BASE_URL}api/status")
        yield Stack(make_ca(root / "ca"), home, server, secret, nginx_port)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def generated(stack: Stack) -> str:
    """The snippet for the live server, from its runtime file and c.Hardening.public_url."""
    result = stack.snippet(
        f"--listen=127.0.0.1:{stack.nginx_port}",
        f"--tls-cert={stack.ca.cert}",
        f"--tls-key={stack.ca.key}",
        "--check",
    )
    assert result.returncode == 0, result.stderr
    assert "nginx -t (nginx " in result.stderr and ": ok" in result.stderr
    return result.stdout


@pytest.fixture
def proxied(stack: Stack, generated: str, tmp_path: Path) -> Iterator[RunningNginx]:
    """nginx running the generated snippet."""
    conf = nginx_conf_including(tmp_path / "nginx", generated)
    with running_nginx(conf, stack.nginx_port) as nginx, resolve_to_loopback():
        yield nginx


def test_snippet_names_the_server_and_its_companion_settings(stack: Stack, generated: str) -> None:
    """The header names pid/port/base_url of the live server and the settings it needs."""
    server = stack.server
    assert f"pid {server.proc.pid}, port {server.port}, base_url {BASE_URL}" in generated
    config = (stack.home.config_dir / "jupyter_server_config.py").read_text()
    companions = [
        line.strip("# ").strip() for line in generated.splitlines() if line.startswith("#   c.")
    ]
    assert len(companions) == 6
    for line in companions:
        assert line in config, f"companion setting missing from the test's config: {line}"


def test_session_through_generated_config(stack: Stack, proxied: RunningNginx) -> None:
    """Password login, REST with XSRF + Origin, kernel and terminal websockets, all via nginx."""
    log_start = len(stack.server.log)
    client = stack.client()
    login = client.login(stack.password)
    assert login.status_code == 302, login.text
    assert any(c.name.startswith("username-") and c.secure for c in client.session.cookies)

    created = client.api("POST", "api/contents", json={"type": "notebook"})
    assert created.status_code == 201, created.text
    assert created.json()["path"].endswith(".ipynb")

    assert run_code(client, "6*7") == "42"
    assert "jh-42" in terminal_echo(client)

    page = client.session.get(client.url("api/status"), timeout=30)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=63072000"
    assert "nginx/" not in page.headers.get("Server", "")
    assert "Blocking Cross Origin" not in stack.server.log[log_start:]


def test_100mb_notebook_save(stack: Stack, proxied: RunningNginx) -> None:
    """A notebook save is one PUT of the whole file; 100 MB must pass nginx and Jupyter."""
    client = stack.client()
    assert client.login(stack.password).status_code == 302
    source = "x = 1  # padding\n" * (100 * 1024 * 1024 // 17)
    notebook = {
        "cells": [
            {
                "id": "big",
                "cell_type": "code",
                "metadata": {},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    saved = client.api(
        "PUT",
        "api/contents/big.ipynb",
        json={"type": "notebook", "format": "json", "content": notebook},
        timeout=240,
    )
    assert saved.status_code in (200, 201), saved.text[:500]
    assert (stack.home.work_dir / "big.ipynb").stat().st_size > 100 * 1024 * 1024
    (stack.home.work_dir / "big.ipynb").unlink()


class _AuthStub(http.server.BaseHTTPRequestHandler):
    """oauth2-proxy's contract in ten lines: 202 with the sign-in cookie, 401 without."""

    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("X-Original-URI", ""))
        signed_in = "signed_in=yes" in self.headers.get("Cookie", "")
        self.send_response(202 if signed_in else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def auth_server() -> Iterator[str]:
    """A stub auth server on loopback; yields its check URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AuthStub)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/auth"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_auth_request_gate(stack: Stack, auth_server: str, tmp_path: Path) -> None:
    """Anonymous requests go to sign-in; signed-in ones reach Jupyter, websockets included."""
    signin = "https://auth.example.com/oauth2/start"
    result = stack.snippet(
        f"--listen=127.0.0.1:{stack.nginx_port}",
        f"--tls-cert={stack.ca.cert}",
        f"--tls-key={stack.ca.key}",
        f"--auth-request={auth_server}",
        f"--auth-signin={signin}",
    )
    assert result.returncode == 0, result.stderr
    conf = nginx_conf_including(tmp_path / "nginx", result.stdout)
    with running_nginx(conf, stack.nginx_port), resolve_to_loopback():
        anonymous = stack.client()
        status = anonymous.url("api/status")
        denied = anonymous.session.get(status, allow_redirects=False, timeout=30)
        assert denied.status_code == 302
        assert denied.headers["Location"] == f"{signin}?rd={stack.origin}{BASE_URL}api/status"

        client = stack.client()
        client.session.cookies.set("signed_in", "yes", domain=PUBLIC_HOST)
        assert client.login(stack.password).status_code == 302
        assert client.api("GET", "api/status").status_code == 200
        assert run_code(client, "6*7") == "42"
        assert f"{BASE_URL}api/status" in _AuthStub.seen


# The seed tutorials' proxy part (seeds 000 and 002): `Host $host` on a port other than 443.
SEED_CONFIG = """
map $http_upgrade $connection_upgrade {{
    default upgrade;
    ''      close;
}}
server {{
    listen 127.0.0.1:{port} ssl;
    server_name jupyter.example.com;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location {base_url} {{
        proxy_pass http://127.0.0.1:{upstream};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        client_max_body_size 10M;
    }}
}}
"""


def test_seed_config_breaks_the_same_session(stack: Stack, tmp_path: Path) -> None:
    """Through the seeds' nginx the browser's login POST and cookie websockets are blocked."""
    conf = nginx_conf(
        tmp_path / "nginx",
        SEED_CONFIG.format(
            port=stack.nginx_port,
            cert=stack.ca.cert,
            key=stack.ca.key,
            base_url=BASE_URL,
            upstream=stack.server.port,
        ),
    )
    log_start = len(stack.server.log)
    with running_nginx(conf, stack.nginx_port), resolve_to_loopback():
        browser = stack.client()
        assert browser.login(stack.password).status_code == 404
        blocked = "Blocking Cross Origin API request for /jp/login"
        assert blocked in stack.server.log[log_start:]

        # A script's login (no Origin) gets through; the page's websocket still does not.
        script = stack.client()
        script.session.get(script.url("login"), timeout=30)
        form = {"password": stack.password, "_xsrf": script.xsrf}
        signed_in = script.session.post(
            script.url("login"), data=form, allow_redirects=False, timeout=30
        )
        assert signed_in.status_code == 302
        assert script.api("POST", "api/contents", json={"type": "notebook"}).status_code == 404
        xsrf = {"X-XSRFToken": script.xsrf}
        term = script.session.post(script.url("api/terminals"), headers=xsrf, timeout=30)
        assert term.status_code == 200, term.text
        with pytest.raises(websocket.WebSocketBadStatusException, match="403"):
            script.websocket(f"terminals/websocket/{term.json()['name']}")
