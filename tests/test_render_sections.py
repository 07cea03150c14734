"""The per-stage sections, the dependency graph, the conflict tree and the sanitizer.

One real ``install numpy`` on the teaching channel (module fixture) feeds every section; the
whole sanitized text is compared with ``tests/snapshots/trace_install_numpy.txt``. After an
intended change of output, regenerate it with ``UPDATE_SNAPSHOTS=1 pytest tests/test_render_sections.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conda_deepdive.render.notebook import Workshop

SNAPSHOTS = Path(__file__).parent / "snapshots"


def _check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("CI") and not path.exists():
            pytest.fail(f"snapshot {name} is missing; run UPDATE_SNAPSHOTS=1 pytest locally")
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        import difflib

        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            "snapshot", "now", n=1))
        pytest.fail(f"rendered text differs from tests/snapshots/{name} "
                    f"(UPDATE_SNAPSHOTS=1 to accept):\n{diff[:4000]}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    from conda_deepdive.index.index import SubdirData

    # the snapshot shows "cache: none"; earlier tests in this process may have filled the
    # in-memory repodata cache (which would show "memory")
    SubdirData.clear_memory_cache()
    ws = Workshop(str(tmp_path_factory.mktemp("ws")))
    session = ws.session("install", "numpy")
    session.run()
    return ws, session


def test_every_stage_renders_and_matches_snapshot(installed):
    ws, session = installed
    assert list(session.results) == list(session.stages)
    text = "".join(ws.render(session, name) for name in session.stages)
    # what each section must teach, independent of the snapshot
    for needle in ("Options typed", "Settings (value ← where it came from)", "cmd_line",
                   "Channels and their URLs", "Repodata (current_repodata.json)",
                   "The specs handed to the solver", "requested", "Per package name",
                   "SAT problem:", "Optimisation passes", "package_count", "Final state (27 packages",
                   "## Package Plan ##", "PathAction", "Package cache", "Execution order",
                   "Every action, in execution order", "CreatePrefixRecordAction", "UpdateHistoryAction"):
        assert needle in text, needle
    assert "/tmp/" not in text and ws.root not in text  # sanitized
    assert " s ─" not in text  # no timings in the subtitles
    _check_snapshot("trace_install_numpy.txt", text)


def test_full_sections_show_every_row(installed):
    ws, session = installed
    compact = ws.render(session, "link")
    full = ws.render(session, "link", full=True)
    actions = len(session.results["link"].executed_log)
    assert actions > 100
    assert "more" in compact and full.count("LinkPathAction") > compact.count("LinkPathAction")
    assert f"Every action, in execution order ({actions})" in full
    full_context = ws.render(session, "context", full=True)
    assert "more settings at their defaults" not in full_context
    assert "safety_checks" in full_context


def test_class_tree_has_every_path_action_class():
    from conda_deepdive.link import generated_actions, path_actions, unlink_actions
    from conda_deepdive.render.actions import class_tree
    from conda_deepdive.render.console import render_text

    text = render_text(class_tree())
    for module in (path_actions, generated_actions, unlink_actions):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, path_actions.PathAction):
                assert name in text, name
    assert "CacheUrlAction" in text and "ExtractPackageAction" in text
    # hierarchy: PrefixReplaceLinkAction sits below LinkPathAction
    lines = text.splitlines()
    link = next(i for i, l in enumerate(lines) if l.rstrip().endswith("LinkPathAction") and "Prefix" not in l)
    replace = next(i for i, l in enumerate(lines) if "PrefixReplaceLinkAction" in l)
    assert replace == link + 1
    assert lines[replace].index("PrefixReplaceLinkAction") > lines[link].index("LinkPathAction")


def test_execution_order_counts_come_from_the_log(installed):
    from conda_deepdive.render.actions import EXECUTION_ORDER, execution_order_table
    from conda_deepdive.render.console import render_text

    _ws, session = installed
    log = session.results["link"].executed_log
    text = render_text(execution_order_table(log))
    links = sum(1 for e in log if e["action"] in ("LinkPathAction", "PrefixReplaceLinkAction"))
    row = next(l for l in text.splitlines() if " link files " in l and "unlink" not in l)
    assert row.rstrip().endswith(str(links))
    phases = [p for p, _w, _c in EXECUTION_ORDER]
    assert phases.index("unlink files") < phases.index("link files") < phases.index("entry points") \
        < phases.index("compile .pyc") < phases.index("records")
    # the log really ran in that order: every record after every file link
    numbers = {name: [e["number"] for e in log if e["action"] == name] for name in
               ("LinkPathAction", "CreatePythonEntryPointAction", "CreatePrefixRecordAction")}
    assert max(numbers["LinkPathAction"]) < min(numbers["CreatePythonEntryPointAction"])
    assert max(numbers["CreatePythonEntryPointAction"]) < min(numbers["CreatePrefixRecordAction"])


def test_one_line_per_stage(installed):
    from conda_deepdive.render.sections import one_line

    _ws, session = installed
    lines = {name: one_line(name, session.results[name]) for name in session.stages}
    assert lines["parse"] == "conda install numpy"
    assert lines["solve"].startswith("27 packages; link 27, unlink 0")
    assert lines["fetch"] == "27 packages: 0 cached, 0 extracted, 27 fetched"
    assert lines["link"].endswith("actions executed")


def test_dependency_graph_tree_dot_svg_and_why(installed):
    from conda_deepdive.render.graph import (dependency_graph, roots, text_tree, to_dot, to_svg,
                                             why_chains)

    _ws, session = installed
    final = [r for r in session.results["solve"].final_state if not r.name.startswith("__")]
    graph = dependency_graph(final)
    assert roots(graph) == ["numpy"]
    assert graph.has_edge("numpy", "python") and graph.has_edge("python", "pip")
    tree = text_tree(graph, max_depth=None)
    assert tree.splitlines()[0] == "numpy 2.1.3"
    assert "(*)" in tree  # libgcc-ng is reached twice and expanded once
    assert to_dot(graph) == to_dot(dependency_graph(reversed(final)))
    assert '"numpy" -> "python";' in to_dot(graph)
    svg = to_svg(graph)
    assert svg.startswith("<svg") and svg.count("<rect") == len(final) + 1
    chains = why_chains(graph, ["numpy"])
    assert chains["numpy"] == [["numpy"]]
    assert chains["wheel"] == [["numpy", "python", "pip", "wheel"]]
    assert chains["libgomp"][0][0] == "numpy" and chains["libgomp"][0][-1] == "libgomp"


def test_conflict_tree_from_a_real_unsatisfiable_error(tmp_path):
    from conda_deepdive.exceptions import UnsatisfiableError
    from conda_deepdive.render.conflicts import conflict_groups, conflict_tree
    from conda_deepdive.render.console import render_text

    ws = Workshop(str(tmp_path))
    session = ws.session("install", "tablekit", "arraykit")
    with pytest.raises(UnsatisfiableError) as info:
        session.run()
    groups = conflict_groups(info.value)
    assert groups, str(info.value)
    requested = {chain[0] for g in groups for chain in g.chains}
    assert requested <= {"tablekit", "arraykit"} and "arraykit" in requested
    text = render_text(conflict_tree(info.value))
    assert "conflict on " in text and "arraykit" in text
    assert "numpy[version='>=2.0']" in text  # brackets are text, not rich markup


def test_sanitizer_paths_urls_and_addresses():
    from conda_deepdive.render.sanitize import Sanitizer, clean, sanitizing

    s = Sanitizer({"/tmp/x": "<TMP>", "/tmp/x/env": "<PREFIX>"})
    assert s.text("/tmp/x/env/bin and /tmp/x/pkgs") == "<PREFIX>/bin and <TMP>/pkgs"
    assert s.text("file:///tmp/x/env") == "file://<PREFIX>"
    assert s.text("<Obj at 0xdeadBEEF>") == "<Obj>"
    assert s.data({"/tmp/x/env": ["/tmp/x"]}) == {"<PREFIX>": ["<TMP>"]}
    assert clean("/tmp/x") == "/tmp/x"
    with sanitizing(s):
        assert clean("/tmp/x") == "<TMP>"
    assert clean("/tmp/x") == "/tmp/x"


def test_error_panel_has_no_traceback_and_shows_the_tree():
    from conda_deepdive.exceptions import UnsatisfiableError
    from conda_deepdive.render.console import error_panel, render_text

    exc = UnsatisfiableError(
        "The following specifications were found to be incompatible with each other:\n\n"
        "Package blas conflicts for:\n"
        "a -> numpy[version='>=2.0'] -> blas==1.0=mkl\n"
        "b -> numpy[version='<1.25'] -> blas==1.0=openblas\n")
    text = render_text(error_panel(exc, "solve"))
    assert "UnsatisfiableError in 6. SAT solve" in text
    assert "Traceback" not in text
    assert "conflict on blas" in text and "blas==1.0=mkl" in text
