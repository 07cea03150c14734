"""Stage 9 for real: link the linkdemo packages into a prefix and compare with real conda 26.7.1."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import shared_path
from test_link_support import (  # noqa: F401  (warm_pkgs is a fixture)
    DEMO, PY, copy_cache, linkdemo_records, make_context, test_env, transaction, warm_pkgs,
)

REF_PREFIX = "/tmp/ref/envs/demo"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, warm_pkgs):
    """``conda create -p <prefix> pyhello hookpkg softpkg`` done once for this module."""
    from conda_deepdive.reporting import RecordingReporter

    base = tmp_path_factory.mktemp("demo")
    copy_cache(warm_pkgs, base)
    prefix = base / "envs" / "demo"
    rep = RecordingReporter()
    txn = transaction(prefix, DEMO, ctx=make_context(base), env=test_env(base),
                      specs=("pyhello", "hookpkg", "softpkg"), reporter=rep)
    txn.execute()
    return {"base": base, "prefix": prefix, "txn": txn, "rep": rep}


def _norm(text: str, demo) -> str:
    return (text.replace(str(demo["prefix"]), REF_PREFIX)
            .replace(str(demo["base"] / "pkgs"), "/tmp/ref/pkgs")
            .replace(str(shared_path("data", "channels", "linkdemo")), "/tmp/ref/channel"))


def test_python_and_entry_points_run(demo):
    prefix = demo["prefix"]
    out = subprocess.run([str(prefix / "bin" / "python"), "-c", "import pyhello, sys; print(pyhello.__file__)"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(prefix / "lib/python3.11/site-packages/pyhello/__init__.py")
    greet = subprocess.run([str(prefix / "bin" / "pyhello-greet"), "conda"], capture_output=True, text=True)
    assert greet.stdout == "HELLO, CONDA!\n"
    legacy = subprocess.run([str(prefix / "bin" / "pyhello-legacy")], capture_output=True, text=True)
    assert legacy.returncode == 0 and legacy.stdout.startswith("pyhello-legacy ")


def test_conda_meta_records_match_real_conda(demo):
    ref_dir = shared_path("reference", "link", "conda-meta", "demo")
    for fn in sorted(os.listdir(ref_dir)):
        if not fn.endswith(".json"):
            continue
        ref = json.loads((ref_dir / fn).read_text())
        mine = json.loads(_norm((demo["prefix"] / "conda-meta" / fn).read_text(), demo))
        if fn.startswith("python-"):  # the index stage adds these (both formats in the channel)
            ref.pop("legacy_bz2_md5"), ref.pop("legacy_bz2_size")
        assert list(mine) == list(ref), fn
        for key in ref:
            if key != "paths_data":
                assert mine[key] == ref[key], (fn, key)
        for a, b in zip(mine["paths_data"]["paths"], ref["paths_data"]["paths"]):
            assert list(a) == list(b), (fn, a["_path"])
            # sizes/hashes of rewritten or generated files depend on the prefix's length
            generated = b["path_type"] in ("pyc_file", "unix_python_entry_point")
            for key in b:
                if key == "sha256_in_prefix" and "prefix_placeholder" in b or key == "size_in_bytes" and generated:
                    continue
                assert a[key] == b[key], (fn, a["_path"], key)
        assert len(mine["paths_data"]["paths"]) == len(ref["paths_data"]["paths"])


def test_sha256_in_prefix_is_the_hash_of_the_linked_file(demo):
    import hashlib

    rec = json.loads((demo["prefix"] / "conda-meta" / "python-3.11.2-mini_0.json").read_text())
    for path, pd in zip(rec["files"], rec["paths_data"]["paths"]):
        if "sha256_in_prefix" in pd:
            data = (demo["prefix"] / path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == pd["sha256_in_prefix"], path


def test_link_methods_as_observed(demo):
    prefix = demo["prefix"]
    assert os.stat(prefix / "share/softpkg/doc/README.txt").st_nlink == 2       # hard link
    assert os.stat(prefix / "etc/mini-python/nolink.cfg").st_nlink == 1         # no_link → copy
    assert os.stat(prefix / "bin/minipy-where").st_nlink == 1                   # binary placeholder
    assert os.readlink(prefix / "lib/libsoft.so") == "libsoft.so.1"            # relative symlink
    # absolute symlink: conda writes a copy of its target (03_link_methods_demo.json: "copy")
    assert not os.path.islink(prefix / "bin/softpkg-sh")
    assert (prefix / "bin/softpkg-sh").read_bytes() == open("/bin/sh", "rb").read()
    assert os.stat(prefix / "bin/softpkg-sh").st_nlink == 1
    assert os.readlink(prefix / "share/doc/softpkg") == "../softpkg/doc"       # directory symlink
    binary = (prefix / "bin/minipy-where").read_bytes()
    assert len(binary) == 14480 and str(prefix).encode() + b"\0" in binary


def test_entry_points_are_written_like_conda(demo):
    ref = json.loads(shared_path("reference", "link", "05_entry_points_demo.json").read_text())["scripts"]
    for name in ("pyhello", "pyhello-greet", "pip", "pip3", "pyhello-legacy"):
        text = _norm((demo["prefix"] / "bin" / name).read_text(), demo)
        assert text == ref[name]["text"], name
        assert oct(os.stat(demo["prefix"] / "bin" / name).st_mode & 0o777) == ref[name]["mode"]


def test_pyc_layout_and_headers(demo):
    import marshal

    ref = json.loads(shared_path("reference", "link", "06_pyc_demo.json").read_text())
    for entry in ref["pyc_files"]:
        data = (demo["prefix"] / entry["path"]).read_bytes()
        assert data[:4].hex() == entry["magic"]
        assert int.from_bytes(data[4:8], "little") == entry["flags"]            # timestamp-based
        assert int.from_bytes(data[8:12], "little") == entry["header_source_mtime"]
        assert int.from_bytes(data[12:16], "little") == entry["header_source_size"]
        assert marshal.loads(data[16:]).co_filename == entry["co_filename"]     # relative path


def test_history_created_at_and_messages(demo):
    prefix = demo["prefix"]
    history = (prefix / "conda-meta/history").read_text()
    ref = json.loads(shared_path("reference", "link", "08_history_demo.json").read_text())["history"]
    mine_lines = _norm(history, demo).splitlines()
    ref_lines = ref.splitlines()
    assert mine_lines[0].startswith("==> ") and mine_lines[0].endswith(" <==")
    assert mine_lines[2:-1] == ref_lines[2:-1]                   # version line and +dists
    assert mine_lines[-1].startswith("# update specs: ") and sorted(eval(mine_lines[-1][16:])) == sorted(eval(ref_lines[-1][16:]))
    float((prefix / "conda-meta/created_at").read_text())
    assert not (prefix / ".messages.txt").exists() and not (prefix / ".condatmp").exists()
    messages = [r.messages for r in demo["txn"].script_results if r.messages]
    assert any("post-link says hi" in m for m in messages)


def test_script_environment_matches_conda(demo):
    ref = json.loads(shared_path("reference", "link", "10_hook_markers_demo.json").read_text())["markers_after_create"]
    for marker in ("pre-link.marker", "post-link.marker"):
        mine = dict(line.split("=", 1) for line in
                    _norm((demo["prefix"] / "var/hookpkg" / marker).read_text(), demo).splitlines() if "=" in line)
        want = dict(line.split("=", 1) for line in ref[marker].splitlines() if "=" in line)
        for key in ("action", "pwd", "PREFIX", "PKG_NAME", "PKG_VERSION", "PKG_BUILDNUM", "CONDA_PREFIX",
                    "CONDA_DEFAULT_ENV", "CONDA_SHLVL", "SOURCE_DIR", "bin_listing"):
            assert mine[key] == want[key], (marker, key)
        assert mine["PATH_head"].split(":")[0] == want["PATH_head"].split(":")[0]


def test_tracer_gets_one_event_per_action_in_order(demo):
    events = [e for e in demo["rep"].of_stage("link") if e.kind == "action"]
    assert [e.data["number"] for e in events] == list(range(1, len(events) + 1))
    kinds = [e.data["action"] for e in events]
    # conda's order: link all files, entry points, then one compile, records, register, history
    assert kinds.index("CreatePythonEntryPointAction") > max(i for i, k in enumerate(kinds) if k == "LinkPathAction")
    assert kinds.index("AggregateCompileMultiPycAction") < kinds.index("CreatePrefixRecordAction")
    assert kinds[-2:] == ["RegisterEnvironmentLocationAction", "UpdateHistoryAction"]
    assert kinds.count("AggregateCompileMultiPycAction") == 1


def test_remove_renames_to_c_tilde_and_keeps_conda_quirks(tmp_path, warm_pkgs):
    copy_cache(warm_pkgs, tmp_path)
    ctx, env = make_context(tmp_path), test_env(tmp_path)
    prefix = tmp_path / "envs" / "demo"
    records = linkdemo_records()
    transaction(prefix, DEMO, ctx=ctx, env=env, specs=("pyhello", "hookpkg", "softpkg"), records=records).execute()
    before = {str(p.relative_to(prefix)) for p in prefix.rglob("*")}
    transaction(prefix, (), ("softpkg-1.0-0.conda", "hookpkg-1.0-0.tar.bz2"), ctx=ctx, env=env,
                remove_specs=("softpkg", "hookpkg"), records=records).execute()
    after = {str(p.relative_to(prefix)) for p in prefix.rglob("*")}
    ref = json.loads(shared_path("reference", "link", "12b_remove_softpkg.json").read_text())["diff"]
    removed = before - after
    assert set(ref["removed"]) <= removed
    assert "share/doc/softpkg.c~" in after               # conda leaves the renamed dir symlink
    assert "var/hookpkg/pre-unlink.marker" in after     # pre-unlink ran …
    assert "var/hookpkg/post-unlink.marker" not in after  # … post-unlink could not
    history = (prefix / "conda-meta/history").read_text()
    assert "-" + str(records["softpkg-1.0-0.conda"].dist_str()) in history
    assert "# remove specs: ['softpkg', 'hookpkg']" in history
    assert not any(p.endswith(".c~") and p != "share/doc/softpkg.c~" for p in after)


def test_long_prefix_and_space_in_parent_use_conda_shebang_forms(tmp_path, warm_pkgs):
    copy_cache(warm_pkgs, tmp_path)
    ctx, env = make_context(tmp_path), test_env(tmp_path)
    records = linkdemo_records()
    for prefix in (tmp_path / ("long_" + "x" * 110) / "env", tmp_path / "sp ace" / "env"):
        transaction(prefix, ("python-3.11.2-mini_0.conda", "pip-24.0-pyh_0.tar.bz2", "pyhello-1.0-pyh_0.conda"),
                    ctx=ctx, env=env, specs=("pyhello",), records=records).execute()
        script = (prefix / "bin/pyhello").read_text()
        assert script.startswith(f"#!/bin/sh\n'''exec' \"{prefix}/bin/python3.11\" \"$0\" \"$@\" #'''\n")
        assert (prefix / "bin/pyhello-legacy").read_text().startswith("#!/usr/bin/env python\n")
        run = subprocess.run([str(prefix / "bin/pyhello")], capture_output=True, text=True)
        assert run.returncode == 0 and "pyhello 1.0" in run.stdout


def test_padding_error_at_verify_time(tmp_path, warm_pkgs):
    from conda_deepdive.exceptions import PaddingError

    copy_cache(warm_pkgs, tmp_path)
    prefix = tmp_path / ("d" * 130) / ("e" * 130) / "toolong"
    txn = transaction(prefix, PY, ctx=make_context(tmp_path), env=test_env(tmp_path))
    with pytest.raises(PaddingError, match="Placeholder of length '255' too short in package .*bin/minipy-where"):
        txn.execute()
    assert txn.executed_log == []                      # nothing was linked
    assert not (prefix / "bin").exists() and not (prefix / ".condatmp").exists()


def test_update_relinks_a_package(tmp_path, warm_pkgs):
    copy_cache(warm_pkgs, tmp_path)
    ctx, env = make_context(tmp_path), test_env(tmp_path)
    prefix = tmp_path / "envs" / "u"
    records = linkdemo_records()
    transaction(prefix, (*PY, "pyhello-1.0-pyh_0.conda"), ctx=ctx, env=env, specs=("pyhello",), records=records).execute()
    txn = transaction(prefix, ("pyhello-1.0-pyh_0.conda",), ("pyhello-1.0-pyh_0.conda",), ctx=ctx, env=env,
                      specs=("pyhello",), records=records)
    txn.execute()
    assert subprocess.run([str(prefix / "bin/pyhello")], capture_output=True).returncode == 0
    assert not list(prefix.rglob("*.c~"))
    assert txn.json_actions()["UNLINK"][0]["dist_name"] == "pyhello-1.0-pyh_0"


def test_every_real_package_extracts_and_links(tmp_path):
    """Each package of ../shared/data/packages: extracted, then linked into its own prefix — or,
    for the malformed ones, refused with a clear CondaError and nothing left behind."""
    from conda_deepdive.exceptions import CondaError, CorruptedArchiveError
    from conda_deepdive.fetch.fetch_extract import ProgressiveFetchExtract
    from conda_deepdive.models import Channel, PackageRecord

    packages = shared_path("data", "packages")
    ctx, env = make_context(tmp_path), test_env(tmp_path)
    outcome = {}
    for fn in sorted(os.listdir(packages)):
        name, version, build = fn.rsplit(".tar.bz2" if fn.endswith(".tar.bz2") else ".conda", 1)[0].rsplit("-", 2)
        rec = PackageRecord.from_dict(dict(name=name, version=version, build=build, build_number=0, fn=fn,
                                           subdir="linux-64", url=(packages / fn).as_uri(),
                                           channel=Channel((packages).as_uri())))
        try:
            ProgressiveFetchExtract([rec], ctx).execute()
        except CorruptedArchiveError as exc:
            outcome[fn] = "refused: " + str(exc).splitlines()[0]
            assert not (tmp_path / "pkgs" / fn[: -len(".conda")]).exists()
            continue
        prefix = tmp_path / "envs" / fn.replace(".", "_")
        # noarch: python packages need a python in the prefix: give them the linkdemo one
        extra = ()
        info = json.loads((tmp_path / "pkgs" / rec.fn.rsplit(".", 2 if fn.endswith(".bz2") else 1)[0] / "info" / "index.json").read_text())
        if info.get("noarch") == "python" or "py_" in build or build.startswith("pyh"):
            extra = PY
        records = {**linkdemo_records(), fn: rec}
        try:
            transaction(prefix, (*extra, fn), ctx=ctx, env=env, records=records).execute()
            outcome[fn] = "linked"
            meta = json.loads(next((prefix / "conda-meta").glob(f"{name}-*.json")).read_text())
            for f in meta["files"]:
                assert os.path.lexists(prefix / f), (fn, f)
        except CondaError as exc:
            outcome[fn] = f"refused at link: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            assert not list(prefix.glob("conda-meta/*.json")), fn   # nothing recorded …
            assert not list(prefix.glob("bin/*")) and not (prefix / ".condatmp").exists()  # … or linked
    assert outcome["ca-certificates-2024.7.4-hbcca054_0.conda"].startswith("refused")
    linked = [fn for fn, o in outcome.items() if o == "linked"]
    print(json.dumps(outcome, indent=1))
    assert len(linked) >= 10, outcome


@pytest.mark.slow
def test_numpy_from_the_teaching_channel_via_the_cli(tmp_path):
    """The whole pipeline, for real: ``create -p <env> numpy`` from the embedded pkgs/main."""
    import sys

    from conftest import TEACHING_CHANNELS

    main = TEACHING_CHANNELS / "pkgs" / "main"
    if not (main / "linux-64" / "repodata.json").exists():
        pytest.skip("teaching channel conda_deepdive/data/channels/pkgs/main is not built")
    prefix = tmp_path / "env"
    env = dict(test_env(tmp_path), CONDA_PKGS_DIRS=str(tmp_path / "pkgs"))
    run = subprocess.run([sys.executable, "-m", "conda_deepdive", "create", "-y", "-p", str(prefix),
                          "--override-channels", "-c", main.as_uri(), "numpy"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    check = subprocess.run([str(prefix / "bin" / "python"), "-c", "import numpy; print(numpy.__file__)"],
                           capture_output=True, text=True, env=env)
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip().startswith(str(prefix / "lib"))
    pip = subprocess.run([str(prefix / "bin" / "pip"), "--version"], capture_output=True, text=True, env=env)
    assert pip.returncode == 0, pip.stderr                   # an entry point conda-deepdive wrote
    history = (prefix / "conda-meta" / "history").read_text()
    assert "# update specs: ['numpy']" in history and "::numpy-" in history


def test_removing_pyhello_removes_exactly_what_conda_removes(tmp_path, warm_pkgs):
    copy_cache(warm_pkgs, tmp_path)
    ctx, env = make_context(tmp_path), test_env(tmp_path)
    prefix = tmp_path / "envs" / "demo"
    records = linkdemo_records()
    transaction(prefix, (*PY, "pyhello-1.0-pyh_0.conda"), ctx=ctx, env=env, specs=("pyhello",), records=records).execute()
    before = {str(p.relative_to(prefix)) for p in prefix.rglob("*")}
    history_before = (prefix / "conda-meta/history").read_text()
    transaction(prefix, (), ("pyhello-1.0-pyh_0.conda",), ctx=ctx, env=env, remove_specs=("pyhello",),
                records=records).execute()
    after = {str(p.relative_to(prefix)) for p in prefix.rglob("*")}
    ref = json.loads(shared_path("reference", "link", "11_remove_pyhello.json").read_text())
    assert sorted(before - after) == sorted(ref["diff"]["removed"])
    assert after - before == set()
    appended = (prefix / "conda-meta/history").read_text()[len(history_before):]
    ref_lines = ref["history_appended"].splitlines()
    mine_lines = appended.replace(shared_path("data", "channels", "linkdemo").as_uri(), "file:///tmp/ref/channel").splitlines()
    assert mine_lines[2:] == ref_lines[2:]


def test_every_path_is_linked_by_the_method_conda_used(demo):
    """03_link_methods_demo.json: per path, conda's result kind (file / symlink) and link count —
    an absolute symlink (``bin/softpkg-sh -> /bin/sh``) is a one-link copy of its target."""
    ref = json.loads(shared_path("reference", "link", "03_link_methods_demo.json").read_text())
    prefix = demo["prefix"]
    checked = 0
    for entry in ref:
        path = prefix / entry["path"]
        if entry["kind"] == "symlink":
            assert path.is_symlink(), entry["path"]
        elif entry["kind"] == "file" and entry["method"] in ("copy", "hardlink"):
            assert path.is_file() and not path.is_symlink(), entry["path"]
            assert os.stat(path).st_nlink == entry["nlink"], entry["path"]
        else:
            continue
        checked += 1
    assert checked > 20
