"""``jupyter hardening check``: evaluate the rules on the settings a server would start with."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from traitlets import Bool, Enum, Unicode

from . import __version__, extension, extlinks
from .apperrors import config_errors
from .command import (
    StrictCommand,
    configurable_classes,
    did_you_mean,
    option_names,
)
from .configfiles import config_file_errors
from .printable import SECRET_TRAITS, hide_secret_value
from .report import Report, render_text
from .rules import DOCUMENTED, HUB_RULES, LIVE_RULES, NGINX_RULES
from .safefile import not_a_file


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


# Options that belong to `check` (True: takes a value); every other goes to the ServerApp.
OWN_OPTIONS = {
    "--format": True,
    "--list-rules": False,
    "--isolated": False,
    "--hub-user": True,
    "--app": True,
}
# --app: (the extension package `jupyter lab` / `jupyter notebook` enable whatever the config's
# jpserver_extensions say, the extension point they start as).
STARTERS = {"lab": ("jupyterlab", "lab"), "notebook": ("notebook", "notebook")}
FORMATS = ("text", "json", "sarif")


def split_argv(
    argv: list[str], server_valued: set[str] | None = None
) -> tuple[list[str], list[str], list[str]]:
    """(check's own options, the server's options, config files named as plain arguments)."""
    own: list[str] = []
    server: list[str] = []
    files: list[str] = []
    args = iter(argv)
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in OWN_OPTIONS:
            own.append(arg)
            if OWN_OPTIONS[name] and "=" not in arg:
                own.append(next(args, ""))
        elif arg in ("-h", "--help", "--help-all", "--version"):
            own.append(arg)
        elif not arg.startswith("-"):
            files.append(arg)
        else:
            server.append(arg)
            valued = "." in name or name.lstrip("-") in (server_valued or set())
            if valued and "=" not in arg:  # --Class.trait VALUE, --ip VALUE
                server.append(next(args, ""))
    return own, server, files


def config_option(argv: list[str]) -> str:
    """The value of --config / --ServerApp.config_file in the server's argv, or ''."""
    value = ""
    args = iter(argv)
    for arg in args:
        name, has_value, given = arg.partition("=")
        if name in ("--config", "--ServerApp.config_file", "--JupyterApp.config_file"):
            value = given if has_value else next(args, "")
    return value


def unknown_in_files(serverapp: Any, known: dict[str, set[str]]) -> str:
    """A config file's ``c.Class.trait`` that the class does not have, with its place, or ''.

    Sections of classes this server does not know are left alone: jupyter_config.py is read by
    every Jupyter application (nbconvert, ipython ...).
    """
    from .provenance import file_sources

    for source in file_sources(serverapp):
        cls, _, trait = source.setting.partition(".")
        if cls in known and trait not in known[cls]:
            hint = did_you_mean(source.setting, (f"{cls}.{t}" for t in known[cls]), prefix="c.")
            return f"{source.label()}: {cls} has no setting {trait!r}{hint}"
    return ""


class OptionError(Exception):
    """An option no class of the server or its extensions knows."""


@contextmanager
def quiet_info() -> Iterator[None]:
    """Silence the INFO lines other extensions (JupyterLab ...) log while they load."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


# What traitlets logs, with a traceback, for a config file it skips, and jupyter_server for a
# jupyter_server_config.d file it skips (the audit names file and line).
_SKIPPED_FILE = (
    "Exception while loading config file",
    "Error loading config file",
    "Invalid JSON in ",
)
# traitlets' warning for an unknown --Class.trait, once per configurable: check says it once.
_UNKNOWN_OPTION = "Config option `"


@contextmanager
def quiet_config_file_errors() -> Iterator[None]:
    """Hold back the tracebacks every app logs for a config file it skips.

    Extension apps log through loggers of their own, created while they link, so no filter can
    be attached in advance: records are dropped where every logger hands them on.
    """
    handle = logging.Logger.handle

    def handle_unless_skipped_file(logger: logging.Logger, record: logging.LogRecord) -> Any:
        if isinstance(record.msg, str) and record.msg.startswith((*_SKIPPED_FILE, _UNKNOWN_OPTION)):
            return None
        return handle(logger, record)

    logging.Logger.handle = handle_unless_skipped_file  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        logging.Logger.handle = handle  # type: ignore[method-assign]


def enable_as_installed(serverapp: Any) -> None:
    """Enable the extension as the file ``pip install`` puts in jupyter_server_config.d does:
    only when the config does not name it (jupyter_server's find_server_extensions lets a
    config's own entry win), so a judged file that disables it gets JH003."""
    if "jupyter_hardening" not in serverapp.jpserver_extensions:
        serverapp.config.ServerApp.jpserver_extensions.update({"jupyter_hardening": True})
        serverapp.jpserver_extensions.update({"jupyter_hardening": True})


class CheckApp(StrictCommand):
    """Audit the configuration a Jupyter server would start with, without starting it.

    Reads the same config files, legacy NotebookApp names, command-line flags and environment
    as `jupyter server`. Any option that is not an option of this command is passed to the
    server, e.g. --ServerApp.ip=0.0.0.0 or --NotebookApp.allow_origin='*'; an option neither
    knows is an error. Config files given as arguments are each judged alone (pre-commit).
    Exit status: 0 the server would start, 1 it would refuse, 2 usage or configuration error.
    """

    name = "jupyter-hardening-check"
    version = __version__
    description = __doc__
    examples = """
    jupyter hardening check
    jupyter hardening check --format json
    jupyter hardening check --format sarif > jupyter-hardening.sarif
    jupyter hardening check --ServerApp.ip=0.0.0.0 --NotebookApp.allow_origin='*'
    jupyter hardening check etc/jupyter_server_config.py etc/jupyter_notebook_config.json
    jupyter hardening check --list-rules
    jupyter hardening check --hub-user alice    # as a JupyterHub spawn would start it
    jupyter hardening check --app lab           # as `jupyter lab` starts it
    """

    output_format = Enum(
        list(FORMATS), "text", config=True, help="Output format: text, json or sarif (SARIF 2.1.0)."
    )
    list_rules = Bool(False, config=True, help="List the rules with their ids and exit.")
    hub_user = Unicode(
        "",
        config=True,
        help="""Judge the server as JupyterHub starts it for this user (jupyterhub-singleuser):
        fills in the JUPYTERHUB_* variables a spawner sets, keeping any already set.""",
    )
    isolated = Bool(
        False,
        config=True,
        help="Judge only the --config file, as a server with this extension enabled would load "
        "it, ignoring the config folders of this machine (how config files given as arguments "
        "are judged).",
    )
    app = Enum(
        ["server", *STARTERS],
        "server",
        config=True,
        help="""The command that starts the server: server (jupyter server), lab or notebook.
        `jupyter lab` and `jupyter notebook` enable their own extension even where
        jpserver_extensions disables it, and so load its config files.""",
    )
    aliases = {
        "format": "CheckApp.output_format",
        "hub-user": "CheckApp.hub_user",
        "app": "CheckApp.app",
    }
    flags = {
        "list-rules": ({"CheckApp": {"list_rules": True}}, "List the rules and exit."),
        "isolated": ({"CheckApp": {"isolated": True}}, "Judge only the --config file."),
    }

    server_argv: list[str] = []
    files: list[str] = []

    def initialize(self, argv: Any = None) -> None:
        """Refuse unknown options; parse our own; keep the rest for the ServerApp."""
        from jupyter_server.serverapp import ServerApp

        args = list(sys.argv[1:] if argv is None else argv)
        self.passthrough_valued, self.passthrough_switches = option_names(
            ServerApp.aliases, ServerApp.flags
        )
        problem = self.argv_problem(args)
        if problem:
            self.fail(problem)
        own, self.server_argv, self.files = split_argv(args, self.passthrough_valued)

        def parse(own_argv: list[str]) -> None:
            # This app reads jupyter_config.py too; the ServerApp below reports a broken one.
            with quiet_config_file_errors():
                super(CheckApp, self).initialize(own_argv)

        self.strict_initialize(own, parse)

    def fail(self, message: str, status: int = 2) -> NoReturn:
        """Usage or configuration error: one line on stderr, exit 2."""
        if "'output_format'" in message:
            message = f"--format must be one of {', '.join(FORMATS)}"
        elif "The 'app' trait" in message:
            message = f"--app must be one of server, {', '.join(STARTERS)}"
        super().fail(message, status)

    def start(self) -> None:
        """Initialize a ServerApp without serving, audit it, print the report."""
        if self.list_rules:
            self.print_rules()
            return
        if self.files:
            self.check_files()
            return
        secret = repeated_secret(self.server_argv)
        if secret:
            self.fail(f"{secret} is given twice; give it once (values not shown)")
        config_file = config_option(self.server_argv)
        if config_file and not Path(config_file).is_file():
            self.fail(f"--config {config_file}: {not_a_file(config_file)}")
        report = self.audit()
        if self.output_format == "json":
            print(json.dumps(report.to_json(), indent=2))
        elif self.output_format == "sarif":
            from .sarif import sarif_log

            print(json.dumps(sarif_log([report]), indent=2))
        else:
            print(render_text(report))
        self.exit(1 if report.verdict == "refuse" else 0)

    def print_rules(self) -> None:
        """--list-rules: every documented id (the live and nginx-check ones too), as text or
        JSON; SARIF rule descriptors for what `check` itself judges."""
        if self.output_format == "sarif":
            from .sarif import sarif_log

            print(json.dumps(sarif_log([]), indent=2))
            return
        live = {rule.id for rule in LIVE_RULES}
        nginx = {rule.id for rule in NGINX_RULES}
        hub = {rule.id for rule in HUB_RULES}

        def judged(rule_id: str) -> str:
            if rule_id in hub:
                return "hub"
            return "requests" if rule_id in live else "nginx" if rule_id in nginx else "settings"

        if self.output_format == "json":
            rules = [
                {
                    "id": rule.id,
                    "name": rule.name,
                    "severity": rule.severity.label,
                    "traits": list(rule.traits),
                    "summary": rule.summary,
                    "judged": judged(rule.id),
                }
                for rule in DOCUMENTED
            ]
            print(json.dumps(rules, indent=2))
            return
        tags = {
            "settings": "",
            "requests": " (live, /hardening)",
            "nginx": " (nginx-check)",
            "hub": " (hub-check)",
        }
        for rule in DOCUMENTED:
            tag = tags[judged(rule.id)]
            print(f"{rule.id}  {rule.severity.label:8} {rule.name:26} {rule.summary}{tag}")

    def check_files(self) -> None:
        """Judge each config file given as an argument alone; exit with the worst status."""
        from .filecheck import check_each

        self.exit(check_each(self.files, self.server_argv, self.output_format))

    def audit(self) -> Report:
        """Set up a ServerApp as `jupyter server` would, without serving; its report."""
        from jupyter_server.serverapp import ServerApp

        if self.isolated:
            os.environ["JUPYTER_NO_CONFIG"] = "1"  # no config folder but a blank one
        singleuser = self._hub_singleuser()
        # This command is a traitlets singleton too; the ServerApp must become the singleton
        # because extensions look it up with ServerApp.instance().
        for cls in type(self).mro():
            if hasattr(cls, "clear_instance"):
                cls.clear_instance()
        extra: dict[str, Any] = {}
        starter = singleuser.name if singleuser else ""
        if singleuser and not self.isolated:
            extra["jpserver_extensions"] = {"jupyterhub": True}
        elif self.app in STARTERS:
            package, starter = STARTERS[self.app]
            if importlib.util.find_spec(package) is None:
                self.fail(f"--app {self.app}: {package} is not installed here")
            extra["jpserver_extensions"] = {package: True}  # as ExtensionApp.initialize_server
        factory = singleuser.make_serverapp if singleuser else ServerApp.instance
        serverapp = factory(
            log_level="WARN", open_browser=False, raise_config_file_errors=True, **extra
        )
        if self.isolated:
            extension.run_before(
                serverapp, "init_server_extensions", lambda: enable_as_installed(serverapp)
            )
        # The extension's preflight and audit, at the moment a served server runs them, whether
        # or not the extension is enabled; problems come back as AuditError, not an exit.
        offline = extension.OfflineAudit(serverapp)
        failures = extlinks.capture(serverapp, quiet=True)

        def known_options() -> None:
            # Every extension has linked and set up its classes: any --Class.trait is known now.
            known = configurable_classes()
            problem = self.argv_problem(self.server_argv, known) or unknown_in_files(
                serverapp, known
            )
            if problem:
                raise OptionError(problem)

        extension.run_before(serverapp, extension.AUDIT_BEFORE, known_options)
        with (
            config_errors(serverapp.log) as errors,
            quiet_info(),
            quiet_config_file_errors(),
        ):
            try:
                serverapp.initialize(
                    argv=self.server_argv, new_httpserver=False, starter_extension=starter or None
                )
            except OptionError as e:
                self.fail(str(e))
            except extension.AuditError as e:
                self.fail(f"the server's configuration is invalid: {e.message}")
            except SystemExit as e:
                if e.code and errors.messages:
                    reason = hide_secret_value(errors.messages[0])
                    self.fail(f"the server's configuration is invalid: {reason}")
                # exit() in a config file (traitlets lets it through); with exit(0) the server
                # would exit 0 without a word
                self.fail_on_broken_config(serverapp)
                if e.code:
                    self.fail("the server's configuration is invalid: see the message above")
                raise
            except Exception as e:  # a broken config file: one line, not a traceback
                self.fail_on_broken_config(serverapp)
                self.fail(f"cannot load the server's configuration: {type(e).__name__}")
        del failures
        report = offline.report
        if report is None:  # initialize stopped before the audit without saying why
            self.fail("the server's initialization did not reach the audit")
        return report

    def fail_on_broken_config(self, serverapp: Any) -> None:
        """One line and exit 2 for the first config file that fails to load, if one does."""
        broken = config_file_errors(serverapp)
        if broken:
            self.fail(f"the server's configuration is invalid: {'; fix: '.join(broken[0])}")

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
