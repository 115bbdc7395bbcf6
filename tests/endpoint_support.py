"""Helpers for the /hardening tests: TLS files, planted secrets and a client for the test server."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl

import pytest
from cryptography import x509
from traitlets.config import Config

import jupyter_hardening.report
import jupyter_hardening.status
from jupyter_hardening.extension import SETTINGS_KEY

from .certs import cert_pem, key_pem, make_cert, name, new_key

EXTENSION = {"ServerApp": {"jpserver_extensions": {"jupyter_hardening": True}}}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def write_tls(folder: Path, *, days: float = 365, key_mode: int = 0o600) -> tuple[Path, Path]:
    """A self-signed localhost certificate valid ``days`` more days (< 0: expired), and its key."""
    folder.mkdir(parents=True, exist_ok=True)
    key = new_key()
    # A distinct subject per certificate: OpenSSL finds trust anchors by subject name.
    subject = name("localhost", unit=f"test {x509.random_serial_number():x}")
    # CA:TRUE lets clients trust this self-signed certificate directly (requests verify=).
    cert = make_cert(
        key, subject, days=days, not_before_days=max(0, -days) + 1, ca=True, san=("localhost",)
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    # Write next to the target and rename, as certbot does: the server never sees half a file.
    for path, data in ((cert_path, cert_pem(cert)), (key_path, key_pem(key))):
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.chmod(key_mode if path == key_path else 0o644)
        os.replace(tmp, path)
    return cert_path, key_path


@dataclass
class Secrets:
    """Known secret values planted in a server's config; none may ever be served or logged."""

    token: str
    password: str
    hashed_password: str
    cookie_secret: str
    certfile: Path
    keyfile: Path

    def needles(self) -> list[str]:
        """Every string whose appearance in a response or log would be a leak."""
        hash_parts = [p for p in self.hashed_password.split("$") if len(p) >= 16]
        key_lines = [
            line
            for line in self.keyfile.read_text().splitlines()
            if len(line) >= 16 and not line.startswith("-----")
        ]
        return [
            self.token,
            self.password,
            self.hashed_password,
            *hash_parts,
            self.cookie_secret,
            *key_lines,
        ]

    def leaks(self, text: str) -> list[str]:
        """The planted secrets found in ``text``."""
        return [n for n in self.needles() if n in text]


def plant_secrets(folder: Path, hashed_password: str, password: str) -> Secrets:
    """Known token, password hash, cookie secret and TLS key for one test server."""
    certfile, keyfile = write_tls(folder)
    return Secrets(
        token="7f3c9a1e5b2d8f4a6c0e9b7d3f1a5c8e2b4d6f8a0c2e4b6d",
        password=password,
        hashed_password=hashed_password,
        cookie_secret="cookie-secret-b1946ac92492d2347c6235b4d2611184",
        certfile=certfile,
        keyfile=keyfile,
    )


# --- shared by the in-process endpoint tests (each module has its own jp_server_config) ---


def server_config(**sections: dict[str, object]) -> Config:
    """The extension enabled, plus ``sections`` ({"ServerApp": {...}, "Hardening": {...}})."""
    config = Config(EXTENSION)
    config.merge(Config(sections))
    return config


def with_config(**sections: dict[str, object]) -> pytest.MarkDecorator:
    """Run the test against a server with this extra config."""
    return pytest.mark.parametrize("jp_server_config", [server_config(**sections)], indirect=True)


@pytest.fixture
def get(jp_fetch):
    """GET a path under base_url through pytest-jupyter's jp_fetch.

    token=True sends the server's token (jp_fetch's own header), a string sends that token, None
    sends an empty Authorization header: an anonymous request.
    """

    async def _get(path="hardening", *, accept=None, token=True, query="", headers=None):
        headers = dict(headers or {})
        if accept:
            headers["Accept"] = accept
        if token is None:
            headers["Authorization"] = ""
        elif token is not True:
            headers["Authorization"] = f"token {token}"
        return await jp_fetch(
            *path.split("/"),
            headers=headers,
            params=dict(parse_qsl(query)),
            raise_error=False,
            follow_redirects=False,
        )

    return _get


@pytest.fixture
def live(jp_serverapp):
    """The LiveReport the extension published."""
    return jp_serverapp.web_app.settings[SETTINGS_KEY]


@pytest.fixture
def clock(monkeypatch):
    """A monotonic clock for the live report that moves only when the test says so."""
    now = SimpleNamespace(t=time.monotonic())
    fake = SimpleNamespace(monotonic=lambda: now.t)
    monkeypatch.setattr(jupyter_hardening.status, "time", fake)
    return now


@pytest.fixture
def rule_runs(monkeypatch):
    """Counts how often all rules run (once per evaluation of a snapshot)."""
    calls = []
    original = jupyter_hardening.report.run_rules

    def counting(snap, *args):
        calls.append(snap)
        return original(snap, *args)

    monkeypatch.setattr(jupyter_hardening.report, "run_rules", counting)
    return calls


def metric(text: str, name: str, /, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format, or None."""
    label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = "^" + re.escape(name + (f"{{{label_text}}}" if labels else "")) + r" (\S+)$"
    match = re.search(pattern, text, re.M)
    return float(match.group(1)) if match else None


def ids(data):
    """Finding ids of a JSON report."""
    return sorted(f["id"] for f in data["findings"])
