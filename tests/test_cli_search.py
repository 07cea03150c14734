"""``search``: a MatchSpec query over the teaching channel's index, printed as conda 26.7.1 does."""

from __future__ import annotations

import json

from conda_deepdive.cli.main import main
from conda_deepdive.reporting import RecordingReporter


def run(argv, env, capsys):
    code = main(argv, env=env)
    out, err = capsys.readouterr()
    return code, out, err


HEADER = "# Name                       Version           Build  Channel             "


def test_table_sorted_by_version_with_condas_widths(env, capsys):
    code, out, _ = run(["search", "numpy>=1.20"], env, capsys)
    lines = out.splitlines()
    assert code == 0
    assert lines[0] == "Loading channels: ...working... done"  # not a terminal
    assert lines[1] == HEADER
    assert lines[2] == "numpy                         1.24.4 py310h59b71d6_0  main                "
    versions = [line.split()[1] for line in lines[2:]]
    assert versions == sorted(versions, key=lambda v: tuple(int(x) for x in v.split(".")))


def test_flexible_search_and_not_found(env, capsys):
    code, out, _ = run(["search", "nump"], env, capsys)
    assert code == 0
    assert "No match found for: nump. Search: *nump*" in out
    assert "numpy " in out
    code, out, err = run(["search", "nump", "--skip-flexible-search"], env, capsys)
    assert code == 1 and "PackagesNotFoundInChannelsError" in err
    code, out, err = run(["search", "zzz"], env, capsys)
    assert code == 1
    assert "  - zzz" in err and "/pkgs/main/linux-64" in err and "/pkgs/free/noarch" in err


def test_info_block(env, capsys):
    _, out, _ = run(["search", "numpy=1.26.4=py310h1304ca8_0", "--info"], env, capsys)
    block = out.split("\n", 1)[1]
    assert block.startswith("numpy 1.26.4 py310h1304ca8_0\n----------------------------\n")
    for line in ("file name   : numpy-1.26.4-py310h1304ca8_0.conda", "build number: 0",
                 "size        : 2 KB", "md5         : 4ea1d7ee5f0d670127c048fdfec5c8ef",
                 "timestamp   : 2024-02-06 13:18:03 UTC", "dependencies: \n  - blas 1.0 mkl"):
        assert line in block


def test_json_groups_by_name_with_condas_record_dump(env, capsys):
    code, out, _ = run(["search", "*mutex*", "--json"], env, capsys)
    data = json.loads(out)
    assert code == 0 and sorted(data) == ["_libgcc_mutex", "_openmp_mutex"]
    rec = data["_libgcc_mutex"][0]
    assert list(rec)[:7] == ["name", "version", "build", "build_number", "channel", "subdir", "fn"]
    assert rec["arch"] is None and rec["platform"] is None  # as conda dumps them
    assert "Loading channels" not in out


def test_json_error_document(env, capsys):
    code, out, _ = run(["search", "zzz", "--json"], env, capsys)
    doc = json.loads(out)
    assert code == 1 and doc["exception_name"] == "PackagesNotFoundInChannelsError"
    assert doc["packages"] == ["zzz"]


def test_platform_and_subdir_spec(env, capsys):
    _, out, _ = run(["search", "python", "--platform", "osx-64"], env, capsys)
    assert "No match found" in out or "python" in out
    _, out, _ = run(["search", "numpy[subdir=linux-64]", "--json"], env, capsys)
    assert {r["subdir"] for r in json.loads(out)["numpy"]} == {"linux-64"}


def test_channel_override_and_channel_in_spec(env, capsys):
    _, out, _ = run(["search", "-c", "conda-forge", "--override-channels", "numpy"], env, capsys)
    rows = out.splitlines()[2:]
    assert rows and all(row.split()[3] == "conda-forge" for row in rows)
    _, out2, _ = run(["search", "conda-forge::numpy"], env, capsys)
    assert out2.splitlines()[2:] == rows


def test_search_runs_the_index_stage_through_the_tracer(env):
    from conda_deepdive.cli.main_search import execute
    from conda_deepdive.cli.parser import parse_command

    parsed = parse_command(["search", "--json", "zlib"])
    rec = RecordingReporter()
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()) as buf:
        assert execute(parsed.namespace, parsed.parser, env=env, reporter=rec) == 0
    assert "zlib" in json.loads(buf.getvalue())
    kinds = rec.kinds("index")
    assert "index_plan" in kinds and "subdir_loaded" in kinds and "index_built" in kinds


def test_a_closed_pipe_ends_quietly(env):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "conda_deepdive", "search", "*", "--info"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and b"Traceback" not in err and b"BrokenPipe" not in err


def test_search_envs_finds_installed_records(env, tmp_path, capsys):
    envs = tmp_path / "envs"
    env = {**env, "CONDA_ENVS_DIRS": str(envs)}
    assert main(["create", "-y", "-q", "-n", "demo", "zlib"], env=env) == 0
    capsys.readouterr()
    code, out, _ = run(["search", "--envs", "zlib"], env, capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Searching environments for zlib: ...working... done"
    assert lines[1].startswith("# Name ") and lines[1].rstrip().endswith("Location")
    assert lines[2].split()[:2] == ["zlib", "1.2.13"] and lines[2].rstrip().endswith(str(envs / "demo"))
    code, _, err = run(["search", "--envs", "numpy"], env, capsys)
    assert code == 1 and "PackagesNotFound" in err
