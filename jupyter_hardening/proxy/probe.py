"""What the installed proxy is and supports: its version and TLS library (nginx -V, caddy
version, apache2 -v), where its program is, and a test of a config with it (nginx -t, caddy
validate, httpd -t) in a folder of its own, never the system's config.

Without the program, each proxy has a baseline: the oldest version still in a maintained
distribution, so the config works there and on everything newer.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .options import SnippetError
from .text import apache_conf, node

# BoringSSL prints no version; it has every feature used here.
UNVERSIONED = (99,)


def version_tuple(text: str) -> tuple[int, ...]:
    """(2, 4, 71) from '2.4.71' (at most three numbers)."""
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


# Where distributions put each proxy's program when it is not on PATH (sbin for a user's PATH).
SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")
PROGRAM_FOLDERS = {
    "nginx": SBIN,
    "caddy": ("/usr/bin", "/usr/local/bin"),
    "apache": (*SBIN, "/usr/local/apache2/bin"),
}


def find_program(proxy: str, name: str) -> str | None:
    """The program ``name`` of ``proxy`` ('nginx', 'caddy', 'apache'): on PATH, or in the folders
    distributions use. Debian's ``apache2`` is ``httpd`` elsewhere: either will do."""
    folders = os.pathsep.join(PROGRAM_FOLDERS[proxy])
    for candidate in (name, "httpd") if proxy == "apache" and name == "apache2" else (name,):
        found = shutil.which(candidate) or shutil.which(candidate, path=folders)
        if found:
            return found
    return None


def run_program(argv: Sequence[str], option: str, what: str) -> subprocess.CompletedProcess[str]:
    """Run a proxy's version command; failing to, a SnippetError naming the option to fix."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SnippetError(
            f"cannot run `{' '.join(argv)}`: {e}; point {option} at {what}"
        ) from None


@dataclass(frozen=True)
class NginxInfo:
    """What the installed nginx and its TLS library support (from ``nginx -V``)."""

    version: tuple[int, ...]
    tls_library: str = "OpenSSL"
    tls_version: tuple[int, ...] = (1, 1, 1)
    modules: frozenset[str] = field(default_factory=frozenset)
    detected: bool = True

    @property
    def label(self) -> str:
        """e.g. 'nginx 1.22.1 with OpenSSL 3.0.19'."""
        v = ".".join(map(str, self.version))
        tls = ".".join(map(str, self.tls_version)) if self.tls_version != UNVERSIONED else ""
        return f"nginx {v} with {self.tls_library} {tls}".rstrip()

    def has(self, module: str) -> bool:
        """True when nginx was built with ``--with-<module>``."""
        return module in self.modules

    @property
    def tls13(self) -> bool:
        """TLS 1.3: nginx 1.13.0+ and OpenSSL 1.1.1+ (LibreSSL 3.2+, any BoringSSL)."""
        if self.version < (1, 13, 0):
            return False
        if self.tls_library == "OpenSSL":
            return self.tls_version >= (1, 1, 1)
        if self.tls_library == "LibreSSL":
            return self.tls_version >= (3, 2, 0)
        return True

    @property
    def curves(self) -> str:
        """Mozilla's intermediate groups, limited to those this TLS library knows."""
        groups = []
        if self.tls_library == "OpenSSL" and self.tls_version >= (3, 5, 0):
            groups.append("X25519MLKEM768")
        if self.tls_library != "OpenSSL" or self.tls_version >= (1, 1, 0):
            groups.append("X25519")
        return ":".join([*groups, "prime256v1", "secp384r1"])

    @property
    def http2_directive(self) -> bool:
        """nginx 1.25.1+ takes ``http2 on;``; older ones need ``listen ... http2``."""
        return self.version >= (1, 25, 1)


# Assumed when no nginx is installed here: what Debian 11 / Ubuntu 20.04 and newer all accept.
BASELINE_NGINX = NginxInfo(
    (1, 18, 0),
    "OpenSSL",
    (1, 1, 1),
    frozenset({"http_ssl_module", "http_v2_module", "http_auth_request_module"}),
    detected=False,
)


def parse_nginx_v(text: str) -> NginxInfo:
    """Parse the output of ``nginx -V`` (it goes to stderr)."""
    match = re.search(r"nginx version: [\w.-]+?/(\d+\.\d+(?:\.\d+)?)", text)
    if not match:
        raise SnippetError("cannot read the nginx version from `nginx -V`")
    version = version_tuple(match.group(1))
    library = "OpenSSL"
    tls_version: tuple[int, ...] = (1, 0, 0)
    libs = re.findall(r"(?:built|running) with (OpenSSL|LibreSSL|BoringSSL)\s*([\d.]*)", text)
    if libs:
        library = libs[0][0]
        # "built with OpenSSL 3.0.22 (running with OpenSSL 3.0.19)": the older one decides.
        known = [version_tuple(v) for lib, v in libs if lib == library and v]
        tls_version = min(known) if known else UNVERSIONED
    modules = frozenset(re.findall(r"--with-(\w+_module)\b", text))
    return NginxInfo(version, library, tls_version, modules)


def nginx_info(binary: str) -> NginxInfo:
    """Run ``nginx -V`` and parse what it reports."""
    result = run_program([binary, "-V"], "--nginx", "nginx")
    return parse_nginx_v(result.stderr + result.stdout)


def check_with_nginx(text: str, binary: str, location_only: bool) -> tuple[bool, str]:
    """Run ``nginx -t`` on ``text`` alone, inside events{}/http{} in a temporary prefix."""
    with tempfile.TemporaryDirectory(prefix="jupyter-hardening-nginx-") as tmp:
        prefix = Path(tmp)
        (prefix / "snippet.conf").write_text(text)
        include = f"include {prefix / 'snippet.conf'};"
        if location_only:
            # The locations go inside a server of the user's; any port will do, -t binds nothing.
            include = f"server {{ listen 127.0.0.1:8; server_name _; {include} }}"
        temp = " ".join(
            f"{name}_temp_path {prefix / name};"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            f"pid {prefix / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\n"
            f"http {{\n{temp}\n{include}\n}}\n"
        )
        try:
            result = subprocess.run(
                [binary, "-e", "stderr", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-t"],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False, "nginx -t did not finish within 60 s"
        messages = (result.stderr + result.stdout).replace(
            str(prefix / "snippet.conf"), "<snippet>"
        )
    return result.returncode == 0, messages.strip()


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


def caddy_info(binary: str) -> CaddyInfo:
    """Run ``caddy version`` and parse it."""
    result = run_program([binary, "version"], "--caddy", "caddy")
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


def apache_info(binary: str) -> ApacheInfo:
    """Run ``apache2 -v`` and ``openssl version``, and parse them."""
    result = run_program([binary, "-v"], "--apache", "httpd")
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
