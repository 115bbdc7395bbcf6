"""The deployment guide (docs/deployment.md), run: every command is exercised here or in test_browser.py,
or named with the reason it cannot run in a test (root on a real host, Docker)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_hardening import __version__

from .cli import hardening
from .fixtures import require_tool
from .forked import Result, Run, run_all
from .guide import DOCKER, after, blocks, command, commands, server_config, set_password
from .nginx_util import PUBLIC_HOST, TestCA, assert_nginx_ok, make_ca, nginx_conf_including
from .servers import JupyterHome, ServerProcess, jupyter_bin, start
from .test_systemd import unit_lines, unprivileged_user

SECRET = "correct horse battery staple 42"
NOT_RUN = "not run here:"

# Each command of the guide, and the test that runs it (or why none can).
GUIDE = {
    "sudo useradd --system --create-home --home-dir /srv/jupyter --shell /bin/bash jupyter": (
        f"{NOT_RUN} adds a system user; the systemd tests use an existing unprivileged one"
    ),
    "sudo python3 -m venv /opt/jupyter": f"{NOT_RUN} the tests run in an existing environment",
    "sudo /opt/jupyter/bin/pip install jupyterlab .    # in a checkout of this repository": (
        f"{NOT_RUN} the package is already installed where the tests run"
    ),
    "sudo -u jupyter -H /opt/jupyter/bin/jupyter server extension list": (
        "test_extension_is_listed_enabled"
    ),
    "sudo -u jupyter -H /opt/jupyter/bin/jupyter server password": (
        "test_password_command_stores_an_argon2_hash"
    ),
    "sudo -u jupyter -H /opt/jupyter/bin/jupyter hardening check": (
        "test_guide_config_passes_check"
    ),
    "sudo /opt/jupyter/bin/jupyter hardening systemd-unit --user jupyter "
    "--output /etc/systemd/system/jupyter.service": "test_guide_systemd_unit",
    "sudo systemd-analyze security --offline=yes /etc/systemd/system/jupyter.service": (
        "test_guide_systemd_unit"
    ),
    "sudo systemctl daemon-reload": f"{NOT_RUN} needs systemd as PID 1 (systemd-analyze verify)",
    "sudo systemctl enable --now jupyter": f"{NOT_RUN} needs systemd as PID 1",
    "sudo -u jupyter -H /opt/jupyter/bin/jupyter hardening nginx-snippet --letsencrypt "
    "jupyter.example.com > jupyter.conf": "test_guide_nginx_config",
    "sudo install -m 644 jupyter.conf /etc/nginx/conf.d/jupyter.conf": "test_guide_nginx_config",
    "sudo nginx -t": "test_guide_nginx_config",
    "sudo systemctl reload nginx": (
        f"{NOT_RUN} test_browser.py runs nginx in the foreground on the generated config"
    ),
    "sudo /opt/jupyter/bin/jupyter hardening nginx-snippet --user jupyter --server-name "
    "jupyter.example.com --listen 8443 --letsencrypt jupyter.example.com --check": (
        f"{NOT_RUN} here: test_snippet_trust.py::test_certbot_host_as_the_jupyter_user_and_as_root "
        "runs it as root against a 0700 live/ folder and a server of uid 65534"
    ),
    "pip wheel --no-deps --wheel-dir examples/docker .": f"{NOT_RUN} builds the package",
    "docker build -t jupyter-hardened examples/docker": f"{NOT_RUN} no Docker; see test_dockerfile",
    "docker network create jupyter": f"{NOT_RUN} no Docker",
    "docker run --rm -i --entrypoint python jupyter-hardened -c "
    '"from jupyter_server.auth import passwd; print(passwd())" > password.hash': (
        "test_docker_password_hash_command"
    ),
    "docker run -d --name jupyter --restart unless-stopped --network jupyter "
    '-p 127.0.0.1:8888:8888 -e JUPYTER_PASSWORD_HASH="$(cat password.hash)" '
    "-v jupyter-work:/home/jovyan/work jupyter-hardened": "test_docker_run_matches_accepted_risks",
    "docker exec jupyter jupyter hardening nginx-snippet --upstream http://127.0.0.1:8888 "
    "--letsencrypt jupyter.example.com > jupyter.conf": "test_docker_nginx_config",
    "sudo install -m 644 jupyter.conf /etc/nginx/conf.d/": f"{NOT_RUN} the install of step 4, which test_guide_nginx_config runs",
}


def run(argv: list[str], home: JupyterHome, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command in ``home``'s Jupyter folders, as the user ``jupyter`` would."""
    return subprocess.run(
        argv, capture_output=True, text=True, env=home.env(**env), timeout=180, check=False
    )


def jupyter(words: list[str]) -> list[str]:
    """A guide command's `jupyter ...` part, run with this environment's jupyter."""
    return [jupyter_bin("jupyter"), *after(words, "jupyter")]


def before_redirect(words: list[str]) -> list[str]:
    """The words of a command before its output redirection ``>``."""
    assert words.count(">") == 1, words
    return words[: words.index(">")]


def letsencrypt_live(folder: Path, ca: TestCA) -> Path:
    """A certbot-style live folder holding the test certificate for jupyter.example.com."""
    live = folder / "live" / PUBLIC_HOST
    live.mkdir(parents=True)
    shutil.copy(ca.cert, live / "fullchain.pem")
    shutil.copy(ca.key, live / "privkey.pem")
    return live.parent


def test_every_guide_command_is_accounted_for() -> None:
    """Adding a command to the guide means adding it here, with its test or its reason."""
    assert commands() == list(GUIDE)
    for how in GUIDE.values():
        assert how.startswith(NOT_RUN) or how in globals(), how


@pytest.fixture(scope="module")
def password_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The config folder `jupyter server password` writes the guide's password into, run once
    for the module (the command is a server start: seconds)."""
    home = JupyterHome(tmp_path_factory.mktemp("password") / "jhome")
    set_password(home, SECRET)
    return home.config_dir


@pytest.fixture
def guide_home(tmp_path: Path, password_config: Path) -> JupyterHome:
    """The user's Jupyter folders, with the guide's password and config: each test's own
    folders, holding a copy of what `jupyter server password` wrote (password_config)."""
    home = JupyterHome(tmp_path / "jhome")
    shutil.copytree(password_config, home.config_dir, dirs_exist_ok=True)
    home.write_config(server_config())
    return home


def test_extension_is_listed_enabled(guide_home: JupyterHome) -> None:
    """Installed into the environment, the extension is on without any command."""
    result = run(
        jupyter(command("sudo -u jupyter -H /opt/jupyter/bin/jupyter server ext")), guide_home
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"jupyter_hardening\s.*enabled", result.stdout + result.stderr)


def test_password_command_stores_an_argon2_hash(guide_home: JupyterHome) -> None:
    """`jupyter server password` (run by the fixture) stores an argon2 hash of the password."""
    from jupyter_server.auth.security import passwd_check

    assert command("sudo -u jupyter -H /opt/jupyter/bin/jupyter server password")[-2:] == [
        "server",
        "password",
    ]
    stored = json.loads((guide_home.config_dir / "jupyter_server_config.json").read_text())
    hashed = stored["IdentityProvider"]["hashed_password"]
    assert hashed.startswith("argon2:$argon2id$")
    assert passwd_check(hashed, SECRET)
    assert not passwd_check(hashed, SECRET + "!")


def test_guide_config_passes_check(guide_home: JupyterHome) -> None:
    """The guide's config and password: verdict OK, no findings, and the output it shows."""
    from concurrent.futures import ThreadPoolExecutor

    words = jupyter(command("sudo -u jupyter -H /opt/jupyter/bin/jupyter hardening check"))
    # Both runs only read the folders: side by side, each its own `jupyter` process.
    with ThreadPoolExecutor(2) as pool:
        as_text = pool.submit(run, words, guide_home)
        as_json = pool.submit(run, [*words, "--format", "json"], guide_home)
    text = as_text.result()
    assert text.returncode == 0, text.stdout + text.stderr
    (shown,) = (b for b in blocks("") if "jupyter_hardening" in b)
    assert text.stdout.splitlines()[0] == shown.strip().replace("0.1.0", __version__)
    report = json.loads(as_json.result().stdout)
    assert (report["verdict"], report["findings"]) == ("ok", [])
    assert report["settings"]["PasswordIdentityProvider.hashed_password"] == "argon2 hash"


def test_guide_systemd_unit(tmp_path: Path) -> None:
    """The guide's command (with a user of this machine) writes a unit systemd accepts."""
    words = command("sudo /opt/jupyter/bin/jupyter hardening systemd-unit")
    args = after(words, "jupyter")
    user = unprivileged_user()
    unit = tmp_path / "jupyter.service"
    args[args.index("--user") + 1] = user.pw_name
    args[args.index("--output") + 1] = str(unit)
    assert args[0] == "hardening", args
    result = hardening(*args[1:], timeout=60)
    assert result.returncode == 0, result.stderr
    lines = unit_lines(unit.read_text())
    assert lines["ExecStart"] == [f"{jupyter_bin('jupyter-lab')} --no-browser"]
    assert lines["User"] == [user.pw_name]
    systemd_analyze = require_tool("systemd-analyze", "systemd-analyze (Debian package systemd)")
    verify = subprocess.run(
        [systemd_analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert (verify.returncode, verify.stdout + verify.stderr) == (0, "")
    # The guide's rating command, on the unit just written: OK is below 5.0.
    rate = command("sudo systemd-analyze security")[1:]
    rate[0], rate[-1] = systemd_analyze, str(unit)
    rated = subprocess.run(rate, capture_output=True, text=True, timeout=60)
    assert rated.returncode == 0, rated.stdout + rated.stderr
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d) OK", rated.stdout)
    assert score and float(score.group(1)) < 5.0, rated.stdout


@pytest.fixture
def server(guide_home: JupyterHome) -> Iterator[ServerProcess]:
    """`jupyter server` started with the guide's config (the service of step 3)."""
    process = start(guide_home)
    try:
        process.wait_ready(path="jp/api/status")
        yield process
    finally:
        process.stop()


def test_guide_nginx_config(guide_home: JupyterHome, server: ServerProcess, tmp_path: Path) -> None:
    """The guide's nginx-snippet command, with certbot's files, gives a config nginx accepts."""
    nginx = require_tool("nginx", "nginx (Debian nginx-light)")
    words = before_redirect(command("sudo -u jupyter -H /opt/jupyter/bin/jupyter hardening nginx"))
    live = letsencrypt_live(tmp_path / "letsencrypt", make_ca(tmp_path / "ca"))
    result = run([*jupyter(words), f"--letsencrypt-live={live}"], guide_home)
    assert result.returncode == 0, result.stderr
    (tmp_path / "jupyter.conf").write_text(result.stdout)  # `> jupyter.conf`
    # `sudo install -m 644 jupyter.conf /etc/nginx/conf.d/jupyter.conf`, into a folder of the test
    install = command("sudo install -m 644 jupyter.conf /etc/nginx/conf.d/jupyter.conf")[1:]
    installed = tmp_path / "conf.d" / "jupyter.conf"
    installed.parent.mkdir()
    install[-1] = str(installed)
    subprocess.run(install, cwd=tmp_path, check=True, timeout=60)
    assert installed.stat().st_mode & 0o777 == 0o644
    config = installed.read_text()
    assert f"port {server.port}, base_url /jp/" in config
    assert f"proxy_pass http://127.0.0.1:{server.port};" in config
    assert "proxy_set_header Host $host:8443;" in config
    assert f"ssl_certificate {live}/{PUBLIC_HOST}/fullchain.pem;" in config
    # `sudo nginx -t`: the config as /etc/nginx/conf.d/jupyter.conf, inside http {}.
    assert_nginx_ok(nginx_conf_including(tmp_path / "nginx", config), nginx)


# Docker: the image cannot be built here; its parts are checked one by one.


def test_dockerfile() -> None:
    """Built on a pinned docker-stacks image, installs the wheel, copies the config, no root."""
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert blocks("dockerfile") == [dockerfile], "the guide shows examples/docker/Dockerfile"
    instructions = [
        line.split(None, 1)
        for line in dockerfile.splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert instructions[0][0] == "FROM"
    assert re.fullmatch(r"quay\.io/jupyter/base-notebook:\d{4}-\d{2}-\d{2}", instructions[0][1])
    assert ["USER", "root"] not in instructions
    copies = [args.split() for op, args in instructions if op == "COPY"]
    assert copies == [
        ["jupyter_hardening-*.whl", "/tmp/wheels/"],
        ["jupyter_server_config.py", "${CONDA_DIR}/etc/jupyter/jupyter_server_config.py"],
    ]
    assert (DOCKER / "jupyter_server_config.py").is_file()
    assert ["RUN", "pip install --no-cache-dir /tmp/wheels/jupyter_hardening-*.whl"] in (
        instructions
    )
    # The guide's wheel command puts the wheel where the first COPY takes it from.
    assert command("pip wheel")[-2:] == ["examples/docker", "."]


def container_folders(root: Path) -> JupyterHome:
    """Jupyter folders under ``root`` holding the image's config file."""
    home = JupyterHome(root / "container")
    shutil.copy(DOCKER / "jupyter_server_config.py", home.config_dir)
    return home


@pytest.fixture
def container_home(tmp_path: Path) -> JupyterHome:
    """Jupyter folders holding the image's config file."""
    return container_folders(tmp_path)


@pytest.fixture(scope="module")
def container_checks(
    tmp_path_factory: pytest.TempPathFactory, password: tuple[str, str]
) -> dict[str, Result]:
    """`jupyter hardening check --format json` with the image's config, with the password hash
    and without: one batch (tests/forked.py: each a fresh forked process in its own folders)."""
    homes = [container_folders(tmp_path_factory.mktemp(n)) for n in ("with-hash", "without-hash")]
    args = ["check", "--format", "json"]
    with_hash, without_hash = run_all(
        [
            Run(args, homes[0], {"JUPYTER_PASSWORD_HASH": password[1]}, timeout=180),
            Run(args, homes[1], timeout=180),
        ]
    )
    return {"with-hash": with_hash, "without-hash": without_hash}


def test_docker_config_verdict(container_checks: dict[str, Result]) -> None:
    """With the hash: starts, verdict ok, exactly the three documented risks accepted."""
    result = container_checks["with-hash"]
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "ok"
    assert {f["id"]: f["accepted"] for f in report["findings"]} == {
        "JH101": True,
        "JH701": True,
        "JH705": True,
    }
    assert all("127.0.0.1:8888:8888" in f["reason"] for f in report["findings"])
    assert report["settings"]["PasswordIdentityProvider.hashed_password"] == "argon2 hash"


def test_docker_config_without_password_refuses(container_checks: dict[str, Result]) -> None:
    """Without JUPYTER_PASSWORD_HASH the container's server would not start."""
    result = container_checks["without-hash"]
    assert result.returncode == 2
    assert "configured to only be run with a password" in result.stderr


def test_docker_run_matches_accepted_risks() -> None:
    """The reasons given for the accepted risks are true of the guide's `docker run` line."""
    words = command("docker run -d")
    assert words[words.index("-p") + 1] == "127.0.0.1:8888:8888"
    assert words[words.index("--network") + 1] != "bridge"
    assert "JUPYTER_PASSWORD_HASH=$(cat password.hash)" in words
    assert words[-1] == command("docker build")[3]


def test_docker_password_hash_command() -> None:
    """The hash command asks twice and prints only the hash on stdout."""
    from jupyter_server.auth.security import passwd_check

    words = command("docker run --rm -i")
    assert words[words.index("--entrypoint") + 1] == "python"
    image = command("docker build")[3]
    argv = [sys.executable, *words[words.index(image) + 1 : words.index(">")]]
    assert words[words.index(">") :] == [">", "password.hash"]
    result = subprocess.run(
        argv,
        input=f"{SECRET}\n{SECRET}\n",
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # `docker run -i` without -t: no terminal, stdin is read
    )
    assert result.returncode == 0, result.stderr
    (hashed,) = result.stdout.splitlines()
    assert passwd_check(hashed, SECRET)


def test_docker_nginx_config(container_home: JupyterHome, tmp_path: Path) -> None:
    """Run inside the container, the snippet points the host's nginx at the published port."""
    nginx = require_tool("nginx", "nginx (Debian nginx-light)")
    words = before_redirect(command("docker exec jupyter"))
    live = letsencrypt_live(tmp_path / "letsencrypt", make_ca(tmp_path / "ca"))
    result = run([*jupyter(words[2:]), f"--letsencrypt-live={live}"], container_home)
    assert result.returncode == 0, result.stderr
    config = result.stdout
    assert "proxy_pass http://127.0.0.1:8888;" in config
    assert "location /jp/ {" in config
    assert "listen 8443 ssl" in config
    assert_nginx_ok(nginx_conf_including(tmp_path / "nginx", config), nginx)
