"""The fleet view under a real JupyterHub (PyPI), configurable-http-proxy (npm) and three real user
servers: `jupyter hardening hub-service` as a managed service with the role docs/fleet.md gives.

alice's server is clean, dave's (on 0.0.0.0, as container spawners bind) has a warning, carl's is
frozen with SIGSTOP so that it accepts connections and never answers. ada is an admin, nina a
plain user, prom a user whose only extra scope is access to the service (a Prometheus token).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from .fixtures import IN_CI
from .hub_util import (
    CACHE,
    Hub,
    build_venv,
    chp_command,
    processes_under,
    python_ok,
    scratch,
    start_hub,
)

pytestmark = pytest.mark.timeout(600)

PER_USER = {"alice": {}, "dave": {"ip": "0.0.0.0"}, "carl": {}}
REFRESH = 3  # seconds between refreshes of the fleet in these tests
TIMEOUT = 3  # seconds a user server has to answer
SERVICE_ROLE = ["list:users", "read:servers", "access:servers"]

EXTRA_CONFIG = """
c.Authenticator.admin_users = {{'ada'}}
c.JupyterHub.services.append({{
    'name': 'hardening',
    'url': 'http://127.0.0.1:{port}',
    'command': [{command!r}, 'hub-service', '--refresh-interval={refresh}', '--timeout={timeout}',
                '--concurrency=2'],
}})
c.JupyterHub.load_roles.append({{'name': 'hardening', 'scopes': {scopes!r}, 'services': ['hardening']}})
c.JupyterHub.load_roles.append({{
    'name': 'prometheus', 'scopes': ['access:services!service=hardening'], 'users': ['prom'],
}})
"""

HAS_HUB_CHECK = importlib.util.find_spec("jupyter_hardening.hubcheck") is not None


def _need(thing: object, message: str) -> None:
    if thing:
        return
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _environ_of(pid: str) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def find_process(program: str, root: Path | None = None, **env: str) -> tuple[int, dict[str, str]]:
    """(pid, environment) of the ``program`` process whose environment has all of ``env`` (and,
    given ``root``, that runs in a folder under it: this hub's, not a process another run left)."""
    pids = processes_under(root) if root is not None else os.listdir("/proc")
    for pid in filter(str.isdigit, map(str, pids)):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not any(part.endswith(program.encode()) for part in command[:2]):
            continue
        environ = _environ_of(pid)
        if environ and all(environ.get(k) == v for k, v in env.items()):
            return int(pid), environ
    raise AssertionError(f"no {program} process with {env}")


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    """A hub with the fleet service, and alice's, dave's and carl's servers running."""
    _need(python_ok(), "Debian's /usr/bin/python3 is needed to build the hub's venv")
    chp = chp_command()
    _need(
        chp,
        "configurable-http-proxy is missing and npm/node cannot install it (.ci/run installs them)",
    )
    assert chp is not None
    CACHE.mkdir(parents=True, exist_ok=True)
    CACHE.chmod(0o755)
    venv = build_venv()
    from .servers import free_port

    extra = EXTRA_CONFIG.format(
        port=free_port(),
        command=str(venv / "bin" / "jupyter-hardening"),
        refresh=REFRESH,
        timeout=TIMEOUT,
        scopes=SERVICE_ROLE,
    )
    root = scratch("fleet-")
    running = start_hub(root, venv, chp, PER_USER, extra)
    try:
        # The three users start their servers at the same time (each spawn waits for its own).
        with ThreadPoolExecutor(len(PER_USER)) as pool:
            spawned = list(pool.map(running.spawn, PER_USER))
        for _, _, model in spawned:
            assert model["servers"][""]["ready"], running.log[-5000:]
        yield running
    finally:
        running.stop()
        shutil.rmtree(root, ignore_errors=True)


def get(
    hub: Hub, path: str, token: str | None, accept: str = "text/html", scheme: str = "token"
) -> tuple[int, str]:
    """GET a page of the service through the proxy."""
    import urllib.error
    import urllib.request

    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"{scheme} {token}"
    request = urllib.request.Request(hub.url(f"services/hardening/{path}"), headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def fleet(hub: Hub) -> dict[str, Any]:
    """The service's JSON, as an admin reads it."""
    status, body = get(hub, "metrics?format=json", hub.token_for("ada"), "application/json")
    assert status == 200, body
    return json.loads(body)


def servers(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{user: server row} of the fleet JSON (default servers only here)."""
    return {s["user"]: s for s in data["servers"]}


def wait_for(hub: Hub, test: Any, what: str, timeout: float = 60) -> dict[str, Any]:
    """The fleet JSON once ``test(json)`` holds for a refresh made after this call."""
    began = time.time()
    deadline = time.monotonic() + timeout
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            data = fleet(hub)
        except (AssertionError, OSError):
            data = {}
        refreshed = data.get("refreshed_at")
        if refreshed and _epoch(refreshed) >= began - 1 and test(data):
            return data
        time.sleep(0.5)
    raise AssertionError(f"{what} not seen in {timeout}s: {data}\n{hub.log[-5000:]}")


def _logged_at(log: str, text: str) -> float:
    """When the first log line with ``text`` was written (JupyterHub's timestamp format)."""
    import datetime as dt
    import re

    line = next(line for line in log.splitlines() if text in line)
    stamp = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", line)
    assert stamp, line
    return dt.datetime.strptime(stamp[0], "%Y-%m-%d %H:%M:%S.%f").timestamp()


def _epoch(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso).timestamp()


@pytest.fixture(scope="module")
def settled(hub: Hub) -> dict[str, Any]:
    """The fleet once every running server's report has been fetched."""
    return wait_for(
        hub,
        lambda d: (
            {u: s["verdict"] for u, s in servers(d).items()}
            == {"alice": "ok", "dave": "warn", "carl": "ok"}
        ),
        "alice ok, dave warn, carl ok",
    )


def test_started_by_the_hub_with_the_minimal_role(hub: Hub, settled: dict[str, Any]) -> None:
    """The hub starts the service in time; list:users, read:servers, access:servers suffice."""
    log = hub.log
    started = _logged_at(log, "Starting managed service hardening")
    listening = _logged_at(log, "[jupyter_hardening] fleet view on 127.0.0.1:")
    # JupyterHub waits Service.timeout (30 s) and then exits.
    assert 0 <= listening - started < 15, (started, listening)
    # No request of the service was refused by the hub or a user server (the hub logs the
    # service's requests as "(hardening@127.0.0.1)": without list:users, "403 GET /hub/api/users").
    refused = [line for line in log.splitlines() if " 403 " in line and "(hardening@" in line]
    assert not refused, refused
    assert "200 GET /hub/api/users?state=" in log
    dave = servers(settled)["dave"]
    assert dave["report"]["counts"]["warning"] >= 1
    assert "JH101" in {f["id"] for f in dave["report"]["findings"]}
    assert dave["url"] == "/user/dave/hardening"
    assert servers(settled)["alice"]["report"]["certificate_expires"] is None


def test_page_names_both_servers_for_an_admin(hub: Hub, settled: dict[str, Any]) -> None:
    """ada (admin): 200, the hub's section first, dave (warn) before alice (ok)."""
    status, page = get(hub, "", hub.token_for("ada"))
    assert status == 200, page
    assert "alice" in page and "dave" in page
    assert page.index("The hub") < page.index(">dave<") < page.index(">alice<")
    if HAS_HUB_CHECK:
        assert "hub-check unavailable" not in page
        assert settled["hub"]["report"] is not None, settled["hub"]
    else:
        assert "hub-check unavailable" in page
    assert 'href="/user/dave/hardening"' in page
    assert "JH101" in page  # dave's worst finding
    assert "<script" not in page


def test_non_admins_are_refused(hub: Hub, settled: dict[str, Any]) -> None:
    """nina: 403 on the page and the metrics; prom (access to the service): metrics only."""
    nina = hub.token_for("nina")
    # prom's token as docs/fleet.md makes it: only the scope to access the service.
    status, body = hub.api(
        "POST",
        "users/prom/tokens",
        {"note": "prometheus scrape", "scopes": ["access:services!service=hardening"]},
    )
    assert status in (200, 201), body
    prom = json.loads(body)["token"]
    assert get(hub, "", nina)[0] == 403
    assert get(hub, "metrics", nina, "text/plain")[0] == 403
    status, page = get(hub, "", prom)
    assert status == 403
    assert "for the hub&#39;s admins" in page or "for the hub's admins" in page
    # What Prometheus sends by default: Authorization: Bearer <token>.
    status, text = get(hub, "metrics", prom, "text/plain", scheme="Bearer")
    assert status == 200, text
    assert 'user="dave"' in text
    # The JSON holds the findings' messages and fixes: admins only, like the page.
    assert get(hub, "metrics?format=json", prom, "application/json")[0] == 403
    # Anonymous: a scraper gets 403, a browser is sent to the hub's OAuth.
    assert get(hub, "metrics", None, "text/plain")[0] == 403
    status, _ = get(hub, "", None)
    assert status == 302


def test_metrics_name_both_users(hub: Hub, settled: dict[str, Any]) -> None:
    """One series per user server, labelled by user and server name, plus the hub's own."""
    status, text = get(hub, "metrics", hub.token_for("ada"), "text/plain")
    assert status == 200, text
    assert 'jupyter_hardening_fleet_server_verdict{server="",user="alice",verdict="ok"} 1.0' in text
    assert (
        'jupyter_hardening_fleet_server_verdict{server="",user="dave",verdict="warn"} 1.0' in text
    )
    assert 'jupyter_hardening_fleet_server_up{server="",user="dave"} 1.0' in text
    assert (
        'jupyter_hardening_fleet_server_findings{server="",severity="warning",user="dave"}' in text
    )
    assert 'jupyter_hardening_fleet_servers{verdict="warn"} 1.0' in text
    expected = "1.0" if HAS_HUB_CHECK else "0.0"
    assert f"jupyter_hardening_hub_report_available {expected}" in text


def test_a_server_that_does_not_answer_is_unreachable(hub: Hub, settled: dict[str, Any]) -> None:
    """carl's server frozen (SIGSTOP): unreachable after the timeout, never ok; back when thawed."""
    pid, _ = find_process("jupyterhub-singleuser", hub.root, JUPYTERHUB_USER="carl")
    os.kill(pid, signal.SIGSTOP)
    try:
        data = wait_for(
            hub,
            lambda d: servers(d).get("carl", {}).get("verdict") == "unreachable",
            "carl unreachable",
        )
        carl = servers(data)["carl"]
        assert carl["report"] is None
        assert carl["problem"] == f"timed out after {TIMEOUT} s"
        _, text = get(hub, "metrics", hub.token_for("ada"), "text/plain")
        assert 'jupyter_hardening_fleet_server_up{server="",user="carl"} 0.0' in text
        assert 'verdict{server="",user="carl",verdict="ok"} 0.0' in text
        assert 'verdict{server="",user="carl",verdict="unreachable"} 1.0' in text
        _, page = get(hub, "", hub.token_for("ada"))
        # Unreachable ranks above warn and ok.
        assert page.index(">carl<") < page.index(">dave<") < page.index(">alice<")
        assert "No report: timed out" in page
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_for(hub, lambda d: servers(d)["carl"]["verdict"] == "ok", "carl ok again")
    # The service's log says it once when it goes, once when it comes back (not every refresh).
    lines = hub.log.splitlines()
    gone = [line for line in lines if "carl's server is unreachable: timed out after 3 s" in line]
    assert len(gone) == 1, gone
    assert [line for line in lines if "carl's server answers its report again" in line]


def test_fleet_page_in_chromium(hub: Hub, settled: dict[str, Any], tmp_path: Path) -> None:
    """ada logs in to the hub, opens the service, authorizes it: the page renders, no script."""
    from .browser_util import launch_chromium, screenshot, trusting_home
    from .fixtures import require_tool

    require_tool("chromium", "Chromium (Debian chromium)")
    require_tool("certutil", "certutil (Debian libnss3-tools)")
    from playwright.sync_api import sync_playwright

    home = trusting_home(tmp_path / "home", None)
    with sync_playwright() as p:
        browser = launch_chromium(p, home)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(hub.url("hub/login"))
            page.fill("#username_input", "ada")
            page.fill("#password_input", "anything")
            with page.expect_navigation():
                page.click("#login_submit")
            response = page.goto(hub.url("services/hardening/"))
            if "oauth2/authorize" in page.url:  # the hub asks once to authorize the service
                screenshot(page, "fleet-01-authorize")
                with page.expect_navigation():
                    page.locator("form [type=submit]").first.click()
                response = page.goto(hub.url("services/hardening/"))
            assert response is not None and response.status == 200, page.url
            page.locator("#servers").wait_for()
            screenshot(page, "fleet-02-page")
            text = page.inner_text("main")
            assert "alice" in text and "dave" in text and "carl" in text
            assert page.locator("#hub .badge").count() == 1
            assert page.locator("script").count() == 0
            # The stylesheet is allowed by the CSP (its hash): the badges are coloured.
            colour = page.locator("#servers ~ article .badge-warn").first.evaluate(
                "e => getComputedStyle(e).backgroundColor"
            )
            assert colour == "rgb(245, 124, 0)", colour
        finally:
            browser.close()


def test_a_stopped_server_disappears(hub: Hub, settled: dict[str, Any]) -> None:
    """dave's server stopped through the hub's API: gone from the JSON and the metrics."""
    status, body = hub.api("DELETE", "users/dave/server")
    assert status in (202, 204), body
    data = wait_for(hub, lambda d: "dave" not in servers(d), "dave gone")
    assert set(servers(data)) == {"alice", "carl"}
    _, text = get(hub, "metrics", hub.token_for("ada"), "text/plain")
    assert 'user="dave"' not in text
    assert 'user="alice"' in text


def test_no_secret_in_responses_or_the_log(hub: Hub, settled: dict[str, Any]) -> None:
    """The service's token and the users' tokens appear in no response and not in the hub's log."""
    _, environ = find_process("jupyter-hardening", JUPYTERHUB_SERVICE_NAME="hardening")
    token = environ["JUPYTERHUB_API_TOKEN"]
    assert len(token) >= 32
    ada = hub.token_for("ada")
    bodies = [
        get(hub, "", ada)[1],
        get(hub, "metrics", ada, "text/plain")[1],
        get(hub, "metrics?format=json", ada, "application/json")[1],
        get(hub, "", hub.token_for("nina"))[1],
    ]
    for secret in (token, ada, hub.token_for("nina")):
        assert not [b for b in bodies if secret in b]
        assert secret not in hub.log


# -- without a hub: what user servers can answer ---------------------------------------------
# A user server is its user's: it may answer anything. These servers are real tornado servers on
# loopback, one per way of answering, refreshed by the same Fleet the service runs.

GOOD_REPORT = {
    "version": "0.1.0",
    "verdict": "ok",
    "findings": [],
    "counts": {"error": 0, "warning": 0, "info": 0, "accepted": 0},
    "settings": {"ServerApp.certfile expires": "2027-01-31T12:00:00+00:00"},
}
FORGED = '<b onmouseover="alert(1)">'


def _answers() -> dict[str, tuple[int, str, str, float]]:
    """{user: (status, content type, body, delay)} of the stub servers."""
    evil = dict(
        GOOD_REPORT,
        verdict="warn",
        counts={"error": 0, "warning": 1, "info": 0, "accepted": 0},
        findings=[{"id": FORGED, "name": FORGED, "severity": "warning", "message": FORGED * 200}],
    )
    return {
        "good": (200, "application/json", json.dumps(GOOD_REPORT), 0),
        "html": (200, "text/html", "<html>ok</html>", 0),
        "notreport": (200, "application/json", json.dumps({"verdict": "ok"}), 0),
        "badcount": (
            200,
            "application/json",
            json.dumps(dict(GOOD_REPORT, counts={"error": "0"})),
            0,
        ),
        "missing": (404, "application/json", "{}", 0),
        "login": (302, "text/html", "", 0),
        "slow": (200, "application/json", json.dumps(GOOD_REPORT), 5),
        FORGED: (200, "application/json", json.dumps(evil), 0),
    }


def _refresh_stubs(concurrency: int = 3, read_servers: bool = True) -> Any:
    import asyncio
    from urllib.parse import quote

    from tornado import web

    from jupyter_hardening.fleet import Fleet

    from .servers import free_port

    answers = _answers()
    seen_tokens: list[str] = []

    class Users(web.RequestHandler):
        def get(self) -> None:
            seen_tokens.append(self.request.headers.get("Authorization", ""))
            users = [
                {"name": u, "servers": {"": {"ready": True, "url": f"/user/{quote(u, safe='')}/"}}}
                for u in answers
            ]
            users.append({"name": "pending", "servers": {"": {"ready": False, "url": "/x/"}}})
            # a named server (c.JupyterHub.allow_named_servers): /user/NAME/SERVER/
            users[0]["servers"]["gpu"] = {"ready": True, "url": f"/user/{users[0]['name']}/gpu/"}
            if not read_servers:  # what the hub answers a token without read:servers
                users = [{"kind": "user", "name": u["name"]} for u in users]
            self.finish({"items": users, "_pagination": {"next": None}})

    class Report(web.RequestHandler):
        async def get(self, user: str) -> None:
            from urllib.parse import unquote

            seen_tokens.append(self.request.headers.get("Authorization", ""))
            status, content_type, body, delay = answers[unquote(user)]
            await asyncio.sleep(delay)
            self.set_status(status)
            if status == 302:
                self.set_header("Location", "/hub/login")
            self.set_header("Content-Type", content_type)
            self.finish(body)

    async def run() -> Any:
        port = free_port()
        server = web.Application(
            [
                (r"/hub/api/users", Users),
                (r"/user/([^/]+)/hardening", Report),
                (r"/user/([^/]+)/gpu/hardening", Report),
            ]
        ).listen(port, address="127.0.0.1")
        origin = f"http://127.0.0.1:{port}"
        fleet = Fleet(f"{origin}/hub/api", origin, "s3cret-token", concurrency, timeout=1)
        try:
            return await fleet.refresh(), fleet
        finally:
            fleet.close()
            server.stop()

    state, fleet = asyncio.run(run())
    return state, fleet, seen_tokens


def test_only_a_valid_report_counts_as_one() -> None:
    """HTML, non-reports, bad counts, 404, a login redirect, a timeout: unreachable, never ok."""
    state, fleet, tokens = _refresh_stubs()
    rows = {s.entry.user: s for s in state.servers}
    assert "pending" not in rows  # a server still starting is not listed
    (named,) = [s for s in state.servers if s.entry.name == "gpu"]
    assert (named.entry.label, named.verdict) == ("good/gpu", "ok")
    assert rows["good"].verdict == "ok"
    assert rows["good"].summary.certificate_expires.year == 2027
    problems = {u: s.problem for u, s in rows.items() if s.verdict == "unreachable"}
    assert problems == {
        "html": "answered text/html, not JSON",
        "notreport": "answered JSON that is not a hardening report (no verdict, counts or findings)",
        "badcount": "answered a report whose counts['error'] is not a count",
        "missing": "HTTP 404 (is jupyter_hardening installed and enabled in the user's environment?)",
        "login": "HTTP 302: redirected to a login (does the service's role have access:servers?)",
        "slow": "timed out after 1 s",
    }
    # Worst first: unreachable above warn above ok.
    assert [s.verdict for s in state.servers][-3:] == ["warn", "ok", "ok"]
    assert set(tokens) == {"token s3cret-token"}
    assert fleet.peak_in_flight <= 3
    from jupyter_hardening.fleet import metrics_text

    text = metrics_text(state).decode()
    series = (
        'jupyter_hardening_fleet_server_certificate_expiry_timestamp_seconds{server="",user="good"}'
    )
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(series)]
    assert values == [rows["good"].summary.certificate_expires.timestamp()]
    assert 'certificate_expiry_timestamp_seconds{server="",user="html"}' not in text
    assert 'jupyter_hardening_fleet_server_up{server="gpu",user="good"} 1.0' in text


def test_a_forged_report_is_escaped_and_bounded() -> None:
    """A user's server controls its answer: its text is cut short and escaped on the page."""
    from jupyter_hardening.fleet import fleet_json, metrics_text, render_page
    from jupyter_hardening.page import Links

    state, _, _ = _refresh_stubs()
    forged = next(s for s in state.servers if s.entry.user == FORGED)
    assert forged.verdict == "warn"
    assert len(forged.summary.findings[0]["message"]) <= 600
    page = render_page(state, Links("/hub/home", "/hub/logo", "/f.ico", "/j"), 60).decode()
    assert "<b onmouseover" not in page
    assert "&lt;b onmouseover=&#34;alert(1)&#34;&gt;" in page
    assert FORGED in {s["user"] for s in fleet_json(state)["servers"]}
    text = metrics_text(state).decode()
    # Prometheus escapes label values; a quote cannot end the label early.
    assert 'user="<b onmouseover=\\"alert(1)\\">"' in text
    assert "s3cret" not in page + text


def test_a_role_without_read_servers_is_named() -> None:
    """Without read:servers the hub lists users but not their servers: said, not an empty fleet."""
    state, _, _ = _refresh_stubs(read_servers=False)
    assert state.servers == ()
    assert state.listing_problem.endswith("the service's role needs read:servers")


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/", "http://127.0.0.1:abc/", "ftp://x:1/"])
def test_an_unusable_service_url_is_one_line(tmp_path: Path, url: str) -> None:
    """A JUPYTERHUB_SERVICE_URL whose port Python cannot read: one line naming it, no traceback."""
    from .cli import hardening
    from .servers import JupyterHome

    env = {
        "JUPYTERHUB_SERVICE_URL": url,
        "JUPYTERHUB_API_URL": "http://127.0.0.1:1/hub/api",
        "JUPYTERHUB_API_TOKEN": "t" * 32,
    }
    out = hardening("hub-service", home=JupyterHome(tmp_path / "jhome"), env=env, timeout=60)
    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "JUPYTERHUB_SERVICE_URL must be http://HOST:PORT" in out.stderr, out.stderr


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("", "http://127.0.0.1:8000/"),
        ("c.JupyterHub.bind_url = 'http://:8000/jh/'", "http://127.0.0.1:8000/"),
        ("c.JupyterHub.bind_url = 'https://0.0.0.0:443/'", "https://127.0.0.1:443/"),
        ("c.JupyterHub.bind_url = 'http://[::]:8000'", "http://[::1]:8000/"),
        ("c.JupyterHub.ip = '10.0.0.5'\nc.JupyterHub.port = 9000", "http://10.0.0.5:9000/"),
        (
            "c.JupyterHub.ssl_cert = '/etc/hub.pem'\nc.JupyterHub.port = 443",
            "https://127.0.0.1:443/",
        ),
    ],
    ids=["defaults", "all-addresses", "https", "ipv6", "ip-port", "ssl-cert"],
)
def test_the_hub_address_from_its_config(tmp_path: Path, config: str, expected: str) -> None:
    """Without --proxy-url or JUPYTERHUB_PUBLIC_HUB_URL: the hub config's bind, on loopback."""
    from jupyter_hardening.hubservice import proxy_url_from_config

    path = tmp_path / "jupyterhub_config.py"
    path.write_text("c = get_config()  # noqa: F821\n" + config + "\n")
    assert proxy_url_from_config(str(path)) == expected


def test_the_certificate_expiry_reaches_the_fleet(tmp_path: Path) -> None:
    """A server's report carries its certificate's notAfter; the fleet reads it from there."""
    import datetime as dt

    from cryptography import x509

    from jupyter_hardening.fleet import summarize

    from .certs import TLSFiles
    from .forked import Run, run_all
    from .servers import JupyterHome

    home = JupyterHome(tmp_path / "jhome")
    cert, key = TLSFiles(tmp_path / "tls").pair("server", days=20)
    # Both runs of `check` in one batch (tests/forked.py: a fresh process each).
    out, without = run_all(
        [
            Run(
                [
                    "check",
                    "--format",
                    "json",
                    f"--ServerApp.certfile={cert}",
                    f"--ServerApp.keyfile={key}",
                ],
                home,
            ),
            Run(["check", "--format", "json"], home),
        ]
    )
    assert out.returncode in (0, 1), out.stderr
    report = json.loads(out.stdout)
    not_after = x509.load_pem_x509_certificate(cert.read_bytes()).not_valid_after_utc
    expires = report["settings"]["ServerApp.certfile expires"]
    assert dt.datetime.fromisoformat(expires) == not_after.replace(microsecond=0)
    summary = summarize(report)
    assert not isinstance(summary, str)
    assert summary.certificate_expires == not_after.replace(microsecond=0)
    assert without.returncode in (0, 1), without.stderr
    plain = json.loads(without.stdout)
    assert plain["settings"]["ServerApp.certfile expires"] == "no certificate"


def test_the_hubs_own_report_comes_first(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With hub_report present its report heads the page and the metrics; a failure says its
    kind only. (A stand-in for jupyter_hardening.hubcheck, which lands on its own branch.)"""
    import sys
    import types

    from traitlets import TraitError

    from jupyter_hardening.fleet import State, hub_check_section, metrics_text, render_page
    from jupyter_hardening.page import Links

    calls: list[str | None] = []
    hub_report = dict(
        GOOD_REPORT,
        verdict="warn",
        counts={"error": 0, "warning": 1, "info": 0, "accepted": 0},
        findings=[
            {"id": "JH899", "name": "hub-thing", "severity": "warning", "message": "m", "fix": "f"}
        ],
    )

    def report(config_file: str | None) -> dict[str, Any]:
        calls.append(config_file)
        return hub_report

    fake = types.ModuleType("jupyter_hardening.hubcheck")
    fake.hub_report = report  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jupyter_hardening.hubcheck", fake)
    section = hub_check_section("/srv/jupyterhub/jupyterhub_config.py")
    assert calls == ["/srv/jupyterhub/jupyterhub_config.py"]
    assert section.summary is not None and section.summary.verdict == "warn"
    stubs, _, _ = _refresh_stubs()
    state = State(servers=stubs.servers, hub=section, refreshed_at=stubs.refreshed_at)
    page = render_page(state, Links("/hub/home", "/hub/logo", "/f.ico", "/j"), 60).decode()
    assert page.index("JH899") < page.index('id="servers"') < page.index(">good<")
    text = metrics_text(state).decode()
    assert 'jupyter_hardening_hub_verdict{verdict="warn"} 1.0' in text
    assert 'jupyter_hardening_hub_findings{severity="warning"} 1.0' in text

    def failing(config_file: str | None) -> dict[str, Any]:
        raise TraitError(
            "The 'api_token' trait of a Service instance expected a str, not the int 'S3CRET'"
        )

    fake.hub_report = failing  # type: ignore[attr-defined]
    section = hub_check_section(None)
    assert section.summary is None
    assert section.problem == "hub-check failed (TraitError); see the service's log"
    assert "'api_token' trait" in caplog.text
    assert "S3CRET" not in caplog.text
