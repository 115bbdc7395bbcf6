"""The server extension: audit the live ServerApp once its settings are final, before it listens.

``_load_jupyter_server_extension`` runs after config, legacy names and flags are applied and
before the port is bound (see DESIGN.md). An exception here would only be logged by
jupyter_server, so refusal is CRITICAL lines and ``sys.exit(1)``.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
import sys
from typing import Any

from traitlets import TraitError

from . import atrest, metrics
from .atrest import read_token_file
from .config import Hardening
from .handlers import routes
from .report import Report, accept_hint, evaluate
from .rules import Severity
from .rules.cors import pattern_invalid
from .snapshot import take_snapshot
from .status import LiveReport

SETTINGS_KEY = "jupyter_hardening"

# Set by `jupyter hardening check`, which initializes a ServerApp only to read its settings.
audit_suspended = False

_LEVELS = {
    Severity.ERROR: logging.ERROR,
    Severity.WARNING: logging.WARNING,
    Severity.INFO: logging.INFO,
}


def log_report(log: logging.Logger | logging.LoggerAdapter[Any], report: Report) -> None:
    """One log line per finding, at its severity, with its fix."""
    for item in report.items:
        f = item.finding
        if item.accepted:
            log.info(
                "[jupyter_hardening] %s %s (accepted: %s): %s", f.id, f.name, item.reason, f.message
            )
        else:
            log.log(
                _LEVELS[f.severity],
                "[jupyter_hardening] %s %s: %s Fix: %s",
                f.id,
                f.name,
                f.message,
                f.fix,
            )
    counts = report.counts()
    log.info(
        "[jupyter_hardening] verdict %s: %d error, %d warning, %d info, %d accepted",
        report.verdict,
        counts["error"],
        counts["warning"],
        counts["info"],
        counts["accepted"],
    )


def refuse(log: logging.Logger | logging.LoggerAdapter[Any], report: Report) -> None:
    """Log CRITICAL lines naming each blocking finding and its fix, then exit 1."""
    blocking = report.blocking
    log.critical(
        "[jupyter_hardening] Refusing to start: %d finding(s) at or above c.Hardening.refuse_at = %r.",
        len(blocking),
        report.refuse_at,
    )
    for item in blocking:
        f = item.finding
        log.critical(
            "[jupyter_hardening] %s %s (%s): %s", f.id, f.name, ", ".join(f.traits), f.message
        )
        log.critical("[jupyter_hardening]     Fix: %s", f.fix)
    log.critical(
        "[jupyter_hardening] Hint: to start anyway, accept the risk in jupyter_server_config.py: %s",
        accept_hint(blocking),
    )
    sys.exit(1)


def load_hardening(serverapp: Any) -> Hardening:
    """Build the Hardening configurable from the server's config, or refuse with a clear message."""
    try:
        return Hardening(parent=serverapp)
    except TraitError as e:
        serverapp.log.critical("[jupyter_hardening] Refusing to start: %s", e)
        serverapp.log.critical(
            "[jupyter_hardening] Hint: correct c.Hardening.* in jupyter_server_config.py"
        )
        sys.exit(1)


# Config sections whose `token` replaces the default that reads JUPYTER_TOKEN_FILE.
TOKEN_SECTIONS = ("IdentityProvider", "PasswordIdentityProvider", "ServerApp", "NotebookApp")


class PreflightError(SystemExit):
    """A setting jupyter_server or another extension would crash on before the audit runs."""

    def __init__(self, message: str):
        super().__init__(1)
        self.message = message


def preflight(serverapp: Any) -> list[tuple[str, str]]:
    """(problem, fix) for settings that crash the server before ``_load`` could audit them.

    An ``ip`` that does not resolve crashes notebook_shim while it links (a traceback), an
    ``allow_origin_pat`` that is not a regex crashes ``init_webapp``: the server exits with a
    traceback either way. Checked here, at link time, they become a refusal that names the
    setting and its fix.
    """
    problems = []
    ip = serverapp.ip
    if ip and ip not in ("*", "localhost"):
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            try:
                socket.getaddrinfo(ip, None, 0, socket.SOCK_STREAM)
            except (OSError, UnicodeError) as e:
                reason = getattr(e, "strerror", None) or str(e)
                hint = " (an IPv6 address goes without brackets)" if ip.startswith("[") else ""
                problems.append(
                    (
                        f"ServerApp.ip = {ip!r} is not an address and does not resolve on this "
                        f"machine ({reason}){hint}",
                        "c.ServerApp.ip = '127.0.0.1' (behind a proxy), or an address or host "
                        "name of this machine",
                    )
                )
    base_url = serverapp.base_url
    try:
        # jupyter_server joins base_url into its route patterns unescaped (see JH502). A named
        # group compiles alone, but clashes with the routes' own (?P<path>...): re.error there.
        named = sorted(re.compile(base_url).groupindex)
        reason = f"named group {named[0]!r} beside the routes' own" if named else ""
    except re.error as e:
        reason = str(e)
    if reason:
        problems.append(
            (
                f"ServerApp.base_url = {base_url!r} breaks jupyter_server's URL patterns ({reason})",
                "c.ServerApp.base_url = '/jupyter/' (letters, digits, '-', '_', '.', '/')",
            )
        )
    token_file = _unreadable_token_file(serverapp)
    if token_file:
        problems.append(token_file)
    problems += atrest.preflight_problems(serverapp)
    error = pattern_invalid(serverapp.allow_origin_pat)
    if error:
        problems.append(
            (
                f"ServerApp.allow_origin_pat is not a valid regular expression ({error})",
                "c.ServerApp.allow_origin_pat = r'^https://app\\.example\\.com$' (escape dots), "
                "or remove it",
            )
        )
    return problems


def _unreadable_token_file(serverapp: Any) -> tuple[str, str] | None:
    """JUPYTER_TOKEN_FILE that jupyter_server would open, and cannot: a traceback in init_webapp.

    The token's default reads the file unless JUPYTER_TOKEN is set or a token is configured.
    """
    path = os.environ.get("JUPYTER_TOKEN_FILE")
    if not path or os.environ.get("JUPYTER_TOKEN"):
        return None
    config = serverapp.config
    # A custom identity_provider_class takes its token from its own section (c.MyProvider.token).
    provider = getattr(serverapp, "identity_provider_class", None)
    sections = {*TOKEN_SECTIONS, *(cls.__name__ for cls in getattr(provider, "__mro__", ()))}
    if any("token" in config.get(section, {}) for section in sections):
        return None
    try:
        # Read as jupyter_server does (text, the locale's encoding), but only a regular file of
        # bounded size: a FIFO would hang the server, /dev/zero fill its memory. Not kept.
        read_token_file(path)
        return None
    except (OSError, UnicodeDecodeError) as e:
        reason = (
            f"not {e.encoding} text" if isinstance(e, UnicodeDecodeError) else e.strerror or str(e)
        )
        return (
            f"JUPYTER_TOKEN_FILE={path!r} cannot be read ({reason}): jupyter_server "
            "reads the token from it",
            "point JUPYTER_TOKEN_FILE at a text file readable by the server's user, or unset it "
            "(a password or a generated token then protects the server)",
        )


def _link_jupyter_server_extension(serverapp: Any) -> None:
    """Refuse, cleanly, settings that would crash the server before the audit."""
    problems = preflight(serverapp)
    if not problems:
        return
    if audit_suspended:  # `jupyter hardening check` prints one line and exits 2
        raise PreflightError("; ".join(f"{problem}; fix: {fix}" for problem, fix in problems))
    for problem, fix in problems:
        serverapp.log.critical("[jupyter_hardening] Refusing to start: %s", problem)
        serverapp.log.critical("[jupyter_hardening]     Fix: %s", fix)
    sys.exit(1)


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Audit the server; refuse to start on blocking findings; serve the live report."""
    if audit_suspended:
        return
    hardening = load_hardening(serverapp)
    snapshot = take_snapshot(serverapp, hardening.public_url)
    report = evaluate(snapshot, hardening.refuse_at, hardening.accepted_risks)
    log_report(serverapp.log, report)
    if report.verdict == "refuse":
        refuse(serverapp.log, report)
    live = LiveReport(snapshot, hardening, report)
    serverapp.web_app.settings[SETTINGS_KEY] = live
    publish_live_report(serverapp, live)


def publish_live_report(serverapp: Any, live: LiveReport) -> None:
    """Serve the report at {base_url}hardening and on /metrics."""
    serverapp.web_app.add_handlers(".*$", routes(serverapp.base_url, live))
    metrics.publish(live, serverapp.log)
