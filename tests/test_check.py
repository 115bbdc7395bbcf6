"""`jupyter hardening check` as a user runs it, and the seeds' recipes through it.

The console script itself runs for the default, the text report, the errors of the process and
the first case of each parametrized test; the other cases run in one batch (tests/forked.py):
one Python imports the server application once and forks a fresh process per case, which calls
check's ``main`` in the case's own folders and environment (seconds of imports per case saved).
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .cli import hardening
from .forked import Result, Run, run_all
from .servers import JupyterHome, jupyter_bin

SEEDS = sorted((Path(__file__).parent / "seeds").glob("*.txt"))


def check(
    home: JupyterHome, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `jupyter hardening check` in ``home``."""
    return hardening("check", *args, home=home, env=env)


def ids(report: dict[str, object]) -> set[str]:
    """Rule ids in a report."""
    return {f["id"] for f in report["findings"]}  # type: ignore[index, union-attr]


@dataclass(frozen=True)
class Setup:
    """A check run: its arguments, the config file written first, extra environment."""

    args: tuple[str, ...]
    config: str = ""
    config_name: str = "jupyter_server_config.py"
    env: tuple[tuple[str, str], ...] = ()


def test_default_is_ok(home: JupyterHome) -> None:
    """Exit 0 and an empty report for a default server."""
    out = check(home)
    assert out.returncode == 0, out.stderr
    assert (
        out.stdout.startswith("jupyter_hardening ") and "OK: the server would start" in out.stdout
    )


def test_json_schema(checked: Checked) -> None:
    """The JSON report has the documented keys, and flags reach the ServerApp."""
    code, report = report_from(
        checked(
            Setup(("--format", "json", "--ServerApp.ip=0.0.0.0", "--NotebookApp.allow_origin=*"))
        )
    )
    assert code == 1
    assert {"version", "verdict", "findings", "counts"} <= set(report)
    assert report["verdict"] == "refuse" and ids(report) >= {"JH101", "JH301"}
    assert set(report["counts"]) >= {"error", "warning", "info"}  # type: ignore[arg-type]
    for finding in report["findings"]:  # type: ignore[union-attr]
        assert set(finding) == {
            "id",
            "name",
            "severity",
            "traits",
            "message",
            "fix",
            "accepted",
            "reason",
            "where",
        }


def test_text_report_names_fix_and_hint(home: JupyterHome) -> None:
    """The text report shows each finding with traits and fix, and how to accept instead."""
    out = check(home, "--ip=0.0.0.0")
    assert out.returncode == 1
    assert "REFUSE" in out.stdout and "JH101 remote-without-tls [blocks startup]" in out.stdout
    assert (
        "fix: change or remove --ip=0.0.0.0 on the command line; c.ServerApp.ip = '127.0.0.1'"
        in out.stdout
        and "c.Hardening.accepted_risks" in out.stdout
    )


ENVIRONMENT_READ = Setup(("--format", "json", "--ip=0.0.0.0"), env=(("JUPYTER_TOKEN", "jupyter"),))


def test_environment_is_read(checked: Checked) -> None:
    """JUPYTER_TOKEN counts like the server would see it."""
    code, report = report_from(checked(ENVIRONMENT_READ))
    assert code == 1 and "JH201" in ids(report)
    assert "jupyter" not in json.dumps(report["settings"]).replace("jupyter_server", "").replace(
        "Jupyter", ""
    )


ACCEPTED_FROM_CONFIG = Setup(
    ("--format", "json"),
    "c.ServerApp.ip = '0.0.0.0'\n"
    "c.Hardening.accepted_risks = {'JH101': 'lab VLAN', 'JH999': 'typo'}\n",
)


def test_accepted_and_refuse_at_from_config(checked: Checked) -> None:
    """c.Hardening in the config file changes the verdict and exit status."""
    code, report = report_from(checked(ACCEPTED_FROM_CONFIG))
    assert code == 0 and report["verdict"] == "warn"
    by_id = {f["id"]: f for f in report["findings"]}  # type: ignore[union-attr]
    assert by_id["JH101"]["accepted"] is True and by_id["JH101"]["reason"] == "lab VLAN"
    assert "JH002" in by_id


USAGE_ERRORS = [
    pytest.param(
        ["--format", "xml"], "", "--format must be one of text, json, sarif", id="bad-format"
    ),
    pytest.param(["--config=."], "", "--config .: a folder, not a file", id="config-is-a-folder"),
    pytest.param(
        [],
        "c.ServerApp.ip = (\n",
        "jupyter_server_config.py:1 fails to load (SyntaxError",
        id="syntax-error",
    ),
    pytest.param(
        [],
        "c.ServerApp.ip = '127.0.0.1'\nraise SystemExit(4)\n",
        "jupyter_server_config.py:2 fails to load (SystemExit: the file calls exit()): "
        "jupyter_server exits at startup without a message",
        id="config-calls-exit",
    ),
    pytest.param(
        [], "c.Hardening.refuse_at = 'sometimes'\n", "refuse_at", id="bad-hardening-value"
    ),
    pytest.param([], "c.ServerApp.port = 'eighty'\n", "invalid: The 'port' trait", id="wrong-type"),
    pytest.param(
        ["--ServerApp.ip=nosuchhost.invalid"], "", "does not resolve", id="ip-does-not-resolve"
    ),
    pytest.param(
        ["--ServerApp.ip=nosuchhost.invalid"],
        "c.ServerApp.jpserver_extensions = {'jupyter_hardening': False}\n",
        "does not resolve",
        id="ip-does-not-resolve-extension-disabled",
    ),
    pytest.param(
        [],
        "c.ServerApp.allow_origin_pat = '('\n",
        "allow_origin_pat is not a valid",
        id="origin-pattern-not-a-regex",
    ),
]


@pytest.mark.parametrize(("args", "config", "needle"), USAGE_ERRORS)
def test_usage_and_config_errors_exit_2(
    checked: Checked, args: list[str], config: str, needle: str
) -> None:
    """Usage or config errors: exit 2, a message naming the problem, never a traceback."""
    out = checked(Setup(tuple(args), config))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert needle in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


REJECTED_SECRETS = [
    pytest.param(
        "c.ServerApp.cookie_secret = 'my-cookie-secret-42'\n",
        "my-cookie-secret-42",
        id="cookie-secret-as-str",
    ),
    pytest.param("c.IdentityProvider.token = 914276530811\n", "914276530811", id="token-as-int"),
    pytest.param(
        "c.ServerApp.tornado_settings = 'cookie_secret=S3CRET-in-a-str'\n",
        "S3CRET-in-a-str",
        id="tornado-settings-as-str",
    ),
    pytest.param(
        "c.Hardening.public_url = 'https://admin:hunter2x@jupyter.example.com/'\n",
        "hunter2x",
        id="public-url-with-password",
    ),
]


@pytest.mark.parametrize(("config", "secret"), REJECTED_SECRETS)
def test_rejected_secret_is_not_repeated(checked: Checked, config: str, secret: str) -> None:
    """A secret of the wrong type or place: exit 2, one line naming the setting, not its value."""
    out = checked(Setup((), config))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert secret not in out.stdout + out.stderr, out.stderr
    assert config.split("=")[0].split(".")[-1].strip() in out.stderr, out.stderr


SECRET_OPTIONS = [
    "--IdentityProvider.token",
    "--ServerApp.token",
    "--NotebookApp.token",
    "--PasswordIdentityProvider.hashed_password",
    "--ServerApp.password",
    "--ServerApp.cookie_secret",
    "--GatewayClient.auth_token",
    "--GatewayClient.http_pwd",
]


def _given_twice(option: str) -> Setup:
    return Setup((f"{option}=first-s3cret-value", f"{option}=second-s3cret-value"))


@pytest.mark.parametrize("option", SECRET_OPTIONS)
def test_repeated_secret_option_is_not_repeated(checked: Checked, option: str) -> None:
    """A secret given twice: traitlets' refusal would list both values (and jupyterlab logs it
    with a traceback); one line names the option instead, exit 2."""
    out = checked(_given_twice(option))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"{option} is given twice" in out.stderr
    assert "s3cret" not in out.stdout + out.stderr, out.stderr


LOWER_CASE_OPTIONS = ["--identityprovider.token", "--serverapp.cookie_secret"]


def _lower_case(option: str) -> Setup:
    return Setup((f"{option}=s3cret-value-1234",))


@pytest.mark.parametrize("option", LOWER_CASE_OPTIONS)
def test_an_option_traitlets_cannot_load_is_not_repeated(checked: Checked, option: str) -> None:
    """A class name in lower case: traitlets' message repeats the value ("Error loading argument
    identityprovider.token=['...']"); one line names the option instead, exit 2."""
    out = checked(_lower_case(option))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"the option {option} cannot be loaded: no class of that name" in out.stderr
    assert "s3cret" not in out.stdout + out.stderr, out.stderr


def _spaced(option: str) -> Setup:
    return Setup(("--format", "json", "--ServerApp.ip=0.0.0.0", option, "s3cret-1234"))


@pytest.mark.parametrize("option", SECRET_OPTIONS)
def test_secret_option_and_value_apart_is_taken_unshown(checked: Checked, option: str) -> None:
    """`--IdentityProvider.token VALUE`, as `jupyter server` takes it (not 'needs a value'):
    the value is read, a short token judged weak, and it is in no output."""
    out = checked(_spaced(option))
    assert "s3cret" not in out.stdout + out.stderr, out.stdout + out.stderr
    code, report = report_from(out)
    if option == "--IdentityProvider.token":
        assert code == 1 and "JH201" in ids(report), report["findings"]
        assert report["settings"]["IdentityProvider.token"] == "set (11 characters)"


def test_secret_value_that_reads_as_an_option_is_not_shown(home: JupyterHome) -> None:
    """A value after a space that starts with '-' is an option to traitlets' parser: the one
    line says to write it with '=', and repeats nothing of it."""
    out = check(home, "--IdentityProvider.token", "-s3cret-1234")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stderr == (
        "jupyter hardening check: --IdentityProvider.token needs a value: "
        "--IdentityProvider.token=VALUE\n"
    )


def test_list_rules(home: JupyterHome) -> None:
    """--list-rules prints every documented id: the rules, the live ones and nginx-check's."""
    out = check(home, "--list-rules")
    from jupyter_hardening.rules import DOCUMENTED, RULES

    assert out.returncode == 0 and all(rule.id in out.stdout for rule in DOCUMENTED)
    assert "JH711  error    proxy-websocket" in out.stdout and "(live, /hardening)" in out.stdout
    listed = json.loads(check(home, "--list-rules", "--format", "json").stdout)
    assert [r["id"] for r in listed] == [rule.id for rule in DOCUMENTED]
    assert listed[0] == {
        "id": RULES[0].id,
        "name": RULES[0].name,
        "severity": RULES[0].severity.label,
        "traits": list(RULES[0].traits),
        "summary": RULES[0].summary,
        "judged": "settings",
    }
    judged = {r["id"]: r["judged"] for r in listed}
    assert (judged["JH711"], judged["JH752"]) == ("requests", "nginx")
    assert judged["JH810"] == "hub" and "(hub-check)" in out.stdout


def _seed(path: Path) -> tuple[list[str], str, str, str, set[str]]:
    argv: list[str] = []
    config_name, config_lines, verdict, expect = "", [], "", set()
    in_config = False
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("argv:"):
            argv = shlex.split(line.split(":", 1)[1])
        elif line.startswith("config:"):
            config_name, in_config = line.split(":", 1)[1].strip(), True
        elif line.startswith("verdict:"):
            verdict, in_config = line.split(":", 1)[1].strip(), False
        elif line.startswith("expect:"):
            expect = set(line.split(":", 1)[1].split())
        elif in_config:
            config_lines.append(line)
    return argv, config_name, "\n".join(config_lines) + "\n", verdict, expect


def _seed_setup(path: Path) -> Setup:
    argv, config_name, config, _, _ = _seed(path)
    return Setup(("--format", "json", *argv), config, config_name or "jupyter_server_config.py")


@pytest.mark.parametrize("seed", SEEDS, ids=[p.stem for p in SEEDS])
def test_seed_recipe_verdict(checked: Checked, seed: Path) -> None:
    """Each tutorial's Jupyter settings get the verdict we defend in the seed file's comment."""
    _, _, _, verdict, expect = _seed(seed)
    code, report = report_from(checked(_seed_setup(seed)))
    assert report["verdict"] == verdict, report["findings"]
    assert code == (1 if verdict == "refuse" else 0)
    assert ids(report) == expect, report["findings"]


EXTENSION_DISABLED = Setup(
    ("--format", "json"), "c.ServerApp.jpserver_extensions = {'jupyter_hardening': False}\n"
)


def test_disabled_extension_is_reported(checked: Checked) -> None:
    """With the extension switched off, check still audits and says the server won't refuse."""
    code, report = report_from(checked(EXTENSION_DISABLED))
    assert ids(report) == {"JH003"} and report["verdict"] == "warn" and code == 0


def test_output_that_cannot_be_written_is_one_line(home: JupyterHome) -> None:
    """`> /dev/full` is one line and exit 2; a reader that went away (`| head`) is no traceback."""
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [jupyter_bin("jupyter"), "hardening", "check", "--format", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=home.env(),
            timeout=120,
        )
    assert result.returncode == 2, result.stderr
    assert (
        result.stderr.strip()
        == "jupyter hardening: cannot write the output: No space left on device"
    )

    process = subprocess.Popen(
        [jupyter_bin("jupyter"), "hardening", "check", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=home.env(),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_token_file_that_is_not_text_is_one_line(home: JupyterHome, tmp_path: Path) -> None:
    """jupyter_server reads JUPYTER_TOKEN_FILE as text: bytes that do not decode are a traceback
    there, one line here (and not one byte of the file is repeated)."""
    token_file = tmp_path / "token"
    token_file.write_bytes(b"\xff\xfe secret-bytes")
    out = hardening("check", home=home, env={"JUPYTER_TOKEN_FILE": str(token_file)})
    assert out.returncode == 2, out.stdout + out.stderr
    assert "cannot be read (not utf-8 text)" in out.stderr and "Traceback" not in out.stderr
    assert "secret-bytes" not in out.stderr and "0xff" not in out.stderr


@pytest.mark.parametrize(
    ("text", "kind"), [('{"ServerApp": 5}', "a number"), ('{"ServerApp": [1]}', "a list")]
)
def test_json_section_that_is_not_an_object_is_named(
    home: JupyterHome, text: str, kind: str
) -> None:
    """`{"ServerApp": 5}` in a .json config file: traitlets loads it and jupyter_server stops
    with a traceback; check names the file and what is wrong in one line (not 'AttributeError'),
    and so does `check FILE`, which judged it OK (--config dropped the section unread)."""
    path = home.write_config(text, name="jupyter_server_config.json")
    needle = f"{path} fails to load (ServerApp must be an object ({{...}}), not {kind})"
    for out in (check(home), check(home, str(path))):
        assert out.returncode == 2, (out.stdout, out.stderr)
        assert needle in out.stderr and "Traceback" not in out.stderr, out.stderr
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_extension_folder_file_that_is_not_an_object_is_named(home: JupyterHome) -> None:
    """A jupyter_server_config.d/*.json holding a list: jupyter_server stops with a traceback
    (AttributeError in recursive_update) before any extension runs; check names the file."""
    folder = home.config_dir / "jupyter_server_config.d"
    folder.mkdir()
    (folder / "list.json").write_text("[1]\n")
    out = check(home)
    assert out.returncode == 2, (out.stdout, out.stderr)
    needle = f"{folder / 'list.json'} fails to load (must be an object ({{...}}), not a list)"
    assert needle in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


# -- the batch ---------------------------------------------------------------------------------

Checked = Callable[[Setup], "Result | subprocess.CompletedProcess[str]"]


def report_from(out: Result | subprocess.CompletedProcess[str]) -> tuple[int, dict[str, Any]]:
    """Exit status and JSON report of a check run."""
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


def _cases(test: str, params: list[Any], setup: Callable[..., Setup]) -> dict[str, Setup]:
    return {f"{test}[{p.id}]": setup(*p.values) for p in params}


# {test id: its run}; the tests hand their Setup to ``checked``, which must be this one.
SETUPS: dict[str, Setup] = {
    "test_json_schema": Setup(
        ("--format", "json", "--ServerApp.ip=0.0.0.0", "--NotebookApp.allow_origin=*")
    ),
    "test_environment_is_read": ENVIRONMENT_READ,
    "test_accepted_and_refuse_at_from_config": ACCEPTED_FROM_CONFIG,
    "test_disabled_extension_is_reported": EXTENSION_DISABLED,
    **_cases(
        "test_usage_and_config_errors_exit_2",
        USAGE_ERRORS,
        lambda args, config, _needle: Setup(tuple(args), config),
    ),
    **_cases(
        "test_rejected_secret_is_not_repeated",
        REJECTED_SECRETS,
        lambda config, _secret: Setup((), config),
    ),
    **{
        f"test_repeated_secret_option_is_not_repeated[{option}]": _given_twice(option)
        for option in SECRET_OPTIONS
    },
    **{
        f"test_an_option_traitlets_cannot_load_is_not_repeated[{option}]": _lower_case(option)
        for option in LOWER_CASE_OPTIONS
    },
    **{
        f"test_secret_option_and_value_apart_is_taken_unshown[{option}]": _spaced(option)
        for option in SECRET_OPTIONS
    },
    **{f"test_seed_recipe_verdict[{p.stem}]": _seed_setup(p) for p in SEEDS},
}
# The first case of each parametrized test runs the console script itself.
CONSOLE_SCRIPT = {
    f"test_usage_and_config_errors_exit_2[{USAGE_ERRORS[0].id}]",
    f"test_rejected_secret_is_not_repeated[{REJECTED_SECRETS[0].id}]",
    f"test_repeated_secret_option_is_not_repeated[{SECRET_OPTIONS[0]}]",
    f"test_seed_recipe_verdict[{SEEDS[0].stem}]",
}


def _prepare(home: JupyterHome, setup: Setup) -> None:
    if setup.config:
        home.write_config(setup.config, name=setup.config_name)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Every batched case's run, each in its own Jupyter home, in one batch."""
    names = [name for name in SETUPS if name not in CONSOLE_SCRIPT]
    runs = []
    for name in names:
        home = JupyterHome(tmp_path_factory.mktemp("check-batch") / "jhome")
        _prepare(home, SETUPS[name])
        runs.append(Run(["check", *SETUPS[name].args], home, dict(SETUPS[name].env)))
    return dict(zip(names, run_all(runs), strict=True))


@pytest.fixture
def checked(request: pytest.FixtureRequest, home: JupyterHome) -> Checked:
    """This test's check run: the console script's in ``home``, or the batch's."""

    def run(setup: Setup) -> Result | subprocess.CompletedProcess[str]:
        name = request.node.name
        assert SETUPS.get(name) == setup, f"{name}: SETUPS does not hold this test's run"
        if name in CONSOLE_SCRIPT:
            _prepare(home, setup)
            return check(home, *setup.args, env=dict(setup.env) or None)
        batched: dict[str, Result] = request.getfixturevalue("batch")
        return batched[name]

    return run
