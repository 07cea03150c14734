"""Stage 7: the transaction object — plan text, --json actions, action groups, the class tree."""

from __future__ import annotations

import json

import pytest

from conftest import shared_path
from test_link_support import DEMO, PY, copy_cache, linkdemo_records, make_context, test_env, transaction, warm_pkgs  # noqa: F401


def _channel_uri():
    return shared_path("data", "channels", "linkdemo").as_uri()


def test_json_actions_match_conda_create(tmp_path):
    ref = json.loads(shared_path("reference", "link", "01_create_demo.json").read_text())["stdout_json"]["actions"]
    prefix = tmp_path / "envs" / "demo"
    order = [f"{e['dist_name']}" for e in ref["LINK"]]
    records = linkdemo_records()
    by_dist = {fn.rsplit(".conda", 1)[0].rsplit(".tar.bz2", 1)[0]: fn for fn in DEMO}
    txn = transaction(prefix, [by_dist[d] for d in order], ctx=make_context(tmp_path), env=test_env(tmp_path),
                      specs=("pyhello", "hookpkg", "softpkg"), records=records)
    actions = json.loads(json.dumps(txn.json_actions()).replace(_channel_uri(), "file:///tmp/ref/channel")
                         .replace("linkdemo", "channel").replace(str(prefix), ref["PREFIX"]))
    assert list(actions) == ["FETCH", "PREFIX", "LINK"]
    assert actions["LINK"] == ref["LINK"]
    assert actions["PREFIX"] == ref["PREFIX"]
    ref_fetch = {e["name"]: e for e in ref["FETCH"]}
    for entry in actions["FETCH"]:
        want = dict(ref_fetch[entry["name"]])
        want.pop("legacy_bz2_md5", None), want.pop("legacy_bz2_size", None)
        assert list(entry) == list(want) and entry == want
    assert not prefix.exists()  # planning touches nothing


def test_json_actions_for_a_removal(tmp_path, warm_pkgs):
    copy_cache(warm_pkgs, tmp_path)
    ctx, env = make_context(tmp_path), test_env(tmp_path)
    prefix = tmp_path / "envs" / "demo"
    transaction(prefix, (*PY, "pyhello-1.0-pyh_0.conda"), ctx=ctx, env=env, specs=("pyhello",)).execute()
    txn = transaction(prefix, (), ("pyhello-1.0-pyh_0.conda",), ctx=ctx, env=env, remove_specs=("pyhello",))
    ref = json.loads(shared_path("reference", "link", "11_remove_pyhello.json").read_text())["result"]["stdout_json"]["actions"]
    actions = json.loads(json.dumps(txn.json_actions()).replace(_channel_uri(), "file:///tmp/ref/channel")
                         .replace("linkdemo", "channel").replace(str(prefix), ref["PREFIX"]))
    assert actions == ref
    assert not txn.nothing_to_do
    assert transaction(prefix, (), ctx=ctx, env=env).nothing_to_do


def test_plan_text_matches_conda(tmp_path, warm_pkgs):
    copy_cache(warm_pkgs, tmp_path)
    ref = json.loads(shared_path("reference", "link", "13_rollback_install_existing_env.json").read_text())
    ref_plan = ref["plain_run"]["stdout_raw"].split("## Package Plan ##")[1].split("Downloading and Extracting")[0]
    prefix = tmp_path / "envs" / "demo"
    txn = transaction(prefix, ("failpkg-1.0-0.tar.bz2",), ctx=make_context(tmp_path), env=test_env(tmp_path),
                      specs=("failpkg",))
    text = txn.plan_text()
    mine = text.split("## Package Plan ##")[1].replace(str(prefix), "/tmp/ref/envs/demo").replace("linkdemo/", "channel/")
    assert mine == ref_plan.rstrip("\n") + "\n\n"
    assert text.startswith("\n## Package Plan ##\n\n  environment location: ")


def test_plan_text_download_table_and_sections(tmp_path):
    txn = transaction(tmp_path / "envs" / "x", DEMO, ctx=make_context(tmp_path), env=test_env(tmp_path),
                      specs=("pyhello",))
    text = txn.plan_text()
    assert "The following packages will be downloaded:" in text
    assert "    package                    |            build" in text
    assert "    pyhello-1.0                |            pyh_0           3 KB  " + _channel_uri() in text
    assert "Total:" in text and "The following NEW packages will be INSTALLED:" in text
    assert "  pyhello            linkdemo/noarch::pyhello-1.0-pyh_0 " in text.splitlines()


def test_action_groups_in_conda_order(tmp_path, warm_pkgs):
    from conda_deepdive.link.link import PREFIX_ACTION_GROUP_ORDER

    copy_cache(warm_pkgs, tmp_path)
    prefix = tmp_path / "envs" / "g"
    txn = transaction(prefix, (*PY, "pyhello-1.0-pyh_0.conda"), ctx=make_context(tmp_path),
                      env=test_env(tmp_path), specs=("pyhello",))
    (pag,) = txn.action_groups.values()
    assert pag._fields == PREFIX_ACTION_GROUP_ORDER
    kinds = [g.type for g in txn.all_action_groups()]
    assert kinds == ["link"] * 3 + ["register"] + ["compile"] * 3 + ["make_menus"] * 3 + ["entry_point"] * 3 + ["record"]
    (register,) = pag.register_action_groups
    assert [type(a).__name__ for a in register.actions] == ["RegisterEnvironmentLocationAction", "UpdateHistoryAction"]
    link_pyhello = pag.link_action_groups[2]
    first = link_pyhello.actions[0]
    assert type(first).__name__ == "LinkPathAction" and first.link_type.name == "directory"
    assert "LinkPathAction(" in repr(link_pyhello.actions[-1]) and "target_short_path=" in repr(link_pyhello.actions[-1])
    summary = txn.summary()["prefixes"][str(prefix)]
    assert summary["new_prefix"] is True and summary["action_groups"]["entry_point_action_groups"] == 4
    assert prefix.is_dir() and not any(prefix.iterdir())  # prepare only creates the directory


def test_class_tree_mirrors_conda():
    from conda_deepdive.link.action_tree import class_tree

    tree = class_tree()
    pp = tree["PathAction"]["PrefixPathAction"]
    create = pp["CreateInPrefixPathAction"]
    assert set(create) >= {"LinkPathAction", "MakeMenuAction", "CreateNonadminAction",
                           "CreatePythonEntryPointAction", "CreatePrefixRecordAction", "UpdateHistoryAction"}
    assert "PrefixReplaceLinkAction" in create["LinkPathAction"]
    assert set(pp["RemoveFromPrefixPathAction"]) == {"UnlinkPathAction", "RemoveMenuAction"}
    assert "RemoveLinkedPackageRecordAction" in pp["RemoveFromPrefixPathAction"]["UnlinkPathAction"]
    multi = tree["PathAction"]["MultiPathAction"]
    assert "AggregateCompileMultiPycAction" in multi["CompileMultiPycAction"]
    assert {"RegisterEnvironmentLocationAction", "UnregisterEnvironmentLocationAction"} <= set(tree["PathAction"])


def test_prefix_replacement_rules():
    from conda_deepdive.link.prefix_replace import PaddingTooShort, binary_replace, update_prefix_bytes

    ph = "/opt/placeholder_placeholder"
    data = b"head\0" + ph.encode() + b"/lib:" + ph.encode() + b"/bin\0tail"
    out = binary_replace(data, ph.encode(), b"/e")
    assert len(out) == len(data) and out.startswith(b"head\0/e/lib:/e/bin\0") and out.endswith(b"\0tail")
    with pytest.raises(PaddingTooShort):
        binary_replace(data, ph.encode(), b"/" + b"x" * 40)
    text = f"#!{ph}/bin/python -E\nprint('{ph}')\n".encode()
    assert update_prefix_bytes(text, "/short", ph, "text") == b"#!/short/bin/python -E\nprint('/short')\n"
    assert update_prefix_bytes(text, "/with space", ph, "text").startswith(b"#!/usr/bin/env python -E\n")
    long_prefix = "/" + "y" * 130
    assert update_prefix_bytes(text, long_prefix, ph, "text").startswith(b"#!/usr/bin/env python -E\n")


def test_entry_point_shebang_rules():
    from conda_deepdive.link.entry_points import generate_shebang_for_entry_point, pyc_path

    assert generate_shebang_for_entry_point("/e/bin/python3.11") == "#!/e/bin/python3.11\n"
    long = "/" + "x" * 130 + "/bin/python3.11"
    assert generate_shebang_for_entry_point(long).startswith("#!/bin/sh\n'''exec' \"" + long)
    assert pyc_path("lib/python3.11/site-packages/a/b.py", "3.11") == "lib/python3.11/site-packages/a/__pycache__/b.cpython-311.pyc"
