"""Version specs: how conda reads the ``>=1.20,<2`` in ``numpy >=1.20,<2`` (``conda.models.version``).

A ``MatchSpec`` hands everything after the package name to :class:`VersionSpec`, and the build
number field to :class:`BuildNumberMatch`. Both are built on the version *order* from
:mod:`conda_deepdive.models.version`; conda keeps order and specs in one file
(``conda/models/version.py``: ``treeify``/``untreeify``, ``OPERATOR_MAP``, ``BaseSpec``,
``VersionSpec``, ``BuildNumberMatch``), we split it so each half reads in one sitting.

The spec language
-----------------
* an exact version: ``1.2`` means ``==1.2`` (so ``1.2.0`` matches too: zeros are padding);
* the operators ``== != < <= > >= ~=`` (``~=1.4.2`` is ``>=1.4.2`` and "starts with 1.4");
* fuzzy ``=1.2`` / ``1.2.*`` / ``1.2*``: "starts with 1.2", component-wise, so ``1.2.*`` does not
  match ``1.20``; ``!=1.2.*`` is the negation;
* globs with a ``*`` inside, such as ``*.7.*``: matched against the version *text*, not the order;
* regular expressions ``^...$``, also matched as text;
* groups joined with ``,`` (and) and ``|`` (or), where ``,`` binds tighter, with parentheses:
  :func:`treeify` turns ``1.5|(1.6|1.7),1.8`` into ``('|', '1.5', (',', ('|', '1.6', '1.7'), '1.8'))``.

Each spec is compiled once into a ``match`` function, and specs are interned like versions (the
same string gives the same object), because the solver calls ``match`` millions of times.
``kind`` records which rule above was used, so a learner can see how a spec was read.

What to notice
--------------
* ``=1.2`` (starts with) and ``==1.2`` (equal) are different specs; ``1.2`` alone is the second.
* a trailing ``.*`` after an operator is mostly dropped: silently after ``=`` and ``>=``, with a
  deprecation warning after ``==``, ``<``, ``<=``, ``>`` (so ``==1.2.*`` means ``==1.2``, *not*
  "starts with 1.2"); after ``!=`` it means "does not start with", and after ``~=`` it is an error.
* conda's canonical ``str`` of a group drops inner parentheses:
  ``VersionSpec('(1.6|1.7),1.8')`` prints as ``1.6|1.7,1.8``; matching still uses the parsed tree.
  We reproduce that exactly, because that is what ``conda`` prints.
* ``VersionSpec.merge`` returns a spec, but ``union`` returns a plain string, as in conda.

Deliberate differences from conda 26.7.1 (only where conda crashes with a non-conda exception):
empty specs, bad regular expressions and too-deep nesting raise :class:`InvalidVersionSpec`
instead of ``IndexError``/``re.error``/``RecursionError``; regex and ``@`` specs accept a
``VersionOrder`` (matched by its normalised string) instead of raising ``TypeError``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

from ..exceptions import InvalidVersionSpec
from ..values import LazyPattern
from .version import VersionOrder, _InternedByString, _prefix_test

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "BaseSpec",
    "BuildNumberMatch",
    "VersionMatch",
    "VersionSpec",
    "treeify",
    "untreeify",
    "ver_eval",
]

# conda logs these warnings as conda.models.version; ours keep their name from before the split,
# so a logging filter on conda_deepdive.models.version still sees them
LOGGER_NAME = "conda_deepdive.models.version"


def ver_eval(vtest: str, spec: str) -> bool:
    """Does version string ``vtest`` satisfy version spec ``spec``?"""
    return VersionSpec(spec).match(vtest)


# ---------------------------------------------------------------------------------------------
# Spec expressions: '1.5|(1.6|1.7),1.8' -> ('|', '1.5', (',', ('|', '1.6', '1.7'), '1.8'))

# a regex '^...$' (may contain , | ( )), a paren / ',' / '|', or a run of anything else
_TOKEN = LazyPattern(r"\s*\^[^$]*\$|\s*[()|,]|[^()|,]+")  # compiled for the first spec with ( | ,
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
# The matchers use two VersionOrder internals from version.py: the ordering key ``_key`` and the
# interning table ``VersionOrder._cache_`` (a version string seen before costs one dict lookup).
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


def _without_set_warnings(pattern: str) -> str:
    """``pattern`` with the same matches, minus what makes Python warn about *future* set syntax.

    Inside a character set, ``re`` emits ``FutureWarning`` for what a later Python may read as set
    operations: a set that starts with ``[`` (``[[0-9]``: today the set of ``[`` and the digits —
    "Possible nested set"), a doubled ``--``, ``&&``, ``~~`` or ``||`` after the first item, and a
    range that ends in ``-`` (``[+--]``). conda compiles regex specs as typed and shows the
    warning; we escape exactly those characters, which means the same thing now. The scan follows
    ``re._parser``'s reading of a set item by item (an item, then maybe ``-`` and a range end), so
    a ``-`` that is a range operator is never touched.
    """
    if "[" not in pattern:
        return pattern
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        out.append(c)
        i += 1
        if c != "[":
            continue
        # a character set, read as re._parser reads it
        just_opened = True
        if pattern.startswith("^", i):
            out.append("^")
            i += 1
            just_opened = False  # the nested-set warning looks only right after the bracket
        items = 0
        while i < n:
            this = pattern[i]
            if this == "]" and items:
                out.append("]")
                i += 1
                break
            if this == "\\":
                out.append(pattern[i:i + 2])
                i += 2
            else:
                i += 1
                doubled = items and this in "-&~|" and pattern.startswith(this, i)
                out.append("\\" + this if doubled or (this == "[" and just_opened) else this)
            just_opened = False
            items += 1
            if pattern.startswith("-", i) and i + 1 < n:  # a range, unless "-]" ends the set
                end_char = pattern[i + 1]
                if end_char == "]":
                    continue  # the "-" is read as a literal at the next turn
                out.append("-")
                if end_char == "\\":
                    out.append(pattern[i + 1:i + 3])
                    i += 3
                else:
                    out.append("\\-" if end_char == "-" else end_char)
                    i += 2
    return "".join(out)


def _regex_matcher(spec: str, pattern: str) -> tuple[Callable[[Any], bool], re.Pattern]:
    try:
        rx = re.compile(_without_set_warnings(pattern))
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
                import logging  # only for this rare warning: importing logging costs ~3 ms

                logging.getLogger(LOGGER_NAME).warning(
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
