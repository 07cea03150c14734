"""A real JupyterLab and Debian's Chromium, driven by Playwright (tests/browser/).

The fixtures start ``jupyter lab`` on a free loopback port in a temporary folder holding a copy
of the course notebooks, and launch ``/usr/bin/chromium`` through Playwright's Python API
(Playwright cannot download its own browsers here, so ``executable_path`` points at Debian's).
Everything skips, saying why, when chromium or playwright is missing (``.ci/run`` installs both).
Screenshots go to ``$CONDA_DEEPDIVE_ARTIFACTS/browser`` (default: ``<tmp>/conda-deepdive-artifacts``),
never into the checkout.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CONDA_DEEPDIVE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
NOTEBOOKS = Path(__file__).resolve().parents[2] / "conda_deepdive" / "course" / "notebooks"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (outside the checkout)."""
    base = Path(os.environ.get("CONDA_DEEPDIVE_ARTIFACTS")
                or Path(tempfile.gettempdir()) / "conda-deepdive-artifacts")
    out = base / "browser"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright; .ci/run does)")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        pytest.skip("jupyterlab is not installed (pip install 'conda-deepdive[notebook]')")
    return CHROMIUM


@pytest.fixture(scope="session")
def lab(chromium_path, tmp_path_factory):
    """``(base_url, token, root)`` of a JupyterLab serving a temporary copy of the notebooks."""
    root = tmp_path_factory.mktemp("lab")
    work = root / "course"
    if NOTEBOOKS.is_dir():
        shutil.copytree(NOTEBOOKS, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    else:
        work.mkdir()
    token = secrets.token_hex(16)
    port = _free_port()
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(root / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(root / "jupyter-runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / "lab-workspaces"),
           "JUPYTERLAB_SETTINGS_DIR": str(root / "lab-settings"),
           "TMPDIR": str(root / "tmp"),  # the notebooks' sandboxes land in pytest's tmp
           "PYTHONUNBUFFERED": "1"}
    (root / "tmp").mkdir()
    settings = root / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # no "would you like news?" pop-up over the notebook (and no request for it)
    (settings / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    # every cell in the page (no virtual scrolling), so the test can find and screenshot them all
    notebook_settings = root / "lab-settings" / "@jupyterlab" / "notebook-extension"
    notebook_settings.mkdir(parents=True)
    (notebook_settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    log = open(root / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
         "--ServerApp.port_retries=0", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text()[-3000:])
        time.sleep(0.3)
    try:
        yield base, token, work
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()
