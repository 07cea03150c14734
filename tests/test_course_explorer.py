"""The course's display helpers and StageExplorer, without a browser.

The explorer's promises: Next runs one stage at a time, Back only *shows* an earlier stage (link
never runs twice), the fault picker breaks a *copy* of the link stage and its rollback leaves the
prefix identical, and what a notebook stores (text/plain + text/html) is the same everywhere.
"""

from __future__ import annotations

import os
import re

import pytest

from conda_deepdive.course.display import Rich, html, show, text
from conda_deepdive.course.explorer import (
    StageExplorer, execution_plan, graph_svg, inspect_html, prefix_digest,
)
from conda_deepdive.course.sandbox import Sandbox
from conda_deepdive.pipeline import STAGE_NAMES


@pytest.fixture()
def sandbox():
    sb = Sandbox("test-explorer")
    try:
        yield sb
    finally:
        sb.cleanup()


def _machine_paths(value: str, sb: Sandbox) -> list[str]:
    return [p for p in (sb.root, os.path.realpath(sb.root)) if p in value]


# -- display --------------------------------------------------------------------------------------

def test_show_renders_tables_as_html_and_a_sanitized_text_twin(sandbox):
    s = sandbox.session("install", "numpy")
    s.run(until="solve")
    out = html(s, "solve", sanitizer=sandbox.sanitizer)
    assert "<table" in out and "Optimisation passes" in out
    assert 'style="' in out and "color:" in out          # inline colour, no stylesheet
    assert not _machine_paths(out, sandbox)
    plain = text(s, "solve", sanitizer=sandbox.sanitizer)
    assert "6. SAT solve" in plain and not _machine_paths(plain, sandbox)
    assert "\x1b[" not in plain                           # no terminal colour codes
    # a placeholder is text, not an HTML tag
    ctx = html(s, "context", sanitizer=sandbox.sanitizer)
    assert "&lt;PREFIX&gt;" in ctx or "&lt;WORK&gt;" in ctx


def test_html_is_deterministic_across_sandboxes():
    outs = []
    for _ in range(2):
        with Sandbox("det") as sb:
            s = sb.session("install", "numpy")
            s.run(until="transaction")
            outs.append([html(s, n, sanitizer=sb.sanitizer) + text(s, n, sanitizer=sb.sanitizer)
                         for n in ("parse", "specs", "reduce", "solve", "transaction")])
    assert outs[0] == outs[1]


def test_show_outside_ipython_prints_the_text(capsys):
    from rich.table import Table

    table = Table("name", "version")
    table.add_row("numpy", "2.1.3")
    show(table)
    out = capsys.readouterr().out
    assert "numpy" in out and "2.1.3" in out
    bundle = Rich.of(table)._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"} and "<table" in bundle["text/html"]


def test_show_an_error_and_a_plain_result_object():
    from conda_deepdive.exceptions import PackagesNotFoundError

    err = html(PackagesNotFoundError(["nosuchpkg"]))
    assert "nosuchpkg" in err and "PackagesNotFoundError" in err
    assert "a: 1" in text({"a": 1, "b": [1, 2]}) or "a" in text({"a": 1, "b": [1, 2]})


# -- stepping ---------------------------------------------------------------------------------------

def test_stepping_forward_and_back(sandbox):
    ex = StageExplorer(["install", "numpy"], sandbox)
    assert ex.current == "parse" and ex.state("parse") == "current" and ex.state("context") == "next"
    ex.next()
    assert ex.current == "context" and ex.state("parse") == "done"
    ex.run_to("reduce")
    assert ex.current == "reduce" and list(ex.session.results) == list(STAGE_NAMES[:6])
    ex.back().back()
    assert ex.current == "priority" and ex.state("reduce") == "done"
    ex.next()
    assert ex.current == "specs" and "solve" not in ex.session.results   # moved the view only
    ex.run_to("context")                                                 # already run: shown
    assert ex.current == "context" and all(n == 1 for n in ex.runs.values() if n)
    with pytest.raises(ValueError, match="has not run yet"):
        ex.view("link")
    with pytest.raises(ValueError, match="unknown stage"):
        ex.run_to("nonsense")


def test_back_never_reruns_link(sandbox):
    ex = StageExplorer(["install", "numpy"], sandbox)
    ex.run_to("link")
    txn = ex.session.results["link"]
    actions = len(txn.executed_log)
    prefix = ex.session.results["context"].target_prefix
    digest = prefix_digest(prefix)
    for _ in range(4):
        ex.back()
    assert ex.current == "reduce"
    for _ in range(6):
        ex.next()
    assert ex.current == "link" and ex.finished
    assert ex.runs["link"] == 1 and all(v == 1 for v in ex.runs.values())
    assert len(txn.executed_log) == actions and prefix_digest(prefix) == digest
    ex.next()                                   # past the end: nothing happens
    assert ex.runs["link"] == 1


def test_timeline_matches_what_link_executed(sandbox):
    ex = StageExplorer(["install", "numpy"], sandbox)
    ex.run_to("link")
    txn = ex.session.results["link"]
    plan = execution_plan(txn)
    assert len(plan) == len(txn.executed_log)
    for action, logged in zip(plan, txn.executed_log):
        assert {k: v for k, v in logged.items() if k != "number"} == action.describe()
    rows = ex.timeline()
    assert all(r.execute == "ok" and r.verify == "ok" and r.reverse is None for r in rows)


# -- the fault picker ---------------------------------------------------------------------------------

def test_fault_picker_rolls_back_and_the_prefix_is_identical(sandbox):
    ex = StageExplorer(["install", "numpy"], sandbox)
    ex.run_to("fetch")
    prefix = ex.session.results["context"].target_prefix
    before = prefix_digest(prefix)
    choices = ex.fault_choices()
    assert len(choices) > 50 and choices[0][1] == 1
    assert prefix_digest(prefix) == before       # listing the actions touched nothing
    at = 40
    fault = ex.inject_fault(at)
    assert fault.failed_number == at and "InjectedFault" in fault.error
    assert fault.executed == at - 1 and fault.reversed_count == at - 1
    assert fault.prefix_identical and prefix_digest(prefix) == before
    # reversed last first: action #at-1 went back first, action #1 last
    order = {r.number: r.reverse for r in fault.rows if r.reverse is not None}
    assert order[at - 1] == 1 and order[1] == at - 1
    assert [r.execute for r in fault.rows[at - 2:at + 1]] == ["ok", "FAILED", "-"]
    # the session itself was not touched: link still to come, and it still works
    assert "link" not in ex.session.results and ex.runs["link"] == 0
    ex.next()
    assert ex.current == "link" and "link" in ex.session.results
    assert "conda-meta/history" in prefix_digest(prefix)


def test_fault_replay_keeps_a_verified_transactions_temp_files(sandbox):
    """The session's transaction may already be verified (its prefix-rewritten files wait in
    <prefix>/.condatmp); a replay must not take them away, or the real link would fail."""
    ex = StageExplorer(["install", "cowsay", "whereami"], sandbox)
    ex.run_to("fetch")
    txn = ex.session.results["transaction"]
    txn.verify()
    waiting = [a.intermediate_path for a in execution_plan(txn) if getattr(a, "intermediate_path", None)]
    assert waiting and all(os.path.exists(p) for p in waiting)
    assert ex.fault_choices()
    assert ex.inject_fault(3).prefix_identical
    assert all(os.path.exists(p) for p in waiting)
    ex.next()
    assert ex.state("link") == "current" and not ex.errors
    prefix = ex.session.results["context"].target_prefix
    assert os.path.exists(os.path.join(prefix, "bin", "whereami"))


def test_fault_picker_on_a_new_environment_removes_it(sandbox):
    ex = StageExplorer(["create", "-p", sandbox.path("newenv"), "python"], sandbox)
    ex.run_to("fetch")
    prefix = ex.session.results["context"].target_prefix
    assert not os.path.exists(prefix)
    assert ex.fault_choices() and not os.path.exists(prefix)
    fault = ex.inject_fault("CreatePrefixRecordAction")
    assert fault.prefix_identical and fault.new_prefix_removed and not os.path.exists(prefix)
    snap = ex.snapshot()
    assert "rollback" in snap.html.lower() and "RegisterEnvironmentLocationAction" in snap.html
    assert not _machine_paths(snap.html + snap.text + ex.timeline_view_html(), sandbox)


def test_fault_picker_refuses_what_it_cannot_break(sandbox):
    ex = StageExplorer(["install", "numpy"], sandbox)
    with pytest.raises(ValueError, match="fetch"):
        ex.inject_fault(1)
    ex.run_to("fetch")
    before = prefix_digest(ex.session.results["context"].target_prefix)
    with pytest.raises(ValueError, match="no action"):
        ex.inject_fault(100_000)               # would otherwise install for real
    assert prefix_digest(ex.session.results["context"].target_prefix) == before
    ex.next()
    with pytest.raises(ValueError, match="already run"):
        ex.inject_fault(1)


# -- failures and static output --------------------------------------------------------------------------

def test_a_failing_stage_is_shown_not_raised(sandbox):
    ex = StageExplorer(["install", "nosuchpackage-xyz"], sandbox)
    ex.run_to("link")
    failed = [n for n in STAGE_NAMES if ex.state(n) == "failed"]
    assert len(failed) == 1 and ex.current == failed[0]
    assert "PackagesNotFound" in ex.stage_html() and "nosuchpackage-xyz" in ex.stage_text()
    assert ex.finished
    ex.next()                                   # nothing more to run
    assert ex.runs[failed[0]] == 1


def test_snapshot_is_static_and_deterministic():
    snaps = []
    for _ in range(2):
        with Sandbox("snap") as sb:
            ex = StageExplorer(["install", "numpy"], sb)
            ex.run_to("solve")
            bundle = ex._repr_mimebundle_()
            assert set(bundle) == {"text/plain", "text/html"}   # no kernel: no widget view
            snaps.append(bundle)
            assert not _machine_paths(bundle["text/plain"] + bundle["text/html"], sb)
    assert snaps[0] == snaps[1]
    assert "[6 Solve: current]" in snaps[0]["text/plain"]


def test_graph_and_inspector(sandbox):
    s = sandbox.session("install", "numpy")
    s.run(until="solve")
    svg = graph_svg(s.results["solve"].final_state, ["numpy"])
    assert svg == graph_svg(s.results["solve"].final_state, ["numpy"])
    assert svg.count("<rect") == len([r for r in s.results["solve"].final_state if not r.name.startswith("__")])
    assert "#1f6feb" in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    info = inspect_html(s.results["context"], sanitizer=sandbox.sanitizer)
    assert "<details" in info and not _machine_paths(info, sandbox)
    assert re.search(r"channel_priority", info)
