"""conda_deepdive.values: value objects that behave as the equivalent dataclasses do.

Each behaviour is checked against a real dataclass declared the same way, so a difference shows
up as a failing comparison rather than as a silently different repr or hash.
"""

from __future__ import annotations

import dataclasses
import copy
from functools import cached_property

import pytest

from conda_deepdive.values import FrozenInstanceError, field, fields, value_object


def _pair(frozen: bool):
    @value_object(frozen=frozen)
    class Point:
        x: int
        y: int = 0
        tags: list = field(default_factory=list)
        note: str = field(default="", compare=False, repr=False)

    @dataclasses.dataclass(frozen=frozen)
    class Point2:
        x: int
        y: int = 0
        tags: list = dataclasses.field(default_factory=list)
        note: str = dataclasses.field(default="", compare=False, repr=False)

    Point2.__qualname__ = Point.__qualname__
    return Point, Point2


@pytest.mark.parametrize("frozen", [True, False])
def test_init_repr_and_equality_match_dataclasses(frozen):
    ours, theirs = _pair(frozen)
    for args, kwargs in [((1,), {}), ((1, 2), {}), ((), {"x": 1, "y": 2}), ((1,), {"note": "n"}),
                         ((1, 2, [3], "n"), {}), ((1,), {"tags": [1]})]:
        a, b = ours(*args, **kwargs), theirs(*args, **kwargs)
        assert repr(a) == repr(b)
        assert vars(a) == vars(b) and list(vars(a)) == list(vars(b))  # field order too
    assert ours(1, note="a") == ours(1, note="b")  # compare=False
    assert ours(1) != ours(2) and ours(1) != theirs(1)  # another class is never equal
    assert ours(1).tags is not ours(1).tags  # a fresh default per object
    assert fields(ours) == fields(ours(1)) == ("x", "y", "tags", "note")
    assert fields(object()) == ()


@pytest.mark.parametrize("call", [
    lambda C: C(),
    lambda C: C(1, 2, [], "n", 5),
    lambda C: C(1, x=2),
    lambda C: C(1, z=2),
])
def test_bad_calls_are_type_errors_like_dataclasses(call):
    ours, theirs = _pair(True)
    with pytest.raises(TypeError):
        call(theirs)
    with pytest.raises(TypeError) as err:
        call(ours)
    assert "Point.__init__()" in str(err.value)


def test_frozen_objects_hash_their_fields_and_refuse_changes():
    ours, theirs = _pair(True)
    a = ours(1, 2, (), "x")
    assert hash(a) == hash(ours(1, 2, (), "y"))  # note is not compared, so not hashed either
    assert len({ours(1, tags=()), ours(1, tags=()), ours(2, tags=())}) == 2
    with pytest.raises(FrozenInstanceError):
        a.x = 5
    with pytest.raises(AttributeError):  # FrozenInstanceError is an AttributeError, as in dataclasses
        del a.x
    assert a.x == 1
    assert copy.deepcopy(ours(1, 2, (3,), "n")) == ours(1, 2, (3,), "n")  # restores __dict__


def test_mutable_objects_are_unhashable_and_can_change():
    ours, _ = _pair(False)
    a = ours(1)
    a.y = 7
    assert a == ours(1, 7)
    with pytest.raises(TypeError):
        hash(a)


def test_own_methods_post_init_and_cached_property():
    calls = []

    @value_object(frozen=True, repr=False)
    class Name:
        text: str

        def __post_init__(self):
            object.__setattr__(self, "text", self.text.lower())
            calls.append(self.text)

        def __repr__(self):
            return f"<{self.text}>"

        def __hash__(self):
            return 42

        @cached_property
        def shout(self):
            return self.text.upper()

    n = Name("NumPy")
    assert calls == ["numpy"] and repr(n) == "<numpy>" and hash(n) == 42
    assert n.shout == "NUMPY" and n.shout is n.shout  # cached on a frozen object
    assert n == Name(text="NUMPY")


def test_a_required_field_after_a_default_is_refused():
    with pytest.raises(TypeError, match="non-default argument 'b'"):
        @value_object
        class Bad:
            a: int = 1
            b: int
    with pytest.raises(ValueError):
        field(default=1, default_factory=list)
