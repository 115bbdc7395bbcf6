"""The shared facts (jupyter_hardening.facts) against what jupyter_server itself does."""

from __future__ import annotations

import pytest
from jupyter_server.serverapp import ServerApp

from jupyter_hardening import facts


@pytest.mark.parametrize("ip", ["", "*", "0.0.0.0", "::", "[::]"])
def test_wildcards_listen_everywhere(ip: str) -> None:
    """Every spelling of "all interfaces" is a wildcard, reached on loopback from here."""
    assert facts.is_wildcard(ip)
    assert not facts.binds_loopback(ip)
    assert facts.local_address(ip) in ("127.0.0.1", "::1")


def test_star_is_what_jupyter_server_turns_into_empty() -> None:
    """jupyter_server stores ip='*' as '' (both are wildcards here)."""
    assert ServerApp(ip="*").ip == ""


@pytest.mark.parametrize(
    ("host", "literal", "browser"),
    [
        ("localhost", True, True),
        ("127.0.0.2", True, True),
        ("[::1]", True, True),
        ("lab.localhost", False, True),  # a secure context for browsers, resolved to bind
        ("10.0.0.1", False, False),
        ("jupyter.example.com", False, False),
    ],
)
def test_loopback_views(host: str, literal: bool, browser: bool) -> None:
    """jupyter_server's Host check (a loopback address, or localhost) and a browser's view."""
    assert facts.loopback_literal(host) is literal
    assert facts.browser_loopback(host) is browser


def test_ports() -> None:
    """Default ports per scheme and the TCP range."""
    assert (facts.default_port("https"), facts.default_port("http")) == (443, 80)
    assert facts.valid_port(1) and facts.valid_port(65535)
    assert not facts.valid_port(0) and not facts.valid_port(65536)


@pytest.mark.parametrize(
    ("base_url", "path"),
    [
        ("/http://www.example.com/notebook/", "/notebook/"),
        ("//www.example.com/", "/"),
        ("/https:/host/", "/"),
        ("/jp/", None),
        ("/a/http://x/", None),  # a path with '//' in it: JH502's, not a full URL
    ],
)
def test_full_url_path(base_url: str, path: str | None) -> None:
    """A base_url written as a full URL, and the path it means."""
    assert facts.full_url_path(base_url) == path


def test_route_pattern_problem() -> None:
    """What breaks jupyter_server's route patterns once base_url is joined in."""
    assert facts.route_pattern_problem("/jp/") == ""
    assert "named group 'path'" in facts.route_pattern_problem("/(?P<path>x)/")
    assert facts.route_pattern_problem("/a(/") != ""


def test_public_url_parsed_once_into_the_snapshot() -> None:
    """Snapshot.public is public_url parsed; a replaced snapshot parses its own."""
    from jupyter_hardening.record import replace
    from jupyter_hardening.snapshot import Snapshot

    snap = Snapshot(public_url="https://Jupyter.example.com:8443/jp")
    assert snap.public == facts.PublicURL("https", "jupyter.example.com", 8443, "/jp/")
    assert replace(snap, public_url="").public is None
    assert Snapshot(public_url="ftp://x/").public is None
