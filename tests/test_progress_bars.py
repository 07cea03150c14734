"""Fetch/extract progress: per-package bars on a terminal (rich), conda's one plain line off it,
nothing with ``-q`` or ``--json``; the fetch stage reports through ``Reporter.progress``."""

from __future__ import annotations

import io
import json
import re

from rich.console import Console

from conda_deepdive.cli.main import main
from conda_deepdive.render.progress_bars import FetchProgressBars, bar_description, package_label
from conda_deepdive.reporting import RecordingReporter

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_description_is_condas():
    assert package_label("numpy-1.26.4-py311hb6bd4b1_0") == "numpy-1.26.4"
    assert package_label("ca-certificates-2024.7.2-h06a4308_0") == "ca-certificates-2024.7.2"
    assert bar_description("numpy-1.26.4-py311hb6bd4b1_0", 2371) == "numpy-1.26.4         | 2 KB      | "
    # conda's %-20.20s cuts long names
    assert bar_description("ca-certificates-2024.7.2-h06a4308_0", 1304).startswith("ca-certificates-2024 | ")
    assert bar_description("x-1-0", None) == "x-1                  | "


def _bars(width=100):
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=width, color_system=None)
    return FetchProgressBars(console=console, transient=False, auto_refresh=False), buf


def test_rich_rendering_one_bar_per_package_largest_first():
    bars, buf = _bars()
    bars.start()
    # what ProgressiveFetchExtract reports: queue (largest first), download, extract, done
    bars.progress("fetch", "numpy-1.26.4-py311hb6bd4b1_0", 0, 2371)
    bars.progress("fetch", "zlib-1.2.13-h5eee18b_1", 0, 1354)
    bars.progress("fetch", "numpy-1.26.4-py311hb6bd4b1_0 (download)", 1185, 2371)
    bars.refresh()
    half = ANSI.sub("", buf.getvalue())
    assert "numpy-1.26.4         | 2 KB      |" in half and "|  50% " in half
    assert "zlib-1.2.13          | 1 KB      |" in half and "|   0% " in half
    assert half.index("numpy-1.26.4") < half.index("zlib-1.2.13")
    bars.progress("fetch", "numpy-1.26.4-py311hb6bd4b1_0 (extract)", 2371, 2371)
    bars.progress("fetch", "numpy-1.26.4-py311hb6bd4b1_0", 2371, 2371)
    bars.progress("fetch", "zlib-1.2.13-h5eee18b_1", 1354, 1354)
    bars.stop()
    assert bars.bars == {"numpy-1.26.4-py311hb6bd4b1_0": 1.0, "zlib-1.2.13-h5eee18b_1": 1.0}
    last = ANSI.sub("", buf.getvalue()).splitlines()[-2:]
    assert all(line.rstrip().endswith("| 100%") for line in last)


def test_transient_bars_vanish_like_condas_leave_false():
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=80, color_system=None)
    bars = FetchProgressBars(console=console, auto_refresh=False).start()
    bars.progress("fetch", "zlib-1.2.13-h5eee18b_1", 0, 1354)
    bars.refresh()
    bars.stop()
    raw = buf.getvalue()
    assert "zlib-1.2.13" in raw
    assert raw.rstrip("\r\n").endswith("\x1b[2K") or "\x1b[1A\x1b[2K" in raw  # erased


def test_other_stages_are_ignored():
    bars, _ = _bars()
    bars.progress("index", "repodata", 1, 4)
    assert bars.bars == {}


def test_fetch_stage_reports_each_package_start_and_end(env, tmp_path):
    from conda_deepdive.pipeline import Session

    rec = RecordingReporter()
    session = Session(["create", "-y", "-p", str(tmp_path / "env"), "zlib"], env=env, reporter=rec)
    session.run(until="fetch")
    package_events = [(e.data["task"], e.data["done"], e.data["total"]) for e in rec.of_stage("fetch")
                      if e.kind == "progress" and "(" not in e.data["task"]]
    dists = {task for task, _, _ in package_events}
    assert any(d.startswith("zlib-1.2.13-") for d in dists)
    for dist in dists:
        mine = [(done, total) for task, done, total in package_events if task == dist]
        assert mine[0][0] == 0 and mine[-1][0] == mine[-1][1] > 0
    starts = [total for task, done, total in package_events if done == 0]
    assert starts == sorted(starts, reverse=True)  # largest first, as conda queues them


def _create(env, tmp_path, capsys, *extra):
    code = main(["create", "-y", "-p", str(tmp_path / "env"), "zlib", *extra], env=env)
    out, err = capsys.readouterr()
    return code, out, err


def test_not_a_terminal_gives_condas_plain_line(env, tmp_path, capsys):
    code, out, _ = _create(env, tmp_path, capsys)
    assert code == 0
    assert "\nDownloading and Extracting Packages: ...working... done\n" in out
    assert "| 100%" not in out and "\x1b[" not in out


def test_quiet_and_json_print_no_progress(env, tmp_path, capsys):
    code, out, _ = _create(env, tmp_path, capsys, "-q")
    assert code == 0 and "Downloading and Extracting" not in out
    code, out, _ = main(["create", "-y", "--json", "-p", str(tmp_path / "env2"), "zlib"], env=env), None, None
    out = capsys.readouterr().out
    assert "Downloading" not in out and json.loads(out)["success"] is True


def test_terminal_run_draws_bars_then_clears_them(env, tmp_path, capsys):
    from conda_deepdive.cli.install import ConsoleProgress, run_session
    from conda_deepdive.pipeline import Session

    stream = io.StringIO()
    progress = ConsoleProgress(stream=stream, tty=True)
    session = Session(["create", "-y", "-p", str(tmp_path / "env"), "zlib"],
                      env={**env, "TERM": "xterm"}, reporter=progress)
    assert run_session(session) == 0
    text = stream.getvalue()
    assert "\nDownloading and Extracting Packages:\n" in text
    plain = ANSI.sub("", text)
    assert re.search(r"zlib-1\.2\.13 +\| 1 KB +\|", plain)
    assert "\x1b[2K" in text  # the bars were erased (leave=False) before
    assert plain.index("Downloading") < plain.index("Preparing transaction: done")
