"""Configured server extensions that jupyter_server could not import or link.

jupyter_server logs such a failure as a warning with a traceback and starts anyway: an extension
that is not installed (``{'voila': True}`` without voila) is simply absent, and one that fails to
link drops the settings of its config file — ``c.NotebookApp.*`` in jupyter_notebook_config.py
when notebook cannot link — so the server runs without a password or an ``ip`` the user wrote.
This module turns both into (kind, problem, fix) for the audit, never quoting a setting's value.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .printable import hide_secret_value

# The warnings ExtensionManager logs (with a traceback) for a failed extension, by step.
FAILURE_MESSAGES = {
    "%s | error adding extension (enabled: %s): %s": "import",
    "%s | error linking extension: %s": "link",
    "%s | extension failed loading with message: %r": "load",
}
CAPTURE_ATTRIBUTE = "jupyter_hardening_extension_failures"


class ExtensionFailures(logging.Filter):
    """Record why each extension failed; optionally hold back jupyter_server's traceback."""

    def __init__(self, quiet: bool = False) -> None:
        super().__init__()
        self.quiet = quiet
        self.reasons: dict[str, tuple[str, str]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        step = FAILURE_MESSAGES.get(record.msg) if isinstance(record.msg, str) else None
        if step is None or not isinstance(record.args, tuple) or not record.args:
            return True
        error = record.args[-1]
        self.reasons.setdefault(str(record.args[0]), (step, reason_of(error)))
        if self.quiet:
            return False
        if isinstance(error, BaseException) and hide_secret_value(str(error)) != str(error):
            # traitlets' message quotes the rejected value (c.NotebookApp.token = ['S'] makes
            # jupyterlab fail to link): the line keeps its shape, the value and the traceback
            # that repeats it are left out.
            record.args = (*record.args[:-1], f"{reason_of(error)} (traceback not shown)")
            record.exc_info = record.exc_text = None
        return True


def reason_of(error: object) -> str:
    """The exception's type, and its text when that cannot hold a setting's value."""
    if not isinstance(error, BaseException):
        return "an error"
    name = type(error).__name__
    if isinstance(error, ImportError | ModuleNotFoundError) or name == "ExtensionModuleNotFound":
        return f"{name}: {str(error).split(' Are you sure')[0]}"
    if name == "TraitError":
        text = hide_secret_value(str(error))
        # A rejected value that is not a secret is still a value: keep the sentence, not it.
        return f"{name}: {text.split(', not the ')[0]}" if ", not the " in text else name
    return name


def capture(serverapp: Any, quiet: bool = False) -> ExtensionFailures:
    """Start recording extension failures logged on ``serverapp``'s logger."""
    recorder = getattr(serverapp, CAPTURE_ATTRIBUTE, None)
    if isinstance(recorder, ExtensionFailures):
        return recorder
    recorder = ExtensionFailures(quiet)
    log = serverapp.log
    (log.logger if isinstance(log, logging.LoggerAdapter) else log).addFilter(recorder)
    setattr(serverapp, CAPTURE_ATTRIBUTE, recorder)
    return recorder


def settings_in(path: Path) -> list[str]:
    """The Class.trait names a config file sets, as traitlets loads it (never their values)."""
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    loader_class = PyFileConfigLoader if path.suffix == ".py" else JSONFileConfigLoader
    try:
        config = loader_class(path.name, path=str(path.parent)).load_config()
    except Exception:
        return []
    return [
        f"{section}.{trait}"
        for section, values in config.items()
        if hasattr(values, "items")
        for trait in values
    ]


def config_files_of(serverapp: Any, name: str) -> list[Path]:
    """The config files the extension app(s) of extension ``name`` read."""
    manager = getattr(serverapp, "extension_manager", None)
    package = (getattr(manager, "extensions", None) or {}).get(name)
    names: list[str] = []
    for point in getattr(package, "extension_points", {}).values():
        app = getattr(point, "app", None)
        base = str(getattr(app, "config_file_name", "") or "")
        if base and base not in names:
            names.append(base)
    folders = [str(p) for p in getattr(serverapp, "config_file_paths", []) or [] if p]
    return [
        Path(folder, base + suffix)
        for folder in reversed(folders)
        for base in names
        for suffix in (".py", ".json")
        if Path(folder, base + suffix).is_file()
    ]


def extension_problems(serverapp: Any) -> Iterator[tuple[str, str, str]]:
    """(kind, problem, fix) for each enabled extension that is missing or failed to link.

    kind is ``missing`` (not importable, or it failed loading) or ``dropped`` (it failed to
    link and its config files' settings were not applied).
    """
    manager = getattr(serverapp, "extension_manager", None)
    if manager is None:
        return
    recorder = getattr(serverapp, CAPTURE_ATTRIBUTE, None)
    reasons = recorder.reasons if isinstance(recorder, ExtensionFailures) else {}
    extensions = getattr(manager, "extensions", {}) or {}
    linked = getattr(manager, "linked_extensions", {}) or {}
    enabled = sorted(n for n, on in (serverapp.jpserver_extensions or {}).items() if on)
    for name in enabled:
        step, reason = reasons.get(name, ("", ""))
        because = f" ({reason})" if reason else ""
        if name not in extensions:
            # Only for a problem: finding where it is enabled replays the config files.
            where = where_enabled(serverapp, name)
            yield (
                "missing",
                f"the server extension {name!r}, enabled in {where}, cannot be imported{because}: "
                "jupyter_server starts without it.",
                f"pip install {name} (in the server's environment), or remove {name!r} from "
                f"ServerApp.jpserver_extensions in {where}",
            )
        elif not linked.get(name) and name != "jupyter_hardening":
            files = config_files_of(serverapp, name)
            lost = [f"{path} ({', '.join(settings_in(path)) or 'no settings'})" for path in files]
            dropped = (
                f"jupyter_server drops the settings of {'; '.join(lost)}"
                if lost
                else "its settings are not applied"
            )
            yield (
                "dropped",
                f"the server extension {name!r} failed to link{because}: {dropped}, and starts "
                "without them.",
                f"correct the setting named above in {', '.join(map(str, files)) or 'its config'}",
            )
        elif step == "load":
            yield (
                "missing",
                f"the server extension {name!r} failed to load{because}: jupyter_server starts "
                "without its handlers.",
                f"fix or reinstall {name}, or disable it: jupyter server extension disable {name}",
            )


def where_enabled(serverapp: Any, name: str) -> str:
    """The config file (or the command line) that enables extension ``name``."""
    from .provenance import jpserver_extension_source

    return jpserver_extension_source(serverapp, name)
