"""The Solver (conda.core.solve): spec collection, the retry loop, removal, pins, the diff.

A tiny channel is written to a temp dir and loaded through the real index, so each test reads
like a small story of what conda does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conda_deepdive.exceptions import (
    PackagesNotFoundError,
    PackagesNotFoundInChannelsError,
    PackagesNotFoundInPrefixError,
    SpecsConfigurationConflictError,
)
from conda_deepdive.models.prefix_graph import PrefixGraph
from conda_deepdive.reporting import RecordingReporter
from conda_deepdive.solve.solve import Solver, diff_for_unlink_link_precs, solve_with_retries

ENV = {"CONDA_OVERRIDE_GLIBC": "2.17", "CONDA_OVERRIDE_LINUX": "5.15", "CONDA_OVERRIDE_CUDA": "",
       "CONDA_OVERRIDE_ARCHSPEC": "x86_64"}

# name, version, build, depends  (all linux-64 unless the build says "noarch")
PACKAGES = [
    ("python", "2.7.15", "0", ["zlib"]),
    ("python", "3.6.6", "0", ["zlib"]),
    ("python", "3.7.0", "0", ["zlib"]),
    ("zlib", "1.2.11", "0", []),
    ("zlib", "1.2.8", "0", []),
    ("six", "1.11.0", "py36_0", ["python >=3.6,<3.7.0a0"]),
    ("six", "1.11.0", "py37_0", ["python >=3.7,<3.8.0a0"]),
    ("six", "1.11.0", "py27_0", ["python >=2.7,<2.8.0a0"]),
    ("numpy", "1.14.5", "py36_0", ["python >=3.6,<3.7.0a0"]),
    ("numpy", "1.15.0", "py36_0", ["python >=3.6,<3.7.0a0"]),
    ("numpy", "1.15.0", "py37_0", ["python >=3.7,<3.8.0a0"]),
    ("pandas", "0.23.4", "py36_0", ["numpy >=1.15", "python >=3.6,<3.7.0a0", "six"]),
    ("legacy", "1.0", "py27_0", ["python >=2.7,<2.8.0a0"]),
    ("broken", "1.0", "0", ["notthere >=2"]),
    ("zlibuser", "1.0", "0", ["zlib >=1.2.11"]),
    ("pyhello", "1.0", "noarch", ["python"]),
]


def _write_channel(root: Path) -> str:
    for subdir in ("linux-64", "noarch"):
        pkgs = {}
        for name, version, build, depends in PACKAGES:
            if (build == "noarch") != (subdir == "noarch"):
                continue
            rec = {"name": name, "version": version, "build": build, "build_number": 0,
                   "depends": depends, "subdir": subdir}
            if subdir == "noarch":
                rec["noarch"] = "python"
            pkgs[f"{name}-{version}-{build}.tar.bz2"] = rec
        (root / subdir).mkdir(parents=True, exist_ok=True)
        (root / subdir / "repodata.json").write_text(json.dumps(
            {"info": {"subdir": subdir}, "packages": pkgs, "packages.conda": {}}))
    return "file://" + str(root)


@pytest.fixture
def world(tmp_path: Path):
    from conda_deepdive.config.context import Context
    from conda_deepdive.index.index import fetch_index

    url = _write_channel(tmp_path / "chan")
    ctx = Context.from_values(env=ENV, channels=(url,), subdir="linux-64",
                              add_pip_as_python_dependency=False,
                              pkgs_dirs=(str(tmp_path / "pkgs"),))
    index = fetch_index(ctx, repodata_fn="repodata.json")
    return ctx, index, tmp_path


def _install(prefix: Path, index, dists: list[str], history_specs: list[str]) -> None:
    """A fake environment: conda-meta records taken from the index + one history revision."""
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True)
    lines = []
    for dist in dists:
        rec = next(r for r in index.records if f"{r.name}-{r.version}-{r.build}" == dist)
        data = rec.to_dict()
        data.update(files=[], paths_data={"paths": [], "paths_version": 1})
        (meta / f"{dist}.json").write_text(json.dumps(data, default=str))
        lines.append(f"+{rec.dist_str()}")
    (meta / "history").write_text(
        "==> 2018-10-10 12:00:00 <==\n# cmd: conda create\n# conda version: 26.7.1\n"
        + "".join(f"{line}\n" for line in sorted(lines)) + f"# update specs: {history_specs!r}\n")


def _names(records) -> list[str]:
    return sorted(f"{r.name}-{r.version}-{r.build}" for r in records)


def test_create_collects_specs_with_reasons(world) -> None:
    ctx, index, tmp = world
    rec = RecordingReporter()
    solver = Solver(str(tmp / "new"), index.channels, specs_to_add=["pandas"], command="create",
                    context=ctx, index=index, reporter=rec)
    state = solver.collect_specs()
    assert state.why("pandas") == "requested"
    assert state.why("__glibc") == "virtual package of this system"
    assert state.installed == () and state.history_specs == {}
    assert "pandas" in repr(state) and state.summary()["specs"][0]["reason"]
    outcome = solver.run_sat()
    assert _names(outcome.final_state) == [
        "numpy-1.15.0-py36_0", "pandas-0.23.4-py36_0", "python-3.6.6-0", "six-1.11.0-py36_0",
        "zlib-1.2.11-0"]
    # dependency order: zlib before python before numpy before pandas
    order = [r.name for r in outcome.final_state]
    assert order.index("zlib") < order.index("python") < order.index("numpy") < order.index("pandas")
    assert "solve" in rec.kinds() or rec.of_stage("solve")


def test_install_freezes_installed_packages_first(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.8-0", "numpy-1.14.5-py36_0"], ["python=3.6", "numpy"])
    solver = Solver(str(prefix), index.channels, specs_to_add=["six"], context=ctx, index=index)
    state = solver.collect_specs(update_modifier="freeze_installed")
    assert state.why("zlib").startswith("frozen")
    assert state.why("numpy").startswith("frozen")
    assert str(dict((e.name, e.spec) for e in state.entries)["six"]) == "six"
    unlink, link = solver.solve_for_diff(update_modifier="freeze_installed")
    assert _names(link) == ["six-1.11.0-py36_0"] and unlink == ()


def test_update_specs_lets_history_packages_move(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.11-0", "numpy-1.14.5-py36_0"], ["python=3.6", "numpy"])
    solver = Solver(str(prefix), index.channels, specs_to_add=["pandas"], context=ctx, index=index)
    unlink, link = solver.solve_for_diff(update_modifier="update_specs")
    assert _names(link) == ["numpy-1.15.0-py36_0", "pandas-0.23.4-py36_0", "six-1.11.0-py36_0"]
    assert _names(unlink) == ["numpy-1.14.5-py36_0"]


def test_python_stays_at_its_minor_version(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-2.7.15-0", "zlib-1.2.11-0"], ["python"])
    solver = Solver(str(prefix), index.channels, specs_to_add=["six"], context=ctx, index=index)
    state = solver.collect_specs(update_modifier="update_specs")
    assert dict((e.name, e.spec) for e in state.entries)["python"] == "python=2.7"
    assert state.why("python") == "python kept at its installed minor version"
    assert _names(solver.run_sat().final_state) == ["python-2.7.15-0", "six-1.11.0-py27_0", "zlib-1.2.11-0"]


def test_frozen_solve_succeeds_when_conflicts_are_unfrozen(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.11-0", "numpy-1.14.5-py36_0"], ["python=3.6", "numpy"])
    result = solve_with_retries(str(prefix), index.channels, ctx.subdirs, ["pandas"], command="install",
                                context=ctx, repodata_fns=["repodata.json"], index_for=lambda fn: index)
    # numpy conflicts with pandas, so even the frozen attempt lets it move
    assert [(a.update_modifier, a.outcome) for a in result.attempts] == [("freeze_installed", "ok")]
    assert result.solver.last_specs_state.why("numpy").startswith("history spec")
    assert _names(result.link_precs) == ["numpy-1.15.0-py36_0", "pandas-0.23.4-py36_0", "six-1.11.0-py36_0"]


def test_retry_loop_frozen_then_unfrozen_then_raise(world) -> None:
    from conda_deepdive.exceptions import UnsatisfiableError

    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.11-0"], ["python=3.6"])
    rec = RecordingReporter()
    with pytest.raises(UnsatisfiableError):
        solve_with_retries(str(prefix), index.channels, ctx.subdirs, ["legacy"], command="install",
                           context=ctx, repodata_fns=["repodata.json"], index_for=lambda fn: index,
                           reporter=rec)
    attempts = [e.data for e in rec.events if e.kind == "attempt"]
    assert [(a["update_modifier"], a["outcome"]) for a in attempts] == [
        ("freeze_installed", "UnsatisfiableError"), ("update_specs", "UnsatisfiableError")]


def test_create_does_not_retry(world) -> None:
    ctx, index, tmp = world
    with pytest.raises(PackagesNotFoundInChannelsError) as info:
        solve_with_retries(str(tmp / "new"), index.channels, ctx.subdirs, ["nosuchpkg"], command="create",
                           context=ctx, repodata_fns=["repodata.json"], index_for=lambda fn: index)
    text = str(info.value)
    assert text.startswith("The following packages are not available from current channels:\n\n  - nosuchpkg\n")
    assert f"  - {index.channels[0].base_url}/linux-64\n  - {index.channels[0].base_url}/noarch" in text


def test_missing_version_is_not_found_with_the_spec_text(world) -> None:
    ctx, index, tmp = world
    solver = Solver(str(tmp / "new"), index.channels, specs_to_add=["numpy 9.9"], command="create",
                    context=ctx, index=index)
    with pytest.raises(PackagesNotFoundError) as info:
        solver.solve_final_state()
    assert type(info.value).__name__ == "PackagesNotFoundInChannelsError"
    assert "  - numpy==9.9\n" in str(info.value)


def test_remove_takes_dependents_along(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.11-0", "numpy-1.15.0-py36_0", "six-1.11.0-py36_0",
                             "pandas-0.23.4-py36_0"], ["python=3.6", "pandas"])
    solver = Solver(str(prefix), index.channels, specs_to_remove=["numpy"], command="remove",
                    context=ctx, index=index)
    unlink, link = solver.solve_for_diff()
    assert _names(unlink) == ["numpy-1.15.0-py36_0", "pandas-0.23.4-py36_0", "six-1.11.0-py36_0"]
    assert link == ()
    # pandas (the dependent) is unlinked before numpy
    assert [r.name for r in unlink].index("pandas") < [r.name for r in unlink].index("numpy")


def test_remove_force_keeps_dependents(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.11-0", "numpy-1.15.0-py36_0", "six-1.11.0-py36_0",
                             "pandas-0.23.4-py36_0"], ["python=3.6", "pandas"])
    solver = Solver(str(prefix), index.channels, specs_to_remove=["numpy"], command="remove",
                    context=ctx, index=index)
    state = solver.collect_specs(force_remove=True)
    assert state.early_exit == "force_remove"
    unlink, link = solver.solve_for_diff(force_remove=True)
    assert _names(unlink) == ["numpy-1.15.0-py36_0"] and link == ()


def test_remove_of_a_missing_package(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.11-0"], ["python"])
    solver = Solver(str(prefix), index.channels, specs_to_remove=["scipy"], command="remove",
                    context=ctx, index=index)
    with pytest.raises(PackagesNotFoundInPrefixError) as info:
        solver.solve_final_state()
    assert str(info.value) == (
        f"The following packages are missing from the target environment:\n  prefix: {prefix}\n\n  - scipy\n")


def test_pinned_conflict(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.8-0"], ["python"])
    (prefix / "conda-meta" / "pinned").write_text("# pins\nzlib 1.2.8\n")
    solver = Solver(str(prefix), index.channels, specs_to_add=["zlibuser"], context=ctx, index=index)
    state = solver.collect_specs(update_modifier="update_specs")
    assert [str(p) for p in state.pinned_specs] == ["zlib==1.2.8"]
    assert state.why("zlib") == "pinned"
    with pytest.raises(SpecsConfigurationConflictError) as info:
        solver.run_sat()
    assert str(info.value).startswith(
        "Requested specs conflict with configured specs.\n  requested specs: \n    - zlibuser\n"
        "  pinned specs: \n    - zlib==1.2.8\n")
    assert str(prefix / "conda-meta" / "pinned") in str(info.value)


def test_explicit_request_overrides_a_pin_of_the_same_name(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.11-0"], ["python"])
    (prefix / "conda-meta" / "pinned").write_text("python 3.6.*\n")
    rec = RecordingReporter()
    solver = Solver(str(prefix), index.channels, specs_to_add=["python 3.7.*"], context=ctx, index=index,
                    reporter=rec)
    unlink, link = solver.solve_for_diff(update_modifier="update_specs")
    assert _names(link) == ["python-3.7.0-0"]
    assert any("Overriding pinned spec" in e.data["message"] for e in rec.events if e.kind == "warning")


def test_specs_satisfied_skip_solve(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.8-0"], ["python"])
    solver = Solver(str(prefix), index.channels, specs_to_add=["zlib"], context=ctx, index=index)
    unlink, link = solver.solve_for_diff(update_modifier="specs_satisfied_skip_solve")
    assert (unlink, link) == ((), ())
    assert solver.last_outcome.early_exit == "specs_satisfied"


def test_noarch_python_relinked_when_python_minor_changes(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.11-0", "pyhello-1.0-noarch"], ["python", "pyhello"])
    by = {f"{r.name}-{r.version}-{r.build}": r for r in index.records}
    final = PrefixGraph([by["python-3.7.0-0"], by["zlib-1.2.11-0"], by["pyhello-1.0-noarch"]]).records
    unlink, link = diff_for_unlink_link_precs(str(prefix), final)
    assert _names(link) == ["pyhello-1.0-noarch", "python-3.7.0-0"]
    assert _names(unlink) == ["pyhello-1.0-noarch", "python-3.6.6-0"]


def test_prefix_graph_operations(world) -> None:
    _ctx, index, _tmp = world
    by = {f"{r.name}-{r.version}-{r.build}": r for r in index.records}
    recs = [by[d] for d in ("pandas-0.23.4-py36_0", "six-1.11.0-py36_0", "numpy-1.15.0-py36_0",
                            "python-3.6.6-0", "zlib-1.2.11-0")]
    graph = PrefixGraph(recs, ["pandas"])
    assert [r.name for r in graph.records] == ["zlib", "python", "numpy", "six", "pandas"]
    assert {r.name for r in graph.all_ancestors(by["pandas-0.23.4-py36_0"])} == {"zlib", "python", "numpy", "six"}
    assert {r.name for r in graph.all_descendants(by["python-3.6.6-0"])} == {"numpy", "six", "pandas"}
    removed = PrefixGraph(recs, ["pandas"]).remove_spec(__import__("conda_deepdive.models", fromlist=["x"]).MatchSpec("numpy"))
    assert {r.name for r in removed} == {"numpy", "pandas"}
    g = PrefixGraph(recs + [by["legacy-1.0-py27_0"]], ["six"])
    assert {r.name for r in g.prune()} == {"legacy", "pandas", "numpy"}
    assert {r.name for r in g.records} == {"six", "python", "zlib"}
    g2 = PrefixGraph(recs, ["pandas"])
    assert [r.name for r in g2.remove_youngest_descendant_nodes_with_specs()] == ["pandas"]


def test_phases_one_at_a_time_like_the_session(world) -> None:
    """Session order: priority, specs, reduce, then the solve reuses the collected specs."""
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.11-0", "numpy-1.15.0-py36_0", "six-1.11.0-py36_0",
                             "pandas-0.23.4-py36_0"], ["python=3.6", "pandas"])
    rec = RecordingReporter()
    solver = Solver(str(prefix), index.channels, specs_to_remove=["numpy"], command="remove",
                    context=ctx, index=index, reporter=rec)
    report = solver.apply_channel_priority()
    assert "python" in report
    state = solver.collect_specs()
    assert "pandas" not in state.final_specs  # removed along with numpy
    reduced = solver.reduce()
    assert {r.name for r in reduced} >= {"python", "zlib"}
    # same modifiers: the collected state is used as is (a second _remove_specs would fail)
    unlink, link = solver.solve_for_diff()
    assert _names(unlink) == ["numpy-1.15.0-py36_0", "pandas-0.23.4-py36_0", "six-1.11.0-py36_0"]
    assert [e.kind for e in rec.events].count("collect_specs_started") == 1
    assert "SolveOutcome(" in repr(solver.last_outcome)
    assert solver.last_outcome.summary()["final_state"]


def test_solve_for_transaction_hands_over_a_plan(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.11-0"], ["python=3.6"])
    solver = Solver(str(prefix), index.channels, specs_to_add=["six"], context=ctx, index=index)
    from conda_deepdive.transaction.transaction import solve_for_transaction

    txn = solve_for_transaction(solver, update_modifier="freeze_installed")
    assert not txn.nothing_to_do
    actions = txn.json_actions()
    assert [a["dist_name"] for a in actions["LINK"]] == ["six-1.11.0-py36_0"]
    assert actions.get("UNLINK", []) == []


def test_no_deps_changes_only_the_requested_package(world) -> None:
    ctx, index, tmp = world
    solver = Solver(str(tmp / "new"), index.channels, specs_to_add=["pandas"], command="create",
                    context=ctx, index=index)
    final = solver.solve_final_state(deps_modifier="no_deps")
    assert _names(final) == ["pandas-0.23.4-py36_0"]
    assert "no_deps" in solver.last_outcome.post_processing[0]


def test_only_deps_leaves_the_requested_package_out(world) -> None:
    ctx, index, tmp = world
    solver = Solver(str(tmp / "new"), index.channels, specs_to_add=["pandas"], command="create",
                    context=ctx, index=index)
    final = solver.solve_final_state(deps_modifier="only_deps")
    assert _names(final) == ["numpy-1.15.0-py36_0", "python-3.6.6-0", "six-1.11.0-py36_0", "zlib-1.2.11-0"]
    # the requested package's dependencies became the specs to record in history
    assert {s.name for s in solver.specs_to_add} >= {"pandas", "numpy", "six", "python"}


def test_update_deps_solves_again_with_the_dependency_chain(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.8-0", "six-1.11.0-py36_0"], ["python=3.6", "six"])
    solver = Solver(str(prefix), index.channels, specs_to_add=["six"], context=ctx, index=index)
    unlink, link = solver.solve_for_diff(update_modifier="update_deps")
    # zlib (a dependency of six's dependency python) is updated; python stays at 3.6
    assert _names(link) == ["zlib-1.2.11-0"] and _names(unlink) == ["zlib-1.2.8-0"]
    assert {str(s) for s in solver.specs_to_add} == {"six", "python=3.6", "zlib"}


def test_prune_drops_what_nothing_needs(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.11-0", "six-1.11.0-py36_0"], ["python=3.6"])
    solver = Solver(str(prefix), index.channels, specs_to_add=["zlib"], context=ctx, index=index)
    final = solver.solve_final_state(update_modifier="update_specs", prune=True)
    assert _names(final) == ["zlib-1.2.11-0"]


def test_update_all_frees_history_names(world) -> None:
    ctx, index, tmp = world
    prefix = tmp / "env"
    _install(prefix, index, ["python-3.6.6-0", "zlib-1.2.8-0", "numpy-1.14.5-py36_0"], ["python=3.6", "numpy=1.14"])
    solver = Solver(str(prefix), index.channels, command="update", context=ctx, index=index)
    state = solver.collect_specs(update_modifier="update_all")
    assert state.why("numpy") == "history name, free to update (update --all)"
    unlink, link = solver.solve_for_diff(update_modifier="update_all")
    # numpy moves to 1.15 but python stays on 3.6 (the minor-version business rule)
    assert _names(link) == ["numpy-1.15.0-py36_0", "zlib-1.2.11-0"]
