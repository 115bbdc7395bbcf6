"""HTTP handlers of the extension; each module exports its routes."""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join
from tornado.web import RequestHandler

from ..status import LiveReport
from . import hardening

Route = tuple[str, type[RequestHandler], dict[str, Any]]


def routes(base_url: str, live: LiveReport) -> list[Route]:
    """Every route of the extension, under the server's base_url."""
    return [
        (url_path_join(base_url, path), handler, kwargs)
        for module in (hardening,)
        for path, handler, kwargs in module.routes(live)
    ]
