"""``jupyter hardening apache-snippet``: an Apache httpd <VirtualHost> for the Jupyter server here.

What Jupyter needs from httpd, and its defaults do not give: websockets (``upgrade=websocket`` on
ProxyPass from 2.4.47, mod_rewrite + mod_proxy_wstunnel before), the browser's Host with its port
(ProxyPreserveHost), X-Forwarded-Proto, and a timeout long enough for idle kernels (httpd closes a
proxied connection after 60 s without traffic). httpd does not apply LimitRequestBody to proxied
requests (measured on 2.4.71, in VirtualHost, Location and Proxy context alike), so the body
limit is Jupyter's own c.ServerApp.max_body_size.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from traitlets import Unicode

from .facts import HTTPS_PORT
from .nginx import (
    HSTS,
    SYSTEM_CA_BUNDLE,
    SnippetError,
    SnippetOptions,
    Upstream,
    check_file_path,
    check_server_name,
    companion_settings,
    parse_body_size,
)
from .proxyapp import ProxySnippetApp, proxy_aliases, proxy_flags
from .proxytext import Node, Raw, apache_conf, comment, node, size_bytes, version_tuple
from .runtime import DiscoveryError

LETSENCRYPT_LIVE = "/etc/letsencrypt/live"
# Kernel and terminal websockets can sit idle for hours; httpd's Timeout (60 s) would cut them.
PROXY_TIMEOUT_SECONDS = 86400
# jupyter_server's ServerApp.max_body_size default (512 MiB).
JUPYTER_MAX_BODY = 512 * 1024 * 1024
# Mozilla's intermediate profile (guideline 5.7) for Apache; with DHE suites, which httpd
# 2.4.7+ serves with its built-in parameters (nginx would need a dhparam file).
CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
        "DHE-RSA-CHACHA20-POLY1305",
    ]
)
# Where distributions keep httpd's modules (Debian/Ubuntu, Fedora/RHEL, SUSE, source builds).
MODULE_DIRS = (
    "/usr/lib/apache2/modules",
    "/usr/lib64/httpd/modules",
    "/usr/lib/httpd/modules",
    "/usr/lib64/apache2",
    "/usr/local/apache2/modules",
)


@dataclass(frozen=True)
class ApacheInfo:
    """The installed httpd (``apache2 -v``) and the OpenSSL it runs with."""

    version: tuple[int, ...]
    tls_version: tuple[int, ...] = (1, 1, 1)
    detected: bool = True

    @property
    def label(self) -> str:
        """e.g. 'Apache 2.4.71 with OpenSSL 3.0.19'."""
        v = ".".join(map(str, self.version))
        return f"Apache {v} with OpenSSL {'.'.join(map(str, self.tls_version))}"

    @property
    def upgrade_websocket(self) -> bool:
        """``ProxyPass ... upgrade=websocket`` (mod_proxy_http): httpd 2.4.47 and newer."""
        return self.version >= (2, 4, 47)

    @property
    def tls13(self) -> bool:
        """TLS 1.3: httpd 2.4.36+ with OpenSSL 1.1.1+."""
        return self.version >= (2, 4, 36) and self.tls_version >= (1, 1, 1)

    @property
    def curves(self) -> str:
        """Mozilla's intermediate groups, limited to those this OpenSSL knows."""
        groups = ["X25519MLKEM768"] if self.tls_version >= (3, 5, 0) else []
        if self.tls_version >= (1, 1, 0):
            groups.append("X25519")
        return ":".join([*groups, "prime256v1", "secp384r1"])

    @property
    def modules(self) -> list[str]:
        """The modules the VirtualHost uses, as a2enmod names them."""
        ws = [] if self.upgrade_websocket else ["rewrite", "proxy_wstunnel"]
        return ["ssl", "proxy", "proxy_http", *ws, "headers", "alias"]


# Assumed when no httpd is installed here: Ubuntu 20.04's 2.4.41, the oldest still maintained,
# so the config (websockets through mod_proxy_wstunnel) works on every newer httpd as well.
BASELINE_APACHE = ApacheInfo((2, 4, 41), (1, 1, 1), detected=False)


def parse_apache_v(text: str, openssl: str = "") -> ApacheInfo:
    """Parse ``apache2 -v`` and ``openssl version`` (the library mod_ssl loads)."""
    match = re.search(r"Server version: Apache/(\d+\.\d+\.\d+)", text)
    if not match:
        raise SnippetError("cannot read the Apache version from `apache2 -v`")
    # "OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)": the library decides.
    libs = re.findall(r"OpenSSL (\d+\.\d+\.\d+)", openssl)
    tls = version_tuple(libs[-1]) if libs else BASELINE_APACHE.tls_version
    return ApacheInfo(version_tuple(match.group(1)), tls)


def _backend(up: Upstream, path: str) -> str:
    """The ProxyPass target for ``path`` (base_url) on ``up``."""
    if up.sock:
        return f"unix:{up.sock}|{up.scheme}://localhost{path}"
    return f"{up.scheme}://{up.host}:{up.port}{path}"


def _proxy_tls(up: Upstream) -> list[Node]:
    if up.scheme != "https":
        return []
    if up.verify:
        ca = [] if up.ca == SYSTEM_CA_BUNDLE else [node("SSLProxyCACertificateFile", up.ca)]
        return [
            node("SSLProxyEngine", "on"),
            node("SSLProxyVerify", "require"),
            node("SSLProxyVerifyDepth", 3),
            node("SSLProxyCheckPeerName", "on"),
            *ca,
        ]
    # Jupyter on this machine with its own certificate: no network hop, as with nginx.
    return [
        node("SSLProxyEngine", "on"),
        node("SSLProxyVerify", "none"),
        node("SSLProxyCheckPeerName", "off"),
        node("SSLProxyCheckPeerExpire", "off"),
    ]


def _legacy_regex(base_url: str) -> str:
    # mod_rewrite reads a regex: its special characters go into [c] classes; what a class or
    # httpd itself would read differently is refused rather than escaped with backslashes.
    if not re.fullmatch(r"[A-Za-z0-9/_.~!&()*+,=:@-]+", base_url):
        raise SnippetError(
            f"base_url {base_url!r} (from --base-url, the server's base_url or the path of "
            "c.Hardening.public_url) holds characters a mod_rewrite pattern cannot take; on "
            "Apache before 2.4.47 use a base_url of letters, digits, '-', '_' and '/'"
        )
    return "^" + "".join(f"[{c}]" if c in ".()*+" else c for c in base_url) + "(.*)$"


def _websocket_rewrite(opts: SnippetOptions, apache: ApacheInfo) -> list[Node]:
    if apache.upgrade_websocket:
        return []
    up = opts.upstream
    ws = "wss" if up.scheme == "https" else "ws"
    target = (
        f"unix:{up.sock}|{ws}://localhost{opts.base_url}$1"
        if up.sock
        else f"{ws}://{up.host}:{up.port}{opts.base_url}$1"
    )
    return [
        node("RewriteEngine", "on"),
        node("RewriteCond", Raw("%{HTTP:Upgrade}"), "=websocket", "[NC]"),
        node("RewriteRule", Raw(_legacy_regex(opts.base_url)), Raw(target), "[P,L,NE]"),
    ]


def _header(opts: SnippetOptions, source: str, apache: ApacheInfo) -> list[Node]:
    lines = [
        "Jupyter behind Apache httpd, written by `jupyter hardening apache-snippet`.",
        f"Made from the Jupyter server {source}.",
        f"Public address: {opts.public_url}",
        "The Jupyter server must run with these settings (jupyter_server_config.py):",
        *(f"  {line}" for line in companion_settings(opts)),
    ]
    size = size_bytes(opts.max_body_size)
    if size and size != JUPYTER_MAX_BODY:
        lines.append(f"  c.ServerApp.max_body_size = {size}")
    if not opts.upstream.loopback:
        lines += [
            f"Jupyter runs on another host ({opts.upstream.host}): let only this proxy reach its",
            "port (firewall), and keep trust_xheaders off there.",
        ]
    lines.append(
        "Body size: httpd leaves proxied bodies unlimited (LimitRequestBody does not apply to"
    )
    lines.append("ProxyPass); Jupyter's c.ServerApp.max_body_size (512 MiB by default) decides.")
    if opts.browser_port != opts.listen_port:
        lines.append(
            f"httpd listens on {opts.listen_port}; a port mapping in front of it serves "
            f"{opts.browser_port}."
        )
    ws = (
        "ProxyPass upgrade=websocket (httpd 2.4.47+)"
        if apache.upgrade_websocket
        else "mod_rewrite and mod_proxy_wstunnel (httpd before 2.4.47)"
    )
    tested = apache.label if apache.detected else f"{apache.label} or newer (no httpd found here)"
    lines += [
        f"Modules: a2enmod {' '.join(apache.modules)}   (optional: a2enmod http2)",
        "Install (Debian/Ubuntu): save as /etc/apache2/sites-available/jupyter.conf, then",
        "`a2ensite jupyter && apachectl configtest && systemctl reload apache2`.",
    ]
    if opts.listen_port == HTTPS_PORT:
        lines.append("Port 443 is opened by ports.conf (Listen 443 with mod_ssl).")
    else:
        lines.append(
            f"The Listen line below opens port {opts.listen_port}; keep it out of ports.conf."
        )
    lines += [
        f"Websockets: {ws}.",
        f"TLS settings: Mozilla intermediate, for {tested}.",
        "Also set, outside this file: ServerTokens Prod (conf-available/security.conf).",
    ]
    return [comment(line) for line in lines]


def build_vhost(opts: SnippetOptions, apache: ApacheInfo, source: str) -> list[Node]:
    """The header comments, a Listen line (ports other than 443) and the <VirtualHost>."""
    where = f"{opts.listen_address}:{opts.listen_port}" if opts.listen_address else ""
    tls = [
        node("SSLEngine", "on"),
        node("SSLCertificateFile", opts.tls_cert),
        node("SSLCertificateKeyFile", opts.tls_key),
        node("SSLProtocol", "-all", "+TLSv1.2", *(["+TLSv1.3"] if apache.tls13 else [])),
        node("SSLOpenSSLConfCmd", "Curves", apache.curves),
        node("SSLCipherSuite", CIPHERS),
        node("SSLHonorCipherOrder", "off"),
        node("SSLSessionTickets", "off"),
    ]
    base = opts.base_url
    backend = _backend(opts.upstream, base)
    keys = [f"timeout={PROXY_TIMEOUT_SECONDS}"]
    if apache.upgrade_websocket:
        keys.append("upgrade=websocket")
    vhost: list[Node] = [
        node("ServerName", opts.server_name),
        node("ServerSignature", "Off"),
        *tls,
        node("Protocols", "h2", "http/1.1"),
        # Every Header at this one level; Jupyter sends its own CSP and nosniff.
        node("Header", "always", "set", "Strict-Transport-Security", HSTS),
        node("ProxyRequests", "Off"),
        # The browser's Host, with its port: Jupyter compares it with Origin.
        node("ProxyPreserveHost", "On"),
        node("RequestHeader", "set", "X-Forwarded-Proto", "https"),
        # httpd passes on whatever X-Real-IP the client sent; tornado would believe it.
        node("RequestHeader", "set", "X-Real-IP", Raw("expr=%{REMOTE_ADDR}")),
        # Paths pass to Jupyter as the browser wrote them (%2F in file names included).
        node("AllowEncodedSlashes", "NoDecode"),
        *_proxy_tls(opts.upstream),
    ]
    if base != "/":
        vhost.append(node("RedirectMatch", 302, Raw("^/$"), base))
    vhost += [
        *_websocket_rewrite(opts, apache),
        node("ProxyPass", base, backend, *keys, "nocanon"),
        node("ProxyPassReverse", base, backend),
    ]
    host = where or f"*:{opts.listen_port}"
    listen = (
        [] if opts.listen_port == HTTPS_PORT else [node("Listen", where or str(opts.listen_port))]
    )
    return [*_header(opts, source, apache), *listen, node("VirtualHost", host, block=vhost)]


def generate(opts: SnippetOptions, apache: ApacheInfo, source: str) -> str:
    """The httpd config text for ``opts``; ``source`` names the Jupyter server."""
    return apache_conf(build_vhost(opts, apache, source))


def find_apache(name: str) -> str | None:
    """httpd: ``name`` on PATH or in the sbin folders (Debian: apache2, others: httpd)."""
    for candidate in (name, "httpd") if name == "apache2" else (name,):
        found = shutil.which(candidate) or shutil.which(
            candidate, path="/usr/sbin:/usr/local/sbin:/sbin:/usr/local/apache2/bin"
        )
        if found:
            return found
    return None


def apache_info(binary: str) -> ApacheInfo:
    """Run ``apache2 -v`` and ``openssl version``, and parse them."""
    try:
        result = subprocess.run(
            [binary, "-v"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SnippetError(f"cannot run `{binary} -v`: {e}; point --apache at httpd") from None
    openssl = ""
    if shutil.which("openssl"):
        try:
            openssl = subprocess.run(
                ["openssl", "version"], capture_output=True, text=True, timeout=30, check=False
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            openssl = ""
    if not openssl:
        import ssl  # the same libssl as httpd's on a distribution's Python

        openssl = ssl.OPENSSL_VERSION
    return parse_apache_v(result.stdout + result.stderr, openssl)


def module_dir() -> Path | None:
    """The folder holding httpd's modules (mod_ssl.so), if any of the usual ones does."""
    for folder in MODULE_DIRS:
        if (Path(folder) / "mod_ssl.so").is_file():
            return Path(folder)
    return None


def standalone_conf(folder: Path, site: Path, modules: Path, apache: ApacheInfo) -> Path:
    """A minimal httpd.conf in ``folder`` that loads what ``site`` needs and includes it.

    Everything httpd writes (pid, mutexes, logs) stays in ``folder``; nothing of /etc/apache2
    is read, so it runs as any user on high ports, in the foreground with ``-X``.
    """
    names = ["mpm_event", "authz_core", "unixd", *apache.modules, "socache_shmcb"]
    loads = [
        node("LoadModule", f"{name}_module", str(modules / f"mod_{name}.so"))
        for name in dict.fromkeys(names)
        if (modules / f"mod_{name}.so").is_file()
    ]
    conf = [
        node("ServerRoot", str(folder)),
        node("PidFile", str(folder / "httpd.pid")),
        node("DefaultRuntimeDir", str(folder)),
        node("ErrorLog", str(folder / "error.log")),
        node("LogLevel", "warn"),
        node("ServerName", "localhost"),
        node("Mutex", f"file:{folder}", "default"),
        *loads,
        node("Include", str(site)),
    ]
    path = folder / "httpd.conf"
    path.write_text(apache_conf(conf))
    return path


def check_with_apache(text: str, binary: str, apache: ApacheInfo) -> tuple[bool, str]:
    """Run ``httpd -t`` on ``text`` inside a minimal config of its own (no /etc/apache2)."""
    modules = module_dir()
    if modules is None:
        return False, f"no httpd modules folder (mod_ssl.so) in any of {', '.join(MODULE_DIRS)}"
    with tempfile.TemporaryDirectory(prefix="jupyter-hardening-apache-") as tmp:
        folder = Path(tmp)
        site = folder / "jupyter.conf"
        site.write_text(text)
        conf = standalone_conf(folder, site, modules, apache)
        try:
            result = subprocess.run(
                [binary, "-t", "-f", str(conf)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False, f"{binary} -t did not finish within 60 s"
        messages = (result.stderr + result.stdout).replace(str(site), "<snippet>")
    return result.returncode == 0, messages.strip()


class ApacheSnippetApp(ProxySnippetApp):
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
    examples = """
    jupyter hardening apache-snippet --server-name jupyter.example.com \\
        --letsencrypt jupyter.example.com --output /etc/apache2/sites-available/jupyter.conf
    jupyter hardening apache-snippet --server-name jupyter.example.com --listen 8443 \\
        --tls-cert /etc/ssl/jupyter/fullchain.pem --tls-key /etc/ssl/jupyter/privkey.pem --check
    """

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

    def _tls_paths(self) -> tuple[str, str]:
        if self.letsencrypt:
            if self.tls_cert or self.tls_key:
                raise SnippetError("give either --letsencrypt or --tls-cert/--tls-key, not both")
            domain = check_server_name(self.letsencrypt, "--letsencrypt")
            root = check_file_path(self.letsencrypt_live.rstrip("/") or "/", "--letsencrypt-live")
            return f"{root}/{domain}/fullchain.pem", f"{root}/{domain}/privkey.pem"
        if not (self.tls_cert and self.tls_key):
            raise SnippetError(
                "Apache needs a certificate: give --tls-cert FILE --tls-key FILE, or "
                "--letsencrypt DOMAIN for certbot's files"
            )
        return check_file_path(self.tls_cert, "--tls-cert"), check_file_path(
            self.tls_key, "--tls-key"
        )

    def options(self) -> tuple[SnippetOptions, str]:
        """Validated options and a description of the Jupyter server (no token)."""
        found = self.discover()
        cert, key = self._tls_paths()
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
        )
        return opts, found.source

    def start(self) -> None:
        """Describe the server, build the VirtualHost, write it, and optionally run httpd -t."""
        try:
            opts, source = self.options()
        except (SnippetError, DiscoveryError) as e:
            self.fail(self.retold(e))
        binary = find_apache(self.apache_binary)
        if binary is None and self.check:
            self.fail(f"--check needs httpd, and {self.apache_binary!r} is not installed here")
        try:
            info = apache_info(binary) if binary else BASELINE_APACHE
            text = generate(opts, info, source)
        except SnippetError as e:
            self.fail(self.retold(e))

        def tested(text: str) -> tuple[bool, str, str]:
            assert binary is not None
            ok, messages = check_with_apache(text, binary, info)
            return ok, f"apache2 -t ({info.label})", messages

        self.deliver(text, tested if self.check else None)
