"""The rules reference, ``docs/rules.md``, written from the rules themselves.

``python -m jupyter_hardening.docs docs/rules.md`` rewrites it; without an argument it prints it.
Each rule gets the anchor ``#jh101`` (its id in lower case) for help links and SARIF ``helpUri``.
A test fails when the file differs from what this module writes.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path

from .rules import DOCUMENTED, Described, Rule

HEADER = """\
# Rules

<!-- Written by `python -m jupyter_hardening.docs docs/rules.md` from the rules' docstrings
     in jupyter_hardening/rules/: edit those, then run the command. -->

Every rule `jupyter_hardening` applies, in the order it applies them. Ids are stable and banded by
concern: JH0xx the audit itself, JH1xx network exposure, JH2xx authentication, JH3xx CORS/origins,
JH4xx TLS files, JH5xx `base_url`, JH6xx CSP `frame-ancestors`, JH7xx reverse proxy, JH80x
JupyterHub user servers, JH81x-JH82x the hub's own `jupyterhub_config.py` (judged by
`jupyter hardening hub-check`, see [hub-check.md](hub-check.md)), JH9xx routes without login
and known advisories. Two kinds are not judged from the
settings: JH710-JH715 from the requests a running server sees (`/hardening`, `/metrics`; never
`check`), JH750-JH769 by `jupyter hardening nginx-check` from nginx files (see
[proxy-diagnosis.md](proxy-diagnosis.md)). Each id is an anchor here (e.g. [`#jh101`](#jh101)) for help links; each rule lives in
`jupyter_hardening/rules/<concern>.py`, and its docstring is its entry below. Rules judge values
and combinations (an `allow_origin_pat` is tried against attacker origins; a token's strength is
estimated; certificates are read with `cryptography`), not names. The log line and the report
carry the exact fix for your values.

An `error` refuses the server's start by default (`c.Hardening.refuse_at`); a `warning` and an
`info` are reported. A risk you have weighed is accepted by id, with its reason:
`c.Hardening.accepted_risks = {'JH406': 'our internal CA'}`. That works for the live and the
nginx-check ids too: an accepted finding is shown as accepted and not counted (nginx-check reads
the setting from the same Jupyter config files as the server).
"""
FOOTER = """\
## How the rules read the settings

A token counts as weak under 80 bits (its length times the smaller of its alphabet's and its own
characters' entropy); a generated token holds 192 random bits and is estimated at about 170 to 190.
"Reachable from other hosts" means `ip` is `''`, `*`, `0.0.0.0`, `::` or any address that is not
loopback, and no unix socket is used.

Values are the effective ones: jupyter_server applies `c.ServerApp.tornado_settings` over its own
settings, so `disable_check_xsrf`, `allow_remote_access`, `local_hostnames` and (when the trait is
empty) `allow_origin_pat`, a string or a compiled regex, written there win over the traits of the
same name. The findings then name `ServerApp.tornado_settings['...']`, and the fix says to remove it.
"""
INLINE_LITERAL = re.compile(r"``(.+?)``")


def anchor(rule: Rule | Described) -> str:
    """The stable anchor of a rule's entry: its id in lower case."""
    return rule.id.lower()


def markdown_text(text: str) -> str:
    """reST inline literals (````x````) as Markdown code (```x```)."""
    return INLINE_LITERAL.sub(r"`\1`", text)


def is_python(code: str) -> bool:
    """True when a literal block is config-file Python (assignments only), for its code fence."""
    try:
        statements = ast.parse(code).body
    except SyntaxError:
        return False
    return bool(statements) and all(isinstance(s, ast.Assign) for s in statements)


def sections(doc: str) -> list[tuple[str, str | None]]:
    """A rule docstring's parts in order: (paragraph, None), or (label, code) for each
    ``Label::`` literal block (the label without its ``::``)."""
    parts: list[tuple[str, str | None]] = []
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    i = 0
    while i < len(paragraphs):
        paragraph = " ".join(paragraphs[i].split())
        i += 1
        if not paragraph.endswith("::"):
            parts.append((paragraph, None))
            continue
        code: list[str] = []
        while i < len(paragraphs) and paragraphs[i].startswith("    "):
            code.append("\n".join(line[4:] for line in paragraphs[i].splitlines()))
            i += 1
        parts.append((paragraph[:-2], "\n\n".join(code)))
    return parts


def docstring_markdown(doc: str) -> list[str]:
    """A rule docstring as Markdown lines: literal blocks become fenced code."""
    out: list[str] = []
    for text, code in sections(doc):
        if code is None:
            out += [markdown_text(text), ""]
        else:
            fence = "python" if is_python(code) else "text"
            out += [f"**{markdown_text(text)}:**", "", f"```{fence}", code, "```", ""]
    return out[:-1]


def band_title(rule: Rule | Described) -> str:
    """The first line of the rule module's docstring, e.g. ``JH1xx — who can reach ...``."""
    module = sys.modules[type(rule).__module__]
    return markdown_text((module.__doc__ or "").strip().splitlines()[0].rstrip("."))


def render() -> str:
    """The whole of docs/rules.md."""
    lines = [HEADER, "| id | name | severity | what it finds |", "|---|---|---|---|"]
    lines += [
        f"| [{r.id}](#{anchor(r)}) | `{r.name}` | {r.severity.label} | {r.summary} |"
        for r in DOCUMENTED
    ]
    band = ""
    for rule in DOCUMENTED:
        if band_title(rule) != band:
            band = band_title(rule)
            lines += ["", f"## {band}"]
        source = inspect.getsourcefile(type(rule)) or ""
        module = Path(source).name
        lines += [
            "",
            f'<a id="{anchor(rule)}"></a>',
            "",
            f"### {rule.id} `{rule.name}` — {rule.summary}",
            "",
            f"Severity **{rule.severity.label}**; settings "
            + ", ".join(f"`{t}`" for t in rule.traits)
            + f"; `{type(rule).__name__}` in `jupyter_hardening/rules/{module}`.",
            "",
            *docstring_markdown(type(rule).__doc__ or ""),
        ]
    return "\n".join([*lines, "", FOOTER]).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> None:
    """Write docs/rules.md to the path given, or print it."""
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if not args:
        sys.stdout.write(text)
        return
    Path(args[0]).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
