"""``GET {base_url}hardening``: the live report, as JSON for API clients and a page for browsers.

Authenticated like every Jupyter page and authorized as action ``read`` on the resource
``hardening``, so a custom Authorizer (JupyterHub roles) can hide it. Anonymous API clients get
403; anonymous browsers are sent to the login page. Bodies come pre-rendered from
:class:`~jupyter_hardening.page.ReportPages`, so a request costs about as much as /api/status.
The page module (and jinja2's templates) is imported by the first request, not at startup.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

if TYPE_CHECKING:
    from ..page import Links, ReportPages
    from ..status import LiveReport

AUTH_RESOURCE = "hardening"
PATH = "hardening"
FORMATS = ("json", "html")


def _quality(accept: str, candidates: tuple[str, ...]) -> float:
    """The q-value the Accept header gives the most specific of ``candidates`` it names."""
    best: tuple[int, float] = (-1, 0.0)
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        if media not in candidates:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        specificity = len(candidates) - candidates.index(media)
        if specificity > best[0]:
            best = (specificity, q)
    return best[1]


def prefers_json(accept: str) -> bool:
    """True unless the Accept header ranks text/html above application/json (as browsers do)."""
    if not accept.strip():
        return True
    html = _quality(accept, ("text/html", "text/*", "*/*"))
    as_json = _quality(accept, ("application/json", "application/*", "*/*"))
    return as_json >= html


class LazyPages:
    """The ReportPages of one live report, made by the first request that needs them."""

    def __init__(self, live: LiveReport):
        self.live = live
        self._pages: ReportPages | None = None

    def get(self) -> ReportPages:
        """The shared ReportPages (page.py is imported here, once)."""
        if self._pages is None:
            from ..page import ReportPages

            self._pages = ReportPages(self.live)
        return self._pages


class HardeningHandler(JupyterHandler):
    """Serves the cached report of this server."""

    auth_resource = AUTH_RESOURCE
    _wants_json: bool | None = None

    def initialize(self, pages: LazyPages) -> None:
        """Receive the shared, cached report pages."""
        self._pages = pages

    @property
    def pages(self) -> ReportPages:
        """The live report's bodies, shared by every request."""
        return self._pages.get()

    @property
    def wants_json(self) -> bool:
        """``?format=json|html`` if given, else content negotiation on the Accept header."""
        if self._wants_json is None:
            try:
                fmt = self.get_query_argument("format", None)
            except web.HTTPError:
                fmt = None
            if fmt in FORMATS:
                self._wants_json = fmt == "json"
            else:
                self._wants_json = prefers_json(self.request.headers.get("Accept", ""))
        return self._wants_json

    @property
    def content_security_policy(self) -> str:
        """The server's policy (frame-ancestors...), narrowed: no scripts, only our own style."""
        from ..page import csp_directives

        return f"{super().content_security_policy}; {csp_directives()}"

    def get_login_url(self) -> str:
        """API clients are refused (403); browsers are redirected to the login page."""
        if self.wants_json:
            raise web.HTTPError(403)
        return super().get_login_url()

    def page_links(self) -> Links:
        """Where the page's logo, home link and JSON link point on this server."""
        from ..page import Links

        return Links(
            home=str(self.settings.get("default_url") or self.base_url),
            logo=self.static_url("logo/logo.png"),
            favicon=self.static_url("favicon.ico"),
            json=url_path_join(self.base_url, PATH) + "?format=json",
        )

    @web.authenticated
    @authorized  # GET is action "read" on self.auth_resource
    def get(self) -> None:
        """The report: JSON or HTML, from the cache, with an ETag."""
        fmt = self.get_query_argument("format", None)
        if fmt is not None and fmt not in FORMATS:
            raise web.HTTPError(400, "format must be 'json' or 'html'")
        body = self.pages.json() if self.wants_json else self.pages.html(self.page_links)
        self.set_header("Content-Type", body.content_type)
        # The report maps this server's weak spots: no copy on disk or in the history after
        # logout. Clients that send If-None-Match still get 304.
        self.set_header("Cache-Control", "no-store")
        self.set_header("Vary", "Accept")
        self.set_header("Etag", body.etag)
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
        else:
            self.finish(body.data)

    def log_exception(
        self, typ: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Log errors as tornado does, but without the query string: it may hold ?token=."""
        summary = f"{self.request.method} {self.request.path} ({self.request.remote_ip})"
        if isinstance(value, web.HTTPError):
            if value.log_message:
                message = value.log_message % value.args if value.args else value.log_message
                self.log.warning("%d %s: %s", value.status_code, summary, message)
        else:
            self.log.error("Uncaught exception %s", summary, exc_info=(typ, value, tb))  # type: ignore[arg-type]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors as JSON for API clients, as a plain page (without the token) for browsers."""
        from ..page import JSON_TYPE, render_error

        message = ""
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if isinstance(error, web.HTTPError) and error.log_message:
            message = error.log_message % error.args if error.args else error.log_message
        reason = self._reason
        self.clear_header("Etag")
        if self.wants_json:
            self.set_header("Content-Type", JSON_TYPE)
            self.finish(json.dumps({"message": message or reason, "reason": reason}))
        else:
            self.finish(render_error(status_code, reason, message, self.page_links()))


def routes(live: LiveReport) -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
    """This module's routes, relative to base_url."""
    return [(PATH, HardeningHandler, {"pages": LazyPages(live)})]
