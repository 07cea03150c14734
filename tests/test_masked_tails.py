"""Strict channel priority: records a better channel masks are not built unless conda's
reduction would look at them (``resolve.MaskedTail``) — and nothing the solver answers or
reports changes because of it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from conda_deepdive.exceptions import CondaError
from conda_deepdive.index.index import SubdirData, fetch_index
from conda_deepdive.reporting import RecordingReporter
from conda_deepdive.solve.resolve import MaskedTail, Resolve
from conda_deepdive.solve.solve import Solver

ENV = {"CONDA_OVERRIDE_GLIBC": "2.17", "CONDA_OVERRIDE_LINUX": "5.15", "CONDA_OVERRIDE_CUDA": "",
       "CONDA_OVERRIDE_ARCHSPEC": "x86_64"}
NAMES = [f"p{i}" for i in range(14)]


def _record(name: str, version: str, build: str, deps: list[str], **extra) -> dict:
    return {"name": name, "version": version, "build": build, "build_number": 0, "depends": deps,
            "md5": "0" * 32, "size": 1, "subdir": "linux-64", **extra}


def _random_channels(root: Path, seed: int) -> list[str]:
    """Four channels offering overlapping random picks of fourteen names with random
    dependencies (cycles included), some ``constrains`` and ``features``, and names that only
    a lower channel's records depend on."""
    rnd = random.Random(seed)
    urls = []
    for c in range(4):
        pkgs = {}
        for name in rnd.sample(NAMES, rnd.randint(3, 11)):
            for v in range(1, rnd.randint(2, 4)):
                deps = []
                for dep in rnd.sample(NAMES, rnd.randint(0, 3)):
                    if dep != name:
                        deps.append(rnd.choice([dep, f"{dep} >={rnd.randint(1, 3)}", f"{dep} <{rnd.randint(2, 4)}"]))
                if c and rnd.random() < 0.2:  # only lower channels' records reach these names
                    deps.append(f"only{c}")
                extra = {}
                if rnd.random() < 0.15:
                    extra["constrains"] = [f"{rnd.choice(NAMES)} >={rnd.randint(1, 3)}"]
                if rnd.random() < 0.1:
                    extra["features"] = "debug"
                pkgs[f"{name}-{v}-{c}.tar.bz2"] = _record(name, str(v), str(c), deps, **extra)
        for only in range(1, 4):
            pkgs[f"only{only}-1-0.tar.bz2"] = _record(f"only{only}", "1", "0", [])
        urls.append(_write_channel(root / f"ch{c}", pkgs))
    return urls


def _write_channel(root: Path, pkgs: dict) -> str:
    for subdir, found in (("linux-64", pkgs), ("noarch", {})):
        d = root / subdir
        d.mkdir(parents=True)
        (d / "repodata.json").write_text(json.dumps({"info": {"subdir": subdir}, "packages": found}))
    return root.as_uri()


def _solver(tmp: Path, urls: list[str], spec: str, monkeypatch, defer: bool, reporter=None) -> Solver:
    from conda_deepdive.config.context import Context

    monkeypatch.setenv("CONDA_DEEPDIVE_DEFER_MASKED", "1" if defer else "0")
    SubdirData.clear_memory_cache()
    ctx = Context.from_values(env=ENV, channels=tuple(urls), subdir="linux-64", channel_priority="strict",
                              add_pip_as_python_dependency=False, pkgs_dirs=(str(tmp / "pkgs"),))
    index = fetch_index(ctx, repodata_fn="repodata.json")
    return Solver(str(tmp / "env"), index.channels, specs_to_add=[spec], command="create",
                  context=ctx, index=index, reporter=reporter)


def _solve(tmp: Path, urls: list[str], spec: str, monkeypatch, defer: bool) -> tuple:
    rec = RecordingReporter()
    solver = _solver(tmp, urls, spec, monkeypatch, defer, rec)
    try:
        answer = sorted(p.dist_str() for p in solver.solve_final_state())
    except CondaError as exc:
        answer = f"{type(exc).__name__}: {exc}"
    events = [e for e in json.loads(rec.to_json()) if e["kind"] != "masked_tails_deferred"]
    tails = [t for t in (solver._r._given if solver._r is not None else ()) if type(t) is MaskedTail]
    return answer, events, sum(t.count for t in tails if not t.built), sum(t.count for t in tails if t.built)


@pytest.mark.parametrize("sparse", ["1", "0"])  # dependency names from the stored index / raw entries
def test_deferred_masked_records_change_nothing_the_solver_says(tmp_path, monkeypatch, sparse):
    monkeypatch.setenv("CONDA_DEEPDIVE_SPARSE_REPODATA", sparse)
    unbuilt = built = errors = 0
    for seed in range(10):
        urls = _random_channels(tmp_path / f"channels{seed}", seed)
        for spec in random.Random(seed).sample(NAMES, 4):
            eager = _solve(tmp_path, urls, spec, monkeypatch, defer=False)
            lazy = _solve(tmp_path, urls, spec, monkeypatch, defer=True)
            assert lazy[0] == eager[0], (seed, spec)  # the same answer (or the same error)
            assert lazy[1] == eager[1], (seed, spec)  # every event, reductions' counts included
            assert eager[2:] == (0, 0)
            unbuilt, built = unbuilt + lazy[2], built + lazy[3]
            errors += isinstance(lazy[0], str)
    # not vacuous: masked records were left unbuilt, others were built when conda's reduction
    # looked at them, and some requests failed (their explanations read the full index)
    assert unbuilt > 0 and built > 0 and errors > 0


def test_a_copy_of_the_best_channel_is_never_built(tmp_path, monkeypatch):
    # the lower channel repeats the upper one: its records are all masked, and the solve never
    # needs one of them, so none is built
    pkgs = {"a-1-0.tar.bz2": _record("a", "1", "0", ["b >=1"]), "b-1-0.tar.bz2": _record("b", "1", "0", []),
            "b-2-0.tar.bz2": _record("b", "2", "0", ["a"])}
    urls = [_write_channel(tmp_path / ch, pkgs) for ch in ("up", "copy")]
    answer, events, unbuilt, built = _solve(tmp_path, urls, "a", monkeypatch, defer=True)
    assert [a.split("::")[1] for a in answer] == ["a-1-0", "b-2-0"]
    assert all(a.split("::")[0].endswith("/up/linux-64") for a in answer)
    assert (unbuilt, built) == (3, 0)
    masked = [e for e in events if e["kind"] == "strict_filter"]
    assert masked and masked[0]["data"]["masked"] == {"a": 1, "b": 2}  # reported as conda would


class _Source:
    """A stand-in subdir: builds its records on demand and counts how often."""

    def __init__(self, records):
        self.records, self.calls = records, 0

    def records_for(self, name):
        self.calls += 1
        return tuple(r for r in self.records if r.name == name)


def _rec(name, version, channel, **kw):
    from conda_deepdive.models.records import PackageRecord

    return PackageRecord(name=name, version=version, build="0", build_number=0, channel=channel,
                         subdir="linux-64", fn=f"{name}-{version}-0.tar.bz2", **kw)


def test_resolve_builds_a_tail_when_its_whole_group_is_asked_for():
    upper = [_rec("z", "1", "up")]
    lower = _Source([_rec("z", "2", "low"), _rec("z", "3", "low")])
    tail = MaskedTail("z", [lower], 2)
    r = Resolve([*upper, tail], channels=("up", "low"), channel_priority="strict")
    assert "not built" in repr(tail) and r.group_size("z") == 3 and lower.calls == 0
    assert r.strict_split("z") == 1 and r._get_strict_channel("z") == "up"
    assert r.has_match("z >=1") and lower.calls == 0  # the head answers
    assert upper[0] in r.index and lower.calls == 0  # a record of the head: no tail needed
    assert r.has_match("z 3") and lower.calls == 1  # only the tail can answer: built now
    assert [p.version for p in r.groups["z"]] == ["1", "3", "2"]  # channel first, then version
    assert len(r.index) == 3 and not r._pending and "built" in repr(tail)


def test_a_tail_without_its_head_is_built_at_once():
    lower = _Source([_rec("z", "2", "low")])
    r = Resolve([_rec("y", "1", "up"), MaskedTail("z", [lower], 1)], channels=("up", "low"),
                channel_priority="strict")
    assert lower.calls == 1 and not r._pending and [p.version for p in r.groups["z"]] == ["2"]
    with pytest.raises(TypeError):
        tail = MaskedTail("z", [lower], 1)
        Resolve({tail: tail})


def test_the_reduction_says_how_many_masked_records_it_never_read(tmp_path, monkeypatch):
    from rich.console import Console

    from conda_deepdive.render.sections import section_reduce

    pkgs = {"a-1-0.tar.bz2": _record("a", "1", "0", ["b"]), "b-1-0.tar.bz2": _record("b", "1", "0", [])}
    urls = [_write_channel(tmp_path / ch, pkgs) for ch in ("up", "copy")]
    solver = _solver(tmp_path, urls, "a", monkeypatch, defer=True)
    solver.collect_specs()
    reduced = solver.reduce()
    assert reduced.unbuilt == 2 and reduced.reasons["a"] == {"removed due to strict channel priority": 1}
    console = Console(width=200, record=True)
    console.print(section_reduce(reduced, type("S", (), {"results": {}})()))
    assert "(2 masked records crossed out without being read)" in console.export_text()
