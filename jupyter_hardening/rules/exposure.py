"""JH9xx — beyond the settings: routes that answer without login, installed versions with
published advisories, and the age of the advisory snapshot that says so."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..advisories import EXPORT_URL, STALE_DAYS, Advisory, VulnerablePackage, fix_command
from ..record import replace
from ..snapshot import Snapshot
from .base import Finding, Rule, Severity


def _reachable(snap: Snapshot) -> str:
    """Why the server counts as reachable by others, or '' on loopback."""
    if snap.remote:
        return f"ServerApp.ip = {snap.ip!r} is reachable from other hosts"
    if snap.public_url:
        return f"the server is published at {snap.public_url} (Hardening.public_url)"
    return ""


class RouteWithoutLogin(Rule):
    """Routes that answer without login: an extension's handler with no authentication decorator.

    jupyter_server requires login only where a decorator asks for it (``@web.authenticated``,
    ``@ws_authenticated``, ``@authorized``) while ``ServerApp.allow_unauthenticated_access`` is
    True, its default. A handler an extension registers without one answers anyone.

    Insecure::

        class LeakyHandler(JupyterHandler):
            def get(self):                       # no @web.authenticated
                self.finish(secrets())

    Fix (jupyter_server then requires login on every method of a ``JupyterHandler`` or
    websocket not marked ``@allow_unauthenticated``; a plain tornado ``RequestHandler`` stays
    open whatever it says: upgrade or remove that extension)::

        c.ServerApp.allow_unauthenticated_access = False

    Left out, as jupyter_server means them to be public: what jupyter_server itself marks
    ``@allow_unauthenticated`` (login, logout, static files, favicon and robots.txt, ``/api``
    with the version only, redirects, ``/metrics`` which checks the login itself, the CORS
    preflight ``OPTIONS``), and methods an extension marks ``@allow_unauthenticated`` (public by
    its author's choice). An error when others can reach the server (or ``public_url`` is set),
    a warning on loopback. See docs/exposure.md.
    """

    id = "JH901"
    name = "route-without-login"
    severity = Severity.ERROR
    traits = ("ServerApp.allow_unauthenticated_access", "ServerApp.jpserver_extensions")
    summary = "A route answers without login (an extension's handler without an auth decorator)"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """One finding listing every open route, an error when others can reach the server."""
        if not snap.open_routes or not snap.auth_enabled:
            return  # with no login at all, JH102/JH103 already say everything is open
        reachable = _reachable(snap)
        grouped: dict[tuple[str, str, str], list[str]] = {}
        for r in snap.open_routes:
            grouped.setdefault((r.pattern, r.handler, r.distribution), []).append(r.method)
        routes = "; ".join(
            f"{', '.join(methods)} {pattern} ({handler}"
            + (f", from {distribution}" if distribution else "")
            + ")"
            for (pattern, handler, distribution), methods in grouped.items()
        )
        closable = all(r.closed_by_setting for r in snap.open_routes)
        plain = sorted(
            {
                r.extension or r.distribution or r.module
                for r in snap.open_routes
                if not r.closed_by_setting
            }
        )
        if closable:
            fix = (
                "c.ServerApp.allow_unauthenticated_access = False (login is then required on "
                "these routes), or upgrade or remove the extension"
            )
        else:
            fix = (
                "upgrade or remove " + ", ".join(plain) + " (its plain tornado handlers answer "
                "whatever c.ServerApp.allow_unauthenticated_access says)"
                + (
                    "; and set c.ServerApp.allow_unauthenticated_access = False for the others"
                    if any(r.closed_by_setting for r in snap.open_routes)
                    else ""
                )
            )
        where = f"{reachable}: anyone who reaches it" if reachable else "anyone on this machine"
        yield self.finding(
            f"{len(grouped)} route(s) have methods without an authentication decorator, so "
            f"jupyter_server does not require login for them: {routes}. Unless a handler checks "
            f"the login itself, {where} can call them.",
            fix,
            severity=Severity.ERROR if reachable else Severity.WARNING,
            # the setting closes the decorated ones; upgrading or removing, the plain ones
            remedy={
                "open_routes": (),
                "allow_unauthenticated_access": snap.allow_unauthenticated_access
                and not any(r.closed_by_setting for r in snap.open_routes),
            },
        )


def _advisory_text(a: Advisory) -> str:
    aliases = f" ({', '.join(a.aliases)})" if a.aliases else ""
    platforms = f", {'/'.join(a.platforms)} only" if a.platforms else ""
    if a.fixed.startswith(">"):
        fixed = f"fixed after {a.fixed[1:]}"
    else:
        fixed = f"fixed in {a.fixed}" if a.fixed else "no fixed release"
    return f"{a.id}{aliases}: {a.severity.lower()}{platforms}, affects {a.affected}, {fixed}"


def accepted_key(a: Advisory, accepted: Mapping[str, str]) -> str:
    """The c.Hardening.accepted_risks key (the id or an alias) that accepts ``a``, or ''."""
    keys = {k.upper(): k for k in accepted}
    return next((keys[k.upper()] for k in (a.id, *a.aliases) if k.upper() in keys), "")


def _level(advisories: list[Advisory], reachable: str) -> Severity:
    severities = {a.severity for a in advisories}
    if severities & {"CRITICAL", "HIGH"}:
        return Severity.ERROR if reachable else Severity.WARNING
    if severities & {"MODERATE", "UNKNOWN"}:
        return Severity.WARNING
    return Severity.INFO


class KnownAdvisory(Rule):
    """An installed package's version has published security advisories.

    The versions installed (read from the distributions on sys.path) are matched, with
    ``packaging`` versions, against the OSV advisory snapshot shipped with jupyter_hardening or a
    newer one installed with ``jupyter hardening advisories --update``. Critical and high advisories are
    errors on a server others can reach (or one published through a proxy), warnings on
    loopback; moderate ones warnings, low ones info. An advisory for another platform
    (Windows only) does not fire.

    Insecure::

        pip install 'jupyter-server-proxy==4.1.0'   # CVE-2024-28179: unauthenticated websockets

    Fix (the lowest version that fixes every advisory that applies, named in the finding)::

        pip install -U 'jupyter-server-proxy>=4.2.0'

    One advisory can be accepted by its id or an alias, without silencing the others:
    ``c.Hardening.accepted_risks = {'GHSA-w3vc-fx9p-wp4v': 'why'}``.
    """

    id = "JH902"
    name = "known-advisory"
    severity = Severity.ERROR
    traits = ("Hardening.accepted_risks",)
    summary = "An installed package version has published security advisories"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """One finding per vulnerable package."""
        return self.check_accepting(snap, {})

    def check_accepting(self, snap: Snapshot, accepted: Mapping[str, str]) -> Iterator[Finding]:
        """One finding per vulnerable package for the advisories not accepted, and one per
        advisory accepted by its id or alias (the policy marks it accepted by that key)."""
        reachable = _reachable(snap)
        where = f" ({reachable})" if reachable else ""
        return advisory_findings(self, snap.vulnerable, accepted, reachable, where=where)


def advisory_findings(
    rule: Rule,
    vulnerable: tuple[VulnerablePackage, ...],
    accepted: Mapping[str, str],
    reachable: str,
    *,
    owner: str = "",
    where: str = "",
) -> Iterator[Finding]:
    """JH902's and JH826's findings: per package, one for its advisories not accepted, and one
    per advisory accepted by its id or an alias (the policy marks it accepted by that key).
    ``owner`` starts the message ("The hub's "), ``where`` follows the count."""
    for package in vulnerable:
        fix = fix_command(package)
        remedy = {"vulnerable": tuple(p for p in vulnerable if p is not package)}
        unaccepted = []
        for a in package.advisories:
            key = accepted_key(a, accepted)
            if not key:
                unaccepted.append(a)
                continue
            yield rule.finding(
                f"{package.name} {package.version} is affected by {_advisory_text(a)}.",
                fix,
                severity=_level([a], reachable),
                key=key,
                remedy=remedy,
            )
        if unaccepted:
            count = len(unaccepted)
            yield rule.finding(
                f"{owner}{package.name} {package.version} is affected by {count} published "
                f"advisor{'y' if count == 1 else 'ies'}{where}: "
                + "; ".join(_advisory_text(a) for a in unaccepted)
                + ".",
                fix,
                severity=_level(unaccepted, reachable),
                remedy=remedy,
            )


class AdvisoriesStale(Rule):
    """The advisory snapshot is older than 90 days, or the installed one cannot be read.

    Advisories published since are unknown to the audit, which never goes to the network.

    Insecure::

        jupyter_hardening installed months ago, its shipped snapshot never updated

    Fix (osv.dev's PyPI export, downloaded where the network is allowed)::

        curl -O https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip
        jupyter hardening advisories --update all.zip
    """

    id = "JH903"
    name = "advisories-stale"
    severity = Severity.INFO
    traits = ("Hardening.accepted_risks",)
    summary = "The advisory snapshot is older than 90 days or unreadable"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire on an old or unreadable snapshot."""
        info = snap.advisories
        fix = (
            f"download {EXPORT_URL} and run `jupyter hardening advisories --update all.zip`, "
            "or pip install -U jupyter_hardening"
        )
        # an up-to-date snapshot, installed by the command in the fix
        fresh = {"advisories": replace(info, problem="", date=snap.taken_at.date())}
        if info.problem:
            yield self.finding(f"Advisory snapshot: {info.problem}.", fix, remedy=fresh)
        if info.date is not None:
            age = (snap.taken_at.date() - info.date).days
            if age > STALE_DAYS:
                yield self.finding(
                    f"The advisory snapshot in use ({info.describe()}) is {age} days old: "
                    "advisories published since are unknown to this audit.",
                    fix,
                    remedy=fresh,
                )
