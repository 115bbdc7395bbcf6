"""The base of every ``jupyter hardening`` subcommand: strict options, one-line failures, exit 2.

traitlets only warns about an option it does not know (once per configurable that reads the
config), prints argparse's usage for a malformed one and exits 1 on a value of the wrong type.
For a deployment gate a typo must not pass: every subcommand refuses any option it does not
know with one line, a "did you mean" when a real name is close, and exit 2 — 1 means "the
check failed" for these commands.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn

from jupyter_core.application import JupyterApp
from traitlets import TraitType
from traitlets.config import Configurable

from .apperrors import config_errors_as
from .printable import hide_secret_value

# Options every traitlets application understands without an alias.
STANDARD_OPTIONS = ("help", "help-all", "version")
# --Class.trait (or --Parent.Class.trait): what traitlets' parser accepts as a dotted option.
DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
# What argparse (traitlets' parser) takes for a value although it starts with '-'.
NEGATIVE_NUMBER = re.compile(r"-\d+|-\d*\.\d+")


def _an_option(arg: str) -> bool:
    """True when argparse reads ``arg`` as an option, not as the value of the one before."""
    return arg.startswith("-") and not NEGATIVE_NUMBER.fullmatch(arg)


def did_you_mean(name: str, candidates: Iterable[str], prefix: str = "--") -> str:
    """'; did you mean --x?' for the closest candidate, or ''."""
    import difflib

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"; did you mean {prefix}{close[0]}?" if close else ""


def option_names(aliases: Any, flags: Any) -> tuple[set[str], set[str]]:
    """(names that take a value, names that do not) of an app's aliases and flags."""

    def names(keys: Any) -> Iterator[str]:
        # On a class, a Dict trait (ServerApp.aliases) gives its table as its default.
        table: Iterable[Any] = (keys.default() if isinstance(keys, TraitType) else keys) or ()
        for key in table:
            yield from (key,) if isinstance(key, str) else key

    valued = {n.lstrip("-") for n in names(aliases)}
    switches = {n.lstrip("-") for n in names(flags)} | set(STANDARD_OPTIONS)
    return valued, switches


def configurable_classes() -> dict[str, set[str]]:
    """{class name: its config traits} for every Configurable imported in this process.

    Called once the server and its extensions are set up, this is every class a
    ``--Class.trait`` option can reach: ServerApp's, each extension app's and theirs.
    """
    known: dict[str, set[str]] = {}
    stack: list[type[Any]] = [Configurable]
    seen: set[type[Any]] = set()
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        stack.extend(cls.__subclasses__())
        traits = cls.class_trait_names(config=True)
        # A section reaches subclasses too: `c.IdentityProvider.hashed_password` (what
        # `jupyter server password` writes) configures PasswordIdentityProvider.
        for base in cls.__mro__:
            if isinstance(base, type) and issubclass(base, Configurable):
                known.setdefault(base.__name__, set()).update(traits)
    if "ServerApp" not in known:
        return known  # a light command (nginx-snippet) that never imports the server
    # notebook_shim forwards NotebookApp.<trait> to ServerApp and the extension apps.
    known.setdefault("NotebookApp", set()).update(known["ServerApp"])
    try:
        from notebook_shim.traits import NotebookAppTraits
    except ImportError:
        pass
    else:
        known["NotebookApp"].update(NotebookAppTraits.class_trait_names())
    return known


def unknown_trait(option: str, known: dict[str, set[str]]) -> str:
    """Why ``--Class.trait`` names no config trait (with a did-you-mean), or ''."""
    path = option.lstrip("-").split("=", 1)[0].replace("-", "_")
    cls, _, trait = path.rpartition(".")
    cls = cls.rpartition(".")[2]  # --Parent.Class.trait configures Class under Parent
    if cls in known and trait in known[cls]:
        return ""
    everything = [f"{c}.{t}" for c, traits in known.items() for t in traits]
    name = option.split("=", 1)[0]
    if cls in known:
        hint = did_you_mean(f"{cls}.{trait}", (f"{cls}.{t}" for t in known[cls]))
        return f"unknown option {name}: {cls} has no setting {trait!r}{hint}"
    return f"unknown option {name}: no class {cls!r} reads it{did_you_mean(path, everything)}"


class StrictCommand(JupyterApp):
    """A ``jupyter hardening`` subcommand that refuses what it does not understand.

    Subclasses call :meth:`strict_initialize` from ``initialize``; :meth:`fail` prints one line
    on stderr and exits 2.
    """

    # Options (without '--') passed on to another application; checked by the subclass.
    passthrough_valued: set[str] = set()
    passthrough_switches: set[str] = set()

    @property
    def usage_name(self) -> str:
        """How the user typed this command: 'jupyter hardening check'."""
        return self.name.replace("jupyter-hardening", "jupyter hardening").replace(
            "hardening-", "hardening "
        )

    def fail(self, message: str, status: int = 2) -> NoReturn:
        """Usage or configuration error: one line on stderr, then exit."""
        # Values from the command line or a config file may hold newlines or escape codes.
        message = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)
        print(f"{self.usage_name}: {message}", file=sys.stderr)
        self.exit(status)
        raise SystemExit(status)  # pragma: no cover - exit() raises

    def argv_problem(self, argv: list[str], known: dict[str, set[str]] | None = None) -> str:
        """Why ``argv`` is not usable by this command (an unknown or malformed option), or ''.

        ``--Class.trait`` options are checked against ``known`` when given, else only their form.
        Positional arguments are left to the subclass.
        """
        valued, switches = option_names(self.aliases, self.flags)
        valued |= self.passthrough_valued
        switches |= self.passthrough_switches
        args = iter(argv)
        for arg in args:
            if arg == "--":
                break
            if not arg.startswith("-") or arg == "-":
                continue
            name, has_value, _ = arg.lstrip("-").partition("=")
            if "." in name:
                if not DOTTED.match(name):
                    fixed = name.replace("-", "_")
                    hint = f"; did you mean --{fixed}=VALUE?" if DOTTED.match(fixed) else ""
                    return f"unknown option --{name}{hint}"
                if not has_value:  # --Class.trait VALUE, as traitlets' applications take it
                    following = next(args, None)
                    if following is None or _an_option(following):
                        return f"--{name} needs a value: --{name}=VALUE"
                if known is not None:
                    problem = unknown_trait(arg, known)
                    if problem:
                        return problem
                continue
            if name in switches:
                if has_value:
                    return f"--{name} takes no value; write just --{name}"
                continue
            if name in valued:
                if not has_value:
                    following = next(args, None)
                    if following is None or following.startswith("--"):
                        return f"--{name} needs a value, e.g. --{name}=VALUE"
                    negative = re.fullmatch(r"-\d+|-\d*\.\d+", following)  # argparse's test
                    if following.startswith("-") and following != "-" and not negative:
                        # argparse reads it as an option: its whole usage, then "expected one
                        # argument" under the trait's name
                        return f"--{name} needs a value; one that starts with '-' is written --{name}=VALUE"
                continue
            hint = did_you_mean(name, valued | switches)
            return f"unknown option --{name}{hint}; see `{self.usage_name} --help`"
        return ""

    def strict_initialize(self, argv: list[str], parse: Callable[[list[str]], None]) -> None:
        """Refuse bad options, then run ``parse`` (traitlets' initialize) mapping its errors.

        A value of the wrong type is one line (secrets not shown), exit 2; traitlets' own
        exits become 2 as well.
        """
        problem = self.argv_problem(argv)
        if problem:
            self.fail(problem)

        def refused(message: str) -> None:
            self.fail(hide_secret_value(message))

        try:
            with config_errors_as(self.log, refused):
                parse(argv)
        except SystemExit as e:
            raise SystemExit(2 if e.code else 0) from None
