"""Version ordering and version specs: how conda decides that ``1.10 > 1.9`` (``conda.models.version``).

Every stage of ``conda install`` leans on this module: the index sorts a package's records
newest-first, a ``MatchSpec`` such as ``numpy >=1.20,<2`` asks "does this version fit?", and the
solver's objective ("prefer the newest version") is a ranking built on :class:`VersionOrder`.

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

A consequence worth noticing: ``1.1a1 < 1.1.0dev1``. In ``1.1a1`` the ``a`` sits in the *second*
component; in ``1.1.0dev1`` the second component is a plain ``1`` and the ``dev`` only appears in
the third. Versions compare well only when a package numbers its releases consistently.

Version specs
-------------
:class:`VersionSpec` parses what follows the name in ``numpy >=1.20,<2``: exact versions
(``1.2`` means ``==1.2``), the operators ``== != < <= > >= ~=``, fuzzy ``=1.2`` / ``1.2.*`` / ``1.2*``
("starts with 1.2": component-wise, so ``1.2.*`` does not match ``1.20``), globs such as
``*.7.*``, regular expressions ``^...$``, and groups joined with ``,`` (and) and ``|`` (or) where
``,`` binds tighter, with parentheses. Each spec is compiled once into a ``match`` function
(specs and versions are interned: the same string gives the same object), because the solver
calls ``match`` millions of times.

Under the hood (not in conda): instead of conda's padded comparison loops, each version gets one
flat tuple key at parse time (see "Ordering keys" below) whose plain tuple order is conda's
order, so sorting and ``<``/``==`` run at C speed; the property tests check it against the loops.

One quirk the learner should notice: conda's canonical ``str`` of a group drops inner parentheses,
``VersionSpec('(1.6|1.7),1.8')`` prints as ``1.6|1.7,1.8``; matching still uses the parsed tree.
We reproduce that exactly, because that is what ``conda`` prints.

Deliberate differences from conda 26.7.1 (only where conda crashes with a non-conda exception):
empty specs, bad regular expressions, absurdly long numbers and too-deep nesting raise
:class:`InvalidVersionSpec` instead of ``IndexError``/``re.error``/``ValueError``/
``RecursionError``; regex and ``@`` specs accept a ``VersionOrder`` (matched by its normalised
string) instead of raising ``TypeError``; ``.version``/``.local`` are tuples, not lists.
"""

from __future__ import annotations

import logging
import operator
import re
from typing import Any, Callable

from ..exceptions import InvalidVersionSpec

__all__ = [
    "BaseSpec",
    "BuildNumberMatch",
    "VersionMatch",
    "VersionOrder",
    "VersionSpec",
    "normalized_version",
    "treeify",
    "untreeify",
    "ver_eval",
]

log = logging.getLogger(__name__)

_ALLOWED = re.compile(r"^[*.+!_0-9a-z]+$")
# digits | runs of '*' | anything else: '1rc2' -> '1', 'rc', '2'
_SUBCOMPONENTS = re.compile(r"[0-9]+|\*+|[^0-9*]+")
_INF = float("inf")


class _InternedByString(type):
    """Metaclass: ``Cls("x")`` returns the one object ever built from the string ``"x"``.

    The index builds a ``VersionOrder`` per record and many records share a version string;
    interning makes the second construction a dict lookup. Objects are immutable, so sharing is safe.
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


def ver_eval(vtest: str, spec: str) -> bool:
    """Does version string ``vtest`` satisfy version spec ``spec``?"""
    return VersionSpec(spec).match(vtest)


# ---------------------------------------------------------------------------------------------
# Spec expressions: '1.5|(1.6|1.7),1.8' -> ('|', '1.5', (',', ('|', '1.6', '1.7'), '1.8'))

# a regex '^...$' (may contain , | ( )), a paren / ',' / '|', or a run of anything else
_TOKEN = re.compile(r"\s*\^[^$]*\$|\s*[()|,]|[^()|,]+")
_NEEDS_TREE = re.compile(r".*[()|,^$]")
_PRECEDENCE = {"(": 0, "|": 1, ",": 2}


def treeify(spec_str: str):
    """Parse a spec expression into a tree of tuples ``(op, operand, ...)``; leaves are strings.

    ``,`` (and) binds tighter than ``|`` (or); chains of the same operator are flattened:

    >>> treeify("1.2.3,4.5.6|<=7.8.9")
    ('|', (',', '1.2.3', '4.5.6'), '<=7.8.9')
    >>> treeify("(1.2.3|4.5.6),<=7.8.9")
    (',', ('|', '1.2.3', '4.5.6'), '<=7.8.9')
    """
    operands: list = []
    operators: list[str] = []

    def reduce_while(min_precedence: int) -> None:
        # combine the operands of every pending operator that binds at least this tightly
        while operators and _PRECEDENCE[operators[-1]] >= min_precedence:
            if len(operands) < 2:
                raise InvalidVersionSpec(spec_str, "cannot join single expression")
            op = operators.pop()
            right = operands.pop()
            left = operands.pop()
            members = []
            for side in (left, right):
                if isinstance(side, tuple) and side[0] == op:
                    members.extend(side[1:])  # '1|2' | '3'  ->  '1|2|3'
                else:
                    members.append(side)
            operands.append((op, *members))

    for token in _TOKEN.findall(f"({spec_str})"):
        token = token.strip()
        if token == "(":
            operators.append("(")
        elif token == ")":
            reduce_while(1)
            if not operators:
                raise InvalidVersionSpec(spec_str, "expression must start with '('")
            operators.pop()
        elif token == "|":
            reduce_while(1)
            operators.append("|")
        elif token == ",":
            reduce_while(2)
            operators.append(",")
        else:
            operands.append(token)
    if operators:
        raise InvalidVersionSpec(spec_str, f"unable to convert to expression tree: {operators}")
    if not operands:
        raise InvalidVersionSpec(spec_str, "unable to determine version from spec")
    return operands[0]


_NO_GROUPING = re.compile(r"[^()|^$]*")


def _comma_tree(spec_str: str) -> tuple | None:
    """:func:`treeify` for the most common expression, a plain ``'>=1.2,<2'`` (no parentheses,
    ``|`` or regexes): ``(',', '>=1.2', '<2')``. ``None`` for anything else — and for empty
    members, so that treeify() reports the error."""
    if "," not in spec_str or not _NO_GROUPING.fullmatch(spec_str):
        return None
    members = [m.strip() for m in spec_str.split(",")]
    if not all(members):
        return None
    return (",", *members)


def untreeify(spec, _inand: bool = False, depth: int = 0) -> str:
    """Inverse of :func:`treeify`, parenthesising every nested group.

    (``VersionSpec.spec`` does *not* use this: conda joins the already-flattened strings of the
    members, losing inner parentheses; see the module docstring.)

    >>> untreeify((",", ("|", "1.2.3", "4.5.6"), "<=7.8.9"))
    '(1.2.3|4.5.6),<=7.8.9'
    """
    if not isinstance(spec, tuple):
        return spec
    if spec[0] == "|":
        text = "|".join(untreeify(s, depth=depth + 1) for s in spec[1:])
        return f"({text})" if (_inand or depth > 0) else text
    text = ",".join(untreeify(s, _inand=True, depth=depth + 1) for s in spec[1:])
    return f"({text})" if depth > 0 else text


# ---------------------------------------------------------------------------------------------
# Relations. '<= 1.2' (space), '<>1.2', '<=!1.2' and '===1' are rejected by the lookahead.
_RELATION = re.compile(r"^(=|==|!=|<=|>=|<|>|~=)(?![=<>!~])(\S+)$")
_OPERATOR_START = frozenset("=<>!~")
_KEY_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
                ">": operator.gt, ">=": operator.ge}


def _as_order(value: Any) -> VersionOrder:
    if value.__class__ is VersionOrder:
        return value
    return VersionOrder(str(value))


def _relation_matcher(op: str, target: VersionOrder) -> Callable[[Any], bool]:
    """Compile ``<op> target`` into one function taking a version string or VersionOrder.

    This runs millions of times in a solve, so everything about ``target`` is bound up front and
    a version string costs one dict lookup in the VersionOrder cache.
    """
    lookup = VersionOrder._cache_.get
    compare = _KEY_COMPARE.get(op)
    if compare is not None:
        key = target._key

        def match(v: Any) -> bool:
            if v.__class__ is not VersionOrder:
                v = lookup(v) or _as_order(v)
            return compare(v._key, key)

        return match
    if op == "=" or op == "!=startswith":  # fuzzy: '=1.2' means '1.2.*'
        test = _prefix_test(target)
        negate = op != "="
    elif op == "~=":  # '~=1.4.2': >=1.4.2 and starts with 1.4
        key = target._key
        try:
            prefix_test = _prefix_test(VersionOrder(".".join(str(target).split(".")[:-1])))
        except InvalidVersionSpec as exc:
            # conda only notices this when matching ('~=1' has no prefix): so do we
            def test(v: VersionOrder, _exc: InvalidVersionSpec = exc) -> bool:
                raise _exc
        else:
            def test(v: VersionOrder) -> bool:
                return v._key >= key and prefix_test(v)
        negate = False
    else:
        raise InvalidVersionSpec(op, f"invalid operator: {op}")

    def match(v: Any) -> bool:
        if v.__class__ is not VersionOrder:
            v = lookup(v) or _as_order(v)
        return test(v) is not negate

    return match


class BaseSpec:
    """Shared behaviour of :class:`VersionSpec` and :class:`BuildNumberMatch`.

    ``match`` is an attribute holding a function compiled when the spec was parsed.
    ``kind`` says which rule the spec uses (``exact``, ``operator``, ``startswith``, ``glob``,
    ``regex``, ``any``, ``and``, ``or``, ``string``) so a learner can see how it was read.
    """

    __slots__ = ("spec_str", "_is_exact", "match", "kind", "operator", "matcher_vo", "regex", "tup")
    _cache_: dict = {}

    def _setup(self, spec: Any, kind: str, match: Callable[[Any], bool], is_exact: bool, **extra: Any) -> None:
        set_ = object.__setattr__
        set_(self, "spec_str", spec)
        set_(self, "kind", kind)
        set_(self, "match", match)
        set_(self, "_is_exact", is_exact)
        for name in ("operator", "matcher_vo", "regex", "tup"):
            set_(self, name, extra.get(name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @property
    def spec(self):
        return self.spec_str

    @property
    def raw_value(self):
        return self.spec_str

    def is_exact(self) -> bool:
        return self._is_exact

    @property
    def exact_value(self):
        return self.spec_str if self._is_exact else None

    def __eq__(self, other: object) -> bool:
        other_spec = other.spec if isinstance(other, BaseSpec) else type(self)(other).spec
        return self.spec == other_spec

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.spec)

    def __str__(self) -> str:
        return str(self.spec)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.spec)!r})"


def _regex_matcher(spec: str, pattern: str) -> tuple[Callable[[Any], bool], re.Pattern]:
    try:
        rx = re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise InvalidVersionSpec(spec, f"invalid regular expression: {exc}") from None
    rx_match = rx.match

    def match(value: Any) -> bool:
        return rx_match(value if value.__class__ is str else str(value)) is not None

    return match, rx


def _always(value: Any) -> bool:
    return True


class VersionSpec(BaseSpec, metaclass=_InternedByString):
    """A parsed version constraint with a compiled ``match``.

    >>> VersionSpec(">=1.2,<2").match("1.10")
    True
    >>> VersionSpec("1.2*")
    VersionSpec('1.2.*')
    """

    __slots__ = ()
    _cache_: dict[str, "VersionSpec"] = {}

    def __init__(self, vspec: Any):
        try:
            self._parse(vspec)
        except RecursionError:
            raise InvalidVersionSpec(vspec, "expression nested too deeply") from None

    def _parse(self, vspec: Any) -> None:
        if isinstance(vspec, str) and _NEEDS_TREE.match(vspec):
            vspec = _comma_tree(vspec) or treeify(vspec)
        if isinstance(vspec, tuple):
            return self._parse_group(vspec)

        text = str(vspec).strip()
        if not text:
            raise InvalidVersionSpec(vspec, "empty version spec")
        if text[0] == "^" or text[-1] == "$":
            if text[0] != "^" or text[-1] != "$":
                raise InvalidVersionSpec(text, "regex specs must start with '^' and end with '$'")
            match, rx = _regex_matcher(text, text)
            return self._setup(text, "regex", match, False, regex=rx)
        if text[0] in _OPERATOR_START:
            return self._parse_relation(text)
        if text == "*":
            return self._setup(text, "any", _always, False)
        if "*" in text.rstrip("*"):
            # a glob with '*' inside, e.g. '*.7.*' or '1.*.1': matched as text, not as a version
            pattern = text.replace(".", r"\.").replace("+", r"\+").replace("*", ".*")
            match, rx = _regex_matcher(text, rf"^(?:{pattern})$")
            return self._setup(text, "glob", match, False, regex=rx)
        if text[-1] == "*":
            # '1.2*' is read as '1.2.*': component-wise "starts with 1.2"
            if not text.endswith(".*"):
                text = text[:-1] + ".*"
            target = VersionOrder(text.rstrip("*").rstrip("."))
            return self._setup(text, "startswith", _relation_matcher("=", target), False,
                               operator="=", matcher_vo=target)
        if "@" not in text:
            target = VersionOrder(text)
            return self._setup(text, "exact", _relation_matcher("==", target), True,
                               operator="==", matcher_vo=target)
        # a string with '@' cannot be a version: compared as plain text
        return self._setup(text, "string", lambda v: str(v) == text, True)

    def _parse_relation(self, text: str) -> None:
        m = _RELATION.match(text)
        if m is None:
            raise InvalidVersionSpec(text, "invalid operator")
        op, target_str = m.groups()
        if target_str.endswith(".*"):
            if op in ("=", ">="):
                target_str = target_str[:-2]
            elif op == "!=":
                target_str = target_str[:-2]
                op = "!=startswith"
            elif op == "~=":
                raise InvalidVersionSpec(text, "invalid operator with '.*'")
            else:
                log.warning(
                    "Using .* with relational operator is superfluous and deprecated and will be "
                    "removed in a future version of conda. Your spec was %s, but conda is "
                    "ignoring the .* and treating it as %s", target_str, target_str[:-2],
                )
                target_str = target_str[:-2]
        target = VersionOrder(target_str)
        self._setup(text, "operator", _relation_matcher(op, target), op == "==",
                    operator=op, matcher_vo=target)

    def _parse_group(self, tree: tuple) -> None:
        if len(tree) < 2 or tree[0] not in ("|", ","):
            raise InvalidVersionSpec(str(tree), "not an expression tree ('|' or ',', operands...)")
        op = tree[0]
        members = tuple(VersionSpec(node) for node in tree[1:])
        # conda joins the members' own strings, so inner parentheses are not shown
        text = op.join(str(m.spec) for m in members)
        matchers = tuple(m.match for m in members)
        if op == "|":
            def match(value: Any) -> bool:
                for m in matchers:
                    if m(value):
                        return True
                return False
        else:
            def match(value: Any) -> bool:
                for m in matchers:
                    if not m(value):
                        return False
                return True
        self._setup(text, "or" if op == "|" else "and", match, False, tup=members)

    def merge(self, other: "VersionSpec") -> "VersionSpec":
        """Both constraints at once (``a,b``), members in sorted order as conda does."""
        if not isinstance(other, VersionSpec):
            raise TypeError(f"cannot merge VersionSpec with {type(other).__name__}")
        return VersionSpec(",".join(sorted((self.raw_value, other.raw_value))))

    def union(self, other: "VersionSpec") -> str:
        """Either constraint: a display string ``a|b`` (conda returns a str here, not a spec)."""
        if not isinstance(other, VersionSpec):
            raise TypeError(f"cannot union VersionSpec with {type(other).__name__}")
        return "|".join(sorted({self.raw_value, other.raw_value}))


# conda's other name for the same class
VersionMatch = VersionSpec


class BuildNumberMatch(BaseSpec, metaclass=_InternedByString):
    """A constraint on a record's integer ``build_number``: ``7``, ``>=7``, ``!=3``, ``*``, ``^..$``.

    Relations compare the numbers as versions (so ``>=7`` works as expected).

    >>> BuildNumberMatch(">=7").match(8)
    True
    """

    __slots__ = ()
    _cache_: dict[str, "BuildNumberMatch"] = {}

    def __init__(self, vspec: Any):
        try:
            number = int(vspec)
        except ValueError:
            pass
        else:
            return self._setup(number, "exact", lambda v: v == number, True)

        text = str(vspec).strip()
        if not text:
            raise InvalidVersionSpec(vspec, "empty build number spec")
        if text == "*":
            return self._setup(text, "any", _always, False)
        if text[0] in "=<>!":
            m = _RELATION.match(text)
            if m is None:
                raise InvalidVersionSpec(text, "invalid operator")
            op, target_str = m.groups()
            target = VersionOrder(target_str)
            return self._setup(text, "operator", _relation_matcher(op, target), op == "==",
                               operator=op, matcher_vo=target)
        if text[0] == "^" or text[-1] == "$":
            if text[0] != "^" or text[-1] != "$":
                raise InvalidVersionSpec(text, "regex specs must start with '^' and end with '$'")
            match, rx = _regex_matcher(text, text)
            return self._setup(text, "regex", match, False, regex=rx)
        return self._setup(text, "string", lambda v: v == text, True)

    @property
    def exact_value(self) -> int | None:
        try:
            return int(self.raw_value)
        except ValueError:
            return None

    def merge(self, other: "BuildNumberMatch"):
        """conda merges build numbers only when they are identical (and returns the raw value)."""
        if self.raw_value != other.raw_value:
            raise ValueError(
                f"Incompatible component merge:\n  - {self.raw_value!r}\n  - {other.raw_value!r}"
            )
        return self.raw_value

    def union(self, other: "BuildNumberMatch") -> str:
        return "|".join(sorted({str(self.raw_value), str(other.raw_value)}))
