"""The report as served bytes: JSON and an HTML page, rendered once per report and then reused.

Rendering is the expensive part of a /hardening request, and the report only changes when the
live report re-checks (see :mod:`jupyter_hardening.status`), so bodies and their ETags are cached
per report object. The page is self-contained (one inline stylesheet, no JavaScript) and every
value in it is escaped: findings quote user-controlled settings.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .report import Report
from .rules import Severity
from .status import LiveReport

TEMPLATES = Path(__file__).with_name("templates")
JSON_TYPE = "application/json; charset=UTF-8"
HTML_TYPE = "text/html; charset=UTF-8"

HEADLINES = {
    "ok": "Nothing to fix",
    "warn": "The server runs, with findings to fix",
    "refuse": "With these settings the server would refuse to start",
}
TITLES = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.INFO: "Information"}


@dataclass(frozen=True)
class Links:
    """The server URLs the page points to (they depend on base_url and static file versions)."""

    home: str
    logo: str
    favicon: str
    json: str


@dataclass(frozen=True)
class Body:
    """A response body with its content type and a strong ETag."""

    data: bytes
    content_type: str
    etag: str

    @classmethod
    def of(cls, data: bytes, content_type: str) -> Body:
        """Wrap bytes, computing the ETag once."""
        return cls(data, content_type, '"' + hashlib.sha256(data).hexdigest()[:40] + '"')


@functools.cache
def _environment() -> Any:
    import jinja2  # a jupyter_server dependency; imported here to keep extension load cheap

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def stylesheet() -> str:
    """The page's stylesheet, inlined in a <style> element."""
    return (TEMPLATES / "hardening.css").read_text(encoding="utf-8")


@functools.cache
def csp_directives() -> str:
    """CSP directives for the page: no scripts, no connections, only our own inline style."""
    digest = base64.b64encode(hashlib.sha256(stylesheet().encode()).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'"
    )


def json_bytes(report: Report) -> bytes:
    """The JSON report, formatted exactly like ``jupyter hardening check --format json``."""
    return (json.dumps(report.to_json(), indent=2) + "\n").encode()  # ensure_ascii: any text


def _display(value: Any) -> str:
    # Redacted descriptions ("set (48 characters)") and paths read best as plain text;
    # booleans, numbers and lists as they would be written in a config file.
    return value if isinstance(value, str) else repr(value)


def _interval(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} second{'s' if seconds != 1 else ''}"


def _render(name: str, **namespace: Any) -> bytes:
    from markupsafe import Markup

    template = _environment().get_template(name)
    # Our own stylesheet goes into <style> verbatim (HTML escapes would break it there).
    css = Markup(stylesheet())  # noqa: S704 - a file shipped in the package, not user input
    # A setting's text may hold a lone surrogate ('\udc80'), which UTF-8 cannot encode: escaped.
    html = str(template.render(css=css, version=__version__, **namespace))
    return html.encode("utf-8", "backslashreplace")


def render_html(report: Report, links: Links, interval: float) -> bytes:
    """The HTML page: verdict, findings by severity, accepted risks, settings, when, version."""
    data = report.to_json()
    # A rule can fire more than once (one finding per file, per pattern ...): the page anchors
    # are the rule id, then JH401-2, JH401-3, so that every element id stays unique.
    seen: Counter[str] = Counter()
    anchors = []
    for item in report.items:
        seen[item.finding.id] += 1
        count = seen[item.finding.id]
        anchors.append(item.finding.id + (f"-{count}" if count > 1 else ""))
    groups = []
    for severity in sorted(Severity, reverse=True):
        items = [
            dict(i.to_json(), blocking=i.blocking, anchor=anchors[n])
            for n, i in enumerate(report.items)
            if not i.accepted and i.finding.severity == severity
        ]
        if items:
            groups.append(
                {"severity": severity.label, "title": TITLES[severity], "findings": items}
            )
    return _render(
        "hardening.html",
        verdict=report.verdict,
        headline=HEADLINES[report.verdict],
        counts=data["counts"],
        refuse_at=report.refuse_at,
        groups=groups,
        accepted=[
            dict(i.to_json(), anchor=anchors[n]) for n, i in enumerate(report.items) if i.accepted
        ],
        settings=[(k, _display(v)) for k, v in data["settings"].items()],
        computed_at=report.computed_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        computed_at_iso=data["computed_at"],
        interval=_interval(interval),
        server_version=report.snapshot.server_version,
        links=links,
    )


def render_error(status_code: int, reason: str, message: str, links: Links) -> bytes:
    """A plain error page in the same style (no token, unlike jupyter_server's error page)."""
    return _render(
        "error.html", status_code=status_code, reason=reason, message=message, links=links
    )


class ReportPages:
    """The live report's bodies; rendered again only when the live report has changed."""

    def __init__(self, live: LiveReport):
        self.live = live
        self._report: Report | None = None
        self._json: Body | None = None
        self._html: Body | None = None
        self._links: Links | None = None

    def _current(self) -> None:
        report = self.live.current()
        if report is not self._report:
            self._report, self._json, self._html = report, None, None

    def json(self) -> Body:
        """The JSON body of the current report."""
        self._current()
        if self._json is None:
            assert self._report is not None
            self._json = Body.of(json_bytes(self._report), JSON_TYPE)
        return self._json

    def html(self, links: Callable[[], Links]) -> Body:
        """The HTML body of the current report; ``links`` is called once per server."""
        self._current()
        if self._html is None:
            assert self._report is not None
            self._links = self._links or links()
            data = render_html(self._report, self._links, self.live.interval)
            self._html = Body.of(data, HTML_TYPE)
        return self._html
