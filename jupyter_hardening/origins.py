"""Judge origin patterns and frame-ancestors sources by the origins an attacker can obtain.

A pattern is read as a regular expression tree (``re._parser``): first for backtracking that a
request's Origin could trigger (found structurally, never by running it), then for the names it
seems to mean, then it is matched the way jupyter_server matches it against origins built
around those names (lookalikes, other schemes and ports, names under public suffixes). Whether an
admitted origin is an attacker's is decided with the Public Suffix List (``publicsuffixlist``),
imported only when a pattern or a wildcard source is judged.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import re
from dataclasses import dataclass
from typing import Any

from .facts import browser_loopback, ip_literal

# re._parser since Python 3.11 (sre_parse, deprecated there, before).
try:
    _parser: Any = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - Python 3.10
    _parser = importlib.import_module("sre_parse")

# A repeat that can run this many times or more counts as long: the work a backtracking match
# does grows with the Origin's length (up to 64 KiB, tornado's header limit).
LONG = 32
MAX_PATTERN = 2000  # longer patterns are judged by structure only
MAX_ANALYSE = 5000  # longer ones not at all (JH302 says so): parsing alone takes a while
MAX_CANDIDATES = 400
CHAIN_WINDOW = 16  # repeats looked back at per repeat: bounds the work on huge patterns
MAX_DEGREE = 3  # n³ is as bad as it needs to get to be reported
MAX_REST = 32  # an iteration this long after the inner repeat still fails exponentially
MAX_ALTERNATIVES = 64  # alternatives compared pairwise under a repeat
MAX_REPRESENTATIVES = 12
# Patterns jupyter_hardening suggests use this as the example of "your own site".
EXAMPLE_PATTERN = r"https://app\.example\.com"

# Character sets are bit masks over ASCII plus one bit standing for every non-ASCII character.
_NON_ASCII = 128
_ALL = (1 << 129) - 1
_NL = 1 << ord("\n")


def _bits(chars: str) -> int:
    mask = 0
    for ch in chars:
        mask |= 1 << ord(ch)
    return mask


_LOWER = _bits("abcdefghijklmnopqrstuvwxyz")
_UPPER = _bits("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = _bits("0123456789")
_WORD = _LOWER | _UPPER | _DIGIT | _bits("_") | (1 << _NON_ASCII)
_SPACE = _bits(" \t\n\r\f\v") | (1 << _NON_ASCII)
_CATEGORIES = {
    "DIGIT": _DIGIT | (1 << _NON_ASCII),
    "WORD": _WORD,
    "SPACE": _SPACE,
    "LINEBREAK": _NL,
}


def _category(name: str) -> int:
    # CATEGORY_DIGIT, CATEGORY_UNI_NOT_WORD, CATEGORY_LOC_WORD ...
    base = name.removeprefix("CATEGORY_").removeprefix("UNI_").removeprefix("LOC_")
    negate = base.startswith("NOT_")
    mask = _CATEGORIES.get(base.removeprefix("NOT_"), _ALL)
    return (_ALL & ~mask) | (1 << _NON_ASCII) if negate else mask


def _char(code: int) -> int:
    return 1 << (code if code < 128 else _NON_ASCII)


def _class(items: list[tuple[Any, Any]]) -> int:
    mask, negate = 0, False
    for op, av in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            mask |= _char(av)
        elif name == "RANGE":
            lo, hi = av
            for code in range(lo, min(hi, 127) + 1):
                mask |= 1 << code
            if hi >= 128:
                mask |= 1 << _NON_ASCII
        elif name == "CATEGORY":
            mask |= _category(str(av))
        else:  # CHARSET/BIGCHARSET never appear in a parse tree; be conservative
            mask = _ALL
    return (_ALL & ~mask) | (1 << _NON_ASCII) if negate else mask


@dataclass(frozen=True)
class _Info:
    chars: int  # every character the node can consume
    first: int  # characters a non-empty match can start with
    nullable: bool


_EMPTY = _Info(0, 0, True)


class _Analyser:
    """Character-set facts about parse-tree nodes, with the pattern's case folding."""

    def __init__(self, flags: int) -> None:
        self.ignorecase = bool(flags & re.IGNORECASE)
        self.dotall = bool(flags & re.DOTALL)
        # by id: tree nodes hold lists (unhashable) and live as long as the tree
        self._memo: dict[int, tuple[tuple[Any, Any], _Info]] = {}

    def fold(self, mask: int) -> int:
        if not self.ignorecase:
            return mask
        return mask | ((mask & _LOWER) >> 32) | ((mask & _UPPER) << 32)

    def seq(self, items: Any) -> _Info:
        chars = first = 0
        nullable = True
        for item in items:
            info = self.node(item)
            chars |= info.chars
            if nullable:
                first |= info.first
            nullable = nullable and info.nullable
        return _Info(chars, first, nullable)

    def node(self, item: tuple[Any, Any]) -> _Info:
        cached = self._memo.get(id(item))
        if cached is not None and cached[0] is item:
            return cached[1]
        info = self._node(item)
        self._memo[id(item)] = (item, info)
        return info

    def _node(self, item: tuple[Any, Any]) -> _Info:
        op, av = item
        name = str(op)
        if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            if name == "LITERAL":
                mask = self.fold(_char(av))
            elif name == "NOT_LITERAL":
                mask = _ALL & ~self.fold(_char(av)) | (1 << _NON_ASCII)
            elif name == "ANY":
                mask = _ALL if self.dotall else _ALL & ~_NL
            else:
                mask = self.fold(_class(av))
            return _Info(mask, mask, False)
        if name == "BRANCH":
            infos = [self.seq(alt) for alt in av[1]]
            return _Info(
                _or(i.chars for i in infos),
                _or(i.first for i in infos),
                any(i.nullable for i in infos),
            )
        if name == "SUBPATTERN":
            return self.seq(av[-1])
        if name == "ATOMIC_GROUP":
            return self.seq(av)
        if name.endswith("REPEAT"):
            lo, _hi, body = av
            info = self.seq(body)
            return _Info(info.chars, info.first, lo == 0 or info.nullable)
        if name == "GROUPREF_EXISTS":
            _group, yes, no = av
            infos = [self.seq(yes), self.seq(no) if no else _EMPTY]
            return _Info(
                infos[0].chars | infos[1].chars,
                infos[0].first | infos[1].first,
                infos[0].nullable or infos[1].nullable,
            )
        if name == "GROUPREF":
            return _Info(_ALL, _ALL, True)
        return _EMPTY  # AT, ASSERT, ASSERT_NOT: zero width


def _or(masks: Any) -> int:
    out = 0
    for mask in masks:
        out |= mask
    return out


def _subset(a: int, b: int) -> bool:
    return a & ~b == 0


def _repeat(item: tuple[Any, Any]) -> tuple[int, int, Any] | None:
    """(min, max, body) of a backtracking repeat; None for anything else (possessive too)."""
    op, av = item
    if str(op) in ("MAX_REPEAT", "MIN_REPEAT"):
        lo, hi, body = av
        return lo, hi, body
    return None


def _walk(items: Any) -> Any:
    """Every node of a parse tree, depth first."""
    for item in items:
        yield item
        op, av = item
        name = str(op)
        if name == "BRANCH":
            for alt in av[1]:
                yield from _walk(alt)
        elif name == "SUBPATTERN":
            yield from _walk(av[-1])
        elif name == "ATOMIC_GROUP":
            yield from _walk(av)
        elif name.endswith("REPEAT"):
            yield from _walk(av[2])
        elif name == "GROUPREF_EXISTS":
            yield from _walk(av[1])
            if av[2]:
                yield from _walk(av[2])
        elif name in ("ASSERT", "ASSERT_NOT"):
            yield from _walk(av[1])


# A repeat whose every iteration may match nothing, and that must run at least this many times
# ((?:[a-z]?){20}), chooses which iterations take a character: C(n, n/2) ways to fail. {20}
# took 55 ms for one Origin, {26} 4 s. Without such a minimum (*, +, {0,n}) CPython stops at
# the first empty iteration: linear.
MAX_NULLABLE_REPEAT = 12


def _nested_ambiguity(an: _Analyser, outer: tuple[int, int, Any]) -> str:
    """Why a repeat's iterations can split the same text in many ways, or ''."""
    lo, hi, body = outer
    body_info = an.seq(body)
    first = body_info.first
    if lo > MAX_NULLABLE_REPEAT and body_info.nullable and body_info.chars:
        import math

        n = min(lo, 64)
        return (
            f"a group repeated at least {lo} times can match nothing in each iteration, so an "
            f"Origin that fails is tried in up to {math.comb(n, n // 2):,} ways (3.5 times as "
            "many with every two more; {26}: 4 s for one Origin of 60 characters, measured here)"
        )

    def mandatory_after(follow: tuple[tuple[Any, int], ...]) -> Any:
        """The mandatory items after a point, as (sequence, start) segments; at most MAX_REST."""
        count = 0
        for items, start in follow:
            for k in range(start, len(items)):
                if _mandatory(an, items[k]):
                    yield items[k]
                    count += 1
                    if count >= MAX_REST:
                        return

    def scan(items: Any, follow: tuple[tuple[Any, int], ...]) -> str:
        for i, item in enumerate(items):
            rest = ((items, i + 1), *follow)
            op, av = item
            name = str(op)
            inner = _repeat(item)
            if inner is not None:
                _ilo, ihi, ibody = inner
                info = an.seq(ibody)
                # Bounded repeats multiply: ({1,31}){1,31} splits 961 characters as freely
                # as (a+)+ (a 41-character Origin took 181 s).
                # An optional piece ((?:[a-z][a-z0-9-]?)+, ihi 1) splits as freely once the
                # outer repeat is long: 'aa' is one iteration or two (Fibonacci, not 2^n).
                # (A body that may match nothing as a whole stops at its first empty
                # iteration in CPython: (?:(?:x\.)?)* is linear.)
                long_enough = (hi >= 2 and ihi >= 2 and hi * ihi >= LONG) or (
                    ihi >= 1 and hi >= LONG and not body_info.nullable
                )
                # What is left of this iteration can take characters the inner repeat takes,
                # and the next iteration starts with one: where an iteration ends is free, 2^n
                # ways to fail. A mandatory item sharing nothing with it pins the boundary.
                if (
                    long_enough
                    and info.chars
                    and first & info.chars
                    and all(an.node(r).chars & info.chars for r in mandatory_after(rest))
                ):
                    return "a repeated group holds a repeat that can match the same text"
            elif name == "BRANCH":
                node = an.node(item)
                # (?:aa|a)+ is parsed as a(?:a|): an alternative that matches nothing is an
                # optional piece, as above.
                if (
                    hi >= LONG
                    and not body_info.nullable
                    and node.nullable
                    and node.chars
                    and first & node.chars
                    and all(an.node(r).chars & node.chars for r in mandatory_after(rest))
                ):
                    return "a repeated group holds an optional part that can match the same text"
                if hi >= LONG:
                    alts = av[1][:MAX_ALTERNATIVES]
                    infos = [an.seq(alt) for alt in alts]
                    for a in range(len(alts)):
                        for b in range(a + 1, len(alts)):
                            x, y = infos[a], infos[b]
                            single = _single_char(alts[a]) and _single_char(alts[b])
                            if x.first & y.first and (
                                single or _subset(x.chars, y.chars) or _subset(y.chars, x.chars)
                            ):
                                return (
                                    "a repeated group has alternatives that can match the same text"
                                )
                for alt in av[1]:
                    found = scan(alt, rest)
                    if found:
                        return found
            elif name == "SUBPATTERN":
                found = scan(av[-1], rest)
                if found:
                    return found
        return ""  # an atomic group never gives back what it matched: not scanned

    return scan(body, ())


def _single_char(items: Any) -> bool:
    return len(items) == 1 and str(items[0][0]) in ("LITERAL", "NOT_LITERAL", "ANY", "IN")


def _mandatory(an: _Analyser, item: tuple[Any, Any]) -> bool:
    return not an.node(item).nullable


def _flatten(items: Any) -> list[tuple[Any, Any]]:
    """A sequence with plain groups opened up (their items belong to the same sequence)."""
    out: list[tuple[Any, Any]] = []
    for item in items:
        if str(item[0]) == "SUBPATTERN":
            out.extend(_flatten(item[1][-1]))
        else:
            out.append(item)
    return out


def _sequence_degree(an: _Analyser, items: Any) -> int:
    """The longest chain of long repeats in one sequence that can trade text between them.

    ``.*\\..*\\.com`` is 2: for each split the first '.*' tries, the second scans the rest again,
    so an Origin that fails costs n² steps (12 s for 30 000 characters on CPython 3.11).
    """
    seq = _flatten(items)
    best = 1 if any((r := _repeat(i)) is not None and r[1] >= LONG for i in seq) else 0
    chain: dict[int, int] = {}
    for j, item in enumerate(seq):
        rj = _repeat(item)
        if rj is None or rj[1] < LONG:
            continue
        info_j = an.seq(rj[2])
        chain[j] = 1
        for i in list(chain)[-CHAIN_WINDOW:]:
            if i >= j:
                continue
            ri = _repeat(seq[i])
            assert ri is not None
            info_i = an.seq(ri[2])
            between = seq[i + 1 : j]
            if info_j.first & info_i.chars and all(
                an.node(b).chars & info_i.chars for b in between if _mandatory(an, b)
            ):
                chain[j] = max(chain[j], chain[i] + 1)
        # A chain costs only if something after it can still fail.
        if chain[j] > best and any(_mandatory(an, t) for t in seq[j + 1 :]):
            best = chain[j]
            if best >= MAX_DEGREE:
                return best
    for item in seq:
        name = str(item[0])
        if name == "BRANCH":
            for alt in item[1][1]:
                best = max(best, _sequence_degree(an, alt))
        elif name.endswith("REPEAT") or name == "ATOMIC_GROUP":
            body = item[1][2] if name.endswith("REPEAT") else item[1]
            best = max(best, _sequence_degree(an, body))
        if best >= MAX_DEGREE:
            break
    return best


@functools.lru_cache(maxsize=256)
def backtracking(pattern: str) -> str:
    """Why matching ``pattern`` can take exponential or polynomial time, or '' when it cannot.

    Read from the parse tree only: the pattern is never run to find out.
    """
    if len(pattern) > MAX_ANALYSE:
        return ""
    try:
        tree = _parser.parse(pattern)
    except RecursionError:
        return "it nests groups too deeply to be judged"
    except Exception:
        return ""  # invalid patterns are judged elsewhere
    try:
        return _backtracking(tree)
    except RecursionError:
        return "it nests groups too deeply to be judged"


def _backtracking(tree: Any) -> str:
    an = _Analyser(tree.state.flags)
    for item in _walk(tree):
        outer = _repeat(item)
        if outer is not None:
            why = _nested_ambiguity(an, outer)
            if why:
                return why + " (exponential backtracking)"
    degree = _sequence_degree(an, tree)
    if degree >= 2:
        power = f"{degree}" if degree < MAX_DEGREE else f"{degree} or more"
        return (
            f"{power} unbounded repeats in a row can each match the same text (backtracking "
            f"grows with the Origin's length to the power {power})"
        )
    return ""


# --- what a pattern seems to mean ----------------------------------------------------------

# A piece of a representative string: text and whether the pattern fixes it (a literal) or
# lets it vary (a class, a wildcard, a repeat). An empty, varying piece marks a place where a
# repeat matched nothing: attackers put their text there.
Piece = tuple[str, bool]
_PREFERRED = "aexm0-._"


def _pick(mask: int) -> str:
    for ch in _PREFERRED + "bcdfghijklnopqrstuvwyz123456789":
        if mask & (1 << ord(ch)):
            return ch
    for code in range(33, 127):
        if mask & (1 << code):
            return chr(code)
    return ""


def _beside_a_dot(items: list[Any], i: int) -> bool:
    """True when the item before or after ``items[i]`` is a literal '.'."""
    return any(
        0 <= j < len(items) and str(items[j][0]) == "LITERAL" and items[j][1] == ord(".")
        for j in (i - 1, i + 1)
    )


def _representatives(an: _Analyser, items: Any, varying: bool = False) -> list[list[Piece]]:
    """A few strings the tree matches, as pieces; bounded by MAX_REPRESENTATIVES."""
    results: list[list[Piece]] = [[]]
    items = list(items)
    for i, item in enumerate(items):
        if str(item[0]) == "ANY" and not varying and _beside_a_dot(items, i):
            # 'example.\.com': a lone '.' next to an escaped one is no host name's dot (that
            # would read 'example..com'); it stands for any character: app.examplex.com
            options = [[("a", False)]]
        else:
            options = _item_reps(an, item, varying)
        if not options:
            return []
        results = [r + o for r in results for o in options][:MAX_REPRESENTATIVES]
    return results


def _item_reps(an: _Analyser, item: tuple[Any, Any], varying: bool) -> list[list[Piece]]:
    op, av = item
    name = str(op)
    if name == "LITERAL":
        return [[(chr(av), not varying)]]
    if name == "ANY":
        # A lone '.' in 'app.example.com' is meant as the dot of a host name.
        return [[("a", False)]] if varying else [[(".", True)]]
    if name in ("NOT_LITERAL", "IN"):
        mask = an.node(item).chars
        ch = _pick(mask)
        if not ch:
            return []
        folded = mask & ~_UPPER if an.ignorecase else mask
        single = folded & (folded - 1) == 0
        return [[(ch, single and not varying)]]
    if name == "BRANCH":
        out: list[list[Piece]] = []
        for alt in av[1]:
            out.extend(_representatives(an, alt, varying))
        return out[:MAX_REPRESENTATIVES]
    if name == "SUBPATTERN":
        return _representatives(an, av[-1], varying)
    if name == "ATOMIC_GROUP":
        return _representatives(an, av, varying)
    if name.endswith("REPEAT"):
        lo, hi, body = av
        inner_varying = varying or hi > 1
        once = _representatives(an, body, inner_varying)
        if not once:
            return [[("", hi == 1 and not varying)]] if lo == 0 else []
        out = []
        for rep in once:
            counted = rep * max(lo, 1)
            if hi > lo:
                counted = [(t, f and hi == 1) for t, f in counted]
            out.append(counted)
        if lo == 0:
            # an optional part left out is fixed; a repeat matching nothing is a place to fill
            out.insert(0, [("", hi == 1 and not varying)])
        return out[:MAX_REPRESENTATIVES]
    if name == "GROUPREF_EXISTS":
        return _representatives(an, av[1], varying)
    return [[]]  # anchors and lookarounds match no text


_ORIGIN = re.compile(
    r"(?P<scheme>https?)://(?P<host>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
)


@dataclass(frozen=True)
class Origin:
    """A browser-serialized origin: scheme, host and optional port."""

    scheme: str
    host: str
    port: str = ""

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}" + (f":{self.port}" if self.port else "")


def parse_origin(text: str) -> Origin | None:
    """The origin ``text`` names, or None when a browser would never send it."""
    m = _ORIGIN.fullmatch(text)
    if not m or ".." in m["host"]:
        return None
    return Origin(m["scheme"], m["host"], m["port"] or "")


@dataclass(frozen=True)
class _Rep:
    origin: Origin
    pieces: tuple[Piece, ...]

    @property
    def char_fixed(self) -> tuple[bool, ...]:
        """For each character of the origin, whether the pattern fixes it."""
        return tuple(f for text, f in self.pieces for _ in text)

    @property
    def host_fixed(self) -> tuple[bool, ...]:
        """For each character of the host, whether the pattern fixes it."""
        start = len(self.origin.scheme) + 3
        return self.char_fixed[start : start + len(self.origin.host)]

    @property
    def fixed_host(self) -> str:
        """The host, or the whole labels at its end after the last character the pattern
        lets vary: the name the pattern seems to trust."""
        host, fixed = self.origin.host, self.host_fixed
        if all(fixed):
            return host
        k = max(i for i, f in enumerate(fixed) if not f) + 1
        tail = host[k:]
        if host[k - 1] == ".":
            return tail
        return tail[1:] if tail.startswith(".") else tail.partition(".")[2]


def _psl() -> Any:
    return _load_psl()


@functools.lru_cache(maxsize=1)
def _load_psl() -> Any:
    # Imported here: the list costs ~100 ms to load, and a default server has no pattern.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_unknown=False)


@functools.lru_cache(maxsize=1)
def _suffix_rules() -> tuple[str, ...]:
    """The Public Suffix List's rules as written ('*.' wildcards kept, exceptions dropped)."""
    from pathlib import Path

    from publicsuffixlist import PSLFILE

    lines = (line.strip() for line in Path(PSLFILE).read_text(encoding="utf-8").splitlines())
    return tuple(line.lower() for line in lines if line and not line.startswith(("//", "!")))


@functools.lru_cache(maxsize=64)
def hosted_under(domain: str, limit: int = 6) -> tuple[str, ...]:
    """Names under ``domain`` where anyone can host a page: the public suffixes the list holds
    beneath it (s3.amazonaws.com under amazonaws.com), each with an attacker's label."""
    tail = "." + domain
    found = sorted((r for r in _suffix_rules() if r.endswith(tail)), key=len)[:limit]
    return tuple("evil." + r.replace("*", "x") for r in found)


def registrable(host: str) -> str | None:
    """The domain someone registers to own ``host`` (PSL), or None (a public suffix, unknown TLD
    or an address)."""
    if ip_literal(host) is not None:
        return None
    psl = _psl()
    if psl.publicsuffix(host) is None:
        return None
    result = psl.privatesuffix(host)
    return str(result) if result else None


def is_public_suffix(name: str) -> bool:
    """True when anyone can register names directly under ``name`` (com, github.io, web.app)."""
    name = name.strip(".").lower()
    return bool(name) and _psl().publicsuffix(name) == name


@dataclass(frozen=True)
class Admitted:
    """An origin the pattern admits that is not the site owner's to control, and why."""

    origin: str
    why: str


@dataclass(frozen=True)
class Judgement:
    """What an origin pattern admits, as jupyter_server matches it."""

    pattern: str
    invalid: str = ""
    backtracking: str = ""
    too_long: bool = False
    # Origins anyone on the internet can obtain (any origin, 'null', a domain they register).
    anyone: tuple[Admitted, ...] = ()
    # Origins that the pattern's fixed part does not relate to at all (it admits everything).
    generic: tuple[Admitted, ...] = ()
    # Plain-http origins of other hosts: an on-path network attacker can serve them.
    plain_http: tuple[Admitted, ...] = ()

    @property
    def admits_attacker(self) -> bool:
        """True when any origin an attacker can obtain is admitted."""
        return bool(self.anyone or self.generic or self.plain_http)


# Origins unrelated to any site: a pattern admitting one of them admits everyone. 'null' is
# what sandboxed iframes and data: URLs send, and any page can create those.
GENERIC = (
    "https://attacker.example",
    "http://attacker.example:8080",
    "null",
    "https://a.b.c.attacker.example",
    "https://evil.net",
    "http://evil.net",
)
# Names under public suffixes where anyone can host a page (judged with the PSL, not listed).
_HOSTED = ("https://x.github.io", "https://x.appspot.com", "https://x.web.app")
_FILLERS = (
    "evil",
    "evil.net",
    ".evil.net",
    "-evil.net",
    "x.evil.net",
    "evil.com",
    "com.evil.net",
    "net",
    "xyz",
    "evil.github.io",
)


_TELLING = re.compile(r"[./]evil[.-]")


def _lookalikes(name: str) -> list[str]:
    """Host names next to ``name`` that someone else may register."""
    psl = _psl()
    suffix = psl.publicsuffix(name) or ""
    if not suffix and "." in name:  # an unknown TLD ('example.aa' for [a-z]{2,3}): swapped too
        suffix = name.rpartition(".")[2]
    reg = psl.privatesuffix(name) or name
    stem = name[: -len(suffix)] if suffix and name != suffix else name + "."
    hosts = [
        f"evil{name}",
        f"evil-{name}",
        f"evil{reg}",
        f"evil-{reg}",
        f"evil.{name}",
        f"a.b.evil.{name}",
        f"{name}.evil.net",
        f"{name}-evil.net",
        f"{name}evil.net",
        f"{name}.evil.com",
        f"{name}.br",
        f"{stem}evil.com",
        f"{reg.partition('.')[0]}.evil.{suffix or 'net'}",
    ]
    hosts += [f"a{name}", f"a{reg}"]  # one character more: '.?example\.com'
    for tld in ("net", "org", "co", "io", "xyz", "co.uk"):
        hosts.append(stem + tld)
    # The last characters as a real TLD: 'example\.c.m' admits example.cam.
    for tld in ("cam", "com", "net", "org", "io", "co"):
        if len(name) > len(tld) + 1:
            hosts.append(name[: -len(tld)] + tld)
    for i, ch in enumerate(name):
        if ch == ".":
            hosts.append(name[:i] + "-" + name[i + 1 :])
            hosts.append(name[:i] + "x" + name[i + 1 :])
    return hosts


def _candidates(reps: list[_Rep]) -> list[str]:
    """Origins to try against the pattern, at most MAX_CANDIDATES: the generic ones, then each
    representative's in turn (one from each before a second from any), so that a pattern of
    many alternatives has every one tried. A representative's own origins come first (every
    scheme and port: plain http, other ports), then names under public suffixes beneath it,
    its lookalikes and attacker text where the pattern varies, each with its own scheme and
    port: an origin a browser sends at another port is tried once, not for every lookalike.
    """
    per_rep: list[list[str]] = []
    for rep in reps:
        o = rep.origin
        # lists, not sets: the first admitted origin is named, the same one in every process
        names = [n for n in dict.fromkeys((o.host, rep.fixed_host)) if n]
        own = [
            str(Origin(scheme, name, port))
            for name in names
            for scheme in ("https", "http")
            for port in dict.fromkeys((o.port, "", "8443"))
        ]
        others: list[str] = []
        for name in names:
            reg = registrable(name)
            hosted = hosted_under(reg) if reg else ()
            for host in [*hosted, *_lookalikes(name)]:
                others.append(str(Origin(o.scheme, host, o.port)))
        # fill the places where the pattern lets text vary with an attacker's text
        text = "".join(t for t, _ in rep.pieces)
        pos = 0
        for t, fixed in rep.pieces:
            if not fixed:
                for filler in _FILLERS:
                    others.append(text[:pos] + filler + text[pos + len(t) :])
                    others.append(text[:pos] + t + filler + text[pos + len(t) :])
            pos += len(t)
        per_rep.append([*own, *others])
    out: list[str] = [*GENERIC, *_HOSTED]
    for row in itertools.zip_longest(*per_rep):
        out.extend(c for c in row if c is not None)
    seen: dict[str, None] = {}
    for c in out:
        if c == "null" or parse_origin(c):
            seen.setdefault(c, None)
            if len(seen) >= MAX_CANDIDATES:
                break
    return list(seen)


def _reps(pattern: str) -> list[_Rep]:
    tree = _parser.parse(pattern)
    an = _Analyser(tree.state.flags)
    reps = []
    variants: list[list[Piece]] = []
    for pieces in _representatives(an, tree):
        variants.append(pieces)
        if pieces and not pieces[0][1]:
            # '.*\\.example\\.com': what varies at the start can be a whole scheme and host label
            variants += [[(prefix, False), *pieces[1:]] for prefix in ("https://a", "http://a")]
    for pieces in variants:
        text = "".join(t for t, _ in pieces).lower()
        origin = parse_origin(text)
        if origin is not None:
            reps.append(_Rep(origin, tuple((t.lower(), f) for t, f in pieces)))
    return reps


def _trusted_generic(candidate: str, trusted_domains: set[str]) -> bool:
    """True when a GENERIC origin is under a domain the pattern names (a site at evil.net): it is
    then judged as the pattern's own origins are (only plain http is a finding)."""
    origin = parse_origin(candidate)
    return origin is not None and registrable(origin.host) in trusted_domains


@functools.lru_cache(maxsize=256)
def judge_pattern(pattern: str, fullmatch: bool = True) -> Judgement:
    """Judge ``allow_origin_pat`` as this jupyter_server matches it (``fullmatch`` >= 2.18)."""
    if not pattern:
        return Judgement(pattern)
    if len(pattern) > MAX_ANALYSE:
        return Judgement(pattern, too_long=True)
    try:
        compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as e:
        return Judgement(pattern, invalid=str(e))
    why = backtracking(pattern)
    if why:
        return Judgement(pattern, backtracking=why)
    if len(pattern) > MAX_PATTERN:
        return Judgement(pattern, too_long=True)
    match = compiled.fullmatch if fullmatch else compiled.match
    reps = [r for r in _reps(pattern) if compiled.fullmatch(str(r.origin))]
    trusted_domains = {d for r in reps if (d := registrable(r.fixed_host)) is not None}
    anyone: list[Admitted] = []
    generic: list[Admitted] = []
    plain: list[Admitted] = []
    for candidate in _candidates(reps):
        if not match(candidate):
            continue
        if candidate in GENERIC and not _trusted_generic(candidate, trusted_domains):
            why = (
                "any page can send it (sandboxed iframes)"
                if candidate == "null"
                else "an origin unrelated to your site"
            )
            generic.append(Admitted(candidate, why))
            continue
        origin = parse_origin(candidate)
        if origin is None or browser_loopback(origin.host) or ip_literal(origin.host) is not None:
            continue
        reg = registrable(origin.host)
        if reg is None:
            continue  # an unknown TLD or a public suffix itself: nobody obtains it
        if reg not in trusted_domains:
            anyone.append(Admitted(candidate, f"anyone can obtain {reg}"))
        elif origin.scheme == "http":
            plain.append(
                Admitted(candidate, "plain http: an on-path network attacker can serve it")
            )

    def telling(admitted: list[Admitted]) -> tuple[Admitted, ...]:
        # name an origin that reads as an attacker's first (evil.github.io, not a.github.io)
        return tuple(
            sorted(
                admitted,
                key=lambda a: (
                    "evil" not in a.origin,
                    not _TELLING.search(a.origin),
                    len(a.origin),
                ),
            )
        )

    return Judgement(
        pattern,
        anyone=telling(anyone),
        generic=tuple(generic),
        plain_http=telling(plain),
    )


def safe_pattern(pattern: str, fullmatch: bool = True) -> str:
    """A pattern for the sites ``pattern`` seems to mean that admits no attacker's origin.

    Built from the pattern's fixed parts: exact https origins, and subdomains of a registrable
    domain where the pattern lets the first labels vary. Falls back to EXAMPLE_PATTERN. For a
    jupyter_server that matches only the start (``fullmatch`` False) every branch ends in '$'.
    """
    end = "" if fullmatch else "$"
    try:
        reps = _reps(pattern) if len(pattern) <= MAX_PATTERN else []
    except Exception:
        reps = []
    branches: list[str] = []
    for rep in reps:
        o = rep.origin
        scheme = "http" if browser_loopback(o.host) and o.scheme == "http" else "https"
        port_fixed = all(rep.char_fixed[-len(o.port) :]) if o.port else True
        port = f":{o.port}" if o.port and port_fixed else ""
        if all(rep.host_fixed) and ip_literal(o.host) is None:
            if registrable(o.host) is None and not browser_loopback(o.host):
                continue
            host = re.escape(o.host)
        else:
            name = rep.fixed_host
            if not name or registrable(name) is None:
                continue
            host = r"(?:[a-z0-9-]+\.)+" + re.escape(name)
        branch = f"{scheme}://{host}{re.escape(port)}{end}"
        if branch not in branches:
            branches.append(branch)
    candidate = "|".join(branches[:8])
    judged = judge_pattern(candidate, fullmatch) if candidate else None
    if judged is not None and not (judged.too_long or judged.admits_attacker):
        return candidate
    return EXAMPLE_PATTERN + end


# --- frame-ancestors ----------------------------------------------------------------------

_HOST_SOURCE = re.compile(
    r"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<host>\*|(?:\*\.)?[a-z0-9.-]+)"
    r"(?::(?P<port>[0-9]+|\*))?(?P<path>/.*)?",
    re.IGNORECASE,
)


def frame_source_problem(source: str) -> tuple[str, str]:
    """(severity label, why) for one frame-ancestors source, or ('', '') when it is fine.

    ``error``: anyone can host a page it admits (``*``, ``https://*``, a scheme alone, a
    wildcard directly under a public suffix, or above one: ``*.`` matches any depth). ``warning``: plain http (an on-path attacker can
    frame Jupyter from it), or a bare keyword that browsers read as a host name.
    """
    low = source.lower()
    if low in ("'self'", "'none'") or low.startswith("'"):
        return "", ""  # keywords; other quoted sources are JH603's
    if low in ("self", "none"):
        return "warning", (
            f"{source} without quotes is a host name to browsers, not the keyword '{low}'"
        )
    if re.fullmatch(r"[a-z][a-z0-9+.-]*:", low):
        return "error", f"{source} admits every site served over {low[:-1]}"
    m = _HOST_SOURCE.fullmatch(low)
    if not m:
        return "", ""
    host = m["host"]
    if host == "*":
        return "error", f"{source} admits every site"
    if host.startswith("*."):
        parent = host[2:]
        if is_public_suffix(parent):
            return "error", (
                f"{source} admits every site under {parent}, where anyone can host one "
                f"(e.g. evil.{parent})"
            )
        # A CSP wildcard matches any depth: *.amazonaws.com admits evil.s3.amazonaws.com.
        hosted = hosted_under(parent, limit=1)
        if hosted:
            return "error", (
                f"{source} admits every site under {parent}, at any depth, and anyone can host "
                f"one there (e.g. {hosted[0]})"
            )
    if m["scheme"] == "http" and not browser_loopback(host.removeprefix("*.")):
        return "warning", f"{source} is plain http: an on-path network attacker can frame from it"
    return "", ""
