"""The benchmark runner keeps working: one --quick run prints every figure (no timing asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .fixtures import require_tool
from .nginx_util import nginx_path
from .proxy_util import apache_path, caddy_path

REPO = Path(__file__).resolve().parent.parent
FIGURES = (
    "startup",
    "startup-own",
    "rps",
    "p99",
    "snippet",
    "imports",
    "execute",
    "execute-nodelay",
    "execute-caddy",
    "execute-apache",
    "save",
    "peak-rss",
    "rss-growth",
    "watcher-cost",
    "watcher",
    "fleet",
    "fleet-peak",
)


@pytest.mark.nginx
@pytest.mark.caddy
@pytest.mark.apache
def test_quick_run_prints_every_figure(tmp_path):
    """`python benchmarks/run.py --quick` exits 0 and prints a result line for each figure."""
    require_tool("wrk", "wrk")
    require_tool(nginx_path() or "nginx", "Debian's nginx")
    require_tool(caddy_path() or "caddy", "Debian's caddy")
    require_tool(apache_path() or "apache2", "Debian's apache2")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    results = done.stdout.split("== results", 1)
    assert len(results) == 2, done.stdout
    for key in FIGURES:
        line = re.search(
            rf"^\[{re.escape(key)}\] .*\b(PASS|MISS|report)$", results[1], re.MULTILINE
        )
        assert line, f"no result for [{key}]:\n{done.stdout}"
    assert re.search(r"^machine: \d+ CPUs", done.stdout, re.MULTILINE)
