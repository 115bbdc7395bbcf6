"""Frozen records: the data the audit passes around, at a fraction of a dataclass's import cost.

Every server start imports the audit's data classes. A frozen dataclass writes and compiles its
``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` and ``__setattr__`` when its class is
created: 0.7 ms for a few fields, 3.9 ms for the 50 of :class:`~.snapshot.Snapshot` (measured on
the build machine, Python 3.11), which was a third of what the extension added to a start.
:class:`Record` gives the same behaviour with methods written once, here; a class costs only its
field table. Declared like a frozen dataclass (annotations, defaults, :func:`field`), and typed as
one (PEP 681). :func:`replace` is ``dataclasses.replace``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:  # typing has it from Python 3.11; it only tells type checkers how fields are declared

    def dataclass_transform(**kwargs: Any) -> Any:
        return lambda cls: cls


_MISSING: Any = object()
R = TypeVar("R", bound="Record")


class FrozenRecordError(AttributeError):
    """Raised on assignment to a field of a record (as dataclasses.FrozenInstanceError)."""


class Field:
    """What :func:`field` declares: a default or a factory, in ``__init__`` or not, in repr."""

    __slots__ = ("compare", "default", "factory", "init", "repr")

    def __init__(self, default: Any, factory: Any, init: bool, repr: bool, compare: bool):
        self.default, self.factory, self.init = default, factory, init
        self.repr, self.compare = repr, compare


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] = _MISSING,
    init: bool = True,
    repr: bool = True,
    compare: bool = True,
) -> Any:
    """A field with a factory, or kept out of ``__init__``, repr or equality (dataclasses.field)."""
    return Field(default, default_factory, init, repr, compare)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Record:
    """Base of a frozen record: subclasses declare fields as a dataclass would.

    Instances compare and hash by type and field values; ``__post_init__`` runs after
    ``__init__`` (set derived fields there with ``object.__setattr__``). Subclasses add fields
    after their parent's.
    """

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()  # every field, in order
    _init_fields: ClassVar[tuple[str, ...]] = ()  # the ones __init__ takes
    _defaults: ClassVar[dict[str, Any]] = {}
    _factories: ClassVar[dict[str, Callable[[], Any]]] = {}
    _hidden: ClassVar[frozenset[str]] = frozenset()  # left out of repr
    _compared: ClassVar[tuple[str, ...]] = ()  # the fields equality and hash compare

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields, init = list(cls._fields), list(cls._init_fields)
        defaults, factories = dict(cls._defaults), dict(cls._factories)
        hidden = set(cls._hidden)
        compared = list(cls._compared)
        for name, annotation in inspect.get_annotations(cls).items():
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            value = cls.__dict__.get(name, _MISSING)
            spec = value if isinstance(value, Field) else Field(value, _MISSING, True, True, True)
            if isinstance(value, Field):
                delattr(cls, name)
            if spec.default is not _MISSING:
                defaults[name] = spec.default
            elif spec.factory is not _MISSING:
                factories[name] = spec.factory
            elif init and init[-1] in defaults | factories and spec.init:
                raise TypeError(f"{cls.__name__}.{name}: a field without a default follows one")
            if name not in fields:
                fields.append(name)
            if spec.init and name not in init:
                init.append(name)
            if not spec.repr:
                hidden.add(name)
            if spec.compare and name not in compared:
                compared.append(name)
        cls._fields, cls._init_fields, cls._compared = tuple(fields), tuple(init), tuple(compared)
        cls._defaults, cls._factories, cls._hidden = defaults, factories, frozenset(hidden)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        names = cls._init_fields
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__}() takes {len(names)} positional arguments")
        given = dict(zip(names, args, strict=False))
        for name in kwargs:
            if name in given or name not in names:
                raise TypeError(f"{cls.__name__}() got an unexpected or repeated argument {name!r}")
        given.update(kwargs)
        values = self.__dict__
        for name in cls._fields:
            if name in given:
                values[name] = given[name]
            elif name in cls._defaults:
                values[name] = cls._defaults[name]
            elif name in cls._factories:
                values[name] = cls._factories[name]()
            elif name in names:
                raise TypeError(f"{cls.__name__}() missing argument {name!r}")
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    def _values(self) -> tuple[Any, ...]:
        values = self.__dict__
        return tuple(values.get(name) for name in self._compared)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        shown = (f"{n}={getattr(self, n)!r}" for n in self._fields if n not in self._hidden)
        return f"{type(self).__name__}({', '.join(shown)})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"cannot delete field {name!r}")


def replace(obj: R, /, **changes: Any) -> R:
    """A copy of ``obj`` with ``changes``: its other fields as they are (dataclasses.replace)."""
    cls = type(obj)
    values = obj.__dict__
    for name in changes:
        if name not in cls._init_fields:
            raise TypeError(f"{cls.__name__} has no field {name!r} to replace")
    return cls(
        **{name: values[name] for name in cls._init_fields if name not in changes}, **changes
    )


def as_dict(obj: Record) -> dict[str, Any]:
    """The fields of ``obj`` as a dict (not recursive)."""
    return {name: getattr(obj, name) for name in obj._fields}
