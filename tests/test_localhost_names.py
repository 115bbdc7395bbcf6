"""`*.localhost` names are resolved like any other name (issue 11, point 8).

RFC 6761 asks resolvers to send `*.localhost` to loopback, but glibc with `hosts: files dns`
does not: /etc/hosts or DNS decides, and jupyter_server binds wherever the name resolves. The
tests give the name a non-loopback address in a private /etc/hosts (a mount namespace, so the
machine's own file is untouched) and run the real resolver and the real `check`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .fixtures import require_tool
from .servers import JupyterHome, jupyter_bin

HOSTS = """127.0.0.1 localhost
::1 localhost
192.0.2.7 evil.localhost
127.0.0.1 lab.localhost
"""


def in_private_hosts(tmp_path: Path, argv: list[str], env: dict[str, str] | None = None):
    """Run ``argv`` with /etc/hosts replaced by HOSTS, in a mount namespace of its own."""
    unshare = require_tool("unshare", "util-linux's unshare")
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS)
    script = 'mount --bind "$0" /etc/hosts && exec "$@"'
    return subprocess.run(
        [unshare, "-rm", "sh", "-c", script, str(hosts), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_localhost_subdomain_is_judged_by_where_it_resolves(tmp_path: Path) -> None:
    """A name under .localhost that resolves elsewhere is not loopback; one that resolves to
    127.0.0.1 is; one that does not resolve is not trusted either."""
    code = (
        "from jupyter_hardening.facts import binds_loopback as f; "
        "print(f('evil.localhost'), f('lab.localhost'), f('nowhere.localhost'), f('localhost'))"
    )
    out = in_private_hosts(tmp_path, [sys.executable, "-c", code])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "False", "True"]


def test_check_treats_a_remote_localhost_name_as_remote(home: JupyterHome, tmp_path: Path) -> None:
    """`check --ServerApp.ip=evil.localhost` without TLS: the remote rules fire (JH101), as the
    server would bind 192.0.2.7; `lab.localhost` (127.0.0.1) stays local."""
    argv = [jupyter_bin("jupyter"), "hardening", "check", "--format", "json"]
    far = in_private_hosts(tmp_path, [*argv, "--ServerApp.ip=evil.localhost"], home.env())
    assert far.returncode == 1, far.stdout + far.stderr
    assert "JH101" in {f["id"] for f in json.loads(far.stdout)["findings"]}
    near = in_private_hosts(tmp_path, [*argv, "--ServerApp.ip=lab.localhost"], home.env())
    assert near.returncode == 0, near.stdout + near.stderr


def test_a_browser_origin_under_localhost_is_the_browsers_own_machine(tmp_path: Path) -> None:
    """On the browser's side, `*.localhost` is loopback whatever the resolver says: Chromium
    loads http://evil.localhost:PORT from 127.0.0.1 with no /etc/hosts entry. So an origin
    there is judged alike in allow_origin, allow_origin_pat and frame-ancestors: no finding
    (allow_origin called it plain http an on-path attacker serves: found in review)."""
    import http.server
    import threading

    from jupyter_hardening.report import run_rules
    from jupyter_hardening.snapshot import Snapshot

    from .servers import free_port

    chromium = require_tool("chromium", "Debian's chromium")
    (tmp_path / "index.html").write_text("<p>served from loopback</p>")
    port = free_port()
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        shown = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--dump-dom",
                f"http://evil.localhost:{port}/",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.shutdown()
    assert "served from loopback" in shown.stdout, shown.stderr[-2000:]
    origin = "http://evil.localhost:3000"
    for snap in (
        Snapshot(allow_origin=origin),
        Snapshot(allow_origin_pat=r"http://evil\.localhost:3000"),
        Snapshot(csp=f"frame-ancestors 'self' {origin}"),
    ):
        found = [f.id for f in run_rules(snap) if f.id.startswith(("JH3", "JH6"))]
        assert found == [], (snap, found)
