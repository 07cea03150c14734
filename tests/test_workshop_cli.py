"""``conda-deepdive workshop DIR``: copy the course (never touching the installed files), keep
what a student edited, start JupyterLab in DIR."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conda_deepdive.cli.main import main
from conda_deepdive.cli.main_workshop import MANIFEST, copy_course, course_directory, lab_command


def _digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def fake_course(tmp_path):
    src = tmp_path / "course"
    src.mkdir()
    (src / "01-a.ipynb").write_text('{"cells": []}')
    (src / "02-b.ipynb").write_text('{"cells": [1]}')
    (src / ".ipynb_checkpoints").mkdir()
    (src / ".ipynb_checkpoints" / "01-a-checkpoint.ipynb").write_text("{}")
    return src


def test_copy_update_and_refuse_edited(fake_course, tmp_path):
    from conda_deepdive.exceptions import CondaValueError

    dst = tmp_path / "room"
    before = _digest(fake_course)
    report = copy_course(fake_course, dst)
    assert report["copied"] == ["01-a.ipynb", "02-b.ipynb"]
    assert not (dst / ".ipynb_checkpoints").exists() and (dst / MANIFEST).is_file()
    assert copy_course(fake_course, dst)["same"] == ["01-a.ipynb", "02-b.ipynb"]
    # a new course version replaces an untouched copy
    (fake_course / "02-b.ipynb").write_text('{"cells": [2]}')
    assert copy_course(fake_course, dst)["updated"] == ["02-b.ipynb"]
    # a student's edit is kept, loudly, until --force
    (dst / "01-a.ipynb").write_text('{"cells": ["mine"]}')
    (fake_course / "01-a.ipynb").write_text('{"cells": ["new"]}')
    with pytest.raises(CondaValueError, match="edited file.*01-a.ipynb.*--force"):
        copy_course(fake_course, dst)
    assert (dst / "01-a.ipynb").read_text() == '{"cells": ["mine"]}'
    assert copy_course(fake_course, dst, force=True)["updated"] == ["01-a.ipynb"]
    assert (dst / "01-a.ipynb").read_text() == '{"cells": ["new"]}'
    assert _digest(fake_course) != before  # (we edited the fake course ourselves above)


def test_cli_copy_only_never_edits_the_installed_course(tmp_path, capsys):
    source = course_directory()
    if not any(source.glob("*.ipynb")):
        pytest.skip(f"no course notebooks in {source} yet")
    before = _digest(source)
    assert main(["workshop", str(tmp_path / "room"), "--copy-only"]) == 0
    out = capsys.readouterr().out
    assert "notebooks in" in out and "jupyter lab" in out
    copied = sorted(p.name for p in (tmp_path / "room").glob("*.ipynb"))
    assert copied == sorted(p.name for p in source.glob("*.ipynb"))
    assert _digest(source) == before
    for nb in (tmp_path / "room").glob("*.ipynb"):
        assert os.access(nb, os.W_OK)
        json.loads(nb.read_text())
    (tmp_path / "room" / copied[0]).write_text("{}")
    assert main(["workshop", str(tmp_path / "room"), "--copy-only"]) == 1
    assert "edited" in capsys.readouterr().err


def test_a_file_in_the_way_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "x").write_text("")
    assert main(["workshop", str(tmp_path / "x"), "--copy-only"]) == 1
    assert "is a file" in capsys.readouterr().err


def test_lab_command_passes_the_options_through(tmp_path):
    cmd = lab_command(tmp_path, port=8899, no_browser=True, extra=["--ip=0.0.0.0"])
    assert cmd[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={tmp_path}" in cmd and "--no-browser" in cmd
    assert "--port=8899" in cmd and cmd[-1] == "--ip=0.0.0.0"


@pytest.mark.slow
def test_workshop_starts_jupyterlab_in_the_folder(tmp_path):
    pytest.importorskip("jupyterlab")
    if not any(course_directory().glob("*.ipynb")):
        pytest.skip("no course notebooks yet")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(8)
    room = tmp_path / "room"
    extra = [f"--lab-arg=--IdentityProvider.token={token}", "--lab-arg=--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        extra.append("--lab-arg=--allow-root")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    proc = subprocess.Popen([sys.executable, "-m", "conda_deepdive", "workshop", str(room), "--no-browser",
                             f"--port={port}", *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}",
                                            timeout=2) as r:
                    listing = json.load(r)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
                time.sleep(0.3)
        names = {item["name"] for item in listing["content"]}
        assert {p.name for p in course_directory().glob("*.ipynb")} <= names
    finally:
        # the command execs JupyterLab, so this is the server; its kernels are its children
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
    # nothing of the session is left running
    if shutil.which("pgrep"):
        assert subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True).stdout == b""
