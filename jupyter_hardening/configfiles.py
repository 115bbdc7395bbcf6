"""Config files the server loads that fail to load: jupyter_server drops them with a log line.

traitlets runs each ``jupyter_*_config.py`` and reads each ``.json`` of every config folder; a
file that raises (a syntax error, ``os.environ['UNSET']``) is logged and skipped, and the server
starts without its settings — a password or an ``ip`` the user believes is set. The audit loads
each file again the same way and turns a failure into a refusal naming the file and line.
"""

from __future__ import annotations

import contextlib
import json
import os
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# Exceptions whose text is a name (a variable, a key, a module), never a setting's value.
_NAMED = (KeyError, NameError, ImportError, AttributeError)
BASE_CONFIG = "jupyter_config"


def extension_apps(serverapp: Any) -> Iterator[Any]:
    """Every extension app the server's extension manager holds (lab's, notebook's ...)."""
    manager = getattr(serverapp, "extension_manager", None)
    for apps in (getattr(manager, "extension_apps", None) or {}).values():
        yield from apps


def config_names(serverapp: Any) -> list[str]:
    """The base names of the config files this server loads: its own and each extension app's."""
    names = [BASE_CONFIG, str(serverapp.config_file_name or "jupyter_server_config")]
    for app in extension_apps(serverapp):
        name = str(getattr(app, "config_file_name", "") or "")
        if name and name not in names:
            names.append(name)
    return names


def candidate_files(serverapp: Any) -> Iterator[Path]:
    """Every config file the server would load, in the order traitlets loads them."""
    explicit = str(getattr(serverapp, "config_file", "") or "")
    if explicit:
        yield Path(explicit)
        # traitlets loads NAME.py and NAME.json for --config NAME.py (or NAME.json): the other
        # one beside it counts too.
        for sibling in (Path(explicit).with_suffix(".py"), Path(explicit).with_suffix(".json")):
            if str(sibling) != explicit and os.path.lexists(sibling):
                yield sibling
    folders = [str(p) for p in getattr(serverapp, "config_file_paths", []) or [] if p]
    files = [name + suffix for name in config_names(serverapp) for suffix in (".py", ".json")]
    for folder in reversed(folders):
        try:
            present = set(os.listdir(folder))  # noqa: PTH208 - one listing, not a stat per name
        except OSError:
            continue  # no such folder: traitlets skips it too
        for file_name in files:
            if file_name in present:  # a file, or a name traitlets skips (see not_loaded)
                yield Path(folder, file_name)


def load_error(path: Path) -> tuple[int | None, str] | None:
    """(line, reason) when traitlets could not load ``path``, else None."""
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    loader_class = PyFileConfigLoader if path.suffix == ".py" else JSONFileConfigLoader
    loader = loader_class(path.name, path=str(path.parent))
    try:
        config = loader.load_config()
    except SyntaxError as e:
        # e.text is the line itself, which may hold a secret: only the parser's words.
        return e.lineno, f"SyntaxError: {e.msg}"
    except json.JSONDecodeError as e:
        return e.lineno, f"not valid JSON: {e.msg}"
    except SystemExit as e:  # exit() in a config file: traitlets does not catch it either
        return _line_in(path, e), "SystemExit: the file calls exit()"
    except Exception as e:
        line = _line_in(path, e)
        detail = f": {e}" if isinstance(e, _NAMED) else ""
        return line, f"{type(e).__name__}{detail}"
    return _not_an_object(config)


# What a JSON value is called in a message: never the value itself, which may be a secret.
_JSON_TYPES = {
    bool: "true/false",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "a list",
}


def _not_an_object(config: Any) -> tuple[None, str] | None:
    """A ``.json`` section that is not an object (``{"ServerApp": 5}``): traitlets loads it, and
    the server fails on it later with a traceback (or drops it under a command-line option)."""
    for key, value in config.items():
        # traitlets' own test for a section (a Class name): first letter upper case, no "_"
        section = key and key[0].upper() == key[0] and not key.startswith("_")
        if section and not isinstance(value, dict):
            kind = _JSON_TYPES.get(type(value), "null")
            return None, f"{key} must be an object ({{...}}), not {kind}"
    return None


def _line_in(path: Path, e: BaseException) -> int | None:
    """The last line of ``path`` in the exception's traceback."""
    target = os.path.realpath(path)
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(e.__traceback__)
        if os.path.realpath(frame.filename) == target
    ]
    return lines[-1] if lines else None


def config_file_errors(serverapp: Any) -> list[tuple[str, str]]:
    """(problem, fix) for each config file the server loads and traitlets (or, for the
    ``jupyter_server_config.d`` folders, jupyter_server) cannot."""
    return [*_problems(candidate_files(serverapp)), *_folder_problems(serverapp)]


# jupyter_server reads every *.json in this folder of each config folder (ExtensionConfigManager)
# for jpserver_extensions: an extension's package enables itself with a file there.
EXTENSIONS_FOLDER = "jupyter_server_config.d"
_FOLDER_FILE_LIMIT = 1024 * 1024


def extension_config_files(serverapp: Any) -> Iterator[Path]:
    """The ``jupyter_server_config.d/*.json`` files jupyter_server reads, in its order."""
    for folder in reversed(
        [str(p) for p in getattr(serverapp, "config_file_paths", []) or [] if p]
    ):
        where = Path(folder, EXTENSIONS_FOLDER)
        try:
            names = sorted(os.listdir(where))  # noqa: PTH208
        except OSError:
            continue  # no such folder: jupyter_server's glob finds nothing either
        for name in names:
            path = where / name
            # glob('*.json') leaves out dot files; jupyter_server skips what is no file, or empty.
            if name.endswith(".json") and not name.startswith(".") and path.is_file():
                with contextlib.suppress(OSError):
                    if path.stat().st_size:
                        yield path


def folder_file_error(path: Path) -> tuple[int | None, str] | None:
    """(line, reason) when jupyter_server cannot use the ``.d`` file at ``path``, else None."""
    from .safefile import read_bounded

    try:
        text = read_bounded(str(path), _FOLDER_FILE_LIMIT).decode("utf-8")
        data = json.loads(text)
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as e:
        return e.lineno, f"not valid JSON: {e.msg}"
    except OSError as e:
        return None, f"cannot be read: {e.strerror or type(e).__name__}"
    if not isinstance(data, dict):
        return None, f"must be an object ({{...}}), not {_JSON_TYPES.get(type(data), 'null')}"
    return _not_an_object(data)


def _folder_problems(serverapp: Any) -> Iterator[tuple[str, str]]:
    for path in extension_config_files(serverapp):
        error = folder_file_error(path)
        if error is None:
            continue
        line, reason = error
        where = f"{path}:{line}" if line else str(path)
        then = (
            "jupyter_server skips it, and the extensions it enables or disables are not"
            if reason.startswith("not valid JSON")
            else "jupyter_server stops at startup with a traceback"
        )
        yield (
            f"the config file {where} fails to load ({reason}): {then}",
            f"correct {where}, or remove the file",
        )


def not_loaded(path: Path) -> str | None:
    """Why traitlets would skip a config file without a word ('' for a regular file): it loads
    only what os.path.isfile accepts, as if nothing else existed, and the server starts without
    the settings the user put there (a link whose target moved, a folder, a missing --config).
    None for /dev/null: a name blanked on purpose (ln -s /dev/null), no settings to lose."""
    if os.path.isfile(path):  # noqa: PTH113 - traitlets' own test
        return ""
    if os.path.realpath(path) == os.devnull:
        return None
    if os.path.islink(path) and not os.path.exists(path):  # noqa: PTH110, PTH114
        return "is a symbolic link to a missing file"
    if not os.path.lexists(path):
        return "does not exist"
    from .safefile import not_a_file

    return f"is {not_a_file(path)}"


def _problems(paths: Iterable[Path]) -> Iterator[tuple[str, str]]:
    for path in paths:
        why = not_loaded(path)
        if why is None:
            continue  # /dev/null: traitlets skips it, and nothing is lost
        if why:
            yield (
                f"the config file {path} {why}: jupyter_server skips it without a word and starts "
                "without its settings",
                f"create {path}, or stop naming it (--config)"
                if why == "does not exist"
                else f"point {path} at the config file it should be, or remove it",
            )
            continue
        error = load_error(path)
        if error is None:
            continue
        line, reason = error
        where = f"{path}:{line}" if line else str(path)
        if reason.startswith("SystemExit"):
            then = "jupyter_server exits at startup without a message"
        elif "must be an object" in reason:
            then = "jupyter_server stops at startup with a traceback, or drops its settings"
        else:
            then = "jupyter_server would skip it and start without its settings"
        yield (
            f"the config file {where} fails to load ({reason}): {then}",
            f"correct {where}, or remove the file",
        )
