"""Live proxy diagnosis (JH710-JH715), end to end: headless Chromium, a real nginx with TLS on a
non-default port, and a real `jupyter lab` with a password and public_url behind it.

Through the seeds' nginx (`proxy_set_header Host $host;` on port P) the browser's login is
refused as users reported it, and /hardening then names `proxy_set_header Host $host:P;`; with
that line and nginx reloaded, the same browser logs in and runs 6*7. The same for websockets,
a base_url lost in proxy_pass, and X-Forwarded-Proto. The config nginx-snippet writes moves no
counter. One Jupyter for the module; nginx is started per test (it takes a few milliseconds).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import websocket

from .browser_util import (
    ca_trusting_home,
    chromium_page,
    open_login,
    run_in_new_notebook,
    screenshot,
    submit_password,
)
from .fixtures import require_tool
from .nginx_util import (
    PUBLIC_HOST,
    JupyterClient,
    RunningNginx,
    foreground,
    nginx_conf,
    nginx_conf_including,
    resolve_to_loopback,
    run_code,
    running_nginx,
    seed_server,
    terminal_echo,
)
from .proxy_util import BASE_URL, ProxiedJupyter, assert_session, proxied_jupyter
from .servers import JupyterHome, ServerProcess, free_port, start

pytestmark = [pytest.mark.nginx, pytest.mark.browser, pytest.mark.timeout(300)]

FAULT = re.compile(
    r'^jupyter_hardening_proxy_fault_requests_total\{id="(JH7\d\d)".*\} (\S+)$', re.M
)


class Stack(ProxiedJupyter):
    """Jupyter behind the port nginx will use, and how to read its live report directly."""

    def direct(self, path: str) -> requests.Response:
        """GET ``path`` from Jupyter itself (loopback, token): what the proxy cannot change."""
        response = requests.get(
            f"http://127.0.0.1:{self.server.port}{BASE_URL}{path}",
            headers={"Authorization": f"token {self.token}", "Accept": "application/json"},
            timeout=30,
        )
        response.raise_for_status()
        return response

    def findings(self) -> dict[str, dict[str, Any]]:
        """The live JH71x findings of /hardening, by id."""
        report = self.direct("hardening?format=json").json()
        return {f["id"]: f for f in report["findings"] if f["id"].startswith("JH71")}

    def counts(self) -> dict[str, float]:
        """The proxy-fault counters of /metrics, by id."""
        return {k: float(v) for k, v in FAULT.findall(self.direct("metrics").text)}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, password: tuple[str, str]) -> Iterator[Stack]:
    """`jupyter lab` with a password and public_url, set up as nginx-snippet asks."""
    require_tool("nginx", "nginx (Debian nginx-light)")
    with proxied_jupyter(
        tmp_path_factory.mktemp("diagnosis"),
        password,
        token=secrets.token_hex(24),
        command="jupyter-lab",
        extensions="{'jupyter_lsp': False}",
    ) as jupyter:
        yield Stack(**vars(jupyter))


def seed_conf(stack: Stack, folder: Path, **changes: str) -> Path:
    """nginx.conf with the seed's server block, with ``changes`` to its lines.

    With a master process, as nginx runs in production: `master_process off` (the tests'
    default) does not reload cleanly (it runs out of worker_connections after SIGHUP).
    """
    server = seed_server(stack.port, stack.ca, stack.server.port, **changes)
    conf = nginx_conf(folder, server, main="user root;" if os.getuid() == 0 else "")
    conf.write_text(conf.read_text().replace("master_process off;", "master_process on;"))
    return conf


def reload(nginx: RunningNginx, conf: Path, stack: Stack, **changes: str) -> None:
    """Rewrite ``conf`` with ``changes`` and reload nginx (SIGHUP), as `nginx -s reload` does."""
    seed_conf(stack, conf.parent, **changes)
    nginx.proc.send_signal(signal.SIGHUP)
    time.sleep(1.5)  # new workers start, old ones finish their requests
    assert nginx.proc.poll() is None, nginx.log


def wait_for(stack: Stack, rule_id: str, timeout: float = 5) -> dict[str, Any]:
    """The live finding ``rule_id`` once /hardening shows it (within a second, normally)."""
    deadline = time.monotonic() + timeout
    while True:
        found = stack.findings()
        if rule_id in found or time.monotonic() > deadline:
            assert rule_id in found, f"/hardening never showed {rule_id}: {found}"
            return found[rule_id]
        time.sleep(0.1)


def test_generated_config_moves_no_counter(stack: Stack, tmp_path: Path) -> None:
    """A whole session through nginx-snippet's config: no live finding, no counter moves."""
    before = stack.counts()
    conf = nginx_conf_including(tmp_path / "nginx", stack.generated("nginx", check=False))
    with running_nginx(conf, stack.port), resolve_to_loopback():
        assert_session(stack.sign_in())
    assert stack.counts() == before
    assert not set(stack.findings()) - set(before)


@pytest.fixture(scope="module")
def chromium_home(tmp_path_factory: pytest.TempPathFactory, stack: Stack) -> Path:
    """A $HOME whose NSS database trusts the test CA."""
    return ca_trusting_home(tmp_path_factory.mktemp("chromium-home"), stack.ca.ca_cert)


@pytest.fixture
def page(chromium_home: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh headless Chromium window."""
    with chromium_page(chromium_home, f"diagnosis-last-{request.node.name}") as page:
        yield page


def log_in(page: Any, stack: Stack) -> Any:
    """Open /jp/lab, type the password on the login page, submit; return the response."""
    open_login(page, stack.url("lab"))
    return submit_password(page, stack.password)


def run_six_times_seven(page: Any) -> None:
    """In JupyterLab: a new notebook, 6*7, Shift+Enter, and 42 in the output."""
    page.wait_for_selector(".jp-Launcher", state="visible")
    run_in_new_notebook(page, "6*7", "42")


def test_host_without_port_is_named_then_fixed(stack: Stack, page: Any, tmp_path: Path) -> None:
    """The seed's `Host $host`: login refused, /hardening names the line; with it, 6*7 = 42."""
    mark = len(stack.server.log)
    conf = seed_conf(stack, tmp_path / "nginx")
    with running_nginx(conf, stack.port) as nginx:
        response = log_in(page, stack)
        screenshot(page, "diagnosis-01-seed-login-refused")
        assert response.status == 404
        log = stack.server.log[mark:]
        assert "Blocking Cross Origin API request for /jp/login" in log

        finding = wait_for(stack, "JH710")
        assert finding["fix"].startswith(f"proxy_set_header Host $host:{stack.port};")
        assert f"the browser is at {stack.origin}" in finding["message"]
        assert "POST /jp/login answered 404" in finding["message"]
        # Logged once per kind, not per request; the password never appears.
        log = stack.server.log[mark:]
        assert log.count("JH710 proxy-host-port") == 1
        assert stack.password not in log and stack.token not in str(stack.findings())

        reload(nginx, conf, stack, host=f"proxy_set_header Host $host:{stack.port};")
        count = stack.counts()["JH710"]
        assert log_in(page, stack).status == 200
        run_six_times_seven(page)
        screenshot(page, "diagnosis-02-fixed-6x7-is-42")
        assert stack.counts()["JH710"] == count

        page.goto(stack.url("hardening"))
        assert f"proxy_set_header Host $host:{stack.port};" in page.inner_text("main")
        screenshot(page, "diagnosis-03-hardening-names-the-line")


def test_websocket_without_upgrade_is_named_then_fixed(stack: Stack, tmp_path: Path) -> None:
    """No Upgrade/Connection lines: the kernel's websocket fails and JH711 gives the lines."""
    fixed_host = f"proxy_set_header Host $host:{stack.port};"
    conf = seed_conf(stack, tmp_path / "nginx", host=fixed_host, websocket="")
    with running_nginx(conf, stack.port) as nginx, resolve_to_loopback():
        client = stack.client()
        assert client.login(stack.password).status_code == 302
        with pytest.raises(websocket.WebSocketBadStatusException):
            run_code(client, "6*7")
        finding = wait_for(stack, "JH711")
        assert "proxy_set_header Upgrade $http_upgrade;" in finding["fix"]
        assert "proxy_set_header Connection $connection_upgrade;" in finding["fix"]
        assert "/jp/api/kernels/<id>/channels" in finding["message"]

        reload(nginx, conf, stack, host=fixed_host)
        count = stack.counts()["JH711"]
        assert run_code(client, "6*7") == "42"
        assert "jh-42" in terminal_echo(client)
        assert stack.counts()["JH711"] == count


def watch_websockets(page: Any) -> list[str]:
    """From now on, what the page's websockets report: 'open URL', and each socket error and
    console error Chromium shows for them (a failed handshake's status is only there)."""
    seen: list[str] = []

    def opened(ws: Any) -> None:
        seen.append(f"open {urlsplit(ws.url).path}")
        ws.on("socketerror", lambda error: seen.append(f"socketerror {error}"))

    page.on("websocket", opened)
    page.on(
        "console",
        lambda msg: seen.append(f"console {msg.text}") if "WebSocket" in msg.text else None,
    )
    return seen


def test_browser_kernel_without_websocket_headers_is_named_then_fixed(
    stack: Stack, page: Any, tmp_path: Path
) -> None:
    """A config without `proxy_set_header Upgrade/Connection` (nor their map): Chromium logs in
    and opens a notebook, but its kernel websocket's handshake fails; /hardening names JH711
    with the lines to add; with those exact lines applied and nginx reloaded, the same browser
    runs 6*7 and sees 42."""
    fixed_host = f"proxy_set_header Host $host:{stack.port};"
    conf = seed_conf(stack, tmp_path / "nginx", host=fixed_host, websocket="", map="")
    before = stack.counts().get("JH711", 0)
    host_before = stack.counts().get("JH710", 0)
    with running_nginx(conf, stack.port) as nginx:
        sockets = watch_websockets(page)
        assert log_in(page, stack).status == 200
        # A launcher, not the workspace an earlier test left (JupyterLab keeps it server-side).
        page.goto(stack.url("lab?reset"))
        page.wait_for_selector(".jp-Launcher", state="visible")
        page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
        kernel = re.compile(r"api/kernels/[0-9a-f-]+/channels")
        deadline = time.monotonic() + 60
        while not any(kernel.search(s) and "400" in s for s in sockets):
            assert time.monotonic() < deadline, f"no failed kernel websocket: {sockets}"
            page.wait_for_timeout(200)
        status_bar = page.locator(".jp-StatusBar-Widget").inner_text()
        screenshot(page, "diagnosis-04-kernel-websocket-fails")
        # What the browser sees: the handshake answered 400, the kernel never connects.
        assert "Unexpected response code: 400" in " ".join(sockets), sockets
        assert "Python 3 (ipykernel) | Connecting" in status_bar, status_bar

        finding = wait_for(stack, "JH711")
        assert stack.counts()["JH711"] > before
        assert stack.counts().get("JH710", 0) == host_before  # Host is right: only websockets
        location_lines, _, http_lines = finding["fix"].partition(" with, in http {}: ")
        added = re.findall(r"\S[^;]*;", location_lines)
        assert added == [
            "proxy_set_header Upgrade $http_upgrade;",
            "proxy_set_header Connection $connection_upgrade;",
        ], finding["fix"]
        assert http_lines == "map $http_upgrade $connection_upgrade { default upgrade; '' close; }"

        websocket_lines = "\n".join(f"        {line}" for line in added)
        reload(nginx, conf, stack, host=fixed_host, websocket=websocket_lines, map=http_lines)
        count = stack.counts()["JH711"]
        # The same browser, its login cookie kept.
        page.goto(stack.url("lab?reset"))
        run_six_times_seven(page)
        screenshot(page, "diagnosis-05-websocket-fixed-6x7-is-42")
        assert stack.counts()["JH711"] == count


def test_proxy_pass_with_uri_part_is_named_then_fixed(stack: Stack, tmp_path: Path) -> None:
    """`proxy_pass http://127.0.0.1:PORT/;` strips /jp/: 404s, and JH714 gives the line."""
    fixed_host = f"proxy_set_header Host $host:{stack.port};"
    upstream = f"http://127.0.0.1:{stack.server.port}"
    conf = seed_conf(stack, tmp_path / "nginx", host=fixed_host, proxy_pass=upstream + "/")
    with running_nginx(conf, stack.port) as nginx, resolve_to_loopback():
        client = stack.client()
        assert client.session.get(client.url("login"), timeout=30).status_code == 404
        finding = wait_for(stack, "JH714")
        assert finding["fix"].startswith(f"proxy_pass {upstream}; (no path after the port)")

        reload(nginx, conf, stack, host=fixed_host, proxy_pass=upstream)
        count = stack.counts()["JH714"]
        assert client.login(stack.password).status_code == 302
        assert stack.counts()["JH714"] == count


def test_missing_forwarded_proto_is_named(stack: Stack, tmp_path: Path) -> None:
    """No X-Forwarded-Proto: Jupyter sees http behind an https public_url (JH712)."""
    fixed_host = f"proxy_set_header Host $host:{stack.port};"
    conf = seed_conf(stack, tmp_path / "nginx", host=fixed_host, proto="")
    with running_nginx(conf, stack.port), resolve_to_loopback():
        client = stack.client()
        assert client.login(stack.password).status_code == 302
        finding = wait_for(stack, "JH712")
        assert finding["fix"] == "proxy_set_header X-Forwarded-Proto $scheme;"


def test_unknown_host_is_named_as_the_setting(stack: Stack) -> None:
    """A Host not in local_hostnames: 403, and JH713 names the exact local_hostnames line."""
    response = requests.get(
        f"http://127.0.0.1:{stack.server.port}{BASE_URL}api/status",
        headers={"Host": "notebooks.example.org", "X-Forwarded-For": "192.0.2.7"},
        timeout=30,
    )
    assert response.status_code == 403
    finding = wait_for(stack, "JH713")
    assert finding["fix"] == (
        f"c.ServerApp.local_hostnames = ['localhost', '{PUBLIC_HOST}', 'notebooks.example.org']"
    )
    # Not the public_url's host: maybe a DNS-rebinding attempt, so only information.
    assert finding["severity"] == "info"
    assert "DNS-rebinding" in finding["message"]


@dataclass
class Plain:
    """A plain `jupyter server` on /jp/ with a password and trust_xheaders off."""

    server: ServerProcess
    token: str
    password: str

    def get(self, path: str) -> requests.Response:
        """GET ``path`` under /jp/ with the token."""
        response = requests.get(
            self.server.url(f"{BASE_URL}{path}"),
            headers={"Authorization": f"token {self.token}", "Accept": "application/json"},
            timeout=30,
        )
        response.raise_for_status()
        return response

    def report(self) -> dict[str, dict[str, Any]]:
        """/hardening's findings by id."""
        return {f["id"]: f for f in self.get("hardening").json()["findings"]}


@contextlib.contextmanager
def plain_server(folder: Path, password: tuple[str, str], extra: str = "") -> Iterator[Plain]:
    """A plain `jupyter server` on /jp/ with a password, ``extra`` config lines after."""
    home = JupyterHome(folder / "jhome")
    token = secrets.token_hex(24)
    home.write_config(
        f"c.IdentityProvider.token = {token!r}\n"
        f"c.PasswordIdentityProvider.hashed_password = {password[1]!r}\n"
        f"c.ServerApp.base_url = {BASE_URL!r}\n"
        "c.ServerApp.jpserver_extensions = {'jupyterlab': False, 'notebook': False, "
        "'jupyter_lsp': False}\n" + extra
    )
    server = start(home)
    try:
        server.wait_ready(path=f"{BASE_URL}api/status")
        yield Plain(server, token, password[0])
    finally:
        server.stop()


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, password: tuple[str, str]) -> Iterator[Plain]:
    """The server for the Apache and trust_xheaders cases."""
    with plain_server(tmp_path_factory.mktemp("plain"), password) as server:
        yield server


def test_client_address_with_trust_xheaders_off(plain: Plain) -> None:
    """Forwarded requests to a server with trust_xheaders off: JH715 (info) says so; the
    example keeps no query string and no cookie."""
    auth = {"Authorization": f"token {plain.token}", "Accept": "application/json"}
    status = plain.server.url(f"{BASE_URL}api/status")
    assert requests.get(status, headers=auth, timeout=30).ok
    forwarded = {**auth, "X-Forwarded-For": "192.0.2.7", "Cookie": "session=cookiesecret"}
    assert requests.get(status + "?next=querysecret", headers=forwarded, timeout=30).ok
    found = plain.report()
    assert found["JH715"]["severity"] == "info"
    assert found["JH715"]["fix"] == "c.ServerApp.trust_xheaders = True"
    assert "Seen once" in found["JH715"]["message"]
    assert "GET /jp/api/status answered 200" in found["JH715"]["message"]
    text = str(found)
    assert plain.token not in text and "querysecret" not in text and "cookiesecret" not in text


def test_apache_without_preserve_host(plain: Plain, tmp_path: Path) -> None:
    """Debian's Apache with mod_proxy's defaults sends its upstream address as Host: the
    login is blocked and JH710 names `ProxyPreserveHost On` (Apache shows itself by
    X-Forwarded-Server)."""
    apache = require_tool("apache2", "Apache (Debian apache2)")
    port = free_port()
    modules = "/usr/lib/apache2/modules"
    conf = tmp_path / "httpd.conf"
    conf.write_text(
        f"""ServerRoot {tmp_path}
PidFile {tmp_path}/httpd.pid
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule proxy_module {modules}/mod_proxy.so
LoadModule proxy_http_module {modules}/mod_proxy_http.so
Listen 127.0.0.1:{port}
ServerName {PUBLIC_HOST}
ErrorLog {tmp_path}/error.log
ProxyPass {BASE_URL} http://127.0.0.1:{plain.server.port}{BASE_URL}
"""
    )
    argv = [apache, "-f", str(conf), "-DFOREGROUND"]
    with foreground(argv, tmp_path / "httpd.log", (port,), wait=15), resolve_to_loopback():
        client = JupyterClient(f"http://{PUBLIC_HOST}:{port}", BASE_URL, None)
        assert client.login(plain.password).status_code == 404
    finding = plain.report()["JH710"]
    assert finding["fix"].startswith(
        f"Apache: ProxyPreserveHost On (nginx: proxy_set_header Host $host:{port};)"
    )
    assert (
        f"'127.0.0.1:{plain.server.port}', the proxy's own upstream address" in finding["message"]
    )


# A live id and an nginx-check id, accepted in the server's config.
ACCEPTED = {
    "JH714": "the old proxy strips /jp/ for one legacy path",
    "JH752": "nginx-check: this proxy serves no kernels",
}


def test_accepted_live_finding_is_shown_accepted_and_not_counted(
    tmp_path: Path, password: tuple[str, str]
) -> None:
    """c.Hardening.accepted_risks names JH714: the live finding shows as accepted with the
    reason, is counted neither in /hardening's counts nor in /metrics' findings, is logged
    as accepted (no WARNING), and neither id is reported as unknown (JH002)."""
    with plain_server(tmp_path, password, f"c.Hardening.accepted_risks = {ACCEPTED!r}\n") as jp:
        before = jp.get("hardening").json()
        assert "JH002" not in jp.report()
        mark = len(jp.server.log)
        # What a `proxy_pass` with a URI part sends: the path without /jp/.
        stripped = requests.get(jp.server.url("api/status"), timeout=30)
        assert stripped.status_code == 404

        after = jp.get("hardening").json()
        found = {f["id"]: f for f in after["findings"]}
        assert found["JH714"]["accepted"] is True
        assert found["JH714"]["reason"] == ACCEPTED["JH714"]
        assert found["JH714"]["severity"] == "error"
        assert after["counts"] == {**before["counts"], "accepted": before["counts"]["accepted"] + 1}
        assert after["verdict"] == before["verdict"]

        metrics = jp.get("metrics").text
        assert 'jupyter_hardening_findings{severity="error"} 0.0' in metrics
        accepted = before["counts"]["accepted"] + 1
        assert f"jupyter_hardening_accepted_findings {accepted:.1f}" in metrics
        assert 'jupyter_hardening_rule_findings{id="JH714"' not in metrics
        # The raw request counter still counts: what the proxy sends has not changed.
        assert FAULT.findall(metrics) == [("JH714", "1.0")]

        log = jp.server.log[mark:]
        assert f"JH714 proxy-strips-base-url (accepted: {ACCEPTED['JH714']})" in log
        assert "Fix: proxy_pass" not in log
