"""Property tests for MatchSpec parsing.

Contract (checked against conda 26.7.1's code path): any string either parses or raises
``InvalidMatchSpec`` — never another exception. conda's ``MatchSpec`` constructor catches every
``InvalidSpec`` raised while building the field matchers (including ``InvalidVersionSpec`` from a
bad version part such as ``numpy >=``) and re-raises it as ``InvalidMatchSpec``; we do the same
(the version error is kept as ``__cause__``). The only ``InvalidVersionSpec`` that conda lets
escape is raised later, by *matching* a ``~=`` spec that has no compatible prefix (``~=1``);
that is a match-time error, not a parse error, and is not part of this property.

Also: a parsed spec always prints, and its canonical string (and that one's) again either
parses or raises ``InvalidMatchSpec`` — conda's grammar is not closed under printing (an empty
feature set prints as ``*[track_features=]``, which conda cannot read back), so only "no other
exception" is promised there.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conda_deepdive.exceptions import InvalidMatchSpec
from conda_deepdive.models import MatchSpec, PackageRecord

# 'name' inside and outside brackets warns (as in conda); irrelevant to these properties
pytestmark = pytest.mark.filterwarnings("ignore:'name' specified both:UserWarning")

FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SPEC_ALPHABET = "abcnpyz019._-*=<>!~|,()[]:/@#'\" ^$?+\\"

names = st.sampled_from(["numpy", "python", "py-thon", "_pkg", "__glibc", "x264", "my.pkg", "*", "num*",
                         "^py.*$", "Numpy", "pkg--x", ".bad", "a@b"])
versions = st.sampled_from(["1.7", "1.7.*", "1.7*", ">=1.5", ">=1.5,<2", "1.6|1.7", "!=1.10", "~=1.1", "=1.2",
                            "==1.2", "*", "1!2.0", "(>=1|<0),>0", ">=", "=", "1.0a", "", "2.*.*"])
builds = st.sampled_from(["", "py27_0", "py3*", "*_0", "0", "^(a|b)$", "*"])
channels = st.sampled_from(["", "conda-forge::", "defaults::", "pkgs/main::", "*/linux-64::",
                            "https://repo.anaconda.com/pkgs/free::", "file:///tmp/ch::", "conda-forge/osx-64::"])
keys = st.sampled_from(["version", "build", "build_number", "md5", "subdir", "channel", "license",
                        "track_features", "features", "fn", "url", "sha256", "name", "bogus"])
values = st.sampled_from(["1.7", ">=2", "py3*", "7", ">6", "abc", "linux-64", "conda-forge", "mkl",
                          "'a b'", '"x,y"', "", "GPL*"])


@st.composite
def structured_specs(draw) -> str:
    """Spec-shaped strings: channel::name version build [key=value, ...]."""
    text = draw(channels) + draw(names)
    sep = draw(st.sampled_from([" ", "", "=", " =="]))
    version = draw(versions)
    if version:
        text += sep + version
        build = draw(builds)
        if build:
            text += draw(st.sampled_from([" ", "="])) + build
    pairs = draw(st.lists(st.tuples(keys, values), max_size=3))
    if pairs:
        joiner = draw(st.sampled_from([",", " ", ", "]))
        text += "[" + joiner.join(f"{k}={v}" for k, v in pairs) + "]"
    return text


def _check(text: str) -> None:
    try:
        ms = MatchSpec(text)
    except InvalidMatchSpec:
        return
    canonical = str(ms)
    assert repr(ms).startswith("MatchSpec(")
    assert ms.strictness in (1, 2, 3)
    try:
        again = MatchSpec(canonical)
    except InvalidMatchSpec:
        return  # conda too cannot re-read e.g. '*[track_features=]'
    try:
        MatchSpec(str(again))
    except InvalidMatchSpec:
        pass  # conda's grammar is not closed under printing (e.g. "@=@[@"); no crash is the rule


@FAST
@given(st.text(alphabet=SPEC_ALPHABET, max_size=40))
@example("numpy >=")
@example("blas [optional")
@example("* >=3,(<4|<5)")
@example("x[version=)|(]")
@example("/linux-64/a.conda")
@example("https://h/linux-64/x.tar.bz2")
@example("::")
@example("[]")
@example("@")
@example("@=@[@")
def test_any_text_parses_or_raises_invalid_match_spec(text):
    _check(text)


@FAST
@given(structured_specs())
def test_spec_shaped_text_parses_or_raises_invalid_match_spec(text):
    _check(text)


@FAST
@given(structured_specs())
def test_matching_never_crashes_on_a_record(text):
    try:
        ms = MatchSpec(text)
    except InvalidMatchSpec:
        return
    record = PackageRecord(name="numpy", version="1.7.1", build="py27_0", build_number=0,
                           channel="conda-forge", subdir="linux-64", license="GPL", track_features="mkl")
    try:
        assert ms.match(record) in (True, False)
    except InvalidMatchSpec:
        raise AssertionError("matching must not raise a parse error")
    except Exception as exc:  # conda's one match-time error: '~=X' without a compatible prefix
        assert type(exc).__name__ == "InvalidVersionSpec" and "~=" in text, exc
