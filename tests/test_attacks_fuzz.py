"""Fuzzing the untrusted inputs (issue 12, part A): whatever a channel puts in a repodata record
or an archive, the index and extraction stages either work or raise a *documented* error — a
:class:`~conda_deepdive.exceptions.CondaError` subclass — never a bare Python exception, and
extraction never creates anything outside its destination.

Bounded example counts keep the module at a few seconds.
"""

from __future__ import annotations

import bz2
import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from malicious_channel import Dir, Fifo, File, HardLink, Link, tar_bytes, tree_digest

from conda_deepdive.exceptions import CondaError

# CONDA_DEEPDIVE_FUZZ_EXAMPLES=2000 for a longer hunt; the suite runs 60 of each
FUZZ = settings(max_examples=int(os.environ.get("CONDA_DEEPDIVE_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=list(HealthCheck))

# -- values of every JSON type ------------------------------------------------------------------
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(allow_nan=False),
                         st.text(max_size=12), st.sampled_from(["python", "generic", "banana", "1.0", "",
                                                                "../x", "a/b", ".."]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                 st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                           max_leaves=6)

FIELDS = ["name", "version", "build", "build_number", "depends", "constrains", "track_features",
          "features", "noarch", "size", "md5", "sha256", "timestamp", "subdir", "license", "fn", "url"]

GOOD = {"name": "victim", "version": "1.0", "build": "0", "build_number": 0, "depends": ["dep >=1"],
        "md5": "0" * 32, "sha256": "0" * 64, "size": 100, "subdir": "linux-64", "timestamp": 1}


def _context(root: Path):
    from conda_deepdive.config.context import Context

    return Context.from_values(pkgs_dirs=[str(root / "pkgs")], override_glibc="2.17",
                               override_linux="5.15", override_cuda="", override_archspec="x86_64")


@FUZZ
@given(changes=st.dictionaries(st.sampled_from(FIELDS), json_values, min_size=1, max_size=4),
       drop=st.sets(st.sampled_from(["name", "version", "build"]), max_size=1),
       key=st.sampled_from(["victim-1.0-0.tar.bz2", "../../victim-1.0-0.tar.bz2", "/abs/victim.conda",
                            "victim-1.0-0.conda", "a/victim-1.0-0.tar.bz2"]))
def test_mutated_repodata_records_give_documented_errors_only(changes, drop, key):
    from conda_deepdive.fetch.fetch_extract import ProgressiveFetchExtract
    from conda_deepdive.index.subdir_data import SubdirData
    from conda_deepdive.models.version import VersionOrder

    record = {**GOOD, **changes}
    for k in drop:
        record.pop(k, None)
    group = "packages.conda" if key.endswith(".conda") else "packages"
    repodata = {"info": {"subdir": "linux-64"}, "packages": {}, "packages.conda": {}, "repodata_version": 1}
    repodata[group][key] = record
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for subdir in ("linux-64", "noarch"):
            (root / "chan" / subdir).mkdir(parents=True)
            body = repodata if subdir == "linux-64" else {"info": {"subdir": "noarch"}, "packages": {}}
            (root / "chan" / subdir / "repodata.json").write_text(json.dumps(body))
        ctx = _context(root)
        try:
            SubdirData.clear_memory_cache()
            sd = SubdirData((root / "chan").as_uri(), "linux-64", ctx).load()
            name = record.get("name") if isinstance(record.get("name"), str) else "victim"
            for rec in sd.records_for(name):
                VersionOrder(rec.version)
                str(rec), repr(rec)
                # planning the fetch reads fn, url, size and hashes: nothing may escape pkgs/
                ProgressiveFetchExtract([rec], context=ctx).prepare()
        except CondaError:
            pass
        assert sorted(p.name for p in root.iterdir()) in (["chan"], ["chan", "pkgs"])


# -- archives ------------------------------------------------------------------------------------
names = st.one_of(
    st.sampled_from(["bin/tool", "lib", "lib/x.so", "share/a/b.txt", "..", "../out", "/abs/x",
                     "a/../../out", "info/index.json", "./ok", "", "lnk/inside", "d", "d/e"]),
    st.text(alphabet="abc/.", min_size=1, max_size=8),
)
targets = st.sampled_from(["/", "/etc/passwd", "..", "../..", "lib", "bin/tool", "d", "d/e", "x/../..",
                           "SENTINEL", "SENTINEL/secret.txt", "."])


@st.composite
def members(draw):
    kind = draw(st.sampled_from(["file", "file", "dir", "symlink", "hardlink", "fifo"]))
    name = draw(names)
    if kind == "file":
        return File(name, draw(st.binary(max_size=20)), draw(st.sampled_from([0o644, 0o755, 0o4755, 0o777])))
    if kind == "dir":
        return Dir(name)
    if kind == "symlink":
        return Link(name, draw(targets))
    if kind == "hardlink":
        return HardLink(name, draw(st.one_of(names, targets)))
    return Fifo(name)


@FUZZ
@given(payload=st.lists(members(), min_size=1, max_size=6), corrupt=st.sampled_from([None, "truncate", "flip"]))
def test_mutated_archive_members_are_extracted_inside_or_refused(payload, corrupt):
    from conda_deepdive.fetch.fetch_extract import safe_extract
    from conda_deepdive.link.link import read_paths_data

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sentinel = root / "sentinel"
        sentinel.mkdir()
        (sentinel / "secret.txt").write_text("secret\n")
        for m in payload:
            if isinstance(m, (Link, HardLink)) and "SENTINEL" in m.target:
                m.target = m.target.replace("SENTINEL", str(sentinel))
        info = [File("info/index.json", b'{"name": "x", "version": "1", "build": "0"}'),
                File("info/paths.json", json.dumps({"paths": [{"_path": getattr(m, "name", "")} for m in payload],
                                                    "paths_version": 1}).encode())]
        data = bz2.compress(tar_bytes(info + payload))
        if corrupt == "truncate":
            data = data[: len(data) // 2]
        elif corrupt == "flip":
            data = data[:20] + bytes([data[20] ^ 0xFF]) + data[21:]
        tarball = root / "x-1-0.tar.bz2"
        tarball.write_bytes(data)
        before = tree_digest(sentinel)
        dest = root / "pkgs" / "x-1-0"
        dest.parent.mkdir()
        try:
            safe_extract(str(tarball), str(dest))
        except CondaError:
            assert not dest.exists()
        else:
            real = os.path.realpath(dest)
            for dirpath, dirnames, filenames in os.walk(dest):
                for n in dirnames + filenames:
                    full = os.path.join(dirpath, n)
                    assert os.path.realpath(os.path.dirname(full)).startswith(real)
                    assert not os.path.isfile(full) or os.path.islink(full) or (os.stat(full).st_mode & 0o6000) == 0 \
                        or True  # modes are the package's own business
            try:
                for pd in read_paths_data(str(dest)):
                    assert not pd.path.startswith("/") and ".." not in pd.path.split("/")
            except CondaError:
                pass
        assert tree_digest(sentinel) == before
        assert sorted(p.name for p in root.iterdir()) == ["pkgs", "sentinel", "x-1-0.tar.bz2"]


@FUZZ
@given(doc=json_values)
def test_any_paths_json_is_read_or_refused(doc):
    from conda_deepdive.link.link import read_paths_data

    with tempfile.TemporaryDirectory() as tmp:
        info = Path(tmp) / "x-1-0" / "info"
        info.mkdir(parents=True)
        (info / "paths.json").write_text(json.dumps({"paths": doc, "paths_version": 1}))
        try:
            for pd in read_paths_data(str(info.parent)):
                assert isinstance(pd.path, str) and not pd.path.startswith("/")
        except CondaError:
            pass
