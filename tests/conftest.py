"""Shared fixtures. Real-conda reference data lives in ``../shared`` beside the project root;
tests that need it skip with a clear reason when it is absent (it is never copied in here)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
TEACHING_CHANNELS = PROJECT_ROOT / "conda_deepdive" / "data" / "channels"


def shared_path(*parts: str) -> Path:
    """Path under ``../shared``; skips the calling test when it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is absent: real-conda reference data not available")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return shared_path()


def load_fidelity(name: str) -> dict:
    return json.loads(shared_path("fidelity", name).read_text())


@pytest.fixture
def env(tmp_path):
    """A clean environment for one command line on the teaching channel: its own HOME (no user
    condarc) and package cache, a linux-64 machine with fixed virtual packages."""
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "CONDA_PKGS_DIRS": str(tmp_path / "pkgs"),
        "CONDA_OVERRIDE_GLIBC": "2.28",
        "CONDA_OVERRIDE_LINUX": "5.15",
        "CONDA_OVERRIDE_ARCHSPEC": "x86_64",
        "CONDA_OVERRIDE_CUDA": "",
        "CONDA_SUBDIR": "linux-64",
    }


@pytest.fixture(scope="session", autouse=True)
def _real_conda_registry_untouched():
    """No test may write the *real* ``~/.conda/environments.txt`` (the file the user's conda
    reads): every test that creates an environment passes its own HOME. Fails the session if
    the file changed while the tests ran."""
    path = Path(os.path.expanduser("~")) / ".conda" / "environments.txt"
    before = path.read_bytes() if path.exists() else None
    yield
    after = path.read_bytes() if path.exists() else None
    assert after == before, f"the tests changed the real {path}: give them a temporary HOME"
