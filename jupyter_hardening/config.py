"""``c.Hardening``: the policy that turns findings into a verdict."""

from __future__ import annotations

from typing import Any

from traitlets import Bool, Dict, Enum, Float, TraitError, Unicode, validate
from traitlets.config import Configurable

from .facts import parse_public_url
from .printable import one_line, printable


class Hardening(Configurable):
    """Settings of jupyter_hardening, read from the same config files as the server."""

    refuse_at = Enum(
        ["error", "warning", "never"],
        default_value="error",
        config=True,
        help="""Lowest severity that stops the server from starting.

        'error' (default): refuse on any error finding. 'warning': refuse on warnings too.
        'never': only log. Accepted risks never refuse.""",
    )

    accepted_risks = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        default_value={},
        config=True,
        help="""Findings you accept, as {rule id: reason}.

        Accepted findings are still reported, marked accepted with your reason, and never stop
        the server. Example: c.Hardening.accepted_risks = {'JH406': 'internal CA, pinned'}
        An advisory id or alias (GHSA-..., CVE-...) accepts that one advisory of JH902.""",
    )

    public_url = Unicode(
        "",
        config=True,
        help="""The address people type to reach this server through its proxy, e.g.
        'https://jupyter.example.com:8443/jp/'. Enables the proxy companion checks (base_url,
        local_hostnames, secure cookie) and gives `jupyter hardening nginx-snippet` its defaults.""",
    )

    recheck_interval = Float(
        300.0,
        config=True,
        help="""Seconds between re-checks of what changes without a restart (certificate expiry,
        file permissions) for the /hardening endpoint. Requests are served from the cached report.""",
    )

    diagnose_proxy = Bool(
        True,
        config=True,
        help="""Watch the requests that reach the server for the signs of a broken reverse proxy
        (a Host without its port, websockets without Upgrade, a lost base_url ...) and report them
        as JH71x findings at /hardening, with the proxy line that fixes each. Keeps counters and
        one redacted example per kind, never cookies, tokens or query strings.""",
    )

    @validate("accepted_risks")
    def _validate_accepted_risks(self, proposal: Any) -> dict[str, str]:
        value = proposal["value"]
        for rule_id, reason in value.items():
            if not str(reason).strip():
                raise TraitError(
                    f"c.Hardening.accepted_risks[{rule_id!r}] needs a reason, e.g. "
                    f"c.Hardening.accepted_risks = {{{rule_id!r}: 'why this is acceptable here'}}"
                )
        # Reasons are logged, printed and served: no control characters, no lone surrogates.
        return {printable(str(k).strip().upper()): one_line(str(v)) for k, v in value.items()}

    @validate("public_url")
    def _validate_public_url(self, proposal: Any) -> str:
        value = str(proposal["value"]).strip()
        if value:
            try:
                parse_public_url(value)
            except ValueError as e:
                raise TraitError(
                    f"c.Hardening.public_url: {e}; write it as "
                    "'https://jupyter.example.com:8443/jp/'"
                ) from None
        return value

    @validate("recheck_interval")
    def _validate_recheck_interval(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not value > 0:
            raise TraitError(
                f"c.Hardening.recheck_interval must be a positive number of seconds, not {value}"
            )
        return value
