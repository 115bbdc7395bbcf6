"""GET {base_url}hardening and /metrics, in-process through pytest-jupyter (issue #3)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from urllib.parse import unquote

import pytest
from jupyter_server.auth import Authorizer
from jupyter_server.utils import url_path_join
from markupsafe import escape

import jupyter_hardening.page
import jupyter_hardening.report
import jupyter_hardening.status
from jupyter_hardening import __version__
from jupyter_hardening.handlers.hardening import prefers_json
from jupyter_hardening.page import json_bytes

from .endpoint_support import (
    BROWSER_ACCEPT,
    metric,
    server_config,
    with_config,
)

SCHEMA_KEYS = {
    "version",
    "verdict",
    "findings",
    "counts",
    "refuse_at",
    "computed_at",
    "settings",
    "where",  # where each setting's value came from (provenance)
}
FINDING_KEYS = {"id", "name", "severity", "traits", "message", "fix", "accepted", "reason", "where"}


@pytest.fixture
def jp_server_config(request):
    """The extension enabled, plus the settings of ``with_config``."""
    return getattr(request, "param", None) or server_config()


def style_hash(page: str) -> str:
    """The CSP source that allows the page's inline <style> element."""
    css = re.search(r"<style>(.*?)</style>", page, re.S)
    assert css, "the page has no inline stylesheet"
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()


# --- content negotiation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("", True),
        ("*/*", True),
        ("application/json", True),
        ("text/html", False),
        (BROWSER_ACCEPT, False),
        ("text/html;q=0.5, application/json", True),
        ("application/json;q=0.2, text/html;q=0.9", False),
        ("text/*", False),
        ("application/*, text/html;q=0.1", True),
        ("text/html;q=bogus, application/json;q=0.1", True),
    ],
    ids=lambda v: repr(v) if isinstance(v, str) else str(v),
)
def test_accept_header_picks_the_format(accept, expected):
    assert prefers_json(accept) is expected


async def test_json_report_has_the_check_schema(get, live):
    response = await get(accept="application/json")
    assert response.code == 200
    assert response.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert response.headers["Vary"] == "Accept"
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.body)
    assert set(data) == SCHEMA_KEYS
    assert data["version"] == __version__
    assert data["verdict"] in ("ok", "warn", "refuse")
    assert set(data["counts"]) == {"error", "warning", "info", "accepted"}
    assert all(set(f) == FINDING_KEYS for f in data["findings"])
    assert data["settings"]["IdentityProvider.token"] == "set (48 characters, generated)"
    # Byte for byte what `jupyter hardening check --format json` prints for the same report.
    assert response.body == json_bytes(live.current())


async def test_where_settings_come_from_is_found_on_the_first_read(get, live):
    """A start with nothing found does not look for where each setting came from (issue 11):
    the first read of the report does, and the JSON lists it."""
    assert not live.last.items, "this server's settings give findings: the sources are eager"
    assert live.last.settings_where == ()
    data = json.loads((await get(accept="application/json")).body)
    assert data["where"]["ServerApp.ip"][0]["wins"] is True
    assert dict(live.last.settings_where)["ServerApp.ip"]


@pytest.mark.parametrize(
    ("accept", "query", "kind"),
    [
        (None, "", "json"),
        ("*/*", "", "json"),
        (BROWSER_ACCEPT, "format=json", "json"),
        ("application/json", "format=html", "html"),
        (BROWSER_ACCEPT, "", "html"),
    ],
)
async def test_format_parameter_and_accept(get, accept, query, kind):
    response = await get(accept=accept, query=query)
    assert response.code == 200
    expected = "application/json" if kind == "json" else "text/html"
    assert response.headers["Content-Type"].startswith(expected)


async def test_unknown_format_is_a_bad_request(get):
    response = await get(query="format=xml")
    assert response.code == 400
    assert json.loads(response.body)["message"] == "format must be 'json' or 'html'"


async def test_html_page_is_complete_and_scriptless(get, jp_serverapp, jp_base_url):
    response = await get(accept=BROWSER_ACCEPT)
    assert response.code == 200
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    page = response.body.decode()
    assert "<h1" in page and "OK</span> Nothing to fix" in page
    assert "No findings: nothing to fix." in page
    assert "Accepted risks (0)" in page
    assert "Effective settings (secrets redacted)" in page
    assert "<code>IdentityProvider.token</code>" in page and "set (48 characters" in page
    assert f"jupyter_hardening {__version__}" in page
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT[^"]+">\d{4}-\d\d-\d\d [\d:]+ UTC</time>', page
    )
    assert "re-run at most every 5 minutes" in page
    assert f'href="{jp_base_url}hardening?format=json"' in page
    assert f'src="{jp_base_url}static/logo/logo.png?v=' in page
    # The report lists this server's weak spots: browsers must not keep it on disk or show it
    # from history after logout ("no-cache" allows both).
    assert response.headers["Cache-Control"] == "no-store"
    # No JavaScript at all, and a policy that would block it anyway, but allows our stylesheet.
    assert "<script" not in page.lower()
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp
    assert "default-src 'none'" in csp
    assert f"style-src {style_hash(page)}'" in csp


@with_config(
    ServerApp={"allow_origin": "*", "disable_check_xsrf": True},
    Hardening={"refuse_at": "never", "accepted_risks": {"JH205": "lab network, fixed next week"}},
)
async def test_page_groups_findings_with_fixes_and_accepted_risks(get):
    data = json.loads((await get(accept="application/json")).body)
    by_id = {f["id"]: f for f in data["findings"]}
    assert by_id["JH301"]["severity"] == "error" and not by_id["JH301"]["accepted"]
    assert by_id["JH205"]["accepted"] and by_id["JH205"]["reason"] == "lab network, fixed next week"
    assert data["counts"]["accepted"] == 1

    page = (await get(accept=BROWSER_ACCEPT)).body.decode()
    errors = page.index('id="sev-error"')
    accepted = page.index('id="accepted"')
    settings = page.index('id="settings"')
    assert errors < accepted < settings
    jh301 = page.index('id="JH301"')
    assert errors < jh301 < accepted, "JH301 is listed under errors"
    assert accepted < page.index('id="JH205"') < settings, "JH205 is listed as accepted"
    for text in (by_id["JH301"]["message"], by_id["JH301"]["fix"], "lab network, fixed next week"):
        assert escape(text) in page
    assert "<code>ServerApp.allow_origin</code>" in page
    assert "Findings never stop this server from starting" in page


XSS = '<script>alert("x")</script>'


@with_config(
    ServerApp={
        "tornado_settings": {
            "headers": {
                "Content-Security-Policy": f"frame-ancestors 'self' 'https://a.example' {XSS}"
            }
        }
    },
    Hardening={
        "refuse_at": "never",
        "accepted_risks": {"JH603": '<img src=x onerror="alert(1)">', "<svg onload=alert(2)>": "x"},
    },
)
async def test_user_controlled_values_are_escaped(get):
    page = (await get(accept=BROWSER_ACCEPT)).body.decode()
    # The values are shown (escaped) in the settings, the finding's fix and the accepted reason.
    assert escape(XSS) in page
    assert escape('<img src=x onerror="alert(1)">') in page
    assert escape("<SVG ONLOAD=ALERT(2)>") in page
    for raw in ("<script", "<img src=x", "<svg"):
        assert raw not in page.lower()
    # The JSON report carries the raw values, as data, with a JSON content type.
    response = await get(accept="application/json")
    assert response.headers["Content-Type"].startswith("application/json")
    assert XSS in json.loads(response.body)["settings"]["Content-Security-Policy"]


# --- authentication and authorization ------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "query"), [("application/json", ""), (None, ""), (BROWSER_ACCEPT, "format=json")]
)
async def test_anonymous_api_client_gets_403(get, accept, query):
    response = await get(accept=accept, query=query, token=None)
    assert response.code == 403
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.body)["reason"] == "Forbidden"


async def test_wrong_token_is_anonymous(get):
    response = await get(accept="application/json", token="not-the-token")
    assert response.code == 403


async def test_anonymous_browser_is_sent_to_login(get, jp_base_url):
    response = await get(accept=BROWSER_ACCEPT, token=None)
    assert response.code == 302
    location = response.headers["Location"]
    assert location.startswith(url_path_join(jp_base_url, "login") + "?next=")
    assert unquote(location.split("next=", 1)[1]) == url_path_join(jp_base_url, "hardening")


class DenyHardening(Authorizer):
    """Allows everything except the hardening report, and records what it was asked."""

    asked: list[tuple[str, str]] = []

    def is_authorized(self, handler, user, action, resource):
        """Deny the 'hardening' resource only."""
        self.asked.append((action, resource))
        return resource != "hardening"


@with_config(ServerApp={"authorizer_class": DenyHardening})
@pytest.mark.parametrize("accept", ["application/json", BROWSER_ACCEPT])
async def test_authorizer_can_deny_the_hardening_resource(get, jp_serverapp, accept):
    DenyHardening.asked.clear()
    response = await get(accept=accept)
    assert response.code == 403
    assert ("read", "hardening") in DenyHardening.asked
    body = response.body.decode()
    assert "User is not authorized to read on resource: hardening." in body
    assert jp_serverapp.identity_provider.token not in body
    # Only our resource is denied: the rest of the server still answers.
    assert (await get("api/status")).code == 200


@with_config(ServerApp={"allow_unauthenticated_access": False})
async def test_route_passes_jupyter_servers_authentication_audit(get):
    # With allow_unauthenticated_access = False, jupyter_server warns about (pytest: fails on)
    # any handler method lacking @web.authenticated.
    assert (await get(accept="application/json", token=None)).code == 403
    assert (await get(accept="application/json")).code == 200


# --- no secret leaves ---------------------------------------------------------------------


# --- live and cheap ------------------------------------------------------------------------


async def test_requests_are_served_from_the_cached_report(get, live, rule_runs):
    first_json = await get(accept="application/json")
    first_html = await get(accept=BROWSER_ACCEPT)
    for _ in range(20):
        assert (await get(accept="application/json")).body == first_json.body
        assert (await get(accept=BROWSER_ACCEPT)).body == first_html.body
    assert rule_runs == [], "a request re-ran the rules"
    assert live.current() is live.current()


async def test_etag_answers_304(get):
    first = await get(accept="application/json")
    etag = first.headers["Etag"]
    again = await get(accept="application/json", headers={"If-None-Match": etag})
    assert again.code == 304 and again.body == b""
    assert again.headers["Cache-Control"] == "no-store"
    html_etag = (await get(accept=BROWSER_ACCEPT)).headers["Etag"]
    assert html_etag != etag


# --- /metrics ------------------------------------------------------------------------------


async def test_metrics_need_authentication_by_default(get):
    assert (await get("metrics", token=None)).code == 403
    response = await get("metrics")
    assert response.code == 200
    text = response.body.decode()
    assert metric(text, "jupyter_hardening_verdict", verdict="ok") == 1
    assert metric(text, "jupyter_hardening_verdict", verdict="warn") == 0
    assert metric(text, "jupyter_hardening_verdict", verdict="refuse") == 0
    for severity in ("error", "warning", "info"):
        assert metric(text, "jupyter_hardening_findings", severity=severity) == 0
    assert metric(text, "jupyter_hardening_accepted_findings") == 0
    assert metric(text, "jupyter_hardening_report_timestamp_seconds") > 0
    assert "jupyter_hardening_certificate_expiry_timestamp_seconds" not in text


@with_config(
    ServerApp={"authenticate_prometheus": False, "allow_origin": "*"},
    Hardening={"refuse_at": "never", "accepted_risks": {"JH999": "typo in a rule id"}},
)
async def test_metrics_public_when_authenticate_prometheus_is_false(get):
    response = await get("metrics", token=None)
    assert response.code == 200
    text = response.body.decode()
    assert metric(text, "jupyter_hardening_findings", severity="error") == 1
    assert metric(text, "jupyter_hardening_findings", severity="warning") == 1  # JH002
    assert metric(text, "jupyter_hardening_verdict", verdict="warn") == 1
    labels = {"id": "JH301", "name": "any-origin", "severity": "error"}
    assert metric(text, "jupyter_hardening_rule_findings", **labels) == 1
    assert metric(text, "jupyter_hardening_accepted_findings") == 0
    # The report itself still needs a login.
    assert (await get(accept="application/json", token=None)).code == 403


async def test_unexpected_error_is_logged_without_the_query(get, jp_serverapp, monkeypatch, caplog):
    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(jupyter_hardening.page.ReportPages, "json", broken)
    token = jp_serverapp.identity_provider.token
    response = await get(query=f"format=json&token={token}", token=None)
    assert response.code == 500
    assert json.loads(response.body) == {
        "message": "Internal Server Error",
        "reason": "Internal Server Error",
    }
    log = "\n".join(caplog.handler.format(r) for r in caplog.get_records("call"))
    assert "Uncaught exception GET /a%40b/hardening (127.0.0.1)" in log
    assert "RuntimeError: boom" in log
    assert token not in log


@pytest.mark.parametrize("scraped_before", [True, False], ids=["later-scrape", "first-scrape"])
async def test_failing_recheck_keeps_metrics_up(get, live, monkeypatch, caplog, scraped_before):
    """A re-check that fails serves the last report computed, even on the very first scrape."""
    if scraped_before:
        assert (await get("metrics")).code == 200

    def broken():
        raise OSError("disk gone")

    monkeypatch.setattr(live, "current", broken)
    response = await get("metrics")
    assert response.code == 200
    text = response.body.decode()
    assert metric(text, "jupyter_hardening_verdict", verdict="ok") == 1, "last known report"
    assert "http_request_duration_seconds" in text, "jupyter_server's own metrics are still there"
    assert "[jupyter_hardening] re-checking the report failed" in caplog.text
