"""Property tests for the version model.

* Any text either parses or raises ``InvalidVersionSpec``: never another exception.
* The precomputed ordering key agrees with a plain, loop-based reading of conda's rules
  (``_ref_cmp`` below, written straight from the documented algorithm) and is a total preorder
  consistent with ``==`` and ``hash``.
* Relational specs agree with the reference comparison; canonical strings are stable.
"""

from __future__ import annotations

import random
from itertools import zip_longest

import pytest

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conda_deepdive.exceptions import InvalidVersionSpec
from conda_deepdive.models.version import VersionOrder
from conda_deepdive.models.version_spec import BuildNumberMatch, VersionSpec

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- strategies
VERSION_ALPHABET = "0123456789.._-+!*abcdeprostvDEVPOSTRC \t"
SPEC_ALPHABET = VERSION_ALPHABET + "=<>~!|,()^$@[]?\\"

words = st.sampled_from(["a", "b", "rc", "dev", "post", "beta", "_", "vc", "p", "x", "DEV", "Post"])
numbers = st.integers(0, 30).map(str) | st.sampled_from(["0", "00", "007", "2018", "10"])
component = st.lists(numbers | words, min_size=1, max_size=4).map("".join)


def _assemble(body: list[str], local: list[str], flags: int) -> str:
    """Glue drawn components into a version string; ``flags`` switches on the rarer features."""
    text = body[0] + "".join(".._"[(flags >> i) % 3] + c for i, c in enumerate(body[1:]))
    if flags & 64:
        text = f"{flags % 3}!{text}"  # epoch
    if local and flags & 128:
        text += "+" + ".".join(local)  # local version
    if flags & 256 and "_" not in text:
        text = text.replace(".", "-", 1)  # dashes are read as underscores
    if flags & 512:
        text += "_"  # openssl-style trailing underscore
    return text


def versions() -> st.SearchStrategy[str]:
    """Mostly-valid conda version strings, covering epochs, locals, dashes and special words."""
    return st.builds(
        _assemble,
        st.lists(component, min_size=1, max_size=5),
        st.lists(component, max_size=2),
        st.integers(0, 1023),
    )


def parsed(text: str) -> VersionOrder | None:
    try:
        return VersionOrder(text)
    except InvalidVersionSpec:
        return None


def _pool(size: int = 800) -> list[VersionOrder]:
    """A fixed, diverse pool of valid versions: drawing pairs/triples from it is cheap, so the
    ordering properties get many examples per second (the generator above covers parsing)."""
    rng = random.Random(20181010)
    atoms = ["0", "1", "2", "00", "10", "2018", "a", "b", "rc", "dev", "post", "_", "z", "*", "DEV"]
    out: dict[str, VersionOrder] = {}
    while len(out) < size:
        comps = ["".join(rng.choice(atoms) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 5))]
        text = rng.choice(".._").join(comps)
        if rng.random() < 0.2:
            text += "+" + ".".join(rng.choice(atoms) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.1:
            text = f"{rng.randint(0, 2)}!{text}"
        vo = parsed(text)
        if vo is not None:
            out[text] = vo
    return list(out.values())


POOL = _pool()
valid_versions = st.sampled_from(POOL) | versions().map(parsed).filter(lambda v: v is not None)
pooled = st.sampled_from(POOL)


# ---------------------------------------------------------------- reference comparison
def _ref_cmp_lists(t1, t2) -> int:
    for v1, v2 in zip_longest(t1, t2, fillvalue=()):
        for c1, c2 in zip_longest(v1, v2, fillvalue=0):
            if c1 == c2:
                continue
            s1, s2 = isinstance(c1, str), isinstance(c2, str)
            if s1 != s2:
                return -1 if s1 else 1  # strings sort below numbers
            return -1 if c1 < c2 else 1
    return 0


def _ref_cmp(a: VersionOrder, b: VersionOrder) -> int:
    return _ref_cmp_lists(a.version, b.version) or _ref_cmp_lists(a.local, b.local)


def _ref_startswith(a: VersionOrder, b: VersionOrder) -> bool:
    if b.local:
        if _ref_cmp_lists(a.version, b.version):
            return False
        t1, t2 = a.local, b.local
    else:
        t1, t2 = a.version, b.version
    n = len(t2) - 1
    if _ref_cmp_lists(t1[:n], t2[:n]):
        return False
    v1 = t1[n] if len(t1) > n else ()
    v2 = t2[n]
    k = len(v2) - 1
    if _ref_cmp_lists([v1[:k]], [v2[:k]]):
        return False
    c1 = v1[k] if len(v1) > k else 0
    c2 = v2[k]
    if isinstance(c2, str):
        return isinstance(c1, str) and c1.startswith(c2)
    return not isinstance(c1, str) and c1 == c2


# ---------------------------------------------------------------- never another exception
@FAST
@given(st.text(max_size=30) | st.text(VERSION_ALPHABET, max_size=20) | versions())
def test_version_order_parses_or_raises_invalid(text):
    try:
        vo = VersionOrder(text)
    except InvalidVersionSpec as exc:
        assert "Invalid version" in str(exc)
        return
    assert VersionOrder(str(vo)) == vo  # the normalised string means the same version
    assert vo == vo and not vo < vo


@FAST
@given(st.text(max_size=30) | st.text(SPEC_ALPHABET, max_size=25))
def test_version_spec_parses_or_raises_invalid(text):
    try:
        spec = VersionSpec(text)
    except InvalidVersionSpec:
        return
    assert isinstance(spec.spec, str) and isinstance(spec.is_exact(), bool)
    # the canonical string is a fixed point -- except after a newline: conda decides whether to
    # split on ',' and '|' with a regex whose '.' stops at '\n', *before* stripping whitespace,
    # so '\n@,.' is one '@' string spec while its stripped form '@,.' is split (and invalid)
    if "\n" not in text:
        assert VersionSpec(spec.spec).spec == spec.spec
    for probe in ("1.0", "2.7.1", "1.0a1", "0"):
        try:
            assert isinstance(spec.match(probe), bool)
        except InvalidVersionSpec:  # only '~=N' (no prefix) fails late, as in conda
            assert "~=" in spec.spec


def test_a_leading_newline_hides_the_operators_from_the_splitter_as_in_conda():
    assert VersionSpec("\n@,.").spec == "@,."
    with pytest.raises(InvalidVersionSpec):
        VersionSpec("@,.")


@FAST
@given(st.text(max_size=12) | st.text("0123456789=<>!~*^$ .", max_size=8) | st.integers(-5, 10**6))
def test_build_number_match_parses_or_raises_invalid(value):
    try:
        spec = BuildNumberMatch(value)
    except InvalidVersionSpec:
        return
    for number in (0, 7, 12):
        assert isinstance(spec.match(number), bool)


# ---------------------------------------------------------------- ordering
@FAST
@given(valid_versions, valid_versions)
def test_order_agrees_with_reference(a, b):
    expected = _ref_cmp(a, b)
    assert (a < b) is (expected < 0)
    assert (a > b) is (expected > 0)
    assert (a == b) is (expected == 0)
    assert (a <= b) is (expected <= 0) and (a >= b) is (expected >= 0) and (a != b) is (expected != 0)
    if a == b:
        assert hash(a) == hash(b)
    assert a.startswith(b) is _ref_startswith(a, b)


@FAST
@given(pooled, pooled, pooled)
def test_total_preorder(a, b, c):
    assert sum((a < b, a == b, a > b)) == 1  # trichotomy
    if a <= b and b <= c:
        assert a <= c
    if a == b and b == c:
        assert a == c
    ordered = sorted([c, a, b])
    assert ordered[0] <= ordered[1] <= ordered[2]


@FAST
@given(valid_versions, st.integers(0, 3))
def test_trailing_zeros_are_padding(v, zeros):
    assume(not v.local and not str(v).endswith("_"))
    assert VersionOrder(str(v) + ".0" * zeros) == v


# ---------------------------------------------------------------- specs vs reference
@FAST
@given(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), pooled, valid_versions)
def test_relational_specs_agree_with_reference(op, target, candidate):
    assume("*" not in str(target))
    spec = VersionSpec(f"{op}{target}")
    cmp = _ref_cmp(candidate, target)
    expected = {"==": cmp == 0, "!=": cmp != 0, "<": cmp < 0, "<=": cmp <= 0, ">": cmp > 0, ">=": cmp >= 0}[op]
    assert spec.match(candidate) is expected
    assert spec.match(str(candidate)) is expected


@FAST
@given(pooled, pooled, pooled)
def test_and_or_groups(lo, hi, candidate):
    assume("*" not in str(lo) + str(hi))
    both = VersionSpec(f">={lo},<{hi}")
    either = VersionSpec(f"<{lo}|>={hi}")
    inside = _ref_cmp(candidate, lo) >= 0 and _ref_cmp(candidate, hi) < 0
    assert both.match(candidate) is inside
    assert either.match(candidate) is (_ref_cmp(candidate, lo) < 0 or _ref_cmp(candidate, hi) >= 0)
    assert both.merge(VersionSpec("*")).match(candidate) is inside
