"""Under a real JupyterHub (PyPI) with configurable-http-proxy (npm), DummyAuthenticator and
SimpleLocalProcessSpawner, user servers running as an unprivileged user on 127.0.0.1 high ports:
the hub-context verdicts, the pre-spawn hook's refusal reaching the hub's API, access through
the proxy, ``check --hub-user`` agreeing with the spawn, and a user config that disables the audit.

One hub for the module; each user name is one case (see PER_USER).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .fixtures import IN_CI
from .hub_util import (
    CACHE,
    Hub,
    build_venv,
    check_as_hub,
    chp_command,
    give,
    python_ok,
    scratch,
    start_hub,
)

pytestmark = pytest.mark.timeout(400)

ORIGIN_STAR = "--ServerApp.allow_origin=*"
PER_USER = {
    "alice": {},  # the loopback default
    "dave": {"ip": "0.0.0.0"},  # what container spawners set
    "bob": {"args": [ORIGIN_STAR]},
    "erin": {},  # her ~/.jupyter disables the audit (written by the test)
    # The admin's policy on the command line outranks the user's config files.
    "frank": {"args": ["--Hardening.refuse_at=warning"], "ip": "0.0.0.0"},
    "gina": {"env": {"JUPYTERHUB_SINGLEUSER_EXTENSION": "0"}},  # the legacy app
    # What c.Spawner.disable_user_config = True sets: hank's ~/.jupyter (as erin's) is not read.
    "hank": {"env": {"JUPYTERHUB_DISABLE_USER_CONFIG": "1"}},
}


def _need(thing: object, message: str) -> None:
    if thing:
        return
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def hub_venv() -> Path:
    """This worktree and jupyterhub in a venv every user can run (built once per session)."""
    _need(python_ok(), "Debian's /usr/bin/python3 is needed to build the hub's venv")
    CACHE.mkdir(parents=True, exist_ok=True)
    CACHE.chmod(0o755)
    return build_venv()


@pytest.fixture(scope="module")
def hub(hub_venv: Path):
    """One running hub for this module."""
    chp = chp_command()
    _need(
        chp,
        "configurable-http-proxy is missing and npm/node cannot install it (.ci/run installs them)",
    )
    assert chp is not None
    root = scratch("hub-")
    # erin's and hank's own config switch jupyter_hardening off.
    for user in ("erin", "hank"):
        config = root / "homes" / user / ".jupyter"
        config.mkdir(parents=True)
        (config / "jupyter_server_config.json").write_text(
            json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_hardening": False}}})
        )
    # frank's own config tries to lower the policy that the admin's c.Spawner.args sets.
    config = root / "homes" / "frank" / ".jupyter"
    config.mkdir(parents=True)
    (config / "jupyter_server_config.py").write_text("c.Hardening.refuse_at = 'never'\n")
    running = start_hub(root, hub_venv, chp, PER_USER)
    try:
        yield running
    finally:
        running.stop()
        shutil.rmtree(root, ignore_errors=True)


def _report(hub: Hub, user: str, token: str | None) -> tuple[int, str]:
    return hub.request("GET", f"user/{user}/hardening?format=json", token)


def test_loopback_server_ok_and_only_its_user_reads_the_report(hub: Hub) -> None:
    """alice on the default 127.0.0.1: ok; her report is 200 for her, 403 for bob and anonymous."""
    status, _, model = hub.spawn("alice")
    assert status in (201, 202), hub.log[-3000:]
    assert model["servers"][""]["ready"], hub.log[-3000:]
    code, body = _report(hub, "alice", hub.token_for("alice"))
    assert code == 200, body
    report = json.loads(body)
    assert report["verdict"] == "ok", report["findings"]
    settings = report["settings"]
    assert settings["JupyterHub.mode"] == "extension"
    assert "not a login token" in settings["IdentityProvider.token"]
    assert hub.token_for("alice") not in body
    # The CSP as served: the hub's extension's, not jupyter_server's default.
    assert settings["Content-Security-Policy"].startswith("frame-ancestors 'none'")
    assert _report(hub, "alice", hub.token_for("bob"))[0] == 403
    assert _report(hub, "alice", None)[0] == 403


def test_all_interfaces_starts_with_the_hub_warning(hub: Hub) -> None:
    """dave on 0.0.0.0 (container spawners): starts; JH101 is a warning naming internal_ssl."""
    _, _, model = hub.spawn("dave")
    assert model["servers"][""]["ready"], hub.log[-3000:]
    code, body = _report(hub, "dave", hub.token_for("dave"))
    assert code == 200, body
    report = json.loads(body)
    assert report["verdict"] == "warn"
    findings = {f["id"]: f for f in report["findings"]}
    assert findings["JH101"]["severity"] == "warning"
    assert "c.JupyterHub.internal_ssl = True" in findings["JH101"]["fix"]
    assert "networkPolicy" in findings["JH101"]["fix"]
    assert "JH701" not in findings  # the hub's own trust_xheaders
    # check with the hub's environment gives the same verdict and findings.
    rc, checked = check_as_hub(
        hub.venv, "dave", env={"JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8888/user/dave/"}
    )
    assert rc == 0
    assert checked["verdict"] == "warn"
    assert {f["id"] for f in checked["findings"]} == set(findings)


def test_refused_spawn_fails_fast_with_the_reason(hub: Hub) -> None:
    """bob's --ServerApp.allow_origin=* fails in seconds; the hub's API names JH301."""
    _, seconds, model = hub.spawn("bob")
    # The hub alone would wait Spawner.http_timeout (30 s) and say "didn't respond".
    assert seconds < 25, seconds
    assert not model["servers"].get("", {}).get("ready")
    events = hub.progress("bob")
    failed = [e for e in events if e.get("failed")]
    assert failed, (events, hub.log[-3000:])
    # What the spawn page shows the user.
    assert failed[-1]["message"].startswith(
        "Spawn failed: jupyter_hardening refused to start this server: JH301 any-origin"
    ), failed
    assert "didn't respond" not in failed[-1]["message"]
    rc, checked = check_as_hub(hub.venv, "bob", ORIGIN_STAR)
    assert rc == 1
    assert checked["verdict"] == "refuse"
    assert "JH301" in {f["id"] for f in checked["findings"]}


def test_admin_policy_on_the_command_line_beats_the_users_config(hub: Hub) -> None:
    """frank's refuse_at='never' in ~/.jupyter loses to the admin's --Hardening.refuse_at=warning."""
    _, seconds, model = hub.spawn("frank")
    assert not model["servers"].get("", {}).get("ready"), hub.log[-3000:]
    assert seconds < 25
    assert "frank's spawn refused" in hub.log


def test_legacy_singleuser_app_is_judged_in_the_hub_model(hub: Hub) -> None:
    """gina's legacy SingleUserNotebookApp: hub auth (its token is ''), verdict ok, 403 for bob."""
    _, _, model = hub.spawn("gina")
    assert model["servers"][""]["ready"], hub.log[-3000:]
    code, body = _report(hub, "gina", hub.token_for("gina"))
    assert code == 200, body
    report = json.loads(body)
    assert report["settings"]["JupyterHub.mode"] == "legacy"
    assert report["verdict"] == "ok", report["findings"]
    assert _report(hub, "gina", hub.token_for("bob"))[0] == 403


def test_user_config_disabling_the_audit_is_logged(hub: Hub) -> None:
    """erin's ~/.jupyter disables jupyter_hardening: one WARNING names that file."""
    _, _, model = hub.spawn("erin")
    assert model["servers"][""]["ready"], hub.log[-3000:]
    lines = [
        line
        for line in hub.log.splitlines()
        if "the audit is disabled by" in line and "erin" in line
    ]
    assert len(lines) == 1, hub.log[-3000:]
    assert "/homes/erin/.jupyter/jupyter_server_config.json" in lines[0]
    assert _report(hub, "erin", hub.token_for("erin"))[0] == 404


def test_standalone_singleuser_with_internal_ssl_has_no_network_finding(hub_venv: Path) -> None:
    """JUPYTERHUB_SSL_* (internal_ssl's mutual TLS) on 0.0.0.0: no JH101, no JH701."""
    from .certs import TLSFiles

    root = scratch("tls-")
    try:
        tls = TLSFiles(root)
        tls.pair("server")
        give(root)
        _, checked = check_as_hub(
            hub_venv,
            "carol",
            env={
                "JUPYTERHUB_SERVICE_URL": "https://0.0.0.0:8888/user/carol/",
                "JUPYTERHUB_SSL_CERTFILE": str(root / "server.pem"),
                "JUPYTERHUB_SSL_KEYFILE": str(root / "server.key"),
                "JUPYTERHUB_SSL_CLIENT_CA": str(tls.ca),
            },
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ids = {f["id"] for f in checked["findings"]}
    assert not ids & {"JH101", "JH701", "JH102"}, checked["findings"]
    assert checked["settings"]["ServerApp.client_ca"] == str(tls.ca)


def test_disable_user_config_keeps_the_audit_on(hub: Hub) -> None:
    """hank has erin's config, but the hub's disable_user_config keeps it out: audited, 200."""
    _, _, model = hub.spawn("hank")
    assert model["servers"][""]["ready"], hub.log[-3000:]
    code, body = _report(hub, "hank", hub.token_for("hank"))
    assert code == 200, body
    assert json.loads(body)["settings"]["Spawner.disable_user_config"] is True
    assert not [
        line
        for line in hub.log.splitlines()
        if "the audit is disabled by" in line and "hank" in line
    ]
