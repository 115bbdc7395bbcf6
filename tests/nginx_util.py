"""Real nginx for tests: a throwaway prefix, `nginx -t`, a foreground server on loopback, a test CA,
and clients that reach ``jupyter.example.com`` on 127.0.0.1 with real TLS verification.

Used by the nginx tests and the headless-Chromium tests (Chromium maps the name with
``host_resolver_flag``; Python clients with ``resolve_to_loopback``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from .servers import port_open

PUBLIC_HOST = "jupyter.example.com"
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_conf(prefix: Path, http_body: str, *, main: str = "") -> Path:
    """Write ``prefix/nginx.conf``: a foreground nginx whose http{} holds ``http_body``.

    Everything nginx writes (pid, temp files) stays under ``prefix``; errors go to stderr.
    """
    prefix.mkdir(parents=True, exist_ok=True)
    temp = "\n".join(f"    {name}_temp_path {prefix / 'tmp' / name};" for name in TEMP_PATHS)
    (prefix / "tmp").mkdir(exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""daemon off;
master_process off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log stderr warn;
{main}
events {{
    worker_connections 256;
}}
http {{
    access_log off;
{temp}
{http_body}
}}
"""
    )
    return conf


def nginx_conf_including(prefix: Path, snippet: str, *, wrap_server: str | None = None) -> Path:
    """Write ``snippet`` to ``prefix/snippet.conf`` and a nginx.conf that includes it in http{}.

    With ``wrap_server`` (directives for a server block, e.g. listen/ssl lines), the snippet is
    included inside that server instead: this is how ``--location-only`` output is used.
    """
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "snippet.conf").write_text(snippet)
    include = f"include {prefix / 'snippet.conf'};"
    if wrap_server is None:
        return nginx_conf(prefix, "    " + include)
    return nginx_conf(prefix, f"    server {{\n{wrap_server}\n        {include}\n    }}")


def nginx_test(conf: Path, nginx: str = "nginx") -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on ``conf`` with its folder as prefix; returns the completed process."""
    return subprocess.run(
        [nginx, "-e", "stderr", "-p", str(conf.parent), "-c", str(conf), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def assert_nginx_ok(conf: Path, nginx: str = "nginx") -> None:
    """Fail with nginx's own messages unless ``nginx -t`` accepts ``conf``."""
    result = nginx_test(conf, nginx)
    assert result.returncode == 0, (
        f"nginx -t failed:\n{result.stderr}\n--- {conf}:\n{conf.read_text()}"
    )


def gixy_findings(conf: Path, gixy: str = "gixy") -> list[dict[str, object]]:
    """gixy's findings (JSON objects) for ``conf`` and the files it includes."""
    result = subprocess.run(
        [gixy, "--format", "json", str(conf)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode not in (0, 1):
        raise AssertionError(f"gixy failed ({result.returncode}):\n{result.stderr}")
    findings: list[dict[str, object]] = json.loads(result.stdout or "[]")
    return findings


@dataclass
class RunningProxy:
    """A foreground proxy process (nginx, Caddy, httpd) and the file its output goes to."""

    proc: subprocess.Popen[str]
    log_path: Path

    @property
    def log(self) -> str:
        """What the proxy wrote so far (errors, warnings)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


RunningNginx = RunningProxy


@contextlib.contextmanager
def foreground(
    argv: list[str],
    log_path: Path,
    ports: tuple[int, ...],
    *,
    stop: signal.Signals = signal.SIGTERM,
    wait: float = 20,
    **kwargs: Any,
) -> Iterator[RunningProxy]:
    """Run ``argv`` in the foreground, its output appended to ``log_path``, until the block
    ends; wait up to ``wait`` seconds for ``ports``. Stopped with ``stop``, then until the
    ports are free again (so the next test can bind them)."""
    with log_path.open("a") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            **kwargs,
        )
    running = RunningProxy(proc, log_path)
    try:
        deadline = time.monotonic() + wait
        while not all(port_open(p) for p in ports):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{argv[0]} did not start ({proc.poll()}):\n{running.log}")
            time.sleep(0.05)
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(stop)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        deadline = time.monotonic() + 10
        while any(port_open(p) for p in ports) and time.monotonic() < deadline:
            time.sleep(0.05)


@contextlib.contextmanager
def running_nginx(conf: Path, *ports: int, nginx: str = "nginx") -> Iterator[RunningProxy]:
    """Run nginx in the foreground on ``conf`` until the block ends; wait for ``ports``."""
    assert_nginx_ok(conf, nginx)
    log_path = conf.parent / "nginx.log"
    log_path.write_text("")
    argv = [nginx, "-e", "stderr", "-p", str(conf.parent), "-c", str(conf)]
    with foreground(argv, log_path, ports, stop=signal.SIGQUIT, wait=15) as running:
        yield running


@dataclass(frozen=True)
class TestCA:
    """A test certificate authority and a server certificate it signed."""

    __test__ = False  # not a pytest test class

    ca_cert: Path
    cert: Path
    key: Path


def make_ca(folder: Path, hostnames: tuple[str, ...] = (PUBLIC_HOST,)) -> TestCA:
    """Create a CA and a server certificate for ``hostnames`` (SAN) in ``folder``, valid from
    five minutes ago for two days; fullchain.pem holds the certificate then the CA, as certbot's."""
    from .certs import CA_NAME, make_cert, new_key, write_cert, write_key

    folder.mkdir(parents=True, exist_ok=True)
    recent = 5 / (24 * 60)
    ca_key, key = new_key(), new_key()
    ca = make_cert(ca_key, CA_NAME, days=2, not_before_days=recent, ca=True)
    cert = make_cert(
        key,
        hostnames[0],
        issuer_key=ca_key,
        issuer_cn=CA_NAME,
        days=2,
        not_before_days=recent,
        san=hostnames,
        server=True,
    )
    paths = TestCA(folder / "ca.pem", folder / "fullchain.pem", folder / "privkey.pem")
    write_cert(paths.ca_cert, ca)
    write_cert(paths.cert, cert, ca)
    write_key(paths.key, key)
    return paths


@contextlib.contextmanager
def resolve_to_loopback(*names: str) -> Iterator[None]:
    """Make this process resolve ``names`` (default jupyter.example.com) to 127.0.0.1.

    Clients (requests, websocket-client) then use the real URL, so SNI, certificate checks,
    the Host header and cookie domains are exactly what a browser would use.
    """
    names = names or (PUBLIC_HOST,)
    real = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if (
            isinstance(host, (str, bytes))
            and (host.decode() if isinstance(host, bytes) else host).lower() in names
        ):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    with mock.patch("socket.getaddrinfo", getaddrinfo):
        yield


# The seed tutorials' proxy (seeds 000 and 002) on a TLS port other than 443; tests break or
# repair its {map}, {websocket}, {host}, {proto} and {proxy_pass} lines (see seed_server).
SEED = """
{map}
server {{
    listen 127.0.0.1:{port} ssl;
    server_name {server_name};
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location {base_url} {{
        proxy_pass {proxy_pass};
        proxy_http_version 1.1;
{websocket}
        {host}
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        {proto}
        client_max_body_size 10M;
    }}
}}
"""
WEBSOCKET = """        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;"""
CONNECTION_MAP = """map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}"""


def seed_server(port: int, ca: TestCA, upstream: int, **changes: str) -> str:
    """The seeds' server block on ``port`` in front of Jupyter on ``upstream`` under /jp/, as
    written (`proxy_set_header Host $host;`), with ``changes`` to its lines."""
    values = {
        "port": str(port),
        "server_name": PUBLIC_HOST,
        "cert": str(ca.cert),
        "key": str(ca.key),
        "base_url": "/jp/",
        "proxy_pass": f"http://127.0.0.1:{upstream}",
        "websocket": WEBSOCKET,
        "map": CONNECTION_MAP,
        "host": "proxy_set_header Host $host;",
        "proto": "proxy_set_header X-Forwarded-Proto $scheme;",
        **changes,
    }
    return SEED.format(**values)


def host_resolver_flag(name: str = PUBLIC_HOST) -> str:
    """The Chromium flag that sends ``name`` to 127.0.0.1 (for headless-browser tests)."""
    return f"--host-resolver-rules=MAP {name} 127.0.0.1"


def nginx_path() -> str | None:
    """The nginx binary (Debian installs it in /usr/sbin, which may not be on PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


class JupyterClient:
    """A browser-like client of Jupyter behind the proxy: password login cookie, _xsrf, Origin.

    Deliberately no token: token-authenticated requests skip Jupyter's origin check and would
    hide a proxy that breaks it. Use inside ``resolve_to_loopback()``.
    """

    def __init__(self, origin: str, base_url: str, ca: TestCA | None) -> None:
        import requests

        self.origin = origin.rstrip("/")
        self.base_url = base_url
        self.ca = ca  # None: a plain http server on loopback
        self.session = requests.Session()
        # REQUESTS_CA_BUNDLE and proxy variables would override the test CA and loopback.
        self.session.trust_env = False
        if ca is not None:
            self.session.verify = str(ca.ca_cert)

    def url(self, path: str = "") -> str:
        """The public https URL of ``path`` under base_url."""
        return self.origin + self.base_url + path.lstrip("/")

    @property
    def xsrf(self) -> str:
        """The _xsrf cookie Jupyter set (empty before the first page)."""
        return str(self.session.cookies.get("_xsrf", ""))

    def headers(self, **extra: str) -> dict[str, str]:
        """What a browser page sends with a same-origin API call."""
        return {"Origin": self.origin, "X-XSRFToken": self.xsrf, **extra}

    def login(self, password: str) -> Any:
        """GET the login page (for _xsrf), then POST the password form; return the response."""
        self.session.get(self.url("login"), timeout=30).raise_for_status()
        return self.session.post(
            self.url("login"),
            data={"password": password, "_xsrf": self.xsrf},
            headers={"Origin": self.origin},
            allow_redirects=False,
            timeout=30,
        )

    def script_login(self, password: str) -> Any:
        """The login form posted as a script posts it (no Origin header, which the origin
        check lets through); return the response."""
        self.session.get(self.url("login"), timeout=30)
        form = {"password": password, "_xsrf": self.xsrf}
        return self.session.post(self.url("login"), data=form, allow_redirects=False, timeout=30)

    def script_terminal(self) -> str:
        """A new terminal's name, asked for with the XSRF header but no Origin (a script)."""
        headers = {"X-XSRFToken": self.xsrf}
        term = self.session.post(self.url("api/terminals"), headers=headers, timeout=30)
        assert term.status_code == 200, term.text
        return str(term.json()["name"])

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """A same-origin call to ``path`` (e.g. 'api/contents') with cookie, XSRF and Origin."""
        headers = self.headers(**kwargs.pop("headers", {}))
        return self.session.request(
            method, self.url(path), headers=headers, timeout=kwargs.pop("timeout", 60), **kwargs
        )

    def websocket(self, path: str, origin: str | None = None) -> Any:
        """Open a websocket to ``path`` the way a page of this origin (or ``origin``) does."""
        import websocket

        scheme = "ws" if self.ca is None else "wss"
        ws_url = f"{scheme}://" + self.url(path).split("://", 1)[1]
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        sslopt = {} if self.ca is None else {"ca_certs": str(self.ca.ca_cert)}
        return websocket.create_connection(
            ws_url, origin=origin or self.origin, cookie=cookie, sslopt=sslopt, timeout=30
        )


def run_code(
    client: JupyterClient, code: str, timeout: float = 60, ws_origin: str | None = None
) -> str:
    """Start a kernel, run ``code`` over its websocket, return the text/plain result.

    ``ws_origin``: open the websocket as a page of another origin would (an attacker's).
    """
    kernel = client.api("POST", "api/kernels", json={})
    assert kernel.status_code == 201, f"{kernel.status_code} {kernel.text}"
    kernel_id = kernel.json()["id"]
    ws = client.websocket(f"api/kernels/{kernel_id}/channels", origin=ws_origin)
    try:
        return execute(ws, code, timeout)
    finally:
        ws.close()
        client.api("DELETE", f"api/kernels/{kernel_id}")


def execute(ws: Any, code: str, timeout: float = 60) -> str:
    """Run ``code`` over an open kernel websocket ``ws``; return the text/plain result."""
    import uuid

    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "channel": "shell",
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "version": "5.3",
                    "date": dt.datetime.now(dt.timezone.utc).isoformat(),
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False, "store_history": False},
                "buffers": [],
            }
        )
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            return str(msg["content"]["data"]["text/plain"])
        if msg["msg_type"] == "error":
            raise AssertionError(f"kernel error: {msg['content']}")
    raise AssertionError(f"no result for {code!r} within {timeout}s")


def terminal_echo(client: JupyterClient, a: int = 6, b: int = 7, timeout: float = 30) -> str:
    """Run ``echo jh-$((a*b))`` in a new terminal; return its output up to ``jh-<a*b>``."""
    term = client.api("POST", "api/terminals")
    assert term.status_code == 200, f"{term.status_code} {term.text}"
    name = term.json()["name"]
    ws = client.websocket(f"terminals/websocket/{name}")
    seen = ""
    try:
        # The shell echoes the typed line (jh-$((6*7))); only the command's output holds jh-42.
        ws.send(json.dumps(["stdin", f"echo jh-$(({a}*{b}))\r"]))
        deadline = time.monotonic() + timeout
        while f"jh-{a * b}" not in seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"terminal never printed jh-{a * b}: {seen!r}")
            kind, *data = json.loads(ws.recv())
            if kind == "stdout":
                seen += "".join(data)
        return seen
    finally:
        ws.close()
        client.api("DELETE", f"api/terminals/{name}")
