"""``jupyter hardening caddy-snippet``: a Caddyfile site block for the Jupyter server running here.

Caddy's defaults already suit Jupyter in the ways nginx's do not: it passes the browser's Host
through to Jupyter unchanged (port included, which Jupyter's origin check compares with Origin),
upgrades websockets by itself, sets X-Forwarded-For/-Proto, and has no read timeout on an idle
websocket. The block keeps those defaults and sets the rest: TLS (automatic HTTPS, or your
certificate), HSTS, the body size, a trusted X-Real-IP, and optionally a forward_auth gate.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from traitlets import Unicode

from .nginx import (
    HSTS,
    SYSTEM_CA_BUNDLE,
    SnippetError,
    SnippetOptions,
    Upstream,
    check_file_path,
    check_url,
    companion_settings,
    parse_body_size,
)
from .proxyapp import ProxySnippetApp, proxy_aliases, proxy_flags
from .proxytext import Node, Raw, caddyfile, comment, node, size_bytes, version_tuple
from .runtime import DiscoveryError


@dataclass(frozen=True)
class CaddyInfo:
    """The installed Caddy (from ``caddy version``)."""

    version: tuple[int, ...]
    detected: bool = True

    @property
    def label(self) -> str:
        """e.g. 'Caddy 2.6.2'."""
        return "Caddy " + ".".join(map(str, self.version))

    @property
    def forward_auth(self) -> bool:
        """The forward_auth directive: Caddy 2.5.1 and newer."""
        return self.version >= (2, 5, 1)


# Assumed when no Caddy is installed here: Debian 12's, the oldest in a maintained distribution.
BASELINE_CADDY = CaddyInfo((2, 6, 2), detected=False)


def parse_caddy_version(text: str) -> CaddyInfo:
    """Parse ``caddy version`` ('v2.7.6 h1:...' upstream, '2.6.2' in Debian)."""
    match = re.search(r"\bv?(\d+\.\d+(?:\.\d+)?)", text)
    if not match:
        raise SnippetError("cannot read the Caddy version from `caddy version`")
    return CaddyInfo(version_tuple(match.group(1)))


def _upstream(up: Upstream) -> tuple[str, list[Node]]:
    """The reverse_proxy upstream address and its transport settings."""
    if up.sock:
        return f"unix/{up.sock}", []
    if up.scheme == "http":
        return f"{up.host}:{up.port}", []
    address = f"https://{up.host}:{up.port}"
    if up.verify:
        # Caddy checks an https upstream against the system's CAs by default.
        tls = [] if up.ca == SYSTEM_CA_BUNDLE else [node("tls_trusted_ca_certs", up.ca)]
        return address, [node("transport", "http", block=[node("tls"), *tls])] if tls else []
    # Jupyter on this machine with its own certificate (for a name, not for 127.0.0.1): as with
    # nginx, there is no network hop to protect, so its certificate is not checked.
    return address, [node("transport", "http", block=[node("tls_insecure_skip_verify")])]


def _header(opts: SnippetOptions, source: str, caddy: CaddyInfo) -> list[Node]:
    lines = [
        "Jupyter behind Caddy, written by `jupyter hardening caddy-snippet`.",
        f"Made from the Jupyter server {source}.",
        f"Public address: {opts.public_url}",
        "The Jupyter server must run with these settings (jupyter_server_config.py):",
        *(f"  {line}" for line in companion_settings(opts)),
    ]
    if not opts.upstream.loopback:
        lines += [
            f"Jupyter runs on another host ({opts.upstream.host}): let only this proxy reach its",
            "port (firewall), and keep trust_xheaders off there.",
        ]
    if opts.tls_cert:
        lines.append("TLS: the certificate given with --tls-cert; Caddy's own TLS defaults.")
    else:
        lines += [
            f"TLS: Caddy's automatic HTTPS gets and renews a certificate for {opts.server_name};",
            "it must resolve to this host, with port 80 or 443 reachable from the internet",
            "(or give --tls-cert/--tls-key).",
        ]
    if opts.browser_port != opts.listen_port:
        lines.append(
            f"Caddy listens on {opts.listen_port}; a port mapping in front of it serves "
            f"{opts.browser_port}."
        )
    tested = caddy.label if caddy.detected else f"{caddy.label} or newer (no Caddy found here)"
    lines += [
        "Caddy passes the browser's Host (with its port) to Jupyter, upgrades websockets and has",
        "no timeout on idle ones: those defaults are kept. A config reload closes websockets;",
        "JupyterLab reconnects.",
        "Install: add this site block to /etc/caddy/Caddyfile (or `import` this file there),",
        "then `caddy validate --config /etc/caddy/Caddyfile && systemctl reload caddy`.",
        f"Written for {tested}.",
    ]
    return [comment(line) for line in lines]


def _forward_auth(opts: SnippetOptions) -> list[Node]:
    if not opts.auth_request:
        return []
    match = re.fullmatch(r"(https?)://([^/]+)(/.*)?", opts.auth_request)
    assert match is not None  # check_url took it
    scheme, where, path = match.groups()
    block = [node("uri", path or "/")]
    if opts.auth_signin:
        back = opts.public_origin + "{uri}"
        signin = opts.auth_signin
        target = (
            signin + back
            if signin.endswith("=")
            else signin + ("&" if "?" in signin else "?") + "rd=" + back
        )
        block += [
            node("@signin", "status", 401),
            node("handle_response", "@signin", block=[node("redir", "*", Raw(target), 302)]),
        ]
    return [
        node("forward_auth", f"{scheme}://{where}" if scheme == "https" else where, block=block)
    ]


def build_site(opts: SnippetOptions, caddy: CaddyInfo, source: str) -> list[Node]:
    """The header comments and the site block."""
    if opts.auth_request and not caddy.forward_auth:
        raise SnippetError(f"--forward-auth needs Caddy 2.5.1 or newer; this is {caddy.label}")
    if opts.auth_signin and not opts.auth_request:
        raise SnippetError(
            "--auth-signin goes with --forward-auth URL; add it, or drop --auth-signin"
        )
    site: list[Node] = []
    if opts.listen_address:
        site.append(node("bind", opts.listen_address.strip("[]")))
    if opts.tls_cert:
        site.append(node("tls", opts.tls_cert, opts.tls_key))
    site.append(node("header", "Strict-Transport-Security", HSTS))
    size = size_bytes(opts.max_body_size)
    if size:
        # Caddy has no body limit of its own: Jupyter's (512 MiB by default) would decide.
        site.append(node("request_body", block=[node("max_size", size)]))
    address, transport = _upstream(opts.upstream)
    proxy = node(
        "reverse_proxy",
        address,
        block=[
            # Caddy passes on whatever X-Real-IP the client sent; tornado (trust_xheaders)
            # would take it as the client's address.
            node("header_up", "X-Real-IP", Raw("{remote_host}")),
            *transport,
        ],
    )
    if opts.base_url == "/":
        site += [*_forward_auth(opts), proxy]
    else:
        site += [
            node("redir", "/", opts.base_url, 302),
            node("handle", Raw(opts.base_url + "*"), block=[*_forward_auth(opts), proxy]),
            node("handle", block=[node("respond", 404)]),
        ]
    return [
        *_header(opts, source, caddy),
        node(f"{opts.server_name}:{opts.listen_port}", block=site),
    ]


def generate(opts: SnippetOptions, caddy: CaddyInfo, source: str) -> str:
    """The Caddyfile text for ``opts``; ``source`` names the Jupyter server."""
    return caddyfile(build_site(opts, caddy, source))


def find_caddy(name: str) -> str | None:
    """The caddy binary: ``name`` on PATH, or in /usr/bin and /usr/local/bin."""
    return shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/local/bin")


def caddy_info(binary: str) -> CaddyInfo:
    """Run ``caddy version`` and parse it."""
    try:
        result = subprocess.run(
            [binary, "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SnippetError(f"cannot run `{binary} version`: {e}; point --caddy at caddy") from None
    return parse_caddy_version(result.stdout + result.stderr)


def caddy_env(home: Path) -> dict[str, str]:
    """An environment in which Caddy keeps its data (certificates, locks) under ``home``."""
    return {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }


def check_with_caddy(text: str, binary: str) -> tuple[bool, str]:
    """Run ``caddy validate`` on ``text`` alone, with its data kept in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="jupyter-hardening-caddy-") as tmp:
        path = Path(tmp) / "Caddyfile"
        path.write_text(text)
        try:
            result = subprocess.run(
                [binary, "validate", "--config", str(path), "--adapter", "caddyfile"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env=caddy_env(Path(tmp)),
            )
        except subprocess.TimeoutExpired:
            return False, "caddy validate did not finish within 60 s"
        messages = (result.stderr + result.stdout).replace(str(path), "<snippet>")
    return result.returncode == 0, messages.strip()


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

    def options(self) -> tuple[SnippetOptions, str]:
        """Validated options and a description of the Jupyter server (no token)."""
        found = self.discover()
        if bool(self.tls_cert) != bool(self.tls_key):
            raise SnippetError(
                "give --tls-cert and --tls-key together (or neither, for automatic HTTPS)"
            )
        opts = SnippetOptions(
            server_name=found.server_name,
            listen_port=found.listen_port,
            public_port=found.public_port,
            listen_address=found.listen_address,
            tls_cert=check_file_path(self.tls_cert, "--tls-cert") if self.tls_cert else "",
            tls_key=check_file_path(self.tls_key, "--tls-key") if self.tls_key else "",
            base_url=found.base_url,
            upstream=found.upstream,
            auth_request=check_url(self.forward_auth, "--forward-auth")
            if self.forward_auth
            else "",
            auth_signin=check_url(self.auth_signin, "--auth-signin") if self.auth_signin else "",
            max_body_size=parse_body_size(self.max_body_size),
        )
        return opts, found.source

    def start(self) -> None:
        """Describe the server, build the site block, write it, and optionally validate it."""
        try:
            opts, source = self.options()
        except (SnippetError, DiscoveryError) as e:
            self.fail(self.retold(e))
        binary = find_caddy(self.caddy_binary)
        if binary is None and self.check:
            self.fail(f"--check needs caddy, and {self.caddy_binary!r} is not installed here")
        try:
            info = caddy_info(binary) if binary else BASELINE_CADDY
            text = generate(opts, info, source)
        except SnippetError as e:
            self.fail(self.retold(e))

        def tested(text: str) -> tuple[bool, str, str]:
            assert binary is not None
            ok, messages = check_with_caddy(text, binary)
            return ok, f"caddy validate ({info.label})", messages

        self.deliver(text, tested if self.check else None)
