"""/hardening on a real `jupyter server` over TLS: login flow, planted secrets, live re-check."""

from __future__ import annotations

import json
import re
import shutil
import ssl
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests

from .endpoint_support import BROWSER_ACCEPT, plant_secrets, write_tls
from .servers import ServerProcess, start

INTERVAL = 3.0


def client(ca: str) -> requests.Session:
    """A session that trusts only ``ca`` and ignores proxy and CA-bundle environment variables."""
    session = requests.Session()
    session.trust_env = False
    session.verify = ca
    return session


def wait_https(server: ServerProcess, ca: str, timeout: float = 60) -> None:
    """Wait until the TLS server answers, or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"server exited with {server.proc.returncode}:\n{server.log}")
        try:
            client(ca).get(f"https://localhost:{server.port}/api/status", timeout=2)
            return
        except requests.exceptions.SSLError:
            raise
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"server not ready after {timeout}s:\n{server.log}")


@pytest.fixture
def tls_server(home, password, tmp_path):
    """A real server with a known token, argon2 password, cookie secret and TLS key."""
    secret, hashed = password
    secrets = plant_secrets(tmp_path / "tls", hashed, secret)
    ca = tmp_path / "trusted.pem"  # the served certificate stays in memory when the file rotates
    shutil.copy(secrets.certfile, ca)
    config = home.write_config(
        "c.ServerApp.jpserver_extensions = {'jupyter_hardening': True}\n"
        "c.ServerApp.ip = '127.0.0.1'\n"
        f"c.ServerApp.certfile = {str(secrets.certfile)!r}\n"
        f"c.ServerApp.keyfile = {str(secrets.keyfile)!r}\n"
        f"c.ServerApp.cookie_secret = {secrets.cookie_secret.encode()!r}\n"
        f"c.IdentityProvider.token = {secrets.token!r}\n"
        f"c.PasswordIdentityProvider.hashed_password = {secrets.hashed_password!r}\n"
        f"c.Hardening.recheck_interval = {INTERVAL}\n"
    )
    config.chmod(0o600)  # it holds the password hash: readable by others it is JH208
    server = start(home)
    try:
        wait_https(server, str(ca))
        yield server, secrets, str(ca)
    finally:
        server.stop()


def test_real_server_login_and_no_secret_anywhere(tls_server):
    server, secrets, ca = tls_server
    url = f"https://localhost:{server.port}/"
    seen: list[requests.Response] = []

    def keep(response: requests.Response) -> requests.Response:
        seen.extend([*response.history, response])
        return response

    anonymous = client(ca)
    api = keep(anonymous.get(url + "hardening", headers={"Accept": "application/json"}, timeout=10))
    assert api.status_code == 403
    page = keep(
        anonymous.get(
            url + "hardening", headers={"Accept": BROWSER_ACCEPT}, allow_redirects=False, timeout=10
        )
    )
    assert page.status_code == 302
    assert unquote(page.headers["Location"]) == "/login?next=/hardening"
    assert keep(anonymous.get(url + "metrics", timeout=10)).status_code == 403

    # A person logs in with the password and lands on the report page.
    browser = client(ca)
    browser.headers["Accept"] = BROWSER_ACCEPT
    keep(browser.get(url + "hardening", timeout=10))
    xsrf = browser.cookies["_xsrf"]
    report_page = keep(
        browser.post(
            url + "login?next=%2Fhardening",
            data={"password": secrets.password, "_xsrf": xsrf},
            timeout=10,
        )
    )
    assert report_page.status_code == 200, report_page.text
    assert report_page.url == url + "hardening"
    assert report_page.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert "Hardening report" in report_page.text
    assert "argon2 hash" in report_page.text
    assert "set (48 characters)" in report_page.text
    assert "Nothing to fix" in report_page.text  # only JH406 (self-signed, info)

    token = {"Authorization": f"token {secrets.token}"}
    data = keep(client(ca).get(url + "hardening?format=json", headers=token, timeout=10)).json()
    assert data["settings"]["IdentityProvider.token"] == "set (48 characters)"
    assert data["settings"]["PasswordIdentityProvider.hashed_password"] == "argon2 hash"
    assert [f["id"] for f in data["findings"]] == ["JH406"]
    metrics = keep(client(ca).get(url + "metrics", headers=token, timeout=10))
    assert 'jupyter_hardening_findings{severity="info"} 1.0' in metrics.text

    for response in seen:
        text = response.text + "\n" + json.dumps(dict(response.headers))
        assert not secrets.leaks(text), f"{response.url} leaks {secrets.leaks(text)}"

    server.stop()
    log = server.log
    assert "[jupyter_hardening] verdict ok: 0 error, 0 warning, 1 info, 0 accepted" in log
    assert not secrets.leaks(log), f"the server log leaks {secrets.leaks(log)}"


def test_real_server_rechecks_rotated_certificate_after_the_interval(tls_server, tmp_path):
    server, secrets, ca = tls_server
    url = f"https://localhost:{server.port}/"
    token = {"Authorization": f"token {secrets.token}"}
    trusted = tmp_path / "trusted-after-rotation.pem"

    def get(path: str, **headers: str) -> requests.Response:
        return client(str(trusted)).get(url + path, headers={**token, **headers}, timeout=10)

    def report() -> dict[str, object]:
        return get("hardening?format=json").json()

    shutil.copy(ca, trusted)
    # Wait for a re-check to happen, so the next one is INTERVAL seconds away from now.
    started = report()["computed_at"]
    deadline = time.monotonic() + 4 * INTERVAL
    while (current := report())["computed_at"] == started:
        assert time.monotonic() < deadline, "the report was never re-checked"
        time.sleep(0.1)
    checked = time.monotonic()

    write_tls(secrets.certfile.parent, days=3, key_mode=0o644)
    # tornado loads certfile/keyfile for every new connection: the new certificate is served now.
    new_cert = secrets.certfile.read_text()
    assert ssl.get_server_certificate(("127.0.0.1", server.port)) == new_cert
    trusted.write_text(Path(ca).read_text() + new_cert)
    unchanged = report()
    assert time.monotonic() - checked < INTERVAL, "too slow to test 'not before'"
    assert unchanged == current, "the report changed before the interval"

    time.sleep(max(0.0, checked + INTERVAL - time.monotonic()) + 0.2)
    changed = report()
    assert sorted(f["id"] for f in changed["findings"]) == ["JH402", "JH403", "JH406"]
    assert changed["verdict"] == "warn"
    expiry = next(f for f in changed["findings"] if f["id"] == "JH403")
    assert expiry["severity"] == "warning" and re.search(r"in [23] days", expiry["message"])

    metrics = get("metrics").text
    assert 'jupyter_hardening_findings{severity="warning"} 2.0' in metrics
    assert 'jupyter_hardening_verdict{verdict="warn"} 1.0' in metrics
    page = get("hardening", Accept=BROWSER_ACCEPT).text
    assert "The certificate expires on" in page
    assert f"chmod 600 {secrets.keyfile}" in page
