"""The course's exercises: every check accepts the right answer and rejects a wrong one.

The right answer is computed the way each exercise's solution computes it (``Exercise.solution``,
from the stages' real result objects, never stored); the wrong one is the exercise's own
``wrong`` example. Every notebook of the course has exercises, and every exercise's solution is
shown (collapsed) in its notebook. The Sandbox the notebooks use is checked too: placeholders,
a loopback server that stops, nothing left behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from conda_deepdive.course import exercises
from conda_deepdive.course.exercises import EXERCISES, Verdict, check, solution_markdown
from conda_deepdive.course.sandbox import Sandbox

NOTEBOOKS = Path(exercises.__file__).resolve().parent / "notebooks"
KEYS = sorted(EXERCISES)


@pytest.mark.parametrize("key", KEYS)
def test_check_accepts_the_solution_and_rejects_a_wrong_answer(key):
    ex = EXERCISES[key]
    right = ex.check(ex.solution())
    assert isinstance(right, Verdict) and right.ok, right
    wrong = ex.check(ex.wrong)
    assert not wrong.ok, wrong
    assert repr(right).startswith("✔") and repr(wrong).startswith("✘")


def test_a_placeholder_answer_and_a_malformed_answer_are_not_right():
    assert not check("01.1", ...).ok
    assert "replace the ..." in check("01.1", ...).message
    verdict = check("01.1", 42)  # not a pair: explained, never raised
    assert not verdict.ok and "could not be checked" in verdict.message


def test_every_notebook_has_exercises_and_shows_their_solutions_collapsed():
    books = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert len(books) >= 9
    for book in books:
        number = book.name[:2]
        keys = [k for k in KEYS if k.startswith(number + ".")]
        assert keys, f"{book.name} has no exercises"
        cells = json.loads(book.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
        for key in keys:
            assert f'ask("{key}")' in code and f'check("{key}"' in code, (book.name, key)
            assert solution_markdown(key) in markdown, (book.name, key)
            assert solution_markdown(key).startswith("<details>")


def test_sandbox_workspace_placeholders_and_cleanup():
    sb = Sandbox("unit")
    try:
        assert os.path.isfile(os.path.join(sb.prefix_dir, "conda-meta", "history"))
        sb.write_condarc("channel_priority: strict\n")
        context = sb.context("install", "numpy", env={"CONDA_CHANNEL_PRIORITY": "disabled"})
        assert context.channel_priority == "disabled"
        assert sb.text(context.source_of("channel_priority")) == "envvars"
        assert context.pkgs_dirs == (sb.pkgs_dir,) and context.subdir == "linux-64"
        assert sb.text(sb.context("install", "numpy").source_of("channel_priority")) == "<WORK>/condarc"
        assert sb.text(f"{sb.root}/x at 2026-12-02 23:00:01") == "<WORK>/x at <TIME>"
        url = sb.serve()
        import requests

        assert requests.get(f"{url}/pkgs/main/noarch/repodata.json", timeout=10).status_code == 200
        assert sb.text(url) == "<SERVER>"
        assert sb.requests_seen() == ['"GET /pkgs/main/noarch/repodata.json HTTP/1.1" 200 ' +
                                      str(os.path.getsize(_channels() / "pkgs/main/noarch/repodata.json"))]
    finally:
        sb.cleanup()
    assert sb.removed
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/pkgs/main/noarch/repodata.json", timeout=2)
    sb.cleanup()  # twice is fine


def test_sandbox_output_does_not_depend_on_how_long_the_temporary_folder_is(tmp_path):
    # ruamel.yaml (conda's writer) moves a value past column 80 onto its own line: a condarc
    # naming a folder under a long TMPDIR comes out folded, one under /tmp does not
    from conda_deepdive.cli.main import main

    long_tmp = tmp_path / ("long-temporary-folder-" * 3)
    long_tmp.mkdir()
    shown = []
    for tmp in (None, str(long_tmp)):
        old = tempfile.tempdir
        tempfile.tempdir = tmp
        try:
            with Sandbox("fold") as sb:
                assert main(["config", "--file", sb.condarc, "--set", "channel_alias",
                             "file://" + sb.path("anaconda", "pkgs")]) == 0
                raw = Path(sb.condarc).read_text()
                assert (raw.count("\n") == 2) == (tmp is not None), raw  # folded only there
                shown.append(sb.read(sb.condarc))
        finally:
            tempfile.tempdir = old
    assert shown[0] == shown[1] == "channel_alias: file://<WORK>/anaconda/pkgs"
    # nested mappings and lists are left as they are
    sb_text = Sandbox("nested")
    try:
        text = f"custom_channels:\n  x: file://{sb_text.root}/x\nchannels:\n  - file://{sb_text.root}/y"
        assert sb_text.text(text) == "custom_channels:\n  x: file://<WORK>/x\nchannels:\n  - file://<WORK>/y"
    finally:
        sb_text.cleanup()


def _channels() -> Path:
    from conda_deepdive.config.teaching_defaults import channels_dir

    return Path(channels_dir())


def test_a_forgotten_sandbox_is_removed_when_collected():
    import gc

    sb = Sandbox("forgotten")
    root = sb.root
    assert os.path.isdir(root)
    del sb
    gc.collect()
    assert not os.path.exists(root)


@pytest.mark.slow
@pytest.mark.parametrize("book", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_the_shown_solutions_are_right_in_their_notebook(book):
    """Run a notebook's code (all but its clean-up cell), then each exercise's solution code as
    shown in the collapsed block: the check it ends with must say it is right."""
    import contextlib
    import io

    cells = json.loads((NOTEBOOKS / book).read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    namespace: dict = {}
    verdicts: list = []
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for source in sources:
                if source.strip().startswith("sb.cleanup()"):
                    continue
                exec(compile(source, book, "exec"), namespace)
            namespace["check"] = lambda key, answer: verdicts.append((key, check(key, answer))) or verdicts[-1][1]
            keys = [k for k in KEYS if k.startswith(book[:2] + ".")]
            for key in keys:
                exec(compile(EXERCISES[key].solution_code, key, "exec"), namespace)
                assert verdicts and verdicts[-1][0] == key, f"solution {key} does not end with check({key!r}, …)"
    finally:
        if "sb" in namespace:
            namespace["sb"].cleanup()
    assert [k for k, _ in verdicts] == keys
    assert all(v.ok for _, v in verdicts), verdicts


@pytest.mark.parametrize("book", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_every_notebook_is_valid_nbformat_with_unique_cell_ids(book):
    # nbformat 4.5 wants an id on every cell (a cell without one is a warning now, an error in
    # future nbformat versions, and JupyterLab invents one on every open)
    import warnings

    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nb = nbformat.read(NOTEBOOKS / book, as_version=nbformat.NO_CONVERT)
        nbformat.validate(nb)
    ids = [c.get("id") for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids)
