"""Stage 8: the package cache — layout as conda leaves it, reuse, downloads, and the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import PROJECT_ROOT, shared_path
from test_link_support import DEMO, linkdemo_records, make_context


def _pfe(ctx, fns, reporter=None, records=None):
    from conda_deepdive.fetch.fetch_extract import ProgressiveFetchExtract

    records = records or linkdemo_records()
    return ProgressiveFetchExtract([records[f] for f in fns], ctx, reporter)


def test_cache_layout_matches_conda(tmp_path):
    ctx = make_context(tmp_path)
    _pfe(ctx, DEMO).execute()
    ref = json.loads(shared_path("reference", "link", "09_pkgs_cache.json").read_text())
    pkgs = tmp_path / "pkgs"
    ref_top = {e["path"] for e in ref["listing"] if "/" not in e["path"] and e["path"] != "cache"}
    mine_top = {p.name for p in pkgs.iterdir()} - {".conda_deepdive.lock"}
    assert mine_top == ref_top
    assert (pkgs / "urls").read_text() == ""
    channel = shared_path("data", "channels", "linkdemo").as_uri()
    assert sorted((pkgs / "urls.txt").read_text().replace(channel, "file:///tmp/ref/channel").splitlines()) == \
        sorted(ref["urls.txt"].splitlines())
    for dist, want in ref["repodata_record_json"].items():
        mine = json.loads((pkgs / dist / "info" / "repodata_record.json").read_text())
        mine = json.loads(json.dumps(mine).replace(channel, "file:///tmp/ref/channel"))
        if dist.startswith("python-"):  # legacy_bz2_* come from the index stage
            want = {k: v for k, v in want.items() if not k.startswith("legacy_bz2")}
        assert list(mine) == list(want) and mine == want, dist


def test_valid_cache_entries_are_reused(tmp_path):
    from conda_deepdive.fetch.package_cache import PackageCacheData
    from conda_deepdive.reporting import RecordingReporter

    ctx = make_context(tmp_path)
    _pfe(ctx, DEMO).execute()
    rep = RecordingReporter()
    again = _pfe(ctx, DEMO, rep).prepare()
    assert again.cache_actions == () and again.extract_actions == ()
    assert {e.data["decision"] for e in rep.of_stage("fetch") if e.kind == "plan"} == {"cached"}
    # a deleted extracted dir with a valid tarball → extract only
    cache = PackageCacheData(str(tmp_path / "pkgs"))
    import shutil

    shutil.rmtree(tmp_path / "pkgs" / "pyhello-1.0-pyh_0")
    pfe = _pfe(ctx, ("pyhello-1.0-pyh_0.conda",)).prepare()
    assert pfe.cache_actions == () and len(pfe.extract_actions) == 1
    pfe.execute()
    assert cache.get_extracted(linkdemo_records()["pyhello-1.0-pyh_0.conda"]) is not None
    # an extracted dir whose record does not match (another build with the same name) is replaced
    rr = tmp_path / "pkgs" / "softpkg-1.0-0" / "info" / "repodata_record.json"
    rr.write_text(rr.read_text().replace("f2e7cb2b4828f998eccdaecc7ee28689", "0" * 32).replace(
        "c7d773fe2ce9f2fd29ab9f4cba40b9408a7932c1dba1cc236b9b88ad670a09ea", "0" * 64))
    pfe = _pfe(ctx, ("softpkg-1.0-0.conda",)).prepare()
    assert len(pfe.extract_actions) == 1
    pfe.execute()
    assert "f2e7cb2b" in rr.read_text() and not (tmp_path / "pkgs" / "softpkg-1.0-0.c~").exists()


def test_read_only_cache_tarball_is_copied(tmp_path):
    first = tmp_path / "first"
    _pfe(make_context(first), ("softpkg-1.0-0.conda",)).execute()
    ctx = make_context(tmp_path, pkgs_dirs=[str(tmp_path / "mine"), str(first / "pkgs")])
    # make the writable cache the first one by making it exist; the other has the tarball
    (tmp_path / "mine").mkdir()
    import shutil

    shutil.rmtree(first / "pkgs" / "softpkg-1.0-0")
    pfe = _pfe(ctx, ("softpkg-1.0-0.conda",)).prepare()
    (cache,) = pfe.cache_actions
    assert cache.url.startswith("file://") and str(first / "pkgs") in cache.url
    pfe.execute()
    assert (tmp_path / "mine" / "softpkg-1.0-0" / "info" / "index.json").exists()


@pytest.fixture()
def http_channel():
    root = shared_path("data", "channels", "linkdemo")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_http_downloads_run_in_parallel_with_progress(tmp_path, http_channel):
    from conda_deepdive.models import PackageRecord
    from conda_deepdive.reporting import RecordingReporter

    records = {}
    for fn, rec in linkdemo_records().items():
        d = rec.to_dict() if hasattr(rec, "to_dict") else dict(vars(rec))
        d["url"] = f"{http_channel}/{rec.subdir}/{fn}"
        d.pop("channel", None)
        records[fn] = PackageRecord.from_dict(d)
    rep = RecordingReporter()
    ctx = make_context(tmp_path, fetch_threads=3)
    pfe = _pfe(ctx, DEMO, rep, records)
    pfe.execute()
    actions = [e.data for e in rep.of_stage("fetch") if e.kind == "action"]
    assert sorted(a["action"] for a in actions).count("CacheUrlAction") == 5
    progress = [e.data for e in rep.of_stage("fetch") if e.kind == "progress"]
    assert any(p["done"] == p["total"] and "download" in p["task"] for p in progress)
    urls = (tmp_path / "pkgs" / "urls.txt").read_text()
    assert f"{http_channel}/noarch/pyhello-1.0-pyh_0.conda" in urls


def test_offline_refuses_to_download(tmp_path, http_channel):
    from conda_deepdive.exceptions import OfflineError
    from conda_deepdive.models import PackageRecord

    rec = linkdemo_records()["softpkg-1.0-0.conda"]
    d = rec.to_dict()
    d.pop("channel", None)
    d["url"] = f"{http_channel}/linux-64/softpkg-1.0-0.conda"
    with pytest.raises(OfflineError):
        _pfe(make_context(tmp_path, offline=True), ("x",), records={"x": PackageRecord.from_dict(d)}).execute()


_HOLDER = """
import sys, time
from conda_deepdive.fetch.package_cache import PackageCacheData
with PackageCacheData(sys.argv[1]).lock():
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
print(time.time(), flush=True)
"""

_INSTALLER = """
import sys, time, json
sys.path.insert(0, sys.argv[2])
from test_link_support import linkdemo_records, make_context, DEMO
from conda_deepdive.fetch.fetch_extract import ProgressiveFetchExtract
from pathlib import Path
recs = linkdemo_records()
ProgressiveFetchExtract([recs[f] for f in DEMO], make_context(Path(sys.argv[1]))).execute()
print(time.time(), flush=True)
"""


def test_two_processes_sharing_a_cache(tmp_path):
    """The lock serialises writers: an install waits for a holder, and two concurrent installs
    into one cache both succeed and leave it consistent."""
    shared_path("data", "channels", "linkdemo")  # skip here, not in the child processes
    tests_dir = str(PROJECT_ROOT / "tests")
    env = dict(os.environ, PYTHONPATH=tests_dir)
    pkgs = str(tmp_path / "pkgs")
    os.makedirs(pkgs)
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, pkgs, "1.5"], stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout.readline().strip() == "locked"
    installers = [subprocess.Popen([sys.executable, "-c", _INSTALLER, str(tmp_path), tests_dir],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                  for _ in range(2)]
    released = float(holder.communicate(timeout=60)[0].strip())
    for proc in installers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert float(out.strip()) >= released  # it had to wait for the lock
    from conda_deepdive.fetch.package_cache import PackageCacheData

    cache = PackageCacheData(pkgs)
    records = linkdemo_records()
    for fn in DEMO:
        assert cache.get_extracted(records[fn]) is not None
        assert cache.get_valid_tarball(records[fn])
    assert not [n for n in os.listdir(pkgs) if n.endswith((".partial", ".c~"))]
    assert len((tmp_path / "pkgs" / "urls.txt").read_text().splitlines()) == len(DEMO)  # fetched once
