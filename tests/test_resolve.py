"""Resolve on small hand-made indexes: preferences, priority modes, reduction, errors, reporting."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import SHARED
from conda_deepdive.exceptions import ResolvePackageNotFound, UnsatisfiableError
from conda_deepdive.models.match_spec import MatchSpec
from conda_deepdive.models.records import PackageRecord
from conda_deepdive.solve.reduction import ReducedIndex
from conda_deepdive.reporting import RecordingReporter
from conda_deepdive.solve.resolve import OptimisationPass, Resolve, SolveDetails, toposort


def rec(name, version, build="0", channel="chan", depends=(), build_number=0, **kw):
    return PackageRecord(
        name=name, version=version, build=build, build_number=build_number, channel=channel,
        subdir=kw.pop("subdir", "linux-64"), depends=list(depends), **kw,
    )


def names(result):
    return sorted(f"{p.name}-{p.version}-{p.build}" for p in result)


def solve(records, specs, channels=("chan",), priority="flexible", **kw):
    r = Resolve(records, channels, priority, **kw)
    return r, r.solve([MatchSpec(s) for s in specs])


def test_newest_version_then_highest_build_number():
    idx = [
        rec("a", "1.0"), rec("a", "2.0", "b1", build_number=1), rec("a", "2.0", "b3", build_number=3),
        rec("a", "1.5"),
    ]
    _, result = solve(idx, ["a"])
    assert names(result) == ["a-2.0-b3"]
    _, result = solve(idx, ["a <2"])
    assert names(result) == ["a-1.5-0"]


def test_dependencies_follow_and_minimal_package_count():
    idx = [
        rec("app", "1", depends=["lib >=2"]),
        rec("lib", "1"), rec("lib", "2"), rec("lib", "3", depends=["extra"]), rec("extra", "1"),
        rec("unrelated", "1"),
    ]
    _, result = solve(idx, ["app"])
    # the newest lib wins even though it drags in one more package: versions outrank counts
    assert names(result) == ["app-1-0", "extra-1-0", "lib-3-0"]
    _, result = solve(idx, ["app", "lib <3"])
    assert names(result) == ["app-1-0", "lib-2-0"]


def test_channel_priority_modes():
    idx = [rec("x", "1.0", channel="hi"), rec("x", "2.0", channel="lo"), rec("y", "1", channel="lo", depends=["x >=2"])]
    chans = ("hi", "lo")
    # flexible: the higher channel wins when it can...
    assert names(solve(idx, ["x"], chans, "flexible")[1]) == ["x-1.0-0"]
    # ...but the lower channel may still supply what the higher one lacks
    assert names(solve(idx, ["y"], chans, "flexible")[1]) == ["x-2.0-0", "y-1-0"]
    # disabled: the version comes first
    assert names(solve(idx, ["x"], chans, "disabled")[1]) == ["x-2.0-0"]
    # strict: x may only come from "hi" -> y is unsatisfiable, with conda's note
    with pytest.raises(UnsatisfiableError) as err:
        solve(idx, ["y"], chans, "strict")
    assert "strict channel priority may have removed packages" in str(err.value)


def test_version_key_orders_channel_before_version_unless_disabled():
    a = rec("x", "1.0", channel="hi")
    b = rec("x", "2.0", channel="lo")
    flexible = Resolve([a, b], ("hi", "lo"), "flexible")
    disabled = Resolve([a, b], ("hi", "lo"), "disabled")
    assert flexible.version_key(a) > flexible.version_key(b)
    assert disabled.version_key(b) > disabled.version_key(a)
    assert flexible.groups["x"] == [a, b] and disabled.groups["x"] == [b, a]


def test_constrains_are_optional_dependencies():
    idx = [rec("a", "1", constrains=["b <2"]), rec("b", "1"), rec("b", "2")]
    assert names(solve(idx, ["a", "b"])[1]) == ["a-1-0", "b-1-0"]
    assert names(solve(idx, ["a"])[1]) == ["a-1-0"]  # a constraint never pulls b in


def test_track_features_are_minimised():
    idx = [
        rec("blas", "1", "mkl", track_features="mkl", build_number=5),
        rec("blas", "1", "openblas", build_number=1),
        rec("numpy", "1", "mkl_0", depends=["blas"], features="mkl"),
        rec("numpy", "1", "plain", depends=["blas"]),
    ]
    r, result = solve(idx, ["numpy"])
    assert names(result) == ["blas-1-openblas", "numpy-1-plain"]
    assert "mkl" in r.trackers
    # asking for the feature's build explicitly still works
    assert names(solve(idx, ["numpy", "blas=*=mkl"])[1]) == ["blas-1-mkl", "numpy-1-mkl_0"]


def test_missing_package_raises_resolve_package_not_found():
    with pytest.raises(ResolvePackageNotFound) as err:
        solve([rec("a", "1")], ["nope >=1"])
    assert err.value.bad_deps == (MatchSpec("nope >=1"),)
    assert "  - nope[version='>=1']" in str(err.value)


def test_conflict_report_lists_both_chains():
    idx = [
        rec("a", "1", depends=["c >=1,<2"]), rec("b", "1", depends=["c >=2,<3"]),
        rec("c", "1.5"), rec("c", "2.5"),
    ]
    with pytest.raises(UnsatisfiableError) as err:
        solve(idx, ["a", "b"])
    lines = Counter(str(err.value).splitlines())
    assert lines == Counter(
        [
            "The following specifications were found to be incompatible with each other:",
            "",
            "Output in format: Requested package -> Available versions",
            "",
            "Package c conflicts for:",
            "a -> c[version='>=1,<2']",
            "b -> c[version='>=2,<3']",
        ]
    )
    assert len(err.value.unsatisfiable) == 2


def test_virtual_package_conflict_message():
    glibc = rec("__glibc", "2.17", channel="@", package_type="virtual_system")
    idx = [rec("cudatoolkit", "10", depends=["__cuda >=10.0"]), rec("cudatoolkit", "9", depends=["__cuda >=9.0"]), glibc]
    with pytest.raises(UnsatisfiableError) as err:
        solve(idx, ["cudatoolkit"])
    text = str(err.value)
    assert text.startswith("The following specifications were found to be incompatible with your system:")
    assert "  - cudatoolkit -> __cuda[version='>=10.0|>=9.0']" in text
    assert "Your installed version is: not available" in text
    # with a single candidate conda explains with that record's dependencies instead; the one
    # that matches nothing (__cuda is absent) surfaces as "package not found", like conda's CLI
    with pytest.raises(ResolvePackageNotFound) as err:
        solve(idx[:1] + [glibc], ["cudatoolkit"])
    assert str(err.value) == "\n  - __cuda[version='>=10.0']"


def test_empty_explanation_is_reported_like_conda():
    # the conflict sits deeper than the check depth (2): conda finds no chain to show
    idx = [
        rec("top", "1", depends=["mid1"]), rec("top", "2", depends=["mid1"]),
        rec("mid1", "1", depends=["mid2"]), rec("mid2", "1", depends=["leaf 9"]), rec("leaf", "1"),
    ]
    with pytest.raises(UnsatisfiableError) as err:
        solve(idx, ["top"])
    assert str(err.value) == "UnsatisfiableError: "
    with pytest.raises(UnsatisfiableError) as err:
        solve(idx, ["top"], priority="strict")
    assert str(err.value) == "\nNote that strict channel priority may have removed packages required for satisfiability."


def test_reduced_index_counts_and_reasons():
    idx = [
        rec("x", "1", channel="hi"), rec("x", "2", channel="lo"), rec("x", "3", channel="lo"),
        rec("y", "1", channel="hi", depends=["x"]), rec("z", "1", channel="hi"),
    ]
    r = Resolve(idx, ("hi", "lo"), "strict")
    reduced = r.get_reduced_index([MatchSpec("y")])
    assert isinstance(reduced, ReducedIndex)
    assert sorted(p.dist_str().split("::")[1] for p in reduced) == ["x-1-0", "y-1-0"]
    assert reduced.counts()["x"] == (3, 1)
    assert reduced.reasons["x"] == {"removed due to strict channel priority": 2}
    assert "z" not in reduced.after  # never reached
    assert r.get_reduced_index([MatchSpec("y")]) is reduced  # cached
    report = r.priority_report()
    assert report["x"].masked == ("lo",) and report.mode == "strict"
    assert reduced[idx[3]] is idx[3] and len(reduced) == 2
    json.dumps(reduced.summary())
    assert "ReducedIndex strict" in repr(reduced)


def test_solve_details_passes_and_reporter_events():
    reporter = RecordingReporter()
    idx = [rec("a", "1", depends=["b"]), rec("a", "2", depends=["b"]), rec("b", "1"), rec("b", "2")]
    r = Resolve(idx, ("chan",), "flexible", reporter)
    result = r.solve(["a"])
    assert names(result) == ["a-2-0", "b-2-0"]
    d = r.last_solve
    assert isinstance(d, SolveDetails)
    assert [p.name for p in d.passes][:3] == ["requested_channel", "requested_version", "track_feature_count"]
    assert all(isinstance(p, OptimisationPass) for p in d.passes)
    assert d.variables >= 4 + 2 and d.clauses > 0 and d.sat_calls
    assert d.sat_calls[0].purpose == "sat"
    version_pass = next(p for p in d.passes if p.name == "requested_version")
    assert version_pass.bound == 0 and version_pass.objective_size == 1
    json.dumps(d.summary())
    assert "pycosat calls" in repr(d)
    kinds = reporter.kinds()
    assert "reduced_index" in kinds and "gen_clauses" in kinds and "optimisation_pass" in kinds
    assert reporter.kinds("solve")[-1] == "solve_finished"
    assert {e.stage for e in reporter.events} <= {"reduce", "solve"}


def test_gen_clauses_one_variable_per_record_and_name():
    idx = [rec("a", "1", depends=["b"]), rec("a", "2"), rec("b", "1")]
    r = Resolve(idx)
    C = r.gen_clauses()
    assert C.from_name(r.to_sat_name(idx[0])) is not None
    assert C.from_name("@s@a") is not None and C.from_name("@s@b") is not None
    # "a-1 installed" with "b not installed" is impossible
    assert C.sat([(r.to_sat_name(idx[0]),), ("!@s@b",)]) is None
    assert C.sat([(r.to_sat_name(idx[1]),), ("!@s@b",)]) is not None


def test_dependency_sort_and_toposort():
    idx = [rec("python", "3", depends=["pip"]), rec("pip", "1", depends=["python"]), rec("app", "1", depends=["pip", "python"])]
    r = Resolve(idx)
    order = [p.name for p in r.dependency_sort({p.name: p for p in idx})]
    assert order == ["python", "pip", "app"]
    assert toposort({"a": {"b"}, "b": {"a"}, "c": set()}) == ["c", "a", "b"]


def test_install_keeps_installed_packages_near_their_versions():
    installed = [rec("b", "1")]
    idx = [rec("a", "1", depends=["b"]), rec("b", "1"), rec("b", "2")]
    r = Resolve(idx)
    # the installed b becomes a target: updating it is counted, so b stays at 1
    assert names(r.install(["a"], installed=installed)) == ["a-1-0", "b-1-0"]
    assert names(r.install(["a", "b >=2"], installed=installed)) == ["a-1-0", "b-2-0"]


def test_remove_drops_the_package_and_its_dependents():
    installed = [rec("a", "1", depends=["b"]), rec("b", "1"), rec("c", "1")]
    r = Resolve(installed)
    assert names(r.remove(["b"], installed)) == ["c-1-0"]


def test_get_conflicting_specs_finds_the_culprit():
    idx = [rec("a", "1", depends=["c 1"]), rec("b", "1", depends=["c 2"]), rec("c", "1"), rec("c", "2")]
    r = Resolve(idx)
    assert r.get_conflicting_specs([MatchSpec("a")], [MatchSpec("b")]) == (MatchSpec("a"),)
    assert r.get_conflicting_specs([MatchSpec("a")], []) == ()


def test_get_conflicting_specs_asks_pycosat_once_per_spec_set(monkeypatch):
    # conda asks "can these specs be met together?" twice per solve with the same set (split
    # differently between specs and explicit specs); the second answer comes from memory
    from conda_deepdive.solve import logic

    calls = []
    real = logic.Clauses._run_pycosat
    monkeypatch.setattr(logic.Clauses, "_run_pycosat",
                        lambda self, clauses, limit=0: calls.append(len(clauses)) or real(self, clauses, limit))
    idx = [rec("a", "1", depends=["c 1"]), rec("b", "1", depends=["c"]), rec("c", "1"), rec("c", "2")]
    r = Resolve(idx)
    assert r.get_conflicting_specs([MatchSpec("a")], [MatchSpec("b")]) == ()
    assert len(calls) == 1
    assert r.get_conflicting_specs([MatchSpec("a"), MatchSpec("b")], [MatchSpec("b")]) == ()
    assert len(calls) == 1
    # another set is a new question; an unsatisfiable set still names its culprit every time
    assert r.get_conflicting_specs([MatchSpec("a"), MatchSpec("c 2")], []) == (MatchSpec("c 2"),)
    n = len(calls)
    assert n > 1
    assert r.get_conflicting_specs([MatchSpec("a"), MatchSpec("c 2")], []) == (MatchSpec("c 2"),)
    assert len(calls) > n


def test_the_solves_first_step_is_the_conflict_checks_problem_and_is_not_asked_twice(monkeypatch):
    # conda checks the specs for conflicts (``get_conflicting_specs``), then ``Resolve.solve``
    # starts with the same question over the same reduced index: both order the specs the same
    # way here, so the two pycosat problems are identical and the second is answered from memory
    import pycosat

    asked = []
    real = pycosat.solve
    monkeypatch.setattr(pycosat, "solve", lambda clauses, **kw: asked.append(list(clauses)) or real(clauses, **kw))
    idx = [rec("a", "1", depends=["c"]), rec("a", "2", depends=["c 2"]), rec("b", "1", depends=["c"]),
           rec("c", "1"), rec("c", "2"), *(rec(n, "1") for n in "defgh")]
    specs = [MatchSpec(n) for n in "hgfedba"]  # in another order below: a set's order, conda's
    baseline = Resolve(idx)
    expected = names(baseline.solve(specs))
    calls_alone = len(asked)
    asked.clear()
    r = Resolve(idx)
    assert r.get_conflicting_specs(specs, []) == ()
    assert names(r.solve(list(reversed(specs)))) == expected
    assert expected[:3] == ["a-2-0", "b-1-0", "c-2-0"]
    assert len(asked) == calls_alone  # the conflict check's call stands in for the solve's first


def test_hints_off_gives_condas_short_message():
    idx = [rec("a", "1", depends=["c 1"]), rec("b", "1", depends=["c 2"]), rec("c", "1"), rec("c", "2")]
    r = Resolve(idx, unsatisfiable_hints=False)
    with pytest.raises(UnsatisfiableError) as err:
        r.solve(["a", "b"])
    assert "Did not find conflicting dependencies" in str(err.value)
    assert "conda config --set unsatisfiable_hints True" in str(err.value)


_DETERMINISM_SCRIPT = """
import json
from conda_deepdive.models.records import PackageRecord
from conda_deepdive.solve.resolve import Resolve
from conda_deepdive.reporting import RecordingReporter

def rec(name, version, build="0", depends=(), **kw):
    return PackageRecord(name=name, version=version, build=build, channel="chan", subdir="linux-64",
                         depends=list(depends), **kw)

idx = [rec("app", v, b, depends=[f"lib >={v}", "util"]) for v in ("1", "2") for b in ("x", "y")]
idx += [rec("lib", v, b, depends=["util"]) for v in ("1", "2", "3") for b in ("p", "q")]
idx += [rec("util", v, b) for v in ("1", "2") for b in ("m", "n")]
rep = RecordingReporter()
r = Resolve(idx, ("chan",), "flexible", rep)
result = r.solve(["app", "util <2"])
print(json.dumps([[p.dist_str() for p in result], rep.to_json()]))
"""


@pytest.mark.slow
def test_solve_and_trace_do_not_depend_on_the_hash_seed():
    import os
    import subprocess
    import sys

    outputs = set()
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT], env=env, capture_output=True,
                              text=True, check=True, timeout=120)
        outputs.add(proc.stdout)
    assert len(outputs) == 1


def _memo_index():
    py = "python >=3.7,<3.8.0a0"
    return [
        rec("python", "3.6.6"), rec("python", "3.7.0"),
        rec("lib", "1", "py36", depends=["python >=3.6,<3.7.0a0"]),
        rec("lib", "1", "py37", depends=[py]),
        rec("other", "1", "py37", depends=[py]),
        # not every app build needs lib, so the reduction's first phase never visits lib
        rec("app", "1", "py36", depends=["python >=3.6,<3.7.0a0", "lib"]),
        rec("app", "1", "py36_nolib", depends=["python >=3.6,<3.7.0a0"]),
        rec("app", "1", "py37", depends=[py, "lib", "other"]),
    ]


def test_dependency_validity_is_remembered_per_record_across_reductions():
    """conda memoises "this dependency has a valid candidate" on each record's dependency
    MatchSpec object (auxlib memoizemethod), whatever the filter of the reduction asking. So a
    verdict reached under ``python 3.6.*`` survives into a later reduction with plain
    ``python`` on the same Resolve (what keeps python 3.6 in ``conda update python`` on an
    environment whose history says ``python=3.6``, fidelity case pfx-012)."""
    # a fresh Resolve: python 3.7 and its lib build are fine
    _, fresh = solve(_memo_index(), ["python", "app"])
    assert "python-3.7.0-0" in names(fresh)

    r = Resolve(_memo_index(), ("chan",), "flexible")
    first = r.get_reduced_index((MatchSpec("python 3.6.*"), MatchSpec("app")))
    assert not any(p.build == "py37" for p in first)
    second = r.get_reduced_index((MatchSpec("python"), MatchSpec("app")))
    kept = {f"{p.name}-{p.build}" for p in second}
    # lib py37 was judged (under python 3.6.*) to have no valid python: that verdict stays
    assert "lib-py37" not in kept
    # ... but only for that record's dependency: 'other' asks the very same question
    # ("python >=3.7,<3.8.0a0") for the first time now, and gets a fresh answer
    assert {"python-0", "app-py37", "lib-py36", "other-py37"} <= kept
    # and the solve on this Resolve keeps python 3.6 (app py37 would need lib py37)
    assert "python-3.6.6-0" in names(r.solve([MatchSpec("python"), MatchSpec("app")]))


def _conda_valid2(r, filter_out, memo, optional=True):
    """conda's valid2 as conda writes it (closures over ``all``/``any``), with its memo keyed
    per (record, dependency position): the reference ``Resolve.judge`` must agree with."""
    def spec_ok(ms):
        return bool((optional and ms.optional) or any(prec_ok(p) for p in r.find_matches(ms)))

    def dep_ok(prec, i, ms):
        if (prec, i) not in memo:
            memo[(prec, i)] = spec_ok(ms)
        return memo[(prec, i)]

    def prec_ok(prec):
        val = filter_out.get(prec)
        if val is None:
            filter_out[prec] = False
            ok = all(dep_ok(prec, i, ms) for i, ms in enumerate(r.ms_depends(prec)))
            val = filter_out[prec] = False if ok else "invalid depends specs"
        return not val

    return spec_ok, prec_ok


def test_judge_is_condas_valid2_step_for_step():
    """``Resolve.judge`` (the reduction's valid2, loops written out) leaves exactly what conda's
    closures leave: the same verdicts, written in the same order (cycles make verdicts depend on
    the order records are first looked at), and the same memo entries."""
    verdicts = Counter()
    for seed in range(60):
        verdicts.update(_judge_against_conda(seed))
    assert verdicts["invalid depends specs"] > 20 and verdicts[False] > 100


def _judge_against_conda(seed: int) -> list:
    import random

    rnd = random.Random(seed)
    pool = [f"n{i}" for i in range(7)]
    records = []
    for name in pool:
        for v in range(1, rnd.randint(2, 4)):
            deps = [rnd.choice([d, f"{d} >={rnd.randint(1, 3)}", f"{d} <{rnd.randint(2, 4)}"])
                    for d in rnd.sample(pool, rnd.randint(0, 3)) if d != name]
            if rnd.random() < 0.2:
                deps.append("missing")  # never satisfiable: some verdicts are "invalid"
            extra = {"constrains": [f"{rnd.choice(pool)} <2"]} if rnd.random() < 0.2 else {}
            records.append(rec(name, str(v), depends=deps, **extra))
    ours, theirs = Resolve(records, ("chan",)), Resolve(records, ("chan",))
    pre = {p: "incompatible with required spec" for p in rnd.sample(records, 3)}
    fo_ours, fo_theirs, memo_theirs = dict(pre), dict(pre), {}
    spec_ok, prec_ok = ours.judge(fo_ours)
    ref_spec, ref_prec = _conda_valid2(theirs, fo_theirs, memo_theirs)
    asked = rnd.sample(records, len(records)) + [MatchSpec(n) for n in pool]
    answers = []
    for x in asked:
        if isinstance(x, MatchSpec):
            answers.append((spec_ok(x), ref_spec(x), ours.valid2(x, fo_ours) == ref_spec(x)))
        else:
            answers.append((prec_ok(x), ref_prec(x), True))
    assert all(a == b and same for a, b, same in answers)
    assert list(fo_ours.items()) == list(fo_theirs.items())  # same verdicts, same order
    assert ours._valid_spec_memo == memo_theirs
    return [v for p, v in fo_ours.items() if p not in pre]


def test_find_matches_is_match_over_the_group():
    """``find_matches`` decides a version once per spec and string, and tests exact builds by
    equality: it must pick exactly what ``MatchSpec.match`` picks, in the group's order."""
    import random

    rnd = random.Random(7)
    versions = ["1.0", "1.0.0", "1.1", "1.10", "2.0a1", "2.0", "2.0.post1"]
    builds = ["py27_0", "py36_0", "py36h1_1", "h2_0", "0"]
    records = [rec("p", rnd.choice(versions), rnd.choice(builds), channel=rnd.choice(["hi", "lo"]),
                   build_number=rnd.randint(0, 3)) for _ in range(120)]
    r = Resolve(records, ("hi", "lo"), "strict")
    group = r.groups["p"]
    specs = ["p", "p 1.0", "p ==1.0", "p >=1.1", "p 2.0*", "p 1.0 py36_0", "p ==1.0.0 py27_0",
             "p >=1 py36*", "p 2.* 0", "p 1.0 *_0", "p[version='>=1.0,<2',build=py36h1_1]"]
    chosen = 0
    for text in specs:
        spec = MatchSpec(text)
        expected = tuple(p for p in group if spec.match(p))
        assert r.find_matches(spec) == expected, text
        assert r.find_matches(MatchSpec(text)) == expected, text  # the kept verdicts, reused
        chosen += len(expected)
    assert 0 < chosen < len(specs) * len(group)


def _clauses_the_long_way(r):
    """gen_clauses as conda writes it: one C.Require(C.Or, ...) per dependency."""
    from conda_deepdive.solve.logic import Clauses

    C = Clauses()
    for name, group in r.groups.items():
        sat_names = [r.to_sat_name(p) for p in group]
        for sat_name in sat_names:
            C.new_var(sat_name)
        m = C.new_var(r.to_sat_name(MatchSpec(name)))
        C.Require(C.ExactlyOne, sat_names + [C.Not(m)])
    for prec in r._records:
        not_prec = C.Not(r.to_sat_name(prec))
        for ms in r.ms_depends(prec):
            if not ms.name.startswith("__"):
                C.Require(C.Or, not_prec, r.push_MatchSpec(C, ms))
    return C


def _same_formula(a, b):
    assert (a.m, a.unsat, a.names, a._clauses) == (b.m, b.unsat, b.names, b._clauses)


def test_gen_clauses_writes_the_dependency_clauses_as_require_or_would():
    # every shape push_MatchSpec can hand back: a constrains entry matching its whole group
    # (TRUE), a spec nothing matches (a variable forced false), a spec matching only the record
    # itself (always true), a virtual package (skipped), shared and repeated specs
    idx = [rec("a", "1", depends=["b >=1", "__glibc >=2.17", "a 1.*", "c"], constrains=["b"]),
           rec("a", "2", depends=["b >=1", "nothing-here", "c <0"]),
           rec("b", "1", depends=["a"], constrains=["c >=5"]), rec("b", "2"),
           rec("c", "1", depends=["b 2", "b 2"])]
    _same_formula(Resolve(idx).gen_clauses(), _clauses_the_long_way(Resolve(idx)))


@pytest.mark.skipif(not (SHARED / "data" / "channels" / "test-index4").is_dir(),
                    reason="../shared/data/channels is absent")
def test_gen_clauses_equals_the_long_way_on_a_real_channel():
    from conda_deepdive.models.channel import Channel

    root = SHARED / "data" / "channels" / "test-index4"
    records = []
    for subdir in ("linux-64", "noarch"):
        doc = json.loads((root / subdir / "repodata.json").read_text())
        channel = Channel((root / subdir).as_uri())
        for key in ("packages.conda", "packages"):
            records += [PackageRecord.from_repodata(fn, raw, channel, subdir)
                        for fn, raw in (doc.get(key) or {}).items()]
    assert len(records) > 5000
    _same_formula(Resolve(records).gen_clauses(), _clauses_the_long_way(Resolve(records)))
