"""The MatchSpec fast path must build exactly what the general parser builds.

``MatchSpec("name >=1.2,<2")`` skips the general parser for the common shapes of dependency
strings (see ``spec_parser._parse_simple_spec``). These tests parse strings both ways and compare
everything observable: the raw components, ``str()``, the field matchers, identity (``==``/hash)
and ``match()`` over real records. The corpus test covers every dependency string of every
``repodata.json`` under ``../shared/data/channels``.
"""

from __future__ import annotations

import json
import random

import pytest

from conda_deepdive.exceptions import InvalidMatchSpec, InvalidVersionSpec
from conda_deepdive.models import Channel, MatchSpec
from conda_deepdive.models import spec_parser
from conda_deepdive.models.match_spec import clear_caches
from conda_deepdive.models.records import records_from_repodata

from conftest import shared_path


def _general(text: str) -> MatchSpec:
    """The spec as the general parser alone builds it (no fast path anywhere)."""
    return MatchSpec._from_components(dict(spec_parser._parse_spec_str_general(text)))


def _assert_same(text: str, fast: MatchSpec, slow: MatchSpec) -> None:
    assert str(fast) == str(slow), text
    assert fast == slow and hash(fast) == hash(slow), text
    assert list(fast._match_components) == list(slow._match_components), text
    for field, matcher in fast._match_components.items():
        other = slow._match_components[field]
        assert type(matcher) is type(other) and str(matcher) == str(other), (text, field)
        assert matcher.exact_value == other.exact_value, (text, field)
    assert fast.original_spec_str == slow.original_spec_str == text
    assert (fast.optional, fast.target, fast.strictness, fast.name) == (
        slow.optional, slow.target, slow.strictness, slow.name)
    assert repr(fast) == repr(slow)


SHAPES = [
    "numpy", "NumPy", "_license", "__glibc", "python 2.7*", "python 2.7.*", "python >=2.7,<3.0a0",
    "python 3.6.5 h0a44026_0", "python ==3.6.5 h0a44026_0", "python ==3.6.5", "py =3.7.1", "py =3.7.1 b",
    "blas * mkl", "libgd *.bioconda", "openjdk 8.0* zulu8*", "perl >5.22,<6.0", "gettext !=0.19.8",
    "a ~=1.4.2", "a >=1.1.0,!=1.4.2,<1.5.0", "a 1.0+local_1", "a 1_0", "a 1.0 py_0+x",
]
# strings the fast path must refuse (and leave to the general path)
NOT_SIMPLE = [
    "a if b", "foo.tar.bz2", "foo 1.0 x.conda", "a__b", "a 1!2", "a 1.0!", "a  >=1", "a 1.0|2.0",
    "__cuda>=10.0", "a==1", "conda-forge::numpy", "numpy[version='>=1']", "numpy 1.0 # c", "mkl@",
    "r-ade4 >=1.5-2", "bwa ==0.6.2-0", "numpy\t1.0", "numpy 1.0\n", "a 1 2 3", "*", "py* 1.0",
]


@pytest.mark.parametrize("text", SHAPES)
def test_fast_path_equals_general_parser(text):
    assert spec_parser._parse_simple_spec(text) is not None, "this shape should take the fast path"
    assert spec_parser._simple_components(text) == spec_parser._parse_spec_str_general(text)
    clear_caches()
    _assert_same(text, MatchSpec(text), _general(text))


@pytest.mark.parametrize("text", NOT_SIMPLE)
def test_other_shapes_take_the_general_path(text):
    assert spec_parser._parse_simple_spec(text) is None


@pytest.mark.parametrize("text", ["a 1.0..", "a >=", "a 1.0 b", "a__b 1.0", "Ab-", "a 1.0 ^x"])
def test_errors_are_the_general_parsers(text):
    """Invalid input raises the same error, with the same message, whichever path is taken."""
    clear_caches()
    try:
        expected = _general(text)
    except (InvalidMatchSpec, InvalidVersionSpec) as exc:
        expected = str(InvalidMatchSpec(text, str(exc)))  # MatchSpec() wraps once more
    clear_caches()
    if isinstance(expected, str):
        with pytest.raises(InvalidMatchSpec) as fast_exc:
            MatchSpec(text)
        assert str(fast_exc.value) == expected
    else:
        _assert_same(text, MatchSpec(text), expected)


def _channel_corpus():
    root = shared_path("data", "channels")
    strings: set[str] = set()
    records = []
    for path in sorted(root.glob("*/*/repodata.json")):
        raw = json.loads(path.read_bytes())
        for key in ("packages", "packages.conda"):
            for rec in (raw.get(key) or {}).values():
                strings.update(rec.get("depends") or ())
                strings.update(rec.get("constrains") or ())
        if "2018" in path.parts[-3]:
            records += records_from_repodata(raw, Channel(path.parent.parent.as_uri()))
    return sorted(strings), records


@pytest.mark.slow
def test_fast_path_on_every_dependency_string_of_the_shared_channels():
    strings, records = _channel_corpus()
    by_name: dict[str, list] = {}
    for rec in records:
        by_name.setdefault(rec.name, []).append(rec)
    rng = random.Random(20180101)
    sample = rng.sample(records, 40)
    clear_caches()
    fast_count = 0
    for text in strings:
        simple = spec_parser._parse_simple_spec(text)
        try:
            slow = _general(text)
        except (InvalidMatchSpec, InvalidVersionSpec) as exc:
            with pytest.raises(InvalidMatchSpec) as fast_exc:
                MatchSpec(text)
            assert str(fast_exc.value) == str(InvalidMatchSpec(text, str(exc)))
            continue
        if simple is None:
            continue
        fast_count += 1
        assert spec_parser._simple_components(text) == spec_parser._parse_spec_str_general(text), text
        fast = MatchSpec(text)
        _assert_same(text, fast, slow)
        candidates = by_name.get(fast.name, [])
        for rec in (*candidates[:: max(1, len(candidates) // 15)], *sample):
            assert fast.match(rec) == slow.match(rec), (text, rec)
    # the fast path is the common case, not a curiosity
    assert fast_count > 0.95 * len(strings), (fast_count, len(strings))


@pytest.mark.parametrize("text", ["py27_0", "NumPy", "h0a44026_0", "1.0+x"])
def test_plain_matchers_equal_the_checked_constructor(text):
    from conda_deepdive.models.matchers import GlobLowerStrMatch, GlobStrMatch

    for cls in (GlobStrMatch, GlobLowerStrMatch):
        plain, checked = cls._plain(text), cls(text)
        assert type(plain) is cls and plain == checked and str(plain) == str(checked)
        assert plain.exact_value == checked.exact_value and plain.match(text.lower()) == checked.match(text.lower())


@pytest.mark.parametrize("text", [">=1.2,<2", " >=1 , <2 ", "1.0,2.0,3.0", "a, ,b", ",a", "a,", "1,,2", "1,2\n3",
                                  ">=1,<2|3", "1,(2)", "^1,2$", "1.7", ">=1.2"])
def test_comma_tree_is_treeify(text):
    from conda_deepdive.models.version_spec import _comma_tree, treeify

    tree = _comma_tree(text)
    if tree is not None:
        assert tree == treeify(text)
    if "," not in text or "|" in text or "(" in text or "^" in text:
        assert tree is None


def test_plain_name_shortcut_only_accepts_valid_names():
    """name_problem() answers 'fine' early for plain names; they must be names the full rules
    accept (one leading underscore: an ordinary name; two: a virtual package's)."""
    from conda_deepdive.models import matchers

    ordinary, virtual = matchers._name_res()
    rng = random.Random(7)
    words = {"".join(rng.choice("aZ09._-") for _ in range(rng.randint(1, 6))) for _ in range(3000)}
    words |= {"_" * rng.randint(1, 3) + w for w in list(words)[:1500]}
    plain = 0
    for word in words | {"numpy", "ca-certificates", "a" * 128, "r-base64enc", "A.B",
                         "_libgcc_mutex", "__glibc", "__archspec"}:
        if matchers._is_plain_name(word):
            plain += 1
            assert (virtual if word.startswith("__") else ordinary).match(word), word
            assert matchers.name_problem(word) is None
    assert plain > 500
    assert matchers.name_problem("a" * 129) and matchers.name_problem("a__b") and matchers.name_problem("a b")
    assert matchers.name_problem("___a") and matchers.name_problem("__")
