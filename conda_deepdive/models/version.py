"""Version ordering: how conda decides that ``1.10 > 1.9`` (``conda.models.version.VersionOrder``).

Every stage of ``conda install`` leans on this module: the index sorts a package's records
newest-first, a ``MatchSpec`` such as ``numpy >=1.20,<2`` asks "does this version fit?", and the
solver's objective ("prefer the newest version") is a ranking built on :class:`VersionOrder`.
The *specs* (``>=1.20,<2``, ``1.7.*``, ``1.6|1.7``) are built on top of this order in
:mod:`conda_deepdive.models.version_spec`; conda keeps both in one file, ``conda/models/version.py``.

How conda reads a version string
--------------------------------
Take ``1!2.15.1rc2+local.3``:

1. Normalise: strip whitespace, lower-case (``RC`` == ``rc``). Dashes become underscores, but only
   when the string has no underscore already (``1.0-1`` -> ``1.0_1``). Allowed characters are then
   ``0-9 a-z . _ + ! *``; anything else is an error.
2. Split off the **epoch** at ``!`` (default ``0``) and the **local version** at ``+`` (default
   empty). The epoch trumps everything: ``1!0.1 > 2024.1``. The local part is only consulted when
   the public parts are equal.
3. Split the rest into **components** at ``.`` and ``_``: ``2``, ``15``, ``1rc2``.
4. Split each component into runs of digits and non-digits: ``1rc2`` -> ``1, 'rc', 2``. Digit runs
   become integers; ``dev`` becomes the marker ``'DEV'``; ``post`` becomes ``+inf``. A component
   that starts with a letter gets a ``0`` in front, so numbers stay in phase (``1.1.a1 == 1.1.0a1``).

Result (``.version`` / ``.local``)::

    1!2.15.1rc2+local.3  ->  version [[1], [2], [15], [1, 'rc', 2]]   local [[0, 'local'], [3]]

>>> VersionOrder("1.0-1"), VersionOrder("1!0.1") > VersionOrder("2024.1")
(VersionOrder('1.0_1'), True)
>>> VersionOrder("1.2rc1").version
((0,), (1,), (2, 'rc', 1))

How two versions compare
------------------------
Component lists are compared left to right; a missing entry counts as integer ``0`` (a missing
component counts as ``[0]``). So ``1.0 == 1.0.0 == 1``: trailing zeros are *padding*, they carry
no information, which is also why their hashes agree. At one position:

* two numbers compare numerically (``10 > 9``, unlike text);
* a string is *smaller* than any number, so a letter marks a pre-release: ``1.0a < 1.0`` (the ``a``
  meets the implicit ``0`` of ``1.0``);
* strings compare alphabetically, and the upper-case marker ``'DEV'`` sorts before ``_`` and every
  lower-case string: ``1.0dev < 1.0_ < 1.0a < 1.0rc < 1.0 < 1.0post``;
* ``post`` is ``+inf``: larger than every number *in its component*. So ``1.0post1 > 1.0.1``
  (``[0, inf, 1]`` beats ``[0]`` in the second component) while ``1.0.post1 < 1.0.1``.
* openssl counts releases with letters (``1.0.1 < 1.0.1a < 1.0.1b`` for openssl), the opposite of
  conda's pre-release reading. The workaround is a trailing underscore: ``1.0.1_`` keeps ``'_'`` as
  a string that sorts below every letter, so ``1.0.1_ < 1.0.1a < 1.0.1b`` (and all are ``< 1.0.1``).

>>> VersionOrder("1.0") == VersionOrder("1.0.0") == VersionOrder("1")
True
>>> VersionOrder("1.0post1") > VersionOrder("1.0.1") > VersionOrder("1.0.post1")
True
>>> VersionOrder("1.0.1_") < VersionOrder("1.0.1a") < VersionOrder("1.0.1b") < VersionOrder("1.0.1")
True

A consequence worth noticing: ``1.1a1 < 1.1.0dev1``. In ``1.1a1`` the ``a`` sits in the *second*
component; in ``1.1.0dev1`` the second component is a plain ``1`` and the ``dev`` only appears in
the third. Versions compare well only when a package numbers its releases consistently.

>>> VersionOrder("1.1a1") < VersionOrder("1.1.0dev1")
True

"Starts with" (:meth:`VersionOrder.startswith`, the meaning of ``=1.7`` and ``1.7.*`` in a spec)
is component-wise too, so ``1.70`` does not start with ``1.7``:

>>> VersionOrder("1.7.1").startswith(VersionOrder("1.7")), VersionOrder("1.70").startswith(VersionOrder("1.7"))
(True, False)

Under the hood (not in conda): instead of conda's padded comparison loops, each version gets one
flat tuple key at parse time (see "Ordering keys" below) whose plain tuple order is conda's
order, so sorting and ``<``/``==`` run at C speed; the property tests check it against the loops.

Deliberate differences from conda 26.7.1 (only where conda crashes with a non-conda exception):
absurdly long numbers raise :class:`InvalidVersionSpec` instead of ``ValueError``;
``.version``/``.local`` are tuples, not lists.

The spec names (``VersionSpec``, ``BuildNumberMatch``, ``treeify``, ``ver_eval``, ...) live in
:mod:`~conda_deepdive.models.version_spec`, which builds on this module (never the other way).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..exceptions import InvalidVersionSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["VersionOrder", "normalized_version"]

_ALLOWED = re.compile(r"^[*.+!_0-9a-z]+$")
# digits | runs of '*' | anything else: '1rc2' -> '1', 'rc', '2'
_SUBCOMPONENTS = re.compile(r"[0-9]+|\*+|[^0-9*]+")
_INF = float("inf")


class _InternedByString(type):
    """Metaclass: ``Cls("x")`` returns the one object ever built from the string ``"x"``.

    The index builds a ``VersionOrder`` per record and many records share a version string;
    interning makes the second construction a dict lookup. Objects are immutable, so sharing is safe.
    ``VersionSpec`` and ``BuildNumberMatch`` (in ``version_spec``) are interned the same way.
    """

    def __call__(cls, arg: Any):
        if arg.__class__ is cls:
            return arg
        if isinstance(arg, str):
            cache = cls._cache_
            obj = cache.get(arg)
            if obj is None:
                obj = cache[arg] = type.__call__(cls, arg)
            return obj
        return type.__call__(cls, arg)


# ---------------------------------------------------------------------------------------------
# Ordering keys. conda compares with explicit loops that pad with zeros; we precompute one flat
# tuple per version whose plain tuple ordering gives the same answers, so <, ==, hash and sort
# run in C. The key is a run of 4-slot groups (flat tuples compare faster than nested ones):
#
#   string subcomponent 'rc'        0, 'rc', 0, 0     every string sorts below every number
#   number n > 0 (post = inf)       1, n, 0, 0
#   zero                            1, 0, next, 0
#   end of a component              1, 0, 0.5, -1
#   a component that is all zeros   1, 0, 0.5, next
#   end of the version (or local)   1, 0, 0.5, 0.5
#
# Trailing zeros and trailing all-zero components are dropped first: they are only padding.
# What remains is comparing a side that has *ended* (so counts as zeros from there on) with one
# that continues with zeros: the first non-zero entry that follows decides (a string -> the
# continuing side is smaller). Hence zeros carry `next` (0: the next non-zero entry is a string /
# the next non-zero component starts below zero; 1: a number) and the end markers sit at 0.5,
# exactly between. tests/test_version_fuzz.py checks this against a loop-based reading of conda.
_END = (1, 0, 0.5, -1)
_END_ALL = (1, 0, 0.5, 0.5)
_ZERO_BEFORE_NUMBER = (1, 0, 0.5, 1)  # an all-zero component followed by a plain number
_PLAIN_NUMERIC = re.compile(r"[0-9]+(?:\.[0-9]+)*")


_NUMBER_GROUPS: dict[str, tuple] = {}  # '15' -> key groups of a component that is just 15


def _number_group(piece: str) -> tuple:
    number = int(piece)
    group = (1, number, 0, 0, *_END) if number else _ZERO_BEFORE_NUMBER
    if len(_NUMBER_GROUPS) < 100_000:
        _NUMBER_GROUPS[piece] = group
    return group


def _strip_zeros(comp: tuple) -> tuple:
    n = len(comp)
    while n and comp[n - 1] == 0:  # ('a' == 0 is False, so strings stay)
        n -= 1
    return comp[:n]


def _component_groups(stripped: tuple) -> tuple[tuple, bool]:
    """Key groups of one non-zero component (trailing zeros removed), and whether the component
    sorts below an all-zero one (its first non-zero entry is a string)."""
    nexts = [1] * len(stripped)  # `next` of each zero: the kind of the next non-zero entry
    nxt = 1
    for j in range(len(stripped) - 1, -1, -1):
        nexts[j] = nxt
        x = stripped[j]
        if x.__class__ is str:
            nxt = 0
        elif x:
            nxt = 1
    out: list = []
    for x, nx in zip(stripped, nexts):
        if x.__class__ is str:
            out += (0, x, 0, 0)
        elif x:
            out += (1, x, 0, 0)
        else:
            out += (1, 0, nx, 0)
    out += _END
    return tuple(out), nxt == 0


def _sequence_key(records: list, out: list) -> None:
    """Append the key groups of a component list (records from :func:`_component`)."""
    n = len(records)
    while n and records[n - 1][2] is None:  # trailing all-zero components are padding
        n -= 1
    nexts = [1] * n  # `next` of each all-zero component, scanning from the right
    nxt = 1
    for i in range(n - 1, -1, -1):
        nexts[i] = nxt
        below = records[i][3]
        if below is not None:
            nxt = 0 if below else 1
    for i in range(n):
        groups = records[i][2]
        out += groups if groups is not None else (1, 0, 0.5, nexts[i])
    out += _END_ALL


class VersionOrder(metaclass=_InternedByString):
    """A parsed conda version with conda's total order (see the module docstring).

    >>> VersionOrder("1.0") == VersionOrder("1.0.0")
    True
    >>> sorted(map(VersionOrder, ["1.0", "1.0a", "1.0dev", "1.0post1"]))
    [VersionOrder('1.0dev'), VersionOrder('1.0a'), VersionOrder('1.0'), VersionOrder('1.0post1')]
    """

    # _key: the ordering key (see above); _parts: (version, local, and both with trailing zeros
    # removed, which is what padded equality compares), filled in lazily for plain '1.2.3' strings.
    __slots__ = ("norm_version", "_key", "_hash", "_parts")
    _cache_: dict[str, "VersionOrder"] = {}
    fillvalue = 0  # what a missing subcomponent counts as

    def __init__(self, vstr: str):
        if not isinstance(vstr, str):
            raise TypeError(f"VersionOrder needs a str, got {type(vstr).__name__}: {vstr!r}")
        text = vstr.strip().lower()
        set_ = object.__setattr__
        if _PLAIN_NUMERIC.fullmatch(text):  # fast path: '1.2.3', most versions in a channel
            groups = _NUMBER_GROUPS
            try:
                pieces = [groups.get(p) or _number_group(p) for p in text.split(".")]
            except ValueError:  # more digits than Python will convert
                raise InvalidVersionSpec(vstr, "version number too long") from None
            n = len(pieces)
            while n and pieces[n - 1] is _ZERO_BEFORE_NUMBER:  # trailing zeros are padding
                n -= 1
            # every non-zero component is a plain number, so all-zero ones (the epoch 0, too)
            # sit below the next one
            flat: list = [*_ZERO_BEFORE_NUMBER] if n else []
            for group in pieces[:n]:
                flat += group
            flat += _END_ALL
            flat += _END_ALL  # no local version
            key = tuple(flat)
            parts = None
        else:
            text, vrecs, lrecs = _parse(vstr, text)
            flat = []
            _sequence_key(vrecs, flat)
            _sequence_key(lrecs, flat)
            key = tuple(flat)
            parts = (
                tuple([r[0] for r in vrecs]),
                tuple([r[0] for r in lrecs]),
                tuple([r[1] for r in vrecs]),
                tuple([r[1] for r in lrecs]),
            )
        set_(self, "norm_version", text)
        set_(self, "_key", key)
        set_(self, "_hash", None)  # computed on first use: most versions are never hashed
        set_(self, "_parts", parts)

    def _components(self) -> tuple:
        parts = self._parts
        if parts is None:  # a plain numeric version: parse its components on first use
            version = ((0,), *[(int(p),) for p in self.norm_version.split(".")])
            parts = (version, (), tuple(map(_strip_zeros, version)), ())
            object.__setattr__(self, "_parts", parts)
        return parts

    @property
    def version(self) -> tuple:
        """Epoch and public version as components: ``'1.2rc1'`` -> ``((0,), (1,), (2, 'rc', 1))``."""
        return self._components()[0]

    @property
    def local(self) -> tuple:
        """The local version (after ``+``) as components; ``()`` if there is none."""
        return self._components()[1]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    # -- presentation --------------------------------------------------------------------------
    def __str__(self) -> str:
        return self.norm_version

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.norm_version!r})"

    @property
    def epoch(self) -> int:
        return self.version[0][0]

    # -- comparisons: all through the precomputed key ------------------------------------------
    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash(self._key)
            object.__setattr__(self, "_hash", h)
        return h

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VersionOrder):
            return NotImplemented
        return self._key == other._key

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, VersionOrder):
            return NotImplemented
        return self._key != other._key

    def __lt__(self, other: "VersionOrder") -> bool:
        return self._key < other._key

    def __le__(self, other: "VersionOrder") -> bool:
        return self._key <= other._key

    def __gt__(self, other: "VersionOrder") -> bool:
        return self._key > other._key

    def __ge__(self, other: "VersionOrder") -> bool:
        return self._key >= other._key

    def startswith(self, other: "VersionOrder") -> bool:
        """Does ``self`` begin with ``other``, component-wise? (the meaning of ``=1.2`` / ``1.2.*``)

        All of ``other``'s components but the last must equal ours (with zero padding); in the
        last one, all subcomponents but the last must be equal, and the last must be equal, or,
        if it is a string, a prefix of ours: ``2013ab`` starts with ``2013a``, ``1.7.1`` with
        ``1.7``, ``1.70`` does not start with ``1.7``. If ``other`` has a local part, the public
        versions must be equal and the test runs on the local parts.
        """
        return _prefix_test(other)(self)


def _prefix_test(target: VersionOrder) -> Callable[[VersionOrder], bool]:
    """Compile ``v.startswith(target)``: everything about ``target`` is worked out once."""
    version, local, stripped, lstripped = target._components()
    on_local = bool(local)
    theirs, ts = (local, lstripped) if on_local else (version, stripped)
    public = _trim(stripped)
    last = len(theirs) - 1
    ts_head = ts[:last]
    tail = theirs[last]
    k = len(tail) - 1
    tail_head = _strip_zeros(tail[:k])
    final = tail[k]
    final_is_str = final.__class__ is str

    def test(v: VersionOrder) -> bool:
        v_version, v_local, v_stripped, v_lstripped = v._components()
        if on_local:
            if _trim(v_stripped) != public:  # public versions must be equal
                return False
            mine, ms = v_local, v_lstripped
        else:
            mine, ms = v_version, v_stripped
        head_comps = ms[:last]
        if len(head_comps) < last:  # missing components count as zeros
            head_comps += ((),) * (last - len(head_comps))
        if head_comps != ts_head:
            return False
        comp = mine[last] if len(mine) > last else ()
        if k and _strip_zeros(comp[:k]) != tail_head:
            return False
        c = comp[k] if len(comp) > k else 0
        if final_is_str:
            return c.__class__ is str and c.startswith(final)
        return c.__class__ is not str and c == final

    return test


def _trim(stripped: tuple) -> tuple:
    """Drop trailing all-zero components: equal results mean equal (zero-padded) versions."""
    n = len(stripped)
    while n and not stripped[n - 1]:
        n -= 1
    return stripped[:n]


class _BadComponent(Exception):
    pass


_COMPONENTS: dict[str, tuple] = {}  # parsed components repeat a lot across versions: memoise


def _component(text: str) -> tuple:
    """Parse one component: ``'1rc2'`` -> ``(1, 'rc', 2)``, ``'rc'`` -> ``(0, 'rc')``,
    ``'post1'`` -> ``(0, inf, 1)``. Returns ``(components, without trailing zeros, key groups,
    sorts below zero)``; the last two are None for an all-zero component."""
    record = _COMPONENTS.get(text)
    if record is not None:
        return record
    runs = _SUBCOMPONENTS.findall(text)
    if not runs:
        raise _BadComponent("empty version component")
    out: list = [] if text[0].isdigit() else [0]  # keep numbers and strings in phase
    for run in runs:
        if run.isdigit():
            try:
                out.append(int(run))
            except ValueError:  # more digits than Python will convert
                raise _BadComponent("version number too long") from None
        elif run == "post":
            out.append(_INF)
        elif run == "dev":
            out.append("DEV")  # upper case sorts before '_' and all lower-case strings
        else:
            out.append(run)
    comp = tuple(out)
    stripped = _strip_zeros(comp)
    groups, below = _component_groups(stripped) if stripped else (None, None)
    record = (comp, stripped, groups, below)
    if len(_COMPONENTS) < 100_000:
        _COMPONENTS[text] = record
    return record


def _parse(vstr: str, text: str) -> tuple[str, list, list]:
    """The general parser: (normalised string, version and local component records)."""
    if not text:
        raise InvalidVersionSpec(vstr, "empty version string")
    if not _ALLOWED.match(text):
        # '1.0-1' is accepted as '1.0_1', but only if no underscore is in play already
        if "-" in text and "_" not in text:
            text = text.replace("-", "_")
        if not _ALLOWED.match(text):
            raise InvalidVersionSpec(vstr, "invalid character(s)")

    parts = text.split("!")
    if len(parts) > 2:
        raise InvalidVersionSpec(vstr, "duplicated epoch separator '!'")
    if len(parts) == 2:
        if not parts[0].isdigit():
            raise InvalidVersionSpec(vstr, "epoch must be an integer")
        epoch = parts[0]
    else:
        epoch = "0"

    public_local = parts[-1].split("+")
    if len(public_local) > 2:
        raise InvalidVersionSpec(vstr, "duplicated local version separator '+'")
    public = public_local[0]
    local_raw = public_local[1].replace("_", ".").split(".") if len(public_local) == 2 else []
    if not public:
        raise InvalidVersionSpec(vstr, "Missing version before local version separator '+'")
    if public.endswith("_"):
        # openssl-style '1.0.1_' keeps its trailing '_' in the last component ([1, '_']),
        # so that 1.0.1_ < 1.0.1a < 1.0.1b: letter releases sort after the underscore one
        pieces = public[:-1].replace("_", ".").split(".")
        pieces[-1] += "_"
    else:
        pieces = public.replace("_", ".").split(".")
    try:
        version = [_component(p) for p in (epoch, *pieces)]
        local = [_component(p) for p in local_raw]
    except _BadComponent as exc:
        raise InvalidVersionSpec(vstr, str(exc)) from None
    return text, version, local


def normalized_version(version: str) -> VersionOrder:
    """conda's old name for ``VersionOrder(version)``."""
    return VersionOrder(version)
