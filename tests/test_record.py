"""record.Record behaves as the frozen dataclass it replaces (issue 11: cheaper to import)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import pickle
from typing import ClassVar

import pytest

from jupyter_hardening.record import FrozenRecordError, Record, as_dict, field, replace
from jupyter_hardening.rules.base import Finding, Severity
from jupyter_hardening.snapshot import Snapshot


class Point(Record):
    """Two fields without defaults, then defaults of each kind."""

    KIND: ClassVar[str] = "point"  # not a field
    x: int
    y: int
    label: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    note: str = field(default="", repr=False, compare=False)
    norm: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "norm", abs(self.x) + abs(self.y))


class Point3(Point):
    """A subclass adds its fields after its parent's."""

    z: int = 0


@dataclasses.dataclass(frozen=True)
class DataPoint:
    """The dataclass Point stands for, to compare behaviour with."""

    x: int
    y: int
    label: str = ""
    tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)
    note: str = dataclasses.field(default="", repr=False, compare=False)


def test_fields_defaults_and_post_init() -> None:
    p = Point(1, -2, label="a")
    assert (p.x, p.y, p.label, p.tags, p.note, p.norm) == (1, -2, "a", (), "", 3)
    assert Point._fields == ("x", "y", "label", "tags", "note", "norm")
    assert Point._init_fields == ("x", "y", "label", "tags", "note")
    assert Point3(1, 2, z=3)._fields[-1] == "z"
    assert Point3(1, 2, z=3).norm == 3  # the parent's __post_init__ runs


def test_arguments_are_checked_as_a_dataclass_checks_them() -> None:
    with pytest.raises(TypeError, match="missing argument 'y'"):
        Point(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'nope'"):
        Point(1, 2, nope=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'x'"):
        Point(1, 2, x=3)  # type: ignore[misc]
    with pytest.raises(TypeError, match="'norm'"):
        Point(1, 2, norm=5)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional"):
        Point(1, 2, "a", (), "n", 9)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="without a default follows one"):

        class Bad(Record):
            a: int = 0
            b: int


def test_frozen_equal_hashable_and_repr_like_the_dataclass() -> None:
    p = Point(1, 2, label="a", note="left out")
    with pytest.raises(FrozenRecordError):
        p.x = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.label  # type: ignore[misc]
    assert p == Point(1, 2, label="a", note="other note")  # compare=False
    assert hash(p) == hash(Point(1, 2, label="a"))
    assert p != Point(1, 3, label="a")
    assert p != Point3(1, 2, label="a")  # another class is never equal
    assert len({p, Point(1, 2, label="a"), Point(2, 1)}) == 2
    d = DataPoint(1, 2, label="a", note="left out")
    assert repr(p) == "Point(x=1, y=2, label='a', tags=(), norm=3)"
    assert repr(d) == "DataPoint(x=1, y=2, label='a', tags=())"


def test_replace_keeps_the_rest_and_runs_post_init_again() -> None:
    p = Point(1, 2, label="a", tags=("t",))
    q = replace(p, x=-5)
    assert (q.x, q.y, q.label, q.tags, q.norm) == (-5, 2, "a", ("t",), 7)
    assert p.x == 1  # the original is unchanged
    with pytest.raises(TypeError, match="no field 'norm'"):
        replace(p, norm=1)
    with pytest.raises(TypeError, match="no field 'nope'"):
        replace(p, nope=1)
    assert as_dict(q)["x"] == -5


def test_copies_and_pickles_round_trip() -> None:
    p = Point3(1, 2, tags=("t",), z=4)
    for clone in (copy.copy(p), copy.deepcopy(p), pickle.loads(pickle.dumps(p))):  # noqa: S301
        assert clone == p
        assert clone.norm == 3


def test_the_audit_records() -> None:
    """Snapshot's derived field and default factory, Finding's hidden remedy."""
    snap = Snapshot(public_url="https://jupyter.example.com/")
    assert snap.public is not None and snap.public.host == "jupyter.example.com"
    assert replace(snap, public_url="").public is None
    assert snap.taken_at.tzinfo is dt.timezone.utc
    assert Snapshot().taken_at >= snap.taken_at  # a factory: each snapshot its own moment
    f = Finding("JH1", "n", Severity.ERROR, ("ServerApp.ip",), "m", "fix", remedy=(("ip", "x"),))
    assert "remedy" not in repr(f)
    assert f != replace(f, remedy=())  # remedy is compared, as in the dataclass
