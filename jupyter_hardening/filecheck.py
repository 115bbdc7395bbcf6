"""``jupyter hardening check FILE...``: judge each config file alone, as pre-commit passes them.

Each file is audited in a fresh process (a ServerApp is set up once per process), with
``--isolated --config FILE``: the machine's own config folders do not count, and the extension
is taken as enabled, as a server that installs it would load the file (unless the file itself
names it in ``jpserver_extensions``: then JH003 says it is off).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .safefile import not_a_file


def check_each(files: list[str], server_argv: list[str], output_format: str) -> int:
    """Audit each file; print the reports (one SARIF log, a JSON list, or text); worst status."""
    worst = 0
    reports: list[Any] = []
    runs: list[Any] = []
    for name in files:
        path = Path(name)
        if not path.is_file():
            print(f"jupyter hardening check: {name}: {not_a_file(name)}", file=sys.stderr)
            worst = 2
            continue
        command = [
            sys.executable,
            "-m",
            "jupyter_hardening.cli",
            "check",
            "--isolated",
            f"--format={output_format}",
            f"--config={path.absolute()}",
            *server_argv,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        sys.stderr.write(done.stderr)
        worst = max(worst, done.returncode if done.returncode in (0, 1, 2) else 2)
        if done.returncode == 2:
            continue
        if output_format == "sarif":
            runs += json.loads(done.stdout)["runs"]
        elif output_format == "json":
            reports.append({"file": str(path), **json.loads(done.stdout)})
        else:
            print(f"== {path}")
            print(done.stdout, end="")
    if output_format == "sarif":
        from .sarif import sarif_log

        log = sarif_log([])
        log["runs"] = runs or log["runs"]
        print(json.dumps(log, indent=2))
    elif output_format == "json":
        print(json.dumps(reports, indent=2))
    return worst
