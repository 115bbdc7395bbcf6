"""JH0xx — server extensions the configuration enables and jupyter_server could not use."""

from __future__ import annotations

from collections.abc import Iterator

from ..snapshot import Snapshot
from .base import Finding, Rule, Severity


class ExtensionMissing(Rule):
    """A server extension is enabled in the configuration but cannot be imported or loaded.

    Insecure::

        c.ServerApp.jpserver_extensions = {'voila': True}   # voila is not installed

    jupyter_server logs a traceback and starts without it: whatever the extension was meant to
    add (an authenticator, a proxy's handlers) is silently absent.

    Fix (or ``pip install voila`` in the server's environment)::

        c.ServerApp.jpserver_extensions = {'voila': False}
    """

    id = "JH004"
    name = "extension-missing"
    severity = Severity.WARNING
    traits = ("ServerApp.jpserver_extensions",)
    summary = "An enabled server extension cannot be imported: the server starts without it"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """One finding per enabled extension that is not importable or failed loading."""
        for entry in snap.extension_problems:
            kind, problem, fix = entry
            if kind == "missing":
                # Fixed (installed, or the config corrected): the problem is gone, no other.
                rest = tuple(e for e in snap.extension_problems if e != entry)
                yield self.finding(problem, fix, remedy={"extension_problems": rest})


class ExtensionSettingsDropped(Rule):
    """A server extension failed to link, and jupyter_server dropped its config file's settings.

    Insecure (jupyter_notebook_config.py)::

        c.ServerApp.jpserver_extensions = {'notebook': True}
        c.NotebookApp.token = ['s3cret']   # not a string: notebook fails to link

    notebook then does not forward ``c.NotebookApp.*`` to the server: the server starts with
    the defaults instead of the token and address the file names.

    Fix (the value the message names; the server then applies the file)::

        c.NotebookApp.token = 'f3c9a1e07b2d4c6e8a9b0c1d2e3f405162738495a6b7c8d9'
    """

    id = "JH005"
    name = "extension-settings-dropped"
    severity = Severity.ERROR
    traits = ("ServerApp.jpserver_extensions",)
    summary = "An extension failed to link: the settings of its config file are dropped"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """One finding per enabled extension that failed to link."""
        for entry in snap.extension_problems:
            kind, problem, fix = entry
            if kind == "dropped":
                # Fixed (installed, or the config corrected): the problem is gone, no other.
                rest = tuple(e for e in snap.extension_problems if e != entry)
                yield self.finding(problem, fix, remedy={"extension_problems": rest})
