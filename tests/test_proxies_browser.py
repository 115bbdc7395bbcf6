"""A person with a browser through Caddy and through Apache httpd: headless Chromium trusting a
test CA, the proxy on a non-default TLS port, a real `jupyter lab` behind it on /jp/.

Through the config `caddy-snippet` / `apache-snippet` prints, the person logs in with the
password, opens a notebook and runs 6*7 to see 42. Through a naive config the same person
fails: Caddy with `header_up Host {host}` loses the port, so the login is blocked as
cross-origin; Apache without websocket handling logs in but the kernel never connects.
Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .browser_util import launch_chromium, screenshot, trusting_home
from .fixtures import require_tool
from .guide import server_config, set_password
from .nginx_util import make_ca
from .proxy_util import (
    apache_path,
    apache_wrapper,
    caddy_path,
    caddy_wrapper,
    running_apache,
    running_caddy,
)
from .servers import JupyterHome, free_port, jupyter_bin, start
from .test_browser import BASE_URL, SLOW_MS, Deployment, log_in
from .test_proxies_live import naive_apache, naive_caddy

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PROXIES = [
    pytest.param("caddy", marks=pytest.mark.caddy),
    pytest.param("apache", marks=pytest.mark.apache),
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """`jupyter lab` set up as the README's guide says, on the port the proxies will serve."""
    root = tmp_path_factory.mktemp("proxies-browser")
    home = JupyterHome(root / "jhome")
    port = free_port()
    secret = "correct horse battery staple 42"
    set_password(home, secret)
    home.write_config(server_config(port))
    server = start(home, command="jupyter-lab")
    try:
        server.wait_ready(path=f"{BASE_URL}api/status", timeout=120)
        yield Deployment(make_ca(root / "ca"), home, server, secret, port, "")
    finally:
        server.stop()


@pytest.fixture(params=PROXIES)
def proxy(request: pytest.FixtureRequest) -> str:
    """caddy or apache; the test fails in CI when it is not installed."""
    name: str = request.param
    if name == "caddy":
        require_tool(caddy_path() or "caddy", "Caddy (Debian caddy)")
    else:
        require_tool(apache_path() or "apache2", "Apache httpd (Debian apache2)")
    return name


@pytest.fixture
def page(
    lab: Deployment, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A fresh headless Chromium window whose NSS database trusts the test CA."""
    from playwright.sync_api import sync_playwright

    require_tool("chromium", "Chromium (Debian chromium)")
    require_tool("certutil", "certutil (Debian libnss3-tools)")
    home = trusting_home(tmp_path_factory.mktemp("chromium-home"), lab.ca.ca_cert)
    with sync_playwright() as p:
        browser = launch_chromium(p, home)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(SLOW_MS)
            yield page
            screenshot(page, f"last-{request.node.name}")
        finally:
            browser.close()


def generated(lab: Deployment, proxy: str) -> str:
    """What `jupyter hardening <proxy>-snippet --check` prints for the running lab."""
    result = subprocess.run(
        [
            jupyter_bin("jupyter"),
            "hardening",
            f"{proxy}-snippet",
            f"--listen=127.0.0.1:{lab.port}",
            f"--tls-cert={lab.ca.cert}",
            f"--tls-key={lab.ca.key}",
            "--check",
        ],
        capture_output=True,
        text=True,
        env=lab.home.env(),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def running(proxy: str, text: str, folder: Path, port: int) -> Any:
    """``text`` served by a real Caddy or httpd on ``port``."""
    if proxy == "caddy":
        return running_caddy(caddy_wrapper(folder, text), port)
    return running_apache(apache_wrapper(folder, text), port)


def open_notebook(page: Any, lab: Deployment, proxy: str) -> Any:
    """A new Python notebook from the launcher of a fresh workspace; its panel.

    Each test has its own workspace: the shared server would otherwise restore the notebook a
    previous test left open, instead of the launcher.
    """
    page.goto(lab.url(f"lab/workspaces/{proxy}-{uuid.uuid4().hex[:8]}?reset"))
    page.wait_for_selector(".jp-Launcher", state="visible")
    page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
    return page.locator(".jp-NotebookPanel:visible")


def test_login_and_run_a_cell(lab: Deployment, proxy: str, page: Any, tmp_path: Path) -> None:
    """Through the generated config: log in, new notebook, 6*7 = 42."""
    mark = len(lab.lab.log)
    with running(proxy, generated(lab, proxy), tmp_path / proxy, lab.port):
        response = log_in(page, lab, f"21-{proxy}-login-page")
        assert response.status == 200, response.status
        panel = open_notebook(page, lab, proxy)
        expect(page.locator(".jp-StatusBar-Widget")).to_contain_text(
            "Python 3 (ipykernel) | Idle", timeout=SLOW_MS
        )
        editor = panel.locator(".jp-Cell .cm-content").first
        editor.click()
        page.keyboard.type("6*7")
        expect(editor).to_have_text("6*7", timeout=SLOW_MS)
        page.keyboard.press("Shift+Enter")
        result = panel.locator(".jp-OutputArea-executeResult").first
        expect(result).to_contain_text("42", timeout=SLOW_MS)
        screenshot(page, f"22-{proxy}-notebook-6x7-is-42")
    assert "Blocking Cross Origin" not in lab.log_since(mark)


def test_naive_config_fails_the_person(
    lab: Deployment, proxy: str, page: Any, tmp_path: Path
) -> None:
    """Caddy with `header_up Host {host}`: the right password gives "404: Not Found". Apache
    without websocket handling: JupyterLab opens, but the notebook's kernel never connects."""
    mark = len(lab.lab.log)
    naive = naive_caddy if proxy == "caddy" else naive_apache
    text = naive(lab.port, lab.ca, lab.lab.port)
    with running(proxy, text, tmp_path / proxy, lab.port):
        response = log_in(page, lab, f"31-{proxy}-naive-login-page")
        screenshot(page, f"32-{proxy}-naive-after-login")
        if proxy == "caddy":
            assert response.status == 404
            assert "Blocking Cross Origin API request for /jp/login" in lab.log_since(mark)
            return
        assert response.status == 200
        open_notebook(page, lab, proxy)
        page.wait_for_timeout(15_000)
        screenshot(page, f"33-{proxy}-naive-kernel")
        status = page.locator(".jp-StatusBar-Widget").all_inner_texts()
        assert not any("| Idle" in s for s in status), status
