"""The proxy-config commands: ``jupyter hardening nginx-snippet``, ``caddy-snippet`` and
``apache-snippet``. What they share: a strict command line, the Jupyter server they describe
(runtime file, or --upstream and --base-url), defaults from c.Hardening.public_url, a test with
the installed proxy (--check) and an output file written in one step.

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

from .. import __version__
from ..apperrors import config_errors_as
from ..command import STANDARD_OPTIONS, StrictCommand, configurable_classes, did_you_mean
from ..config import Hardening
from ..facts import HTTP_PORT, HTTPS_PORT, PublicURL, parse_public_url, valid_port
from ..runtime import DiscoveryError, RunningServer, choose_server, running_servers
from ..safefile import not_a_file
from . import apache, caddy, nginx, probe
from .options import (
    DEFAULT_MAX_BODY_SIZE,
    LETSENCRYPT_LIVE,
    SYSTEM_CA_BUNDLE,
    SnippetError,
    SnippetOptions,
    Upstream,
    check_base_url,
    check_file_path,
    check_server_name,
    check_url,
    letsencrypt_files,
    parse_body_size,
    parse_listen,
    parse_upstream,
    upstream_for,
    upstream_with_ca,
)

NUMERIC_OPTIONS = ("port", "pid", "http-port")


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
            negative = re.fullmatch(r"-\d+|-\d*\.\d+", following)  # argparse takes these
            if following.startswith("-") and following != "-" and not negative:
                # argparse would read it as an option: its usage, under the trait's name
                return f"--{name} needs a value; one that starts with '-' is written --{name}=VALUE"
            value = following
        if not value.strip():
            # An unset shell variable (--listen "$PORT") would silently give the default.
            return f"--{name} is empty; give it a value, or leave the option out"
        if name in NUMERIC_OPTIONS:
            digits = value.lstrip("+-")
            if not (digits.isascii() and digits.isdigit()):
                return f"--{name} {value!r} is not a number"
            # 0 would mean "not given": say what the value must be, not that it is no number.
            if name == "pid" and (digits != value or int(value) < 1):
                return f"--pid {value!r}: a pid is a whole number above 0"
            if name != "pid" and (digits != value or not valid_port(int(value))):
                return f"--{name} {value!r}: a port is 1-65535"
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
    # The subcommand's name (for messages), the proxy's name (in validation messages), its
    # program (find_program's key, and in "--check needs ..."), and what --check runs.
    command = "nginx-snippet"
    proxy = "nginx"
    program = "nginx"
    kind = "nginx"
    test_name = "nginx -t"

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
            self.fail(f"--config {self.config_file}: {not_a_file(self.config_file)}")

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
        from ..outputfile import write_atomically  # a failed write leaves the old file whole

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

    # ------------------------------------------------------------------ what each proxy adds

    @property
    def binary(self) -> str:
        """The proxy program the user named (--nginx, --caddy, --apache)."""
        raise NotImplementedError

    def tls_paths(self) -> tuple[str, str]:
        """(certificate, key) for the proxy's TLS, validated ('' when the proxy gets its own)."""
        raise NotImplementedError

    def extra_options(self) -> dict[str, Any]:
        """The SnippetOptions fields of this proxy's own options (an auth gate ...), validated."""
        return {}

    def check_options(self, opts: SnippetOptions) -> None:
        """Raise SnippetError when options that are each valid do not go together."""

    def installed(self, binary: str) -> Any:
        """What the proxy at ``binary`` supports (probe.py's NginxInfo, CaddyInfo, ApacheInfo)."""
        raise NotImplementedError

    baseline: Any = None  # the same, assumed when the proxy is not installed here

    def generate(self, opts: SnippetOptions, info: Any, source: str) -> str:
        """The config text."""
        raise NotImplementedError

    def test(self, text: str, binary: str, info: Any, opts: SnippetOptions) -> tuple[bool, str]:
        """(ok, messages) of the proxy's own test of ``text``."""
        raise NotImplementedError

    def before_test(self, opts: SnippetOptions) -> None:
        """Notes (and refusals) on what the proxy will read, before --check runs."""

    def proxy_files(self, opts: SnippetOptions) -> list[tuple[str, str]]:
        """(option, path) of each file the proxy reads: its certificate and key, the CA it
        checks an https Jupyter with."""
        files = (
            []
            if opts.location_only
            else [("--tls-cert", opts.tls_cert), ("--tls-key", opts.tls_key)]
        )
        if self.upstream_ca:
            files.append(("--upstream-ca", opts.upstream.ca))
        return [(option, path) for option, path in files if path]

    def refuse_non_files(self, opts: SnippetOptions) -> None:
        """One line for a file the proxy reads that is a folder, a FIFO or a device: the proxy
        cannot use it, and its own test (--check) would wait on a FIFO until its timeout."""
        import stat

        from ..safefile import kind_of

        for option, path in self.proxy_files(opts):
            try:
                mode = Path(path).stat().st_mode
            except OSError:
                continue  # missing or not visible to this user: the proxy's notes say so
            if not stat.S_ISREG(mode):
                example = (
                    "the CA certificate that signed Jupyter's, e.g. /etc/ssl/jupyter-ca.pem"
                    if option == "--upstream-ca"
                    else "e.g. /etc/letsencrypt/live/NAME/fullchain.pem and privkey.pem"
                )
                self.fail(
                    f"{option} {path} is {kind_of(mode)}, not a file: give the PEM file itself "
                    f"({example})"
                )

    # ------------------------------------------------------------------ the command

    def options(self) -> tuple[SnippetOptions, str]:
        """Validated options and a description of the Jupyter server (no token)."""
        found = self.discover()
        cert, key = self.tls_paths()
        extra = self.extra_options()
        opts = SnippetOptions(
            server_name=found.server_name,
            listen_port=found.listen_port,
            public_port=found.public_port,
            listen_address=found.listen_address,
            tls_cert=cert,
            tls_key=key,
            base_url=found.base_url,
            upstream=found.upstream,
            max_body_size=parse_body_size(self.max_body_size),
            **extra,
        )
        self.check_options(opts)
        return opts, found.source

    def start(self) -> None:
        """Describe the server, build the config, optionally test it, and write it."""
        try:
            opts, source = self.options()
        except (SnippetError, DiscoveryError) as e:
            self.fail(self.retold(e))
        binary = probe.find_program(self.kind, self.binary)
        if binary is None and self.check:
            self.fail(f"--check needs {self.program}, and {self.binary!r} is not installed here")
        try:
            info = self.installed(binary) if binary else self.baseline
            text = self.generate(opts, info, source)
        except SnippetError as e:
            self.fail(self.retold(e))
        self.refuse_non_files(opts)
        self.before_test(opts)

        def tested(text: str) -> tuple[bool, str, str]:
            assert binary is not None
            ok, messages = self.test(text, binary, info, opts)
            return ok, f"{self.test_name} ({info.label})", messages

        self.deliver(text, tested if self.check else None)


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


class CertbotSnippetApp(ProxySnippetApp):
    """A proxy command that takes certbot's files (--letsencrypt DOMAIN) or --tls-cert/--tls-key."""

    letsencrypt = Unicode(
        "",
        config=True,
        help=f"Use certbot's files for DOMAIN: {LETSENCRYPT_LIVE}/DOMAIN/fullchain.pem and "
        "privkey.pem.",
    )
    letsencrypt_live = Unicode(
        LETSENCRYPT_LIVE,
        config=True,
        help="certbot's live folder for --letsencrypt (certbot --config-dir DIR uses DIR/live).",
    )

    def tls_paths(self) -> tuple[str, str]:
        """certbot's files, or --tls-cert and --tls-key: one of the two is needed."""
        if self.letsencrypt:
            if self.tls_cert or self.tls_key:
                raise SnippetError("give either --letsencrypt or --tls-cert/--tls-key, not both")
            return letsencrypt_files(self.letsencrypt, self.letsencrypt_live)
        if not (self.tls_cert and self.tls_key):
            raise SnippetError(
                f"{self.proxy} needs a certificate: give --tls-cert FILE --tls-key FILE, or "
                "--letsencrypt DOMAIN for certbot's files"
            )
        return check_file_path(self.tls_cert, "--tls-cert"), check_file_path(
            self.tls_key, "--tls-key"
        )


class NginxSnippetApp(CertbotSnippetApp):
    """Print an nginx config that puts the running Jupyter server behind TLS.

    Finds the server through its runtime file (jpserver-<pid>.json; never its token), or takes
    --upstream and --base-url for a server elsewhere. Defaults come from c.Hardening.public_url in
    your Jupyter config. The output starts with the Jupyter settings that must match it.
    Exit status: 0 written, 1 --check found errors, 2 usage error or no server to describe.
    """

    name = "jupyter-hardening-nginx-snippet"
    description = __doc__
    examples = """
    jupyter hardening nginx-snippet --server-name jupyter.example.com \\
        --letsencrypt jupyter.example.com
    jupyter hardening nginx-snippet --server-name jupyter.example.com --listen 8443 \\
        --tls-cert /etc/ssl/jupyter/fullchain.pem --tls-key /etc/ssl/jupyter/privkey.pem --check
    jupyter hardening nginx-snippet --port 8888 --http-redirect --server-name jupyter.example.com \\
        --letsencrypt jupyter.example.com --output /etc/nginx/conf.d/jupyter.conf
    jupyter hardening nginx-snippet --server-name jupyter.example.com --letsencrypt jupyter.example.com \\
        --auth-request http://127.0.0.1:4180/oauth2/auth \\
        --auth-signin https://jupyter.example.com/oauth2/start
    jupyter hardening nginx-snippet --location-only --server-name jupyter.example.com \\
        --upstream http://10.0.0.5:8888 --base-url /jp/
    sudo jupyter hardening nginx-snippet --user jupyter --server-name jupyter.example.com \\
        --letsencrypt jupyter.example.com --check    # as root, for the jupyter user's server
    """

    http_redirect = Bool(
        False, config=True, help="Add a server on port 80 that redirects to https."
    )
    http_port = Integer(HTTP_PORT, config=True, help="Port of the --http-redirect server.")
    auth_request = Unicode(
        "",
        config=True,
        help="Gate every request with auth_request to this URL (oauth2-proxy, vouch): 2xx lets it "
        "through, 401 sends the browser to --auth-signin.",
    )
    auth_signin = Unicode(
        "",
        config=True,
        help="Sign-in URL for --auth-request; the way back is appended as ?rd=... (or after a "
        "trailing '=', e.g. https://vouch.example.com/login?url=).",
    )
    location_only = Bool(
        False, config=True, help="Print only the location blocks, to paste into an existing server."
    )
    nginx_binary = Unicode(
        "nginx", config=True, help="nginx to ask for its version and to --check."
    )

    aliases = {
        **proxy_aliases("NginxSnippetApp"),
        "letsencrypt": "NginxSnippetApp.letsencrypt",
        "letsencrypt-live": "NginxSnippetApp.letsencrypt_live",
        "http-port": "NginxSnippetApp.http_port",
        "auth-request": "NginxSnippetApp.auth_request",
        "auth-signin": "NginxSnippetApp.auth_signin",
        "nginx": "NginxSnippetApp.nginx_binary",
    }
    flags = {
        **proxy_flags("NginxSnippetApp", "Run `nginx -t` on the output."),
        "http-redirect": (
            {"NginxSnippetApp": {"http_redirect": True}},
            "Redirect port 80 to https.",
        ),
        "location-only": (
            {"NginxSnippetApp": {"location_only": True}},
            "Print only the location blocks for an existing server.",
        ),
    }
    baseline = probe.BASELINE_NGINX

    @property
    def binary(self) -> str:
        """--nginx."""
        return self.nginx_binary

    def tls_paths(self) -> tuple[str, str]:
        """As for every certbot proxy; --location-only goes into a server that has its own."""
        if not self.location_only:
            return super().tls_paths()
        extra = [
            option
            for option, given in (
                ("--tls-cert", self.tls_cert),
                ("--tls-key", self.tls_key),
                ("--letsencrypt", self.letsencrypt),
                ("--http-redirect", self.http_redirect),
            )
            if given
        ]
        if extra:
            raise SnippetError(
                f"--location-only prints locations for a server you already have, so "
                f"{extra[0]} would be left out; drop it, or drop --location-only"
            )
        return "", ""

    def extra_options(self) -> dict[str, Any]:
        """--http-redirect, --auth-request/--auth-signin and --location-only."""
        return {
            "http_redirect": self.http_redirect,
            "http_port": self.http_port,
            "auth_request": check_url(self.auth_request, "--auth-request")
            if self.auth_request
            else "",
            "auth_signin": check_url(self.auth_signin, "--auth-signin") if self.auth_signin else "",
            "location_only": self.location_only,
        }

    def check_options(self, opts: SnippetOptions) -> None:
        """--http-port needs --http-redirect and a port of its own."""
        if not self.http_redirect and "http_port" in self.config.get("NginxSnippetApp", {}):
            raise SnippetError(
                f"--http-port {self.http_port} is the port of the --http-redirect server; add "
                "--http-redirect, or drop --http-port"
            )
        if self.http_redirect and not valid_port(self.http_port):
            raise SnippetError(f"--http-port {self.http_port} is not a port number")
        if self.http_redirect and self.http_port == opts.listen_port:
            other = "--http-port 80" if self.http_port != HTTP_PORT else "--listen 443"
            raise SnippetError(
                f"--http-port {self.http_port} is also the https port (--listen); the redirect "
                f"needs a port of its own, e.g. {other}"
            )

    def installed(self, binary: str) -> probe.NginxInfo:
        """``nginx -V``."""
        return probe.nginx_info(binary)

    def generate(self, opts: SnippetOptions, info: Any, source: str) -> str:
        """The nginx config."""
        return nginx.generate(opts, info, source)

    def test(self, text: str, binary: str, info: Any, opts: SnippetOptions) -> tuple[bool, str]:
        """``nginx -t`` on the config alone."""
        return probe.check_with_nginx(text, binary, opts.location_only)

    def _note_tls_files(self, opts: SnippetOptions) -> str:
        """Note on stderr each TLS file this user cannot see; return the first unreadable one.

        certbot keeps /etc/letsencrypt/live root-only (0700): the Jupyter user cannot even stat
        the files there, yet nginx, started as root, reads them. That is a note, not an error.
        """
        unreadable = ""
        for _option, path in self.proxy_files(opts):
            try:
                Path(path).stat()
            except FileNotFoundError:
                self.log.warning("%s does not exist here: nginx will not start without it", path)
            except OSError as e:
                self.log.warning(
                    "note: %s cannot be checked by this user (%s); nginx reads it as root",
                    path,
                    e.strerror or e,
                )
                unreadable = unreadable or path
            else:
                if not os.access(path, os.R_OK):
                    self.log.warning(
                        "note: %s is not readable by this user; nginx reads it as root", path
                    )
                    unreadable = unreadable or path
        return unreadable

    def before_test(self, opts: SnippetOptions) -> None:
        """Note the TLS files this user cannot read; --check cannot test them (nginx -t fails)."""
        unreadable = self._note_tls_files(opts)
        if self.check and unreadable:
            # nginx -t would stop at the certificate alone: say what fails, and how to check.
            from ..outputfile import _who

            self.fail(
                f"--check: this user ({_who(os.geteuid())}) cannot read {unreadable}, so nginx -t "
                "cannot load it; nginx reads it as root: check as root against this user's "
                f"server with `sudo jupyter hardening nginx-snippet --user {_user_name()} ... "
                "--check` (nothing was written)"
            )


def _user_name() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


class CaddySnippetApp(ProxySnippetApp):
    """Print a Caddyfile site block that puts the running Jupyter server behind Caddy.

    Finds the server through its runtime file (jpserver-<pid>.json; never its token), or takes
    --upstream and --base-url for a server elsewhere. Defaults come from c.Hardening.public_url in
    your Jupyter config. The output starts with the Jupyter settings that must match it.
    Exit status: 0 written, 1 --check found errors, 2 usage error or no server to describe.
    """

    name = "jupyter-hardening-caddy-snippet"
    description = __doc__
    command = "caddy-snippet"
    proxy = "Caddy"
    program = "caddy"
    kind = "caddy"
    test_name = "caddy validate"
    examples = """
    jupyter hardening caddy-snippet --server-name jupyter.example.com
    jupyter hardening caddy-snippet --server-name jupyter.example.com --listen 8443 \\
        --tls-cert /etc/ssl/jupyter/fullchain.pem --tls-key /etc/ssl/jupyter/privkey.pem --check
    jupyter hardening caddy-snippet --server-name jupyter.example.com \\
        --forward-auth http://127.0.0.1:4180/oauth2/auth \\
        --auth-signin https://jupyter.example.com/oauth2/start --output /etc/caddy/jupyter.caddy
    """

    forward_auth = Unicode(
        "",
        config=True,
        help="Gate every request with Caddy's forward_auth to this URL (oauth2-proxy, authelia): "
        "2xx lets it through; any other answer goes back to the browser.",
    )
    auth_signin = Unicode(
        "",
        config=True,
        help="With --forward-auth: send a 401 to this sign-in URL, the way back appended as "
        "?rd=... (or after a trailing '=').",
    )
    caddy_binary = Unicode(
        "caddy", config=True, help="caddy to ask for its version and to --check."
    )

    aliases = {
        **proxy_aliases("CaddySnippetApp"),
        "forward-auth": "CaddySnippetApp.forward_auth",
        "auth-signin": "CaddySnippetApp.auth_signin",
        "caddy": "CaddySnippetApp.caddy_binary",
    }
    flags = proxy_flags("CaddySnippetApp", "Run `caddy validate` on the output.")

    baseline = probe.BASELINE_CADDY

    @property
    def binary(self) -> str:
        """--caddy."""
        return self.caddy_binary

    def tls_paths(self) -> tuple[str, str]:
        """--tls-cert and --tls-key, or neither: Caddy's automatic HTTPS."""
        if bool(self.tls_cert) != bool(self.tls_key):
            raise SnippetError(
                "give --tls-cert and --tls-key together (or neither, for automatic HTTPS)"
            )
        return (
            check_file_path(self.tls_cert, "--tls-cert") if self.tls_cert else "",
            check_file_path(self.tls_key, "--tls-key") if self.tls_key else "",
        )

    def extra_options(self) -> dict[str, Any]:
        """--forward-auth (the auth gate) and --auth-signin."""
        return {
            "auth_request": check_url(self.forward_auth, "--forward-auth")
            if self.forward_auth
            else "",
            "auth_signin": check_url(self.auth_signin, "--auth-signin") if self.auth_signin else "",
        }

    def installed(self, binary: str) -> probe.CaddyInfo:
        """``caddy version``."""
        return probe.caddy_info(binary)

    def generate(self, opts: SnippetOptions, info: Any, source: str) -> str:
        """The Caddyfile site block."""
        return caddy.generate(opts, info, source)

    def test(self, text: str, binary: str, info: Any, opts: SnippetOptions) -> tuple[bool, str]:
        """``caddy validate``."""
        return probe.check_with_caddy(text, binary)


class ApacheSnippetApp(CertbotSnippetApp):
    """Print an Apache httpd <VirtualHost> that puts the running Jupyter server behind TLS.

    Finds the server through its runtime file (jpserver-<pid>.json; never its token), or takes
    --upstream and --base-url for a server elsewhere. Defaults come from c.Hardening.public_url in
    your Jupyter config. The output starts with the Jupyter settings that must match it and the
    modules to enable. Exit status: 0 written, 1 --check found errors, 2 usage error or no server.
    """

    name = "jupyter-hardening-apache-snippet"
    description = __doc__
    command = "apache-snippet"
    proxy = "Apache"
    program = "httpd"
    kind = "apache"
    test_name = "apache2 -t"
    examples = """
    jupyter hardening apache-snippet --server-name jupyter.example.com \\
        --letsencrypt jupyter.example.com --output /etc/apache2/sites-available/jupyter.conf
    jupyter hardening apache-snippet --server-name jupyter.example.com --listen 8443 \\
        --tls-cert /etc/ssl/jupyter/fullchain.pem --tls-key /etc/ssl/jupyter/privkey.pem --check
    """

    apache_binary = Unicode(
        "apache2", config=True, help="httpd to ask for its version and to --check (apache2, httpd)."
    )

    aliases = {
        **proxy_aliases("ApacheSnippetApp"),
        "letsencrypt": "ApacheSnippetApp.letsencrypt",
        "letsencrypt-live": "ApacheSnippetApp.letsencrypt_live",
        "apache": "ApacheSnippetApp.apache_binary",
    }
    flags = proxy_flags("ApacheSnippetApp", "Run `apache2 -t` on the output (a config of its own).")

    baseline = probe.BASELINE_APACHE

    @property
    def binary(self) -> str:
        """--apache."""
        return self.apache_binary

    def installed(self, binary: str) -> probe.ApacheInfo:
        """``apache2 -v`` and ``openssl version``."""
        return probe.apache_info(binary)

    def generate(self, opts: SnippetOptions, info: Any, source: str) -> str:
        """The <VirtualHost>."""
        return apache.generate(opts, info, source)

    def test(self, text: str, binary: str, info: Any, opts: SnippetOptions) -> tuple[bool, str]:
        """``httpd -t`` inside a minimal config of its own."""
        return probe.check_with_apache(text, binary, info)
