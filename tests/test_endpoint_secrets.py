"""No secret leaves /hardening, /metrics or the request log: a server with known secrets planted
in its config, in-process through pytest-jupyter (issue #3)."""

from __future__ import annotations

import json
import logging

import pytest
from jupyter_server.utils import url_path_join

from .endpoint_support import BROWSER_ACCEPT, plant_secrets, server_config


@pytest.fixture
def secrets(tmp_path, password):
    """Known secrets planted in the server's config."""
    secret, hashed = password
    return plant_secrets(tmp_path / "tls", hashed, secret)


@pytest.fixture
def jp_server_config(secrets, caplog):
    """The extension enabled, with every kind of secret set (and DEBUG logging)."""
    caplog.set_level(logging.DEBUG)
    return server_config(
        ServerApp={
            "ip": "127.0.0.1",
            "certfile": str(secrets.certfile),
            "keyfile": str(secrets.keyfile),
            "cookie_secret": secrets.cookie_secret.encode(),
        },
        IdentityProvider={"token": secrets.token},
        PasswordIdentityProvider={"hashed_password": secrets.hashed_password},
    )


async def test_no_secret_in_any_response_or_request_log(
    secrets, jp_serverapp, http_server_client, jp_base_url, caplog
):
    # The startup log is checked with a real server (test_endpoint_server.py): in-process, the
    # app logs while initializing to a stream pytest-jupyter replaces, and at DEBUG level
    # traitlets itself prints "Config changed: {...}" with every secret in it.
    assert jp_serverapp.identity_provider.token == secrets.token

    async def fetch(path, query="", **headers):
        url = url_path_join(jp_base_url, path) + (f"?{query}" if query else "")
        return await http_server_client.fetch(
            url, headers=headers, raise_error=False, follow_redirects=False
        )

    auth = {"Authorization": f"token {secrets.token}"}
    responses = [
        await fetch("hardening", Accept="application/json", **auth),
        await fetch("hardening", Accept=BROWSER_ACCEPT, **auth),
        await fetch("hardening", "format=json"),
        await fetch("hardening", Accept=BROWSER_ACCEPT),
        await fetch("hardening", "format=bogus", Accept=BROWSER_ACCEPT, **auth),
        await fetch("hardening", f"format=json&token={secrets.token}"),
        await fetch("hardening", f"format=bogus&token={secrets.token}"),
        await fetch("metrics", **auth),
    ]
    assert [r.code for r in responses] == [200, 200, 403, 302, 400, 200, 400, 200]
    for response in responses:
        text = response.body.decode() + "\n" + str(response.headers)
        assert not secrets.leaks(text), f"{response.request.url} leaks {secrets.leaks(text)}"
    data = json.loads(responses[0].body)["settings"]
    assert data["IdentityProvider.token"] == "set (48 characters)"
    assert data["PasswordIdentityProvider.hashed_password"] == "argon2 hash"
    assert data["ServerApp.keyfile"] == str(secrets.keyfile)
    log = "\n".join(caplog.handler.format(r) for r in caplog.get_records("call"))
    assert "GET /a%40b/hardening?format=json&token=[secret]" in log
    assert "400 GET /a%40b/hardening (127.0.0.1): format must be 'json' or 'html'" in log
    assert not secrets.leaks(log), f"the log leaks {secrets.leaks(log)}"
