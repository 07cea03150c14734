"""MatchSpec against real conda 26.7.1 answers (../shared/fidelity/matchspecs.json) + behaviour."""

from __future__ import annotations

import json
import pickle
import re

import pytest

from conda_deepdive.exceptions import InvalidMatchSpec
from conda_deepdive.models import Channel, MatchSpec, PackageRecord
from conda_deepdive.models.match_spec import ChannelMatch, GlobStrMatch

from conftest import SHARED, load_fidelity

# ---------------------------------------------------------------------------------------------
# fidelity cases: collected at import so every case is its own test with a readable id
# ---------------------------------------------------------------------------------------------
_FIDELITY = SHARED / "fidelity" / "matchspecs.json"
if _FIDELITY.exists():
    _DATA = json.loads(_FIDELITY.read_text())
    PARSE_CASES = _DATA["parse"]
    MATCH_CASES = _DATA["match"]
else:  # pragma: no cover - shared data absent: one skipped placeholder each
    PARSE_CASES = MATCH_CASES = [None]


def _case_id(prefix: str, i: int, text: str | None, kwargs: dict | None = None) -> str:
    label = text if text is not None else ""
    if kwargs:
        label += "+" + ",".join(f"{k}={v}" for k, v in kwargs.items())
    label = re.sub(r"\s+", "_", label)[:60]
    return f"{prefix}{i:03d}[{label}]"


PARSE_IDS = [
    _case_id("parse", i, c["input"], c.get("kwargs")) if c else "absent" for i, c in enumerate(PARSE_CASES)
]
MATCH_IDS = [
    _case_id("match", i, c["spec"]) + ("-dict" if c["record_is_dict"] else "") if c else "absent"
    for i, c in enumerate(MATCH_CASES)
]


def _build(case: dict) -> MatchSpec:
    kwargs = case.get("kwargs") or {}
    if case["input"] is None:
        return MatchSpec(**kwargs)
    return MatchSpec(case["input"], **kwargs)


def _plain(value):
    """conda's fidelity file stringifies raw values: sets → sorted lists, ints stay ints."""
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value)


@pytest.mark.parametrize("case", PARSE_CASES, ids=PARSE_IDS)
def test_fidelity_parse(case):
    if case is None:
        load_fidelity("matchspecs.json")  # skips with a clear reason
    if not case["valid"]:
        with pytest.raises(Exception) as info:
            _build(case)
        assert type(info.value).__name__ == case["exception"]
        return
    ms = _build(case)
    assert str(ms) == case["str"]
    assert repr(ms) == case["repr"]
    fields = {f: _plain(ms.get_raw_value(f)) for f in MatchSpec.FIELD_NAMES if ms.get_raw_value(f) is not None}
    assert fields == case["fields"]
    exact = {f: _plain(ms.get_exact_value(f)) for f in MatchSpec.FIELD_NAMES if ms.get_exact_value(f) is not None}
    assert exact == case["exact_values"]
    assert ms.strictness == case["strictness"]
    assert ms.is_name_only_spec is case["is_name_only_spec"]
    if "conda_build_form" in case:
        assert ms.conda_build_form() == case["conda_build_form"]
    else:
        with pytest.raises(ValueError):
            ms.conda_build_form()
    # the canonical string parses back to an equal spec, or fails like conda's
    if "str_roundtrip_exception" in case:
        with pytest.raises(InvalidMatchSpec):
            MatchSpec(str(ms))
    else:
        assert (MatchSpec(str(ms)) == ms) is case["str_roundtrip_equal"]


@pytest.mark.parametrize("case", MATCH_CASES, ids=MATCH_IDS)
def test_fidelity_match(case):
    if case is None:
        load_fidelity("matchspecs.json")
    record = case["record"]
    if not case["record_is_dict"]:
        record = PackageRecord(**dict(record, channel=Channel(record["channel"])))
    assert MatchSpec(case["spec"]).match(record) is case["expected"]


# ---------------------------------------------------------------------------------------------
# behaviour beyond the fidelity file
# ---------------------------------------------------------------------------------------------
def _rec(name="numpy", version="1.7.1", build="py27_0", build_number=0, **kw):
    return PackageRecord(name=name, version=version, build=build, build_number=build_number,
                         subdir=kw.pop("subdir", "linux-64"), **kw)


def test_identical_strings_share_one_parsed_spec():
    assert MatchSpec("numpy >=1.7,<2") is MatchSpec("numpy >=1.7,<2")


def test_equality_and_hash_follow_canonical_form_and_flags():
    a = MatchSpec("numpy 1.7*")
    c = MatchSpec(name="numpy", version="1.7*")
    d = MatchSpec(c, optional=True)
    assert a == c and hash(a) == hash(c)
    assert d.optional and not c.optional
    assert a != d and hash(a) != hash(d)
    assert MatchSpec("python 2.7.4") == MatchSpec("* 2.7.4", name="python")
    assert MatchSpec("python") != MatchSpec("python 2.7.4")


def test_overrides_from_existing_spec():
    m = MatchSpec("blas 1.0", optional=True)
    m2 = MatchSpec(m, optional=False)
    m3 = MatchSpec(m2, target="blas-1.0-0.tar.bz2")
    m4 = MatchSpec(m3, target=None, optional=True)
    assert m.spec == m2.spec and m.optional != m2.optional
    assert m3.target == "blas-1.0-0.tar.bz2" and m2.target is None
    assert m == m4
    assert repr(m3) == 'MatchSpec("blas==1.0", target="blas-1.0-0.tar.bz2")'
    assert repr(m) == 'MatchSpec("blas==1.0", optional=True)'
    assert MatchSpec(m) is m
    assert m.original_spec_str == "blas 1.0"


def test_kwargs_override_parsed_fields_and_drop_original_string():
    ms = MatchSpec("numpy 1.7", version="1.8")
    assert str(ms) == "numpy==1.8"
    assert ms.original_spec_str is None
    assert MatchSpec("numpy 1.7", optional=True).original_spec_str == "numpy 1.7"


def test_get_and_contains():
    ms = MatchSpec("conda-forge::numpy >=1.5 py3*")
    assert "version" in ms and "md5" not in ms
    assert ms.get("md5", "none") == "none"
    assert str(ms.get("version")) == ">=1.5"
    assert ms.name == "numpy" and MatchSpec("*[md5=abc]").name == "*"
    assert str(ms.version) == ">=1.5"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("blas [optional", "multiple brackets"),
        ("blas [test=]", "key-value mismatch"),
        ('blas[invalid="1"]', "Cannot match on field"),
        ("pack@ge", "package name contains invalid characters (@)"),
        ("pkg--name", "two separators"),
        (".pkg", "must start with"),
        (">=1.0", "no package name"),
        ("^(aaaa$", "regular expression"),
        ("numpy >=1.0,", "Invalid"),
    ],
)
def test_invalid_specs_name_the_input(text, fragment):
    with pytest.raises(InvalidMatchSpec) as info:
        MatchSpec(text)
    message = str(info.value)
    assert fragment in message
    assert "Invalid spec" in message


def _cli_invalid_spec_cases():
    path = SHARED / "fidelity" / "cli_cases.json"
    if not path.exists():
        return [None]
    data = json.loads(path.read_text())
    cases = data["cases"] if isinstance(data, dict) else data
    return [c for c in cases if c["expected"].get("exception_name") == "InvalidMatchSpec"] or [None]


@pytest.mark.parametrize("case", _cli_invalid_spec_cases(), ids=lambda c: c["id"] if c else "absent")
def test_invalid_spec_messages_are_condas(case):
    """The exact messages real conda printed for bad specs on the command line (cli_cases.json),
    including conda's double 'Invalid spec' wrapping of errors found while parsing."""
    if case is None:
        load_fidelity("cli_cases.json")
    (spec,) = case["specs"]
    with pytest.raises(InvalidMatchSpec) as info:
        MatchSpec(spec)
    assert str(info.value) == case["expected"]["message"]


def test_invalid_version_inside_a_spec_becomes_invalid_match_spec():
    with pytest.raises(InvalidMatchSpec) as info:
        MatchSpec("numpy >=")
    assert "numpy >=" in str(info.value)
    assert type(info.value.__cause__).__name__ == "InvalidVersionSpec"


def test_non_string_argument_is_rejected_as_value_error():
    with pytest.raises(ValueError):
        MatchSpec((1, 2, 3))


def test_match_uses_every_field():
    rec = _rec(track_features="mkl", license="BSD-3-Clause", md5="abc")
    assert MatchSpec("numpy=1.7").match(rec)
    assert MatchSpec("numpy[md5=abc]").match(rec)
    assert not MatchSpec("numpy[md5=abd]").match(rec)
    assert MatchSpec("*[track_features=mkl]").match(rec)
    assert MatchSpec("*[license=bsd*]").match(rec)
    assert MatchSpec("numpy[subdir=linux-64]").match(rec)
    assert not MatchSpec("numpy[subdir=osx-64]").match(rec)
    assert MatchSpec("num*").match(rec) and not MatchSpec("nump").match(rec)
    assert MatchSpec("numpy[build_number='>=0']").match(rec)


def test_channel_matching_by_canonical_name():
    main_rec = _rec(channel=Channel("https://repo.anaconda.com/pkgs/main/linux-64"))
    assert MatchSpec("defaults::numpy").match(main_rec)
    assert MatchSpec("pkgs/main::numpy").match(main_rec)
    assert not MatchSpec("conda-forge::numpy").match(main_rec)
    assert MatchSpec("*::numpy").match(main_rec)
    assert ChannelMatch("defaults").match("pkgs/main") is True
    assert ChannelMatch("pkgs/main").match(Channel("defaults")) is False
    assert ChannelMatch("conda-forge").match("https://conda.anaconda.org/conda-forge") is True
    assert str(MatchSpec("defaults::*")) == "defaults::*"


def test_merge_combines_constraints_per_name():
    merged = MatchSpec.merge(["numpy >=1.7", "numpy <2", "python 3.6*", "*[md5=abc]"])
    by_name = {m.name: m for m in merged}
    assert by_name["numpy"].match(_rec(version="1.9"))
    assert not by_name["numpy"].match(_rec(version="2.1"))
    assert str(by_name["python"]) == "python=3.6"
    assert any(m.name == "*" for m in merged)  # unmergeable specs pass through
    union = MatchSpec.union(["numpy 1.7.*", "numpy 1.8.*"])
    assert len(union) == 1
    assert union[0].match(_rec(version="1.8.2")) and union[0].match(_rec(version="1.7.0"))
    with pytest.raises(ValueError):
        MatchSpec.merge(["numpy[md5=a]", "numpy[md5=b]"])


def test_merge_of_one_spec_per_name_is_the_sorted_specs_themselves():
    # the shortcut for a record's depends (no two specs of one name): conda's grouping would
    # keep each spec as it is, in sorted order
    import random
    from functools import reduce

    def grouped(specs):
        specs = sorted((MatchSpec(x) for x in specs if x), key=str)
        by_name = {}
        for x in specs:
            by_name.setdefault(x.name, []).append(x)
        rest = by_name.pop("*", [])
        return (*(reduce(lambda a, b: a._merge(b), group) for group in by_name.values()), *rest)

    rng = random.Random(11)
    pool = ["python >=3.6,<3.7.0a0", "numpy", "numpy >=1.11", "libgcc-ng >=7.2.0", "*[md5=abc]",
            "openssl 1.0.*", "zlib >=1.2.11,<1.3.0a0", "mkl 2018.*", "tk 8.6.*", "", "pip"]
    for _ in range(300):
        specs = rng.sample(pool, rng.randint(0, len(pool)))
        merged = MatchSpec.merge(specs)
        assert merged == grouped(specs), specs
        if len({MatchSpec(x).name for x in specs if x}) == len([x for x in specs if x]) and "*[md5=abc]" not in specs:
            assert all(a is b for a, b in zip(merged, sorted(map(MatchSpec, filter(None, specs)), key=str)))


def test_glob_merge_keeps_the_stricter_pattern():
    assert GlobStrMatch("py3*").merge(GlobStrMatch("py36*")) == "py36*"
    assert GlobStrMatch("*_0").merge(GlobStrMatch("py36_0")) == "py36_0"
    merged = GlobStrMatch("*red*").merge(GlobStrMatch("red_*"))
    spec = MatchSpec(name="x", build=merged)
    assert spec.match({"name": "x", "version": "1", "build": "red_h1_3", "build_number": 3})


def test_tarball_specs_and_dist_str():
    url = "https://conda.anaconda.org/conda-canary/linux-64/conda-4.3.21.post699+1dab973-py36h4a561cd_0.tar.bz2"
    assert str(MatchSpec(url)) == "conda-canary/linux-64::conda==4.3.21.post699+1dab973=py36h4a561cd_0"
    ms = MatchSpec.from_dist_str("conda-forge/linux-64::numpy-1.20.0-py39_0.conda")
    assert str(ms) == "conda-forge/linux-64::numpy==1.20.0=py39_0"
    assert ms._to_filename_do_not_use() == "numpy-1.20.0-py39_0.tar.bz2"
    assert MatchSpec(fn="foo-1.7-52.tar.bz2").fn == "foo-1.7-52.tar.bz2"


def test_comments_conditions_and_feature_shorthand():
    assert str(MatchSpec("numpy >=1.7  # pinned")) == "numpy[version='>=1.7']"
    assert str(MatchSpec("pywin32 if __win")) == "pywin32"
    assert str(MatchSpec("mkl@")) == "*[track_features=mkl]"


def test_brackets_override_outside_values_but_not_name():
    assert str(MatchSpec("numpy 1.7[version='>=2']")) == "numpy[version='>=2']"
    with pytest.warns(UserWarning):
        ms = MatchSpec("tensorflow[name=pytorch]")
    assert ms.name == "tensorflow"


def test_specs_are_immutable_and_picklable():
    ms = MatchSpec("conda-forge::numpy >=1.7", optional=True)
    with pytest.raises(AttributeError):
        ms._optional = False  # type: ignore[misc]
    clone = pickle.loads(pickle.dumps(ms))
    assert clone == ms and clone.optional and clone.original_spec_str == ms.original_spec_str
    for text in ("*[track_features=]", "https://repo.anaconda.com/pkgs/main::numpy", "numpy[build_number='>=3']",
                 "*[license_family=GPL*]", "defaults/linux-64::python 3.6*"):
        spec = MatchSpec(text) if "track" not in text else MatchSpec(track_features="")
        again = pickle.loads(pickle.dumps(spec))
        assert again == spec and str(again) == str(spec)


def test_records_match_from_plain_dicts_and_records_alike():
    d = {"name": "numpy", "version": "1.11.0", "build": "py34_7", "build_number": 7}
    rec = PackageRecord.from_dict(d)
    for spec in ("numpy[version='<2']", "numpy[build_number=7]", "numpy~=1.10", "numpy=1.11"):
        assert MatchSpec(spec).match(d) is MatchSpec(spec).match(rec) is True


def test_the_plain_name_shortcut_is_the_regex_it_replaces():
    # name_problem's fast test for everyday names, in string code: exactly the ASCII regex
    # _{0,2}+[a-zA-Z0-9]++(?:[._-][a-zA-Z0-9]++)*+ ; anything else takes the full rules
    import random
    import re

    from conda_deepdive.models.matchers import _is_plain_name, name_problem

    regex = re.compile(r"_{0,2}+[a-zA-Z0-9]++(?:[._-][a-zA-Z0-9]++)*+")
    rng = random.Random(5)
    for _ in range(50000):
        name = "".join(rng.choice("__.-aZ09\u00e9*\u212a") for _ in range(rng.randint(0, 8)))
        assert _is_plain_name(name) == bool(regex.fullmatch(name)), name
    # a look-alike letter (the Kelvin sign) is not a plain name: the full rules name it
    assert name_problem("nump\u212a") == "package name contains invalid characters (\u212a)"
    assert name_problem("__glibc") is None and name_problem("_libgcc_mutex") is None
