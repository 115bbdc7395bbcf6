"""Which routes of a live server answer without login, by jupyter_server's own rules.

A method needs login when a decorator refuses anonymous requests: tornado's
``@web.authenticated``, jupyter_server's ``@ws_authenticated`` or ``@authorized``, anywhere in
its ``__wrapped__`` chain. ``@allow_unauthenticated`` marks it public. An undecorated method
answers anyone unless ``ServerApp.allow_unauthenticated_access = False``, and even then only a
``JupyterHandler`` or ``WebSocketMixin`` is closed (their ``prepare`` requires login): a plain
tornado ``RequestHandler`` stays open.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from .record import Record

# Undecorated methods that check the login in their own body (verified by anonymous requests
# in tests/test_exposure.py, both refused with 403): not open, whatever the decorators say.
CHECKS_LOGIN_ITSELF = {
    "jupyter_server_terminals.handlers.TermSocket": "get",
    "jupyter_lsp.handlers.LanguageServerWebSocketHandler": "get",
}


# A Record (record.py), not a dataclass or a NamedTuple: this module is imported at every start.
class OpenRoute(Record):
    """One route and method that answers without login."""

    pattern: str
    method: str
    handler: str  # module.Class of the handler
    module: str  # the module that defines the method
    distribution: str  # the installed package that ships it ('' when unknown)
    extension: str  # the jpserver extension (a top-level module name) that registered it, or ''
    # True: c.ServerApp.allow_unauthenticated_access = False requires login here.
    closed_by_setting: bool


@functools.cache
def _login_codes() -> frozenset[Any]:
    """The code objects of the wrappers that refuse anonymous requests (shared by every use)."""
    from jupyter_server.auth.decorator import authorized, ws_authenticated
    from tornado import web

    def method(self: Any) -> None:
        return None

    return frozenset(
        (
            web.authenticated(method).__code__,  # type: ignore[attr-defined]
            ws_authenticated(method).__code__,
            authorized(method).__code__,
        )
    )


def needs_login(fn: Any) -> bool:
    """True when a decorator anywhere in ``fn``'s ``__wrapped__`` chain refuses anonymous users."""
    codes = _login_codes()
    layer = fn
    for _ in range(32):  # a few layers deep at most; never loop on a cycle
        if getattr(layer, "__code__", None) in codes:
            return True
        layer = getattr(layer, "__wrapped__", None)
        if layer is None:
            break
    return False


def iter_handlers(web_app: Any) -> Iterator[tuple[str, type[Any]]]:
    """(path pattern, handler class) for every rule of a tornado Application, nested ones too.

    Covers the wildcard_router (jupyter_server's own handlers) and the host rules that
    ``add_handlers`` puts in the default_router (every extension's handlers).
    """
    from tornado.routing import PathMatches
    from tornado.web import RequestHandler

    seen: set[tuple[str, type[Any]]] = set()
    stack = [getattr(web_app, "wildcard_router", None), getattr(web_app, "default_router", None)]
    visited: set[int] = set()
    while stack:
        router = stack.pop(0)
        if router is None or id(router) in visited:
            continue
        visited.add(id(router))
        for rule in getattr(router, "rules", ()):
            target = rule.target
            if isinstance(target, type) and issubclass(target, RequestHandler):
                regex = rule.matcher.regex if isinstance(rule.matcher, PathMatches) else None
                pattern = regex.pattern.removesuffix("$") if regex is not None else ""
                if (pattern, target) not in seen:
                    seen.add((pattern, target))
                    yield pattern, target
            elif hasattr(target, "rules"):
                stack.append(target)
            elif hasattr(target, "default_router"):  # a nested tornado Application
                stack.append(target.default_router)


@functools.cache
def _distributions() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return dict(packages_distributions())


def distribution_of(module: str) -> str:
    """The installed distribution that ships ``module``'s top-level package, or ''."""
    names = _distributions().get(module.split(".", 1)[0], [])
    return names[0] if names else ""


def open_routes(
    web_app: Any, allow_unauthenticated_access: bool, extensions: tuple[str, ...] = ()
) -> tuple[OpenRoute, ...]:
    """Every undecorated (route, method) of ``web_app`` that answers without login.

    Methods jupyter_server itself marks ``@allow_unauthenticated`` are public by design and left
    out, and so are methods an extension marks ``@allow_unauthenticated`` (public on purpose, and
    no setting changes them; see docs/exposure.md).
    """
    from jupyter_server.base.handlers import JupyterHandler
    from jupyter_server.base.websocket import WebSocketMixin
    from tornado.web import RequestHandler

    found: list[OpenRoute] = []
    unimplemented = RequestHandler._unimplemented_method
    # method -> login required, or public by choice (inherited methods repeat across handlers)
    guarded: dict[Any, bool] = {}
    for pattern, handler in iter_handlers(web_app):
        qualname = f"{handler.__module__}.{handler.__qualname__}"
        closed = issubclass(handler, (JupyterHandler, WebSocketMixin))
        if closed and not allow_unauthenticated_access:
            continue
        for method_name in handler.SUPPORTED_METHODS:
            name = method_name.lower()
            fn = getattr(handler, name, None)
            if fn is None or fn is unimplemented:
                continue
            try:
                known = guarded[fn]
            except KeyError:
                known = guarded[fn] = needs_login(fn) or hasattr(fn, "__allow_unauthenticated")
            except TypeError:  # an unhashable callable: judged every time
                known = needs_login(fn) or hasattr(fn, "__allow_unauthenticated")
            if known:
                continue  # login required, or public by its author's (or jupyter_server's) choice
            if CHECKS_LOGIN_ITSELF.get(qualname) == name:
                continue
            module = str(getattr(fn, "__module__", "") or handler.__module__)
            top = module.split(".", 1)[0]
            found.append(
                OpenRoute(
                    pattern=pattern,
                    method=method_name,
                    handler=qualname,
                    module=module,
                    distribution=distribution_of(module),
                    extension=top if top in extensions else "",
                    closed_by_setting=closed,
                )
            )
    return tuple(found)
