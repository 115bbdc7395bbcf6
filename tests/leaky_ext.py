"""A server extension whose handlers answer without login, as careless extensions do.

Used in-process by tests/rule_cases.py (``tests.leaky_ext``) and copied into a temp dir on
PYTHONPATH (``leaky_ext``) by tests/test_exposure.py for real servers.
``c.LeakyExt.plain = True`` adds a plain tornado handler, which no jupyter_server setting closes.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web


class LeakyHandler(JupyterHandler):
    """No decorator: open unless c.ServerApp.allow_unauthenticated_access = False."""

    def get(self) -> None:
        self.finish("leaked")


class PlainHandler(web.RequestHandler):
    """A plain tornado handler: jupyter_server's prepare never runs, so it is always open."""

    def get(self) -> None:
        self.finish("leaked plain")


class PublicHandler(JupyterHandler):
    """Public on purpose: not reported."""

    @allow_unauthenticated
    def get(self) -> None:
        self.finish("public")


class PrivateHandler(JupyterHandler):
    """Needs login: not reported."""

    @web.authenticated
    def get(self) -> None:
        self.finish("private")


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    base = serverapp.base_url
    handlers: list[Any] = [
        (url_path_join(base, "leaky"), LeakyHandler),
        (url_path_join(base, "public-on-purpose"), PublicHandler),
        (url_path_join(base, "private"), PrivateHandler),
    ]
    if serverapp.config.get("LeakyExt", {}).get("plain"):
        handlers.append((url_path_join(base, "leaky-plain"), PlainHandler))
    serverapp.web_app.add_handlers(".*$", handlers)
