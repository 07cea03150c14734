"""The teaching data is package data, found through ``importlib.resources`` by one accessor.

Fast checks (``tests/test_wheel.py`` builds the real wheel): every reader of the teaching
channels uses :func:`conda_deepdive.config.teaching_defaults.channels_dir`, the data lives inside
the package, pyproject's package-data globs cover every file of it and the course notebooks,
and ``python -m conda_deepdive.teaching`` (named by an error hint) runs.
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tomllib
from importlib import resources

from conftest import PROJECT_ROOT

from conda_deepdive.config.teaching_defaults import channels_dir, data_dir, recipes_dir

PACKAGE = PROJECT_ROOT / "conda_deepdive"


def test_one_accessor_inside_the_package():
    assert data_dir() == resources.files("conda_deepdive") / "data"
    assert channels_dir() == data_dir() / "channels" and recipes_dir() == data_dir() / "recipes"
    assert (channels_dir() / "pkgs" / "main" / "noarch" / "repodata.json").is_file()
    from conda_deepdive.teaching import build, serve

    assert build.CHANNELS_DIR == channels_dir() and build.RECIPES_DIR == recipes_dir()
    assert serve.DEFAULT_DIRECTORY == channels_dir()
    assert not (PROJECT_ROOT / "data").exists(), "the teaching data moved to conda_deepdive/data"


def _covered(rel: str, patterns: list[str]) -> bool:
    # setuptools' package-data globs: "**" spans directories
    return any(fnmatch.fnmatch(rel, p.replace("**/", "*")) or fnmatch.fnmatch(rel, p) for p in patterns)


def test_package_data_globs_cover_the_data_and_the_notebooks():
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["conda_deepdive"]
    files = [p for p in (PACKAGE / "data").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += list((PACKAGE / "course" / "notebooks").glob("*.ipynb"))
    assert files
    missing = [str(p) for p in files if not _covered(p.relative_to(PACKAGE).as_posix(), patterns)]
    assert not missing, missing[:5]


def test_python_m_conda_deepdive_teaching_runs():
    proc = subprocess.run([sys.executable, "-m", "conda_deepdive.teaching", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "teaching channels" in proc.stdout
