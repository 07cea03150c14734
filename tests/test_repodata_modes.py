"""Answers do not move with the way repodata is read (issue #16).

The 247 fidelity cases of ``../shared/fidelity/cli_cases.json`` already run through the default
reader in ``test_cli_cases.py`` (the sparse reader, index/sparse.py). Here the same cases run
again, through the same command line, in the two other modes, and must give conda's answer:

* ``json`` — ``CONDA_DEEPDIVE_SPARSE_REPODATA=0``: every ``repodata.json`` parsed in full;
* ``shards`` — the channels copied into a temporary folder with CEP-16 shards written beside
  each ``repodata.json`` (index/shards.py): the index is the subset reached from the request,
  fetched shard by shard.

Cases that took real conda over 3 s (the 16k–39k-record 2018 snapshots) are marked slow, as in
test_cli_cases.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import test_cli_cases as tcc


@pytest.fixture(scope="session")
def sharded_channels(tmp_path_factory) -> Path:
    """Every channel the cases use, ``repodata.json`` copied and shards written beside it."""
    from conda_deepdive.index.shards import REPODATA_SHARDS_FN, write_shards

    if not tcc.CHANNELS_DIR.is_dir():
        pytest.skip("../shared/data/channels is absent")
    root = tmp_path_factory.mktemp("sharded-channels")
    used = sorted({ch for case in tcc._CASES for ch in case["channels"]})
    for ch in used:
        for subdir_dir in sorted((tcc.CHANNELS_DIR / ch).iterdir()):
            src = subdir_dir / "repodata.json"
            if not src.is_file():
                continue
            dest = root / ch / subdir_dir.name
            dest.mkdir(parents=True)
            shutil.copyfile(src, dest / "repodata.json")
            write_shards(dest, json.loads(src.read_bytes()))
            assert (dest / REPODATA_SHARDS_FN).is_file()
    return root


def _params() -> list:
    params = []
    for mode in ("json", "shards"):
        for case in tcc._CASES:
            marks = [pytest.mark.slow] if case["oracle_seconds"] > tcc._SLOW_ORACLE_SECONDS else []
            params.append(pytest.param(mode, case, id=f"{mode}-{case['id']}", marks=marks))
    return params


@pytest.mark.parametrize("mode,case", _params())
def test_case_in_mode(mode: str, case: dict, tmp_path: Path, monkeypatch, sharded_channels) -> None:
    if mode == "json":
        monkeypatch.setenv("CONDA_DEEPDIVE_SPARSE_REPODATA", "0")
    else:
        monkeypatch.setattr(tcc, "CHANNELS_DIR", sharded_channels)
    got = tcc.run_cli(case, tmp_path)
    problems = tcc.compare(case, got, tmp_path / "env")
    assert not problems, f"{mode} {case['id']} ({case['command']} {' '.join(case['specs'])}):\n" + "\n".join(problems)


def _subdirs() -> list:
    if not tcc.CHANNELS_DIR.is_dir():
        return []
    params = []
    for ch in sorted({ch for case in tcc._CASES for ch in case["channels"]}):
        for subdir_dir in sorted((tcc.CHANNELS_DIR / ch).iterdir()):
            path = subdir_dir / "repodata.json"
            if path.is_file():
                marks = [pytest.mark.slow] if path.stat().st_size > 2_000_000 else []
                params.append(pytest.param(ch, subdir_dir.name, id=f"{ch}/{subdir_dir.name}", marks=marks))
    return params


@pytest.mark.parametrize("channel,subdir", _subdirs())
def test_shards_hold_the_same_records(channel: str, subdir: str, tmp_path: Path, sharded_channels) -> None:
    """What test_resolve_cases.py feeds Resolve — every record of a channel subdir — is the same
    whether it comes from repodata.json or from the shards written from it."""
    from conda_deepdive.config.context import Context
    from conda_deepdive.index.subdir_data import SubdirData

    ctx = Context.from_values(pkgs_dirs=[str(tmp_path / "pkgs")])
    SubdirData.clear_memory_cache()
    plain = SubdirData((tcc.CHANNELS_DIR / channel).as_uri(), subdir, ctx).load()
    sharded = SubdirData((sharded_channels / channel).as_uri(), subdir, ctx).load()
    assert sharded.fetch_info.reader == "shards"

    def key(rec):
        d = rec.dump()
        d.pop("url", None)
        d.pop("channel", None)  # the copies live elsewhere: only where they come from differs
        return json.dumps(d, sort_keys=True, default=str)

    assert sorted(map(key, sharded.records)) == sorted(map(key, plain.records))
    assert sorted(sharded.name_counts().items()) == sorted(plain.name_counts().items())
