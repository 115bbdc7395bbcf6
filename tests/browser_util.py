"""Headless Debian Chromium for tests: a profile that trusts the test CA, and screenshots.

Trust goes through an NSS database in a throwaway $HOME, the store Chromium on Linux reads for
locally added roots. Chromium then validates the chain, the host name and the dates exactly as
for a real site, so a wrong certificate or name still fails; the alternative,
``--ignore-certificate-errors-spki-list``, pins one key and skips those checks.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from .nginx_util import PUBLIC_HOST, host_resolver_flag

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"
# No network but ours: no updates, no sync, no QUIC (nginx here speaks TCP only).
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
)


def trusting_home(folder: Path, ca_cert: Path | None) -> Path:
    """A $HOME whose NSS database trusts ``ca_cert`` for web sites (nothing when it is None)."""
    nssdb = folder / ".pki" / "nssdb"
    nssdb.mkdir(parents=True, exist_ok=True)
    db = f"sql:{nssdb}"

    def certutil(*args: str) -> None:
        # stdin closed: certutil asks for a password in a loop when it has a terminal.
        subprocess.run(
            ["certutil", "-d", db, *args],
            check=True,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
        )

    certutil("-N", "--empty-password")
    if ca_cert is not None:
        certutil("-A", "-n", "jupyter_hardening test CA", "-t", "C,,", "-i", str(ca_cert))
    return folder


def launch_chromium(playwright: Any, home: Path) -> Any:
    """Launch headless Chromium with ``home`` as $HOME and jupyter.example.com on 127.0.0.1."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*CHROMIUM_ARGS, host_resolver_flag(PUBLIC_HOST)],
        env={**os.environ, "HOME": str(home)},
        timeout=60_000,
    )


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/browser/<name>.png; return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
