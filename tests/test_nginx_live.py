"""A real nginx on a non-default TLS port in front of a real `jupyter server`, used like a browser.

The config under test is what `jupyter hardening nginx-snippet` prints for the running server
(found through its runtime file). The same session through a seed tutorial's config must fail,
which shows these tests can fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket

from .fixtures import require_tool
from .nginx_util import (
    RunningNginx,
    nginx_conf,
    nginx_conf_including,
    resolve_to_loopback,
    running_nginx,
    seed_server,
)
from .proxy_util import (
    SIGNIN,
    ProxiedJupyter,
    assert_auth_gate,
    assert_names_server_and_companions,
    assert_saves_100mb_notebook,
    assert_session,
    auth_stub,
    proxied_jupyter,
)

pytestmark = [pytest.mark.nginx, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, password: tuple[str, str]
) -> Iterator[ProxiedJupyter]:
    """A password-protected Jupyter with the companion settings the snippet asks for."""
    require_tool("nginx", "nginx")
    with proxied_jupyter(tmp_path_factory.mktemp("live"), password) as jupyter:
        yield jupyter


@pytest.fixture(scope="module")
def generated(stack: ProxiedJupyter) -> str:
    """The snippet for the live server, from its runtime file and c.Hardening.public_url."""
    result = stack.snippet(
        "nginx",
        f"--listen=127.0.0.1:{stack.port}",
        f"--tls-cert={stack.ca.cert}",
        f"--tls-key={stack.ca.key}",
        "--check",
    )
    assert result.returncode == 0, result.stderr
    assert "nginx -t (nginx " in result.stderr and ": ok" in result.stderr
    return result.stdout


@pytest.fixture
def proxied(stack: ProxiedJupyter, generated: str, tmp_path: Path) -> Iterator[RunningNginx]:
    """nginx running the generated snippet."""
    conf = nginx_conf_including(tmp_path / "nginx", generated)
    with running_nginx(conf, stack.port) as nginx, resolve_to_loopback():
        yield nginx


def test_snippet_names_the_server_and_its_companion_settings(
    stack: ProxiedJupyter, generated: str
) -> None:
    """The header names pid/port/base_url of the live server and the settings it needs."""
    assert_names_server_and_companions(generated, stack)


def test_session_through_generated_config(stack: ProxiedJupyter, proxied: RunningNginx) -> None:
    """Password login, REST with XSRF + Origin, kernel and terminal websockets, all via nginx."""
    log_start = len(stack.server.log)
    client = stack.sign_in()
    assert any(c.name.startswith("username-") and c.secure for c in client.session.cookies)
    created = assert_session(client)
    assert created.json()["path"].endswith(".ipynb")

    page = client.session.get(client.url("api/status"), timeout=30)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=63072000"
    assert "nginx/" not in page.headers.get("Server", "")
    assert "Blocking Cross Origin" not in stack.server.log[log_start:]


def test_100mb_notebook_save(stack: ProxiedJupyter, proxied: RunningNginx) -> None:
    """A notebook save is one PUT of the whole file; 100 MB must pass nginx and Jupyter."""
    assert_saves_100mb_notebook(stack.sign_in(), stack.home.work_dir)


def test_auth_request_gate(stack: ProxiedJupyter, tmp_path: Path) -> None:
    """Anonymous requests go to sign-in; signed-in ones reach Jupyter, websockets included."""
    with auth_stub("X-Original-URI") as stub:
        text = stack.generated(
            "nginx", f"--auth-request={stub.url}", f"--auth-signin={SIGNIN}", check=False
        )
        conf = nginx_conf_including(tmp_path / "nginx", text)
        with running_nginx(conf, stack.port), resolve_to_loopback():
            assert_auth_gate(stack, stub)


def test_seed_config_breaks_the_same_session(stack: ProxiedJupyter, tmp_path: Path) -> None:
    """Through the seeds' nginx the browser's login POST and cookie websockets are blocked."""
    conf = nginx_conf(tmp_path / "nginx", seed_server(stack.port, stack.ca, stack.server.port))
    log_start = len(stack.server.log)
    with running_nginx(conf, stack.port), resolve_to_loopback():
        browser = stack.client()
        assert browser.login(stack.password).status_code == 404
        blocked = "Blocking Cross Origin API request for /jp/login"
        assert blocked in stack.server.log[log_start:]

        # A script's login (no Origin) gets through; the page's websocket still does not.
        script = stack.client()
        assert script.script_login(stack.password).status_code == 302
        assert script.api("POST", "api/contents", json={"type": "notebook"}).status_code == 404
        with pytest.raises(websocket.WebSocketBadStatusException, match="403"):
            script.websocket(f"terminals/websocket/{script.script_terminal()}")
