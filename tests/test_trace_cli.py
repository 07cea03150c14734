"""``trace`` and ``explain`` on the command line: sections, --stage, --step (through a real
pseudo-terminal), --export (schema + byte-for-byte determinism), --graph, errors."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conda_deepdive.cli.main import main
from conda_deepdive.pipeline import STAGES
from conda_deepdive.render.notebook import PINNED_VIRTUAL_PACKAGES, teaching_channel

STAGE_NAMES = [s.name for s in STAGES]
MAIN = teaching_channel("main")


def _env(tmp: Path, pkgs: Path | None = None) -> dict:
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TMPDIR": str(tmp),
            "CONDA_PKGS_DIRS": str(pkgs or tmp / "pkgs"), **PINNED_VIRTUAL_PACKAGES}


def _trace(capsys, tmp: Path, *argv: str, command: str = "trace", pkgs: Path | None = None):
    # each CLI run is a new process in real life: forget repodata parsed by an earlier test
    from conda_deepdive.index.index import SubdirData

    SubdirData.clear_memory_cache()
    rc = main([command, *argv], env=_env(tmp, pkgs))
    out = capsys.readouterr()
    return rc, out.out + out.err


def _nested(*specs: str, command: str = "install") -> list[str]:
    return [command, "--override-channels", "-c", MAIN, *specs]


def _temp_envs(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("conda-deepdive-trace-*"))


# ------------------------------------------------------------------------------------------------

def test_trace_install_runs_every_stage_in_a_temporary_env(capsys, tmp_path):
    rc, out = _trace(capsys, tmp_path, "--keep", *_nested("numpy"))
    assert rc == 0, out
    assert "fresh temporary environment" in out and "(-y)" in out
    for spec in STAGES:
        assert spec.title in out, spec.title
    assert "Traceback" not in out
    envs = _temp_envs(tmp_path)
    assert len(envs) == 1  # kept (--keep), although it is never registered
    assert not (tmp_path / "home" / ".conda").exists()
    meta = envs[0] / "env" / "conda-meta"
    assert (meta / "history").read_text().count("+") >= 27
    assert len(list(meta.glob("numpy-2.1.3-*.json"))) == 1
    assert "rm -rf" in out


def test_stage_shows_one_stage_in_full_and_runs_no_further(capsys, tmp_path):
    rc, out = _trace(capsys, tmp_path, "--stage", "reduce", *_nested("numpy"))
    assert rc == 0, out
    assert "✓ 3. Index fetch" in out and "╭─ 5b. Index reduction" in out
    assert "trace --stage NAME shows all" not in out  # full: no row limit
    assert "├── " not in out.split("5b. Index reduction")[0]  # earlier stages are one line each
    assert "not run" in out.split("Result")[-1]
    assert _temp_envs(tmp_path) == []  # nothing linked: the temporary env is gone


def test_unknown_stage_and_bad_export_name_fail_before_running(capsys, tmp_path):
    rc, out = _trace(capsys, tmp_path, "--stage", "nope", *_nested("numpy"))
    assert rc == 1 and "unknown stage 'nope'" in out
    rc, out = _trace(capsys, tmp_path, "--export", str(tmp_path / "t.txt"), *_nested("numpy"))
    assert rc == 1 and "use a .json, .html or .svg" in out
    assert _temp_envs(tmp_path) == []


def test_error_in_a_stage_is_a_red_panel_and_exit_1(capsys, tmp_path):
    rc, out = _trace(capsys, tmp_path, *_nested("nose"))  # nose lives only in pkgs/free
    assert rc == 1
    assert "PackagesNotFound" in out and "nose" in out
    assert "Traceback" not in out
    assert "┏━" in out  # the heavy red box of error_panel
    assert _temp_envs(tmp_path) == []


def test_dry_run_stops_after_the_transaction(capsys, tmp_path):
    prefix = tmp_path / "new"
    rc, out = _trace(capsys, tmp_path, "create", "-p", str(prefix), "--override-channels", "-c", MAIN,
                     "six", "--dry-run", command="trace")
    assert rc == 0, out
    assert "stopped: dry run" in out and "## Package Plan ##" in out
    assert not prefix.exists()
    rc, out = _trace(capsys, tmp_path, "--stage", "link", "create", "-p", str(prefix),
                     "--override-channels", "-c", MAIN, "six", "--dry-run")
    assert rc == 0 and "Stage 'link' was not reached: dry run." in out
    assert not prefix.exists()


def test_answering_no_to_the_confirmation_leaves_the_prefix_alone(capsys, tmp_path, monkeypatch):
    import io

    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "history").write_text("")
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    rc, out = _trace(capsys, tmp_path, "install", "-p", str(prefix), "--override-channels", "-c", MAIN, "six")
    assert rc == 0, out
    assert "Proceed ([y]/n)?" in out and "you answered no" in out
    assert sorted(p.name for p in prefix.rglob("*")) == ["conda-meta", "history"]


# ------------------------------------------------------------------------------------------------
# export

def _check_trace_schema(doc: dict) -> None:
    """A hand-written schema check of the JSON export (no jsonschema dependency)."""
    expected = {"schema": str, "schema_version": int, "argv": list, "command": (str, type(None)),
                "stage_order": list, "stages": dict, "stopped": (str, type(None)),
                "error": (dict, type(None)), "events": list, "temporary_prefix": bool}
    for key, types in expected.items():
        assert key in doc, key
        assert isinstance(doc[key], types), (key, type(doc[key]))
    assert doc["schema"] == "conda-deepdive-trace" and doc["schema_version"] == 1
    assert all(isinstance(a, str) for a in doc["argv"])
    assert doc["stage_order"] == [n for n in STAGE_NAMES if n in doc["stages"]]
    for event in doc["events"]:
        assert set(event) == {"stage", "kind", "data"}
        assert event["stage"] in STAGE_NAMES and isinstance(event["kind"], str)
        assert isinstance(event["data"], dict)
        assert event["kind"] != "progress"
    if doc["error"] is not None:
        assert {"exception_name", "message", "stage"} <= set(doc["error"])

    def walk(value, path="$"):
        if isinstance(value, dict):
            for k, v in value.items():
                assert not k.endswith("_seconds"), f"{path}.{k} is a timing"
                walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        else:
            assert value is None or isinstance(value, (str, int, float, bool)), path

    walk(doc)


def test_export_json_schema_and_determinism(capsys, tmp_path):
    outs = []
    for run in ("a", "b"):
        work = tmp_path / run
        work.mkdir()
        target = work / "trace.json"
        rc, out = _trace(capsys, work, "--export", str(target), *_nested("numpy"))
        assert rc == 0, out
        outs.append(target.read_bytes())
        doc = json.loads(outs[-1])
        _check_trace_schema(doc)
        text = outs[-1].decode()
        assert str(work) not in text and "/tmp/" not in text
        assert doc["stage_order"] == STAGE_NAMES and doc["temporary_prefix"] is True
        assert doc["stages"]["solve"]["attempts"][0]["outcome"] == "ok"
        kinds = {(e["stage"], e["kind"]) for e in doc["events"]}
        assert ("link", "action") in kinds and ("solve", "optimisation_pass") in kinds
    assert outs[0] == outs[1]


@pytest.mark.parametrize("suffix", [".html", ".svg"])
def test_export_html_svg_are_deterministic(capsys, tmp_path, suffix):
    blobs = []
    for run in ("a", "b"):
        work = tmp_path / run
        work.mkdir()
        target = work / f"trace{suffix}"
        rc, out = _trace(capsys, work, "--export", str(target), *_nested("six"), "--dry-run")
        assert rc == 0, out
        blobs.append(target.read_bytes())
    assert blobs[0] == blobs[1]
    text = blobs[0].decode()
    assert "&lt;PREFIX&gt;" in text or "<PREFIX>" in text or "PREFIX" in text
    assert str(tmp_path) not in text
    assert ("<svg" in text) if suffix == ".svg" else ("<html" in text.lower())


def test_export_of_a_failed_solve_records_the_error(capsys, tmp_path):
    target = tmp_path / "fail.json"
    rc, _out = _trace(capsys, tmp_path, "--export", str(target), *_nested("tablekit", "arraykit"),
                      command="explain")
    assert rc == 1
    doc = json.loads(target.read_text())
    _check_trace_schema(doc)
    assert doc["error"]["exception_name"] == "UnsatisfiableError" and doc["error"]["stage"] == "solve"
    attempts = [e["data"]["outcome"] for e in doc["events"] if e["kind"] == "attempt"]
    assert attempts and set(attempts) == {"UnsatisfiableError"}


def test_graph_dot_and_svg(capsys, tmp_path):
    dot = tmp_path / "g.dot"
    rc, out = _trace(capsys, tmp_path, "--graph", str(dot), "--stage", "solve", *_nested("numpy"))
    assert rc == 0, out
    text = dot.read_text()
    assert text.startswith('digraph "solution"') and '"numpy" -> "python";' in text
    svg = tmp_path / "g.svg"
    rc, out = _trace(capsys, tmp_path, "--graph", str(svg), "--stage", "solve", *_nested("numpy"),
                     command="explain")
    assert rc == 0, out
    assert svg.read_text().startswith("<svg") and "numpy 2.1.3" in svg.read_text()


# ------------------------------------------------------------------------------------------------
# explain

def test_explain_conflict_renders_a_tree(capsys, tmp_path):
    rc, out = _trace(capsys, tmp_path, *_nested("tablekit", "arraykit"), command="explain")
    assert rc == 1
    assert "UnsatisfiableError" in out and "The same conflict as a tree" in out
    assert "conflict on " in out and "└── " in out
    assert "What conda tried before giving up" in out
    assert "Traceback" not in out


def test_explain_success_says_why_each_package_is_there(capsys, tmp_path):
    rc, out = _trace(capsys, tmp_path, *_nested("numpy"), command="explain")
    assert rc == 0, out
    assert "Why each package is in the solution" in out
    assert "numpy  (you asked for it)" in out
    assert "wheel 0.43.0-pyhcafc4b3_0  ← numpy → python → pip → wheel" in out
    assert "8. Fetch & extract" in out and "nothing was fetched or linked" in out
    assert _temp_envs(tmp_path) == []


def test_explain_rows_cover_every_package(tmp_path):
    from conda_deepdive.cli.main_explain import explanation_rows
    from conda_deepdive.render.notebook import Workshop

    ws = Workshop(str(tmp_path))
    session = ws.session("install", "plotkit", "numpy").run(until="solve")
    rows = {r["package"]: r for r in explanation_rows(session)}
    assert set(rows) == {r.name for r in session.results["solve"].final_state if not r.name.startswith("__")}
    assert rows["plotkit"]["reason"] == rows["numpy"]["reason"] == "requested"
    assert rows["numpy"]["version"].startswith("1.26.4")  # plotkit's constrains: numpy <2.0a0
    assert all(r["chains"] for r in rows.values())


# ------------------------------------------------------------------------------------------------
# --step through a pseudo-terminal

def _read_until(fd: int, needle: bytes, buffer: bytearray, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while needle not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out waiting for {needle!r}; got:\n{buffer.decode(errors='replace')[-3000:]}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                chunk = b""
            if not chunk:
                if needle not in buffer:
                    raise AssertionError(f"terminal closed before {needle!r}:\n{buffer.decode(errors='replace')[-3000:]}")
                return
            buffer.extend(chunk)


def _spawn_step(tmp_path: Path, prefix: Path):
    import pty

    master, slave = pty.openpty()
    env = {**_env(tmp_path), "COLUMNS": "120", "LINES": "40", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "conda_deepdive", "trace", "--step", "install", "-p", str(prefix),
         "--override-channels", "-c", MAIN, "six"],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    return proc, master


@pytest.mark.slow
def test_step_through_a_pty_and_quit_before_link(tmp_path):
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "history").write_text("")
    before = sorted(p.name for p in prefix.rglob("*"))
    proc, master = _spawn_step(tmp_path, prefix)
    buffer = bytearray()
    try:
        # Enter through parse … solve, then answer 'q' at the pause after the transaction
        for name in ("parse", "context", "index", "priority", "specs", "reduce", "solve"):
            _read_until(master, f"paused after".encode(), buffer)
            del buffer[:]
            os.write(master, b"\n")
        _read_until(master, b"Enter: run 8. Fetch", buffer)
        os.write(master, b"q\n")
        _read_until(master, b"Result", buffer)
        assert proc.wait(timeout=60) == 0
        try:
            while True:
                ready, _, _ = select.select([master], [], [], 0.5)
                if not ready:
                    break
                chunk = os.read(master, 65536)
                if not chunk:
                    break
                buffer.extend(chunk)
        except OSError:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = buffer.decode(errors="replace")
    assert "stopped by you after transaction; the prefix was not touched" in text
    assert sorted(p.name for p in prefix.rglob("*")) == before  # prefix exactly as it was


@pytest.mark.slow
def test_step_enter_all_the_way_links(tmp_path):
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "history").write_text("")
    proc, master = _spawn_step(tmp_path, prefix)
    pending = bytearray()
    answered = 0
    deadline = time.monotonic() + 120
    try:
        # every pause gets Enter; so does conda's "Proceed ([y]/n)?" (empty answer = yes)
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            pending.extend(chunk)
            if b"paused after" in pending or b"Proceed" in pending:
                answered += 1
                del pending[:]
                os.write(master, b"\n")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert answered == 10  # 9 pauses + the confirmation
    assert list((prefix / "conda-meta").glob("six-*.json"))


# ------------------------------------------------------------------------------------------------
# over HTTP: the index section shows conda's repodata cache at work

@pytest.mark.network
def test_index_section_shows_cache_miss_hit_and_304_over_http(capsys, tmp_path):
    from conda_deepdive.index.index import SubdirData
    from conda_deepdive.teaching.serve import serving
    from conda_deepdive.config.teaching_defaults import channels_dir

    pkgs = tmp_path / "pkgs"
    verdicts = []
    with serving(channels_dir(), port=0) as base:
        url = f"{base.rstrip('/')}/pkgs/main"
        for run, ttl in enumerate((None, None, "0")):
            env = _env(tmp_path, pkgs)
            if ttl is not None:
                env["CONDA_LOCAL_REPODATA_TTL"] = ttl
            SubdirData.clear_memory_cache()
            export = tmp_path / f"run{run}.json"
            rc = main(["trace", "--stage", "index", "--export", str(export), "install",
                       "--override-channels", "-c", url, "six"], env=env)
            out = capsys.readouterr().out
            assert rc == 0, out
            infos = json.loads(export.read_text())["stages"]["index"]["subdir_datas"]
            cache = [i["cache"] for i in infos if i["subdir"] == "linux-64"][0]
            repodata_table = out.split("Repodata (")[1].split("virtual packages")[0]
            assert f" {cache} " in repodata_table, out
            verdicts.append(cache)
    # downloaded; then fresh by the server's max-age (not even asked); then, with
    # local_repodata_ttl 0, asked again and told "304 Not Modified"
    assert verdicts == ["miss", "hit", "304"]
