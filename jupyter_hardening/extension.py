"""The server extension: audit the live ServerApp once every extension has loaded, before it listens.

Extensions load in name order and ``jupyter_hardening`` comes before ``jupyterlab``, ``notebook``
and JupyterHub's singleuser extension, which merge their own settings, headers and handlers when
they load. So ``_load_jupyter_server_extension`` does not audit: it schedules the audit for the
step ``ServerApp.initialize`` takes right after ``load_server_extensions()``
(``init_mime_overrides``), when every extension has loaded and the port is not bound yet (see
DESIGN.md). `jupyter hardening check` runs the same preflight and audit at the same moment through
:class:`OfflineAudit`. An exception in an extension would only be logged by jupyter_server, so
refusal is CRITICAL lines and ``sys.exit(1)``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traitlets import TraitError

from .config import Hardening
from .facts import ip_literal, pattern_invalid, route_pattern_problem
from .printable import one_line

if TYPE_CHECKING:
    from .report import Report
    from .status import LiveReport

# Every server start imports this module (jupyter_server links and loads the extension through
# it): what only the audit needs is imported when it runs, what only some configurations or
# requests need (the HTML page, the proxy watcher's signatures, certificates, the Public Suffix
# List) further down, where it is used. tests/test_import_cost.py keeps it so.

SETTINGS_KEY = "jupyter_hardening"

# ServerApp.initialize calls this right after load_server_extensions(), whether or not it goes on
# to create the HTTP server (pytest-jupyter and `check` do not): the audit runs just before it.
AUDIT_BEFORE = "init_mime_overrides"
# Called after every extension has linked (and notebook_shim has forwarded NotebookApp.* names),
# before init_webapp compiles allow_origin_pat and reads the token file: the second preflight.
PREFLIGHT_BEFORE = "init_configurables"
# The attribute that marks a ServerApp audited by `check` (see OfflineAudit).
OFFLINE_ATTRIBUTE = "jupyter_hardening_offline"

# Severity values (rules.base.Severity: INFO 10, WARNING 20, ERROR 30) as logging levels.
_LEVELS = {30: logging.ERROR, 20: logging.WARNING, 10: logging.INFO}


def log_report(log: logging.Logger | logging.LoggerAdapter[Any], report: Report) -> None:
    """One log line per finding, at its severity, with its fix."""
    # Messages and fixes quote settings (a CSP, a pattern): escaped, so that a terminal or a
    # log viewer never acts on an escape sequence or a newline someone put in a setting.
    for item in report.items:
        f = item.finding
        if item.accepted:
            log.info(
                "[jupyter_hardening] %s %s (accepted: %s): %s",
                f.id,
                f.name,
                one_line(item.reason),
                one_line(f.message),
            )
        else:
            log.log(
                _LEVELS[f.severity],
                "[jupyter_hardening] %s %s: %s Fix: %s",
                f.id,
                f.name,
                one_line(f.message),
                one_line(f.fix),
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
    from .report import accept_hint

    blocking = report.blocking
    log.critical(
        "[jupyter_hardening] Refusing to start: %d finding(s) at or above c.Hardening.refuse_at = %r.",
        len(blocking),
        report.refuse_at,
    )
    for item in blocking:
        f = item.finding
        log.critical(
            "[jupyter_hardening] %s %s (%s): %s",
            f.id,
            f.name,
            ", ".join(f.traits),
            one_line(f.message),
        )
        log.critical("[jupyter_hardening]     Fix: %s", one_line(f.fix))
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


def preflight(serverapp: Any) -> list[tuple[str, str]]:
    """(problem, fix) for settings that crash the server before ``_load`` could audit them.

    An ``ip`` that does not resolve crashes notebook_shim while it links (a traceback), an
    ``allow_origin_pat`` that is not a regex crashes ``init_webapp``: the server exits with a
    traceback either way. Checked here, at link time, they become a refusal that names the
    setting and its fix.
    """
    from . import atrest

    problems = []
    ip = serverapp.ip
    if ip and ip not in ("*", "localhost"):
        problem = _unresolvable_ip(ip)
        if problem:
            problems.append(problem)
    base_url = serverapp.base_url
    reason = route_pattern_problem(base_url)
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
    problems += _repeated_secrets(serverapp)
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


def _repeated_secrets(serverapp: Any) -> list[tuple[str, str]]:
    """A secret option given more than once on the command line (--IdentityProvider.token=A
    --IdentityProvider.token=B): the configurable that reads it would raise "token only accepts
    one value, got 2: [A, B]", a traceback with both values in the log. (A ServerApp secret given
    twice is refused by jupyter_server itself, before any extension runs.)"""
    from traitlets.config.loader import DeferredConfigList

    from .printable import SECRET_TRAITS

    return [
        (
            f"--{section}.{trait} is given {len(value)} times on the command line (values not "
            "shown)",
            f"give --{section}.{trait} once",
        )
        for section, traits in serverapp.cli_config.items()
        if isinstance(traits, dict)
        for trait, value in traits.items()
        if trait in SECRET_TRAITS and isinstance(value, DeferredConfigList) and len(value) > 1
    ]


def _unresolvable_ip(ip: str) -> tuple[str, str] | None:
    """(problem, fix) when ``ServerApp.ip`` is neither an address nor a name that resolves."""
    # '[::1]' is an address for ip_literal, not for jupyter_server's bind: no brackets here.
    if ip_literal(ip) is not None and ip == ip.strip("[]"):
        return None
    import socket

    try:
        socket.getaddrinfo(ip, None, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        hint = " (an IPv6 address goes without brackets)" if ip.startswith("[") else ""
        return (
            f"ServerApp.ip = {ip!r} is not an address and does not resolve on this "
            f"machine ({reason}){hint}",
            "c.ServerApp.ip = '127.0.0.1' (behind a proxy), or an address or host "
            "name of this machine",
        )
    return None


def _unreadable_token_file(serverapp: Any) -> tuple[str, str] | None:
    """JUPYTER_TOKEN_FILE that jupyter_server would open, and cannot: a traceback in init_webapp.

    The token's default reads the file unless JUPYTER_TOKEN is set or a token is configured.
    """
    path = os.environ.get("JUPYTER_TOKEN_FILE")
    if not path or os.environ.get("JUPYTER_TOKEN"):
        return None
    from .atrest import read_token_file

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


def run_before(serverapp: Any, method: str, action: Callable[[], None]) -> None:
    """Run ``action`` when ``serverapp`` calls its method ``method``, just before that method.

    jupyter_server has no hook for "every extension has loaded"; the steps of
    ``ServerApp.initialize`` are the hook. The wrapper is set on this instance only.
    """
    original = getattr(serverapp, method)

    def action_then_original(*args: Any, **kwargs: Any) -> Any:
        action()
        return original(*args, **kwargs)

    setattr(serverapp, method, action_then_original)


def audit(serverapp: Any) -> tuple[Hardening, Report]:
    """The report on ``serverapp`` as its handlers will see it (raises TraitError on c.Hardening)."""
    hardening = Hardening(parent=serverapp)
    return hardening, audit_with(serverapp, hardening)[0]


def audit_with(serverapp: Any, hardening: Hardening, *, served: bool = False) -> tuple[Report, Any]:
    """Snapshot (with extensions that failed), rules, policy, and where each value came from.

    The second value is the provenance.Provenance. ``served``: when nothing was found, where
    each setting came from is read only by /hardening (its list of settings), so a start does
    not pay for it (issue 11): the second value is then a function that makes the Provenance,
    and status.LiveReport attaches it on the first read of the report. A finding's sources are
    always found at once: its log line names them.
    """
    from .extlinks import extension_problems
    from .record import replace
    from .report import evaluate
    from .snapshot import take_snapshot

    snapshot = take_snapshot(serverapp, hardening.public_url)
    snapshot = replace(snapshot, extension_problems=tuple(extension_problems(serverapp)))
    report = evaluate(snapshot, hardening.refuse_at, hardening.accepted_risks)

    def provenance_of_settings() -> Any:
        from .provenance import Provenance

        return Provenance(serverapp, snapshot.tornado_overrides)

    if served and not report.items:
        return report, provenance_of_settings
    from .provenance import attach

    provenance = provenance_of_settings()
    return attach(report, provenance), provenance


def all_problems(serverapp: Any) -> list[tuple[str, str]]:
    """Config files that failed to load plus the preflight's problems, as (problem, fix)."""
    from .configfiles import config_file_errors

    return [*config_file_errors(serverapp), *preflight(serverapp)]


def refuse_problems(serverapp: Any, problems: list[tuple[str, str]]) -> None:
    """CRITICAL lines for each problem and its fix, then exit 1."""
    for problem, fix in problems:
        serverapp.log.critical("[jupyter_hardening] Refusing to start: %s", one_line(problem))
        serverapp.log.critical("[jupyter_hardening]     Fix: %s", one_line(fix))
    sys.exit(1)


class AuditError(Exception):
    """What keeps `check` from auditing: the configuration is invalid, said in one line."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class OfflineAudit:
    """The extension's preflight and audit for `jupyter hardening check`, without serving.

    Created on a ServerApp before ``initialize``: the extension's own hooks then stand down, and
    this object runs the same preflight (before any extension links, and again after all have)
    and the same audit at the same moment as a served server, whether or not the extension is
    enabled. Problems raise :class:`AuditError` instead of exiting; the report is kept in
    :attr:`report`.
    """

    def __init__(self, serverapp: Any):
        self.serverapp = serverapp
        self.hardening: Hardening | None = None
        self.report: Report | None = None
        setattr(serverapp, OFFLINE_ATTRIBUTE, self)
        run_before(serverapp, "init_server_extensions", lambda: self.preflight(preflight))
        run_before(serverapp, PREFLIGHT_BEFORE, lambda: self.preflight(all_problems))
        run_before(serverapp, AUDIT_BEFORE, self.audit)

    def preflight(self, check: Callable[[Any], list[tuple[str, str]]]) -> None:
        """Raise AuditError on settings that would crash the server or lose a config file."""
        problems = check(self.serverapp)
        if problems:
            raise AuditError("; ".join(f"{problem}; fix: {fix}" for problem, fix in problems))

    def audit(self) -> None:
        """Audit the server as it would serve."""
        try:
            self.hardening, self.report = audit(self.serverapp)
        except TraitError as e:
            raise AuditError(str(e)) from None


def is_offline(serverapp: Any) -> bool:
    """True when `check` audits this ServerApp (the extension's own hooks stand down)."""
    return isinstance(getattr(serverapp, OFFLINE_ATTRIBUTE, None), OfflineAudit)


def _link_jupyter_server_extension(serverapp: Any) -> None:
    """Refuse, cleanly, settings that would crash the server before the audit; schedule the rest."""
    if is_offline(serverapp):
        return
    from .extlinks import capture

    capture(serverapp)  # why extensions linked after this one fail, for the audit
    problems = preflight(serverapp)
    if problems:
        refuse_problems(serverapp, problems)

    def preflight_after_links() -> None:
        # Extensions linked after this one (notebook_shim's NotebookApp.* forwarding) may have
        # set values the first preflight could not see, and every extension app has read its
        # own config files by now.
        problems = all_problems(serverapp)
        if problems:
            refuse_problems(serverapp, problems)

    run_before(serverapp, PREFLIGHT_BEFORE, preflight_after_links)


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Schedule the audit for when every extension has loaded (see the module docstring)."""
    if is_offline(serverapp):
        return
    run_before(serverapp, AUDIT_BEFORE, lambda: audit_and_serve(serverapp))


def audit_and_serve(serverapp: Any) -> None:
    """Audit the server; refuse to start on blocking findings; serve the live report.

    Any exception refuses too: a server must never serve unaudited.
    """
    try:
        from .status import LiveReport

        hardening = load_hardening(serverapp)
        report, provenance = audit_with(serverapp, hardening, served=True)
        snapshot = report.snapshot
        log_report(serverapp.log, report)
        if report.verdict == "refuse":
            refuse(serverapp.log, report)
        live = LiveReport(snapshot, hardening, report, provenance)
        if hardening.diagnose_proxy:
            watch_requests(serverapp, live, snapshot, hardening.accepted_risks)
        serverapp.web_app.settings[SETTINGS_KEY] = live
        publish_live_report(serverapp, live)
    except Exception as e:
        # The exception's text is not logged: it may quote a setting's value (a secret).
        serverapp.log.critical(
            "[jupyter_hardening] Refusing to start: the audit failed with %s at %s; a server is "
            "never served unaudited.",
            type(e).__name__,
            _where(e),
        )
        serverapp.log.critical(
            "[jupyter_hardening] Hint: this is a bug in jupyter_hardening or a setting it cannot "
            "read; report it with the line above, or disable the extension knowingly with "
            "c.ServerApp.jpserver_extensions = {'jupyter_hardening': False}"
        )
        sys.exit(1)


def _where(e: BaseException) -> str:
    """file:line of the innermost frame of the exception's traceback."""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "an unknown place"
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"


def watch_requests(
    serverapp: Any, live: LiveReport, snapshot: Any, accepted: dict[str, str] | None = None
) -> None:
    """Watch every finished request for the signs of a broken proxy (see diagnosis.py).

    jupyter_server calls tornado's ``log_function`` setting once per finished request; it is
    wrapped here. The watcher's module is imported, and its Diagnosis made, by the first
    request: a start pays only for the wrapping. ``live.diagnosis`` is None until then, as
    when nothing has been seen.
    """
    settings = serverapp.web_app.settings
    original = settings.get("log_function")
    log = serverapp.log
    # Read now: the watcher judges against the settings the audit judged.
    port, sock = getattr(serverapp, "port", 0), getattr(serverapp, "sock", "")
    accepted = dict(accepted or {})
    observe: Callable[[Any], None] | None = None

    def log_function(handler: Any) -> None:
        nonlocal observe
        if original is not None:
            original(handler)
        else:
            from .diagnosis import tornado_log

            tornado_log(handler)
        try:
            if observe is None:
                from . import diagnosis

                context = diagnosis.context_for(serverapp, snapshot, port=port, sock=sock)
                live.diagnosis = diagnosis.Diagnosis(context, log, accepted)
                observe = live.diagnosis.observe
            observe(handler)
        except Exception:  # a watcher must never break a request's logging
            log.debug("[jupyter_hardening] proxy diagnosis failed", exc_info=True)

    settings["log_function"] = log_function


class ScrapedReport:
    """The live report on jupyter_server's /metrics (prometheus_client's default registry).

    Registered once per process; the server loaded last is the one reported. The metrics are
    made by metrics.py, imported by the first scrape rather than by every start (issue 11).
    """

    def __init__(self) -> None:
        self.live: LiveReport | None = None
        self.log: logging.Logger | logging.LoggerAdapter[Any] = logging.getLogger(__name__)

    def describe(self) -> list[Any]:
        """Nothing: called at registration, where prometheus_client would otherwise collect."""
        return []

    def collect(self) -> Iterator[Any]:
        """The current report's metrics; nothing before the extension has loaded."""
        if self.live is not None:
            from .metrics import collect

            yield from collect(self.live, self.log)


SCRAPED = ScrapedReport()


def publish_live_report(serverapp: Any, live: LiveReport) -> None:
    """Serve the report at {base_url}hardening and on /metrics."""
    from .handlers import routes

    serverapp.web_app.add_handlers(".*$", routes(serverapp.base_url, live))
    first = SCRAPED.live is None
    SCRAPED.live, SCRAPED.log = live, serverapp.log
    if first:
        from prometheus_client import REGISTRY

        REGISTRY.register(SCRAPED)
