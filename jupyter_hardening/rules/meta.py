"""JH0xx — problems with the audit itself: settings that cannot be read, unknown accepted risks."""

from __future__ import annotations

from collections.abc import Iterator

from ..snapshot import Snapshot
from .base import ACCEPTED_RISK_DROP, Finding, Rule, Severity


class UnreadableSetting(Rule):
    """A security setting that has the wrong type or cannot be read.

    Insecure::

        c.ServerApp.tornado_settings = {'headers': "frame-ancestors 'self'"}   # not a dict

    Fix::

        c.ServerApp.tornado_settings = {'headers': {'Content-Security-Policy': "frame-ancestors 'self'"}}
    """

    id = "JH001"
    name = "unreadable-setting"
    severity = Severity.ERROR
    traits = ("ServerApp.tornado_settings",)
    summary = "A setting has the wrong type or cannot be read"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """One finding per problem recorded while taking the snapshot."""
        for problem in snap.problems:
            yield self.finding(
                problem,
                "fix the type of that setting in your jupyter config file",
                remedy={"problems": tuple(p for p in snap.problems if p != problem)},
            )


class UnknownAcceptedRisk(Rule):
    """``c.Hardening.accepted_risks`` names a rule id that does not exist.

    An advisory id or alias of the advisory snapshot in use (``GHSA-...``, ``CVE-...``) is a
    key too: it accepts that one advisory (JH902).

    A typo there silently accepts nothing; it is reported so the intent is not lost.
    Evaluated by the policy, which knows the accepted risks.

    Insecure::

        c.Hardening.accepted_risks = {'JH46': 'our internal CA'}   # meant JH406

    Fix::

        c.Hardening.accepted_risks = {'JH406': 'our internal CA'}  # ids: jupyter hardening check --list-rules
    """

    id = "JH002"
    name = "unknown-accepted-risk"
    severity = Severity.WARNING
    traits = ("Hardening.accepted_risks",)
    summary = "accepted_risks names an unknown rule id"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Nothing to check on the snapshot alone; see :func:`jupyter_hardening.report.evaluate`."""
        return iter(())

    def unknown(self, rule_id: str) -> Finding:
        """The finding for one unknown id."""
        return self.finding(
            f"Hardening.accepted_risks names {rule_id!r}, which is not a rule id nor an advisory id: nothing is accepted by it.",
            "use an id from `jupyter hardening check --list-rules` or an advisory id from "
            "`jupyter hardening advisories`, or remove it",
            remedy={ACCEPTED_RISK_DROP: rule_id},
        )


class AuditDisabled(Rule):
    """jupyter_hardening is installed but switched off for this server.

    Insecure::

        c.ServerApp.jpserver_extensions = {'jupyter_hardening': False}

    The server then starts whatever its settings, and /hardening does not exist. Only
    ``jupyter hardening check`` can see this: a server that loads the extension has it on.

    Fix::

        c.ServerApp.jpserver_extensions = {'jupyter_hardening': True}
        # or, when no config file names it: jupyter server extension enable jupyter_hardening

    A config file's own entry wins over the extension's enabling file: ``jupyter server
    extension enable`` (which rewrites that file) does not undo a ``False`` set in a config.
    """

    id = "JH003"
    name = "audit-disabled"
    severity = Severity.WARNING
    traits = ("ServerApp.jpserver_extensions",)
    summary = "The extension is disabled: the server starts without this audit"

    def check(self, snap: Snapshot) -> Iterator[Finding]:
        """Fire when jpserver_extensions does not enable jupyter_hardening."""
        if not snap.extension_enabled:
            yield self.finding(
                "jupyter_hardening is disabled in ServerApp.jpserver_extensions: the server will "
                "start without this audit and refuse nothing.",
                "set 'jupyter_hardening': True in c.ServerApp.jpserver_extensions where a config "
                "sets it to False (that entry wins over the enabling file); if no config names it: "
                "jupyter server extension enable jupyter_hardening",
                remedy={"extension_enabled": True},
            )
