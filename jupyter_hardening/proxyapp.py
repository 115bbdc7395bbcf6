"""What the proxy-config commands (nginx-snippet, caddy-snippet, apache-snippet) share: a strict
command line, the Jupyter server they describe (runtime file, or --upstream and --base-url), and
defaults from c.Hardening.public_url.

Light on purpose: it reads runtime files and config files, and never imports the server app.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from jupyter_core.application import JupyterApp
from traitlets import Bool, Integer, TraitError, Unicode, default
from traitlets.config.loader import FileConfigLoader

from . import __version__
from .apperrors import config_errors_as
from .command import StrictCommand, configurable_classes, did_you_mean
from .config import Hardening
from .facts import HTTPS_PORT, PublicURL, parse_public_url
from .nginx import (
    DEFAULT_MAX_BODY_SIZE,
    SYSTEM_CA_BUNDLE,
    SnippetError,
    Upstream,
    check_base_url,
    check_server_name,
    parse_listen,
    parse_upstream,
    upstream_for,
    upstream_with_ca,
)
from .runtime import DiscoveryError, RunningServer, choose_server, running_servers

NUMERIC_OPTIONS = ("port", "pid", "http-port")
STANDARD_OPTIONS = ("help", "help-all", "version")


def argv_problem(
    argv: list[str], aliases: Iterable[Any], flags: Iterable[Any], command: str = "nginx-snippet"
) -> str:
    """Why ``argv`` is not usable (unknown option, stray word, non-number), or ''.

    traitlets only warns about unknown options; for a config generator a typo such as
    --listen-port would silently give the wrong config, so it is an error here.
    """
    names = {a for a in aliases if isinstance(a, str)}
    switches = {f for f in flags if isinstance(f, str)} | set(STANDARD_OPTIONS)
    args = iter(argv)
    seen: set[str] = set()
    for arg in args:
        if not arg.startswith("-"):
            return f"unexpected argument {arg!r}; every value follows an option, e.g. --listen 8443"
        name, has_value, value = arg.lstrip("-").partition("=")
        if "." in name:  # --Class.trait=value, as in every Jupyter command
            continue
        if name in switches:
            if has_value:
                return f"--{name} takes no value; write just --{name}"
            continue
        if name not in names:
            option = arg.split("=")[0]
            hint = did_you_mean(name, names | switches)
            return f"unknown option {option!r}{hint}; see `jupyter hardening {command} --help`"
        if name in seen:
            return f"--{name} is given twice; give it once"
        seen.add(name)
        if not has_value:
            following = next(args, None)
            if following is None or following.startswith("--"):
                return f"--{name} needs a value, e.g. --{name}=VALUE"
            value = following
        if not value.strip():
            # An unset shell variable (--listen "$PORT") would silently give the default.
            return f"--{name} is empty; give it a value, or leave the option out"
        if name in NUMERIC_OPTIONS and not (value.isascii() and value.isdigit()):
            return f"--{name} {value!r} is not a number"
    return ""


def _config_file_of(error: BaseException) -> str:
    """The config file whose loading raised ``error``, as traitlets' loader names it."""
    name = ""
    tb = error.__traceback__
    while tb is not None:
        loader = tb.tb_frame.f_locals.get("self")
        if isinstance(loader, FileConfigLoader):
            name = loader.full_filename or loader.filename
        tb = tb.tb_next
    return name or "a config file"


@dataclass(frozen=True)
class Discovered:
    """The Jupyter server a proxy config is for, and where the proxy listens for it."""

    public: PublicURL | None
    server_name: str
    listen_address: str
    listen_port: int
    base_url: str
    upstream: Upstream
    source: str  # a token-free description for the config's header

    @property
    def public_port(self) -> int:
        """The port of c.Hardening.public_url (0 without one)."""
        return self.public.port if self.public else 0


class ProxySnippetApp(StrictCommand):
    """The options and discovery every ``*-snippet`` command shares (subclassed per proxy)."""

    version = __version__
    # The subcommand's name (for messages) and the proxy's name (in validation messages).
    command = "nginx-snippet"
    proxy = "nginx"

    server_name = Unicode(
        "", config=True, help="Host name people type (default: the host of c.Hardening.public_url)."
    )
    listen = Unicode(
        "",
        config=True,
        help="[ADDR:]PORT the proxy listens on with TLS (default: public_url's port, else 443).",
    )
    tls_cert = Unicode("", config=True, help="Certificate chain (PEM) for the proxy's TLS.")
    tls_key = Unicode("", config=True, help="Private key (PEM) for --tls-cert.")
    max_body_size = Unicode(
        DEFAULT_MAX_BODY_SIZE,
        config=True,
        help="The largest request body (notebook save) the proxy lets through. The default "
        "matches jupyter_server's own max_body_size (512 MiB).",
    )
    check = Bool(False, config=True, help="Test the output with the local proxy and report.")
    output = Unicode("", config=True, help="Write the config to this file instead of stdout.")
    port = Integer(0, config=True, help="Describe the running server on this port.")
    pid = Integer(0, config=True, help="Describe the running server with this pid.")
    url = Unicode("", config=True, help="Describe the running server at this URL.")
    upstream = Unicode(
        "",
        config=True,
        help="Jupyter elsewhere: http://HOST:PORT or unix:/path/to.sock (no runtime file needed).",
    )
    base_url = Unicode(
        "",
        config=True,
        help="Jupyter's c.ServerApp.base_url, with --upstream (default: public_url's path, or /).",
    )
    upstream_ca = Unicode(
        "",
        config=True,
        help="CA bundle (PEM) that signed the certificate of an https --upstream on another host "
        f"(default: {SYSTEM_CA_BUNDLE}); the proxy checks it.",
    )
    user = Unicode(
        "",
        config=True,
        help="Describe the running server of this Unix user: as root, check (--check) the config "
        "for the Jupyter of an unprivileged user. Only runtime files owned by that user, naming "
        "a process of theirs, are read; their config files are not (give --server-name).",
    )
    server_runtime_dir = Unicode(
        "",
        config=True,
        help="Folder of the runtime files (jpserver-*.json) (default: `jupyter --runtime-dir`; "
        "with --user, ~USER/.local/share/jupyter/runtime).",
    )

    @default("config_file_name")
    def _config_file_name_default(self) -> str:
        # The server's own config files: that is where c.Hardening.public_url lives.
        return "jupyter_server_config"

    @default("raise_config_file_errors")
    def _raise_config_file_errors_default(self) -> bool:
        # Skipping a broken config file would drop c.Hardening.public_url, and so give a config
        # for the wrong port and path; traitlets' traceback could also quote a token line.
        return True

    def initialize(self, argv: Any = None) -> None:
        """Refuse unknown options and non-numbers before traitlets parses the command line."""
        args = list(sys.argv[1:] if argv is None else argv)
        problem = argv_problem(args, self.aliases, self.flags, self.command) or self.argv_problem(
            args, configurable_classes()
        )
        if problem:
            self.fail(problem)
        # traitlets exits 1 on a value of the wrong type; 1 means "the config test failed" here.
        with config_errors_as(self.log, self.fail):
            try:
                super().initialize(args)
            except Exception as e:  # a config file that does not run: one line, not a traceback
                self.fail(f"cannot load {_config_file_of(e)}: {type(e).__name__}: {e}")
        if self.config_file and not Path(self.config_file).is_file():
            self.fail(f"--config {self.config_file}: no such file")

    def fail(self, message: str, status: int = 2) -> NoReturn:
        """Usage or discovery error: one line on stderr, then exit."""
        # Values from the command line or a runtime file may hold newlines or escape codes.
        message = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)
        print(f"jupyter hardening {self.command}: {message}", file=sys.stderr)
        self.exit(status)
        raise SystemExit(status)  # pragma: no cover - exit() raises

    def retold(self, error: Exception) -> str:
        """A shared validator's message, naming this command's proxy instead of nginx."""
        if self.proxy == "nginx":
            return str(error)
        return re.sub(r"\ban nginx\b", f"a {self.proxy}", str(error)).replace("nginx", self.proxy)

    def _public(self) -> PublicURL | None:
        try:
            value = Hardening(parent=self).public_url
        except TraitError as e:
            self.fail(str(e).splitlines()[0])
        if not value:
            return None
        public = parse_public_url(value)
        if public.scheme != "https":
            self.fail(
                f"c.Hardening.public_url = {value!r} is not https; {self.command} writes a TLS "
                "server: set it to https://..."
            )
        return public

    def _runtime_owner(self) -> tuple[int, str]:
        """(uid whose runtime files count, their runtime folder)."""
        from jupyter_core.paths import jupyter_runtime_dir

        if not self.user:
            return os.geteuid(), self.server_runtime_dir or jupyter_runtime_dir()
        import pwd

        try:
            entry = pwd.getpwnam(self.user)
        except KeyError:
            raise SnippetError(f"--user {self.user!r}: no such user on this machine") from None
        # jupyter_core's default for that user (JUPYTER_RUNTIME_DIR in their service: give it).
        data = (
            ("Library", "Jupyter") if sys.platform == "darwin" else (".local", "share", "jupyter")
        )
        default = str(Path(entry.pw_dir, *data, "runtime"))
        return entry.pw_uid, self.server_runtime_dir or default

    def _server(self) -> RunningServer:
        uid, runtime_dir = self._runtime_owner()
        try:
            servers = running_servers(runtime_dir, owner=uid)
        except OSError as e:  # the folder itself cannot be listed
            raise DiscoveryError(
                f"cannot read the runtime folder {runtime_dir}: {e.strerror or e}"
            ) from None
        try:
            return choose_server(
                servers,
                port=self.port or None,
                pid=self.pid or None,
                url=self.url,
                runtime_dir=runtime_dir,
            )
        except DiscoveryError as e:
            if servers or self.user or os.geteuid() != 0:
                raise
            raise DiscoveryError(
                f"{e}; as root, name the user that runs Jupyter: --user NAME"
            ) from None

    def discover(self) -> Discovered:
        """The server (runtime file or --upstream), the public name and the listen address."""
        public = self._public()
        server_name = self.server_name or (public.host if public else "")
        if not server_name:
            raise SnippetError(
                "--server-name is needed (the host name people type), or set c.Hardening."
                "public_url = 'https://jupyter.example.com/' in jupyter_server_config.py"
            )
        server_name = check_server_name(server_name)
        if self.listen:
            address, listen_port = parse_listen(self.listen)
        else:
            address, listen_port = "", public.port if public else HTTPS_PORT
        base_url = check_base_url(self.base_url) if self.base_url else ""
        if self.upstream:
            chosen = [
                name
                for name, value in (
                    ("--port", self.port),
                    ("--pid", self.pid),
                    ("--url", self.url),
                    ("--user", self.user),
                    ("--runtime-dir", self.server_runtime_dir),
                )
                if value
            ]
            if chosen:
                raise SnippetError(
                    f"{chosen[0]} chooses a running server but --upstream describes one; "
                    "give one or the other"
                )
            upstream = upstream_with_ca(parse_upstream(self.upstream), self.upstream_ca)
            if not base_url and public:
                base_url = check_base_url(public.path, "the path of c.Hardening.public_url")
            base_url = base_url or "/"
            where = f"unix:{upstream.sock}" if upstream.sock else f"{upstream.host}:{upstream.port}"
            source = f"at {where} (given with --upstream; base_url {base_url})"
        else:
            if self.upstream_ca:
                raise SnippetError(
                    "--upstream-ca goes with --upstream https://HOST:PORT (a Jupyter on another "
                    "host); a server on this machine is reached without a network hop"
                )
            server = self._server()
            if base_url and base_url != server.base_url:
                raise SnippetError(
                    f"--base-url {base_url} but the server ({server.describe()}) serves "
                    f"{server.base_url}; drop --base-url or choose another server"
                )
            base_url = check_base_url(server.base_url, "the server's base_url")
            upstream = upstream_for(server.hostname, server.port, server.sock, server.secure)
            source = f"{server.describe()} ({Path(server.info_file).name})"
        if public and public.path != base_url:
            raise SnippetError(
                f"c.Hardening.public_url has the path {public.path} but Jupyter serves {base_url}; "
                f"set c.ServerApp.base_url = {public.path!r} or fix public_url (JH703)"
            )
        return Discovered(public, server_name, address, listen_port, base_url, upstream, source)

    def deliver(
        self, text: str, tested: Callable[[str], tuple[bool, str, str]] | None = None
    ) -> None:
        """Optionally test ``text`` (label, ok, messages), then write it to --output or stdout.

        A config the proxy rejects is never written over --output: it would stop the proxy at
        its next reload.
        """
        from .snippet import write_atomically  # a failed write leaves the old file whole

        ok = True
        if tested is not None:
            ok, label, messages = tested(text)
            print(f"{label}: {'ok' if ok else 'FAILED'}", file=sys.stderr)
            if not ok:
                print(messages, file=sys.stderr)
        if self.output and not ok:
            print(f"{self.output} was not written (left as it was).", file=sys.stderr)
        elif self.output:
            try:
                write_atomically(self.output, text)
            except OSError as e:
                self.fail(f"cannot write --output {self.output}: {e.strerror or e}")
            self.log.info("Wrote %s", self.output)
        else:
            sys.stdout.write(text)
        if not ok:
            self.exit(1)


def proxy_aliases(app: str) -> dict[str, str]:
    """The command-line options every proxy command takes, for the app class named ``app``."""
    return {
        **JupyterApp.aliases,
        **{
            option: f"{app}.{trait}"
            for option, trait in (
                ("server-name", "server_name"),
                ("listen", "listen"),
                ("tls-cert", "tls_cert"),
                ("tls-key", "tls_key"),
                ("max-body-size", "max_body_size"),
                ("output", "output"),
                ("port", "port"),
                ("pid", "pid"),
                ("url", "url"),
                ("upstream", "upstream"),
                ("base-url", "base_url"),
                ("upstream-ca", "upstream_ca"),
                ("user", "user"),
                ("runtime-dir", "server_runtime_dir"),
            )
        },
    }


def proxy_flags(app: str, check_help: str) -> dict[str, Any]:
    """The switches every proxy command takes (no --generate-config: it would write the
    server's config file)."""
    return {
        **{k: v for k, v in JupyterApp.flags.items() if k not in ("generate-config", "y")},
        "check": ({app: {"check": True}}, check_help),
    }
