"""JH901 on real servers: a test extension's undecorated handler is flagged by route, and an
anonymous request gets what the finding says; allow_unauthenticated_access = False closes it."""

from __future__ import annotations

import json
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .cli import hardening
from .servers import JupyterHome, running

LEAKY_SOURCE = Path(__file__).with_name("leaky_ext.py")


@pytest.fixture
def leaky(home: JupyterHome) -> dict[str, str]:
    """The test extension in a temp dir on PYTHONPATH, enabled in the config: extra env."""
    folder = home.root / "extensions"
    folder.mkdir()
    shutil.copy(LEAKY_SOURCE, folder / "leaky_ext.py")
    return {"PYTHONPATH": str(folder)}


def config(*lines: str) -> str:
    """A jupyter_server_config.py enabling both extensions, plus ``lines``."""
    return "\n".join(
        (
            "c.ServerApp.jpserver_extensions = {'jupyter_hardening': True, 'leaky_ext': True}",
            *lines,
        )
    )


def status(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """An anonymous GET without following redirects: (status, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""


def test_leaky_route_flagged_and_answers_anonymously(home: JupyterHome, leaky) -> None:
    """Loopback: a warning naming /leaky, its method and module; GET /leaky answers 200."""
    home.write_config(config())
    with running(home, "--ServerApp.ip=127.0.0.1", env=leaky) as server:
        assert status(server.url("leaky")) == (200, "leaked")
        # close cases that must not be listed: login required, or public on purpose
        assert status(server.url("private"))[0] in (302, 403)
        assert status(server.url("public-on-purpose")) == (200, "public")
        # undecorated, but the handlers check the login themselves (exposure.CHECKS_LOGIN_ITSELF)
        upgrade = {
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        }
        assert status(server.url("terminals/websocket/1"), upgrade)[0] == 403
        assert status(server.url("lsp/ws/pylsp"), upgrade)[0] == 403
        log = server.log
    lines = [line for line in log.splitlines() if "JH901" in line]
    assert len(lines) == 1, log
    assert "WARNING" in lines[0] or "[W " in lines[0], lines[0]
    assert "GET /leaky (leaky_ext.LeakyHandler)" in lines[0]
    assert "c.ServerApp.allow_unauthenticated_access = False" in lines[0]
    for quiet in ("/private", "/public-on-purpose", "terminals", "lsp/ws", "/login", "/static"):
        assert quiet not in lines[0], (quiet, lines[0])


def test_setting_off_closes_the_route(home: JupyterHome, leaky) -> None:
    """The fix applied: no JH901, and the anonymous GET is refused (redirect to login)."""
    home.write_config(config("c.ServerApp.allow_unauthenticated_access = False"))
    with running(home, "--ServerApp.ip=127.0.0.1", env=leaky) as server:
        code, body = status(server.url("leaky"))
        log = server.log
    assert code in (302, 403) and body != "leaked"
    assert "JH901" not in log, log


def check_json(home: JupyterHome, env: dict[str, str], *args: str) -> dict[str, object]:
    """`jupyter hardening check --format json` as a user runs it."""
    result = hardening("check", "--format", "json", *args, home=home, env=env)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_plain_handler_stays_open_and_remote_is_an_error(home: JupyterHome, leaky) -> None:
    """A plain tornado handler answers whatever the setting says: the fix is the extension."""
    home.write_config(
        config("c.ServerApp.allow_unauthenticated_access = False", "c.LeakyExt.plain = True")
    )
    with running(home, "--ServerApp.ip=127.0.0.1", env=leaky) as server:
        assert status(server.url("leaky-plain")) == (200, "leaked plain")
        assert status(server.url("leaky"))[0] in (302, 403)
    report = check_json(home, leaky, "--ServerApp.ip=0.0.0.0")
    (finding,) = [f for f in report["findings"] if f["id"] == "JH901"]  # type: ignore[index]
    assert finding["severity"] == "error"
    assert "GET /leaky-plain (leaky_ext.PlainHandler)" in finding["message"]
    assert "/leaky (" not in finding["message"]  # closed by the setting
    assert "upgrade or remove leaky_ext" in finding["fix"]


def test_public_url_is_an_error(home: JupyterHome, leaky) -> None:
    """Behind a proxy (public_url) the same route is an error, on loopback too."""
    home.write_config(
        config(
            "c.Hardening.public_url = 'https://jupyter.example.com/'",
            "c.ServerApp.local_hostnames = ['localhost', 'jupyter.example.com']",
        )
    )
    report = check_json(home, leaky, "--ServerApp.ip=127.0.0.1")
    (finding,) = [f for f in report["findings"] if f["id"] == "JH901"]  # type: ignore[index]
    assert finding["severity"] == "error" and "public_url" in finding["message"]
    assert sys.executable  # the check ran with this environment's jupyter
