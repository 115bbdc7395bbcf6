"""A second, tiny server extension: one WARNING line when jupyter_hardening itself is disabled.

A disabled extension cannot log, so this one is enabled by its own file
(``jupyter_server_config.d/jupyter_hardening_sentinel.json``) and a user config that turns off
``jupyter_hardening`` leaves it on. It imports nothing heavy and does nothing else. Admins
who must stop users from disabling the audit use ``c.Spawner.disable_user_config = True`` (see
docs/jupyterhub.md).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

# Searched only when the audit is disabled: re's own cache compiles it then, not at every start.
_PY_DISABLES = r"""['"]jupyter_hardening['"]\s*:\s*False"""


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyter_hardening.sentinel"}]


def _disables(path: Path) -> bool:
    try:
        text = path.read_text()
    except (OSError, UnicodeError):
        return False
    if path.suffix == ".py":
        return bool(re.search(_PY_DISABLES, text))
    try:
        data = json.loads(text)
    except ValueError:
        return False
    extensions = (
        data.get("ServerApp", {}).get("jpserver_extensions", {}) if isinstance(data, dict) else {}
    )
    return isinstance(extensions, dict) and extensions.get("jupyter_hardening") is False


def disabled_by(serverapp: Any) -> str:
    """The command line or the config file (highest priority first) that disables the audit."""
    cli = serverapp.cli_config.get("ServerApp", {}).get("jpserver_extensions", {})
    if isinstance(cli, dict) and cli.get("jupyter_hardening") is False:
        return "the command line (--ServerApp.jpserver_extensions)"
    # config_file_paths lists the highest priority folder (the user's ~/.jupyter) first.
    for folder in serverapp.config_file_paths:
        base = Path(folder)
        candidates = [
            base / "jupyter_server_config.py",
            base / "jupyter_server_config.json",
            *sorted((base / "jupyter_server_config.d").glob("*.json"), reverse=True),
        ]
        for path in candidates:
            if path.is_file() and _disables(path):
                return str(path)
    return "the configuration"


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Warn when jupyter_hardening is disabled for this server."""
    extension = sys.modules.get("jupyter_hardening.extension")
    if extension is not None and extension.is_offline(serverapp):
        return  # `jupyter hardening check` reports this as JH003
    if serverapp.jpserver_extensions.get("jupyter_hardening"):
        return
    serverapp.log.warning(
        "[jupyter_hardening] the audit is disabled by %s: this server starts unaudited and "
        "serves no /hardening. Fix: remove {'jupyter_hardening': False} from "
        "ServerApp.jpserver_extensions there (under JupyterHub: c.Spawner.disable_user_config "
        "= True keeps users' config out)",
        disabled_by(serverapp),
    )
