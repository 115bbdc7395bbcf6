"""`check` as a CI gate (issue 12): strict options, provenance, SARIF, pre-commit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import cli
from .forked import Result, Run, run_all
from .servers import JupyterHome, running

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
ROOT = Path(__file__).parent.parent


def hardening(
    home: JupyterHome, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `jupyter hardening ARGS` in ``home``."""
    return cli.hardening(*args, home=home, env=env)


def one_line_exit_2(out: Result | subprocess.CompletedProcess[str], needle: str) -> None:
    """Exit 2, one line on stderr containing ``needle``, no traceback, nothing on stdout."""
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert needle in out.stderr and "Traceback" not in out.stderr, out.stderr


WRONG_OPTIONS = [
    (["check", "--ServerApp.ipp=0.0.0.0"], "did you mean --ServerApp.ip?"),
    (["check", "--formt", "json"], "did you mean --format?"),
    (["check", "--ipp=0.0.0.0"], "did you mean --ip?"),
    (["check", "--ServerAp.ip=0.0.0.0"], "did you mean --ServerApp.ip?"),
    (["check", "--LabApp.setings={}"], "did you mean --LabApp.settings?"),
    (["check", "--config", "/nonexistent/jupyter_server_config.py"], "no such file"),
    (["check", "--format", "xml"], "--format must be one of text, json, sarif"),
    (["check", "--ServerApp.port=abc"], "expected an int"),
    (["systemd-unit", "--comand", "server"], "did you mean --command?"),
    (["systemd-unit", "--SystemdUnitApp.usr=jupyter"], "did you mean --SystemdUnitApp.user?"),
    (["nginx-snippet", "--listen-port", "8443"], "did you mean --listen?"),
    # advisories printed argparse's usage block, or warned and exited 0 (found in review)
    (["advisories", "--bogus"], "unknown option --bogus"),
    (["advisories", "--updat=all.zip"], "did you mean --update?"),
    (["advisories", "--update"], "--update needs a value"),
    (["advisories", "--AdvisoriesApp.bogus=S3CR3T"], "AdvisoriesApp has no setting 'bogus'"),
    (["--nope"], "unknown option --nope"),
    (["chek"], "did you mean check?"),
]
SECRET_TYPOS = [
    ["check", "--PasswordIdentityProvider.hashed-password=S3cretHash"],
    ["check", "--IdentityProvider.tokn=S3cretHash"],
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Result]:
    """The runs of the cases below but the first of each test, in one batch (tests/forked.py:
    a fresh forked process per run, each in its own Jupyter home); the first case of each test
    runs the console script."""
    cases = [args for args, _ in WRONG_OPTIONS[1:]] + SECRET_TYPOS[1:]
    homes = [JupyterHome(tmp_path_factory.mktemp("batch") / "jhome") for _ in cases]
    results = run_all([Run(args, home) for args, home in zip(cases, homes, strict=True)])
    return {tuple(args): result for args, result in zip(cases, results, strict=True)}


def run_case(
    request: pytest.FixtureRequest, home: JupyterHome, args: list[str], first: list[str]
) -> Result | subprocess.CompletedProcess[str]:
    """The console script for the first case of a test, else the batch's run."""
    if args == first:
        return hardening(home, *args)
    batched: dict[tuple[str, ...], Result] = request.getfixturevalue("batch")
    return batched[tuple(args)]


@pytest.mark.parametrize(
    ("args", "needle"), WRONG_OPTIONS, ids=lambda v: " ".join(v) if isinstance(v, list) else None
)
def test_unknown_and_wrong_options_are_one_line(
    request: pytest.FixtureRequest, home: JupyterHome, args: list[str], needle: str
) -> None:
    """Any option no class knows, a missing --config, a wrong type: one line, exit 2."""
    one_line_exit_2(run_case(request, home, args, WRONG_OPTIONS[0][0]), needle)


def test_traitlets_warning_is_not_repeated(home: JupyterHome) -> None:
    """traitlets warned once per configurable (eight lines) and check said OK: now one line."""
    out = hardening(home, "check", "--ServerApp.ipp=0.0.0.0")
    assert "not recognized" not in out.stderr and out.stdout == ""


@pytest.mark.parametrize("args", SECRET_TYPOS)
def test_typo_in_a_secret_option_does_not_echo_it(
    request: pytest.FixtureRequest, home: JupyterHome, args: list[str]
) -> None:
    """The option is named, its value never."""
    out = run_case(request, home, args, SECRET_TYPOS[0])
    one_line_exit_2(out, "unknown option")
    assert "S3cretHash" not in out.stdout + out.stderr


def test_typo_in_a_config_file_names_file_and_line(home: JupyterHome) -> None:
    """c.ServerApp.ipp in a file: file:line and a did-you-mean, exit 2."""
    path = home.write_config("c = get_config()\n\nc.ServerApp.ipp = '0.0.0.0'\n")
    one_line_exit_2(hardening(home, "check"), f"{path}:3: ServerApp has no setting 'ipp'")


def test_legacy_file_whose_settings_are_dropped(home: JupyterHome) -> None:
    """A wrong-typed legacy token makes notebook fail to link: a finding naming the file and the
    settings lost, the token never shown, no traceback."""
    path = home.write_config(
        "c.NotebookApp.token = ['S3CRET-token-value']\nc.NotebookApp.ip = '*'\n",
        "jupyter_notebook_config.py",
    )
    out = hardening(home, "check", "--format", "json")
    assert "S3CRET" not in out.stdout + out.stderr and "Traceback" not in out.stderr
    assert out.returncode == 1, out.stderr
    (finding,) = [f for f in json.loads(out.stdout)["findings"] if f["id"] == "JH005"]
    assert f"{path} (NotebookApp.token, NotebookApp.ip)" in finding["message"]
    assert "'notebook' failed to link" in finding["message"]


def test_missing_extension_is_a_finding(home: JupyterHome) -> None:
    """{'voila': True} without voila: one finding naming where it was enabled, no traceback."""
    path = home.write_config("c.ServerApp.jpserver_extensions = {'voila_not_installed': True}\n")
    out = hardening(home, "check")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip() == "", out.stderr
    assert "JH004 extension-missing" in out.stdout
    assert f"enabled in {path}:1, cannot be imported" in out.stdout


def test_missing_extension_is_found_by_the_served_server_too(home: JupyterHome) -> None:
    """The running server reports the same finding on /hardening."""
    import requests

    home.write_config(
        "c.ServerApp.jpserver_extensions = {'voila_not_installed': True}\n"
        "c.IdentityProvider.token = 'a8f3c2e1d4b5a6978812345678abcdef0123456789abcdef'\n"
    )
    with running(home) as server:
        token = "a8f3c2e1d4b5a6978812345678abcdef0123456789abcdef"
        report = requests.get(
            server.url("hardening"),
            headers={"Authorization": f"token {token}", "Accept": "application/json"},
            timeout=10,
        ).json()
    assert "JH004" in {f["id"] for f in report["findings"]}


def help_examples() -> list[tuple[str, str]]:
    """(subcommand, example line) for every example in every subcommand's --help text."""
    from traitlets.utils.importstring import import_item

    from jupyter_hardening.cli import HardeningApp

    found = []
    apps = [HardeningApp] + [import_item(str(s[0])) for s in HardeningApp.subcommands.values()]
    for app in apps:
        text = str(app.examples).replace("\\\n", " ")
        for line in text.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("jupyter hardening"):
                found.append((app.__name__, line))
    return found


def service_user() -> str:
    """An account of this machine that systemd-unit accepts (not root, with a home)."""
    from .test_systemd import accepted_user

    entry = accepted_user()
    if entry is None:
        raise AssertionError("no unprivileged account with a home folder on this machine")
    return entry.pw_name


def prepare_example(example: str, home: JupyterHome, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """The example's command with paths outside the test's folders moved, its files in place,
    and its environment: (command, environment)."""
    from .certs import make_cert, new_key, write_cert, write_key

    command = example
    live = tmp_path / "live" / "jupyter.example.com"
    live.mkdir(parents=True)
    (tmp_path / "work").mkdir()
    for folder in (tmp_path, live):
        private = new_key()
        write_key(folder / "privkey.pem", private)
        write_cert(folder / "fullchain.pem", make_cert(private, "jupyter.example.com"))
    replacements = {
        "/etc/systemd/system/jupyter.service": str(tmp_path / "jupyter.service"),
        "/etc/jupyterhub/jupyterhub_config.py": str(tmp_path / "jupyterhub_config.py"),
        "/etc/nginx/conf.d/jupyter.conf": str(tmp_path / "jupyter.conf"),
        "/etc/caddy/jupyter.caddy": str(tmp_path / "jupyter.caddy"),
        "/etc/apache2/sites-available/jupyter.conf": str(tmp_path / "apache.conf"),
        "/etc/ssl/jupyter/": f"{tmp_path}/",
        "/srv/jupyter/work": str(tmp_path / "work"),
        "--user jupyter": f"--user {service_user()}",
        "--letsencrypt ": f"--letsencrypt-live {tmp_path / 'live'} --letsencrypt ",
    }
    for old, new in replacements.items():
        command = command.replace(old, new)
    (tmp_path / "jupyterhub_config.py").write_text(
        "c.JupyterHub.bind_url = 'http://127.0.0.1:8000'\n"
    )
    for path in ("etc/jupyter_server_config.py", "etc/jupyter_notebook_config.json"):
        target = home.work_dir / path
        target.parent.mkdir(exist_ok=True)
        target.write_text("{}\n" if path.endswith(".json") else "c.ServerApp.port = 8888\n")
    if " advisories --update all.zip" in command:
        # the example before it downloads osv.dev's export; an export of the shipped records
        # stands in for it (no network here)
        import datetime as dt

        from .test_advisories import osv_zip

        osv_zip(home.work_dir / "all.zip", dt.date.today())
    env = home.env()
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return command, env


def needs_server(example: str) -> bool:
    """A snippet of the running server's (not of an --upstream)."""
    return "-snippet" in example and "--upstream" not in example


def run_example(
    command: str, env: dict[str, str], home: JupyterHome
) -> subprocess.CompletedProcess[str]:
    """The command through a shell, in the home's work folder."""
    return subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        env=env,
        cwd=home.work_dir,
        timeout=120,
    )


def _example_key(example: str) -> str:
    return " ".join(example.split())  # the same command, whichever --help text shows it


@pytest.fixture(scope="module")
def example_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every example that needs no server, each in its own folders, two at a time; an example
    shown by two --help texts (`check` by jupyter hardening's and by check's) runs once."""
    from concurrent.futures import ThreadPoolExecutor

    prepared: dict[str, tuple[str, dict[str, str], JupyterHome]] = {}
    for _, example in help_examples():
        if needs_server(example) or _example_key(example) in prepared:
            continue
        folder = tmp_path_factory.mktemp("example")
        home = JupyterHome(folder / "jhome")
        prepared[_example_key(example)] = (*prepare_example(example, home, folder), home)
    with ThreadPoolExecutor(2) as pool:
        futures = {key: pool.submit(run_example, *args) for key, args in prepared.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.fixture(scope="module")
def server_example_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[str, subprocess.CompletedProcess[str]]]]:
    """Every example that needs a server, against one real server started once for all of
    them: the snippet commands only read its runtime file (and, with --check, run the proxy's
    own config test), so none changes the server or what the next one sees. Each example has
    its own folder for the files it writes; two run at a time. (command, result) by example."""
    from concurrent.futures import ThreadPoolExecutor

    from .servers import free_port

    home = JupyterHome(tmp_path_factory.mktemp("server-examples") / "jhome")
    port = free_port()
    prepared: dict[str, tuple[str, dict[str, str]]] = {}
    for _, example in help_examples():
        if not needs_server(example) or _example_key(example) in prepared:
            continue
        command, env = prepare_example(example, home, tmp_path_factory.mktemp("example"))
        prepared[_example_key(example)] = (command.replace("--port 8888", f"--port {port}"), env)
    with running(home, port=port), ThreadPoolExecutor(2) as pool:
        futures = {
            key: (command, pool.submit(run_example, command, env, home))
            for key, (command, env) in prepared.items()
        }
        yield {key: (command, future.result()) for key, (command, future) in futures.items()}


@pytest.mark.parametrize(("app", "example"), help_examples(), ids=lambda v: v)
def test_every_help_example_runs_as_written(
    request: pytest.FixtureRequest, app: str, example: str
) -> None:
    """Each example, through a shell (redirections included), in an isolated home, with a
    server running where it needs one; only paths outside the test's folders are moved. (The
    examples run side by side beforehand: example_runs without a server, server_example_runs
    with one shared server.)"""
    if not needs_server(example):
        out = request.getfixturevalue("example_runs")[_example_key(example)]
        command = example
    else:
        command, out = request.getfixturevalue("server_example_runs")[_example_key(example)]
    assert out.returncode in (0, 1), (command, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and "unknown option" not in out.stderr, out.stderr


def where_of(report: dict[str, object], rule_id: str) -> list[dict[str, object]]:
    """The ``where`` list of the first finding of ``rule_id``."""
    for finding in report["findings"]:  # type: ignore[union-attr]
        if finding["id"] == rule_id:
            return finding["where"]  # type: ignore[no-any-return]
    raise AssertionError(f"no {rule_id} in {report}")


def json_report(home: JupyterHome, *args: str, **kw: object) -> dict[str, object]:
    """`check --format json ARGS` (exit 0 or 1)."""
    out = hardening(home, "check", "--format", "json", *args, **kw)  # type: ignore[arg-type]
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def batched(home: JupyterHome, *runs: tuple[list[str], dict[str, str]]) -> list[Result]:
    """A test's several `jupyter hardening` runs (arguments, extra environment) in ``home``, in
    one batch (tests/forked.py: a fresh forked process each)."""
    return run_all([Run(args, home, env) for args, env in runs])


def report_in(out: Result) -> dict[str, object]:
    """The JSON report of a `check --format json` run (exit 0 or 1)."""
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_password_fixes_work_as_they_read(home: JupyterHome) -> None:
    """JH203's fix applied as it reads: with the old line still there, the hash that `jupyter
    server password` stores is overridden; removed first, the new one is used and nothing is
    left. JH204's fix names the current setting, not the deprecated one written."""
    from jupyter_server.auth.security import set_password  # what `jupyter server password` runs

    sha1 = "sha1:67c9e60bb8b6:9ffede0825894254b2e042ea597d771089e11aed"
    config = home.write_config(f"c.NotebookApp.password = {sha1!r}\n")
    [before] = batched(home, (["check", "--format", "json"], {}))
    fixes = {f["id"]: f["fix"] for f in report_in(before)["findings"]}  # type: ignore[attr-defined]
    assert fixes["JH203"].startswith("remove c.NotebookApp.password where it is set, then run")
    assert fixes["JH204"] == "rename it to c.PasswordIdentityProvider.hashed_password"

    set_password("a new password", config_file=str(home.config_dir / "jupyter_server_config.json"))
    [kept_line] = batched(home, (["check", "--format", "json"], {}))
    # The line still wins (a subclass's setting, fed by the deprecated name), and is named so:
    # not the json file jupyter_server loads after it.
    winner, overridden = where_of(report_in(kept_line), "JH203")
    assert (winner["file"], winner["line"], winner["wins"]) == (str(config), 1, True)
    assert overridden["file"].endswith("jupyter_server_config.json") and not overridden["wins"]
    home.write_config("")
    [after] = batched(home, (["check", "--format", "json"], {}))
    assert report_in(after)["findings"] == []


def test_provenance_of_a_legacy_py_line_and_the_name_as_written(home: JupyterHome) -> None:
    """c.NotebookApp.ip = '*' at line 3: the finding says so, in the user's words, file:line."""
    path = home.write_config(
        "c = get_config()\n# remote access\nc.NotebookApp.ip = '*'\n", "jupyter_notebook_config.py"
    )
    as_json, as_text = batched(home, (["check", "--format", "json"], {}), (["check"], {}))
    report = report_in(as_json)
    first = where_of(report, "JH101")[0]
    assert first == {
        "setting": "NotebookApp.ip",
        "value": "'*'",
        "origin": "file",
        "file": str(path),
        "line": 3,
        "wins": True,
    }
    (finding,) = [f for f in report["findings"] if f["id"] == "JH101"]  # type: ignore[union-attr]
    assert finding["message"].startswith("NotebookApp.ip = '*' ")
    assert finding["fix"].startswith("c.NotebookApp.ip = '127.0.0.1'")
    text = as_text.stdout
    assert f"\n{path}:3: ERROR   JH101 remote-without-tls" in text


def test_provenance_value_set_twice_and_from_the_environment(home: JupyterHome) -> None:
    """The same setting in two files: the winner first, the other listed as overridden; a value
    computed from os.environ says which variable."""
    low = home.write_config("c.ServerApp.ip = '0.0.0.0'\n", "jupyter_config.py")
    high = home.write_config(
        "import os\nc.ServerApp.ip = os.environ.get('BIND_ADDR', '127.0.0.1')\n"
    )
    env = {"BIND_ADDR": "0.0.0.0"}
    as_json, as_text = batched(home, (["check", "--format", "json"], env), (["check"], env))
    report = report_in(as_json)
    winner, other = where_of(report, "JH101")[:2]
    assert (winner["file"], winner["line"], winner["wins"]) == (str(high), 2, True)
    assert winner["from_environment"] == ["BIND_ADDR"]
    assert (other["file"], other["line"], other["wins"]) == (str(low), 1, False)
    text = as_text.stdout
    assert f"{high}:2 (from $BIND_ADDR): ERROR   JH101" in text
    assert f"also set at: {low}:1 (overridden)" in text


def test_provenance_json_and_d_folder(home: JupyterHome) -> None:
    """A .json file gives file and key; an extension enabled in a .d folder names that file."""
    path = home.write_config(
        json.dumps({"ServerApp": {"ip": "0.0.0.0"}}), "jupyter_server_config.json"
    )
    d = home.config_dir / "jupyter_server_config.d"
    d.mkdir()
    (d / "ghost.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"ghost_extension_xyz": True}}})
    )
    report = json_report(home)
    assert where_of(report, "JH101")[0] == {
        "setting": "ServerApp.ip",
        "value": '"0.0.0.0"',
        "origin": "json",
        "file": str(path),
        "key": "ServerApp.ip",
        "wins": True,
    }
    (missing,) = [f for f in report["findings"] if f["id"] == "JH004"]  # type: ignore[union-attr]
    assert f"enabled in {d / 'ghost.json'}" in missing["message"]


def test_provenance_flag_environment_default(home: JupyterHome, tmp_path: Path) -> None:
    """A flag as typed (its fix says to change it), an environment variable, a default."""
    token_file = tmp_path / "token"
    token_file.write_text("a8f3c2e1d4b5a6978812345678abcdef0123456789abcdef")
    json_args = ["check", "--format", "json"]
    flagged, from_file, from_env = map(
        report_in,
        batched(
            home,
            ([*json_args, "--ip=0.0.0.0"], {"JUPYTER_PORT": "9999"}),
            (json_args, {"JUPYTER_TOKEN_FILE": str(token_file)}),
            (json_args, {"JUPYTER_TOKEN": "S3CRET-token-from-env-0123456789abcdef"}),
        ),
    )
    report = flagged
    flag, default = where_of(report, "JH101")
    assert flag == {
        "setting": "ServerApp.ip",
        "value": "0.0.0.0",
        "origin": "command line",
        "key": "--ip=0.0.0.0",
        "wins": True,
    }
    assert default == {
        "setting": "ServerApp.certfile",
        "value": "",
        "origin": "default",
        "wins": True,
    }
    (finding,) = [f for f in report["findings"] if f["id"] == "JH101"]  # type: ignore[union-attr]
    assert finding["fix"].startswith("change or remove --ip=0.0.0.0 on the command line")
    port = report["where"]["ServerApp.port"][0]  # type: ignore[index]
    assert port == {
        "setting": "ServerApp.port",
        "value": "9999",
        "origin": "environment",
        "key": "JUPYTER_PORT",
        "wins": True,
    }
    report = from_file
    token = report["where"]["IdentityProvider.token"][0]  # type: ignore[index]
    assert (token["origin"], token["key"]) == ("environment", "JUPYTER_TOKEN_FILE")
    report = from_env
    assert "S3CRET" not in json.dumps(report)
    token = report["where"]["IdentityProvider.token"][0]  # type: ignore[index]
    assert token == {
        "setting": "IdentityProvider.token",
        "value": "(hidden)",
        "origin": "environment",
        "key": "JUPYTER_TOKEN",
        "wins": True,
    }


def test_provenance_hides_a_secret_inside_a_dict_setting(home: JupyterHome, tmp_path: Path) -> None:
    """A cookie secret inside c.ServerApp.tornado_settings (a .py file, a .json file, the
    command line) is shown as (hidden) wherever the setting is: the CSP next to it is shown."""
    csp = {"Content-Security-Policy": "frame-ancestors *"}
    settings = {"cookie_secret": "SEKRET-COOKIE-0123456789abcdef", "headers": csp}
    home.write_config(f"c.ServerApp.tornado_settings = {settings!r}\n")
    as_json = JupyterHome(tmp_path / "json")
    as_json.write_config(
        json.dumps({"ServerApp": {"tornado_settings": settings}}), "jupyter_server_config.json"
    )
    flag = JupyterHome(tmp_path / "flag")
    runs = [
        Run(["check", *form], h, {})
        for h, extra in (
            (home, []),
            (as_json, []),
            (flag, [f"--ServerApp.tornado_settings={json.dumps(settings)}"]),
        )
        for form in (["--format", "json", *extra], ["--format", "sarif", *extra], extra)
    ]
    results = run_all(runs)
    for out in results:
        assert out.returncode == 1, out.stderr
        assert "SEKRET" not in out.stdout + out.stderr, out.stdout
        assert "JH602" in out.stdout, out.stdout
    assert "--ServerApp.tornado_settings={'cookie_secret': '(hidden)'" in results[-1].stdout
    for out in results[::3]:  # the JSON reports
        (where,) = where_of(report_in(out), "JH602")
        assert "'cookie_secret': '(hidden)'" in str(where["value"]) + str(where.get("key", ""))


def test_provenance_tornado_settings_and_lab_settings(home: JupyterHome) -> None:
    """A key of c.ServerApp.tornado_settings or c.LabApp.settings: that dict, at its line."""
    path = home.write_config(
        "c.ServerApp.ip = '127.0.0.1'\n"
        "c.ServerApp.tornado_settings = {'disable_check_xsrf': True}\n"
        "c.LabApp.settings = {'allow_origin_pat': '.*'}\n"
    )
    report = json_report(home)
    xsrf = where_of(report, "JH205")[0]
    assert xsrf["origin"] == "tornado_settings"
    assert (xsrf["key"], xsrf["file"], xsrf["line"]) == (
        "ServerApp.tornado_settings['disable_check_xsrf']",
        str(path),
        2,
    )
    origin = next(s for s in where_of(report, "JH301") if s["origin"] != "default")
    assert (origin["origin"], origin["line"]) == ("extension settings", 3)
    assert origin["key"] == "LabApp.settings['allow_origin_pat']"


def sarif_of(home: JupyterHome, *args: str) -> tuple[int, dict[str, object]]:
    """Exit status and the SARIF log of `check --format sarif`, validated against the schema."""
    import jsonschema

    out = hardening(home, "check", "--format", "sarif", *args)
    assert out.returncode in (0, 1), out.stderr
    log = json.loads(out.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    return out.returncode, log


def test_sarif_is_valid_and_locates_findings(home: JupyterHome) -> None:
    """SARIF 2.1.0 per the official schema: every rule, results at file:line or at the flag."""
    from jupyter_hardening.rules import RULES

    path = home.write_config("c = get_config()\nc.ServerApp.allow_origin = '*'\n")
    code, log = sarif_of(home, "--ip=0.0.0.0")
    assert code == 1  # the same exit status as the other formats
    (run,) = log["runs"]  # type: ignore[index]
    driver = run["tool"]["driver"]
    assert driver["name"] == "jupyter_hardening" and driver["version"]
    assert [r["id"] for r in driver["rules"]] == [r.id for r in RULES]
    jh101 = driver["rules"][[r.id for r in RULES].index("JH101")]
    assert jh101["helpUri"].endswith("docs/rules.md#jh101")
    assert jh101["defaultConfiguration"] == {"level": "error"}
    assert jh101["shortDescription"]["text"] and jh101["fullDescription"]["text"]
    results = {r["ruleId"]: r for r in run["results"]}
    origin = results["JH301"]["locations"][0]["physicalLocation"]
    assert origin["artifactLocation"]["uri"] == path.as_uri()
    assert origin["region"] == {"startLine": 2}
    flag = results["JH101"]["locations"][0]["logicalLocations"][0]
    assert (flag["name"], flag["kind"]) == ("--ip=0.0.0.0", "parameter")
    assert results["JH101"]["level"] == "error" and results["JH101"]["properties"]["fix"]


def test_sarif_list_rules_and_clean_run_are_valid(home: JupyterHome) -> None:
    """No findings: a valid log with the rules and no results, exit 0."""
    code, log = sarif_of(home)
    assert code == 0 and log["runs"][0]["results"] == []  # type: ignore[index]


def test_files_as_arguments_are_judged_alone(home: JupyterHome) -> None:
    """check FILE...: each file alone, relative SARIF locations, worst exit status."""
    bad = home.work_dir / "deploy" / "jupyter_server_config.py"
    bad.parent.mkdir()
    bad.write_text("c.ServerApp.ip = '0.0.0.0'\n")
    good = home.work_dir / "deploy" / "jupyter_notebook_config.json"
    good.write_text(json.dumps({"ServerApp": {"ip": "127.0.0.1"}}))
    home.write_config("c.ServerApp.ip = '0.0.0.0'\n")  # this machine's config: not judged
    alone, out = batched(
        home,
        (["check", str(good)], {}),
        (["check", "--format", "sarif", "deploy/jupyter_server_config.py", str(good)], {}),
    )
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert out.returncode == 1, out.stderr
    import jsonschema

    log = json.loads(out.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    first = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"] == {
        "uri": "deploy/jupyter_server_config.py",
        "uriBaseId": "SRCROOT",
    }
    assert log["runs"][1]["results"] == []


def test_a_file_that_disables_the_extension_is_jh003(home: JupyterHome) -> None:
    """check FILE takes the extension as installed (enabled), as jupyter_server does: unless the
    file names it, so a file that switches it off gets JH003; one naming others does not."""
    off = home.work_dir / "off" / "jupyter_server_config.py"
    off.parent.mkdir()
    off.write_text("c.ServerApp.jpserver_extensions = {'jupyter_hardening': False}\n")
    others = home.work_dir / "others" / "jupyter_server_config.py"
    others.parent.mkdir()
    others.write_text("c.ServerApp.jpserver_extensions = {'jupyterlab': True}\n")
    disabled, enabled = batched(
        home,
        (["check", "--format", "json", str(off)], {}),
        (["check", "--format", "json", str(others)], {}),
    )
    assert disabled.returncode == 0, disabled.stderr  # a warning: the server would start
    [report] = json.loads(disabled.stdout)
    [finding] = report["findings"]
    assert finding["id"] == "JH003"
    assert (finding["where"][0]["file"], finding["where"][0]["line"]) == (str(off), 1)
    assert enabled.returncode == 0 and json.loads(enabled.stdout)[0]["findings"] == []


def test_pre_commit_hook_fails_a_bad_config_and_passes_a_good_one(
    home: JupyterHome, tmp_path: Path
) -> None:
    """pre-commit (from PyPI) runs the hook of this repository on a repository of configs."""
    pre_commit = Path(sys.executable).with_name("pre-commit")
    assert pre_commit.exists(), "pip install -e '.[test]' installs pre-commit"
    hook_repo = tmp_path / "hook-repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(hook_repo)], check=True)
    # The working tree as it is (the test may run before a commit): copy it over the clone.
    for name in ("jupyter_hardening", "pyproject.toml", ".pre-commit-hooks.yaml"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(
                src,
                hook_repo / name,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        else:
            shutil.copy(src, hook_repo / name)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(
        [*git, "-C", str(hook_repo), "commit", "-qam", "test", "--allow-empty"], check=True
    )
    rev = subprocess.run(
        ["git", "-C", str(hook_repo), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    repo = tmp_path / "configs"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hook_repo}\n  rev: {rev}\n  hooks:\n  - id: jupyter-hardening-check\n"
    )
    (repo / "jupyter_server_config.py").write_text("c.ServerApp.ip = '127.0.0.1'\n")
    env = home.env(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-cache"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    good = subprocess.run(
        [str(pre_commit), "run", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    (repo / "jupyter_server_config.py").write_text("c.ServerApp.ip = '0.0.0.0'\n")
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    bad = subprocess.run(
        [str(pre_commit), "run", "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "JH101 remote-without-tls" in bad.stdout and "jupyter_server_config.py:1" in bad.stdout


def test_a_flag_under_systemd_is_fixed_in_the_unit(home: JupyterHome) -> None:
    """systemd sets INVOCATION_ID for a unit's processes: the fix for a flag then names the
    unit's ExecStart=, where the flag is written, not a command line nobody types."""
    report = json_report(home, "--ip=0.0.0.0", env={"INVOCATION_ID": "0123456789abcdef"})
    (finding,) = [f for f in report["findings"] if f["id"] == "JH101"]  # type: ignore[union-attr]
    assert finding["fix"].startswith(
        "change or remove --ip=0.0.0.0 on the command line (ExecStart= or Environment= in the "
        "systemd unit that runs this server)"
    ), finding["fix"]
