"""Value objects declared like dataclasses, made without compiling any code.

Every ``python -m conda_deepdive`` process defines a couple of dozen small value classes — an
``Event``, a ``FetchInfo``, a ``SatCall``, an ``Attempt``… The standard ``dataclasses`` decorator
writes each class's ``__init__``, ``__eq__``, ``__hash__`` and ``__setattr__`` as source text
and compiles it with ``exec``: about 0.8 ms a class, ~17 ms for the classes a ``create --dry-run``
imports, plus ~5 ms to import ``dataclasses`` and ``inspect`` — as long as the whole reduction of
a small request. :func:`value_object` reads the same annotations and defaults and installs methods
that are already written (below) instead::

    @value_object(frozen=True)
    class Attempt:
        repodata_fn: str
        outcome: str
        message: str = ""

For the options used here (``frozen``, ``eq``, ``repr``, and ``field(default=…,
default_factory=…, compare=…, repr=…)``) a class behaves as the dataclass would: ``__init__``
takes the fields in order, by position or name, fills in defaults and calls ``__post_init__``
last; ``__eq__`` compares the fields (those with ``compare=False`` left out) of two objects of
the same class; frozen objects hash those fields and refuse ``obj.x = …`` and ``del obj.x``;
mutable ones are unhashable; ``__repr__`` is ``Name(a=1, b='x')``. Methods the class writes
itself (``__repr__``, ``__eq__``, ``__hash__``) are kept. :func:`fields` lists the field names.

:class:`LazyPattern` is the same idea for regular expressions: compiling one costs 30-300 µs,
and most runs never use the general-path patterns of spec parsing at all.

What to notice: nothing here is specific to conda — it is start-up time. The fields are
ordinary instance attributes (``obj.__dict__``), so ``functools.cached_property`` works on a
frozen value object, and ``object.__setattr__`` still sets one from ``__post_init__``.
"""

from __future__ import annotations

from operator import attrgetter
from collections.abc import Callable

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["value_object", "field", "fields", "FrozenInstanceError", "LazyPattern"]

_MISSING = object()


class FrozenInstanceError(AttributeError):
    """Assigning to (or deleting) a field of a frozen value object."""


class _Field:
    __slots__ = ("default", "default_factory", "compare", "repr")

    def __init__(self, default: Any, default_factory: Any, compare: bool, repr: bool) -> None:
        self.default = default
        self.default_factory = default_factory
        self.compare = compare
        self.repr = repr


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | None = None,
          compare: bool = True, repr: bool = True) -> Any:
    """A field's options, as ``dataclasses.field`` takes them (the ones used in this package)."""
    if default is not _MISSING and default_factory is not None:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory, compare, repr)


def fields(obj: Any) -> tuple[str, ...]:
    """The field names of a value object (or class), in declaration order; ``()`` for others."""
    return getattr(obj, "__value_fields__", ())


def value_object(cls: type | None = None, *, frozen: bool = False, eq: bool = True, repr: bool = True):
    """Make ``cls`` a value object (see the module docstring); usable bare or with options."""
    if cls is None:
        return lambda c: _make(c, frozen, eq, repr)
    return _make(cls, frozen, eq, repr)


def _make(cls: type, frozen: bool, eq: bool, want_repr: bool) -> type:
    own = cls.__dict__
    names: list[str] = []
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    compared: list[str] = []
    shown: list[str] = []
    for name, annotation in own.get("__annotations__", {}).items():
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue
        spec = own.get(name, _MISSING)
        if isinstance(spec, _Field):
            if spec.default is not _MISSING:
                defaults[name] = spec.default
                setattr(cls, name, spec.default)
            else:
                if spec.default_factory is not None:
                    factories[name] = spec.default_factory
                delattr(cls, name)  # as dataclasses does: no class attribute to fall back on
            if spec.compare:
                compared.append(name)
            if spec.repr:
                shown.append(name)
        else:
            if spec is not _MISSING:
                defaults[name] = spec
            compared.append(name)
            shown.append(name)
        if names and name not in defaults and name not in factories and (
                names[-1] in defaults or names[-1] in factories):
            raise TypeError(f"non-default argument {name!r} follows default argument")
        names.append(name)

    cls.__value_fields__ = tuple(names)
    cls.__init__ = _init(cls.__qualname__, tuple(names), defaults, factories,
                         "__post_init__" in dir(cls))
    if want_repr and "__repr__" not in own:
        cls.__repr__ = _repr(tuple(shown))
    if eq:
        key = attrgetter(*compared) if len(compared) > 1 else (
            (lambda obj, _get=attrgetter(compared[0]): (_get(obj),)) if compared else (lambda obj: ()))
        if "__eq__" not in own:
            cls.__eq__ = _eq(key)
        if "__hash__" not in own:
            cls.__hash__ = _hash(key) if frozen else None
    if frozen:
        cls.__setattr__ = _frozen_setattr
        cls.__delattr__ = _frozen_delattr
    return cls


def _init(qualname: str, names: tuple, defaults: dict, factories: dict, post_init: bool):
    count = len(names)

    def bind(args: tuple, kwargs: dict) -> tuple:
        if len(args) > count:
            raise TypeError(f"{qualname}.__init__() takes {count + 1} positional arguments "
                            f"but {len(args) + 1} were given")
        values = list(args)
        missing = []
        for name in names[len(args):]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in defaults:
                values.append(defaults[name])
            elif name in factories:
                values.append(factories[name]())
            else:
                missing.append(name)
        for name in kwargs:
            what = "got multiple values for argument" if name in names else "got an unexpected keyword argument"
            raise TypeError(f"{qualname}.__init__() {what} {name!r}")
        if missing:
            listed = " and ".join(repr(m) for m in missing)
            raise TypeError(f"{qualname}.__init__() missing {len(missing)} required argument"
                            f"{'s' if len(missing) > 1 else ''}: {listed}")
        return tuple(values)

    # the common call passes every field by position: one C-level dict update
    if post_init:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if kwargs or len(args) != count:
                args = bind(args, kwargs)
            self.__dict__.update(zip(names, args))
            self.__post_init__()
    else:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if kwargs or len(args) != count:
                args = bind(args, kwargs)
            self.__dict__.update(zip(names, args))
    return __init__


def _repr(shown: tuple) -> Callable[[Any], str]:
    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{type(self).__qualname__}({inner})"
    return __repr__


def _eq(key: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    def __eq__(self, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return key(self) == key(other)
        return NotImplemented
    return __eq__


def _hash(key: Callable[[Any], Any]) -> Callable[[Any], int]:
    def __hash__(self) -> int:
        return hash(key(self))
    return __hash__


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


class LazyPattern:
    """``re.compile(pattern, flags)``, compiled the first time one of its methods is used."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled = None

    def __getattr__(self, name: str) -> Any:  # match, search, fullmatch, sub, finditer…
        compiled = self._compiled
        if compiled is None:
            import re

            compiled = self._compiled = re.compile(*self._args)
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self._args[0]!r}{', compiled' if self._compiled is not None else ''})"
