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
