"""Every shape of `jupyter hardening nginx-snippet` output passes `nginx -t` and gixy, and a real
nginx running it sends Jupyter the headers and paths Jupyter's own checks need."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .fixtures import require_tool
from .nginx_util import (
    PUBLIC_HOST,
    TestCA,
    gixy_findings,
    make_ca,
    nginx_conf,
    nginx_conf_including,
    nginx_test,
    resolve_to_loopback,
    running_nginx,
)
from .servers import JupyterHome, free_port, port_open, start

pytestmark = pytest.mark.nginx


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    """A CA and a jupyter.example.com certificate."""
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An empty Jupyter home, so the user's own config (public_url) cannot change results."""
    return JupyterHome(tmp_path_factory.mktemp("jhome")).env()


@pytest.fixture(scope="module")
def tools() -> None:
    """nginx and gixy must be installed (fail in CI, skip elsewhere)."""
    require_tool("nginx", "nginx")
    require_tool("gixy", "gixy (pip install gixy-next)")


def snippet(env: dict[str, str], *args: str) -> str:
    """The CLI's output for ``args`` (it must succeed)."""
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_hardening.cli", "nginx-snippet", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def public_server(ca: TestCA, port: int) -> list[str]:
    """Options for jupyter.example.com on loopback ``port`` with the test CA's certificate."""
    return [
        f"--server-name={PUBLIC_HOST}",
        f"--listen=127.0.0.1:{port}",
        f"--tls-cert={ca.cert}",
        f"--tls-key={ca.key}",
    ]


def _letsencrypt(tmp: Path, ca: TestCA) -> list[str]:
    live = tmp / "letsencrypt" / "live"
    (live / PUBLIC_HOST).mkdir(parents=True)
    (live / PUBLIC_HOST / "fullchain.pem").write_bytes(ca.cert.read_bytes())
    (live / PUBLIC_HOST / "privkey.pem").write_bytes(ca.key.read_bytes())
    return [f"--letsencrypt-live={live}", f"--letsencrypt={PUBLIC_HOST}"]


MATRIX = {
    "443": ["--listen=443"],
    "8443": ["--listen=8443"],
    "8443-jp": ["--listen=8443", "--base-url=/jp/"],
    "443-redirect": ["--listen=443", "--http-redirect"],
    "8443-redirect-addr": ["--listen=127.0.0.1:8443", "--http-redirect", "--http-port=8080"],
    "auth-request": [
        "--listen=8443",
        "--base-url=/jp/",
        "--auth-request=http://127.0.0.1:4180/oauth2/auth",
        "--auth-signin=https://auth.example.com/oauth2/start",
    ],
    "auth-request-vouch": [
        "--auth-request=http://127.0.0.1:9090/validate",
        "--auth-signin=https://vouch.example.com/login?url=",
    ],
    "unix-socket": ["--upstream=unix:/run/jupyter/jupyter.sock", "--base-url=/jp/"],
    "letsencrypt": ["--listen=8443", "LETSENCRYPT"],
    "body-size-1g": ["--max-body-size=1g"],
    "https-upstream-system-ca": ["--upstream=https://localhost:8888"],
    "https-upstream-own-ca": ["--upstream=https://localhost:8888", "UPSTREAM_CA"],
}


@pytest.mark.parametrize("case", MATRIX, ids=list(MATRIX))
def test_full_server_passes_nginx_and_gixy(
    case: str, ca: TestCA, tools: None, tmp_path: Path, env: dict[str, str]
) -> None:
    """Each option combination: `nginx -t` accepts it, gixy finds nothing."""
    args = [a for a in MATRIX[case] if a not in ("LETSENCRYPT", "UPSTREAM_CA")]
    if "UPSTREAM_CA" in MATRIX[case]:
        args.append(f"--upstream-ca={ca.ca_cert}")
    if "LETSENCRYPT" in MATRIX[case]:
        args += _letsencrypt(tmp_path, ca)
    else:
        args += [f"--tls-cert={ca.cert}", f"--tls-key={ca.key}"]
    if not any(a.startswith("--upstream") for a in args):
        args.append("--upstream=127.0.0.1:8888")
    text = snippet(env, f"--server-name={PUBLIC_HOST}", *args)
    conf = nginx_conf_including(tmp_path / "nginx", text)
    result = nginx_test(conf)
    assert result.returncode == 0, result.stderr + text
    assert "[warn]" not in result.stderr, result.stderr
    assert gixy_findings(conf) == [], text


@pytest.mark.parametrize("base_url", ["/", "/jp/"])
@pytest.mark.parametrize("auth", [False, True], ids=["open", "auth-request"])
def test_location_only_inside_a_server(
    base_url: str, auth: bool, ca: TestCA, tools: None, tmp_path: Path, env: dict[str, str]
) -> None:
    """--location-only output, pasted into a typical TLS server, passes nginx -t and gixy."""
    args = [f"--server-name={PUBLIC_HOST}", "--location-only", "--upstream=127.0.0.1:8888"]
    args.append(f"--base-url={base_url}")
    if auth:
        args += [
            "--auth-request=http://127.0.0.1:4180/auth",
            "--auth-signin=https://a.example.com/",
        ]
    text = snippet(env, *args)
    directives = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert "server {" not in directives and "map " not in directives
    assert "add_header" not in directives  # it would drop the server's own add_header lines
    server = f"""
        listen 127.0.0.1:8443 ssl;
        server_name {PUBLIC_HOST};
        server_tokens off;
        ssl_certificate {ca.cert};
        ssl_certificate_key {ca.key};
        add_header Strict-Transport-Security max-age=63072000 always;"""
    conf = nginx_conf_including(tmp_path / "nginx", text, wrap_server=server)
    result = nginx_test(conf)
    assert result.returncode == 0, result.stderr + text
    assert gixy_findings(conf) == [], text


# Seed 003's proxy (a Chinese tutorial): $http_host and proxy_buffering off.
SEED_003 = """
server {
    listen 127.0.0.1:8080;
    server_name jupyter.example.com;
    server_tokens off;
    location / {
        proxy_pass http://127.0.0.1:8888;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header Host $http_host;
        proxy_http_version 1.1;
        proxy_redirect off;
        proxy_buffering off;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_read_timeout 86400;
    }
}
"""


def test_gixy_can_fail_on_a_seed(tools: None, tmp_path: Path) -> None:
    """gixy flags a seed tutorial's proxy, so a clean result above means something."""
    conf = nginx_conf(tmp_path / "nginx", SEED_003)
    plugins = {f["plugin"] for f in gixy_findings(conf)}
    assert {"host_spoofing", "proxy_buffering_off"} <= plugins


class _Echo(http.server.BaseHTTPRequestHandler):
    """Stands in for Jupyter: answers with the path and headers it received."""

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "headers": dict(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def echo_upstream() -> Iterator[int]:
    """An HTTP server that echoes requests; yields its port."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_what_jupyter_receives(
    ca: TestCA, tools: None, tmp_path: Path, echo_upstream: int, env: dict[str, str]
) -> None:
    """Host keeps the public port, forwarded scheme is https, paths pass byte for byte, and the
    Connection header is 'upgrade' only for upgrade requests (the map's empty key works)."""
    port = free_port()
    text = snippet(
        env,
        *public_server(ca, port),
        f"--upstream=http://127.0.0.1:{echo_upstream}",
        "--base-url=/jp/",
    )
    conf = nginx_conf_including(tmp_path / "nginx", text)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca.ca_cert)
    origin = f"https://{PUBLIC_HOST}:{port}"
    with running_nginx(conf, port), resolve_to_loopback():
        path = "/jp/files/a%20b/..%2Fc.txt?x=1&y=%2F"
        plain = session.get(origin + path, headers={"X-Scheme": "http"}, timeout=30).json()
        upgrade = session.get(
            origin + "/jp/api/events/subscribe",
            headers={"Upgrade": "websocket", "Connection": "Upgrade"},
            timeout=30,
        ).json()
        root = session.get(origin + "/", allow_redirects=False, timeout=30)
    headers = {k.lower(): v for k, v in plain["headers"].items()}
    assert plain["path"] == path
    assert headers["host"] == f"{PUBLIC_HOST}:{port}"
    assert headers["x-forwarded-proto"] == "https"
    assert headers["x-scheme"] == "https"  # the client's own X-Scheme is replaced
    assert headers["x-real-ip"] == "127.0.0.1"
    assert headers["connection"] == "close"
    assert "upgrade" not in headers
    upgraded = {k.lower(): v for k, v in upgrade["headers"].items()}
    assert upgraded["connection"] == "upgrade"
    assert upgraded["upgrade"] == "websocket"
    assert root.status_code == 302
    assert root.headers["Location"] == f"{origin}/jp/"


# Every character c.ServerApp.base_url may hold besides letters and digits (rules/urls.py);
# ( ) * + are refused there, as regex operators in jupyter_server's routes.
ODD_BASE_URL = "/a.b~c!d&e,j=k:l@m-n_o/"


def test_base_url_with_odd_characters_reaches_jupyter(
    ca: TestCA, tools: None, tmp_path: Path, echo_upstream: int, env: dict[str, str]
) -> None:
    """A base_url the command accepts is matched by nginx's location and passed unchanged."""
    port = free_port()
    text = snippet(
        env,
        *public_server(ca, port),
        f"--upstream=http://127.0.0.1:{echo_upstream}",
        f"--base-url={ODD_BASE_URL}",
    )
    conf = nginx_conf_including(tmp_path / "nginx", text)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca.ca_cert)
    with running_nginx(conf, port), resolve_to_loopback():
        reply = session.get(f"https://{PUBLIC_HOST}:{port}{ODD_BASE_URL}lab", timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json()["path"] == f"{ODD_BASE_URL}lab"


def test_https_upstream_certificate_is_verified(
    ca: TestCA, tools: None, tmp_path: Path, env: dict[str, str]
) -> None:
    """A Jupyter with its own TLS on "another host" (localhost, by name): nginx reaches it with
    the CA given by --upstream-ca, and refuses it (502) when that CA did not sign its certificate.
    """
    backend = make_ca(tmp_path / "backend", hostnames=("localhost",))
    stranger = make_ca(tmp_path / "stranger", hostnames=("localhost",))
    home = JupyterHome(tmp_path / "jhome")
    home.write_config(f"c.ServerApp.local_hostnames = ['localhost', {PUBLIC_HOST!r}]\n")
    jupyter_port = free_port()
    server = start(
        home,
        f"--ServerApp.certfile={backend.cert}",
        f"--ServerApp.keyfile={backend.key}",
        port=jupyter_port,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_open(jupyter_port):
            assert server.proc.poll() is None and time.monotonic() < deadline, server.log
            time.sleep(0.1)
        for trusted, status in ((backend, 200), (stranger, 502)):
            port = free_port()
            text = snippet(
                env,
                *public_server(ca, port),
                f"--upstream=https://localhost:{jupyter_port}",
                f"--upstream-ca={trusted.ca_cert}",
            )
            assert "proxy_ssl_verify on;" in text
            conf = nginx_conf_including(tmp_path / f"nginx-{status}", text)
            session = requests.Session()
            session.trust_env = False
            session.verify = str(ca.ca_cert)
            with running_nginx(conf, port) as nginx, resolve_to_loopback():
                reply = session.get(f"https://{PUBLIC_HOST}:{port}/login", timeout=30)
                log = nginx.log
            assert reply.status_code == status, (reply.status_code, reply.text[:300], log)
            if status == 200:
                assert "<title>Jupyter Server</title>" in reply.text
            else:
                assert "certificate verify failed" in log or "upstream SSL certificate" in log, log
    finally:
        server.stop()
