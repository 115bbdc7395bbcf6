"""Headless Debian Chromium for tests: a profile that trusts the test CA, and screenshots.

Trust goes through an NSS database in a throwaway $HOME, the store Chromium on Linux reads for
locally added roots. Chromium then validates the chain, the host name and the dates exactly as
for a real site, so a wrong certificate or name still fails; the alternative,
``--ignore-certificate-errors-spki-list``, pins one key and skips those checks.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .fixtures import require_tool
from .nginx_util import PUBLIC_HOST, host_resolver_flag

CHROMIUM = "/usr/bin/chromium"
# JupyterLab's first load on a slow 2-core machine takes 10-20 s.
SLOW_MS = 90_000
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


def ca_trusting_home(folder: Path, ca_cert: Path) -> Path:
    """:func:`trusting_home` for ``ca_cert``; fails in CI (skips elsewhere) without Chromium or
    certutil."""
    require_tool("chromium", "Chromium (Debian chromium)")
    require_tool("certutil", "certutil (Debian libnss3-tools)")
    return trusting_home(folder, ca_cert)


@contextlib.contextmanager
def chromium_page(home: Path, last_shot: str) -> Iterator[Any]:
    """A fresh headless Chromium window (no cookies, generous timeouts); its last state is
    saved as the screenshot ``last_shot`` for whoever reads a failure.

    Started per test: pytest-jupyter closes the current asyncio loop after each test, and
    playwright's sync API keeps its loop running while it is open.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p, home)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(SLOW_MS)
            yield page
            screenshot(page, last_shot)
        finally:
            browser.close()


def open_login(page: Any, url: str) -> None:
    """Open ``url`` (a page behind login) and wait for the password form."""
    page.goto(url)
    page.wait_for_selector("#password_input")


def submit_password(page: Any, password: str) -> Any:
    """Type ``password`` into the login form and submit it; return the response."""
    page.fill("#password_input", password)
    with page.expect_navigation() as navigation:
        page.click("#login_submit")
    return navigation.value


def run_in_new_notebook(page: Any, code: str = "6*7", result: str = "42") -> None:
    """From JupyterLab's launcher: a new notebook, ``code``, Shift+Enter, and ``result`` in
    its output."""
    from playwright.sync_api import expect

    page.locator('.jp-LauncherCard[data-category="Notebook"]').first.click()
    panel = page.locator(".jp-NotebookPanel:visible")
    # The toolbar's indicator says idle before any kernel exists; the status bar names the
    # kernel only once its websocket is connected.
    expect(page.locator(".jp-StatusBar-Widget")).to_contain_text(
        "Python 3 (ipykernel) | Idle", timeout=SLOW_MS
    )
    editor = panel.locator(".jp-Cell .cm-content").first
    editor.click()
    page.keyboard.type(code)
    expect(editor).to_have_text(code, timeout=SLOW_MS)
    page.keyboard.press("Shift+Enter")
    expect(panel.locator(".jp-OutputArea-executeResult").first).to_contain_text(
        result, timeout=SLOW_MS
    )
