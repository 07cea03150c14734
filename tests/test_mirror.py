"""The mirror stage against a loopback HTTP server: fidelity, incremental runs, filters, closure.

The upstream is a copy of the bundled teaching channel ``pkgs/main`` (so tests may change it),
served by :mod:`mirror_fault_server` (no network). Faults, kill -9 and the CLI are in
``test_mirror_faults.py``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conda_deepdive.config.teaching_defaults import channels_dir
from conda_deepdive.mirror.conda_mirror import check_consistency, client_condarc, mirror_channel
from conda_deepdive.mirror.filters import MirrorConfig, apply_filters, load_mirror_config
from conda_deepdive.reporting import RecordingReporter

from mirror_fault_server import FaultServer

pytestmark = pytest.mark.network


@pytest.fixture
def upstream(tmp_path) -> Path:
    root = tmp_path / "upstream"
    shutil.copytree(channels_dir() / "pkgs" / "main", root / "main")
    return root


@pytest.fixture
def server(upstream):
    with FaultServer(upstream) as srv:
        yield srv


def _files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())
            if p.is_file() and p.name.endswith((".conda", ".tar.bz2"))}


def test_mirror_equals_upstream(server, upstream, tmp_path):
    target = tmp_path / "mirror" / "main"
    rec = RecordingReporter()
    result = mirror_channel(f"{server.url}/main", target, ["linux-64"], num_threads=4, reporter=rec)
    assert result.exit_code == 0, result
    for subdir in ("linux-64", "noarch"):
        up, mine = upstream / "main" / subdir, target / subdir
        # nothing left out: upstream's index bytes, as they are
        assert (mine / "repodata.json").read_bytes() == (up / "repodata.json").read_bytes()
        assert _files(mine) == _files(up)
        # current_repodata.json recomputed as conda-index computes it
        assert json.loads((mine / "current_repodata.json").read_text()) == \
            json.loads((up / "current_repodata.json").read_text())
        import bz2
        import zstandard
        raw = (mine / "repodata.json").read_bytes()
        assert bz2.decompress((mine / "repodata.json.bz2").read_bytes()) == raw
        assert zstandard.ZstdDecompressor().decompressobj().decompress(
            (mine / "repodata.json.zst").read_bytes()) == raw
    assert json.loads((target / "channeldata.json").read_text()) == \
        json.loads((upstream / "main" / "channeldata.json").read_text())
    assert check_consistency(target) == []
    kinds = rec.kinds("mirror")
    assert kinds[0] == "stage_started" and kinds[-1] == "stage_finished"
    assert "progress" in kinds and "download_finished" in kinds and "published" in kinds
    assert "exit 0" in repr(result) and result.summary()["files_downloaded"] == 112


def test_unchanged_rerun_downloads_nothing(server, tmp_path):
    target = tmp_path / "m"
    first = mirror_channel(f"{server.url}/main", target, ["linux-64"])
    assert first.downloaded_files == 112
    before = server.package_requests()
    again = mirror_channel(f"{server.url}/main", target, ["linux-64"])
    assert again.exit_code == 0 and again.downloaded_files == 0 and again.skipped == 112
    assert server.package_requests() == before  # not one package request
    assert [s.index_status for s in again.subdirs] == [304, 304]  # conditional GET
    assert (server.statuses[-1][1] in (304, 200))


def test_lost_state_verifies_once_without_downloading(server, tmp_path):
    target = tmp_path / "m"
    mirror_channel(f"{server.url}/main", target, ["linux-64"])
    for state in target.glob("*/.mirror-state.json"):
        state.unlink()
    before = server.package_requests()
    again = mirror_channel(f"{server.url}/main", target, ["linux-64"])
    assert again.downloaded_files == 0 and server.package_requests() == before
    assert all((target / sd / ".mirror-state.json").exists() for sd in ("linux-64", "noarch"))


def test_filtered_index_keeps_upstream_shape(server, upstream, tmp_path):
    conf = tmp_path / "conf.yaml"
    conf.write_text("blacklist:\n    - name: 'numpy'\nwhitelist:\n    - version: '2.1.*'\n      name: numpy\n")
    config = load_mirror_config(str(conf))
    target = tmp_path / "m"
    result = mirror_channel(f"{server.url}/main", target, ["linux-64"], config=config)
    assert result.exit_code == 0
    up = json.loads((upstream / "main" / "linux-64" / "repodata.json").read_text())
    mine = json.loads((target / "linux-64" / "repodata.json").read_text())
    assert list(mine) == list(up)  # info, packages, packages.conda, removed, repodata_version
    assert mine["removed"] == up["removed"] and mine["repodata_version"] == up["repodata_version"]
    numpy = {r["version"] for k in ("packages", "packages.conda") for r in mine[k].values() if r["name"] == "numpy"}
    assert numpy == {"2.1.3"}
    for key in ("packages", "packages.conda"):
        assert list(mine[key]) == [fn for fn in up[key] if fn in mine[key]]  # upstream's order
        for fn, rec in mine[key].items():
            assert rec == up[key][fn]
    on_disk = set(_files(target / "linux-64"))
    assert on_disk == set(mine["packages"]) | set(mine["packages.conda"])
    assert check_consistency(target) == []


def test_conda_mirror_matching_rules():
    packages = {
        "a-1-py27_0.tar.bz2": {"name": "a", "version": "1", "build": "py27_0", "build_number": 0},
        "a-2-py36_0.tar.bz2": {"name": "a", "version": "2", "build": "py36_0", "build_number": 0},
        "B-3-py27_1.tar.bz2": {"name": "B", "version": "3", "build": "py27_1", "build_number": 1},
    }
    seed = MirrorConfig(blacklist=({"build": "py2*"},), whitelist=({"build": "py3*"},))
    assert apply_filters(packages, seed).kept == {"a-2-py36_0.tar.bz2"}
    # lower-cased on both sides, every key of an item must match
    assert apply_filters(packages, MirrorConfig(blacklist=({"name": "b", "build": "PY27*"},))).kept == \
        {"a-1-py27_0.tar.bz2", "a-2-py36_0.tar.bz2"}
    # a version pattern with spec characters is a conda version spec
    assert apply_filters(packages, MirrorConfig(blacklist=({"version": ">=2"},))).kept == {"a-1-py27_0.tar.bz2"}
    # build number comparison (conda-mirror sent these to a build-number matcher)
    assert apply_filters(packages, MirrorConfig(blacklist=({"build": ">=1"},))).kept == \
        {"a-1-py27_0.tar.bz2", "a-2-py36_0.tar.bz2"}
    # a whitelist alone changes nothing
    assert apply_filters(packages, MirrorConfig(whitelist=({"name": "a"},))).kept == set(packages)
    got = apply_filters(packages, None, include=["a"], exclude=["a<2"])
    assert got.kept == {"a-2-py36_0.tar.bz2"}
    assert got.dropped["a-1-py27_0.tar.bz2"] == "--exclude a<2"


def test_removed_only_after_new_index_and_keep_removed(server, tmp_path):
    target = tmp_path / "m"
    mirror_channel(f"{server.url}/main", target, ["linux-64"])
    keep = mirror_channel(f"{server.url}/main", target, ["linux-64"], exclude=["numpy"], keep_removed=True)
    assert keep.removed == () and any(p.name.startswith("numpy") for p in (target / "linux-64").iterdir())
    index = json.loads((target / "linux-64" / "repodata.json").read_text())
    assert not any(r["name"] == "numpy" for r in index["packages.conda"].values())
    gone = mirror_channel(f"{server.url}/main", target, ["linux-64"], exclude=["numpy"])
    assert gone.removed and all("numpy" in r for r in gone.removed)
    assert not any(p.name.startswith("numpy") for p in (target / "linux-64").iterdir())
    assert check_consistency(target) == []


def test_upstream_removal_and_rebuilt_file(server, upstream, tmp_path):
    """A file upstream drops goes after the new index; a file rebuilt under the same name is
    withdrawn from the live index before its new bytes take the name."""
    target = tmp_path / "m"
    mirror_channel(f"{server.url}/main", target, ["linux-64"])
    up = upstream / "main" / "linux-64"
    index = json.loads((up / "repodata.json").read_text())
    fn = "zlib-1.2.13-h5eee18b_1.conda"
    del index["packages.conda"][fn]
    (up / fn).unlink()
    (up / "repodata.json").write_text(json.dumps(index, indent=2))
    result = mirror_channel(f"{server.url}/main", target, ["linux-64"])
    assert result.exit_code == 0 and "linux-64/" + fn in result.removed
    assert not (target / "linux-64" / fn).exists()
    assert check_consistency(target) == []


def test_dry_run_changes_nothing(server, tmp_path):
    target = tmp_path / "m"
    result = mirror_channel(f"{server.url}/main", target, ["linux-64"], dry_run=True)
    assert result.dry_run and result.downloaded_files == 112 and len(result.planned) == 112
    assert not target.exists() or not any(target.rglob("*.conda"))
    assert server.package_requests() == 0


def test_parallel_downloads_overlap(upstream, tmp_path):
    with FaultServer(upstream, latency=0.05) as srv:
        result = mirror_channel(f"{srv.url}/main", tmp_path / "m", ["linux-64"], include=["numpy"],
                                num_threads=8)
    assert result.exit_code == 0
    assert srv.max_in_flight >= 4  # conda-mirror: always 1


def test_closure_solves_the_same_offline(tmp_path, env):
    """--closure numpy: the solver's reduced index over linux-64 + noarch. Solving `create numpy`
    against the mirror alone gives the same plan as against upstream."""
    from conda_deepdive.cli.main import main

    up_url = (channels_dir() / "pkgs" / "main").as_uri()
    target = tmp_path / "m"
    result = mirror_channel(up_url, target, ["linux-64"], closure=["numpy"])
    assert result.exit_code == 0
    names = {fn.split("/", 1)[1].rsplit("-", 2)[0] for fn in result.closure_pulled_by}
    assert {"numpy", "python", "pip", "openssl"} <= names  # pip: conda makes it a python dependency
    assert not names & {"cowsay", "tablekit", "plotkit"}
    assert all(why == ("numpy",) for why in result.closure_pulled_by.values())

    def plan(channel: str) -> list:
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = main(["create", "--dry-run", "--json", "-p", str(tmp_path / "env"), "--override-channels",
                       "-c", channel, "numpy"], env=env)
        assert rc == 0, out.getvalue()
        doc = json.loads(out.getvalue())
        return sorted((a["name"], a["version"], a["build_string"]) for a in doc["actions"]["LINK"])

    assert plan(target.as_uri()) == plan(up_url)


def test_client_condarc_explains_cloud(tmp_path):
    text, why = client_condarc(tmp_path / "anaconda" / "cloud" / "conda-forge")
    assert "custom_channels:\n  conda-forge: file://" in text and why and "anaconda/cloud" in why
    text, why = client_condarc(tmp_path / "anaconda" / "pkgs" / "main")
    assert why is None and text.startswith("channel_alias: file://")


def test_rebuilt_file_leaves_the_index_before_it_is_replaced(server, upstream, tmp_path):
    """Upstream rebuilt a package under the same name: while its new bytes download, the live
    index must not name it (the old bytes would not match the new record, nor the reverse)."""
    from conda_deepdive.reporting import Reporter

    target = tmp_path / "m"
    mirror_channel(f"{server.url}/main", target, ["linux-64"], include=["zlib"])
    up = upstream / "main" / "linux-64"
    fn, donor = "zlib-1.2.13-h5eee18b_1.conda", "xz-5.4.6-h5eee18b_1.conda"
    index = json.loads((up / "repodata.json").read_text())
    # a "rebuild": other bytes under the same name (a zip whose info says zlib would be more
    # realistic; the archive check then fails, which is also a case worth seeing)
    shutil.copy(up / donor, up / fn)
    index["packages.conda"][fn].update(sha256=index["packages.conda"][donor]["sha256"],
                                       md5=index["packages.conda"][donor]["md5"],
                                       size=index["packages.conda"][donor]["size"])
    (up / "repodata.json").write_text(json.dumps(index, indent=2))
    seen = []

    class Watch(Reporter):
        def event(self, stage, kind, **data):
            if kind == "download_started" and data["fn"] == fn:
                live = json.loads((target / "linux-64" / "repodata.json").read_text())
                seen.append(fn in live["packages.conda"])

    result = mirror_channel(f"{server.url}/main", target, ["linux-64"], include=["zlib"], reporter=Watch())
    assert seen == [False]
    assert result.exit_code == 1 and "info/index.json says name='xz'" in result.failures[0].reason
    assert check_consistency(target) == []


def test_progress_renderer_plain_and_rich(server, tmp_path):
    import io

    from conda_deepdive.render.mirror_progress import MirrorProgress

    server.add_fault("/main/linux-64/zlib-1.2.13-h5eee18b_1.conda", "404")
    plain = io.StringIO()
    result = mirror_channel(f"{server.url}/main", tmp_path / "a", ["linux-64"], include=["zlib", "xz"],
                            reporter=MirrorProgress(plain, tty=False, verbosity=1))
    text = plain.getvalue()
    assert result.exit_code == 1
    assert "FAILED linux-64/zlib-1.2.13-h5eee18b_1.conda: HTTP 404" in text
    assert "ok linux-64/xz-5.4.6-h5eee18b_1.conda" in text
    rich_out = io.StringIO()
    progress = MirrorProgress(rich_out, tty=True)
    assert mirror_channel(f"{server.url}/main", tmp_path / "b", ["linux-64"], reporter=progress).exit_code == 0
    assert progress._progress is None and progress._tasks == {}  # every bar closed


def test_upstream_names_resolve_like_the_seed_tree():
    from conda_deepdive.config.context import Context
    from conda_deepdive.mirror.conda_mirror import default_target, resolve_upstream

    real = Context.load(env={"HOME": "/nonexistent", "CONDA_DEEPDIVE_REAL_DEFAULTS": "1"})
    assert resolve_upstream("main", real) == ("https://repo.anaconda.com/pkgs/main", "main", True)
    assert resolve_upstream("free", real) == ("https://repo.anaconda.com/pkgs/free", "free", True)
    assert resolve_upstream("conda-forge", real) == ("https://conda.anaconda.org/conda-forge", "conda-forge", False)
    teaching = Context.load(env={"HOME": "/nonexistent"})
    url, name, is_defaults = resolve_upstream("main", teaching)
    assert url == (channels_dir() / "pkgs" / "main").as_uri() and is_defaults
    assert default_target("conda-forge", False, "/x").as_posix() == "/x/anaconda/cloud/conda-forge"
    assert default_target("main", True, "/x").as_posix() == "/x/anaconda/pkgs/main"


def test_checker_reads_one_instant_not_two(server, tmp_path, monkeypatch):
    """The consistency checker reads an index, then checks its files. A sync that publishes a
    new index and deletes what it no longer names *during* that pass is not an inconsistency
    (each moment was consistent); the checker redoes such a pass. A file really missing at
    rest is still reported."""
    from conda_deepdive.mirror import conda_mirror
    from conda_deepdive.mirror.publish import atomic_write_bytes

    target = tmp_path / "m"
    assert mirror_channel(f"{server.url}/main", target, ["linux-64"], include=["xz"]).exit_code == 0
    subdir = target / "linux-64"
    index = json.loads((subdir / "repodata.json").read_text())
    gone = sorted(index["packages.conda"])[0]
    real_hash = conda_mirror.hash_file
    calls = []

    def hash_while_a_sync_publishes(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 1:  # mid-pass: a new index without `gone` goes live, then `gone` goes
            new = dict(index, **{"packages.conda": {k: v for k, v in index["packages.conda"].items()
                                                    if k != gone}})
            atomic_write_bytes(subdir / "current_repodata.json", json.dumps(new).encode())
            atomic_write_bytes(subdir / "repodata.json", json.dumps(new).encode())
            (subdir / gone).unlink()
        return real_hash(path, *args, **kwargs)

    monkeypatch.setattr(conda_mirror, "hash_file", hash_while_a_sync_publishes)
    assert check_consistency(target) == []
    assert len(calls) > 1  # the first pass saw two moments and was done again
    monkeypatch.setattr(conda_mirror, "hash_file", real_hash)
    (subdir / sorted(json.loads((subdir / "repodata.json").read_text())["packages"])[0]).unlink()
    assert any("is in the index but missing" in p for p in check_consistency(target))


def test_a_file_name_that_is_a_path_is_never_followed(tmp_path):
    """A hostile index may list ``../../x.tar.bz2`` with the right checksum and the bytes
    waiting where that path leads upstream. The mirror never joins such a name to a directory:
    nothing is written outside the mirror, the entry is listed as a failure, the rest is
    mirrored."""
    src = channels_dir() / "pkgs" / "main" / "linux-64"
    fn = "xz-5.4.6-h5eee18b_1.tar.bz2"
    up = tmp_path / "up"
    (up / "linux-64").mkdir(parents=True)
    (up / "noarch").mkdir()
    record = json.loads((src / "repodata.json").read_text())["packages"][fn]
    evil = "../../" + fn
    shutil.copy(src / fn, up / "linux-64" / fn)
    shutil.copy(src / fn, tmp_path / fn)  # where the path leads from upstream's subdir
    (up / "linux-64" / "repodata.json").write_text(json.dumps(
        {"info": {"subdir": "linux-64"}, "packages": {evil: record, fn: record}, "packages.conda": {},
         "repodata_version": 1}))
    (up / "noarch" / "repodata.json").write_text(json.dumps({"info": {"subdir": "noarch"}, "packages": {}}))
    deep = tmp_path / "deep"
    result = mirror_channel(up.as_uri(), deep / "m", ["linux-64"])
    assert result.exit_code == 1
    assert [f.fn for f in result.failures] == [evil]
    assert sorted(p.name for p in deep.iterdir()) == ["m"]  # nothing beside the mirror
    assert (deep / "m" / "linux-64" / fn).is_file()
    published = json.loads((deep / "m" / "linux-64" / "repodata.json").read_text())
    assert list(published["packages"]) == [fn]
    assert check_consistency(deep / "m") == []


def _hostile_upstream(tmp_path: Path, bad_fn: str, bad_record, packages_value=None,
                      no_depends: bool = False) -> tuple[Path, str]:
    """An upstream whose linux-64 index lists one good record (xz, its file present) and one bad."""
    src = channels_dir() / "pkgs" / "main" / "linux-64"
    good = "xz-5.4.6-h5eee18b_1.tar.bz2"
    up = tmp_path / "up"
    (up / "linux-64").mkdir(parents=True)
    (up / "noarch").mkdir()
    shutil.copy(src / good, up / "linux-64" / good)
    record = json.loads((src / "repodata.json").read_text())["packages"][good]
    if no_depends:  # a closure of this channel alone must be satisfiable
        record = dict(record, depends=[])
    packages = packages_value if packages_value is not None else {good: record, bad_fn: bad_record(record)}
    (up / "linux-64" / "repodata.json").write_text(json.dumps(
        {"info": {"subdir": "linux-64"}, "packages": packages, "packages.conda": {}}))
    (up / "noarch" / "repodata.json").write_text(json.dumps({"info": {"subdir": "noarch"}, "packages": {}}))
    return up, good


@pytest.mark.parametrize("bad_fn,bad_record,says", [
    ("a-1-0.tar.bz2", lambda r: "not a record", "not an object"),
    ("a-1-0.tar.bz2", lambda r: {k: v for k, v in r.items() if k != "name"}, "'name' is missing"),
    ("a-1-0.tar.bz2", lambda r: dict(r, name="a", size="ten"), "'size' is 'ten'"),
    ("a-1-0.tar.bz2", lambda r: dict(r, name="a", size=-1), "not a byte count"),
    ("a-1-0.tar.bz2", lambda r: dict(r, name="a", sha256="../../etc"), "'sha256' is not 64 hex digits"),
    ("a-1-0.tar.bz2", lambda r: dict(r, name="a", depends="python"), "'depends' is not a list"),
    ("sub/a-1-0.tar.bz2", lambda r: dict(r, name="a"), "not a plain package file name"),
    (".a-1-0.tar.bz2", lambda r: dict(r, name="a"), "not a plain package file name"),
], ids=["not-an-object", "no-name", "size-text", "size-negative", "sha-not-hex", "depends-text",
        "name-with-slash", "hidden-name"])
def test_a_malformed_upstream_record_is_listed_not_fatal(tmp_path, bad_fn, bad_record, says):
    """Every upstream record is untrusted: a malformed one is left out of the mirror and listed
    (exit 1, one line each, no traceback); the good records are mirrored as usual."""
    up, good = _hostile_upstream(tmp_path, bad_fn, bad_record)
    result = mirror_channel(up.as_uri(), tmp_path / "m", ["linux-64"])
    assert result.exit_code == 1
    (failure,) = result.failures
    assert failure.fn == bad_fn and says in failure.reason, failure
    published = json.loads((tmp_path / "m" / "linux-64" / "repodata.json").read_text())
    assert list(published["packages"]) == [good]
    assert check_consistency(tmp_path / "m") == []


def test_an_upstream_index_of_the_wrong_shape_is_one_failure(tmp_path):
    up, _ = _hostile_upstream(tmp_path, "", None, packages_value=["xz-5.4.6-h5eee18b_1.tar.bz2"])
    result = mirror_channel(up.as_uri(), tmp_path / "m", ["linux-64"])
    assert result.exit_code == 1
    assert [(f.subdir, f.fn) for f in result.failures] == [("linux-64", "repodata.json")]
    assert "'packages' is a list, not an object" in result.failures[0].reason


def test_the_closure_skips_a_record_it_cannot_read(tmp_path):
    """One record with an unreadable version must not make --closure find nothing."""
    up, good = _hostile_upstream(tmp_path, "xz-9..!!-0.tar.bz2", lambda r: dict(r, version="9..!!", build="0"),
                                 no_depends=True)
    result = mirror_channel(up.as_uri(), tmp_path / "m", ["linux-64"], closure=["xz"])
    assert result.exit_code == 0, result.failures
    assert sorted(result.closure_pulled_by) == [f"linux-64/{good}"]


def test_an_unreadable_closure_spec_is_an_error_before_anything_is_written(tmp_path):
    from conda_deepdive.exceptions import InvalidMatchSpec

    up, _ = _hostile_upstream(tmp_path, "a-1-0.tar.bz2", lambda r: dict(r, name="a"))
    with pytest.raises(InvalidMatchSpec, match="invalid operator"):
        mirror_channel(up.as_uri(), tmp_path / "m", ["linux-64"], closure=["xz >=<1"])
    assert not (tmp_path / "m").exists()
