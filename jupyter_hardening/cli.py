"""``jupyter hardening``: the command-line entry point. Subcommands are imported only when used,
so light commands (nginx-snippet) never import the server application."""

from __future__ import annotations

import os
import sys
from typing import Any

from . import __version__
from .command import StrictCommand, did_you_mean


class HardeningApp(StrictCommand):
    """Audit a Jupyter server's security settings and write the matching proxy config."""

    name = "jupyter-hardening"
    version = __version__
    description = __doc__
    examples = """
    jupyter hardening check                          # audit the settings `jupyter server` would use
    jupyter hardening check --ServerApp.ip=0.0.0.0   # ... with a command-line override
    jupyter hardening check --format json
    jupyter hardening nginx-snippet --server-name jupyter.example.com --letsencrypt jupyter.example.com
    jupyter hardening systemd-unit --user jupyter --output /etc/systemd/system/jupyter.service
    jupyter hardening advisories --update all.zip    # a newer OSV export from osv.dev
    """
    subcommands = {
        "check": (
            "jupyter_hardening.check.CheckApp",
            "Audit the configuration a Jupyter server would start with, without starting it.",
        ),
        "nginx-snippet": (
            "jupyter_hardening.proxy.command.NginxSnippetApp",
            "Print the nginx config that puts the running Jupyter server behind TLS.",
        ),
        "nginx-check": (
            "jupyter_hardening.nginxcheck.NginxCheckApp",
            "Audit the nginx config in front of Jupyter (file:line and the fixing line).",
        ),
        "systemd-unit": (
            "jupyter_hardening.systemd.SystemdUnitApp",
            "Write a sandboxed systemd service that runs Jupyter as an unprivileged user.",
        ),
        "caddy-snippet": (
            "jupyter_hardening.proxy.command.CaddySnippetApp",
            "Print the Caddyfile site block that puts the running Jupyter server behind Caddy.",
        ),
        "apache-snippet": (
            "jupyter_hardening.proxy.command.ApacheSnippetApp",
            "Print the Apache httpd <VirtualHost> that puts the running Jupyter server behind TLS.",
        ),
        "hub-check": (
            "jupyter_hardening.hubcheck.HubCheckApp",
            "Audit a JupyterHub's configuration (jupyterhub_config.py) without starting it.",
        ),
        "advisories": (
            "jupyter_hardening.advisories_app.AdvisoriesApp",
            "Show the advisory snapshot in use and the affected packages; --update FILE.",
        ),
        "hub-service": (
            "jupyter_hardening.hubservice.HubServiceApp",
            "The fleet view: every user server's report on one admin page (a JupyterHub service).",
        ),
    }

    def initialize(self, argv: Any = None) -> None:
        """Refuse an unknown option or subcommand in one line (traitlets: 'expected one argument')."""
        args = list(sys.argv[1:] if argv is None else argv)
        if args and args[0] in self.subcommands:
            super().initialize(args)  # the subcommand checks its own options
            return
        if args and not args[0].startswith("-"):
            hint = did_you_mean(args[0], self.subcommands, prefix="")
            self.fail(
                f"unknown subcommand {args[0]!r}{hint}; choose one of {', '.join(self.subcommands)}"
            )
        self.strict_initialize(args, super().initialize)

    def start(self) -> None:
        """Run the chosen subcommand, or explain how to choose one."""
        if self.subapp is not None:
            self.subapp.start()
            return
        print(
            "jupyter hardening: choose a subcommand: " + ", ".join(self.subcommands),
            file=sys.stderr,
        )
        print("Try `jupyter hardening --help`.", file=sys.stderr)
        self.exit(2)


def main(argv: list[str] | None = None) -> None:
    """``jupyter hardening``; output that cannot be written is one line, not a traceback."""
    try:
        try:
            HardeningApp.launch_instance(argv)
        finally:
            sys.stdout.flush()  # `> /dev/full` fails here, not in the interpreter's shutdown
    except BrokenPipeError:
        # `jupyter hardening check | head`: the reader is gone, which is no error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a tool killed by the pipe
    except OSError as e:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"jupyter hardening: cannot write the output: {e.strerror or e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
