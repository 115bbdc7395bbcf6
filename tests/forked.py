"""Many `jupyter hardening` runs for the price of one Python start: one child Python imports the
server application once, then forks a fresh process per run, which takes the run's environment,
working folder and arguments and calls the command's ``main`` as the console script does.

Each run is its own process (its own ServerApp, extensions, exit status, stdout and stderr), so
runs cannot see each other's state; what they share is only the imported code. A run that
hangs is killed by an alarm. The console script itself (tests/cli.py's ``hardening``) stays the
proof for what is about the process: its start, its output streams, its exit on a broken pipe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .servers import JupyterHome

# The child: preload what every `check` run imports (unless told not to), then one fork per run.
_CHILD = r"""
import json, os, sys, traceback

if sys.argv[3] == "preload":
    import jupyter_server.serverapp  # noqa: F401 - the import every check run pays
    import jupyter_hardening.check  # noqa: F401
from jupyter_hardening.cli import main

jobs = json.loads(open(sys.argv[1]).read())
statuses = []
for index, job in enumerate(jobs):
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            import signal

            signal.alarm(job["timeout"])
            for fd, name in ((1, "out"), (2, "err")):
                target = os.open(f"{sys.argv[2]}/{index}.{name}", os.O_WRONLY | os.O_CREAT, 0o600)
                os.dup2(target, fd)
                os.close(target)
            os.chdir(job["cwd"])
            os.environ.clear()
            os.environ.update(job["env"])
            sys.argv = [job["argv0"], *job["args"]]
            try:
                if job["code"] is None:
                    main(job["args"])
                else:
                    exec(compile(job["code"], "<run>", "exec"), {"__name__": "__main__"})
                code = 0
            except SystemExit as e:  # what the interpreter makes of sys.exit(...)
                if e.code is None or isinstance(e.code, int):
                    code = e.code or 0
                else:
                    print(e.code, file=sys.stderr)
            except BaseException:
                traceback.print_exc()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    statuses.append(os.waitstatus_to_exitcode(status))
print(json.dumps(statuses))
"""


@dataclass(frozen=True)
class Run:
    """One run: `jupyter hardening ARGS` (or, with ``code``, that Python source with ``args`` as
    its sys.argv[1:]) in ``home``'s folders, or in ``env`` and ``cwd``."""

    args: Sequence[str]
    home: JupyterHome | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    code: str | None = None
    timeout: int = 120


@dataclass(frozen=True)
class Result:
    """A run's exit status and output, as subprocess.run reports them."""

    returncode: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode(errors="replace")


def run_all(
    runs: Sequence[Run], python: str | None = None, preload_server: bool = True
) -> list[Result]:
    """Each run in its own forked process of one child Python (this one, or ``python``: another
    environment's, which then imports its own jupyter_hardening); results in order.

    ``preload_server=False`` for a light command (systemd-unit, the snippets) that never imports
    the server: its runs then see only what they import themselves, as the console script does
    (with the server imported, every Configurable of it would be known to --Class.trait checks).
    """
    jobs = []
    for run in runs:
        if run.home is not None:
            env, cwd = run.home.env(**dict(run.env)), run.cwd or run.home.work_dir
        else:
            env, cwd = {**os.environ, **run.env}, run.cwd or Path.cwd()
        jobs.append(
            {
                "args": list(run.args),
                "env": env,
                "cwd": str(cwd),
                "code": run.code,
                "argv0": "-c" if run.code is not None else "jupyter-hardening",
                "timeout": run.timeout,
            }
        )
    with tempfile.TemporaryDirectory(prefix="forked-") as folder:
        (Path(folder) / "jobs.json").write_text(json.dumps(jobs))
        # The child's own environment: this one without Jupyter's folders (each run sets its own).
        environ = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
        child = subprocess.run(
            [
                python or sys.executable,
                "-c",
                _CHILD,
                str(Path(folder) / "jobs.json"),
                folder,
                "preload" if preload_server else "light",
            ],
            capture_output=True,
            text=True,
            env={**environ, "JUPYTER_PLATFORM_DIRS": "1"},
            stdin=subprocess.DEVNULL,
            cwd=folder,  # not the checkout: `python -c` imports from its folder first
            timeout=60 + sum(run.timeout for run in runs),
            check=False,
        )
        assert child.returncode == 0, child.stderr[-3000:]
        statuses = json.loads(child.stdout.splitlines()[-1])
        return [
            Result(
                status,
                (Path(folder) / f"{i}.out").read_bytes(),
                (Path(folder) / f"{i}.err").read_bytes(),
            )
            for i, status in enumerate(statuses)
        ]
