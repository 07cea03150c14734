"""The spine: a Session runs the stages one at a time, keeps every result, and reports to a tracer.

These tests use the bundled teaching channel (no ../shared needed) with a private package cache
and pinned virtual packages, so every run sees the same input.
"""

from __future__ import annotations

import json
import re

import pytest

from conda_deepdive.pipeline import STAGES, DeferredFailure, Session
from conda_deepdive.reporting import MultiReporter, RecordingReporter, Reporter


def _session(tmp_path, env, *specs, reporter=None, dry_run=True):
    argv = ["create", "-p", str(tmp_path / "env"), *specs] + (["--dry-run"] if dry_run else ["-y"])
    return Session.from_argv(argv, env=env, reporter=reporter)


def test_stages_run_one_at_a_time_and_keep_their_results(tmp_path, env):
    s = _session(tmp_path, env, "six")
    assert s.next_stage == "parse" and not s.results
    parsed = s.next()
    assert s.results == {"parse": parsed} and parsed.command == "create"
    assert s.next_stage == "context"
    context = s.next()
    assert context.target_prefix == str(tmp_path / "env")
    s.run(until="solve")
    assert list(s.results) == ["parse", "context", "index", "priority", "specs", "reduce", "solve"]
    assert {r.name for r in s.results["solve"].link_precs} >= {"six", "python"}
    s.run()
    # a dry run stops after the transaction: nothing is fetched or linked
    assert s.stopped_reason == "dry run" and s.finished
    assert "fetch" not in s.results and "link" not in s.results
    assert not (tmp_path / "env").exists()
    with pytest.raises(StopIteration):
        s.next()


def test_every_result_is_inspectable(tmp_path, env):
    s = _session(tmp_path, env, "six").run()
    for name, result in s.results.items():
        text = repr(result)
        assert text and " object at 0x" not in text, f"{name}: unreadable repr {text!r}"
        summary = result.summary()
        assert isinstance(summary, dict) and summary, name
        json.dumps(summary)  # plain JSON data
    assert re.match(r"Session\('create -p .* six --dry-run', done=\[parse, .*transaction\], next=None\)",
                    repr(s))


def test_run_until_checks_the_stage_name(tmp_path, env):
    with pytest.raises(ValueError, match="unknown stage 'solver'"):
        _session(tmp_path, env, "six").run(until="solver")


def test_recorded_events_are_stable_for_a_fixed_input(tmp_path, env):
    def record() -> str:
        recorder = RecordingReporter()
        _session(tmp_path, env, "six", reporter=recorder).run()
        return recorder.to_json()

    first, second = record(), record()
    assert first == second
    events = json.loads(first)
    stages = [e["stage"] for e in events if e["kind"] == "stage_started"]
    assert stages == [s.name for s in STAGES][: len(stages)] and stages[-1] == "transaction"
    assert not any(k.endswith("_seconds") for e in events for k in e["data"])


def test_timings_are_kept_when_asked(tmp_path, env):
    recorder = RecordingReporter()
    s = _session(tmp_path, env, "six", reporter=recorder).run()
    assert set(s.seconds) == set(s.results) and all(v >= 0 for v in s.seconds.values())
    with_timings = json.loads(recorder.to_json(timings=True))
    assert len(with_timings) == len(recorder.events)


def test_a_multi_reporter_fans_out(tmp_path, env):
    class Counter(Reporter):
        def __init__(self):
            self.started = []

        def stage_started(self, stage, title):
            self.started.append(stage)

    a, b = Counter(), RecordingReporter()
    _session(tmp_path, env, "six", reporter=MultiReporter([a, b])).run(until="index")
    assert a.started == ["parse", "context", "index"]
    assert b.kinds()[0] == "stage_started"


def test_a_failure_conda_retries_is_deferred_to_the_solve_stage(tmp_path, env):
    # numpy 1.26 is not in current_repodata.json (newest versions only): conda's loop falls back
    # to repodata.json, and the session shows that as two attempts
    s = _session(tmp_path, env, "numpy=1.26").run(until="solve")
    assert isinstance(s.results["specs"], DeferredFailure)
    attempts = s.results["solve"].attempts
    assert [a.repodata_fn for a in attempts] == ["current_repodata.json", "repodata.json"]
    assert attempts[0].outcome != "ok" and attempts[-1].outcome == "ok"
    assert any(r.name == "numpy" and r.version == "1.26.4" for r in s.results["solve"].link_precs)


def test_a_real_run_links_into_the_prefix(tmp_path, env):
    s = _session(tmp_path, env, "six", dry_run=False).run()
    assert s.finished and s.stopped_reason is None
    assert set(s.results) == {st.name for st in STAGES}
    prefix = tmp_path / "env"
    assert (prefix / "conda-meta" / "history").is_file()
    assert any(p.name.startswith("six-") for p in (prefix / "conda-meta").glob("*.json"))
