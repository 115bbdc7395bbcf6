"""``jupyter hardening nginx-snippet``: print the nginx config for the Jupyter server running here.

Light on purpose: it reads runtime files and config files, and never imports the server app.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_core.application import JupyterApp
from traitlets import Bool, Integer, Unicode

from . import __version__
from .facts import HTTP_PORT, valid_port
from .nginx import (
    BASELINE_NGINX,
    DEFAULT_MAX_BODY_SIZE,
    SYSTEM_CA_BUNDLE,
    NginxInfo,
    SnippetError,
    SnippetOptions,
    check_file_path,
    check_server_name,
    check_url,
    generate,
    parse_body_size,
    parse_nginx_v,
)
from .proxyapp import ProxySnippetApp, argv_problem
from .runtime import DiscoveryError
from .safefile import kind_of

__all__ = ["NginxSnippetApp", "argv_problem", "write_atomically"]

LETSENCRYPT_LIVE = "/etc/letsencrypt/live"


def find_nginx(name: str) -> str | None:
    """The nginx binary: ``name`` on PATH, or in the sbin folders Debian uses."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")


def nginx_info(binary: str) -> NginxInfo:
    """Run ``nginx -V`` and parse what it reports."""
    try:
        result = subprocess.run(
            [binary, "-V"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SnippetError(f"cannot run `{binary} -V`: {e}; point --nginx at nginx") from None
    return parse_nginx_v(result.stderr + result.stdout)


class UnsafeOutput(OSError):
    """An --output whose folder or link another user controls; strerror says which and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EPERM, reason)


def _trusted_owner(uid: int) -> bool:
    # Root can replace anything anyway: its links and folders are no risk to anyone.
    return uid in (os.geteuid(), 0)


def _who(uid: int) -> str:
    import pwd

    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _group_is_private(gid: int) -> bool:
    """True when the group is this user's own (a user private group with no other members)."""
    import grp
    import pwd

    if gid != os.getegid():
        return False
    try:
        members = set(grp.getgrgid(gid).gr_mem)
        me = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return False
    return members <= {me}


def check_folder(folder: Path) -> None:
    """Raise UnsafeOutput when a user other than this one (or root) could replace a file there."""
    st = folder.stat()
    sticky = bool(st.st_mode & stat.S_ISVTX)
    if not _trusted_owner(st.st_uid):
        raise UnsafeOutput(
            f"the folder {folder} belongs to {_who(st.st_uid)}, who could replace the file "
            "after it is written; write into a folder of yours (e.g. /etc/nginx/conf.d as root)"
        )
    if not sticky and (
        st.st_mode & stat.S_IWOTH
        or (st.st_mode & stat.S_IWGRP and not _group_is_private(st.st_gid))
    ):
        who = "everyone" if st.st_mode & stat.S_IWOTH else f"group {st.st_gid}"
        raise UnsafeOutput(
            f"the folder {folder} is writable by {who} without the sticky bit, so another user "
            "could replace the file after it is written; write into a folder only you can write"
        )


def _check_folder_links(path: Path) -> None:
    """Refuse a symlink of another user among the folders of ``path`` (they choose the target)."""
    for parent in reversed(path.parents):
        try:
            st = parent.lstat()
        except FileNotFoundError:
            return  # the write fails with "No such file or directory"
        if stat.S_ISLNK(st.st_mode) and not _trusted_owner(st.st_uid):
            raise UnsafeOutput(
                f"{parent} is a symlink of {_who(st.st_uid)}, who chooses where it leads; give "
                "the real path"
            )


def write_atomically(path: str, text: str) -> None:
    """Replace the file at ``path`` with a new file of this user holding ``text``, in one step.

    A failure (no such folder, no permission, disk full) leaves an existing file as it was: a
    half-written file in /etc/nginx would stop nginx at its next start. The new file always
    belongs to the user running the command, never to the previous file's owner. A symlink of
    this user or root (Debian's sites-enabled -> sites-available) is followed and its target
    replaced; a symlink of anyone else is itself replaced by the new file, never followed. A
    folder someone else could write into (without the sticky bit), or a symlink of someone
    else among the folders, is refused (UnsafeOutput). A pipe or a terminal (``--output
    /dev/stdout``) is written to, not replaced.
    """
    given = Path(path).absolute()
    _check_folder_links(given)
    try:
        link: os.stat_result | None = given.lstat()
    except FileNotFoundError:
        link = None
    follow = link is not None and stat.S_ISLNK(link.st_mode) and _trusted_owner(link.st_uid)
    if link is not None and (follow or not stat.S_ISLNK(link.st_mode)):
        try:
            end = given.stat()
        except FileNotFoundError:  # a dangling link of ours: its target is created
            end = None
        if end and stat.S_ISDIR(end.st_mode):
            raise IsADirectoryError(
                errno.EISDIR, "is a folder; give a file name such as jupyter.conf"
            )
        if end and (stat.S_ISFIFO(end.st_mode) or stat.S_ISCHR(end.st_mode)):
            # /dev/stdout, a pipe, a terminal: write through, never replace.
            with given.open("w") as out:
                out.write(text)
            return
    target = Path(os.path.realpath(given)) if follow else given
    try:
        old: os.stat_result | None = target.lstat()
    except FileNotFoundError:
        old = None
    if old and not stat.S_ISREG(old.st_mode) and not stat.S_ISLNK(old.st_mode):
        raise UnsafeOutput(f"is {kind_of(old.st_mode)}; give a file name such as jupyter.conf")
    check_folder(target.parent)
    umask = os.umask(0)
    os.umask(umask)
    ours = old is not None and stat.S_ISREG(old.st_mode) and old.st_uid == os.geteuid()
    # Another user's file may be 0666: the new one takes the default mode instead of theirs.
    mode = stat.S_IMODE(old.st_mode) if old and ours else 0o666 & ~umask
    # The suffix keeps a leftover out of nginx's `include conf.d/*.conf`.
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(mode)
        # rename() replaces the name itself: a symlink there is replaced, not followed.
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _user_name() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


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
        result = subprocess.run(
            [binary, "-e", "stderr", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-t"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        messages = (result.stderr + result.stdout).replace(
            str(prefix / "snippet.conf"), "<snippet>"
        )
    return result.returncode == 0, messages.strip()


class NginxSnippetApp(ProxySnippetApp):
    """Print an nginx config that puts the running Jupyter server behind TLS.

    Finds the server through its runtime file (jpserver-<pid>.json; never its token), or takes
    --upstream and --base-url for a server elsewhere. Defaults come from c.Hardening.public_url in
    your Jupyter config. The output starts with the Jupyter settings that must match it.
    Exit status: 0 written, 1 --check found errors, 2 usage error or no server to describe.
    """

    name = "jupyter-hardening-nginx-snippet"
    version = __version__
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

    server_name = Unicode(
        "", config=True, help="Host name people type (default: the host of c.Hardening.public_url)."
    )
    listen = Unicode(
        "",
        config=True,
        help="[ADDR:]PORT nginx listens on with TLS (default: public_url's port, else 443).",
    )
    tls_cert = Unicode("", config=True, help="Certificate chain (PEM) for nginx's TLS.")
    tls_key = Unicode("", config=True, help="Private key (PEM) for --tls-cert.")
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
    max_body_size = Unicode(
        DEFAULT_MAX_BODY_SIZE,
        config=True,
        help="client_max_body_size: the largest notebook that can be saved. The default matches "
        "jupyter_server's own max_body_size (512 MiB).",
    )
    location_only = Bool(
        False, config=True, help="Print only the location blocks, to paste into an existing server."
    )
    check = Bool(False, config=True, help="Run the local `nginx -t` on the output and report.")
    # output, port, pid, url, upstream, base_url, user, runtime_dir: ProxySnippetApp's.
    upstream_ca = Unicode(
        "",
        config=True,
        help="CA bundle (PEM) that signed the certificate of an https --upstream on another host "
        f"(default: {SYSTEM_CA_BUNDLE}); nginx checks it.",
    )
    nginx_binary = Unicode(
        "nginx", config=True, help="nginx to ask for its version and to --check."
    )

    aliases = {
        **JupyterApp.aliases,
        "server-name": "NginxSnippetApp.server_name",
        "listen": "NginxSnippetApp.listen",
        "tls-cert": "NginxSnippetApp.tls_cert",
        "tls-key": "NginxSnippetApp.tls_key",
        "letsencrypt": "NginxSnippetApp.letsencrypt",
        "letsencrypt-live": "NginxSnippetApp.letsencrypt_live",
        "http-port": "NginxSnippetApp.http_port",
        "auth-request": "NginxSnippetApp.auth_request",
        "auth-signin": "NginxSnippetApp.auth_signin",
        "max-body-size": "NginxSnippetApp.max_body_size",
        "output": "NginxSnippetApp.output",
        "port": "NginxSnippetApp.port",
        "pid": "NginxSnippetApp.pid",
        "url": "NginxSnippetApp.url",
        "upstream": "NginxSnippetApp.upstream",
        "base-url": "NginxSnippetApp.base_url",
        "upstream-ca": "NginxSnippetApp.upstream_ca",
        "nginx": "NginxSnippetApp.nginx_binary",
        "user": "NginxSnippetApp.user",
        "runtime-dir": "NginxSnippetApp.server_runtime_dir",
    }
    flags = {
        # No --generate-config: with config_file_name below it would write the server config.
        **{k: v for k, v in JupyterApp.flags.items() if k not in ("generate-config", "y")},
        "http-redirect": (
            {"NginxSnippetApp": {"http_redirect": True}},
            "Redirect port 80 to https.",
        ),
        "location-only": (
            {"NginxSnippetApp": {"location_only": True}},
            "Print only the location blocks for an existing server.",
        ),
        "check": ({"NginxSnippetApp": {"check": True}}, "Run `nginx -t` on the output."),
    }

    def _tls_paths(self) -> tuple[str, str]:
        if self.location_only:
            # The locations go into the user's own server, which already holds TLS and port 80.
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
        if self.letsencrypt:
            if self.tls_cert or self.tls_key:
                raise SnippetError("give either --letsencrypt or --tls-cert/--tls-key, not both")
            domain = check_server_name(self.letsencrypt, "--letsencrypt")
            root = check_file_path(self.letsencrypt_live.rstrip("/") or "/", "--letsencrypt-live")
            live = f"{root}/{domain}"
            return f"{live}/fullchain.pem", f"{live}/privkey.pem"
        if not (self.tls_cert and self.tls_key):
            raise SnippetError(
                "nginx needs a certificate: give --tls-cert FILE --tls-key FILE, or "
                "--letsencrypt DOMAIN for certbot's files"
            )
        return check_file_path(self.tls_cert, "--tls-cert"), check_file_path(
            self.tls_key, "--tls-key"
        )

    def _note_tls_files(self, opts: SnippetOptions) -> str:
        """Note on stderr each TLS file this user cannot see; return the first unreadable one.

        certbot keeps /etc/letsencrypt/live root-only (0700): the Jupyter user cannot even stat
        the files there, yet nginx, started as root, reads them. That is a note, not an error.
        """
        unreadable = ""
        for path in () if opts.location_only else (opts.tls_cert, opts.tls_key):
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
            http_redirect=self.http_redirect,
            http_port=self.http_port,
            auth_request=check_url(self.auth_request, "--auth-request")
            if self.auth_request
            else "",
            auth_signin=check_url(self.auth_signin, "--auth-signin") if self.auth_signin else "",
            max_body_size=parse_body_size(self.max_body_size),
            location_only=self.location_only,
        )
        if not self.http_redirect and "http_port" in self.config.get("NginxSnippetApp", {}):
            raise SnippetError(
                f"--http-port {self.http_port} is the port of the --http-redirect server; add "
                "--http-redirect, or drop --http-port"
            )
        if self.http_redirect and not valid_port(self.http_port):
            raise SnippetError(f"--http-port {self.http_port} is not a port number")
        if self.http_redirect and self.http_port == found.listen_port:
            other = "--http-port 80" if self.http_port != 80 else "--listen 443"
            raise SnippetError(
                f"--http-port {self.http_port} is also the https port (--listen); the redirect "
                f"needs a port of its own, e.g. {other}"
            )
        return opts, found.source

    def start(self) -> None:
        """Describe the server, build the config, write it, and optionally run nginx -t."""
        try:
            opts, source = self.options()
        except (SnippetError, DiscoveryError) as e:
            self.fail(str(e))
        binary = find_nginx(self.nginx_binary)
        if binary is None and self.check:
            self.fail(f"--check needs nginx, and {self.nginx_binary!r} is not installed here")
        try:
            info = nginx_info(binary) if binary else BASELINE_NGINX
            text = generate(opts, info, source)
        except SnippetError as e:
            self.fail(str(e))
        unreadable = self._note_tls_files(opts)
        if self.check and unreadable:
            # nginx -t would stop at the certificate alone: say what fails, and how to check.
            self.fail(
                f"--check: this user ({_who(os.geteuid())}) cannot read {unreadable}, so nginx -t "
                "cannot load it; nginx reads it as root: check as root against this user's "
                f"server with `sudo jupyter hardening nginx-snippet --user {_user_name()} ... "
                "--check` (nothing was written)"
            )
        ok = True
        if self.check and binary:
            # Before writing: a config nginx rejects must not land in /etc/nginx.
            ok, messages = check_with_nginx(text, binary, opts.location_only)
            print(f"nginx -t ({info.label}): {'ok' if ok else 'FAILED'}", file=sys.stderr)
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
