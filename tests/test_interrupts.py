"""An interrupted or failing run leaves the prefix as it was (issue 12, part B).

Real processes, stopped half-way with the pause hook (``CONDA_DEEPDIVE_PAUSE_AT``): SIGTERM and
SIGINT roll back like an error, print one line and exit 130; a package script runs in its own
process group and dies with the tool; ``link_script_timeout`` stops a script that never ends; a
full disk in the middle of a copy leaves no partial file and puts a set-aside file back; a
failed ``create`` leaves no directory; ``create`` over an environment behaves as conda's; stale
``.partial`` folders of a killed run are cleaned. Every wait is bounded.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinychan import Pkg, build_channel, channel_args, cli_env

WAIT = 60


def _cli(*args):
    return [sys.executable, "-m", "conda_deepdive", *args]


def digest(root: Path) -> dict:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p))
        elif p.is_file():
            out[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode)
        else:
            out[rel] = ("dir",)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_file(path: Path, proc: subprocess.Popen) -> str:
    deadline = time.monotonic() + WAIT
    while not (path.exists() and path.read_text().strip()):
        assert proc.poll() is None, f"the process ended early: {proc.communicate()}"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return path.read_text().strip()


@pytest.fixture(scope="module")
def chan(tmp_path_factory):
    base = tmp_path_factory.mktemp("intr")
    url = build_channel(base / "chan", [
        *(Pkg("pa", v, files={f"share/pa/only-{v}.txt": v, "share/pa/common.txt": v, "bin/pa-tool": v})
          for v in ("1", "2")),
        Pkg("pb", "1", files={"share/pa/common.txt": "pb's copy", "share/pb.txt": "b"}),
        Pkg("failer", "1", files={"share/f.txt": "f"},
            scripts={"post-link": 'echo "failer says hi" > "$PREFIX/.messages.txt"; exit 1'}),
        Pkg("sleeper", "1", files={"share/s.txt": "s"},
            scripts={"post-link": 'sleep 300 & echo $! > "$PREFIX/../child.pid"; echo $$ > "$PREFIX/../script.pid"; wait'}),
    ])
    return base, url


@pytest.fixture()
def env_pa1(chan, tmp_path):
    base, url = chan
    env = cli_env(tmp_path)
    prefix = tmp_path / "envs" / "e"
    done = subprocess.run(_cli("create", "-y", "-p", str(prefix), "pa=1", *channel_args(url)), env=env,
                          capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0, done.stderr
    return url, env, prefix


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_transaction_rolls_back_and_exits_130(env_pa1, tmp_path, sig):
    url, env, prefix = env_pa1
    before = digest(prefix)
    marker = tmp_path / "paused"
    proc = subprocess.Popen(_cli("install", "-y", "-p", str(prefix), "pa=2", *channel_args(url)),
                            env=dict(env, CONDA_DEEPDIVE_PAUSE_AT="4", CONDA_DEEPDIVE_PAUSE_MARKER=str(marker)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_file(marker, proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "CondaMultiError" not in err
    assert [line for line in err.splitlines() if line.strip()] == [
        f"CondaSignalInterrupt: Signal interrupt {signal.Signals(sig).name}"]
    assert "Rolling back transaction: ...working... done" in out
    assert digest(prefix) == before


def test_interrupted_create_leaves_no_prefix(chan, tmp_path):
    base, url = chan
    prefix = tmp_path / "envs" / "new"
    marker = tmp_path / "paused"
    proc = subprocess.Popen(_cli("create", "-y", "-p", str(prefix), "pa=1", *channel_args(url)),
                            env=dict(cli_env(tmp_path), CONDA_DEEPDIVE_PAUSE_AT="3",
                                     CONDA_DEEPDIVE_PAUSE_MARKER=str(marker)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_file(marker, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 130 and "Signal interrupt SIGINT" in err
    assert not prefix.exists()


def test_failed_create_leaves_no_prefix(chan, tmp_path):
    base, url = chan
    prefix = tmp_path / "envs" / "new"
    done = subprocess.run(_cli("create", "-y", "-p", str(prefix), "failer", *channel_args(url)),
                          env=cli_env(tmp_path), capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 1 and "LinkError: post-link script failed" in done.stderr
    assert not prefix.exists(), "not even an empty conda-meta/"


def test_script_is_killed_with_its_process_group_on_sigterm(chan, env_pa1, tmp_path):
    url, env, prefix = env_pa1
    before = digest(prefix)
    proc = subprocess.Popen(_cli("install", "-y", "-p", str(prefix), "sleeper", *channel_args(url)),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    script_pid = int(_wait_file(prefix.parent / "script.pid", proc))
    child_pid = int(_wait_file(prefix.parent / "child.pid", proc))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 130 and "Signal interrupt SIGTERM" in err
    deadline = time.monotonic() + WAIT
    while (_alive(script_pid) or _alive(child_pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(script_pid) and not _alive(child_pid), "the script's group outlived the tool"
    assert digest(prefix) == before


def test_link_script_timeout_names_the_script(chan, env_pa1):
    url, env, prefix = env_pa1
    before = digest(prefix)
    done = subprocess.run(_cli("install", "-y", "-p", str(prefix), "sleeper", *channel_args(url)),
                          env=dict(env, CONDA_LINK_SCRIPT_TIMEOUT="1"), capture_output=True, text=True,
                          timeout=WAIT)
    assert done.returncode == 1
    assert "LinkScriptTimeout: post-link script for package" in done.stderr
    assert "bin/.sleeper-post-link.sh" in done.stderr and "within 1 seconds" in done.stderr
    child = int((prefix.parent / "child.pid").read_text())
    deadline = time.monotonic() + WAIT
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)
    assert digest(prefix) == before


@pytest.mark.parametrize("spec", ["pa=2", "pb"])
def test_disk_full_mid_copy_removes_the_partial_file_and_restores_the_set_aside_one(
        env_pa1, monkeypatch, capsys, spec):
    """ENOSPC half-way through a copy: the partial file goes, a clobbered file comes back."""
    from conda_deepdive.cli.main import main
    from conda_deepdive.link import path_actions

    url, env, prefix = env_pa1
    before = digest(prefix)
    real_copy = path_actions.shutil.copy2
    calls = []

    def copy_then_fill_disk(src, dst, *a, **k):
        calls.append(dst)
        if len(calls) == 2:
            with open(dst, "wb") as fh:
                fh.write(b"half a fi")
            raise OSError(errno.ENOSPC, "No space left on device", dst)
        return real_copy(src, dst, *a, **k)

    monkeypatch.setattr(path_actions.shutil, "copy2", copy_then_fill_disk)
    rc = main(["install", "-y", "-p", str(prefix), spec, "--copy", *channel_args(url)], env=env)
    err = capsys.readouterr().err
    assert rc == 1 and "No space left on device" in err and "Traceback" not in err
    assert len(calls) >= 2
    assert digest(prefix) == before


def test_create_over_an_existing_environment_as_conda(env_pa1, monkeypatch, capsys):
    from conda_deepdive.cli.main import main

    url, env, prefix = env_pa1
    (prefix / "user-file.txt").write_text("mine")
    # dry run: conda refuses
    assert main(["create", "--dry-run", "-p", str(prefix), "pa=2", *channel_args(url)], env=env) == 1
    assert "CondaValueError: Cannot `create --dry-run` with an existing conda environment" in capsys.readouterr().err
    # no -y, answer "n": conda's prompt, then CondaSystemExit; nothing changes
    before = digest(prefix)
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("n\n"))
    # (exit 0, as conda 26.7.1: its CondaSystemExit is a CondaExitZero)
    assert main(["create", "-p", str(prefix), "pa=2", *channel_args(url)], env=env) == 0
    out, err = capsys.readouterr()
    assert "CondaSystemExit: Exiting." in err
    assert f"WARNING: A conda environment already exists at '{prefix}'" in out and "(y/[n])? " in out
    assert digest(prefix) == before
    # -y: the environment is removed and created again
    assert main(["create", "-y", "-p", str(prefix), "pa=2", *channel_args(url)], env=env) == 0
    capsys.readouterr()
    assert not (prefix / "user-file.txt").exists()
    assert [p.name for p in (prefix / "conda-meta").glob("*.json")] == ["pa-2-0.json"]


def test_a_directory_without_history_is_not_an_environment_for_create(chan, tmp_path, capsys):
    from conda_deepdive.cli.main import main

    base, url = chan
    prefix = tmp_path / "envs" / "half"
    (prefix / "conda-meta").mkdir(parents=True)  # what a killed run used to leave
    assert main(["create", "-y", "-p", str(prefix), "pa=1", *channel_args(url)], env=cli_env(tmp_path)) == 0
    assert (prefix / "conda-meta" / "pa-1-0.json").exists()


def test_stale_partial_folders_are_cleaned_on_the_next_run(env_pa1, tmp_path):
    url, env, prefix = env_pa1
    pkgs = Path(env["CONDA_PKGS_DIRS"])
    stale_dir = pkgs / ".pa-2-0.deadbeef.partial"
    (stale_dir / "info").mkdir(parents=True)
    stale_file = pkgs / "pa-2-0.tar.bz2.cafebabe.partial"
    stale_file.write_bytes(b"half")
    done = subprocess.run(_cli("install", "-y", "-p", str(prefix), "pa=2", *channel_args(url)), env=env,
                          capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0, done.stderr
    assert not stale_dir.exists() and not stale_file.exists()
    assert not list(pkgs.glob("*.partial")) and not list(pkgs.glob(".*.partial"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_at_the_prompt_exits_130_and_releases_the_lock(env_pa1, sig):
    """Before the transaction (here: waiting at "Proceed ([y]/n)?") a signal ends the run the
    same way: one line, exit 130, nothing changed, and the prefix lock is free again."""
    url, env, prefix = env_pa1
    before = digest(prefix)
    proc = subprocess.Popen(_cli("install", "-p", str(prefix), "pa=2", *channel_args(url)), env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = b""
    deadline = time.monotonic() + WAIT
    while b"Proceed ([y]/n)? " not in seen:
        assert time.monotonic() < deadline and proc.poll() is None, seen
        seen += os.read(proc.stdout.fileno(), 4096)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 130
    assert [line for line in err.decode().splitlines() if line.strip()] == [
        f"CondaSignalInterrupt: Signal interrupt {signal.Signals(sig).name}"]
    assert digest(prefix) == before
    done = subprocess.run(_cli("install", "-y", "-p", str(prefix), "pa=2", *channel_args(url)), env=env,
                          capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0 and "Waiting for another" not in done.stderr


def test_a_signal_while_a_script_is_starting_still_stops_the_script(tmp_path, monkeypatch):
    """SIGTERM between the fork of a link script and its registration (a busy machine makes
    that window real): the interruption is held until the script can be stopped with its group,
    then raised — the tool never exits leaving the script running."""
    from conda_deepdive.exceptions import CondaSignalInterrupt
    from conda_deepdive.link import link_scripts
    from conda_deepdive.transaction.transaction import interrupt_signals

    real_popen = subprocess.Popen
    started = {}

    def popen_then_signal(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started["pid"] = proc.pid
        os.kill(os.getpid(), signal.SIGTERM)  # delivered before the caller has registered proc
        return proc

    monkeypatch.setattr(link_scripts.subprocess, "Popen", popen_then_signal)
    with interrupt_signals(), pytest.raises(CondaSignalInterrupt):
        link_scripts._run_in_own_group(("bash", "-c", "sleep 300"), str(tmp_path), dict(os.environ), None)
    deadline = time.monotonic() + WAIT
    while _alive(started["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(started["pid"])
    assert not link_scripts.ACTIVE_SCRIPTS
