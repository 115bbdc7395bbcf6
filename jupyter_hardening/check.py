"""``jupyter hardening check``: evaluate the rules on the settings a server would start with."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import Bool, Enum, Unicode

from . import __version__, extension
from .apperrors import config_errors, config_errors_as
from .configfiles import config_file_errors
from .report import render_text
from .rules import RULES

# Traits whose value must not be repeated when traitlets rejects it ("..., not the str 'abc'").
SECRET_TRAITS = ("token", "password", "hashed_password", "cookie_secret")
_REJECTED_VALUE = re.compile(r"^(The '(\w+)' trait of .*?, not the [\w.]+) .*$", re.DOTALL)


def hide_secret_value(message: str) -> str:
    """traitlets' message for a rejected value, without the value when the trait is a secret."""
    match = _REJECTED_VALUE.match(message)
    if match and match[2] in SECRET_TRAITS:
        return f"{match[1]} (value not shown)."
    return message


def repeated_secret(argv: list[str]) -> str:
    """The first ``--Class.secret`` option given twice, or ''.

    traitlets refuses a repeated option with a message that lists every value given, and
    extensions log that message while they link: a token or password would reach the screen.
    """
    seen: set[str] = set()
    for arg in argv:
        option = arg.split("=", 1)[0]
        if not option.startswith("--") or "." not in option:
            continue
        if option.rsplit(".", 1)[1].replace("-", "_") in SECRET_TRAITS:
            if option in seen:
                return option
            seen.add(option)
    return ""


# Options that belong to `check`; every other argument goes to the ServerApp, as for `jupyter server`.
OWN_OPTIONS = {"--format": True, "--list-rules": False, "--hub-user": True}


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """Separate check's own options from the server's (flags, --Class.trait=value, aliases)."""
    own: list[str] = []
    server: list[str] = []
    args = iter(argv)
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in OWN_OPTIONS:
            own.append(arg)
            if OWN_OPTIONS[name] and "=" not in arg:
                own.append(next(args, ""))
        elif arg in ("-h", "--help", "--help-all", "--version"):
            own.append(arg)
        else:
            server.append(arg)
    return own, server


@contextmanager
def quiet_info() -> Iterator[None]:
    """Silence the INFO lines other extensions (JupyterLab ...) log while they load."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


# What traitlets logs, with a traceback, for a config file it skips (the audit names file and line).
_SKIPPED_FILE = ("Exception while loading config file", "Error loading config file")


@contextmanager
def quiet_config_file_errors() -> Iterator[None]:
    """Hold back the tracebacks every app logs for a config file it skips.

    Extension apps log through loggers of their own, created while they link, so no filter can
    be attached in advance: records are dropped where every logger hands them on.
    """
    handle = logging.Logger.handle

    def handle_unless_skipped_file(logger: logging.Logger, record: logging.LogRecord) -> Any:
        if isinstance(record.msg, str) and record.msg.startswith(_SKIPPED_FILE):
            return None
        return handle(logger, record)

    logging.Logger.handle = handle_unless_skipped_file  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        logging.Logger.handle = handle  # type: ignore[method-assign]


class CheckApp(JupyterApp):
    """Audit the configuration a Jupyter server would start with, without starting it.

    Reads the same config files, legacy NotebookApp names, command-line flags and environment
    as `jupyter server`. Any argument that is not an option of this command is passed to the
    server, e.g. --ServerApp.ip=0.0.0.0 or --NotebookApp.allow_origin='*'.
    Exit status: 0 the server would start, 1 it would refuse, 2 usage or configuration error.
    """

    name = "jupyter-hardening-check"
    version = __version__
    description = __doc__
    examples = """
    jupyter hardening check
    jupyter hardening check --format json
    jupyter hardening check --ServerApp.ip=0.0.0.0 --NotebookApp.allow_origin='*'
    jupyter hardening check --list-rules
    jupyter hardening check --hub-user alice    # as a JupyterHub spawn would start it
    """

    output_format = Enum(["text", "json"], "text", config=True, help="Output format: text or json.")
    list_rules = Bool(False, config=True, help="List the rules with their ids and exit.")
    hub_user = Unicode(
        "",
        config=True,
        help="""Judge the server as JupyterHub starts it for this user (jupyterhub-singleuser):
        fills in the JUPYTERHUB_* variables a spawner sets, keeping any already set.""",
    )
    aliases = {"format": "CheckApp.output_format", "hub-user": "CheckApp.hub_user"}
    flags = {"list-rules": ({"CheckApp": {"list_rules": True}}, "List the rules and exit.")}

    server_argv: list[str] = []

    def initialize(self, argv: Any = None) -> None:
        """Parse our own options; keep the rest for the ServerApp."""
        own, self.server_argv = split_argv(list(sys.argv[1:] if argv is None else argv))

        def fail_option(message: str) -> None:
            self.fail("--format must be text or json" if "'output_format'" in message else message)

        # traitlets exits 1 on a bad option; 1 means "would refuse" for this command.
        try:
            # This app reads jupyter_config.py too; the ServerApp below reports a broken one.
            with config_errors_as(self.log, fail_option), quiet_config_file_errors():
                super().initialize(own)
        except SystemExit as e:
            raise SystemExit(2 if e.code else 0) from None

    def fail(self, message: str) -> None:
        """Usage or configuration error: one line on stderr, exit 2."""
        print(f"jupyter hardening check: {message}", file=sys.stderr)
        self.exit(2)

    def start(self) -> None:
        """Initialize a ServerApp without serving, audit it, print the report."""
        if self.list_rules:
            if self.output_format == "json":
                rules = [
                    {
                        "id": rule.id,
                        "name": rule.name,
                        "severity": rule.severity.label,
                        "traits": list(rule.traits),
                        "summary": rule.summary,
                    }
                    for rule in RULES
                ]
                print(json.dumps(rules, indent=2))
                return
            for rule in RULES:
                print(f"{rule.id}  {rule.severity.label:8} {rule.name:26} {rule.summary}")
            return
        secret = repeated_secret(self.server_argv)
        if secret:
            self.fail(f"{secret} is given twice; give it once (values not shown)")
        from jupyter_server.serverapp import ServerApp

        singleuser = self._hub_singleuser()
        # This command is a traitlets singleton too; the ServerApp must become the singleton
        # because extensions look it up with ServerApp.instance().
        for cls in type(self).mro():
            if hasattr(cls, "clear_instance"):
                cls.clear_instance()
        factory = singleuser.make_serverapp if singleuser else ServerApp.instance
        serverapp = factory(
            log_level="WARN",
            open_browser=False,
            raise_config_file_errors=True,
            **({"jpserver_extensions": {"jupyterhub": True}} if singleuser else {}),
        )
        # The extension's preflight and audit, at the moment a served server runs them, whether
        # or not the extension is enabled; problems come back as AuditError, not an exit.
        offline = extension.OfflineAudit(serverapp)
        with config_errors(serverapp.log) as errors, quiet_info(), quiet_config_file_errors():
            try:
                serverapp.initialize(
                    argv=self.server_argv,
                    new_httpserver=False,
                    **({"starter_extension": singleuser.name} if singleuser else {}),
                )
            except extension.AuditError as e:
                self.fail(f"the server's configuration is invalid: {e.message}")
            except SystemExit as e:
                if e.code:
                    reason = (
                        hide_secret_value(errors.messages[0])
                        if errors.messages
                        else "see the message above"
                    )
                    self.fail(f"the server's configuration is invalid: {reason}")
                raise
            except Exception as e:  # a broken config file: one line, not a traceback
                broken = config_file_errors(serverapp)
                if broken:
                    self.fail(f"the server's configuration is invalid: {'; fix: '.join(broken[0])}")
                self.fail(f"cannot load the server's configuration: {type(e).__name__}: {e}")
        report = offline.report
        if report is None:  # initialize stopped before the audit without saying why
            self.fail("the server's initialization did not reach the audit")
            return
        if self.output_format == "json":
            print(json.dumps(report.to_json(), indent=2))
        else:
            print(render_text(report))
        self.exit(1 if report.verdict == "refuse" else 0)

    def _hub_singleuser(self) -> Any:
        """JupyterHub's singleuser extension app when judging a hub spawn, else None."""
        from . import hub

        if self.hub_user:
            os.environ.update(hub.hub_env(self.hub_user))
        if not hub.in_hub_environment():
            return None
        try:
            return hub.offline_singleuser()
        except ImportError:
            self.fail(
                "JUPYTERHUB_SERVICE_URL is set, but jupyterhub is not installed here: "
                "jupyterhub-singleuser could not start this server (pip install jupyterhub)"
            )
