"""Rollback: a failure at *any* action leaves the prefix byte-identical (a new prefix vanishes)."""

from __future__ import annotations

import json

import pytest

from conftest import shared_path
from test_link_support import (  # noqa: F401  (warm_pkgs is a fixture)
    PY, copy_cache, linkdemo_records, make_context, test_env, transaction, tree_digest, warm_pkgs,
)


def _fail_at(base, value):
    return test_env(base, CONDA_DEEPDIVE_FAIL_AT=str(value))


@pytest.fixture()
def py_env(tmp_path, warm_pkgs):
    """An existing environment holding python + pip."""
    copy_cache(warm_pkgs, tmp_path)
    ctx = make_context(tmp_path)
    prefix = tmp_path / "envs" / "py"
    records = linkdemo_records()
    transaction(prefix, PY, ctx=ctx, env=test_env(tmp_path), specs=("python",), records=records).execute()
    return tmp_path, ctx, prefix, records


@pytest.mark.slow
def test_failure_at_every_action_of_an_install_restores_the_prefix(py_env):
    from conda_deepdive.exceptions import CondaMultiError, InjectedFault

    base, ctx, prefix, records = py_env
    envs_txt = base / "home" / ".conda" / "environments.txt"
    before, envs_before = tree_digest(prefix), envs_txt.read_text()
    n = 0
    while True:
        n += 1
        txn = transaction(prefix, ("pyhello-1.0-pyh_0.conda", "softpkg-1.0-0.conda"), ctx=ctx,
                          env=_fail_at(base, n), specs=("pyhello", "softpkg"), records=records)
        try:
            txn.execute()
        except CondaMultiError as exc:
            assert isinstance(exc.errors[0], InjectedFault), exc
            assert len(txn.executed_log) == n - 1
            assert tree_digest(prefix) == before, f"prefix differs after a failure at action #{n}"
            assert envs_txt.read_text() == envs_before
            continue
        break  # n is past the last action: the install went through
    assert n > 30, "the install should have more actions than that"
    after = tree_digest(prefix)
    assert "bin/pyhello" in after and "conda-meta/softpkg-1.0-0.json" in after


@pytest.mark.slow
def test_failure_at_every_action_of_a_removal_restores_the_prefix(py_env):
    from conda_deepdive.exceptions import CondaMultiError

    base, ctx, prefix, records = py_env
    transaction(prefix, ("pyhello-1.0-pyh_0.conda", "softpkg-1.0-0.conda"), ctx=ctx, env=test_env(base),
                specs=("pyhello", "softpkg"), records=records).execute()
    before = tree_digest(prefix)
    n = 0
    while True:
        n += 1
        txn = transaction(prefix, (), ("pyhello-1.0-pyh_0.conda", "softpkg-1.0-0.conda"), ctx=ctx,
                          env=_fail_at(base, n), remove_specs=("pyhello", "softpkg"), records=records)
        try:
            txn.execute()
        except CondaMultiError:
            assert tree_digest(prefix) == before, f"prefix differs after a failure at action #{n}"
            continue
        break
    assert n > 20
    assert "bin/pyhello" not in tree_digest(prefix)


@pytest.mark.parametrize("fail_at", ["1", "LinkPathAction", "CreatePythonEntryPointAction",
                                     "AggregateCompileMultiPycAction", "CreatePrefixRecordAction",
                                     "UpdateHistoryAction"])
def test_failed_create_removes_the_new_prefix(tmp_path, warm_pkgs, fail_at):
    from conda_deepdive.exceptions import CondaMultiError

    copy_cache(warm_pkgs, tmp_path)
    prefix = tmp_path / "envs" / "new"
    txn = transaction(prefix, (*PY, "pyhello-1.0-pyh_0.conda"), ctx=make_context(tmp_path),
                      env=_fail_at(tmp_path, fail_at), specs=("pyhello",))
    with pytest.raises(CondaMultiError, match="injected failure"):
        txn.execute()
    assert not prefix.exists()
    envs_txt = tmp_path / "home" / ".conda" / "environments.txt"
    assert not envs_txt.exists() or str(prefix) not in envs_txt.read_text()


def test_failing_post_link_in_existing_env_matches_conda(py_env):
    """Reference 13: files, conda-meta and history restored; the script's own marker stays."""
    from conda_deepdive.exceptions import CondaMultiError, LinkError

    base, ctx, prefix, records = py_env
    before = tree_digest(prefix)
    txn = transaction(prefix, ("failpkg-1.0-0.tar.bz2",), ctx=ctx, env=test_env(base), specs=("failpkg",),
                      records=records)
    with pytest.raises(CondaMultiError) as info:
        txn.execute()
    error = info.value.errors[0]
    assert isinstance(error, LinkError)
    ref = json.loads(shared_path("reference", "link", "13_rollback_install_existing_env.json").read_text())
    ref_message = ref["json_run"]["stdout_json"]["errors"][0]["message"]
    mine = str(error).replace(str(prefix), "/tmp/ref/envs/demo").replace(
        str(records["failpkg-1.0-0.tar.bz2"].channel.canonical_name).rsplit("/linux-64", 1)[0], "file:///tmp/ref/channel")
    assert mine == ref_message
    after = tree_digest(prefix)
    added = set(after) - set(before) - {"var"}  # the reference env already had var/ (hookpkg)
    assert added == set(ref["diff"]["added"])
    assert {k: after[k] for k in before} == before


def test_rollback_disabled_leaves_the_prefix(tmp_path, warm_pkgs):
    from conda_deepdive.exceptions import CondaMultiError

    copy_cache(warm_pkgs, tmp_path)
    prefix = tmp_path / "envs" / "keep"
    txn = transaction(prefix, PY, ctx=make_context(tmp_path, rollback_enabled=False),
                      env=_fail_at(tmp_path, "CreatePrefixRecordAction"))
    with pytest.raises(CondaMultiError):
        txn.execute()
    assert (prefix / "bin" / "python3.11").exists()           # linked files stay
    assert not list(prefix.glob("conda-meta/*.json"))          # but nothing was recorded


def test_existing_empty_directory_is_left_empty_after_a_failure(tmp_path, warm_pkgs):
    from conda_deepdive.exceptions import CondaMultiError

    copy_cache(warm_pkgs, tmp_path)
    prefix = tmp_path / "envs" / "empty"
    prefix.mkdir(parents=True)
    txn = transaction(prefix, PY, ctx=make_context(tmp_path), env=_fail_at(tmp_path, "UpdateHistoryAction"))
    with pytest.raises(CondaMultiError):
        txn.execute()
    assert prefix.is_dir() and list(prefix.iterdir()) == []
