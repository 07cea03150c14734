"""conda's progress lines around the Package Plan (``create``/``install``/``update``/``remove``).

Real conda 26.x draws them as spinners (``conda/plugins/reporter_backends/console.py``): when
stdout is not a terminal — as under pytest's ``capsys`` — each reads ``<message>: ...working...
done``; on a terminal the final text is ``<message>: done``. These tests pin the exact lines
of a create, a dry run, an install that falls back from ``current_repodata.json``, failures, and
check that ``--json`` output carries none of them. They use the bundled teaching channel.
"""

from __future__ import annotations

import json

from conda_deepdive.cli.install import ConsoleProgress, run_session
from conda_deepdive.cli.main import main
from conda_deepdive.pipeline import Session

COLLECT_CURRENT = "Collecting package metadata (current_repodata.json): ...working... done"
COLLECT_FULL = "Collecting package metadata (repodata.json): ...working... done"
SOLVED = "Solving environment: ...working... done"
FROZEN = ("Solving environment: ...working... unsuccessful initial attempt using frozen solve. "
          "Retrying with flexible solve.")
NEXT_FN = ("Solving environment: ...working... unsuccessful attempt using repodata from "
           "current_repodata.json, retrying with next repodata source.")
TXN = [
    "Downloading and Extracting Packages: ...working... done",
    "Preparing transaction: ...working... done",
    "Verifying transaction: ...working... done",
    "Executing transaction: ...working... done",
]


def run(capsys, env, *argv):
    rc = main(list(argv), env=env)
    out = capsys.readouterr()
    return rc, out.out.split("\n"), out.err


def test_create_prints_conda_progress_lines_in_order(capsys, env, tmp_path):
    prefix = str(tmp_path / "env")
    rc, lines, _err = run(capsys, env, "create", "-y", "-p", prefix, "zlib")
    assert rc == 0
    assert lines[:4] == [COLLECT_CURRENT, SOLVED, "", "## Package Plan ##"]
    start = lines.index(TXN[0])
    # the plan is followed by two blank lines and the leading newline of the download header
    assert lines[start - 3:start] == ["", "", ""]
    assert lines[start:] == TXN + [
        "#",
        "# To activate this environment, use",
        "#",
        f"#     $ conda activate {prefix}",
        "#",
        "# To deactivate an active environment, use",
        "#",
        "#     $ conda deactivate",
        "",
        "",
    ]


def test_dry_run_stops_after_the_plan(capsys, env, tmp_path):
    rc, lines, _err = run(capsys, env, "create", "--dry-run", "-p", str(tmp_path / "env"), "zlib")
    assert rc == 0
    assert lines[:4] == [COLLECT_CURRENT, SOLVED, "", "## Package Plan ##"]
    assert lines[-4:] == ["", "DryRunExit: Dry run. Exiting.", "", ""]
    assert not any(line.startswith(("Downloading", "Preparing", "Executing")) for line in lines)
    assert not (tmp_path / "env").exists()


def test_install_retries_with_repodata_json(capsys, env, tmp_path):
    prefix = str(tmp_path / "env")
    assert run(capsys, env, "create", "-y", "-p", prefix, "zlib")[0] == 0
    # numpy 1.26 is not in current_repodata.json: the frozen solve fails, conda says it will
    # retry, and the loop moves on to repodata.json
    rc, lines, _err = run(capsys, env, "install", "--dry-run", "-p", prefix, "numpy=1.26")
    assert rc == 0
    assert lines[:6] == [COLLECT_CURRENT, FROZEN, COLLECT_FULL, SOLVED, "", "## Package Plan ##"]


def test_create_of_a_missing_package_fails_after_both_repodata_files(capsys, env, tmp_path):
    rc, lines, err = run(capsys, env, "create", "-y", "-p", str(tmp_path / "env"), "nosuchpkg")
    assert rc == 1
    # create never retries unfrozen, so the first failure names the next repodata source
    assert lines == [COLLECT_CURRENT, NEXT_FN, COLLECT_FULL,
                     "Solving environment: ...working... failed", ""]
    assert "PackagesNotFound" in err and "nosuchpkg" in err


def test_install_of_a_missing_package_reports_the_frozen_retry_twice(capsys, env, tmp_path):
    prefix = str(tmp_path / "env")
    assert run(capsys, env, "create", "-y", "-p", prefix, "zlib")[0] == 0
    rc, lines, err = run(capsys, env, "install", "-y", "-p", prefix, "nosuchpkg")
    assert rc == 1
    assert lines == [COLLECT_CURRENT, FROZEN, COLLECT_FULL, FROZEN, ""]
    assert "nosuchpkg" in err


def test_remove_solves_with_repodata_json_only(capsys, env, tmp_path):
    prefix = str(tmp_path / "env")
    assert run(capsys, env, "create", "-y", "-p", prefix, "zlib")[0] == 0
    rc, lines, _err = run(capsys, env, "remove", "-y", "-p", prefix, "zlib")
    assert rc == 0
    assert lines[:4] == [COLLECT_FULL, SOLVED, "", "## Package Plan ##"]
    assert lines[-5:] == TXN + [""]


def test_json_output_has_no_progress_lines(capsys, env, tmp_path):
    rc, lines, _err = run(capsys, env, "create", "--json", "--dry-run", "-p",
                          str(tmp_path / "env"), "zlib")
    assert rc == 0
    doc = json.loads("\n".join(lines))
    assert doc["dry_run"] is True and doc["success"] is True


def test_quiet_keeps_the_spinners_but_drops_download_header_and_banner(capsys, env, tmp_path):
    rc, lines, _err = run(capsys, env, "create", "-q", "-y", "-p", str(tmp_path / "env"), "zlib")
    assert rc == 0
    assert lines[:2] == [COLLECT_CURRENT, SOLVED]
    assert lines[-4:] == TXN[1:] + [""]
    assert not any("Downloading" in line or "conda activate" in line for line in lines)


def test_on_a_terminal_the_spinner_text_ends_as_done(capsys, env, tmp_path):
    argv = ["create", "--dry-run", "-p", str(tmp_path / "env"), "zlib"]
    session = Session.from_argv(argv, env=env, reporter=ConsoleProgress(tty=True))
    assert run_session(session) == 0
    lines = capsys.readouterr().out.split("\n")
    assert lines[:2] == ["Collecting package metadata (current_repodata.json): done",
                         "Solving environment: done"]


def test_fail_messages_follow_the_classic_solver():
    progress = ConsoleProgress()
    progress._retry_unfrozen, progress._last_fn = True, "repodata.json"
    assert progress.fail_message("current_repodata.json", "freeze_installed").startswith(
        "unsuccessful initial attempt")
    assert progress.fail_message("current_repodata.json", "update_specs").startswith(
        "unsuccessful attempt using repodata from current_repodata.json")
    assert progress.fail_message("repodata.json", "update_specs") == "failed"
    # --freeze-installed typed by the user: no unfrozen retry, so on the last file it is "failed"
    progress._retry_unfrozen = False
    assert progress.fail_message("repodata.json", "freeze_installed") == "failed"
