"""Real proxies in front of a real Jupyter for tests: the Jupyter the snippets' headers ask for
(:func:`proxied_jupyter`), what a session through the proxy must do, and Caddy and Apache httpd
as foreground processes on loopback high ports, everything they write kept in a throwaway folder.

Caddy gets a test-only wrapper (global options: no admin endpoint, no port-80 redirect server)
that imports the site block under test; httpd gets jupyter_hardening's own minimal httpd.conf
(the one ``apache-snippet --check`` uses), which includes the VirtualHost under test.
"""

from __future__ import annotations

import contextlib
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_hardening.proxy.probe import apache_info, caddy_env, module_dir, standalone_conf

from .nginx_util import (
    PUBLIC_HOST,
    JupyterClient,
    RunningProxy,
    TestCA,
    foreground,
    make_ca,
    run_code,
    terminal_echo,
)
from .servers import JupyterHome, ServerProcess, free_port, jupyter_bin, start

__all__ = ["RunningProxy"]  # re-exported: the proxies' tests take it from here

BASE_URL = "/jp/"
# What the frontends are not needed for: a faster start.
NO_FRONTENDS = "{'jupyterlab': False, 'notebook': False, 'jupyter_lsp': False}"

CADDY_GLOBALS = """{
	admin off
	auto_https disable_redirects
	storage file_system %s
}
"""


def caddy_path() -> str | None:
    """Debian's caddy."""
    return shutil.which("caddy")


def apache_path() -> str | None:
    """Debian's apache2 (in /usr/sbin, which may not be on PATH)."""
    return shutil.which("apache2") or shutil.which("apache2", path="/usr/sbin:/usr/local/sbin")


def caddy_wrapper(folder: Path, site: str) -> Path:
    """``folder/Caddyfile``: the test's global options, then ``site`` imported as a user would."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jupyter.caddy").write_text(site)
    conf = folder / "Caddyfile"
    conf.write_text(CADDY_GLOBALS % (folder / "storage") + f"import {folder / 'jupyter.caddy'}\n")
    return conf


def caddy_validate(conf: Path) -> subprocess.CompletedProcess[str]:
    """``caddy validate`` on ``conf`` (a Caddyfile), with Caddy's data kept beside it."""
    return subprocess.run(
        [caddy_path() or "caddy", "validate", "--config", str(conf), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=caddy_env(conf.parent),
    )


def apache_wrapper(folder: Path, site: str, *, extra: str = "") -> Path:
    """``folder/httpd.conf`` that loads the modules the site needs and includes it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "jupyter.conf"
    path.write_text(site)
    modules = module_dir()
    assert modules is not None, "no httpd modules folder"
    conf = standalone_conf(folder, path, modules, apache_info(apache_path() or "apache2"))
    if extra:
        conf.write_text(conf.read_text() + extra)
    return conf


def apache_test(conf: Path) -> subprocess.CompletedProcess[str]:
    """``apache2 -t -f conf``."""
    return subprocess.run(
        [apache_path() or "apache2", "-t", "-f", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextlib.contextmanager
def running_caddy(conf: Path, port: int) -> Iterator[RunningProxy]:
    """``caddy run`` on ``conf`` in the foreground until the block ends; wait for ``port``."""
    checked = caddy_validate(conf)
    assert checked.returncode == 0, f"caddy validate failed:\n{checked.stderr}"
    argv = [caddy_path() or "caddy", "run", "--config", str(conf), "--adapter", "caddyfile"]
    log = conf.parent / "caddy.log"
    with foreground(argv, log, (port,), env=caddy_env(conf.parent)) as proxy:
        yield proxy


@contextlib.contextmanager
def running_apache(conf: Path, port: int) -> Iterator[RunningProxy]:
    """``apache2 -X`` (one process, foreground) on ``conf``; wait for ``port``."""
    checked = apache_test(conf)
    assert checked.returncode == 0, f"apache2 -t failed:\n{checked.stderr}"
    argv = [apache_path() or "apache2", "-X", "-f", str(conf)]
    # httpd -X leaves no children: foreground() waits for the port to be free again.
    with foreground(argv, conf.parent / "error.log", (port,)) as proxy:
        yield proxy


def companion_config(
    hashed: str, port: int, token: str = "", extensions: str = NO_FRONTENDS
) -> str:
    """The config the snippets' headers ask for: Jupyter on loopback under /jp/ behind the
    proxy at https://jupyter.example.com:PORT/jp/, a password (``hashed``), ``token`` ('':
    none)."""
    return f"""
c.ServerApp.ip = '127.0.0.1'
c.ServerApp.base_url = {BASE_URL!r}
c.ServerApp.local_hostnames = ['localhost', {PUBLIC_HOST!r}]
c.ServerApp.trust_xheaders = True
c.IdentityProvider.secure_cookie = True
c.IdentityProvider.token = {token!r}
c.PasswordIdentityProvider.hashed_password = {hashed!r}
c.Hardening.public_url = 'https://{PUBLIC_HOST}:{port}{BASE_URL}'
c.ServerApp.jpserver_extensions = {extensions}
"""


@dataclass
class ProxiedJupyter:
    """Jupyter set up for the proxy that will listen on ``port``, and a test CA for that proxy."""

    ca: TestCA
    home: JupyterHome
    server: ServerProcess
    password: str
    port: int
    token: str = ""

    @property
    def origin(self) -> str:
        """What the browser shows for the proxied site (and sends as Origin)."""
        return f"https://{PUBLIC_HOST}:{self.port}"

    def url(self, path: str = "") -> str:
        """The public URL of ``path`` under base_url."""
        return f"{self.origin}{BASE_URL}{path}"

    def client(self) -> JupyterClient:
        """A fresh, signed-out browser-like client."""
        return JupyterClient(self.origin, BASE_URL, self.ca)

    def sign_in(self) -> JupyterClient:
        """A browser-like client logged in with the password."""
        client = self.client()
        login = client.login(self.password)
        assert login.status_code == 302, login.text
        return client

    def snippet(self, proxy: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `jupyter hardening <proxy>-snippet` as the user would, in this Jupyter home."""
        return subprocess.run(
            [jupyter_bin("jupyter"), "hardening", f"{proxy}-snippet", *args],
            capture_output=True,
            text=True,
            env=self.home.env(),
            timeout=120,
            check=False,
        )

    def generated(self, proxy: str, *extra: str, check: bool = True) -> str:
        """The config the command prints for the live server on this port with the test CA;
        with ``check``, checked by the proxy itself (`--check`)."""
        result = self.snippet(
            proxy,
            f"--listen=127.0.0.1:{self.port}",
            f"--tls-cert={self.ca.cert}",
            f"--tls-key={self.ca.key}",
            *(["--check"] if check else []),
            *extra,
        )
        assert result.returncode == 0, result.stderr
        if check:
            assert ": ok" in result.stderr, result.stderr
        return result.stdout


@contextlib.contextmanager
def proxied_jupyter(
    root: Path,
    password: tuple[str, str],
    *,
    token: str = "",
    command: str = "jupyter-server",
    extensions: str = NO_FRONTENDS,
) -> Iterator[ProxiedJupyter]:
    """Start ``command`` in ``root`` with :func:`companion_config` on a port free for the
    proxy; stop it when the block ends."""
    home = JupyterHome(root / "jhome")
    port = free_port()
    secret, hashed = password
    home.write_config(companion_config(hashed, port, token, extensions))
    server = start(home, command=command)
    try:
        server.wait_ready(path=f"{BASE_URL}api/status", timeout=120)
        yield ProxiedJupyter(make_ca(root / "ca"), home, server, secret, port, token)
    finally:
        server.stop()


def assert_names_server_and_companions(text: str, jupyter: ProxiedJupyter) -> None:
    """A snippet's header names the live server and the settings it needs, all of which are
    in the server's config."""
    server = jupyter.server
    assert f"pid {server.proc.pid}, port {server.port}, base_url {BASE_URL}" in text
    config = (jupyter.home.config_dir / "jupyter_server_config.py").read_text()
    companions = [
        line.strip("# ").strip() for line in text.splitlines() if line.startswith("#   c.")
    ]
    assert len(companions) == 6
    for line in companions:
        assert line in config, f"companion setting missing from the test's config: {line}"


def assert_session(client: JupyterClient) -> Any:
    """A signed-in client's session: a new notebook (REST with XSRF and Origin), 6*7 over a
    kernel websocket, a terminal websocket; returns the notebook's creation response."""
    created = client.api("POST", "api/contents", json={"type": "notebook"})
    assert created.status_code == 201, created.text
    assert run_code(client, "6*7") == "42"
    assert "jh-42" in terminal_echo(client)
    return created


def assert_saves_100mb_notebook(client: JupyterClient, work_dir: Path) -> None:
    """A notebook save is one PUT of the whole file: 100 MB must pass the proxy and Jupyter."""
    source = "x = 1  # padding\n" * (100 * 1024 * 1024 // 17)
    cell = {"id": "big", "cell_type": "code", "metadata": {}, "source": source}
    notebook = {
        "cells": [{**cell, "outputs": [], "execution_count": None}],
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
    big = work_dir / "big.ipynb"
    assert big.stat().st_size > 100 * 1024 * 1024
    big.unlink()


SIGNIN = "https://auth.example.com/oauth2/start"


@dataclass
class AuthStub:
    """oauth2-proxy's contract: its check URL, and the request URIs it was asked about."""

    url: str
    seen: list[str] = field(default_factory=list)


@contextlib.contextmanager
def auth_stub(uri_header: str) -> Iterator[AuthStub]:
    """A stub auth server on loopback: 202 with the sign-in cookie, 401 without; it records
    the ``uri_header`` the proxy sends (nginx: X-Original-URI, Caddy: X-Forwarded-Uri)."""
    stub = AuthStub("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            stub.seen.append(self.headers.get(uri_header, ""))
            signed_in = "signed_in=yes" in self.headers.get("Cookie", "")
            self.send_response(202 if signed_in else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{httpd.server_address[1]}/auth"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        httpd.shutdown()
        httpd.server_close()


def assert_auth_gate(jupyter: ProxiedJupyter, stub: AuthStub) -> None:
    """Through a proxy gated by ``stub``: anonymous requests go to sign-in; signed-in ones
    reach Jupyter, websockets included."""
    anonymous = jupyter.client()
    denied = anonymous.session.get(anonymous.url("api/status"), allow_redirects=False, timeout=30)
    assert denied.status_code == 302
    assert denied.headers["Location"] == f"{SIGNIN}?rd={jupyter.url('api/status')}"
    client = jupyter.client()
    client.session.cookies.set("signed_in", "yes", domain=PUBLIC_HOST)
    assert client.login(jupyter.password).status_code == 302
    assert client.api("GET", "api/status").status_code == 200
    assert run_code(client, "6*7") == "42"
    assert f"{BASE_URL}api/status" in stub.seen
