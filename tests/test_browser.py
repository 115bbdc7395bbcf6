"""A person with a browser, end to end: headless Chromium, a real nginx with TLS from a test CA,
and a real `jupyter lab` behind it on /jp/, as the deployment guide in the README sets it up.

Through the config `jupyter hardening nginx-snippet` prints, the person logs in with the
password, creates a notebook, runs 6*7 and sees 42, then reads /jp/hardening. Through the seed
tutorials' config (`proxy_set_header Host $host;` on a non-default port) the same person fails
the way users reported it, which shows these tests can fail. Screenshots of every step go to
test-artifacts/browser/.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .browser_util import (
    SLOW_MS,
    ca_trusting_home,
    chromium_page,
    launch_chromium,
    open_login,
    run_in_new_notebook,
    screenshot,
    submit_password,
    trusting_home,
)
from .fixtures import require_tool
from .guide import server_config, set_password
from .nginx_util import (
    PUBLIC_HOST,
    RunningNginx,
    TestCA,
    make_ca,
    nginx_conf,
    nginx_conf_including,
    running_nginx,
)
from .servers import JupyterHome, ServerProcess, free_port, jupyter_bin, start

pytestmark = [pytest.mark.browser, pytest.mark.nginx, pytest.mark.timeout(240)]

BASE_URL = "/jp/"
__all__ = ["SLOW_MS"]  # test_proxies_browser takes it from here


@dataclass
class Deployment:
    """The server side, shared by every test here: CA, Jupyter, the nginx port."""

    ca: TestCA
    home: JupyterHome
    lab: ServerProcess
    password: str
    port: int
    snippet: str

    @property
    def origin(self) -> str:
        """Scheme, host and non-default port, as the browser shows them."""
        return f"https://{PUBLIC_HOST}:{self.port}"

    def url(self, path: str = "") -> str:
        """The public URL of ``path`` under /jp/."""
        return f"{self.origin}{BASE_URL}{path}"

    def log_since(self, mark: int) -> str:
        """What Jupyter logged after ``mark`` (a length of the log)."""
        return self.lab.log[mark:]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """`jupyter lab` set up as the README's guide says, and the snippet for it."""
    require_tool("nginx", "nginx (Debian nginx-light)")
    root = tmp_path_factory.mktemp("browser")
    home = JupyterHome(root / "jhome")
    port = free_port()
    secret = "correct horse battery staple 42"
    set_password(home, secret)
    home.write_config(server_config(port))
    ca = make_ca(root / "ca")
    lab = start(home, command="jupyter-lab")
    try:
        lab.wait_ready(path=f"{BASE_URL}api/status", timeout=120)
        result = subprocess.run(
            [
                jupyter_bin("jupyter"),
                "hardening",
                "nginx-snippet",
                f"--listen=127.0.0.1:{port}",
                f"--tls-cert={ca.cert}",
                f"--tls-key={ca.key}",
                "--check",
            ],
            capture_output=True,
            text=True,
            env=home.env(),
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        yield Deployment(ca, home, lab, secret, port, result.stdout)
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def trusting_chromium_home(
    tmp_path_factory: pytest.TempPathFactory, deployment: Deployment
) -> Path:
    """A $HOME for Chromium whose NSS database trusts the test CA."""
    return ca_trusting_home(tmp_path_factory.mktemp("chromium-home"), deployment.ca.ca_cert)


@pytest.fixture
def page(trusting_chromium_home: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh headless Chromium window: no cookies, generous timeouts."""
    with chromium_page(trusting_chromium_home, f"last-{request.node.name}") as page:
        yield page


@pytest.fixture
def generated_nginx(deployment: Deployment, tmp_path: Path) -> Iterator[RunningNginx]:
    """nginx running the output of `jupyter hardening nginx-snippet`."""
    conf = nginx_conf_including(tmp_path / "nginx", deployment.snippet)
    with running_nginx(conf, deployment.port) as nginx:
        yield nginx


def config_values(text: str) -> dict[str, Any]:
    """{'Class.trait': value} set by the ``c.Class.trait = value`` lines of a config file."""
    from traitlets.config import Config

    c = Config()
    exec(text, {"c": c, "get_config": lambda: c})  # noqa: S102 - the test's own config text
    return {f"{cls}.{name}": value for cls, traits in c.items() for name, value in traits.items()}


def record_api_calls(page: Any) -> list[tuple[str, str, int]]:
    """From now on, every (method, path, status) of the page's calls to the server's API."""
    calls: list[tuple[str, str, int]] = []

    def seen(response: Any) -> None:
        path = urlsplit(response.url).path
        if path.startswith(f"{BASE_URL}api/"):
            calls.append((response.request.method, path, response.status))

    page.on("response", seen)
    return calls


def wait_for_call(
    page: Any, calls: list[tuple[str, str, int]], method: str, path: str, timeout: float = 90
) -> int:
    """Wait until the page has called ``method path``; return the status it got."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for seen_method, seen_path, status in calls:
            if (seen_method, seen_path) == (method, path):
                return status
        page.wait_for_timeout(200)  # lets playwright deliver the events meanwhile
    raise AssertionError(f"the page never sent {method} {path}; it sent {calls}")


def log_in(page: Any, deployment: Deployment, shot: str) -> Any:
    """Open /jp/lab, land on the login page, type the password, submit; return the response."""
    open_login(page, deployment.url("lab"))
    assert page.url.startswith(deployment.url("login"))
    screenshot(page, shot)
    return submit_password(page, deployment.password)


def test_snippet_asks_for_the_settings_the_deployment_has(deployment: Deployment) -> None:
    """The settings the snippet says Jupyter needs all have those values in the guide's config."""
    companions = "\n".join(
        line.removeprefix("#").strip()
        for line in deployment.snippet.splitlines()
        if line.startswith("#   c.")
    )
    needed = config_values(companions)
    assert len(needed) == 6, companions
    have = config_values((deployment.home.config_dir / "jupyter_server_config.py").read_text())
    assert {k: have.get(k) for k in needed} == needed


def test_login_run_a_cell_and_read_the_report(
    deployment: Deployment, generated_nginx: RunningNginx, page: Any
) -> None:
    """Through the generated config: log in, new notebook, 6*7 = 42, save, /jp/hardening."""
    mark = len(deployment.lab.log)
    response = log_in(page, deployment, "01-login-page")
    assert response.status == 200, response.status

    page.wait_for_selector(".jp-Launcher", state="visible")
    assert page.url.startswith(deployment.url("lab"))
    screenshot(page, "02-jupyterlab")

    run_in_new_notebook(page, "6*7", "42")
    screenshot(page, "03-notebook-6x7-is-42")

    # The first save is one PUT of the whole notebook, then a rename (PATCH) to the name typed.
    calls = record_api_calls(page)
    page.keyboard.press("Control+s")
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_role("textbox").fill("answer.ipynb")
    dialog.get_by_role("button", name="Rename and Save").click()
    assert wait_for_call(page, calls, "PATCH", "/jp/api/contents/Untitled.ipynb") == 200, calls
    assert ("PUT", "/jp/api/contents/Untitled.ipynb", 200) in calls, calls
    saved = (deployment.home.work_dir / "answer.ipynb").read_text()
    assert '"6*7"' in saved and '"42"' in saved
    assert "Blocking Cross Origin" not in deployment.log_since(mark)

    report = page.goto(deployment.url("hardening"))
    assert report.status == 200
    assert report.headers["content-type"].startswith("text/html")
    page.locator("#verdict").wait_for()
    screenshot(page, "04-hardening-report")
    assert page.locator("#verdict .badge").inner_text() == "OK"
    assert "No findings" in page.inner_text("main")
    settings = page.inner_text("#settings + table")
    assert f"https://{PUBLIC_HOST}:{deployment.port}/jp/" in settings
    assert "argon2 hash" in settings


def test_untrusted_certificate_is_refused(
    deployment: Deployment, generated_nginx: RunningNginx, tmp_path: Path
) -> None:
    """Without the test CA in its NSS database, the same Chromium refuses the site."""
    from playwright.sync_api import Error, sync_playwright

    home = trusting_home(tmp_path / "home", None)
    with sync_playwright() as p:
        browser = launch_chromium(p, home)
        try:
            with pytest.raises(Error, match="ERR_CERT_AUTHORITY_INVALID"):
                browser.new_page().goto(deployment.url("lab"), timeout=SLOW_MS)
        finally:
            browser.close()


# The seed tutorials' proxy (seed 000, as written, on the same TLS port): `Host $host` drops the
# port, so the Origin the browser sends no longer matches the Host that Jupyter sees.
SEED_CONFIG = """
upstream websocket {{
    server 127.0.0.1:{upstream};
}}
server {{
    listen 127.0.0.1:{port} ssl;
    server_name {host};
    ssl_certificate {cert};
    ssl_certificate_key {key};

    location /jp {{
        proxy_pass http://websocket/jp;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection 'upgrade';
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_cache_bypass $http_upgrade;
        client_max_body_size 10M;
    }}
}}
"""


def seed_nginx(deployment: Deployment, folder: Path) -> Any:
    """nginx running the seed tutorial's config in front of the same Jupyter, same port."""
    conf = nginx_conf(
        folder,
        SEED_CONFIG.format(
            upstream=deployment.lab.port,
            port=deployment.port,
            host=PUBLIC_HOST,
            cert=deployment.ca.cert,
            key=deployment.ca.key,
        ),
    )
    return running_nginx(conf, deployment.port)


def test_seed_config_login_is_blocked(deployment: Deployment, page: Any, tmp_path: Path) -> None:
    """Through the seed's nginx the person types the right password and gets "404: Not Found";
    Jupyter logs the blocked cross-origin login, and the next visit asks for the password again.
    """
    mark = len(deployment.lab.log)
    with seed_nginx(deployment, tmp_path / "nginx"):
        response = log_in(page, deployment, "11-seed-login-page")
        screenshot(page, "12-seed-after-login")
        assert response.status == 404
        assert "404 : Not Found" in page.inner_text("body")
        log = deployment.log_since(mark)
        assert "Blocking Cross Origin API request for /jp/login" in log
        # The port the browser used is gone from the Host header Jupyter sees.
        assert f"Origin: {deployment.origin}, Host: {PUBLIC_HOST}\n" in log
        # Not signed in: JupyterLab never opens.
        page.goto(deployment.url("lab"))
        page.wait_for_selector("#password_input")
        screenshot(page, "13-seed-still-signed-out")
        assert page.locator(".jp-Launcher").count() == 0
