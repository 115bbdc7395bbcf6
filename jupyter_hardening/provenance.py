"""Where each effective setting came from: a config file and line, a flag, a variable, a default.

Files are replayed as traitlets loaded them — each through its own loader, in the same order —
so the loader says which ``Class.trait`` a file set, and ``ast`` says on which line (and whether
the value is read from ``os.environ``). The command line comes from the ServerApp's argv, the
rest from the variables jupyter_server reads. Values of secrets are never kept as text.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .configfiles import config_names
from .printable import SECRET_TRAITS
from .record import Record, field, replace

HIDDEN = "(hidden)"
# Variables jupyter_server (and JupyterHub's singleuser extension) read, by setting.
ENVIRONMENT = {
    "IdentityProvider.token": ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE"),
    "ServerApp.port": ("JUPYTER_PORT",),
    "ServerApp.allow_unauthenticated_access": ("JUPYTER_SERVER_ALLOW_UNAUTHENTICATED_ACCESS",),
}
HUB = {
    "ServerApp.ip": "JUPYTERHUB_SERVICE_URL",
    "ServerApp.port": "JUPYTERHUB_SERVICE_URL",
    "ServerApp.base_url": "JUPYTERHUB_SERVICE_PREFIX",
    "ServerApp.trust_xheaders": "JUPYTERHUB_SERVICE_URL",
    "ServerApp.allow_remote_access": "JUPYTERHUB_SERVICE_URL",
}
_ENV_CALLS = {"getenv", "get"}


class Source(Record):
    """One place that sets a setting, with the value as written there."""

    setting: str
    origin: str
    value: str = ""
    file: str = ""
    line: int | None = None
    key: str = ""
    variables: tuple[str, ...] = ()
    wins: bool = True
    raw: Any = field(default=None, compare=False, repr=False)

    def label(self) -> str:
        """Where, as a compiler says it: 'path:3', 'path (key)', 'command line --ip=*'."""
        if self.origin in ("file", "json") and self.file:
            where = f"{self.file}:{self.line}" if self.line else self.file
            env = f" (from ${', $'.join(self.variables)})" if self.variables else ""
            return where + env
        if self.origin == "command line":
            return f"command line {self.key}"
        if self.origin in ("environment", "hub"):
            return f"${self.key}"
        if self.origin in ("tornado_settings", "extension settings"):
            return self.key + (f" at {self.file}:{self.line}" if self.file and self.line else "")
        return "default"

    def to_json(self) -> dict[str, Any]:
        """The entry of a finding's or a setting's ``where`` list."""
        out: dict[str, Any] = {"setting": self.setting, "value": self.value, "origin": self.origin}
        if self.file:
            out["file"] = self.file
        if self.line:
            out["line"] = self.line
        if self.key:
            out["key"] = self.key
        if self.variables:
            out["from_environment"] = list(self.variables)
        out["wins"] = self.wins
        return out


def is_secret(setting: str) -> bool:
    """True for a setting whose value must never be shown."""
    trait = setting.rpartition(".")[2]
    return trait in SECRET_TRAITS or "secret" in trait


# Keys of a dict-valued setting whose values are secrets (tornado_settings' cookie_secret, a
# service's api_token, a spawner environment's *_TOKEN or *_PASSWORD ...).
_SECRET_KEYS = ("secret", "token", "password", "passwd", "credential", "private", "api_key")
_NO_VALUE: Any = object()


def _secret_key(key: Any) -> bool:
    return isinstance(key, str) and any(word in key.lower() for word in _SECRET_KEYS)


def _holds_secret(value: Any, depth: int = 0) -> bool:
    """True when a dict anywhere in ``value`` has a key whose value is a secret."""
    if depth > 20:
        return True  # deeper than any config writes: show nothing of it
    if isinstance(value, Mapping):
        return any(_secret_key(k) or _holds_secret(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds_secret(v, depth + 1) for v in value)
    return False


def _redacted(value: Any) -> Any:
    """``value`` with the values of its dicts' secret keys replaced by (hidden)."""
    if isinstance(value, Mapping):
        return {k: HIDDEN if _secret_key(k) else _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return value


def _parsed(text: str) -> Any:
    """A command-line value as traitlets would read a container (JSON or a Python literal)."""
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return _NO_VALUE


def shown(setting: str, text: str, raw: Any = _NO_VALUE) -> str:
    """The value as written, or (hidden) for a secret; long values shortened. A container that
    holds a secret under a key (``raw``, the value loaded) is shown with that key's value
    hidden instead of as written."""
    if is_secret(setting):
        return HIDDEN
    if raw is _NO_VALUE:
        container = text.lstrip()[:1] in ("{", "[")
        raw = _parsed(text) if container else _NO_VALUE
        if container and raw is _NO_VALUE and any(w in text.lower() for w in _SECRET_KEYS):
            return HIDDEN  # a container we cannot read, and it may hold a secret
    if raw is not _NO_VALUE and _holds_secret(raw):
        text = repr(_redacted(raw))
    return text if len(text) <= 120 else text[:117] + "..."


# --- .py files: the line of each assignment, by parsing ---------------------------------------


def _target_name(node: ast.expr, config_names: set[str]) -> str | None:
    """'ServerApp.ip' for c.ServerApp.ip (or c.ServerApp.tornado_settings['x'])."""
    while isinstance(node, ast.Subscript):
        node = node.value
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in config_names and len(parts) >= 2:
        return ".".join(reversed(parts[:2]))
    return None


def _variables(node: ast.AST) -> tuple[str, ...]:
    """Environment variables a value reads: os.environ['X'], os.environ.get('X'), os.getenv('X')."""
    found: list[str] = []
    for sub in ast.walk(node):
        arg: ast.AST | None = None
        if isinstance(sub, ast.Subscript) and _is_environ(sub.value):
            arg = sub.slice
        elif isinstance(sub, ast.Call) and sub.args:
            func = sub.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = func.value if isinstance(func, ast.Attribute) else None
            if name == "getenv" or (name == "get" and owner is not None and _is_environ(owner)):
                arg = sub.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.append(arg.value)
    return tuple(dict.fromkeys(found))


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def python_assignments(path: Path) -> dict[str, tuple[int, str, tuple[str, ...]]]:
    """{Class.trait: (line, value as written, env variables)} of the last assignment of each."""
    try:
        source = path.read_text()
        tree = ast.parse(source, str(path))
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
        return {}
    names = {"c"}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", "") == "get_config"
        ):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    found: dict[str, tuple[int, str, tuple[str, ...]]] = {}
    nodes = sorted(
        (
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Expr)
        ),
        key=lambda n: n.lineno,
    )
    for node in nodes:
        value: ast.AST | None
        if isinstance(node, ast.Assign):
            targets: list[ast.expr] = list(node.targets)
            value = node.value
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets, value = [node.target], node.value
        elif isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute):
            # c.ServerApp.jpserver_extensions.update({...}), c.X.y.append(...)
            targets, value = [node.value.func.value], node.value
        else:
            continue
        if value is None:
            continue
        text = ast.get_source_segment(source, value) or ""
        for target in targets:
            name = _target_name(target, names)
            if name:
                if isinstance(target, ast.Subscript) or isinstance(node, ast.Expr):
                    text = ast.get_source_segment(source, node) or text
                found[name] = (node.lineno, text, _variables(value))
    return found


# --- replaying the files ----------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    loader_class = PyFileConfigLoader if path.suffix == ".py" else JSONFileConfigLoader
    try:
        config = loader_class(path.name, path=str(path.parent)).load_config()
    except Exception:
        return {}
    return {
        f"{section}.{trait}": value
        for section, values in config.items()
        if hasattr(values, "items")
        for trait, value in values.items()
    }


def config_files(serverapp: Any) -> list[Path]:
    """Every config file the server and its extension apps load, lowest priority first."""
    folders = [str(p) for p in getattr(serverapp, "config_file_paths", []) or [] if p]
    explicit = str(getattr(serverapp, "config_file", "") or "")
    server_name = str(serverapp.config_file_name or "jupyter_server_config")
    paths: list[Path] = []
    for name in config_names(serverapp):
        if explicit and name == server_name:
            base = Path(explicit)
            candidates = [base.with_suffix(".py"), base.with_suffix(".json")]
        else:
            candidates = [
                Path(folder, name + suffix)
                for folder in reversed(folders)
                for suffix in (".py", ".json")
            ]
        paths += [p for p in candidates if p.is_file() and p not in paths]
    return paths


def file_sources(serverapp: Any) -> Iterator[Source]:
    """A Source for each Class.trait each config file sets, lowest priority first."""
    return file_sources_of(config_files(serverapp))


def file_sources_of(paths: Iterable[Path]) -> Iterator[Source]:
    """A Source for each Class.trait each of ``paths`` sets, in the order given."""
    for path in paths:
        values = _load(path)
        lines = python_assignments(path) if path.suffix == ".py" else {}
        for setting, value in values.items():
            line, text, variables = lines.get(setting, (None, "", ()))
            if path.suffix == ".json":
                text = json.dumps(value)
            yield Source(
                setting,
                "file" if path.suffix == ".py" else "json",
                shown(setting, text or repr(value), value),
                file=str(path.absolute()),
                line=line,
                key=setting if path.suffix == ".json" else "",
                variables=variables,
                raw=value,
            )


def command_line_sources(serverapp: Any) -> Iterator[Source]:
    """A Source for each setting given on the command line, with the flag as typed."""
    aliases = getattr(serverapp, "aliases", {}) or {}
    flags = getattr(serverapp, "flags", {}) or {}

    def lookup(table: dict[Any, Any], name: str) -> Any:
        for key, value in table.items():
            if name == key or (isinstance(key, tuple) and name in key):
                return value
        return None

    args = iter(list(getattr(serverapp, "argv", []) or []))
    for arg in args:
        if not arg.startswith("-"):
            continue
        name, has_value, value = arg.lstrip("-").partition("=")
        targets: list[str] = []
        alias = lookup(aliases, name) if "." not in name else None
        if "." in name:
            targets = [name.split(".", name.count(".") - 1)[-1]]
            if not has_value:  # --Class.trait VALUE
                value = next(args, "")
        elif alias is not None:
            targets = [alias[0] if isinstance(alias, tuple) else alias]
            if not has_value:
                value = next(args, "")
        else:
            flag = lookup(flags, name)
            if flag is None:
                continue
            config = flag[0] if isinstance(flag, tuple) else flag
            targets = [f"{cls}.{trait}" for cls, traits in config.items() for trait in traits]
        for setting in targets:
            typed = f"--{name}" + (f"={shown(setting, value)}" if value or has_value else "")
            yield Source(setting, "command line", shown(setting, value), key=typed)


def environment_sources(serverapp: Any) -> Iterator[Source]:
    """A Source for each setting whose default reads an environment variable that is set."""
    for setting, variables in ENVIRONMENT.items():
        for var in variables:
            if os.environ.get(var):
                # A token file's path is no secret; the token itself is.
                visible = var.endswith("_FILE") or not is_secret(setting)
                value = os.environ[var] if visible else HIDDEN
                yield Source(setting, "environment", value, key=var)
                break
    if "jupyterhub.singleuser.extension" in (serverapp.jpserver_extensions or {}):
        for setting, var in HUB.items():
            if os.environ.get(var):
                yield Source(setting, "hub", "", key=var)


# Legacy and deprecated names that configure the same effective setting.
def names_for(setting: str) -> tuple[str, ...]:
    """The names a user may have written for ``setting``."""
    cls, _, trait = setting.partition(".")
    if cls == "ServerApp":
        names = [setting, f"NotebookApp.{trait}"]
    elif cls in ("IdentityProvider", "PasswordIdentityProvider"):
        names = [
            f"IdentityProvider.{trait}",
            f"PasswordIdentityProvider.{trait}",
            f"ServerApp.{trait}",
            f"NotebookApp.{trait}",
        ]
        if trait == "hashed_password":
            names += ["ServerApp.password", "NotebookApp.password"]
    else:
        names = [setting]
    return tuple(dict.fromkeys(names))


class Provenance:
    """Every source of every setting of one ServerApp, and the one that wins for each."""

    def __init__(self, serverapp: Any, overrides: Iterable[tuple[str, str]] = ()):
        self.sources: list[Source] = [
            *environment_sources(serverapp),
            *file_sources(serverapp),
            *command_line_sources(serverapp),
        ]
        self.effective = _effective(serverapp)
        for key, where in overrides:
            origin = "tornado_settings" if where.startswith("ServerApp.") else "extension settings"
            setter = self.winner(where)
            self.sources.append(
                Source(
                    f"ServerApp.{key}",
                    origin,
                    "",
                    file=setter.file if setter else "",
                    line=setter.line if setter else None,
                    key=f"{where}[{key!r}]",
                )
            )

    def all_for(self, setting: str) -> list[Source]:
        """Every source of ``setting`` (under any of its names), lowest priority first."""
        names = names_for(setting)
        found = [s for s in self.sources if s.setting in names]
        # tornado_settings and extension settings apply last, over every trait.
        found.sort(key=lambda s: s.origin in ("tornado_settings", "extension settings", "hub"))
        return found

    def winner(self, setting: str) -> Source | None:
        """The source whose value is in effect (the highest priority one that matches)."""
        found = self.all_for(setting)
        if not found:
            return None
        effective = self.effective.get(setting, _MISSING)
        for source in reversed(found):
            if source.origin in ("tornado_settings", "extension settings", "hub"):
                return source
            if effective is _MISSING or source.raw == effective or source.raw is None:
                return source
        return found[-1]

    def where(self, setting: str) -> list[Source]:
        """The winner first, then the sources it overrides; a default when nothing sets it."""
        found = self.all_for(setting)
        if not found:
            return [Source(setting, "default", "")]
        best = self.winner(setting)
        rest = [_replace(s, wins=False) for s in reversed(found) if s is not best]
        return [best, *rest] if best else rest


def _replace(source: Source, **changes: Any) -> Source:
    return replace(source, **changes)


_MISSING = object()


def _effective(serverapp: Any) -> dict[str, Any]:
    """The values in effect, to tell which source set them: the ServerApp's, and its identity
    provider's under both class names (where a subclass's setting and the deprecated
    ServerApp/NotebookApp.password it is given beat IdentityProvider's, whatever the load order)."""
    values: dict[str, Any] = {}
    try:
        idp = serverapp.identity_provider
    except Exception:  # not made yet (a ServerApp before initialize): ServerApp's alone
        idp = None
    for prefixes, obj in ((("ServerApp",), serverapp), (IDENTITY_CLASSES, idp)):
        for trait in obj.trait_names(config=True) if obj is not None else ():
            try:
                value = getattr(obj, trait)
            except Exception:  # noqa: S112 - an unreadable trait has no effective value to match
                continue
            values.update((f"{prefix}.{trait}", value) for prefix in prefixes)
    return values


IDENTITY_CLASSES = ("IdentityProvider", "PasswordIdentityProvider")


def jpserver_extension_source(serverapp: Any, name: str) -> str:
    """Where extension ``name`` is enabled: a config file (and line), a .d file, a flag."""
    for source in reversed(list(command_line_sources(serverapp))):
        if source.setting == "ServerApp.jpserver_extensions" and name in source.key:
            return source.label()
    for path in reversed(config_files(serverapp)):
        if name in (_load(path).get("ServerApp.jpserver_extensions") or {}):
            line = python_assignments(path).get("ServerApp.jpserver_extensions", (None,))[0]
            return f"{path}:{line}" if line else str(path)
    folders = [str(p) for p in getattr(serverapp, "config_file_paths", []) or [] if p]
    for folder in folders:
        for path in sorted(Path(folder, "jupyter_server_config.d").glob("*.json")):
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if name in (data.get("ServerApp", {}).get("jpserver_extensions") or {}):
                return str(path)
    return "ServerApp.jpserver_extensions"


_NAME = r"(?<!\w)(?:c\.)?{}(?!\w)"


def launcher(plain: str) -> str:
    """Where a flag or variable of this process is written, when systemd started it.

    systemd sets ``INVOCATION_ID`` for every process of a unit (systemd.exec(5)): the flag is then
    in the unit's ``ExecStart=``, not on a command line anybody types. (A container says nothing
    as precise: a flag there may be the image's CMD or typed in ``docker exec``.)
    """
    import os

    if os.environ.get("INVOCATION_ID"):
        return f"{plain} (ExecStart= or Environment= in the systemd unit that runs this server)"
    return plain


def as_written(text: str, setting: str, source: Source, effective_repr: str = "") -> str:
    """``text`` with ``setting`` (and its effective value) named as the user wrote it."""
    if source.origin not in ("file", "json", "command line") or source.setting == setting:
        return text
    if effective_repr and source.value and source.value != HIDDEN:
        text = text.replace(f"{setting} = {effective_repr}", f"{source.setting} = {source.value}")
    return re.sub(
        _NAME.format(re.escape(setting)), lambda m: m[0].replace(setting, source.setting), text
    )


# Settings of the report whose provenance is listed (the snapshot's names that are traits).
def _report_settings(names: Iterable[str]) -> list[str]:
    return [n for n in names if _is_trait_name(n) and n != "Hardening.public_url"]


def _is_trait_name(name: str) -> bool:
    r"""True for 'Class.trait' (re.fullmatch(r"[A-Z]\w+\.\w+"), without compiling a regex)."""
    cls, dot, trait = name.partition(".")
    words = (cls[1:] + trait).replace("_", "a")
    return bool(dot) and len(cls) > 1 and "A" <= cls[0] <= "Z" and bool(trait) and words.isalnum()


def attach(report: Any, prov: Provenance) -> Any:
    """``report`` with each finding's sources, and its names and fix as the user wrote them."""
    items = []
    for item in report.items:
        finding = item.finding
        message, fix = finding.message, finding.fix
        where: list[Source] = []
        for trait in finding.traits:
            sources = prov.where(trait)
            where += sources
            best = sources[0]
            effective = prov.effective.get(trait, _MISSING)
            shown_value = "" if effective is _MISSING or is_secret(trait) else repr(effective)
            message = as_written(message, trait, best, shown_value)
            fix = as_written(fix, trait, best, shown_value)
            if best.origin == "command line" and best.key not in fix:
                fix = f"change or remove {best.key} {launcher('on the command line')}; {fix}"
            elif best.origin in ("environment", "hub") and f"${best.key}" not in fix:
                fix = f"the value comes from ${best.key} {launcher('in the environment')}; {fix}"
        finding = replace(finding, message=message, fix=fix)
        items.append(replace(item, finding=finding, where=tuple(where)))
    settings = tuple(
        (name, tuple(prov.where(name))) for name in _report_settings(report.snapshot.settings())
    )
    return replace(report, items=tuple(items), settings_where=settings)
