"""The teaching packages really run: install python + numpy (and friends) by hand and use them.

"By hand" means what conda's link stage does, spelled out: unpack the archive, write every
path of ``info/paths.json``, rewrite the prefix placeholder (text: plain replacement; binary:
replacement padded with NUL bytes to the same length), recreate symlinks, move noarch python
files into ``lib/pythonX.Y/site-packages`` and write entry points. No conda_deepdive stage is
used, so these tests check the *packages*, not the linker.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conda_deepdive.teaching.archive import read_archive
from conda_deepdive.teaching.build import CHANNELS_DIR

MAIN = CHANNELS_DIR / "pkgs" / "main"
PY = "3.11"

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or not (shutil.which(f"python{PY}") or shutil.which("python3")),
    reason="the mini python needs Linux and a host python3")


def find(subdir: str, name: str, version: str, contains: str = "", ext: str = ".tar.bz2",
         depends: str | None = None) -> Path:
    rd = json.loads((MAIN / subdir / "repodata.json").read_text())
    section = rd["packages.conda" if ext == ".conda" else "packages"]
    (fn,) = [fn for fn, r in section.items()
             if r["name"] == name and r["version"] == version and contains in r["build"]
             and (depends is None or depends in r["depends"])]
    return MAIN / subdir / fn


def link_by_hand(archive: Path, prefix: Path, site_packages: str | None = None) -> list[str]:
    """Link one package into ``prefix``; returns the entry points of a noarch python package."""
    members = read_archive(archive)
    paths = json.loads(members["info/paths.json"].data)["paths"]
    index = json.loads(members["info/index.json"].data)
    for entry in paths:
        src = entry["_path"]
        dest_rel = src
        if index.get("noarch") == "python":
            dest_rel = (src.replace("site-packages/", f"{site_packages}/", 1) if src.startswith("site-packages/")
                        else src.replace("python-scripts/", "bin/", 1))
        dest = prefix / dest_rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        member = members[src]
        if entry["path_type"] == "softlink":
            os.symlink(member.linkname, dest)
            continue
        data = member.data
        placeholder = entry.get("prefix_placeholder")
        if placeholder and entry["file_mode"] == "text":
            data = data.replace(placeholder.encode(), str(prefix).encode())
        elif placeholder:
            new = str(prefix).encode()
            assert len(new) < len(placeholder)
            data = data.replace(placeholder.encode(), new + b"\0" * (len(placeholder) - len(new)))
            assert len(data) == len(member.data)
        dest.write_bytes(data)
        os.chmod(dest, member.mode & 0o777)
    if "info/link.json" in members:
        return json.loads(members["info/link.json"].data)["noarch"].get("entry_points", [])
    return []


def write_entry_point(prefix: Path, spec: str) -> Path:
    name, _, target = (s.strip() for s in spec.partition("="))
    module, _, func = target.partition(":")
    script = prefix / "bin" / name
    script.write_text(f"#!{prefix}/bin/python{PY}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n\n"
                      f"from {module} import {func}\n\nif __name__ == '__main__':\n"
                      f"    sys.argv[0] = re.sub(r'(-script\\.pyw?|\\.exe)?$', '', sys.argv[0])\n"
                      f"    sys.exit({func}())\n")
    script.chmod(0o755)
    return script


def run(*argv, **kw) -> str:
    return subprocess.run([str(a) for a in argv], check=True, capture_output=True, text=True,
                          timeout=60, **kw).stdout


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    prefix = tmp_path_factory.mktemp("teaching-env") / "env"
    prefix.mkdir()
    link_by_hand(find("linux-64", "python", "3.11.9"), prefix)
    link_by_hand(find("linux-64", "numpy", "2.1.3", "py311", ext=".conda", depends="blas 1.0 openblas"), prefix)
    return prefix


def test_python_runs_and_imports_numpy(prefix):
    out = run(prefix / "bin" / "python", "-c", "import numpy; print(numpy.__version__)")
    assert out.strip() == "2.1.3"
    assert os.readlink(prefix / "bin" / "python") == f"python{PY}"


def test_numpy_reports_its_blas_and_the_f2py_shebang_was_rewritten(prefix):
    out = run(prefix / "bin" / "python3", "-c", "import numpy; numpy.show_config()")
    assert "numpy 2.1.3" in out and "blas: openblas" in out
    f2py = prefix / "bin" / "f2py"
    assert f2py.read_text().startswith(f"#!{prefix}/bin/python{PY}\n")
    assert "numpy 2.1.3" in run(f2py)


def test_text_placeholder_is_gone_after_linking(prefix):
    script = (prefix / "bin" / f"python{PY}").read_text()
    assert "_placehold" not in script and f'CONDA_DEEPDIVE_PREFIX="{prefix}"' in script


def test_noarch_python_entry_points_and_pyc_compilation(prefix):
    site = f"lib/python{PY}/site-packages"
    entry_points = []
    for name, version in (("pip", "24.2"), ("setuptools", "72.1.0"), ("wheel", "0.43.0")):
        entry_points += link_by_hand(find("noarch", name, version), prefix, site)
    assert "pip = pip._internal.cli.main:main" in entry_points
    scripts = [write_entry_point(prefix, ep) for ep in entry_points]
    pip = next(s for s in scripts if s.name == "pip")
    out = run(pip, "--version")
    assert out.startswith("pip 24.2 from ") and f"{prefix}/{site}/pip" in out
    listing = run(pip, "list")
    assert "numpy      2.1.3" in listing and "wheel      0.43.0" in listing
    # conda compiles noarch .py files with the environment's own python
    run(prefix / "bin" / f"python{PY}", "-Wi", "-m", "compileall", "-q", "-l", site + "/pip", cwd=prefix)
    host = run(prefix / "bin" / "python", "-c", "import sys; print(sys.implementation.cache_tag)").strip()
    assert (prefix / site / "pip" / "__pycache__" / f"__init__.{host}.pyc").is_file()


def test_binary_placeholder_is_replaced_with_nul_padding(tmp_path):
    prefix = tmp_path / "env"
    prefix.mkdir()
    link_by_hand(find("linux-64", "whereami", "1.0"), prefix)
    assert run(prefix / "bin" / "whereami").strip() == f"whereami: installed in {prefix}"
    assert (prefix / "etc/whereami/whereami.conf").read_text().endswith(f"prefix = {prefix}\n")
    assert os.readlink(prefix / "share/whereami/NEWS.txt") == "NEWS-1.0.txt"


def test_link_scripts_write_their_markers(tmp_path):
    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    archive = find("noarch", "linkscripts-demo", "1.0")
    members = read_archive(archive)
    env = {**os.environ, "PREFIX": str(prefix), "PKG_NAME": "linkscripts-demo", "PKG_VERSION": "1.0",
           "PKG_BUILDNUM": "0"}
    (prefix / "pre.sh").write_bytes(members["bin/.linkscripts-demo-pre-link.sh"].data)
    run("bash", prefix / "pre.sh", env=env)
    link_by_hand(archive, prefix)
    run("bash", prefix / "bin/.linkscripts-demo-post-link.sh", env=env)
    var = prefix / "var/linkscripts-demo"
    assert (var / "pre-link.txt").read_text() == "pre-link linkscripts-demo 1.0 (files linked: no)\n"
    assert (var / "post-link.txt").read_text() == "post-link linkscripts-demo 1.0 build 0 (files linked: yes)\n"
    assert "post-link script" in (prefix / ".messages.txt").read_text()


def test_mini_python_without_a_host_interpreter_says_so(prefix, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    proc = subprocess.run([f"{prefix}/bin/python{PY}", "-c", "pass"], capture_output=True, text=True,
                          env={"PATH": str(empty)}, timeout=30)
    assert proc.returncode == 127 and "no python3.11 or python3 on PATH" in proc.stderr
