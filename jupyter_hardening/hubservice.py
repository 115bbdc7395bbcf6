"""``jupyter hardening hub-service``: the fleet view, run by JupyterHub as a managed service.

It lists the running user servers through the hub's REST API, asks each for its /hardening
report through the hub's proxy with the service's own token, keeps the results, and serves
``{prefix}`` (an HTML page for the hub's admins, through the hub's OAuth) and
``{prefix}metrics`` (Prometheus text, ``?format=json`` for JSON). JupyterHub is imported only
here, when the command runs (``pip install 'jupyter_hardening[hub]'``). See docs/fleet.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from traitlets import Bool, Float, Integer, TraitError, Unicode, default, validate

from . import __version__
from .command import StrictCommand, configurable_classes
from .printable import printable

DEFAULT_HUB_URL = "http://127.0.0.1:8000/"
NEEDED_ENV = ("JUPYTERHUB_SERVICE_URL", "JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL")


def _loopback(host: str) -> str:
    """Where a local service reaches a hub bound to ``host`` ('' and 0.0.0.0 mean every address)."""
    if host in ("", "0.0.0.0", "*"):  # noqa: S104 - reading the hub's bind, not binding
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def proxy_url_from_config(config_file: str | None) -> str:
    """The hub's public address (its proxy) as ``jupyterhub_config.py`` sets it, reachable locally.

    ``bind_url``, else ``ip``, ``port`` and ``base_url`` as JupyterHub combines them; https
    when the hub itself holds the certificate (``ssl_cert``). The origin only: the listing's
    server URLs carry the base_url.
    """
    if not config_file or not Path(config_file).is_file():
        return DEFAULT_HUB_URL
    from traitlets.config.loader import PyFileConfigLoader

    path = Path(config_file)
    config = PyFileConfigLoader(path.name, str(path.parent)).load_config()
    hub = config.get("JupyterHub", {})
    bind_url = hub.get("bind_url")
    if isinstance(bind_url, str) and bind_url:
        parts = urlsplit(bind_url)
        host = _loopback(parts.hostname or "")
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme or "http", netloc, "/", "", ""))
    scheme = "https" if hub.get("ssl_cert") else "http"
    host = _loopback(str(hub.get("ip", "")))
    port = int(hub.get("port", 8000))
    return f"{scheme}://{host}:{port}/"


class HubServiceApp(StrictCommand):
    """The hub's fleet view: every running user server's hardening report on one admin page
    and one Prometheus scrape target, plus the hub's own report (hub-check).

    Run by JupyterHub as a managed service (c.JupyterHub.services, with a role granting
    list:users, read:servers and access:servers); it reads the JUPYTERHUB_* variables the hub
    sets. Exit status 2: a refused option, or not started by a hub.
    """

    name = "jupyter-hardening-hub-service"
    version = __version__
    description = __doc__
    examples = """
    # jupyterhub_config.py
    c.JupyterHub.services = [{"name": "hardening", "url": "http://127.0.0.1:10101",
                              "command": ["jupyter-hardening", "hub-service"]}]
    c.JupyterHub.load_roles = [{"name": "hardening", "services": ["hardening"],
                                "scopes": ["list:users", "read:servers", "access:servers"]}]
    # options, in the service's command:
    jupyter-hardening hub-service --refresh-interval=300 --concurrency=16 --timeout=5
    """

    refresh_interval = Float(
        60.0,
        config=True,
        help="Seconds between two refreshes of the fleet (each asks every running server once).",
    )
    concurrency = Integer(
        8,
        config=True,
        help="At most this many report requests in flight at once: the fleet is never hammered.",
    )
    request_timeout = Float(
        10.0,
        config=True,
        help="Seconds a user server has to answer; a server that does not is shown unreachable.",
    )
    hub_config = Unicode(
        config=True,
        help="The hub's jupyterhub_config.py, for the hub's own report and its public address "
        "(default: jupyterhub_config.py in the service's working folder, the hub's).",
    )
    proxy_url = Unicode(
        "",
        config=True,
        help="Where the service reaches the hub's proxy, e.g. http://127.0.0.1:8000 (default: "
        "JUPYTERHUB_PUBLIC_HUB_URL when c.JupyterHub.public_url is set, else the hub config's "
        "bind_url on loopback).",
    )
    authenticate_metrics = Bool(
        True,
        config=True,
        help="Require a hub token with access to this service for {prefix}metrics (Prometheus: "
        "Authorization: token ...). False lets anyone who reaches the proxy read the metrics.",
    )

    aliases = {
        "refresh-interval": "HubServiceApp.refresh_interval",
        "concurrency": "HubServiceApp.concurrency",
        "timeout": "HubServiceApp.request_timeout",
        "hub-config": "HubServiceApp.hub_config",
        "proxy-url": "HubServiceApp.proxy_url",
    }
    flags: dict[str, Any] = {
        "no-metrics-auth": (
            {"HubServiceApp": {"authenticate_metrics": False}},
            "Serve {prefix}metrics without authentication (a scraper inside a closed network).",
        ),
    }

    @default("log_format")
    def _default_log_format(self) -> str:
        # The hub's log carries the service's lines: the same shape as JupyterHub's own.
        return "[%(levelname)1.1s %(asctime)s.%(msecs).03d %(name)s] %(message)s"

    @default("log_datefmt")
    def _default_log_datefmt(self) -> str:
        return "%Y-%m-%d %H:%M:%S"

    @default("hub_config")
    def _default_hub_config(self) -> str:
        found = Path.cwd() / "jupyterhub_config.py"
        return str(found) if found.is_file() else ""

    @validate("refresh_interval")
    def _valid_interval(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not 1 <= value <= 86400:
            raise TraitError(
                f"HubServiceApp.refresh_interval must be 1 to 86400 seconds, not {value:g}"
            )
        return value

    @validate("concurrency")
    def _valid_concurrency(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if not 1 <= value <= 256:
            raise TraitError(f"HubServiceApp.concurrency must be 1 to 256, not {value}")
        return value

    @validate("request_timeout")
    def _valid_timeout(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not 0 < value <= 300:
            raise TraitError(
                f"HubServiceApp.request_timeout must be above 0 and at most 300 s, not {value:g}"
            )
        return value

    @validate("proxy_url")
    def _valid_proxy_url(self, proposal: Any) -> str:
        value = str(proposal["value"])
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise TraitError(
                f"HubServiceApp.proxy_url must be an http(s) URL such as http://127.0.0.1:8000, not {value!r}"
            )
        return value

    def initialize(self, argv: Any = None) -> None:
        """Parse the options; an unknown or bad one is one line, exit 2."""
        args = list(sys.argv[1:] if argv is None else argv)
        problem = self.argv_problem(args, configurable_classes())
        if problem:
            self.fail(problem)
        self.strict_initialize(args, super().initialize)

    def resolved_proxy_url(self) -> str:
        """The option, else the hub's public URL from the environment, else its config."""
        if self.proxy_url:
            return self.proxy_url
        public = os.environ.get("JUPYTERHUB_PUBLIC_HUB_URL", "")
        if public:
            parts = urlsplit(public)
            return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
        try:
            return proxy_url_from_config(self.hub_config)
        except (
            Exception,
            SystemExit,
        ) as e:  # the hub loaded it: a failure here is no reason to exit
            self.log.warning(
                "[jupyter_hardening] reading the hub's address from %s failed (%s); using %s. "
                "Set --proxy-url to choose it.",
                self.hub_config,
                type(e).__name__,
                DEFAULT_HUB_URL,
            )
            return DEFAULT_HUB_URL

    def start(self) -> None:
        """Listen where the hub expects the service, then refresh the fleet in the background."""
        missing = [name for name in NEEDED_ENV if not os.environ.get(name)]
        if missing:
            self.fail(
                f"{', '.join(missing)} not set: hub-service runs under JupyterHub as a managed "
                "service; add it to c.JupyterHub.services (see docs/fleet.md)"
            )
        try:
            import jupyterhub.services.auth  # noqa: F401
        except ImportError:
            self.fail("needs JupyterHub in this environment: pip install 'jupyter_hardening[hub]'")
        service_url = urlsplit(os.environ["JUPYTERHUB_SERVICE_URL"])
        try:
            port = service_url.port  # raises ValueError on 99999 or 'abc'
        except ValueError:
            port = None
        if service_url.scheme not in ("http", "https") or not port:
            self.fail(
                f"JUPYTERHUB_SERVICE_URL must be http://HOST:PORT, not "
                f"{printable(os.environ['JUPYTERHUB_SERVICE_URL'])!r}: set the service's 'url' "
                "with a port"
            )
        asyncio.run(self._serve(service_url.hostname or "127.0.0.1", port))

    async def _serve(self, host: str, port: int) -> None:
        from .fleet import Fleet, hub_check_section

        config_file = self.hub_config or None
        fleet = Fleet(
            api_url=os.environ["JUPYTERHUB_API_URL"],
            proxy_url=self.proxy_url or DEFAULT_HUB_URL,
            token=os.environ["JUPYTERHUB_API_TOKEN"],
            concurrency=self.concurrency,
            timeout=self.request_timeout,
            hub_check=lambda: hub_check_section(config_file, self.log),
            environ=os.environ,
            logger=self.log,
        )
        app = make_app(fleet, self)
        server = app.listen(port, address=host, xheaders=True)
        # Listening first: the hub waits only Service.timeout. Reading the hub's config for its
        # address runs the config file, which may take a while.
        fleet.proxy_url = self.resolved_proxy_url().rstrip("/") + "/"
        self.log.info(
            "[jupyter_hardening] fleet view on %s:%d%s; user servers through %s, every %gs, "
            "%d at a time, %gs timeout; hub config %s",
            host,
            port,
            app.settings["prefix"],
            fleet.proxy_url,
            self.refresh_interval,
            self.concurrency,
            self.request_timeout,
            config_file or "none",
        )

        async def refreshed(state: Any) -> None:
            self.log.info(
                "[jupyter_hardening] fleet refreshed: %d servers in %.1fs (%s)",
                len(state.servers),
                state.duration,
                ", ".join(
                    f"{v} {sum(s.verdict == v for s in state.servers)}"
                    for v in ("refuse", "unreachable", "warn", "ok")
                ),
            )

        try:
            await fleet.run(self.refresh_interval, refreshed)
        finally:
            server.stop()
            fleet.close()


def make_app(fleet: Any, service: HubServiceApp) -> Any:
    """The service's tornado application: the page, the metrics and the OAuth callback."""
    from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
    from tornado import web

    from .fleet import fleet_json, metrics_text, render_page
    from .page import HTML_TYPE, JSON_TYPE, Links, csp_directives, render_error

    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/hardening/")
    hub_prefix = os.environ.get("JUPYTERHUB_BASE_URL", "/").rstrip("/") + "/hub/"
    hub_auth = HubOAuth(parent=service, cache_max_age=60)
    links = Links(
        home=hub_prefix + "home",
        logo=hub_prefix + "logo",
        favicon=hub_prefix + "static/favicon.ico",
        json=prefix + "metrics?format=json",
    )

    class Base(HubOAuthenticated, web.RequestHandler):  # type: ignore[misc]
        """Hub OAuth (cookie or ``Authorization: token``); no secrets in errors or logs."""

        def initialize(self) -> None:
            self.hub_auth = hub_auth

        def set_default_headers(self) -> None:
            self.set_header("Cache-Control", "no-store")
            self.set_header("X-Content-Type-Options", "nosniff")
            self.set_header(
                "Content-Security-Policy", f"{csp_directives()}; frame-ancestors 'none'"
            )

        def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
            # tornado's line has the query string; a ?token= there must not reach the log.
            if isinstance(value, web.HTTPError):
                return  # log_request has the status line
            service.log.error(
                "Uncaught exception %s %s",
                self.request.method,
                printable(self.request.path),
                exc_info=(typ, value, tb),
            )

        def write_error(self, status_code: int, **kwargs: Any) -> None:
            reason = self._reason
            message = {
                403: "The fleet view is for the hub's admins.",
                404: "Not a page of the fleet view.",
            }.get(status_code, "")
            self.set_header("Content-Type", HTML_TYPE)
            self.finish(render_error(status_code, reason, message, links))

    class FleetPage(Base):
        """``{prefix}``: the fleet for the hub's admins."""

        @web.authenticated
        def get(self) -> None:
            if not self.current_user.get("admin"):
                raise web.HTTPError(403)
            self.set_header("Content-Type", HTML_TYPE)
            self.finish(render_page(fleet.state, links, service.refresh_interval))

    class Metrics(Base):
        """``{prefix}metrics``: Prometheus text, or JSON with ?format=json."""

        def get_login_url(self) -> str:
            raise web.HTTPError(403)  # a scraper is not sent to a login page

        def get_current_user(self) -> Any:
            if not service.authenticate_metrics:
                return {"name": "anonymous", "kind": "anonymous"}
            return super().get_current_user()

        @web.authenticated
        def get(self) -> None:
            fmt = self.get_query_argument("format", "prometheus")
            if fmt == "json":
                # The JSON has the findings' messages and fixes (paths, settings): admins only,
                # like the page. The Prometheus text has ids, counts and names, nothing more.
                if not self.current_user.get("admin"):
                    raise web.HTTPError(403)
                self.set_header("Content-Type", JSON_TYPE)
                self.finish(json.dumps(fleet_json(fleet.state), indent=2) + "\n")
            elif fmt == "prometheus":
                from prometheus_client import CONTENT_TYPE_LATEST

                self.set_header("Content-Type", CONTENT_TYPE_LATEST)
                self.finish(metrics_text(fleet.state))
            else:
                raise web.HTTPError(400, "format must be 'json' or 'prometheus'")

        def write_error(self, status_code: int, **kwargs: Any) -> None:
            self.set_header("Content-Type", JSON_TYPE)
            self.finish(json.dumps({"status": status_code, "reason": self._reason}))

    class Callback(HubOAuthCallbackHandler):  # type: ignore[misc]
        def initialize(self) -> None:
            self.hub_auth = hub_auth

    def log_request(handler: web.RequestHandler) -> None:
        # tornado's own line has the query string; a ?token= there must not reach the hub's log.
        request = handler.request
        status = handler.get_status()
        level = service.log.info if status < 400 else service.log.warning
        level(
            "%d %s %s (%s) %.1fms",
            status,
            request.method,
            printable(request.path),
            request.remote_ip,
            1000 * request.request_time(),
        )

    return web.Application(
        [
            (re.escape(prefix.rstrip("/")), web.RedirectHandler, {"url": prefix}),
            (re.escape(prefix), FleetPage),
            (re.escape(prefix + "metrics"), Metrics),
            (re.escape(prefix + "oauth_callback"), Callback),
        ],
        cookie_secret=secrets.token_bytes(32),  # per process: a restart asks for a new login
        log_function=log_request,
        prefix=prefix,
        xsrf_cookies=False,  # GET only
    )
