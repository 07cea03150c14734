"""The course in a real browser: every notebook run in JupyterLab, the explorer clicked through.

For each notebook of ``conda_deepdive/course/notebooks/`` (plus a small explorer notebook this
test writes, so the widget is always exercised): open it in JupyterLab 4 in Chromium, run all
cells, wait for the kernel, then check that no cell shows an error, that every widget is live
(no "Error displaying widget"), and click through every StageExplorer: Next until stage 9, the
fault picker (a failure injected before link, rolled back), Back. A screenshot of each notebook
is saved (see the ``artifacts`` fixture).
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "conda_deepdive" / "course" / "notebooks"

pytestmark = pytest.mark.slow

VIEWPORT = {"width": 1024, "height": 768}

SMOKE_CELLS = [
    "from conda_deepdive.course.sandbox import Sandbox\n"
    "from conda_deepdive.course.explorer import StageExplorer\n"
    "from conda_deepdive.course.display import show\n"
    "sb = Sandbox('browser-smoke')",
    "ex = StageExplorer(['install', 'numpy'], sb)\nex",
    "show(ex.session, 'parse')",
]


def _smoke_notebook(folder: Path) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Explorer smoke test"}]
    cells += [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": src}
              for src in SMOKE_CELLS]
    book = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}
    path = folder / "zz-explorer-smoke.ipynb"
    path.write_text(json.dumps(book), encoding="utf-8")
    return path


def _notebook_names() -> list[str]:
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) if NOTEBOOKS.is_dir() else []
    return [*names, "zz-explorer-smoke.ipynb"]


@pytest.fixture(scope="module")
def lab_context(browser):
    """One browser context for all notebooks: JupyterLab's assets load once."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context
    finally:
        context.close()


def _shut_down_kernels(base: str, token: str) -> None:
    """A finished notebook's kernel goes (ten idle kernels would slow the next notebooks)."""
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=5) as r:
        sessions = json.load(r)
    for session in sessions:
        request = urllib.request.Request(f"{base}/api/sessions/{session['id']}?token={token}",
                                         method="DELETE")
        urllib.request.urlopen(request, timeout=10).close()


def _kernels_idle(base: str, token: str) -> bool:
    with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=5) as r:
        kernels = json.load(r)
    return bool(kernels) and all(k.get("execution_state") == "idle" for k in kernels)


def _run_cleanup(page, cell, timeout: float = 60.0) -> None:
    """Run the clean-up cell (and any after it) and wait until it has its execution count."""
    cell.locator(".jp-InputPrompt").first.click()
    page.keyboard.press("Escape")
    page.locator('.lm-MenuBar-itemLabel:text-is("Run")').click()
    below = page.locator('.lm-Menu-item:has(.lm-Menu-itemLabel:text-is("Run Selected Cell and All Below"))')
    if below.count() and "lm-mod-disabled" not in (below.get_attribute("class") or ""):
        below.click()
    else:  # the last cell: JupyterLab disables "and All Below" (and would add a cell on advance)
        page.locator('.lm-Menu-itemLabel:text-is("Run Selected Cell and Do not Advance")').click()
    deadline = time.monotonic() + timeout
    while not any(ch.isdigit() for ch in cell.locator(".jp-InputPrompt").first.inner_text()):
        assert time.monotonic() < deadline, "the clean-up cell did not run"
        time.sleep(0.3)


def _wait_for_run(page, base: str, token: str, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        busy = page.locator(".jp-InputPrompt", has_text="[*]").count()
        if busy == 0 and _kernels_idle(base, token):
            quiet += 1
            if quiet >= 2:
                return
        else:
            quiet = 0
        time.sleep(0.5)
    raise AssertionError("the notebook did not finish running in time")


def _wait_for_widgets(page, expect_explorer: bool, timeout: float = 60.0) -> None:
    """Widget views render after the kernel goes idle: wait until none is still loading."""
    if expect_explorer:
        page.locator(".cdd-explorer .cdd-next").first.wait_for(timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.get_by_text("Loading widget...").count() == 0:
            break
        time.sleep(0.5)
    page.wait_for_timeout(500)


def _errors(page) -> list[str]:
    found = []
    for out in page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all():
        text = out.inner_text()
        if "Traceback" in text or "Error" in text:
            found.append(text[-1500:])
    for widget_error in page.get_by_text("Error displaying widget").all():
        found.append("widget: " + widget_error.inner_text()[:300])
    return found


def _run_menu(page, item: str, cell=None) -> None:
    """Run > ``item`` with ``cell`` (default: the first cell) selected; retried if nothing started."""
    for _attempt in range(3):
        (cell if cell is not None else page.locator(".jp-Notebook .jp-Cell").first) \
            .locator(".jp-InputPrompt").first.click()
        page.keyboard.press("Escape")
        page.locator('.lm-MenuBar-itemLabel:text-is("Run")').click()
        page.locator(f'.lm-Menu-itemLabel:text-is("{item}")').click()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            prompts = " ".join(page.locator(".jp-InputPrompt").all_inner_texts())
            if "[*]" in prompts or any(ch.isdigit() for ch in prompts):
                return
            time.sleep(0.3)
    raise AssertionError(f"{item} did not start the notebook")


_LAB: dict = {}


def _settle(page, explorer, timeout: float = 60.0) -> None:
    """Wait until the kernel has handled a click and the explorer shows the result."""
    page.wait_for_timeout(300)
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        assert time.monotonic() < deadline, "the explorer stayed busy"
        busy = explorer.locator(".cdd-status", has_text="working").count()
        quiet = quiet + 1 if not busy and _kernels_idle(*_LAB["api"]) else 0
        time.sleep(0.25)


def _click_through(page, explorer, shots: Path, stem: str) -> dict:
    """Next until link has run (the fault picker first, while link has not), then Back."""
    seen = {"next": 0, "fault": False, "back": False}
    nxt = explorer.locator(".cdd-next")
    link_chip = explorer.locator(".cdd-rail-link")
    fetch_chip = explorer.locator(".cdd-rail-fetch")
    for _ in range(20):  # nine stages, with room for a click a busy kernel let pass
        classes = link_chip.get_attribute("class") or ""
        if "cdd-done" in classes or "cdd-current" in classes:
            break
        fetch_classes = fetch_chip.get_attribute("class") or ""
        if not seen["fault"] and ("cdd-done" in fetch_classes or "cdd-current" in fetch_classes):
            explorer.locator(".lm-TabBar-tab", has_text="Fault picker").click()
            explorer.locator(".cdd-fault-go").click()
            _settle(page, explorer)
            explorer.locator(".cdd-fault-out").get_by_text("the prefix is identical to before").wait_for(timeout=60_000)
            explorer.screenshot(path=str(shots / f"{stem}-fault.png"))
            seen["fault"] = True
            explorer.locator(".lm-TabBar-tab", has_text="Stage").first.click()
        if nxt.is_disabled():
            _settle(page, explorer)  # on a loaded machine the previous stage may still be running
            if nxt.is_disabled():
                break
        nxt.click()
        seen["next"] += 1
        _settle(page, explorer)
    classes = link_chip.get_attribute("class") or ""
    assert "cdd-current" in classes or "cdd-done" in classes, f"link never ran: {classes}"
    explorer.screenshot(path=str(shots / f"{stem}-link.png"))
    explorer.locator(".cdd-back").click()
    _settle(page, explorer)
    assert "cdd-current" in (explorer.locator(".cdd-rail-fetch").get_attribute("class") or "")
    assert "cdd-done" in (link_chip.get_attribute("class") or "")
    seen["back"] = True
    explorer.locator(".lm-TabBar-tab", has_text="Dependency graph").click()
    explorer.locator("svg[aria-label='dependency graph']").wait_for(timeout=10_000)
    explorer.screenshot(path=str(shots / f"{stem}-graph.png"))
    explorer.locator(".lm-TabBar-tab", has_text="Action timeline").click()
    page.wait_for_timeout(300)
    explorer.screenshot(path=str(shots / f"{stem}-timeline.png"))
    explorer.locator(".lm-TabBar-tab", has_text="Stage").first.click()
    return seen


@pytest.mark.parametrize("name", _notebook_names())
def test_notebook_runs_in_jupyterlab(lab, lab_context, artifacts, name):
    base, token, work = lab
    _LAB["api"] = (base, token)
    if name == "zz-explorer-smoke.ipynb":
        _smoke_notebook(work)
    elif not (work / name).exists():  # a notebook added to the package after the server started
        (work / name).write_bytes((NOTEBOOKS / name).read_bytes())
    shots = artifacts
    stem = Path(name).stem
    (shots / f"{stem}-FAILED.png").unlink(missing_ok=True)
    page = lab_context.new_page()
    page.set_viewport_size(VIEWPORT)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{base}/lab/tree/{name}?token={token}&reset", wait_until="domcontentloaded")
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=90_000)
        # the file browser would take a third of a 1024-px screen: close the left sidebar
        if page.locator("#jp-left-stack:visible").count():
            page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").first.click()
            page.wait_for_timeout(500)
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=90_000)
        # a notebook ends by removing its sandbox: run everything before that cell, click the
        # explorers (as a student would), then run the clean-up
        cleanup = page.locator(".jp-Notebook .jp-CodeCell", has_text="cleanup()")
        cleanup = cleanup.last if cleanup.count() else None
        if cleanup is not None and page.locator(".jp-Notebook .jp-CodeCell").first.inner_text() != cleanup.inner_text():
            _run_menu(page, "Run All Above Selected Cell", cleanup)
        else:
            cleanup = None
            _run_menu(page, "Run All Cells")
        page.wait_for_timeout(1000)
        _wait_for_run(page, base, token)
        _wait_for_widgets(page, expect_explorer=name == "zz-explorer-smoke.ipynb")
        assert not _errors(page), _errors(page)
        explorers = page.locator(".cdd-explorer")
        clicked = []
        for i in range(explorers.count()):
            explorer = explorers.nth(i)
            explorer.scroll_into_view_if_needed()
            if explorer.locator(".cdd-next").count() and not explorer.locator(".cdd-next").is_disabled():
                clicked.append(_click_through(page, explorer, shots, f"{stem}-explorer{i + 1}"))
        if name == "zz-explorer-smoke.ipynb":
            assert clicked and clicked[0]["fault"] and clicked[0]["back"], clicked
        if cleanup is not None:
            _run_cleanup(page, cleanup)
            _wait_for_run(page, base, token)
        assert not _errors(page), _errors(page)
        widgets = page.locator(".jupyter-widgets").count()
        loading = page.get_by_text("Loading widget...").count()
        assert loading == 0, f"{loading} widgets never rendered"
        page.evaluate("() => document.querySelectorAll('.jp-WindowedPanel-outer, .jp-NotebookPanel-notebook')"
                      ".forEach(e => { e.scrollTop = 0; })")
        page.wait_for_timeout(300)
        page.screenshot(path=str(shots / f"{stem}.png"))
        # and the whole notebook in one picture, still 1024 px wide
        height = page.evaluate("() => Math.max(...[...document.querySelectorAll('.jp-WindowedPanel-outer,"
                               " .jp-Notebook')].map(e => e.scrollHeight))")
        page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height) + 200, 16000)})
        page.evaluate("() => document.querySelectorAll('.jp-WindowedPanel-outer, .jp-NotebookPanel-notebook')"
                      ".forEach(e => { e.scrollTop = 0; })")
        page.wait_for_timeout(800)
        page.screenshot(path=str(shots / f"{stem}-full.png"))
        print(f"{name}: {widgets} widget elements, {len(clicked)} explorer(s) clicked, "
              f"screenshots in {shots}")
    except BaseException:
        page.screenshot(path=str(shots / f"{stem}-FAILED.png"))
        raise
    finally:
        page.close()
        _shut_down_kernels(base, token)


def test_explorer_in_notebook7(lab, lab_context, artifacts):
    """The same explorer in Jupyter Notebook 7's interface (``/notebooks/...``), when installed."""
    pytest.importorskip("notebook", reason="Jupyter Notebook 7 is not installed (pip install notebook)")
    import notebook

    if int(notebook.__version__.split(".")[0]) < 7:
        pytest.skip(f"notebook {notebook.__version__} is not Notebook 7")
    base, token, work = lab
    _LAB["api"] = (base, token)
    name = "zz-notebook7-smoke.ipynb"
    _smoke_notebook(work).rename(work / name)
    page = lab_context.new_page()
    page.set_viewport_size(VIEWPORT)
    try:
        page.goto(f"{base}/notebooks/{name}?token={token}", wait_until="domcontentloaded")
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=90_000)
        assert "/notebooks/" in page.url and page.locator("#jp-top-panel, .jp-NotebookPanel").count()
        deadline = time.monotonic() + 60
        while not _kernels_idle(base, token):
            assert time.monotonic() < deadline, "the kernel did not start"
            time.sleep(0.5)
        _run_menu(page, "Run All Cells")
        _wait_for_run(page, base, token)
        _wait_for_widgets(page, expect_explorer=True)
        assert not _errors(page), _errors(page)
        explorer = page.locator(".cdd-explorer").first
        seen = _click_through(page, explorer, artifacts, "notebook7-explorer")
        assert seen["fault"] and seen["back"] and seen["next"] >= 9, seen
        assert not _errors(page), _errors(page)
        page.screenshot(path=str(artifacts / "notebook7.png"))
    except BaseException:
        page.screenshot(path=str(artifacts / "notebook7-FAILED.png"))
        raise
    finally:
        page.close()
        _shut_down_kernels(base, token)
