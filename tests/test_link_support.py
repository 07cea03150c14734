"""Shared helpers for the transaction / fetch / link / rollback tests (linkdemo channel).

The linkdemo channel (``../shared/data/channels/linkdemo``) holds the real packages that real
conda 26.7.1 was observed installing (``../shared/reference/link``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from conftest import SHARED, shared_path

LINKDEMO = SHARED / "data" / "channels" / "linkdemo"
REFERENCE = SHARED / "reference" / "link"


def linkdemo_records() -> dict:
    """``{fn: PackageRecord}`` for the linkdemo channel, as the index stage would build them
    (``add_pip_as_python_dependency`` adds ``pip`` to python's depends)."""
    from conda_deepdive.models import Channel, PackageRecord

    root = shared_path("data", "channels", "linkdemo")
    channel = Channel(Path(root).as_uri())
    out = {}
    for subdir in ("linux-64", "noarch"):
        repodata = json.loads((root / subdir / "repodata.json").read_text())
        for key in ("packages", "packages.conda"):
            for fn, raw in repodata.get(key, {}).items():
                raw = dict(raw)
                if raw["name"] == "python":
                    raw["depends"] = ["pip"]
                out[fn] = PackageRecord.from_repodata(fn, raw, channel, subdir)
    return out


DEMO = ("softpkg-1.0-0.conda", "python-3.11.2-mini_0.conda", "hookpkg-1.0-0.tar.bz2",
        "pip-24.0-pyh_0.tar.bz2", "pyhello-1.0-pyh_0.conda")
PY = ("python-3.11.2-mini_0.conda", "pip-24.0-pyh_0.tar.bz2")


def make_context(base: Path, **settings):
    from conda_deepdive.config.context import Context

    values = dict(pkgs_dirs=[str(base / "pkgs")], root_prefix=str(base / "root"),
                  envs_dirs=[str(base / "envs")])
    values.update(settings)
    return Context.from_values(**values)


def test_env(base: Path, **extra) -> dict:
    env = dict(os.environ, HOME=str(base / "home"))
    env.pop("CONDA_DEEPDIVE_FAIL_AT", None)
    env.pop("CONDA_SHLVL", None)
    env.update(extra)
    return env


test_env.__test__ = False  # a helper, not a test


def transaction(prefix, link=(), unlink=(), *, ctx, env, specs=(), remove_specs=(), reporter=None, records=None):
    from conda_deepdive.transaction.transaction import PrefixSetup, UnlinkLinkTransaction

    records = records or linkdemo_records()
    link_precs = tuple(records[f] for f in link)
    unlink_precs = tuple(records[f] if isinstance(f, str) else f for f in unlink)
    setup = PrefixSetup(str(prefix), unlink_precs, link_precs, tuple(remove_specs), tuple(specs), ())
    return UnlinkLinkTransaction(setup, context=ctx, reporter=reporter, env=env, cmd="conda install test")


def tree_digest(root) -> dict:
    """Everything observable about a directory tree: type, mode, content hash, link target."""
    root = str(root)
    out = {}
    if not os.path.lexists(root):
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                with open(full, "rb") as fh:
                    out[rel] = ("file", stat.S_IMODE(st.st_mode), hashlib.sha256(fh.read()).hexdigest())
    return out


@pytest.fixture(scope="session")
def warm_pkgs(tmp_path_factory) -> Path:
    """A package cache with every linkdemo package already fetched and extracted (once)."""
    from conda_deepdive.fetch.fetch_extract import ProgressiveFetchExtract

    base = tmp_path_factory.mktemp("warm")
    records = linkdemo_records()
    ctx = make_context(base)
    ProgressiveFetchExtract([r for fn, r in records.items() if fn != "python-3.11.2-mini_0.tar.bz2"],
                            ctx).execute()
    return base / "pkgs"


def copy_cache(warm: Path, base: Path) -> None:
    shutil.copytree(warm, base / "pkgs", symlinks=True)


def test_linkdemo_records_match_the_channel():
    records = linkdemo_records()
    assert records["pyhello-1.0-pyh_0.conda"].url.endswith("/noarch/pyhello-1.0-pyh_0.conda")
    assert list(records["python-3.11.2-mini_0.conda"].depends) == ["pip"]
