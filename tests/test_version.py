"""VersionOrder / VersionSpec / BuildNumberMatch against answers from real conda 26.7.1.

Every case in ``../shared/fidelity/versions.json`` becomes its own test id; the hand-written tests
at the bottom cover API details the fidelity file does not (repr, interning, merge, errors).
"""

from __future__ import annotations

import logging
import math
import operator
import random

import pytest

from conda_deepdive.exceptions import CondaError, InvalidVersionSpec
from conda_deepdive.models.version import VersionOrder, normalized_version
from conda_deepdive.models.version_spec import (
    BuildNumberMatch,
    VersionMatch,
    VersionSpec,
    treeify,
    untreeify,
    ver_eval,
)

try:
    from conftest import load_fidelity

    FIDELITY = load_fidelity("versions.json")
except pytest.skip.Exception as exc:  # ../shared absent: every fidelity test is skipped
    FIDELITY = None
    _SKIP_REASON = str(exc)


def cases(section: str, make_id):
    if FIDELITY is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=_SKIP_REASON), id="no-shared-data")]
    return [pytest.param(case, id=make_id(i, case)) for i, case in enumerate(FIDELITY[section])]


def _plain(structure):
    """Our tuples -> the fidelity file's lists, with inf spelled '+inf'."""
    if isinstance(structure, (list, tuple)):
        return [_plain(x) for x in structure]
    if isinstance(structure, float) and math.isinf(structure):
        return "+inf"
    return structure


OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "startswith": lambda a, b: a.startswith(b),
}


# ------------------------------------------------------------------------------ fidelity cases
@pytest.mark.parametrize("case", cases("versions", lambda i, c: f"{c['input']!r}"))
def test_version_parse(case):
    if not case["valid"]:
        with pytest.raises(InvalidVersionSpec) as info:
            VersionOrder(case["input"])
        assert str(info.value).startswith(f"Invalid version '{case['input']}': ")
        return
    vo = VersionOrder(case["input"])
    assert str(vo) == case["str"]
    assert _plain(vo.version) == case["version"]
    assert _plain(vo.local) == case["local"]


@pytest.mark.parametrize("case", cases("sorted_groups", lambda i, g: f"{i:03d}:{'='.join(g)}"))
def test_sorted_group(case):
    group = [VersionOrder(v) for v in case]
    first = group[0]
    for other in group[1:]:
        assert first == other and hash(first) == hash(other)
        assert not first < other and not first > other
    index = FIDELITY["sorted_groups"].index(case)
    if index + 1 < len(FIDELITY["sorted_groups"]):
        for nxt in map(VersionOrder, FIDELITY["sorted_groups"][index + 1]):
            for vo in group:
                assert vo < nxt and vo <= nxt and nxt > vo and vo != nxt


def test_sorting_reproduces_all_groups():
    if FIDELITY is None:
        pytest.skip(_SKIP_REASON)
    groups = FIDELITY["sorted_groups"]
    flat = [v for g in groups for v in g]
    random.Random(7).shuffle(flat)
    ordered = sorted(flat, key=VersionOrder)
    regrouped: list[list[str]] = []
    for v in ordered:
        if regrouped and VersionOrder(v) == VersionOrder(regrouped[-1][0]):
            regrouped[-1].append(v)
        else:
            regrouped.append([v])
    assert [sorted(g) for g in regrouped] == [sorted(g) for g in groups]


@pytest.mark.parametrize("case", cases("comparisons", lambda i, c: f"{c['a']} {c['op']} {c['b']}"))
def test_comparison(case):
    a, b = VersionOrder(case["a"]), VersionOrder(case["b"])
    assert OPS[case["op"]](a, b) is case["expected"]


@pytest.mark.parametrize("case", cases("version_specs", lambda i, c: f"{c['spec']!r}"))
def test_version_spec(case):
    if not case["valid"]:
        with pytest.raises(InvalidVersionSpec):
            VersionSpec(case["spec"])
        return
    spec = VersionSpec(case["spec"])
    assert str(spec) == case["str"]
    assert spec.spec == case["str"]
    assert spec.is_exact() is case["is_exact"]
    assert repr(spec) == f"VersionSpec({case['str']!r})"


@pytest.mark.parametrize(
    "case",
    cases(
        "version_spec_match",
        lambda i, c: f"{c['spec']} ~ {c['version']}{' (VersionOrder)' if c['version_is_versionorder'] else ''}",
    ),
)
def test_version_spec_match(case):
    version = VersionOrder(case["version"]) if case["version_is_versionorder"] else case["version"]
    assert VersionSpec(case["spec"]).match(version) is case["expected"]
    # passing the parsed version instead of the string never changes the answer
    assert VersionSpec(case["spec"]).match(VersionOrder(case["version"])) is case["expected"]


@pytest.mark.parametrize("case", cases("build_number_specs", lambda i, c: f"{c['spec']!r}"))
def test_build_number_spec(case):
    if not case["valid"]:
        with pytest.raises(InvalidVersionSpec):
            BuildNumberMatch(case["spec"])
        return
    assert str(BuildNumberMatch(case["spec"])) == case["str"]


@pytest.mark.parametrize("case", cases("build_number_match", lambda i, c: f"{c['spec']} ~ {c['build_number']}"))
def test_build_number_match(case):
    assert BuildNumberMatch(case["spec"]).match(case["build_number"]) is case["expected"]


@pytest.mark.parametrize("case", cases("ver_eval", lambda i, c: f"{c['version']} ~ {c['spec']}"))
def test_ver_eval(case):
    if "exception" in case:
        assert case["exception"] == "InvalidVersionSpec"
        with pytest.raises(InvalidVersionSpec):
            ver_eval(case["version"], case["spec"])
        return
    assert ver_eval(case["version"], case["spec"]) is case["expected"]


# --------------------------------------------------------------------------- API and teaching
def test_repr_is_readable():
    assert repr(VersionOrder("1.2.3")) == "VersionOrder('1.2.3')"
    assert repr(VersionSpec(">=1.2,<2")) == "VersionSpec('>=1.2,<2')"
    assert repr(BuildNumberMatch(">=7")) == "BuildNumberMatch('>=7')"
    assert str(BuildNumberMatch("7")) == "7" and BuildNumberMatch("7").spec == 7


def test_interning_same_string_same_object():
    assert VersionOrder("1.2.3") is VersionOrder("1.2.3")
    assert VersionOrder(VersionOrder("1.2.3")) is VersionOrder("1.2.3")
    assert VersionSpec(">=1,<2") is VersionSpec(">=1,<2")
    assert VersionSpec(VersionSpec(">=1")) is VersionSpec(">=1")
    assert normalized_version("1.0") is VersionOrder("1.0")
    assert VersionMatch is VersionSpec


def test_immutable():
    vo = VersionOrder("1.0")
    with pytest.raises(AttributeError):
        vo.norm_version = "2.0"
    with pytest.raises(AttributeError):
        VersionSpec("1.0").match = None


def test_padding_equality_and_hash():
    assert VersionOrder("1.0") == VersionOrder("1.0.0") == VersionOrder("1")
    assert len({VersionOrder("1.0"), VersionOrder("1.0.0"), VersionOrder("1")}) == 1
    assert VersionOrder("1.1.a1") == VersionOrder("1.1.0a1")
    assert VersionOrder("1.0") != VersionOrder("1.0.1")


def test_special_strings_order():
    chain = ["1.0dev", "1.0_", "1.0a", "1.0rc1", "1.0", "1.0.post1", "1.0.1", "1.0post1"]
    vos = [VersionOrder(v) for v in chain]
    assert sorted(reversed(vos)) == vos
    # 'post' is +inf inside the component it sits in: 1.0post1 beats every 1.0.x
    # openssl style: the plain release is published as 1.0.1_ so its letter releases sort after it
    assert VersionOrder("1.0.1_") < VersionOrder("1.0.1a") < VersionOrder("1.0.1b") < VersionOrder("1.0.1")
    assert VersionOrder("1.1a1") < VersionOrder("1.1.0dev1")  # the consistency caveat
    assert VersionOrder("1!0.1") > VersionOrder("2024.1")
    assert VersionOrder("1.0+2") > VersionOrder("1.0+1") > VersionOrder("1.0")


def test_structure_and_epoch():
    vo = VersionOrder("1!2.15.1rc2+local.3")
    assert vo.version == ((1,), (2,), (15,), (1, "rc", 2))
    assert vo.local == ((0, "local"), (3,))
    assert vo.epoch == 1 and vo.norm_version == "1!2.15.1rc2+local.3"
    assert VersionOrder("1.0-1").norm_version == "1.0_1"


@pytest.mark.parametrize(
    "text, detail",
    [
        ("", "empty version string"),
        ("1.0$", "invalid character(s)"),
        ("1_0-1", "invalid character(s)"),
        ("a!1.0", "epoch must be an integer"),
        ("1!2!3", "duplicated epoch separator '!'"),
        ("1+2+3", "duplicated local version separator '+'"),
        ("+1", "Missing version before local version separator '+'"),
        ("1..2", "empty version component"),
        ("1" * 5000, "version number too long"),
    ],
)
def test_version_error_messages(text, detail):
    with pytest.raises(InvalidVersionSpec) as info:
        VersionOrder(text)
    assert str(info.value) == f"Invalid version '{text}': {detail}"
    assert isinstance(info.value, CondaError) and isinstance(info.value, ValueError)
    assert info.value.dump_map()["exception_name"] == "InvalidVersionSpec"


@pytest.mark.parametrize(
    "spec, detail",
    [
        ("", "empty version spec"),
        ("~", "invalid operator"),
        ("<= 1.2", "invalid operator"),
        ("^1.2", "regex specs must start with '^' and end with '$'"),
        ("1.5||1.6", "cannot join single expression"),
        ("(1.5", "unable to convert to expression tree: ['(']"),
        ("1.5)", "expression must start with '('"),
        ("()", "unable to determine version from spec"),
        ("~=3.3.*", "invalid operator with '.*'"),
        ("^[$", "invalid regular expression: unterminated character set at position 1"),
    ],
)
def test_spec_error_messages(spec, detail):
    with pytest.raises(InvalidVersionSpec) as info:
        VersionSpec(spec)
    assert str(info.value).endswith(f": {detail}")


def test_spec_kinds_and_attributes():
    assert VersionSpec("1.2").kind == "exact" and VersionSpec("1.2").matcher_vo == VersionOrder("1.2")
    assert VersionSpec(">=1.2").kind == "operator" and VersionSpec(">=1.2").operator == ">="
    assert VersionSpec("1.2*").kind == "startswith"
    assert VersionSpec("*.7.*").kind == "glob"
    assert VersionSpec("^1.*$").kind == "regex"
    assert VersionSpec("*").kind == "any"
    assert VersionSpec("1.0@abc").kind == "string" and VersionSpec("1.0@abc").match("1.0@abc")
    group = VersionSpec(">=1,<2|3")
    assert group.kind == "or" and [m.spec for m in group.tup] == [">=1,<2", "3"]
    assert group.tup[0].kind == "and"


def test_fuzzy_and_startswith_are_component_wise():
    assert VersionSpec("1.2.*").match("1.2.3") and not VersionSpec("1.2.*").match("1.20")
    assert VersionSpec("=1.2").match("1.2.9") and not VersionSpec("=1.2").match("1.3")
    assert VersionSpec("!=1.2.*").match("1.3") and not VersionSpec("!=1.2.*").match("1.2.0")


def test_compatible_release():
    spec = VersionSpec("~=1.4.2")
    assert spec.match("1.4.5") and spec.match("1.4.2") and not spec.match("1.5") and not spec.match("1.4.1")
    # '~=1' has no prefix to keep; like conda, the error only surfaces when matching
    lone = VersionSpec("~=1")
    with pytest.raises(InvalidVersionSpec):
        lone.match("1.0")


def test_relational_star_is_ignored_with_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="conda_deepdive.models.version"):
        spec = VersionSpec("<1.5.*")
    assert str(spec) == "<1.5.*" and spec.match("1.4") and not spec.match("1.5")
    assert "superfluous" in caplog.text


def test_group_string_drops_inner_parentheses_but_match_keeps_them():
    spec = VersionSpec("(1.6|1.7),1.8")
    assert str(spec) == "1.6|1.7,1.8"  # what conda prints
    assert not spec.match("1.6")  # and-ed with 1.8: nothing matches both
    assert VersionSpec(str(spec)).match("1.6")  # re-parsing the printed form changes meaning


def test_treeify_untreeify():
    assert treeify("1.2.3") == "1.2.3"
    assert treeify("1.2.3,>4.5.6") == (",", "1.2.3", ">4.5.6")
    assert treeify("1.2.3,4.5.6|<=7.8.9") == ("|", (",", "1.2.3", "4.5.6"), "<=7.8.9")
    assert treeify("((1.5|((1.6|1.7), 1.8), 1.9 |2.0))|2.1") == (
        "|", "1.5", (",", ("|", "1.6", "1.7"), "1.8", "1.9"), "2.0", "2.1",
    )
    assert treeify("^(a|b)$,1") == (",", "^(a|b)$", "1")
    assert untreeify(("|", (",", "1.2.3", "4.5.6"), "<=7.8.9")) == "(1.2.3,4.5.6)|<=7.8.9"
    assert untreeify((",", ("|", "1.2.3", "4.5.6"), "<=7.8.9")) == "(1.2.3|4.5.6),<=7.8.9"
    tree = treeify("1.5|(1.6|1.7),1.8,1.9|2.0")
    assert treeify(untreeify(tree)) == tree
    assert VersionSpec(tree).match("1.5") and VersionSpec(tree).spec == "1.5|1.6|1.7,1.8,1.9|2.0"


def test_merge_union_equality():
    merged = VersionSpec("<2").merge(VersionSpec(">=1"))
    assert merged == VersionSpec("<2,>=1") and merged.match("1.5") and not merged.match("2")
    assert VersionSpec("<2").union(VersionSpec(">=3")) == "<2|>=3"
    assert VersionSpec("1.2") == "1.2" and VersionSpec("1.2") != "1.3"
    assert hash(VersionSpec("1.2")) == hash("1.2")
    assert VersionSpec("==1.2").exact_value == "==1.2" and VersionSpec(">1").exact_value is None
    assert VersionSpec(">1").raw_value == ">1"


def test_build_number_match_forms():
    assert BuildNumberMatch(7).match(7) and not BuildNumberMatch("7").match(8)
    assert BuildNumberMatch(7).is_exact() and BuildNumberMatch(7).exact_value == 7
    assert BuildNumberMatch("*").match(123) and not BuildNumberMatch("*").is_exact()
    assert BuildNumberMatch(">=10").match(10) and not BuildNumberMatch(">=10").match(9)
    assert BuildNumberMatch(">=10").match(100)  # compared as versions, not text
    assert BuildNumberMatch("!=3").match(4) and not BuildNumberMatch("!=3").match(3)
    assert BuildNumberMatch("==3").is_exact() and not BuildNumberMatch("<3").is_exact()
    assert BuildNumberMatch("^1.*$").match(12) and not BuildNumberMatch("^1.*$").match(21)
    assert BuildNumberMatch("abc").exact_value is None and not BuildNumberMatch("abc").match(1)
    assert BuildNumberMatch(3).merge(BuildNumberMatch("3")) == 3
    with pytest.raises(ValueError, match="Incompatible component merge"):
        BuildNumberMatch(3).merge(BuildNumberMatch(4))
    assert BuildNumberMatch(3).union(BuildNumberMatch(">5")) == "3|>5"
    for bad in ("", "<", "<>3", "^1"):
        with pytest.raises(InvalidVersionSpec):
            BuildNumberMatch(bad)


def test_module_doctests_hold():
    import doctest

    from conda_deepdive.models import version as version_module

    result = doctest.testmod(version_module)
    assert result.attempted >= 5 and result.failed == 0


def test_version_spec_doctests_hold():
    import doctest

    from conda_deepdive.models import version_spec

    result = doctest.testmod(version_spec)
    assert result.attempted >= 5 and result.failed == 0
