"""``conda list``'s human table, byte for byte as conda 26.7.1 prints it.

Reference: ``conda/cli/main_list.py::list_packages`` / ``print_packages`` (the ``--fields``
layout of conda 25.5, PR #14781, which 26.7.1 keeps when ``--size`` is not given):

* ``# packages in environment at <prefix>:``, ``#``, then ``# `` + the titles;
* columns joined by two spaces, every one left-aligned (``%-Ns``);
* default fields start at widths 23/15/15/1 (other field lists at their titles' lengths) and
  grow to the longest cell; data rows widen the first column by 2 for the header's ``# ``;
* every printed line is right-stripped.

The fake prefix uses conda's real channel URLs and is read under conda's built-in channel
settings (``CONDA_DEEPDIVE_REAL_DEFAULTS=1``): repo.anaconda.com/pkgs/main is ``defaults``,
conda.anaconda.org/conda-forge is ``conda-forge``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conda_deepdive.cli import main as cli_main

MAIN = "https://repo.anaconda.com/pkgs/main"
FORGE = "https://conda.anaconda.org/conda-forge"
LONG = "a-package-with-a-rather-long-name"  # 33 characters: wider than the 23 (+2) default


def _write_env(tmp_path: Path, records) -> Path:
    prefix = tmp_path / "env"
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True)
    (meta / "history").write_text("")
    for rec in records:
        name, version, build, channel = rec[:4]
        extra = rec[4] if len(rec) > 4 else {}
        fn = f"{name}-{version}-{build}.conda"
        data = {"name": name, "version": version, "build": build, "build_number": 0,
                "channel": f"{channel}/linux-64", "subdir": "linux-64", "fn": fn,
                "url": f"{channel}/linux-64/{fn}", "depends": [], "files": [],
                "paths_data": {"paths": [], "paths_version": 1}, **extra}
        (meta / f"{name}-{version}-{build}.json").write_text(json.dumps(data))
    return prefix


SMALL = (
    ("numpy", "1.26.4", "py311h24aa872_0", MAIN,
     {"depends": ["python >=3.11,<3.12.0a0"], "md5": "0" * 32, "sha256": "a" * 64, "build_number": 3}),
    ("python", "3.11.9", "h955ad1f_0", MAIN, {"md5": "1" * 32, "sha256": "b" * 64}),
    ("zlib", "1.2.13", "h4ab18f5_6", FORGE),
)


def _env(tmp_path: Path, **extra: str) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "CONDA_DEEPDIVE_REAL_DEFAULTS": "1", "CONDA_SUBDIR": "linux-64", **extra}


def _out(capsys, tmp_path, prefix, *argv, **env) -> list[str]:
    rc = cli_main.main(["list", "-p", str(prefix), *argv], env=_env(tmp_path, **env))
    out, err = capsys.readouterr()
    assert rc == 0, err
    return out.splitlines()


def _fail(capsys, tmp_path, prefix, *argv) -> tuple[int, str]:
    rc = cli_main.main(["list", "-p", str(prefix), *argv], env=_env(tmp_path))
    out, err = capsys.readouterr()
    return rc, out + err


# --- the default table ---------------------------------------------------------------------------

def test_default_table_exact(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL)
    assert _out(capsys, tmp_path, prefix) == [
        f"# packages in environment at {prefix}:",
        "#",
        "# Name                     Version          Build            Channel",
        "numpy                      1.26.4           py311h24aa872_0",   # defaults: blank, stripped
        "python                     3.11.9           h955ad1f_0",
        "zlib                       1.2.13           h4ab18f5_6       conda-forge",
    ]


def test_build_column_grows_past_15(tmp_path, capsys):
    # "py311h24aa872_0" is 15 wide; a 21-character build widens the column for every row
    prefix = _write_env(tmp_path, SMALL + (("scipy", "1.13.1", "py311h_openblas_abc_7", FORGE),))
    lines = _out(capsys, tmp_path, prefix)
    assert lines[2] == "# Name                     Version          Build                  Channel"
    assert lines[4] == "python                     3.11.9           h955ad1f_0"
    assert lines[5] == "scipy                      1.13.1           py311h_openblas_abc_7  conda-forge"
    assert lines[6] == "zlib                       1.2.13           h4ab18f5_6             conda-forge"


def test_long_name_and_version_widen_their_columns(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL + ((LONG, "2024.10.1.post12345", "0", FORGE),))
    lines = _out(capsys, tmp_path, prefix)
    name_w, version_w = len(LONG), len("2024.10.1.post12345")  # 33, 19
    assert lines[2] == "# " + "Name".ljust(name_w) + "  " + "Version".ljust(version_w) + "  " \
        + "Build".ljust(15) + "  Channel"
    assert lines[3] == f"{LONG}    2024.10.1.post12345  0                conda-forge"
    assert lines[4] == "numpy".ljust(name_w + 2) + "  " + "1.26.4".ljust(version_w) + "  py311h24aa872_0"
    # Version starts in the same column in the header and in every row
    starts = {line.index(v) for line, v in zip(lines[2:], ("Version", "2024.10.1", "1.26.4", "3.11.9", "1.2.13"))}
    assert starts == {name_w + 4}


def test_no_line_has_trailing_blanks(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL + ((LONG, "1.0", "0", MAIN),))
    lines = _out(capsys, tmp_path, prefix)
    assert all(line == line.rstrip() for line in lines)
    assert lines[3] == f"{LONG}    1.0              0"  # a defaults row ends at its Build


def test_show_channel_urls_names_defaults(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL)
    assert _out(capsys, tmp_path, prefix, "--show-channel-urls")[3:] == [
        "numpy                      1.26.4           py311h24aa872_0  defaults",
        "python                     3.11.9           h955ad1f_0       defaults",
        "zlib                       1.2.13           h4ab18f5_6       conda-forge",
    ]


def test_show_channel_urls_false_leaves_the_title(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL)
    lines = _out(capsys, tmp_path, prefix, CONDA_SHOW_CHANNEL_URLS="false")
    assert lines[2].endswith("Build            Channel")
    assert lines[5] == "zlib                       1.2.13           h4ab18f5_6"


def test_empty_environment_prints_only_the_header(tmp_path, capsys):
    prefix = _write_env(tmp_path, ())
    assert _out(capsys, tmp_path, prefix) == [
        f"# packages in environment at {prefix}:", "#",
        "# Name                     Version          Build            Channel"]


# --- --reverse, ordering, regex ---------------------------------------------------------------------

def test_reverse(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL)
    assert _out(capsys, tmp_path, prefix, "--reverse")[2:] == [
        "# Name                     Version          Build            Channel",
        "zlib                       1.2.13           h4ab18f5_6       conda-forge",
        "python                     3.11.9           h955ad1f_0",
        "numpy                      1.26.4           py311h24aa872_0",
    ]
    assert _out(capsys, tmp_path, prefix, "--reverse", "--canonical") == [
        "conda-forge/linux-64::zlib-1.2.13-h4ab18f5_6",
        "defaults/linux-64::python-3.11.9-h955ad1f_0",
        "defaults/linux-64::numpy-1.26.4-py311h24aa872_0",
    ]
    data = json.loads("\n".join(_out(capsys, tmp_path, prefix, "--reverse", "--json")))
    assert [d["name"] for d in data] == ["zlib", "python", "numpy"]


def test_plain_order_is_case_sensitive_regex_order_is_not(tmp_path, capsys):
    # conda sorts by name (uppercase first); get_packages (a regex) re-sorts by name.lower()
    prefix = _write_env(tmp_path, SMALL + (("Zeta", "1.0", "0", FORGE),))
    assert [l.split()[0] for l in _out(capsys, tmp_path, prefix)[3:]] == ["Zeta", "numpy", "python", "zlib"]
    assert [l.split()[0] for l in _out(capsys, tmp_path, prefix, ".")[3:]] == ["numpy", "python", "Zeta", "zlib"]


def test_regex_and_full_name(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL + (("python-dateutil", "2.9.0", "py_0", FORGE),))
    assert [l.split()[0] for l in _out(capsys, tmp_path, prefix, "PYTH")[3:]] == ["python", "python-dateutil"]
    assert [l.split()[0] for l in _out(capsys, tmp_path, prefix, "-f", "python")[3:]] == ["python"]


def test_no_match_errors(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL)
    rc, text = _fail(capsys, tmp_path, prefix, "nope")
    assert rc == 1 and "CondaValueError: No packages match 'nope'." in text
    rc, text = _fail(capsys, tmp_path, prefix, "--full-name", "nope")
    assert rc == 1 and "PackageNotInstalledError: Package is not installed in prefix." in text
    assert "package name: nope" in text


# --- --fields ---------------------------------------------------------------------------------------

def test_fields_use_title_widths(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL)
    assert _out(capsys, tmp_path, prefix, "--fields", "name,version")[2:] == [
        "# Name    Version",
        "numpy     1.26.4",
        "python    3.11.9",
        "zlib      1.2.13",
    ]


def test_fields_are_stripped_and_the_default_list_keeps_default_widths(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL)
    assert _out(capsys, tmp_path, prefix, "--fields", "name, version, build, channel_name") \
        == _out(capsys, tmp_path, prefix)


def test_fields_values(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL)
    lines = _out(capsys, tmp_path, prefix, "--fields", "name,build_number,dist_str,md5")
    assert lines[2] == "# Name    Build number  Dist" + " " * 43 + "  MD5"
    # build_number 0 prints blank (conda renders `value or ""`); dist_str is the method's result
    assert lines[3] == "numpy     3             defaults/linux-64::numpy-1.26.4-py311h24aa872_0  " + "0" * 32
    assert lines[4] == "python                  defaults/linux-64::python-3.11.9-h955ad1f_0      " + "1" * 32
    assert lines[5] == "zlib                    conda-forge/linux-64::zlib-1.2.13-h4ab18f5_6"


def test_fields_channel_url_and_features(tmp_path, capsys):
    prefix = _write_env(tmp_path, (("mkl-dep", "1.0", "0", MAIN, {"features": "mkl blas"}),))
    lines = _out(capsys, tmp_path, prefix, "--fields", "name,features,channel")
    assert lines[2:] == ["# Name     Features    Channel URL",
                         f"mkl-dep    [blas mkl]  {MAIN}/linux-64"]


def test_invalid_field(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL)
    rc, text = _fail(capsys, tmp_path, prefix, "--fields", "name,bogus")
    assert rc == 1
    assert "CustomValidationError: Parameter list_fields = ('name', 'bogus')" in text
    assert "Invalid value(s): ['bogus']" in text


# --- --export / --explicit ----------------------------------------------------------------------

def test_export_header_and_lines(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL)
    assert _out(capsys, tmp_path, prefix, "--export") == [
        "# This file may be used to create an environment using:",
        "# $ conda create --name <env> --file <this file>",
        "# platform: linux-64",
        "# created-by: conda 26.7.1",
        "numpy=1.26.4=py311h24aa872_0", "python=3.11.9=h955ad1f_0", "zlib=1.2.13=h4ab18f5_6"]


@pytest.mark.parametrize("flag, suffix", [(None, {}), ("--md5", {"numpy": "#" + "0" * 32, "python": "#" + "1" * 32}),
                                          ("--sha256", {"numpy": "#" + "a" * 64, "python": "#" + "b" * 64})])
def test_explicit(tmp_path, capsys, flag, suffix):
    prefix = _write_env(tmp_path, SMALL)
    lines = _out(capsys, tmp_path, prefix, "--explicit", *([flag] if flag else []))
    assert lines[:5] == ["# This file may be used to create an environment using:",
                         "# $ conda create --name <env> --file <this file>",
                         "# platform: linux-64", "# created-by: conda 26.7.1", "@EXPLICIT"]
    urls = {line.rsplit("/", 1)[1].split("-", 1)[0]: line for line in lines[5:]}
    assert urls == {
        "numpy": f"{MAIN}/linux-64/numpy-1.26.4-py311h24aa872_0.conda" + suffix.get("numpy", ""),
        "python": f"{MAIN}/linux-64/python-3.11.9-h955ad1f_0.conda" + suffix.get("python", ""),
        "zlib": f"{FORGE}/linux-64/zlib-1.2.13-h4ab18f5_6.conda",  # no checksum recorded: bare URL
    }
    # dependencies first: python before the numpy that depends on it
    assert lines.index(urls["python"]) < lines.index(urls["numpy"])


def test_explicit_strips_auth_unless_asked(tmp_path, capsys):
    url = "https://user:secret@conda.anaconda.org/t/tk-123/private/linux-64/pkg-1.0-0.conda"
    prefix = _write_env(tmp_path, (("pkg", "1.0", "0", FORGE, {"url": url}),))
    assert _out(capsys, tmp_path, prefix, "--explicit")[-1] == \
        "https://conda.anaconda.org/private/linux-64/pkg-1.0-0.conda"
    assert _out(capsys, tmp_path, prefix, "--explicit", "--auth")[-1] == url


def test_md5_and_sha256_together_is_an_argument_error(tmp_path, capsys):
    prefix = _write_env(tmp_path, SMALL)
    rc, text = _fail(capsys, tmp_path, prefix, "--explicit", "--md5", "--sha256")
    assert rc == 2 and "Only one of --md5 and --sha256 can be specified at the same time" in text
