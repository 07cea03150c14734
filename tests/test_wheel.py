"""The wheel carries everything the package reads at run time, and nothing else.

``pip install .`` (not ``-e``) must give a working ``conda-deepdive``: the teaching channels and
their recipes (``conda_deepdive/data``) and the course notebooks are package data, found through
``importlib.resources`` (:mod:`conda_deepdive.config.teaching_defaults`). We build the wheel from
a copy of the source tree (so no ``build/`` staging directory of the checkout leaks in), look
inside it, and run ``trace install numpy`` from the unpacked wheel in a directory outside the
checkout. ``.ci/run`` does the same with a real ``pip install`` into a fresh virtualenv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow

PACKAGE = PROJECT_ROOT / "conda_deepdive"
CACHE_NAMES = {"__pycache__", ".ipynb_checkpoints"}
MAX_WHEEL_BYTES = 2 * 1024 * 1024  # the teaching channels are ~1 MB; the code a few hundred kB


def _copy_source(dest: Path) -> None:
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", dest / "pyproject.toml")
    shutil.copy2(PROJECT_ROOT / "README.md", dest / "README.md")
    shutil.copytree(PACKAGE, dest / "conda_deepdive",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("dist")
    _copy_source(src)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        if "No matching distribution" in proc.stderr or "Could not find a version" in proc.stderr:
            pytest.skip("pip cannot get the build backend (setuptools) without a network: "
                        + proc.stderr.strip().splitlines()[-1])
        raise AssertionError(f"pip wheel failed:\n{proc.stdout}\n{proc.stderr}")
    (path,) = out.glob("conda_deepdive-*.whl")
    return path


def _data_files() -> set[str]:
    """Every file under conda_deepdive/data (relative to the project root), caches left out."""
    return {p.relative_to(PROJECT_ROOT).as_posix() for p in (PACKAGE / "data").rglob("*")
            if p.is_file() and not CACHE_NAMES & set(p.relative_to(PACKAGE).parts) and p.suffix != ".pyc"}


def test_wheel_carries_the_package_data_and_stays_small(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        unpacked = sum(i.file_size for i in zf.infolist())
    missing = _data_files() - names
    assert not missing, f"package data missing from the wheel: {sorted(missing)[:5]}"
    notebooks = {p.relative_to(PROJECT_ROOT).as_posix() for p in (PACKAGE / "course" / "notebooks").glob("*.ipynb")}
    assert notebooks <= names, f"course notebooks missing: {sorted(notebooks - names)}"
    assert "conda_deepdive/config/teaching_defaults.py" in names
    assert "conda_deepdive/teaching/__main__.py" in names
    stray = sorted(n for n in names if n.startswith(("tests/", "benchmarks/", "notebooks/", "docs/"))
                   or "__pycache__" in n or n.endswith(".pyc") or ".ipynb_checkpoints" in n)
    assert not stray, f"the wheel carries files it should not: {stray[:5]}"
    assert wheel.stat().st_size < MAX_WHEEL_BYTES, f"wheel is {wheel.stat().st_size} bytes"
    assert unpacked < 4 * MAX_WHEEL_BYTES, f"wheel unpacks to {unpacked} bytes"


def test_unpacked_wheel_traces_outside_the_checkout(wheel, tmp_path, env):
    """The wheel's own copy of the package (not this checkout) runs a whole trace from /tmp."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    run_env = {**env, "PYTHONPATH": str(site), "TMPDIR": str(tmp_path), "COLUMNS": "200"}
    where = subprocess.run([sys.executable, "-c", "import conda_deepdive.config.teaching_defaults as t; "
                            "print(t.__file__); print(t.channels_dir())"],
                           cwd=cwd, env=run_env, capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    module_file, channels = where.stdout.splitlines()
    assert module_file.startswith(str(site)), f"imported {module_file}, not the wheel's copy"
    assert channels == str(site / "conda_deepdive" / "data" / "channels")
    proc = subprocess.run([sys.executable, "-m", "conda_deepdive", "trace", "install", "numpy"],
                          cwd=cwd, env=run_env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "UnavailableInvalidChannel" not in proc.stdout
    # nothing is left in the user's conda registry, in the temp dir, or in the working directory
    assert not (Path(env["HOME"]) / ".conda").exists()
    assert list(tmp_path.glob("conda-deepdive-trace-*")) == []
    assert os.listdir(cwd) == []
