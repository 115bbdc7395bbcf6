"""nginx-snippet trusts only what it should, with real files of another user (uid 65534, nobody),
real nginx, and the command run as that unprivileged user (issue 11, points 6 and 9).

The tests need root (chown to another uid, setpriv): CI runs as root. Elsewhere they skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_hardening.outputfile import UnsafeOutput, write_atomically
from jupyter_hardening.proxy.command import NginxSnippetApp
from jupyter_hardening.runtime import running_servers

from .certs import TLSFiles
from .fixtures import IN_CI, require_tool
from .nginx_util import nginx_conf, nginx_path, running_nginx
from .servers import free_port, jupyter_bin, port_open
from .test_nginx_snippet import TOKEN, one_error_line, run, write_runtime

NOBODY = 65534
TEXT = "# the config\n"

if os.geteuid() != 0:
    pytestmark = pytest.mark.skipif(not IN_CI, reason="needs root (chown to another uid)")


def as_nobody(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as uid/gid 65534 with no supplementary groups."""
    setpriv = require_tool("setpriv", "util-linux's setpriv")
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kw,
    )


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder every user can reach (pytest's tmp_path is root-only), removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="jh-trust-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ----------------------------------------------------------------------------- unix sockets


def test_nginx_ends_a_unix_socket_path_at_a_colon(tmp_path: Path) -> None:
    """What nginx really does with `proxy_pass http://unix:/dir/a:b.sock:`: it connects to /dir/a
    and sends `b.sock:` into the request line. Whoever can create /dir/a receives the logins."""
    nginx = require_tool(nginx_path() or "nginx", "Debian's nginx")
    sockets = tmp_path / "sockets"
    sockets.mkdir()
    received: dict[str, bytes] = {}
    listeners = {}
    for name in ("a", "a:b.sock"):
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(sockets / name))
        listener.listen()
        listener.settimeout(20)
        listeners[name] = listener

    def serve(name: str) -> None:
        try:
            conn, _ = listeners[name].accept()
        except OSError:
            return
        with conn:
            received[name] = conn.recv(4096)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")

    threads = [threading.Thread(target=serve, args=(n,), daemon=True) for n in listeners]
    for thread in threads:
        thread.start()
    port = free_port()
    conf = nginx_conf(
        tmp_path / "nginx",
        f"server {{ listen 127.0.0.1:{port}; location / {{ "
        f"proxy_pass http://unix:{sockets}/a:b.sock:; }} }}",
    )
    with (
        running_nginx(conf, port, nginx=nginx),
        urllib.request.urlopen(f"http://127.0.0.1:{port}/jp/lab", timeout=10) as response,
    ):
        assert response.read() == b"ok"
    for listener in listeners.values():
        listener.close()
    assert list(received) == ["a"]
    assert received["a"].startswith(b"GET b.sock:jp/lab HTTP/1.0")


def test_socket_path_with_a_colon_is_refused(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """--upstream unix:/run/a:b.sock and a runtime file's sock with ':' are one line, exit 2;
    the closing ':' of nginx's own syntax is still accepted."""
    base = ["--server-name=j.example.com", "--tls-cert=/c.pem", "--tls-key=/k.pem"]
    status, out, err = run([*base, "--upstream=unix:/run/a:b.sock"], capsys)
    assert (status, out) == (2, "")
    line = one_error_line(err)
    assert "--upstream '/run/a:b.sock' contains ':'" in line and "connect to /run/a" in line
    status, out, err = run([*base, "--upstream=unix:/run/jupyter.sock:"], capsys)
    assert status == 0 and "proxy_pass http://unix:/run/jupyter.sock:;" in out, err

    write_runtime(jupyter_env["runtime"], os.getpid(), 0, sock="/run/x:y.sock")
    status, out, err = run(base, capsys)
    assert (status, out) == (2, "")
    assert "the server's sock '/run/x:y.sock' contains ':'" in one_error_line(err)


# ----------------------------------------------------------------------------- runtime files


@pytest.fixture
def nobody_process() -> Iterator[int]:
    """The pid of a live process of uid 65534."""
    setpriv = require_tool("setpriv", "util-linux's setpriv")
    proc = subprocess.Popen(
        [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "sleep", "300"]
    )
    try:
        for _ in range(100):  # until setpriv has switched to uid 65534
            if Path(f"/proc/{proc.pid}").stat().st_uid == NOBODY:
                break
            threading.Event().wait(0.05)
        assert proc.poll() is None
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_runtime_files_of_other_users_are_not_trusted(tmp_path: Path, nobody_process: int) -> None:
    """In a shared runtime folder: a file of another user, a file of ours naming their pid, a
    link of ours to their file, their link to ours, and a FIFO are all skipped (and nothing
    hangs)."""
    runtime = tmp_path / "runtime"
    write_runtime(runtime, os.getpid(), 8001)
    theirs = write_runtime(runtime, os.getppid(), 8002)
    os.chown(theirs, NOBODY, NOBODY)
    write_runtime(runtime, nobody_process, 8003)  # our file, their process
    target = write_runtime(tmp_path / "elsewhere", 99, 8004)
    os.chown(target, NOBODY, NOBODY)
    (runtime / "jpserver-99.json").symlink_to(target)
    os.mkfifo(runtime / "jpserver-98.json")
    # Their link to our own file, under another name: not a second server (nor any).
    planted = runtime / "jpserver-2.json"
    planted.symlink_to(runtime / f"jpserver-{os.getpid()}.json")
    os.lchown(planted, NOBODY, NOBODY)
    assert [s.port for s in running_servers(str(runtime))] == [8001]
    # The same files judged for uid 65534: only what is theirs and names their process.
    os.chown(runtime / "jpserver-98.json", NOBODY, NOBODY)
    mine = write_runtime(runtime, nobody_process, 8005)
    os.chown(mine, NOBODY, NOBODY)
    assert [s.port for s in running_servers(str(runtime), owner=NOBODY)] == [8005]


# ----------------------------------------------------------------------------- --output


def test_output_over_another_users_file_is_a_new_file_of_ours(tmp_path: Path) -> None:
    """Their file (even 0666) is replaced by a new file owned by the caller, in the default
    mode, not theirs."""
    target = tmp_path / "jupyter.conf"
    target.write_text("# theirs\n")
    os.chown(target, NOBODY, NOBODY)
    target.chmod(0o666)
    write_atomically(str(target), TEXT)
    st = target.stat()
    assert target.read_text() == TEXT
    assert (st.st_uid, st.st_gid) == (os.geteuid(), os.getegid())
    assert stat.S_IMODE(st.st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_output_never_follows_another_users_symlink(tmp_path: Path) -> None:
    """A symlink of uid 65534 at --output (pointing at a file of ours) is itself replaced by a
    new file; the file it pointed at is untouched."""
    victim = tmp_path / "victim"
    victim.write_text("# must stay\n")
    link = tmp_path / "jupyter.conf"
    link.symlink_to(victim)
    os.lchown(link, NOBODY, NOBODY)
    write_atomically(str(link), TEXT)
    assert not link.is_symlink() and link.read_text() == TEXT
    assert link.stat().st_uid == os.geteuid()
    assert victim.read_text() == "# must stay\n"


def test_output_follows_our_own_symlink(tmp_path: Path) -> None:
    """Our own link (sites-enabled -> sites-available) is followed; a file of another user at
    its end becomes a new file of ours."""
    real = tmp_path / "available"
    real.write_text("# old\n")
    os.chown(real, NOBODY, NOBODY)
    link = tmp_path / "enabled"
    link.symlink_to(real)
    write_atomically(str(link), TEXT)
    assert link.is_symlink() and real.read_text() == TEXT and real.stat().st_uid == os.geteuid()


@pytest.mark.parametrize(
    ("mode", "owner", "group", "message"),
    [
        (0o777, 0, 0, "is writable by everyone without the sticky bit"),
        (0o775, 0, NOBODY, f"is writable by group {NOBODY} without the sticky bit"),
        (0o755, NOBODY, NOBODY, "belongs to nobody (uid 65534), who could replace the file"),
        (0o1777, NOBODY, NOBODY, "belongs to nobody (uid 65534), who could replace the file"),
    ],
    ids=["world-writable", "group-writable", "their-folder", "their-sticky-folder"],
)
def test_output_into_a_folder_others_can_write_is_refused(
    mode: int,
    owner: int,
    group: int,
    message: str,
    jupyter_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The command refuses with one line and writes nothing."""
    folder = tmp_path / "drop"
    folder.mkdir()
    os.chown(folder, owner, group)
    folder.chmod(mode)
    argv = ["--upstream=127.0.0.1:1", "--server-name=j.example.com"]
    argv += ["--tls-cert=/c.pem", "--tls-key=/k.pem", f"--output={folder / 'jupyter.conf'}"]
    status, out, err = run(argv, capsys)
    assert (status, out) == (2, "")
    assert message in one_error_line(err)
    assert list(folder.iterdir()) == []


def test_output_into_a_sticky_world_writable_folder_of_root(tmp_path: Path) -> None:
    """A /tmp-like folder (root's, sticky): others cannot replace our file there, so it is fine."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    folder.chmod(0o1777)
    write_atomically(str(folder / "jupyter.conf"), TEXT)
    assert (folder / "jupyter.conf").read_text() == TEXT


def test_output_through_another_users_folder_link_is_refused(tmp_path: Path) -> None:
    """A symlinked folder of uid 65534 on the way: they choose where the file lands."""
    (tmp_path / "real").mkdir()
    hop = tmp_path / "hop"
    hop.symlink_to(tmp_path / "real")
    os.lchown(hop, NOBODY, NOBODY)
    with pytest.raises(UnsafeOutput, match=f"{hop} is a symlink of nobody"):
        write_atomically(str(hop / "jupyter.conf"), TEXT)
    assert list((tmp_path / "real").iterdir()) == []


def test_output_through_our_link_to_another_users_link_replaces_theirs(tmp_path: Path) -> None:
    """Our link -> their link (in a sticky folder) -> a file of ours: the chain is followed only
    as far as links we trust. Their link is replaced by a new file; what it named is untouched."""
    sticky = tmp_path / "st"
    sticky.mkdir()
    sticky.chmod(0o1777)
    victim = tmp_path / "victim"
    victim.write_text("# must stay\n")
    theirs = sticky / "link2"
    theirs.symlink_to(victim)
    os.lchown(theirs, NOBODY, NOBODY)
    ours = tmp_path / "jupyter.conf"
    ours.symlink_to(theirs)
    write_atomically(str(ours), TEXT)
    assert victim.read_text() == "# must stay\n"
    assert not theirs.is_symlink() and theirs.read_text() == TEXT
    assert theirs.stat().st_uid == os.geteuid() and ours.is_symlink()


def test_output_through_a_link_target_with_another_users_folder_link_is_refused(
    tmp_path: Path,
) -> None:
    """Our link whose target goes through a folder link of theirs: refused, as in the path."""
    (tmp_path / "real").mkdir()
    hop = tmp_path / "hop"
    hop.symlink_to(tmp_path / "real")
    os.lchown(hop, NOBODY, NOBODY)
    ours = tmp_path / "jupyter.conf"
    ours.symlink_to(hop / "x.conf")
    with pytest.raises(UnsafeOutput, match=f"{hop} is a symlink of nobody"):
        write_atomically(str(ours), TEXT)
    assert list((tmp_path / "real").iterdir()) == []


def test_output_under_a_folder_of_another_user_higher_up_is_refused(tmp_path: Path) -> None:
    """Their folder above ours: they can rename ours away and put their own file in its place."""
    theirs = tmp_path / "theirs"
    (theirs / "sub").mkdir(parents=True)
    os.chown(theirs, NOBODY, NOBODY)
    with pytest.raises(UnsafeOutput, match=f"the folder {theirs} belongs to nobody"):
        write_atomically(str(theirs / "sub" / "x.conf"), TEXT)
    assert list((theirs / "sub").iterdir()) == []


def test_output_through_a_relative_link_and_dev_stdout(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Debian's ../sites-available link is followed; /dev/stdout is written through."""
    (tmp_path / "sites-available").mkdir()
    (tmp_path / "sites-enabled").mkdir()
    link = tmp_path / "sites-enabled" / "jupyter"
    link.symlink_to("../sites-available/jupyter")
    write_atomically(str(link), TEXT)
    assert (tmp_path / "sites-available" / "jupyter").read_text() == TEXT and link.is_symlink()
    write_atomically("/dev/stdout", TEXT)
    assert capfd.readouterr().out == TEXT


def _fifo_reader(path: Path) -> int:
    """A reader's end of the FIFO at ``path``, open before anyone writes (as a planted FIFO's
    owner would hold it); os.read on it returns what a writer wrote, or b'' when none came."""
    return os.open(path, os.O_RDONLY | os.O_NONBLOCK)


def test_output_into_another_users_fifo_is_refused(tmp_path: Path) -> None:
    """A FIFO another user planted in a sticky folder (/tmp) with a reader behind it: writing
    through it handed them the config, and root then installed what they fed back (found in
    review). Refused, nothing written; our own FIFO is still written through."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    folder.chmod(0o1777)
    planted = folder / "jupyter.conf"
    os.mkfifo(planted, 0o622)
    os.chown(planted, NOBODY, NOBODY)
    theirs = _fifo_reader(planted)
    try:
        with pytest.raises(UnsafeOutput, match=r"is a named pipe \(FIFO\) of .*uid 65534"):
            write_atomically(str(planted), TEXT)
        assert os.read(theirs, 4096) == b""  # nothing reached them
    finally:
        os.close(theirs)
    assert stat.S_ISFIFO(planted.lstat().st_mode)
    mine = folder / "ours.fifo"
    os.mkfifo(mine, 0o600)
    ours = _fifo_reader(mine)
    try:
        write_atomically(str(mine), TEXT)
        assert os.read(ours, 4096) == TEXT.encode()
    finally:
        os.close(ours)


@pytest.mark.parametrize("kind", ["named pipe (FIFO)", "folder"])
def test_a_tls_path_that_is_no_file_is_refused_before_nginx_runs(
    kind: str, jupyter_env: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FIFO would make `nginx -t` wait until its timeout, a folder fails only in nginx: both
    are one line naming the option (the same check runs before --check's nginx -t)."""
    path = tmp_path / "cert.pem"
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)
    argv = ["--upstream=127.0.0.1:1", "--server-name=j.example.com"]
    status, out, err = run([*argv, f"--tls-cert={path}", "--tls-key=/k.pem"], capsys)
    assert (status, out) == (2, "")
    assert f"--tls-cert {path} is a {kind}, not a file" in one_error_line(err)


@pytest.mark.parametrize("command", ["nginx", "caddy", "apache"])
@pytest.mark.parametrize("option", ["--tls-cert", "--upstream-ca"])
def test_a_fifo_the_proxy_reads_is_refused_before_check_runs_it(
    command: str,
    option: str,
    jupyter_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--check with a FIFO as --upstream-ca made nginx -t wait 60 s, then a traceback; caddy
    validate waited 60 s on a FIFO --tls-cert (found in review). Now one line, at once, for
    every file each proxy reads, before its test runs."""
    from jupyter_hardening.proxy.command import ApacheSnippetApp, CaddySnippetApp

    from . import cli
    from .cli import in_process

    app = {"nginx": NginxSnippetApp, "caddy": CaddySnippetApp, "apache": ApacheSnippetApp}[command]
    require_tool({"nginx": "nginx", "caddy": "caddy", "apache": "apache2"}[command], command)
    fifo = tmp_path / "fifo.pem"
    os.mkfifo(fifo)
    cert, key = TLSFiles(tmp_path).pair("cert")
    files = {"--tls-cert": str(cert), "--tls-key": str(key), "--upstream-ca": str(cert)}
    files[option] = str(fifo)
    argv = ["--server-name=j.example.com", "--upstream=https://jupyter.internal:8888", "--check"]
    argv += [f"{name}={path}" for name, path in files.items()]
    began = time.monotonic()
    status, out, err = in_process(app(), argv, capsys)
    assert time.monotonic() - began < 20
    assert (status, out) == (2, "")
    line = cli.one_error_line(err, f"{command}-snippet")
    assert f"{option} {fifo} is a named pipe (FIFO), not a file" in line
    assert "Traceback" not in err


# ----------------------------------------------------------------------------- certbot hosts


@pytest.fixture
def certbot_host(shared: Path) -> dict[str, Path]:
    """certbot's layout with live/ 0700 root, and folders for a Jupyter run by uid 65534."""
    live = shared / "letsencrypt" / "live"
    domain = live / "jupyter.example.com"
    files = TLSFiles(domain)
    cert, key = files.pair("cert")
    cert.rename(domain / "fullchain.pem")
    key.rename(domain / "privkey.pem")
    (shared / "letsencrypt").chmod(0o755)
    live.chmod(0o700)  # what certbot does
    home = shared / "jupyter"
    for name in ("config", "runtime", "data", "work"):
        (home / name).mkdir(parents=True)
    for path in (home, *home.iterdir()):
        os.chown(path, NOBODY, NOBODY)
    return {"live": live, "home": home}


def jupyter_env_of(home: Path) -> dict[str, str]:
    """The environment of the Jupyter user's commands."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_DATA_DIR=str(home / "data"),
        IPYTHONDIR=str(home / "ipython"),
    )
    return env


def test_certbot_host_as_the_jupyter_user_and_as_root(certbot_host: dict[str, Path]) -> None:
    """README's guide on a host where certbot made live/ 0700 root:
    - as the Jupyter user, the config is written (stdout), with a note that the certificate
      cannot be checked by this user: no "cannot write the output";
    - as that user, --check says what fails (the certificate) and how to check instead;
    - as root, --check --user against that user's running server: nginx -t ok."""
    home, live = certbot_host["home"], certbot_host["live"]
    env = jupyter_env_of(home)
    # The guide's public URL has a port, which the Jupyter user's config holds and root does
    # not read: root's check must be told it (--listen 8443) to check the same config.
    config = home / "config" / "jupyter_server_config.py"
    config.write_text(
        "c.Hardening.public_url = 'https://jupyter.example.com:8443/'\n"
        "c.Hardening.refuse_at = 'never'\n"
    )
    os.chown(config, NOBODY, NOBODY)
    port = free_port()
    server = subprocess.Popen(
        [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            jupyter_bin("jupyter-server"),
            f"--port={port}",
            "--port-retries=0",
            "--no-browser",
            f"--ServerApp.root_dir={home / 'work'}",
        ],
        env=env,
        cwd=home / "work",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            if port_open(port) or server.poll() is not None:
                break
            threading.Event().wait(0.1)
        assert port_open(port), "the Jupyter user's server did not start"
        snippet = [
            jupyter_bin("jupyter-hardening"),
            "nginx-snippet",
            "--letsencrypt=jupyter.example.com",
            f"--letsencrypt-live={live}",
        ]
        out = as_nobody(snippet, env=env, cwd=home)
        assert out.returncode == 0, out.stderr
        assert f"proxy_pass http://127.0.0.1:{port};" in out.stdout
        assert "proxy_set_header Host $host:8443;" in out.stdout
        written = out.stdout
        assert f"{live}/jupyter.example.com/fullchain.pem cannot be checked by this user" in (
            out.stderr
        )
        assert "Permission denied" in out.stderr and "cannot write the output" not in out.stderr

        target = home / "jupyter.conf"
        out = as_nobody([*snippet, "--check", f"--output={target}"], env=env, cwd=home)
        assert out.returncode == 2, out.stdout + out.stderr
        line = one_error_line(out.stderr)
        assert "--check: this user (nobody (uid 65534)) cannot read" in line
        assert "--user nobody" in line and not target.exists()

        nginx = require_tool(nginx_path() or "nginx", "Debian's nginx")
        root_env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
        root_env["PATH"] = f"{Path(nginx).parent}:{root_env.get('PATH', '')}"
        # The guide's root command as it is written (docs/deployment.md), for this user.
        from .guide import after, command

        guide = after(command("sudo /opt/jupyter/bin/jupyter hardening nginx-snippet"), "jupyter")
        assert guide[:2] == ["hardening", "nginx-snippet"] and "--check" in guide
        guide = [("nobody" if word == "jupyter" else word) for word in guide[2:]]
        as_root = subprocess.run(
            [
                *snippet[:2],
                *guide,
                f"--letsencrypt-live={live}",
                f"--runtime-dir={home / 'runtime'}",
                f"--nginx={nginx}",
            ],
            capture_output=True,
            text=True,
            env=root_env,
            timeout=120,
            check=False,
        )
        assert as_root.returncode == 0, as_root.stderr
        assert "nginx -t (nginx" in as_root.stderr and "): ok" in as_root.stderr
        assert f"proxy_pass http://127.0.0.1:{port};" in as_root.stdout
        assert TOKEN not in as_root.stdout
        assert as_root.stdout == written  # root checked the config the Jupyter user wrote

        # Without --user, root finds no server of its own, and is told how to choose one.
        as_root = subprocess.run(
            [*snippet, "--server-name=jupyter.example.com", f"--runtime-dir={home / 'runtime'}"],
            capture_output=True,
            text=True,
            env=root_env,
            timeout=120,
            check=False,
        )
        assert as_root.returncode == 2
        assert "as root, name the user that runs Jupyter: --user NAME" in one_error_line(
            as_root.stderr
        )
    finally:
        server.terminate()
        server.wait(10)


def test_user_option_errors(
    jupyter_env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown --user, and --user with --upstream: one line each."""
    base = ["--server-name=j.example.com", "--tls-cert=/c.pem", "--tls-key=/k.pem"]
    status, _, err = run([*base, "--user=no-such-user-xyz"], capsys)
    assert status == 2 and "--user 'no-such-user-xyz': no such user" in one_error_line(err)
    status, _, err = run([*base, "--user=root", "--upstream=127.0.0.1:8888"], capsys)
    assert status == 2 and "--user chooses a running server but --upstream" in one_error_line(err)
    # --user reads that user's default runtime folder, not $JUPYTER_RUNTIME_DIR.
    home = Path(pwd.getpwnam("root").pw_dir)
    app = NginxSnippetApp(user="root")
    assert app._runtime_owner() == (0, str(home / ".local/share/jupyter/runtime"))
    app = NginxSnippetApp(user="root", server_runtime_dir="/srv/rt")
    assert app._runtime_owner() == (0, "/srv/rt")
