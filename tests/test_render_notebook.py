"""The notebook helpers: stable text across machines and runs, the optional widget stepper,
and the generic fallback section for a stage without a hand-made one."""

from __future__ import annotations

import pytest

from conda_deepdive.render.notebook import PINNED_VIRTUAL_PACKAGES, Workshop, teaching_channel


def _solve_text(root) -> str:
    ws = Workshop(str(root))
    session = ws.session("install", "numpy", extra=["--dry-run"]).run(until="solve")
    return "".join(ws.render(session, name) for name in session.results) + ws.text(repr(session))


def test_render_is_identical_for_two_workshops(tmp_path):
    from conda_deepdive.index.index import SubdirData

    texts = []
    for name in ("one", "two-with-a-longer-name"):
        SubdirData.clear_memory_cache()
        texts.append(_solve_text(tmp_path / name))
    assert texts[0] == texts[1]
    assert "<WORK>/env1" in texts[0] and str(tmp_path) not in texts[0]


def test_workshop_pins_the_machine_and_uses_the_teaching_channel(tmp_path):
    ws = Workshop(str(tmp_path))
    assert {k: ws.env[k] for k in PINNED_VIRTUAL_PACKAGES} == PINNED_VIRTUAL_PACKAGES
    session = ws.session("install", "six", extra=["--dry-run"])
    session.run(until="index")
    vps = {r.name: str(r.version) for r in session.results["index"].virtual_packages}
    assert vps["__glibc"] == "2.36" and "__cuda" not in vps
    assert session.context.channels == (teaching_channel("main"),)
    assert session.context.target_prefix == str(tmp_path / "env1")
    assert (tmp_path / "env1" / "conda-meta" / "history").is_file()


def test_stepper_runs_one_stage_per_click(tmp_path, capsys):
    pytest.importorskip("ipywidgets")
    ws = Workshop(str(tmp_path))
    session = ws.session("install", "six", extra=["--dry-run"])
    box = ws.stepper(session)
    button = box.children[0]
    assert button.description == "run parse"
    button.click()
    button.click()
    assert list(session.results) == ["parse", "context"]
    assert button.description == "run index"


def test_stage_without_a_hand_made_section_falls_back_to_its_summary(tmp_path, monkeypatch):
    from conda_deepdive.render import sections

    ws = Workshop(str(tmp_path))
    session = ws.session("install", "six", extra=["--dry-run"]).run(until="priority")
    monkeypatch.delattr(sections, "section_priority")
    text = ws.render(session, "priority")
    assert "4. Channel priority" in text
    assert "mode" in text and "flexible" in text and "ranks" in text


def test_render_accepts_result_objects_and_renderables(tmp_path):
    from rich.text import Text

    ws = Workshop(str(tmp_path))
    session = ws.session("install", "six", extra=["--dry-run"]).run(until="specs")
    assert ws.render(Text("hello [b]x[/b]")) == "hello [b]x[/b]\n"
    specs_text = ws.render(session.results["specs"])  # no renderable: its summary() as a table/tree
    assert "freeze_installed" in specs_text and str(tmp_path) not in specs_text


def test_refresh_outputs_stores_streams_and_refuses_a_failing_notebook(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("jupyter_client")
    from conda_deepdive.render.notebook import refresh_outputs

    good = tmp_path / "good.ipynb"
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell("# hi"),
                  nbformat.v4.new_code_cell("print('a')\nprint('b')"),
                  nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(book, good)
    assert refresh_outputs(str(good)) == 2
    stored = nbformat.read(good, as_version=4)
    first, second = stored.cells[1], stored.cells[2]
    assert [o["text"] for o in first.outputs] == ["a\nb\n"]  # one coalesced stream
    assert second.outputs[0]["data"]["text/plain"] == "2" and second.execution_count == 2

    bad = tmp_path / "bad.ipynb"
    book.cells = [nbformat.v4.new_code_cell("raise ValueError('boom')")]
    nbformat.write(book, bad)
    before = bad.read_bytes()
    with pytest.raises(RuntimeError, match="ValueError: boom"):
        refresh_outputs(str(bad))
    assert bad.read_bytes() == before
