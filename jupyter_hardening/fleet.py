"""The fleet view's engine: list a hub's running servers, fetch each one's /hardening JSON, keep
the results, and render them as a page, JSON and Prometheus text.

No JupyterHub import here (``hubservice`` adds the hub's OAuth): the benchmark drives the same
refresh against stub servers. What a user server answers is its user's to forge, so every
report is validated and bounded before it is kept, and every value is escaped when shown.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from .printable import hide_secret_value, printable

VERDICTS = ("ok", "warn", "refuse")
SEVERITIES = ("error", "warning", "info")
UNREACHABLE = "unreachable"
# Servers first that need an admin: refused, then unknown, then with findings, then clean.
RANK = {"refuse": 0, UNREACHABLE: 1, "warn": 2, "ok": 3}
WORST = 3  # findings shown per server on the page
MAX_BODY = 4 * 1024 * 1024  # a report is a few kB; anything this large is not one
MAX_TEXT = 600  # characters kept of a finding's message or fix
MAX_FINDINGS = 200
PAGE_SIZE = 200  # users per page of the hub's REST API
PAGINATION = "application/jupyterhub-pagination+json"
EXPIRES = "ServerApp.certfile expires"

log = logging.getLogger("jupyter_hardening.fleet")


def now() -> dt.datetime:
    """The current time, UTC."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Entry:
    """A running user server as the hub's REST API lists it."""

    user: str
    name: str  # '' for the default server
    url: str  # its URL on the hub: '/user/alice/' (or a full URL with subdomain_host)

    @property
    def label(self) -> str:
        """'alice' or 'alice/gpu', as JupyterHub writes a server's full name."""
        return f"{self.user}/{self.name}" if self.name else self.user


@dataclass(frozen=True)
class Summary:
    """What is kept of one hardening report (ours or a user server's), validated."""

    verdict: str
    counts: Mapping[str, int]
    findings: tuple[Mapping[str, str], ...]  # not accepted, worst first
    computed_at: str = ""
    certificate_expires: dt.datetime | None = None
    version: str = ""

    @property
    def worst(self) -> tuple[Mapping[str, str], ...]:
        """The findings the page shows for a server."""
        return self.findings[:WORST]


@dataclass(frozen=True)
class Status:
    """One server's row: its summary, or why there is none."""

    entry: Entry
    checked_at: dt.datetime
    summary: Summary | None = None
    problem: str = ""  # why it is unreachable

    @property
    def verdict(self) -> str:
        """ok, warn, refuse, or unreachable (never ok without a report)."""
        return self.summary.verdict if self.summary is not None else UNREACHABLE

    def sort_key(self) -> tuple[Any, ...]:
        """Worst first: verdict, then errors, warnings, infos, then by name."""
        counts = self.summary.counts if self.summary is not None else {}
        return (
            RANK[self.verdict],
            *(-counts.get(s, 0) for s in SEVERITIES),
            self.entry.user,
            self.entry.name,
        )


@dataclass(frozen=True)
class HubSection:
    """The hub's own report (``hub-check``), or why it is missing."""

    summary: Summary | None
    problem: str = ""
    checked_at: dt.datetime | None = None


@dataclass(frozen=True)
class State:
    """One refresh's results: what the page, the JSON and the metrics show."""

    servers: tuple[Status, ...] = ()
    hub: HubSection = field(default_factory=lambda: HubSection(None, "not checked yet"))
    refreshed_at: dt.datetime | None = None
    duration: float = 0.0
    listing_problem: str = ""  # the hub's API did not answer: the servers are the last known


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    text = printable(value if isinstance(value, str) else "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summarize(data: Any) -> Summary | str:
    """The summary of a report in the ``check --format json`` schema, or why it is not one."""
    if not isinstance(data, dict):
        return "answered JSON that is not a hardening report"
    verdict = data.get("verdict")
    counts = data.get("counts")
    findings = data.get("findings")
    if verdict not in VERDICTS or not isinstance(counts, dict) or not isinstance(findings, list):
        return "answered JSON that is not a hardening report (no verdict, counts or findings)"
    clean_counts: dict[str, int] = {}
    for key in (*SEVERITIES, "accepted"):
        value = counts.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**6:
            return f"answered a report whose counts[{key!r}] is not a count"
        clean_counts[key] = value
    kept = []
    for item in findings[:MAX_FINDINGS]:
        if not isinstance(item, dict) or item.get("severity") not in SEVERITIES:
            return "answered a report with a malformed finding"
        if item.get("accepted") is True:
            continue
        kept.append(
            {
                "id": _text(item.get("id"), 40),
                "name": _text(item.get("name"), 80),
                "severity": str(item["severity"]),
                "message": _text(item.get("message")),
                "fix": _text(item.get("fix")),
            }
        )
    kept.sort(key=lambda f: SEVERITIES.index(f["severity"]))
    settings = data.get("settings")
    expires = None
    if isinstance(settings, dict) and isinstance(settings.get(EXPIRES), str):
        try:
            expires = dt.datetime.fromisoformat(settings[EXPIRES])
        except ValueError:
            expires = None
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.timezone.utc)
    return Summary(
        verdict=verdict,
        counts=clean_counts,
        findings=tuple(kept),
        computed_at=_text(data.get("computed_at"), 40),
        certificate_expires=expires,
        version=_text(data.get("version"), 40),
    )


def entries_of(users: list[Any]) -> list[Entry]:
    """The ready servers in a page of the hub's user models (pending ones are left out)."""
    found = []
    for user in users:
        if not isinstance(user, dict) or not isinstance(user.get("name"), str):
            continue
        servers = user.get("servers")
        if not isinstance(servers, dict):
            continue
        for name, server in servers.items():
            if not isinstance(server, dict) or not server.get("ready"):
                continue
            url = server.get("url")
            if isinstance(name, str) and isinstance(url, str) and url:
                found.append(Entry(user["name"], name, url))
    return found


def hub_check_section(config_file: str | None, logger: Any = None) -> HubSection:
    """The hub's own report from ``jupyter_hardening.hubcheck.hub_report``, guarded.

    The hub-check command lands separately; until it is installed the section says so.
    """
    checked = now()
    logger = logger or log
    try:
        module = importlib.import_module("jupyter_hardening.hubcheck")
    except ImportError as e:
        if e.name not in ("jupyter_hardening.hubcheck", None):
            logger.warning("hub-check could not be imported: %s", printable(str(e)))
            return HubSection(None, f"hub-check failed to import ({e.name})", checked)
        return HubSection(None, "hub-check unavailable in this jupyter_hardening", checked)
    hub_report = getattr(module, "hub_report", None)
    if hub_report is None:
        return HubSection(None, "hub-check unavailable in this jupyter_hardening", checked)
    try:
        data = hub_report(config_file)
    except (Exception, SystemExit) as e:
        # Its message may quote a config value (an api_token): the log gets it without the
        # value traitlets quotes, the page only the kind of failure.
        logger.warning(
            "hub-check failed on %s: %s", config_file, printable(hide_secret_value(str(e)))
        )
        return HubSection(
            None, f"hub-check failed ({type(e).__name__}); see the service's log", checked
        )
    summary = summarize(data)
    if isinstance(summary, str):
        return HubSection(None, f"hub-check {summary.removeprefix('answered ')}", checked)
    return HubSection(summary, "", checked)


def _ssl_options(url: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """Client certificate and CA of internal_ssl (JUPYTERHUB_SSL_*) for https to the hub."""
    if urlsplit(url).scheme != "https":
        return {}
    options: dict[str, Any] = {}
    for key, env in (
        ("client_key", "JUPYTERHUB_SSL_KEYFILE"),
        ("client_cert", "JUPYTERHUB_SSL_CERTFILE"),
        ("ca_certs", "JUPYTERHUB_SSL_CLIENT_CA"),
    ):
        if environ.get(env):
            options[key] = environ[env]
    return options


class Fleet:
    """Refreshes the fleet's state: the hub's listing, each server's report, the hub's own.

    At most ``concurrency`` report requests are in flight; each has ``timeout`` seconds.
    ``state`` is replaced as a whole at the end of a refresh, so readers never see half of one.
    """

    def __init__(
        self,
        api_url: str,
        proxy_url: str,
        token: str,
        concurrency: int = 8,
        timeout: float = 10.0,
        hub_check: Callable[[], HubSection] | None = None,
        environ: Mapping[str, str] | None = None,
        logger: Any = None,
    ):
        self.api_url = api_url.rstrip("/") + "/"
        self.proxy_url = proxy_url.rstrip("/") + "/"
        self._token = token  # sent in headers only; never logged or shown
        self.concurrency = concurrency
        self.timeout = timeout
        self.hub_check = hub_check
        self.environ = dict(environ or {})
        self.log = logger or log
        self.state = State()
        self.in_flight = 0
        self.peak_in_flight = 0
        self._client: Any = None

    @property
    def client(self) -> Any:
        """Our own tornado client: never queues (max_clients = concurrency), no redirects."""
        if self._client is None:
            from tornado.httpclient import AsyncHTTPClient

            self._client = AsyncHTTPClient(
                force_instance=True,
                max_clients=self.concurrency,
                max_body_size=MAX_BODY,
            )
        return self._client

    def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _request(self, url: str, accept: str = "application/json") -> Any:
        from tornado.httpclient import HTTPRequest

        return HTTPRequest(
            url,
            headers={"Authorization": f"token {self._token}", "Accept": accept},
            connect_timeout=self.timeout,
            request_timeout=self.timeout,
            follow_redirects=False,
            **_ssl_options(url, self.environ),
        )

    async def list_servers(self) -> list[Entry]:
        """Every ready server, through ``GET users?state=ready`` page by page."""
        entries: list[Entry] = []
        offset = 0
        for _ in range(10_000):  # a hub with 2,000,000 users still ends
            query = urlencode({"state": "ready", "offset": offset, "limit": PAGE_SIZE})
            try:
                response = await self.client.fetch(
                    self._request(f"{self.api_url}users?{query}", PAGINATION), raise_error=False
                )
            except Exception as e:
                raise LookupError(
                    f"the hub's API ({self.api_url}users): {self._no_answer(e)}"
                ) from None
            if response.code != 200:
                reason = f"HTTP {response.code}"
                hint = " (does the service's role have list:users and read:servers?)"
                raise LookupError(
                    f"the hub's API ({self.api_url}users) answered {reason}"
                    + (hint if response.code == 403 else "")
                )
            data = json.loads(response.body)
            users = data if isinstance(data, list) else data.get("items", [])
            if any(isinstance(u, dict) and "servers" not in u for u in users):
                # Without read:servers the hub lists the users and silently leaves out their
                # servers: an empty fleet that looks like a quiet one.
                raise LookupError(
                    "the hub's API lists the users without their servers: the service's role "
                    "needs read:servers"
                )
            entries += entries_of(users)
            if isinstance(data, list):  # a hub without pagination answers a plain list
                break
            following = (data.get("_pagination") or {}).get("next")
            if not following:
                break
            offset = int(following["offset"])
        return entries

    def report_url(self, entry: Entry) -> str:
        """Where the server's /hardening JSON is, through the hub's proxy."""
        return urljoin(self.proxy_url, entry.url.rstrip("/") + "/hardening?format=json")

    def _no_answer(self, error: Exception) -> str:
        from tornado.httpclient import HTTPClientError

        if isinstance(error, HTTPClientError) and error.code == 599:
            if "Timeout" in type(error).__name__ or "Timeout" in str(error):
                return f"timed out after {self.timeout:g} s"
            return "no answer (the connection was closed)"
        if isinstance(error, ConnectionRefusedError):
            return "no answer (connection refused)"
        if isinstance(error, OSError) and error.strerror:
            return f"no answer ({printable(error.strerror)})"
        return f"no answer ({type(error).__name__})"

    async def check(self, entry: Entry, gate: asyncio.Semaphore) -> Status:
        """One server's status; every failure is 'unreachable' with the reason."""
        async with gate:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                response = await self.client.fetch(
                    self._request(self.report_url(entry)), raise_error=False
                )
            except Exception as e:  # timeout, DNS, TLS, refused connection: the reason only
                return Status(entry, now(), problem=self._no_answer(e))
            finally:
                self.in_flight -= 1
        checked = now()
        if response.code in (301, 302, 303, 307, 308):
            return Status(
                entry,
                checked,
                problem=f"HTTP {response.code}: redirected to a login (does the service's role have access:servers?)",
            )
        if response.code != 200:
            hint = {
                403: " (does the service's role have access:servers?)",
                404: " (is jupyter_hardening installed and enabled in the user's environment?)",
            }.get(response.code, "")
            return Status(entry, checked, problem=f"HTTP {response.code}{hint}")
        content_type = response.headers.get("Content-Type", "")
        try:
            data = json.loads(response.body)
        except ValueError:
            shown = _text(content_type.split(";")[0], 60) or "no content type"
            return Status(entry, checked, problem=f"answered {shown}, not JSON")
        summary = summarize(data)
        if isinstance(summary, str):
            return Status(entry, checked, problem=summary)
        return Status(entry, checked, summary=summary)

    async def refresh(self) -> State:
        """List the servers, fetch their reports (bounded), add the hub's report; keep it."""
        began = time.monotonic()
        self.peak_in_flight = 0
        hub_task = (
            asyncio.ensure_future(asyncio.to_thread(self.hub_check))
            if self.hub_check is not None
            else None
        )
        listing_problem = ""
        try:
            entries = await self.list_servers()
        except (LookupError, ValueError, KeyError, TypeError) as e:
            listing_problem = (
                printable(str(e))
                if isinstance(e, LookupError)
                else ("the hub's API answered something that is not a user list")
            )
            if listing_problem != self.state.listing_problem:
                self.log.warning("listing the hub's servers failed: %s", listing_problem)
            entries = [s.entry for s in self.state.servers]
        gate = asyncio.Semaphore(self.concurrency)
        statuses = await asyncio.gather(*(self.check(e, gate) for e in entries))
        hub = await hub_task if hub_task is not None else self.state.hub
        # One line when a server becomes unreachable or answers again, not one per refresh.
        before = {s.entry: s.summary is not None for s in self.state.servers}
        for status in statuses:
            was_up, label = before.get(status.entry), printable(status.entry.label)
            if status.summary is None and was_up is not False:
                self.log.warning("%s's server is unreachable: %s", label, status.problem)
            elif status.summary is not None and was_up is False:
                self.log.info("%s's server answers its report again", label)
        self.state = State(
            servers=tuple(sorted(statuses, key=Status.sort_key)),
            hub=hub,
            refreshed_at=now(),
            duration=time.monotonic() - began,
            listing_problem=listing_problem,
        )
        return self.state

    async def run(
        self, interval: float, on_refresh: Callable[[State], Awaitable[None]] | None = None
    ) -> None:
        """Refresh now, then ``interval`` seconds after each refresh began (never overlapping)."""
        while True:
            began = time.monotonic()
            try:
                state = await self.refresh()
                if on_refresh is not None:
                    await on_refresh(state)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("refreshing the fleet failed")
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))


# -- outputs ---------------------------------------------------------------------------------


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def _summary_json(summary: Summary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {
        "verdict": summary.verdict,
        "counts": dict(summary.counts),
        "findings": [dict(f) for f in summary.findings],
        "computed_at": summary.computed_at,
        "certificate_expires": _iso(summary.certificate_expires),
        "version": summary.version,
    }


def report_link(status: Status, proxy_url: str = "") -> str:
    """The server's own /hardening page (a path on the hub, or a full subdomain URL)."""
    url = status.entry.url.rstrip("/") + "/hardening"
    return urljoin(proxy_url, url) if proxy_url else url


def fleet_json(state: State) -> dict[str, Any]:
    """The fleet as JSON (``metrics?format=json``): the hub first, then the servers, worst first."""
    from . import __version__

    return {
        "version": __version__,
        "refreshed_at": _iso(state.refreshed_at),
        "refresh_seconds": round(state.duration, 3),
        "listing_problem": state.listing_problem,
        "hub": {
            "verdict": state.hub.summary.verdict if state.hub.summary else UNREACHABLE,
            "report": _summary_json(state.hub.summary),
            "problem": state.hub.problem,
            "checked_at": _iso(state.hub.checked_at),
        },
        "servers": [
            {
                "user": s.entry.user,
                "server": s.entry.name,
                "verdict": s.verdict,
                "report": _summary_json(s.summary),
                "problem": s.problem,
                "checked_at": _iso(s.checked_at),
                "url": report_link(s),
            }
            for s in state.servers
        ],
    }


def _metric_families(state: State) -> Iterator[Any]:
    from prometheus_client.metrics_core import GaugeMetricFamily

    labels = ["user", "server"]
    verdict = GaugeMetricFamily(
        "jupyter_hardening_fleet_server_verdict",
        "1 for the verdict of the user server's hardening report (unreachable: no report), else 0.",
        labels=[*labels, "verdict"],
    )
    up = GaugeMetricFamily(
        "jupyter_hardening_fleet_server_up",
        "1 when the user server answered its /hardening report at the last refresh, else 0.",
        labels=labels,
    )
    findings = GaugeMetricFamily(
        "jupyter_hardening_fleet_server_findings",
        "Findings of the user server's report per severity, accepted risks left out.",
        labels=[*labels, "severity"],
    )
    accepted = GaugeMetricFamily(
        "jupyter_hardening_fleet_server_accepted_findings",
        "Findings the user server accepts with c.Hardening.accepted_risks.",
        labels=labels,
    )
    expiry = GaugeMetricFamily(
        "jupyter_hardening_fleet_server_certificate_expiry_timestamp_seconds",
        "notAfter of the user server's ServerApp.certfile (Unix time), when it has one.",
        labels=labels,
    )
    checked = GaugeMetricFamily(
        "jupyter_hardening_fleet_server_checked_timestamp_seconds",
        "When the service last asked the user server for its report (Unix time).",
        labels=labels,
    )
    for s in state.servers:
        key = [s.entry.user, s.entry.name]
        for v in (*VERDICTS, UNREACHABLE):
            verdict.add_metric([*key, v], float(s.verdict == v))
        up.add_metric(key, float(s.summary is not None))
        checked.add_metric(key, s.checked_at.timestamp())
        if s.summary is not None:
            for severity in SEVERITIES:
                findings.add_metric([*key, severity], s.summary.counts[severity])
            accepted.add_metric(key, s.summary.counts["accepted"])
            if s.summary.certificate_expires is not None:
                expiry.add_metric(key, s.summary.certificate_expires.timestamp())
    yield from (verdict, up, findings, accepted, expiry, checked)

    servers = GaugeMetricFamily(
        "jupyter_hardening_fleet_servers",
        "User servers per verdict at the last refresh.",
        labels=["verdict"],
    )
    for v in (*VERDICTS, UNREACHABLE):
        servers.add_metric([v], sum(s.verdict == v for s in state.servers))
    yield servers
    hub_available = GaugeMetricFamily(
        "jupyter_hardening_hub_report_available",
        "1 when the hub's own report (hub-check) was computed at the last refresh, else 0.",
    )
    hub_available.add_metric([], float(state.hub.summary is not None))
    yield hub_available
    if state.hub.summary is not None:
        hub_verdict = GaugeMetricFamily(
            "jupyter_hardening_hub_verdict",
            "1 for the verdict of the hub's own report (hub-check), else 0.",
            labels=["verdict"],
        )
        hub_findings = GaugeMetricFamily(
            "jupyter_hardening_hub_findings",
            "Findings of the hub's own report per severity, accepted risks left out.",
            labels=["severity"],
        )
        for v in VERDICTS:
            hub_verdict.add_metric([v], float(state.hub.summary.verdict == v))
        for severity in SEVERITIES:
            hub_findings.add_metric([severity], state.hub.summary.counts[severity])
        yield from (hub_verdict, hub_findings)
    if state.refreshed_at is not None:
        refreshed = GaugeMetricFamily(
            "jupyter_hardening_fleet_refresh_timestamp_seconds",
            "When the last refresh of the fleet ended (Unix time).",
        )
        refreshed.add_metric([], state.refreshed_at.timestamp())
        duration = GaugeMetricFamily(
            "jupyter_hardening_fleet_refresh_duration_seconds",
            "How long the last refresh of the fleet took.",
        )
        duration.add_metric([], state.duration)
        yield from (refreshed, duration)


def metrics_text(state: State) -> bytes:
    """The fleet in Prometheus' text format: one series per user server, and the hub's own."""
    from prometheus_client import CollectorRegistry, generate_latest

    class _Collector:
        def collect(self) -> Iterator[Any]:
            yield from _metric_families(state)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())  # type: ignore[arg-type]
    return bytes(generate_latest(registry))


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else "not yet"


def render_page(state: State, links: Any, interval: float) -> bytes:
    """The admins' fleet page: the hub's report first, then every server, worst first."""
    from .page import _interval, _render

    servers = [
        {
            "label": s.entry.label,
            "user": s.entry.user,
            "name": s.entry.name,
            "verdict": s.verdict,
            "counts": s.summary.counts if s.summary is not None else None,
            "worst": s.summary.worst if s.summary is not None else (),
            "more": max(0, len(s.summary.findings) - WORST) if s.summary is not None else 0,
            "problem": s.problem,
            "checked_at": _when(s.checked_at),
            "checked_at_iso": _iso(s.checked_at),
            "expires": _when(s.summary.certificate_expires)
            if s.summary is not None and s.summary.certificate_expires is not None
            else "",
            "link": report_link(s),
            "anchor": f"server-{n}",
        }
        for n, s in enumerate(state.servers)
    ]
    tally = {v: sum(s.verdict == v for s in state.servers) for v in (*VERDICTS, UNREACHABLE)}
    hub = state.hub
    return _render(
        "fleet.html",
        hub=hub.summary,
        hub_problem=hub.problem,
        hub_checked_at=_when(hub.checked_at),
        servers=servers,
        tally=tally,
        listing_problem=state.listing_problem,
        refreshed_at=_when(state.refreshed_at),
        refreshed_at_iso=_iso(state.refreshed_at) or "",
        duration=f"{state.duration:.1f}",
        interval=_interval(interval),
        links=links,
    )
