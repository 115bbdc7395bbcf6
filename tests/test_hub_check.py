"""`jupyter hardening hub-check` as a hub admin runs it: real jupyterhub_config.py files loaded
by the installed JupyterHub's own Application, every JH81x-JH82x rule triggered and kept quiet,
file:line provenance, the report schema and exit codes of `check`, SARIF per the official
schema, bad input in one line, no secret in any output, and the verdict on the config a real
JupyterHub (tests/hub_util.py) runs with.

The per-rule matrix (tests/hub_config_cases.py) goes through ``hubcheck.audit``, the function
the command runs, in this process (the CLI costs JupyterHub's import, seconds, per case); the
command's app (HubCheckApp) runs in this process too for the formats, flags and errors, and the
console script itself once per behaviour: JSON and text, each exit status, a config that fails
to load, an unknown option, no JupyterHub, the config a real hub runs.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jupyter_hardening.hubcheck import HubCheckApp, audit, hub_report
from jupyter_hardening.report import Report
from jupyter_hardening.rules import HUB_RULES, RULES

from .cli import hardening, in_process
from .hub_config_cases import (
    GOOD_SECRET,
    HUB_CASES,
    HUB_VARIABLES,
    TOKEN,
    clean_environ,
    write_case,
)
from .servers import keep_advisories_fresh

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
FINDING_KEYS = {"id", "name", "severity", "traits", "message", "fix", "accepted", "reason", "where"}


@pytest.fixture
def hub_audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a case into a fresh folder and audit it as `hub-check` does (in this process)."""

    def run(case: dict[str, Any], name: str = "case") -> Report:
        root = tmp_path / name
        config, env = write_case(case, root)
        for var in HUB_VARIABLES:
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("JUPYTER_DATA_DIR", str(root / "no-data"))
        keep_advisories_fresh(root / "no-data")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(root)  # jupyterhub's relative files (cookie secret, sqlite) live here
        return audit([f"--JupyterHub.config_file={config}"])

    return run


@pytest.fixture
def hub_check_here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`jupyter hardening hub-check ARGS` in this process (the command's HubCheckApp), in the
    environment clean_environ gives the console script, in the case's folder ``root``."""

    def run(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        for var in HUB_VARIABLES:
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("JUPYTER_DATA_DIR", str(root / "no-data"))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(root)
        status, out, err = in_process(HubCheckApp(), list(args), capsys)
        return subprocess.CompletedProcess(["hub-check", *args], status, out, err)

    return run


def _params(kind: str) -> list[Any]:
    return [
        pytest.param(rule_id, case, id=f"{rule_id}-{name}")
        for rule_id, cases in HUB_CASES.items()
        for name, case in cases[kind].items()
    ]


def ids(report: Report) -> set[str]:
    """Rule ids of a report's findings."""
    return {i.finding.id for i in report.items}


@pytest.mark.parametrize(("rule_id", "case"), _params("trigger"))
def test_hub_rule_triggers(hub_audit, rule_id: str, case: dict[str, Any]) -> None:
    """The hub config must produce a finding of this rule."""
    report = hub_audit(case)
    assert rule_id in ids(report), [i.finding for i in report.items]


@pytest.mark.parametrize(("rule_id", "case"), _params("clean"))
def test_hub_rule_stays_quiet(hub_audit, rule_id: str, case: dict[str, Any]) -> None:
    """The close hub config must not produce a finding of this rule."""
    report = hub_audit(case)
    assert rule_id not in ids(report), [i.finding for i in report.items]


def test_severities_follow_the_values(hub_audit) -> None:
    """One rule, two severities: a public OAuth provider is an error, your own IdP a warning;
    a cookie secret file others can read is an error (jupyterhub refuses it), the group a
    warning."""

    def severity(rule_id: str, name: str) -> str:
        report = hub_audit(HUB_CASES[rule_id]["trigger"][name], name)
        return next(i.finding.severity.label for i in report.items if i.finding.id == rule_id)

    assert severity("JH810", "ip-all") == "error"
    assert severity("JH810", "external-proxy-warning") == "warning"
    assert severity("JH814", "github-allow-all") == "error"
    assert severity("JH814", "generic-allow-all-warning") == "warning"
    assert severity("JH819", "cookie-secret-world-readable") == "error"
    assert severity("JH819", "cookie-secret-group-readable") == "warning"


def test_spawner_args_are_judged_by_the_server_rules(hub_audit) -> None:
    """--ServerApp.disable_check_xsrf=True in c.Spawner.args is JH205 at hub level, located at
    the c.Spawner.args line, with a fix for jupyterhub_config.py; the hub's own overrides (ip)
    and what the hub rules already say are not repeated."""
    report = hub_audit(
        {
            "config": "c.Spawner.args = ['--ServerApp.disable_check_xsrf=True', "
            "'--ServerApp.allow_origin=*', '--ServerApp.ip=0.0.0.0']\n"
            "c.Hardening.accepted_risks = {'JH301': 'demo'}"
        }
    )
    by_id = {i.finding.id: i for i in report.items}
    jh205 = by_id["JH205"]
    assert jh205.blocking and jh205.finding.traits == ("Spawner.args",)
    assert "--ServerApp.disable_check_xsrf=True" in jh205.finding.message
    assert jh205.finding.fix.startswith(
        "remove --ServerApp.disable_check_xsrf=True from c.Spawner.args"
    )
    assert "z2jh" in jh205.finding.fix
    assert (jh205.location.line, Path(jh205.location.file).name) == (2, "jupyterhub_config.py")
    assert by_id["JH301"].accepted and by_id["JH301"].reason == "demo"
    in_cmd = hub_audit(
        {"config": "c.Spawner.cmd = ['jupyterhub-singleuser', '--ServerApp.allow_origin=*']"},
        "cmd",
    )
    (jh301,) = [i for i in in_cmd.items if i.finding.id == "JH301"]
    assert jh301.finding.traits == ("Spawner.cmd",) and jh301.location.line == 2
    assert jh301.finding.fix.startswith("remove --ServerApp.allow_origin=* from c.Spawner.cmd")
    assert "JH101" not in by_id  # jupyterhub-singleuser sets ip itself


def test_provenance_names_file_and_line_and_the_class_written(hub_audit) -> None:
    """A finding points at the line that set it, under the section name the admin wrote
    (c.DummyAuthenticator.password sets an Authenticator trait)."""
    report = hub_audit(
        {
            "config": "c.JupyterHub.authenticator_class = 'dummy'\n"
            "c.JupyterHub.ip = '0.0.0.0'\n"
            "c.DummyAuthenticator.password = 'correct horse battery'\n"
        }
    )
    by_id = {i.finding.id: i for i in report.items}
    assert by_id["JH810"].location.line == 3 and by_id["JH810"].location.setting == "JupyterHub.ip"
    where = {s.setting: s for s in by_id["JH812"].where if s.origin == "file"}
    assert where["JupyterHub.authenticator_class"].line == 2
    assert where["DummyAuthenticator.password"].line == 4
    assert where["DummyAuthenticator.password"].value == "(hidden)"


def test_hub_report_is_the_json_the_command_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hub_report(config_file) (for hub-service) returns what `hub-check --format json` prints,
    and the JSON has check's schema."""
    config, env = write_case({"config": "c.JupyterHub.admin_access = True"}, tmp_path)
    environ = clean_environ(tmp_path, env)
    out = hardening(
        "hub-check", "--config", str(config), "--format", "json", env=environ, cwd=tmp_path
    )
    assert out.returncode == 1, out.stderr  # JH810: the default bind, plain http
    printed = json.loads(out.stdout)
    # hub_report here, in the environment and folder the command ran in
    for var in HUB_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    inprocess = json.loads(json.dumps(hub_report(str(config))))
    for report in (printed, inprocess):
        report.pop("computed_at")
    assert inprocess == printed
    assert {"version", "verdict", "findings", "counts", "refuse_at", "settings", "where"} == set(
        printed
    )
    assert all(set(f) == FINDING_KEYS for f in printed["findings"])
    assert printed["settings"]["JupyterHub.admin_access"] is True
    assert {"JH810", "JH815"} <= {f["id"] for f in printed["findings"]}


def test_text_report_and_exit_codes(tmp_path: Path, hub_check_here) -> None:
    """Exit 0 when nothing blocks (warnings only), 1 on an error, as `check`; the text says
    where and how to accept. (The console script for exit 0; exit 1 of the console script:
    test_hub_report_is_the_json_the_command_prints.)"""
    clean, env = write_case(
        {
            "config": "c.JupyterHub.bind_url = 'http://127.0.0.1:8000'\n"
            "c.Spawner.disable_user_config = True\n"
            "c.Hardening.accepted_risks = {'JH823': 'one team, users trust each other'}"
        },
        tmp_path / "clean",
    )
    out = hardening("hub-check", "--config", str(clean), env=clean_environ(clean.parent, env))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("jupyter_hardening ") and "OK: nothing to fix" in out.stdout
    assert "[accepted: one team, users trust each other]" in out.stdout
    bad, env = write_case({"config": "c.JupyterHub.authenticator_class = 'dummy'"}, tmp_path / "b")
    out = hub_check_here(bad.parent, env, f"--config={bad}")
    assert out.returncode == 1
    assert "REFUSE" in out.stdout and "JH812 hub-dummy-authenticator [blocks startup]" in out.stdout
    assert f"{bad}:2: ERROR   JH812" in out.stdout
    assert "c.Hardening.accepted_risks = {'JH810'" in out.stdout  # the hint, blocking ids
    # refuse_at from the hub's config moves the threshold, as for check
    never, env = write_case(
        {"config": "c.JupyterHub.authenticator_class = 'dummy'\nc.Hardening.refuse_at = 'never'"},
        tmp_path / "n",
    )
    out = hub_check_here(never.parent, env, "--config", str(never))
    assert out.returncode == 0 and "REFUSE" not in out.stdout, out.stdout


def test_jupyterhub_flags_reach_the_hub(tmp_path: Path, hub_check_here) -> None:
    """Options that are JupyterHub's (--ip, --JupyterHub.x=...) apply over the file, and the
    finding names the flag."""
    config, env = write_case({"config": "c.JupyterHub.ip = '127.0.0.1'"}, tmp_path)
    out = hub_check_here(tmp_path, env, "--config", str(config), "--format", "json", "--ip=0.0.0.0")
    assert out.returncode == 1, out.stderr
    (jh810,) = [f for f in json.loads(out.stdout)["findings"] if f["id"] == "JH810"]
    ip = [w for w in jh810["where"] if w["setting"] == "JupyterHub.ip"]
    assert [(w["origin"], w.get("key"), w["wins"]) for w in ip] == [
        ("command line", "--ip=0.0.0.0", True),
        ("file", None, False),
    ]
    assert jh810["fix"].startswith("change or remove --ip=0.0.0.0 on the command line")


def test_sarif_is_valid_and_locates_findings(tmp_path: Path, hub_check_here) -> None:
    """SARIF 2.1.0 per the official schema: the hub's and the server's rules, results at
    file:line."""
    import jsonschema

    config, env = write_case(
        {
            "config": "c.JupyterHub.spawner_class = 'simple'\nc.Spawner.args = ['--ServerApp.disable_check_xsrf=True']"
        },
        tmp_path,
    )
    out = hub_check_here(tmp_path, env, "--config", str(config), "--format", "sarif")
    assert out.returncode == 1, out.stderr
    log = json.loads(out.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    (run,) = log["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.id for r in (*HUB_RULES, *RULES)]
    results = {r["ruleId"]: r for r in run["results"]}
    located = results["JH205"]["locations"][0]["physicalLocation"]
    assert located["region"] == {"startLine": 3}
    assert results["JH205"]["ruleIndex"] == [*HUB_RULES, *RULES].index(
        next(r for r in RULES if r.id == "JH205")
    )


@pytest.mark.parametrize(
    ("config", "expect"),
    [
        ("c.JupyterHub.ip = '0.0.0.0'\nc.JupyterHub.port = = 8000\n", "jupyterhub_config.py:3"),
        ("import os\nc.JupyterHub.ip = os.environ['NOT_SET_ANYWHERE']\n", "KeyError"),
        ("c.JupyterHub.spawner_class = 'no-such-spawner'\n", "spawner_class"),
        ("c.Hardening.refuse_at = 'sometimes'\n", "c.Hardening"),
    ],
    ids=["syntax-error", "raises", "unknown-class", "bad-policy"],
)
def test_bad_config_is_one_line_exit_2(
    tmp_path: Path, hub_check_here, config: str, expect: str
) -> None:
    """A config that jupyterhub could not load: one line naming it, exit 2, no traceback (the
    console script for the syntax error, the command's app in this process for the others)."""
    path = tmp_path / "jupyterhub_config.py"
    path.write_text("c = get_config()  # noqa: F821\n" + config)
    if "port = =" in config:
        out = hardening("hub-check", "--config", str(path), env=clean_environ(tmp_path, {}))
    else:
        out = hub_check_here(tmp_path, {}, "--config", str(path))
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith("jupyter hardening hub-check: ") and expect in lines[0], lines
    assert out.stdout == ""


def test_missing_file_and_unknown_option_are_one_line(tmp_path: Path, hub_check_here) -> None:
    """--config to nowhere or to a folder (the command's app here), and an option neither
    hub-check nor JupyterHub knows (the console script)."""
    out = hub_check_here(tmp_path, {}, "--config", str(tmp_path / "nope.py"))
    assert (out.returncode, out.stderr.strip()) == (
        2,
        f"jupyter hardening hub-check: --config {tmp_path / 'nope.py'}: no such file",
    )
    out = hub_check_here(tmp_path, {}, "--config", str(tmp_path))
    assert (out.returncode, out.stderr.strip()) == (
        2,
        f"jupyter hardening hub-check: --config {tmp_path}: a folder, not a file",
    )
    out = hardening("hub-check", "--formt", "json")
    assert out.returncode == 2 and "did you mean --format" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_without_jupyterhub_one_line(tmp_path: Path) -> None:
    """Where JupyterHub is not installed (its import fails): the install line, exit 2."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "jupyterhub.py").write_text("raise ImportError('no jupyterhub here')\n")
    out = hardening("hub-check", env={"PYTHONPATH": str(blocker)})
    assert out.returncode == 2
    assert out.stderr.strip() == "hub-check needs JupyterHub: pip install 'jupyter_hardening[hub]'"


def test_no_secret_in_any_output(tmp_path: Path, hub_check_here) -> None:
    """Tokens, the cookie secret, a DummyAuthenticator password and a database password appear
    in no format: "set (N characters)" at most. (Text from the console script, JSON and SARIF
    from the command's app in this process.)"""
    password = "correct-horse-battery-staple"
    config, env = write_case(
        {
            "config": f"c.JupyterHub.services = [{{'name': 'grader', 'api_token': {TOKEN!r}}}]\n"
            f"c.JupyterHub.cookie_secret = bytes.fromhex({GOOD_SECRET!r})\n"
            f"c.JupyterHub.authenticator_class = 'dummy'\n"
            f"c.DummyAuthenticator.password = {password!r}\n"
            f"c.ConfigurableHTTPProxy.auth_token = {TOKEN[::-1]!r}\n"
            f"c.JupyterHub.db_url = 'postgresql://hub:{password}x@db/hub'\n"
            # A secret option's value as the next item, as traitlets also takes it.
            f"c.Spawner.args = ['--IdentityProvider.token={TOKEN[:40]}', "
            f"'--ServerApp.token', {TOKEN[8:48]!r}, '--GatewayClient.auth_token', "
            f"{TOKEN[2:42]!r}, '--GatewayClient.http_pwd={TOKEN[6:46]}', "
            f"'--GatewayClient.url=https://gw:{TOKEN[10:50]}@gateway.example.org/']\n"
            # A URL's user:password@, with a / in the password as parsers read it wrongly.
            f"c.JupyterHub.bind_url = 'http://hub:{TOKEN[12:30]}/{TOKEN[30:52]}@0.0.0.0:8000/'\n"
            f"c.JupyterHub.public_url = 'https://hub:{TOKEN[14:54]}@hub.example.org/'\n"
            # Under a subclass's own section name.
            "from jupyterhub.proxy import ConfigurableHTTPProxy\n"
            "class MyProxy(ConfigurableHTTPProxy): pass\n"
            "c.JupyterHub.proxy_class = MyProxy\n"
            f"c.MyProxy.auth_token = {TOKEN[4:44]!r}\n"
        },
        tmp_path,
    )
    outputs = [
        hardening(
            "hub-check",
            "--config",
            str(config),
            "--format",
            "text",
            env=clean_environ(tmp_path, env),
        ).stdout,
        *(
            hub_check_here(tmp_path, env, "--config", str(config), "--format", fmt).stdout
            for fmt in ("json", "sarif")
        ),
    ]
    assert all(outputs)
    for text in outputs:
        for secret in (
            TOKEN,
            TOKEN[::-1],
            TOKEN[:40],
            TOKEN[8:48],
            TOKEN[4:44],
            TOKEN[2:42],
            TOKEN[6:46],
            TOKEN[10:50],
            TOKEN[12:30],
            TOKEN[30:52],
            TOKEN[14:54],
            GOOD_SECRET,
            password,
        ):
            assert secret not in text, secret
    assert "(set, 64 characters)" in outputs[0]


def test_a_config_that_calls_exit_is_named(tmp_path: Path, hub_check_here) -> None:
    """raise SystemExit in jupyterhub_config.py: one line naming the file and line, exit 2."""
    path = tmp_path / "jupyterhub_config.py"
    path.write_text("c.JupyterHub.ip = '127.0.0.1'\nraise SystemExit(3)\n")
    out = hub_check_here(tmp_path, {}, "--config", str(path))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert f"{path}:2 fails to load (SystemExit: the file calls exit())" in out.stderr, out.stderr


@pytest.mark.parametrize(
    "config",
    [
        f"c.JupyterHub.api_tokens = [{TOKEN!r}]\n",
        f"c.JupyterHub.services = {{'name': 'grader', 'api_token': {TOKEN!r}}}\n",
        f"c.Spawner.environment = ['GRADER_TOKEN={TOKEN}']\n",
    ],
    ids=["api-tokens-as-list", "services-as-dict", "environment-as-list"],
)
def test_a_rejected_value_is_not_repeated(tmp_path: Path, hub_check_here, config: str) -> None:
    """traitlets' refusal of a wrong-typed value repeats it; hub-check's one line does not,
    whatever the setting (a list of API tokens, a service, an environment)."""
    path = tmp_path / "jupyterhub_config.py"
    path.write_text(config)
    out = hub_check_here(tmp_path, {}, "--config", str(path))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "(value not shown)" in out.stderr and TOKEN not in out.stdout + out.stderr, out.stderr


@pytest.mark.timeout(600)
def test_verdict_on_the_config_a_real_hub_runs() -> None:
    """A real JupyterHub (DummyAuthenticator, SimpleLocalProcessSpawner, a service token in the
    file: tests/hub_util.py) starts with its config; hub-check on that very file and folder
    names what the running hub does: DummyAuthenticator, one Unix user for all, the written
    service token and the sqlite database the hub wrote with the process umask. And the
    /proc claim of JH821: another process of the hub's Unix user reads a user server's
    JUPYTERHUB_API_TOKEN from /proc/PID/environ."""
    import shutil

    from .hub_util import CACHE, build_venv, chp_command, python_ok, run_as, scratch, start_hub
    from .test_jupyterhub import _need  # fails instead of skipping in CI

    _need(python_ok(), "Debian's /usr/bin/python3 is needed to build the hub's venv")
    CACHE.mkdir(parents=True, exist_ok=True)
    CACHE.chmod(0o755)
    venv = build_venv()
    chp = chp_command()
    _need(chp, "configurable-http-proxy is missing and npm/node cannot install it")
    assert chp is not None
    root = scratch("hubcheck-")
    hub = start_hub(root, venv, chp, {"alice": {}})
    try:
        status, _, model = hub.spawn("alice")
        assert status < 400 and model["servers"][""]["ready"], hub.log[-3000:]
        out = hardening(
            "hub-check",
            "--config",
            str(root / "jupyterhub_config.py"),
            "--format",
            "json",
            env=clean_environ(root, {}),
            cwd=root,
        )
        assert out.returncode == 1, out.stderr
        report = json.loads(out.stdout)
        found = {f["id"]: f for f in report["findings"]}
        assert {"JH812", "JH818", "JH821"} <= set(found), sorted(found)
        assert "JH810" not in found  # c.JupyterHub.ip = '127.0.0.1'
        assert found["JH818"]["where"][0]["line"] >= 1
        assert hub.token not in out.stdout
        db = root / "jupyterhub.sqlite"
        if db.stat().st_mode & 0o044:
            assert "JH819" in found and str(db) in found["JH819"]["message"]
        # JH821: the server's token, read by another process of the same Unix user.
        pid = _server_pid("alice")
        proc = subprocess.run(
            ["cat", f"/proc/{pid}/environ"], capture_output=True, timeout=10, **run_as()
        )
        assert proc.returncode == 0
        environ = dict(
            item.split("=", 1) for item in proc.stdout.decode().split("\0") if "=" in item
        )
        assert environ["JUPYTERHUB_USER"] == "alice" and len(environ["JUPYTERHUB_API_TOKEN"]) >= 32
    finally:
        hub.stop()
        shutil.rmtree(root, ignore_errors=True)


def _server_pid(user: str) -> int:
    """The pid of ``user``'s jupyterhub-singleuser (read as root, to find it)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"jupyterhub-singleuser" in cmdline and f"JUPYTERHUB_USER={user}\0".encode() in environ:
            return int(entry.name)
    raise AssertionError(f"no jupyterhub-singleuser of {user} found")


def test_environment_secret_is_named_not_shown(hub_audit) -> None:
    """A weak $JPY_COOKIE_SECRET: the finding names the variable, never its value."""
    report = hub_audit(HUB_CASES["JH817"]["trigger"]["short-env"])
    (item,) = [i for i in report.items if i.finding.id == "JH817"]
    assert "$JPY_COOKIE_SECRET" in item.finding.message
    assert "abcdef01" not in json.dumps(report.to_json())
    assert os.environ.get("JPY_COOKIE_SECRET") == "abcdef01"


def test_the_fleet_service_reads_the_real_hub_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hub-service's hub section calls the real hub_report (not a stand-in): the verdict and
    the ids it shows are hub-check's."""
    from jupyter_hardening.fleet import hub_check_section

    config, env = write_case({"config": "c.JupyterHub.authenticator_class = 'dummy'"}, tmp_path)
    for key, value in clean_environ(tmp_path, env).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    section = hub_check_section(str(config))
    assert section.problem == "" and section.summary is not None
    assert section.summary.verdict == "refuse"
    assert hub_report(str(config))["verdict"] == "refuse"
