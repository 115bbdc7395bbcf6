"""Every server start imports the extension: what only some configurations or requests need stays
unimported (issue 11, the benchmark's ``startup-own``). Checked by module names, not by timing, so
a regression fails deterministically on any machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .servers import JupyterHome, free_port

# Needed by some configurations only, or by no server start at all (the commands'): a start with
# jupyter_server's defaults must not import them. jinja2, jsonschema and packaging are left out
# of the audited list: jupyter_server itself imports them while it initializes.
NOT_AT_ANY_DEFAULT_START = (
    "cryptography",  # certificates: only with ServerApp.certfile
    "publicsuffixlist",  # origin patterns and frame-ancestors sources only
    "crossplane",  # nginx-snippet / nginx-check
    "difflib",  # "did you mean" of the commands
    "jupyterhub",  # only under a hub (read without importing it even then)
    "prometheus_client.core",  # a module of re-exports: the metric families are metrics_core's
    "jupyter_hardening.diagnosis",  # the proxy watcher: imported by the first request
    "jupyter_hardening.page",  # the HTML page: imported by the first /hardening request
    "jupyter_hardening.metrics",  # /metrics: imported by the first scrape
    "jupyter_hardening.origins",
    "jupyter_hardening.nginx",
    "jupyter_hardening.command",
    "jupyter_hardening.check",
    "jupyter_hardening.hub",
    "jupyter_hardening.hubcheck",
    "jupyter_hardening.hubsnapshot",  # hub-check's data, three dataclasses
    "jupyter_hardening.sarif",
    "jupyter_hardening.docs",
    "jupyter_hardening.rules.hubconfig",  # hub-check's rules (HUB_RULES, made on first use)
    "jupyter_hardening.rules.live",  # the watcher's kinds (LIVE_RULES)
    "jupyter_hardening.rules.nginxconf",  # nginx-check's kinds (NGINX_RULES)
    # Rule modules behind a gate (rules/__init__.py; proven in tests/test_rule_gates.py):
    "jupyter_hardening.rules.cors",  # allow_origin or allow_origin_pat set
    "jupyter_hardening.rules.tls",  # certfile, keyfile or client_ca set
    "jupyter_hardening.rules.urls",  # a base_url other than '/'
    "jupyter_hardening.rules.csp",  # a Content-Security-Policy of the config's own
    "jupyter_hardening.rules.proxy",  # trust_xheaders or Hardening.public_url
    "jupyter_hardening.rules.hub",  # a JupyterHub user server
    "jupyter_hardening.provenance",  # where settings come from: the first /hardening, or findings
)
# Not imported by `import jupyter_hardening.extension` itself (jupyter_server imports the module
# to find its hooks; the audit imports the rest when it runs).
NOT_AT_IMPORT = (
    *NOT_AT_ANY_DEFAULT_START,
    "jinja2",
    "markupsafe",
    "jsonschema",
    "packaging",
    "prometheus_client",
    "tornado.httpclient",
    "jupyter_server.serverapp",
    "jupyter_hardening.rules",
    "jupyter_hardening.snapshot",
    "jupyter_hardening.advisories",
)

AUDITED_START = """
import json, sys
from jupyter_server.serverapp import ServerApp

app = ServerApp()
app.initialize(argv=sys.argv[1:])  # links, loads every extension, audits (no port bound yet)
assert "jupyter_hardening" in app.web_app.settings, "the audit did not run"
print(json.dumps(sorted(sys.modules)))
"""


def _modules(home: JupyterHome, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=home.env(JUPYTER_TOKEN="a" * 48),
        cwd=home.work_dir,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_extension_imports_nothing_heavy(tmp_path):
    """`import jupyter_hardening.extension` pulls in none of the heavy or occasional modules."""
    loaded = _modules(
        JupyterHome(tmp_path),
        "-c",
        "import json, sys, jupyter_hardening.extension; print(json.dumps(sorted(sys.modules)))",
    )
    assert "jupyter_hardening.extension" in loaded
    assert sorted(set(NOT_AT_IMPORT) & loaded) == []


def test_an_audited_default_start_leaves_the_occasional_modules_alone(tmp_path):
    """A server initialized as `jupyter server` would (audit included) imports none of them."""
    loaded = _modules(
        JupyterHome(tmp_path),
        "-c",
        AUDITED_START,
        f"--port={free_port()}",
        "--port-retries=0",
        "--allow-root",
    )
    assert "jupyter_hardening.snapshot" in loaded  # audited by this checkout's extension
    assert sorted(set(NOT_AT_ANY_DEFAULT_START) & loaded) == []
