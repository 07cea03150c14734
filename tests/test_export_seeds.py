"""Trace exports are byte-identical under any ``PYTHONHASHSEED``, and the SVG needs no network.

Each run is a fresh interpreter with its own hash seed, HOME, package cache and temporary
directory (so the second run finds no cache the first one filled). ``trace --json`` prints the
same bytes as ``--export x.json``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conda_deepdive.render.notebook import PINNED_VIRTUAL_PACKAGES

pytestmark = pytest.mark.slow


def _trace(tmp: Path, seed: int, export: str) -> tuple[str, bytes]:
    run = tmp / f"seed{seed}-{export}"
    (run / "home").mkdir(parents=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(run / "home"), "TMPDIR": str(run),
           "CONDA_PKGS_DIRS": str(run / "pkgs"), "PYTHONHASHSEED": str(seed), **PINNED_VIRTUAL_PACKAGES}
    target = run / f"trace.{export}"
    proc = subprocess.run([sys.executable, "-m", "conda_deepdive", "trace", "--json", "--export", str(target),
                           "install", "numpy"], env=env, cwd=run, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout, target.read_bytes()


@pytest.mark.parametrize("export", ["svg", "html"])
def test_exports_do_not_depend_on_the_hash_seed(tmp_path, export):
    printed_1, exported_1 = _trace(tmp_path, 1, export)
    printed_2, exported_2 = _trace(tmp_path, 2, export)
    assert exported_1 == exported_2
    assert printed_1 == printed_2  # trace --json: the document (and nothing else) on stdout
    assert b"TEACHING_CHANNELS" in exported_1 and str(tmp_path).encode() not in exported_1
    if export == "svg":  # made for an offline laptop: no web font
        text = exported_1.decode()
        assert "@font-face" not in text
        urls = set(re.findall(r"https?://[^\s\"')<]+", text))
        # the SVG namespace is a name, not a download; rich's credit is an XML comment
        assert urls <= {"http://www.w3.org/2000/svg", "https://www.textualize.io"}, urls
        assert "monospace" in text


def test_trace_json_prints_the_json_export(capsys, tmp_path, env):
    from conda_deepdive.cli.main import main
    from conda_deepdive.index.index import SubdirData

    SubdirData.clear_memory_cache()
    target = tmp_path / "trace.json"
    rc = main(["trace", "--json", "--export", str(target), "install", "numpy"], env={**env, "TMPDIR": str(tmp_path)})
    out = capsys.readouterr().out
    assert rc == 0
    assert out == target.read_text()
    assert json.loads(out)["schema"] == "conda-deepdive-trace"
    assert list(tmp_path.glob("conda-deepdive-trace-*")) == []
