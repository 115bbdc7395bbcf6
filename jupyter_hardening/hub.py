"""JupyterHub's side of jupyter_hardening: a pre-spawn hook that fails a refused spawn at once, with
the reason on the hub's spawn page, and what ``check`` needs to judge a server as the hub starts it.

Used in jupyterhub_config.py::

    from jupyter_hardening.hub import pre_spawn_hook
    c.Spawner.pre_spawn_hook = pre_spawn_hook

JupyterHub is imported only inside these functions: the server extension never imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

CHECK_TIMEOUT = 60.0  # seconds; a check that takes longer fails the spawn with a clear message


class SpawnRefused(Exception):
    """The spawn's server would refuse to start; str() is the line the hub shows the user."""


def hub_env(user: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables jupyterhub-singleuser needs, as a hub's spawner would set them for ``user``.

    Values already in ``environ`` are kept: a real hub's environment (or `docker run -e ...`)
    wins. The API token is a random placeholder: nothing contacts the hub.
    """
    env = dict(os.environ if environ is None else environ)
    prefix = f"/user/{user}/"
    defaults = {
        "JUPYTERHUB_USER": user,
        "JUPYTERHUB_SERVER_NAME": "",
        "JUPYTERHUB_SERVICE_PREFIX": prefix,
        # What DockerSpawner and KubeSpawner set; LocalProcessSpawner sets 127.0.0.1.
        "JUPYTERHUB_SERVICE_URL": f"http://0.0.0.0:8888{prefix}",
        "JUPYTERHUB_API_TOKEN": secrets.token_hex(16),
        "JUPYTERHUB_CLIENT_ID": f"jupyterhub-user-{user}",
        "JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api",
        "JUPYTERHUB_ACTIVITY_URL": f"http://127.0.0.1:8081/hub/api/users/{user}/activity",
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_HOST": "",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": f"{prefix}oauth_callback",
        "JUPYTERHUB_OAUTH_SCOPES": json.dumps([f"access:servers!server={user}/"]),
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps([f"access:servers!server={user}/"]),
        "JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": "[]",
    }
    for key, value in defaults.items():
        env.setdefault(key, value)
    return env


def in_hub_environment(environ: Mapping[str, str] | None = None) -> bool:
    """True when the environment is a hub's spawn (jupyterhub-singleuser needs this variable)."""
    return bool((os.environ if environ is None else environ).get("JUPYTERHUB_SERVICE_URL"))


def offline_singleuser() -> Any:
    """JupyterHub's singleuser extension app, with its calls to the hub switched off (``check``).

    It then links and loads as under jupyterhub-singleuser: the same overrides of ip, base_url,
    trust_xheaders, identity provider and TLS files, the same CSP, the same user-config rules.
    Only for the short-lived check process: the patch is not undone.
    """
    from jupyterhub.singleuser.extension import JupyterHubSingleUser

    async def no_hub(self: Any) -> None:
        return None

    JupyterHubSingleUser.check_hub_version = no_hub  # type: ignore[method-assign]
    JupyterHubSingleUser.keep_activity_updated = no_hub  # type: ignore[method-assign]
    return JupyterHubSingleUser


_AT_OR_ABOVE = {"error": ("error",), "warning": ("error", "warning"), "never": ()}


def refusal_message(report: Mapping[str, Any]) -> str:
    """The one line the hub shows: which findings refuse, why, and the first fix."""
    blocking = [
        f
        for f in report.get("findings", [])
        if not f.get("accepted")
        and f.get("severity") in _AT_OR_ABOVE.get(report.get("refuse_at", "error"), ())
    ]
    if not blocking:
        return "jupyter_hardening refused to start this server"
    parts = [f"{f['id']} {f['name']} ({f['message']})" for f in blocking]
    return (
        "jupyter_hardening refused to start this server: "
        + "; ".join(parts)
        + f" Fix: {blocking[0]['fix']}"
    )


def _check_command(spawner: Any, env: Mapping[str, str]) -> str | None:
    """The spawner's own `jupyter-hardening` (next to its jupyterhub-singleuser), or None."""
    cmd = list(spawner.cmd or ["jupyterhub-singleuser"])
    first = cmd[0]
    path = env.get("PATH", os.defpath)
    found = first if os.sep in first else shutil.which(first, path=path)
    if found:
        candidate = Path(found).with_name("jupyter-hardening")
        if candidate.exists():
            return str(candidate)
    return shutil.which("jupyter-hardening", path=path)


def _is_local(spawner: Any) -> bool:
    from jupyterhub.spawner import LocalProcessSpawner

    return isinstance(spawner, LocalProcessSpawner)


def _service_url(spawner: Any, env: dict[str, str]) -> None:
    """Before start() the port may still be 0 (LocalProcessSpawner picks it in start)."""
    url = urlparse(env.get("JUPYTERHUB_SERVICE_URL", ""))
    if url.scheme and not url.port:
        host = url.hostname or "0.0.0.0"  # noqa: S104 - the address the spawner will bind
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if spawner.internal_ssl else url.scheme
        env["JUPYTERHUB_SERVICE_URL"] = urlunparse(
            url._replace(scheme=scheme, netloc=f"{host}:8888")
        )


def _internal_ssl(spawner: Any, env: dict[str, str]) -> None:
    """internal_ssl certificates are made after the hook: judge with the hub's own set."""
    if not spawner.internal_ssl or env.get("JUPYTERHUB_SSL_CERTFILE"):
        return
    settings = getattr(spawner.user, "settings", {}) or {}
    files = {
        "JUPYTERHUB_SSL_KEYFILE": settings.get("internal_ssl_key"),
        "JUPYTERHUB_SSL_CERTFILE": settings.get("internal_ssl_cert"),
        "JUPYTERHUB_SSL_CLIENT_CA": settings.get("internal_ssl_ca"),
    }
    for key, value in files.items():
        if value:
            env[key] = str(value)


async def audit_spawn(spawner: Any, timeout: float = CHECK_TIMEOUT) -> dict[str, Any] | None:
    """Run ``jupyter hardening check --format json`` as the spawner would start the server.

    Local spawners: with the spawner's environment, args, Unix user and home, so the user's
    config files and the installed extensions are seen. Other spawners (containers): with the
    hub's own jupyter-hardening and the spawner's args and environment only (the image's config
    is not visible from the hub). Returns the report, or None when no check could run.
    """
    env = {k: str(v) for k, v in spawner.get_env().items()}
    _service_url(spawner, env)
    _internal_ssl(spawner, env)
    local = _is_local(spawner)
    kwargs: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        if local:
            command = _check_command(spawner, env)
            home = env.get("HOME", "")
            if home and Path(home).is_dir():
                kwargs["cwd"] = home
            kwargs["preexec_fn"] = spawner.make_preexec_fn(spawner.user.name)
        else:
            command = shutil.which("jupyter-hardening")
            # Not the hub's own Jupyter config: the image has its own, unseen from here.
            empty = stack.enter_context(tempfile.TemporaryDirectory(prefix="jh-spawn-check-"))
            env["JUPYTER_CONFIG_DIR"] = empty
            env["PATH"] = os.environ.get("PATH", os.defpath)
        if command is None:
            spawner.log.warning(
                "[jupyter_hardening] no jupyter-hardening next to %s: the spawn is not checked "
                "before it starts (the server's own extension still audits it)",
                spawner.cmd,
            )
            return None
        argv = [command, "check", "--format", "json", *spawner.get_args()]
        proc = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            **kwargs,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise SpawnRefused(
                f"jupyter_hardening could not check this server within {timeout:.0f} s"
            ) from None
    if proc.returncode == 2:
        line = err.decode(errors="replace").strip().splitlines()
        raise SpawnRefused(
            "jupyter_hardening: this server's configuration is invalid: "
            + (line[-1] if line else "see the hub's log")
        )
    try:
        report: dict[str, Any] = json.loads(out)
    except ValueError:
        spawner.log.warning(
            "[jupyter_hardening] the spawn check printed no report (exit %s)", proc.returncode
        )
        return None
    return report


async def _pre_spawn(spawner: Any) -> None:
    report = await audit_spawn(spawner)
    if report is None:
        return
    for f in report.get("findings", []):
        spawner.log.info(
            "[jupyter_hardening] %s's server: %s %s %s",
            spawner.user.name,
            f["severity"],
            f["id"],
            f["name"],
        )
    if report.get("verdict") == "refuse":
        message = refusal_message(report)
        spawner.log.warning(
            "[jupyter_hardening] %s's spawn refused: %s", spawner.user.name, message
        )
        raise SpawnRefused(message)


def make_pre_spawn_hook(
    then: Callable[[Any], Awaitable[Any] | Any] | None = None,
) -> Callable[[Any], Awaitable[None]]:
    """A ``Spawner.pre_spawn_hook`` that runs the admin's own hook ``then``, and audits the spawn.

    The admin's hook runs first, so the audit judges the environment and args it leaves.
    """

    async def hook(spawner: Any) -> None:
        if then is not None:
            result = then(spawner)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                await result
        await _pre_spawn(spawner)

    return hook


pre_spawn_hook = make_pre_spawn_hook()
