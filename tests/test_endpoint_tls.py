"""The live report re-checks the certificate and key files after the interval, and /metrics
follows it: a server with TLS files that the tests rotate, in-process (issue #3)."""

from __future__ import annotations

import json
import time

import pytest

from .endpoint_support import (
    BROWSER_ACCEPT,
    ids,
    metric,
    server_config,
    write_tls,
)


@pytest.fixture
def tls(tmp_path):
    """The folder of the server's certificate and key (the server then runs with TLS files)."""
    return tmp_path / "tls"


@pytest.fixture
def jp_server_config(tls):
    """The extension enabled, with TLS files in ``tls`` and a one-minute re-check interval."""
    cert, key = write_tls(tls)
    return server_config(
        ServerApp={"certfile": str(cert), "keyfile": str(key), "ip": "127.0.0.1"},
        Hardening={"recheck_interval": 60},
    )


async def test_certificate_and_key_rechecked_after_the_interval_only(
    get, tls, clock, rule_runs, live
):
    before = json.loads((await get(accept="application/json")).body)
    before_page = (await get(accept=BROWSER_ACCEPT)).body
    assert ids(before) == ["JH406"]  # self-signed: info only
    assert before["verdict"] == "ok"

    write_tls(tls, days=5, key_mode=0o644)  # rotated to a certificate that expires soon
    clock.t += 59
    assert json.loads((await get(accept="application/json")).body) == before
    assert (await get(accept=BROWSER_ACCEPT)).body == before_page
    assert rule_runs == []

    clock.t += 1
    after = json.loads((await get(accept="application/json")).body)
    assert ids(after) == ["JH402", "JH403", "JH406"]
    assert after["verdict"] == "warn"
    assert after["computed_at"] >= before["computed_at"]
    page = (await get(accept=BROWSER_ACCEPT)).body.decode()
    assert "JH403" in page and "The certificate expires on" in page
    assert len(rule_runs) == 1

    for _ in range(5):
        await get(accept="application/json")
        await get(accept=BROWSER_ACCEPT)
    assert len(rule_runs) == 1, "the refreshed report is cached again"

    write_tls(tls, days=-1)
    clock.t += 60
    expired = json.loads((await get(accept="application/json")).body)
    assert "JH403" in ids(expired) and expired["verdict"] == "refuse"
    assert "With these settings the server would refuse to start" in (
        (await get(accept=BROWSER_ACCEPT)).body.decode()
    )


async def test_metrics_follow_the_live_report(get, tls, clock):
    text = (await get("metrics")).body.decode()
    assert metric(text, "jupyter_hardening_findings", severity="info") == 1
    assert metric(text, "jupyter_hardening_certificate_expiry_timestamp_seconds") > time.time()

    write_tls(tls, days=-1)
    clock.t += 60
    # A scrape alone re-checks once the interval has passed: nobody opened /hardening.
    text = (await get("metrics")).body.decode()
    assert metric(text, "jupyter_hardening_findings", severity="error") == 1
    assert metric(text, "jupyter_hardening_verdict", verdict="refuse") == 1
    assert metric(text, "jupyter_hardening_verdict", verdict="ok") == 0
    assert (
        metric(
            text,
            "jupyter_hardening_rule_findings",
            id="JH403",
            name="certificate-expiry",
            severity="error",
        )
        == 1
    )
    assert metric(text, "jupyter_hardening_certificate_expiry_timestamp_seconds") < time.time()
