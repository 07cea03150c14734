"""Two real processes change one prefix at once: the second waits (saying so), then works on
what the first left — records and files always agree (issue 12: the concurrency test).

Ten rounds of ``install pa=X`` against ``install pa=Y`` on one environment. In the first five
rounds process A pauses mid-transaction (``CONDA_DEEPDIVE_PAUSE_AT``) and B is started while A
holds the lock, so B must wait; in the last five both start together and race for the lock.
After every round: both exit 0, exactly one record per name, every recorded file present, no
file that no record owns, no ``.c~`` left behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinychan import Pkg, build_channel, channel_args, cli_env

ROUNDS = 10
WAIT = 120  # seconds: the bound on every process and every wait in this module


def _cli(*args):
    return [sys.executable, "-m", "conda_deepdive", *args]


def check_prefix_consistent(prefix: Path) -> dict:
    """Records and files agree; returns {name: version}."""
    meta = prefix / "conda-meta"
    names, owned = {}, set()
    for rec_path in sorted(meta.glob("*.json")):
        rec = json.loads(rec_path.read_text())
        assert rec["name"] not in names, f"two records for {rec['name']}: {sorted(meta.glob('*.json'))}"
        names[rec["name"]] = rec["version"]
        for f in rec["files"]:
            assert (prefix / f).exists(), f"{rec_path.name} lists {f}, which is missing"
            owned.add(f)
    on_disk = {str(p.relative_to(prefix)) for p in prefix.rglob("*")
               if p.is_file() and p.relative_to(prefix).parts[0] != "conda-meta"}
    assert on_disk - owned == set(), f"orphaned files: {sorted(on_disk - owned)}"
    assert not [p for p in prefix.rglob("*.c~")], "a .c~ file was left behind"
    return names


@pytest.fixture(scope="module")
def lock_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("lock")
    url = build_channel(base / "chan", [
        Pkg("pa", v, files={f"share/pa/only-{v}.txt": v, "share/pa/common.txt": v, "bin/pa-tool": v})
        for v in ("1", "2", "3")])
    env = cli_env(base)
    prefix = base / "env"
    done = subprocess.run(_cli("create", "-y", "-p", str(prefix), "pa=1", *channel_args(url)), env=env,
                          capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0, done.stdout + done.stderr
    return base, url, env, prefix


def _wait_for(path: Path, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + WAIT
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"process A ended before pausing: {err}")
        assert time.monotonic() < deadline, "process A never reached its pause"
        time.sleep(0.02)


@pytest.mark.slow
def test_two_processes_on_one_prefix_ten_rounds(lock_env, capsys):
    from conda_deepdive.transaction.prefix_lock import LOCK_SUFFIX

    base, url, env, prefix = lock_env
    versions = ("1", "2", "3")
    current = check_prefix_consistent(prefix)["pa"]
    waited = 0
    for rnd in range(ROUNDS):
        a_ver = versions[(versions.index(current) + 1) % 3]
        b_ver = versions[(versions.index(current) + 2) % 3]
        marker = base / f"paused-{rnd}"
        paused = rnd < ROUNDS // 2
        env_a = dict(env, CONDA_DEEPDIVE_PAUSE_AT="2", CONDA_DEEPDIVE_PAUSE_MARKER=str(marker),
                     CONDA_DEEPDIVE_PAUSE_SECONDS="1") if paused else env
        a = subprocess.Popen(_cli("install", "-y", "-p", str(prefix), f"pa={a_ver}", *channel_args(url)),
                             env=env_a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if paused:
            _wait_for(marker, a)
        b = subprocess.Popen(_cli("install", "-y", "-p", str(prefix), f"pa={b_ver}", *channel_args(url)),
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out_a, err_a = a.communicate(timeout=WAIT)
        out_b, err_b = b.communicate(timeout=WAIT)
        assert a.returncode == 0, err_a
        assert b.returncode == 0, err_b
        waiting = [line for line in (err_a + err_b).splitlines() if line.startswith("Waiting for another")]
        if paused:
            # B started while A held the lock: it waited, said so in one line, then solved
            # against A's result and replaced pa=A with pa=B
            assert len(waiting) == 1 and str(prefix) in waiting[0] and waiting[0] in err_b
            assert f"{a_ver}-0 --> {b_ver}-0" in out_b, "B's plan must start from the state A left"
        waited += bool(waiting)
        names = check_prefix_consistent(prefix)
        assert names["pa"] in (a_ver, b_ver)
        if paused:
            assert names["pa"] == b_ver
        current = names["pa"]
    # the (empty) lock file stays beside the prefix, never inside it
    assert [p.name for p in base.glob(f".*{LOCK_SUFFIX}")] == [f".env{LOCK_SUFFIX}"]
    assert not list(prefix.rglob(f"*{LOCK_SUFFIX}"))
    with capsys.disabled():
        print(f"\n[prefix lock] {ROUNDS} rounds, {waited} with a visible wait")


def test_lock_is_reentrant_and_reports_a_wait(tmp_path):
    """In one process the lock nests; another process holding it makes us wait and say so."""
    from conda_deepdive.transaction.prefix_lock import prefix_lock, prefix_lock_path

    prefix = tmp_path / "env"
    with prefix_lock(str(prefix)) as path:
        with prefix_lock(str(prefix)):
            assert os.path.exists(path)
    assert path == prefix_lock_path(str(prefix)) and Path(path).parent == tmp_path
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys,time; from conda_deepdive.transaction.prefix_lock import prefix_lock\n"
         f"with prefix_lock({str(prefix)!r}):\n    print('held', flush=True); time.sleep(1.0)"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    said = []
    with prefix_lock(str(prefix), on_wait=said.append):
        assert holder.poll() is not None or True
    holder.communicate(timeout=WAIT)
    assert len(said) == 1 and said[0].startswith("Waiting for another conda-deepdive process")
