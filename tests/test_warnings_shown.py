"""Warnings and script messages reach the user where and as conda 26.7.1 prints them.

The failed post-link case is compared with ``../shared/reference/link/13_rollback_install_existing_env.json``
(real conda's stdout and stderr), the rest with conda's fixed texts (``conda/core/link.py``,
``conda/exceptions.py:maybe_raise``).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import shared_path
from tinychan import Pkg, build_channel, channel_args, cli_env

WAIT = 60


def _run(*args, env):
    return subprocess.run([sys.executable, "-m", "conda_deepdive", *args], env=env, capture_output=True,
                          text=True, timeout=WAIT)


@pytest.fixture(scope="module")
def chan(tmp_path_factory):
    base = tmp_path_factory.mktemp("warn")
    url = build_channel(base / "chan", [
        Pkg("pa", "1", files={"share/pa/common.txt": "a"}),
        Pkg("pb", "1", files={"share/pa/common.txt": "b"}),
        Pkg("msg", "1", files={"share/m.txt": "m"},
            scripts={"post-link": 'printf "msg post-link says hi via .messages.txt\\n" > "$PREFIX/.messages.txt"'}),
        Pkg("failpkg", "1", files={"share/f.txt": "f"},
            scripts={"post-link": 'echo "failpkg post-link says hi via .messages.txt" > "$PREFIX/.messages.txt"\n'
                                  'echo "failpkg post-link: stdout line"\necho "failpkg post-link: stderr line" >&2\nexit 1'}),
        Pkg("prelink", "1", files={"share/p.txt": "p"}, scripts={"pre-link": "true"}),
        Pkg("preunlink", "1", files={"share/u.txt": "u"}, scripts={"pre-unlink": "exit 3"}),
        Pkg("liar", "1", files={"share/liar.txt": "four"}, size_lies={"share/liar.txt": 5}),
    ])
    return base, url


@pytest.fixture()
def env_pa(chan, tmp_path):
    base, url = chan
    env = cli_env(tmp_path)
    prefix = tmp_path / "envs" / "demo"
    done = _run("create", "-y", "-p", str(prefix), "pa", *channel_args(url), env=env)
    assert done.returncode == 0, done.stderr
    return url, env, prefix


def test_failed_post_link_prints_condas_lines(env_pa):
    """stdout/stderr shaped exactly as reference 13 (paths and channel replaced)."""
    ref = json.loads(shared_path("reference", "link", "13_rollback_install_existing_env.json").read_text())
    url, env, prefix = env_pa
    done = _run("install", "-y", "-p", str(prefix), "failpkg", *channel_args(url), env=env)
    assert done.returncode == 1

    def norm(text: str) -> str:
        return (text.replace(str(prefix), "<PREFIX>").replace(url, "<CHANNEL>")
                .replace("failpkg-1-0", "failpkg-1.0-0"))

    ref_out = ref["plain_run"]["stdout_raw"].replace("/tmp/ref/envs/demo", "<PREFIX>")
    ref_err = ref["plain_run"]["stderr"].replace("/tmp/ref/envs/demo", "<PREFIX>").replace(
        "file:///tmp/ref/channel", "<CHANNEL>")
    tail = "Executing transaction: ...working... "
    assert norm(done.stdout).split(tail, 1)[1] == ref_out.split(tail, 1)[1]
    assert norm(done.stderr) == ref_err
    # --json: the document is conda's CondaMultiError, the messages and the ERROR line on stderr
    done = _run("install", "-y", "--json", "-p", str(prefix), "failpkg", *channel_args(url), env=env)
    doc = json.loads(done.stdout)
    ref_doc = ref["json_run"]["stdout_json"]
    assert doc["exception_name"] == "CondaMultiError" and doc["error"] == ref_doc["error"]
    assert [e["exception_name"] for e in doc["errors"]] == ["LinkError", "tuple"]
    assert doc["errors"][1] == ref_doc["errors"][1]
    assert norm(done.stderr) == ref["json_run"]["stderr"].replace("file:///tmp/ref/channel", "<CHANNEL>")


def test_post_link_messages_are_printed_inside_the_executing_line(env_pa):
    url, env, prefix = env_pa
    done = _run("install", "-y", "-p", str(prefix), "msg", *channel_args(url), env=env)
    assert done.returncode == 0
    assert "Executing transaction: ...working... msg post-link says hi via .messages.txt\n\ndone\n" in done.stdout
    assert not (prefix / ".messages.txt").exists()
    done = _run("remove", "-y", "-p", str(prefix), "msg", *channel_args(url), env=env)
    done = _run("install", "-y", "--json", "-p", str(prefix), "msg", *channel_args(url), env=env)
    assert done.stderr == "msg post-link says hi via .messages.txt\n\n"
    assert json.loads(done.stdout)["success"] is True


def test_pre_link_warning_as_conda_warns(env_pa):
    url, env, prefix = env_pa
    done = _run("install", "-y", "-p", str(prefix), "prelink", *channel_args(url), env=env)
    assert done.returncode == 0
    dist = f"{url}::prelink-1-0"
    assert done.stderr == (
        f"conda/core/link.py:1622: UserWarning: Package {dist} uses a pre-link script. Pre-link scripts "
        "are potentially dangerous.\nThis is because pre-link scripts have the ability to change the "
        "package contents in the\npackage cache, and therefore modify the underlying files for "
        "already-created conda\nenvironments.  Future versions of conda may deprecate and ignore "
        "pre-link scripts.\n\n  warnings.warn(\n")


def test_clobbering_is_silent_by_default_and_printed_with_path_conflict_warn(env_pa):
    url, env, prefix = env_pa
    # conda's default path_conflict (clobber) prints nothing about it
    done = _run("install", "-y", "-p", str(prefix), "pb", *channel_args(url), env=env)
    assert done.returncode == 0 and done.stderr == ""
    other = prefix.parent / "other"
    assert _run("create", "-y", "-p", str(other), "pa", *channel_args(url), env=env).returncode == 0
    done = _run("install", "-y", "-p", str(other), "pb", *channel_args(url),
                env=dict(env, CONDA_PATH_CONFLICT="warn"))
    assert done.returncode == 0
    assert done.stderr.startswith("\nKnownPackageClobberError: The package ") and "pb-1-0" in done.stderr


def test_trace_section_shows_messages_as_lines_and_warnings_as_notices(env_pa):
    from conda_deepdive.render.actions import section_link

    class FakeResult:
        def __init__(self, messages):
            self.messages = messages

        def summary(self):
            return {"action": "post-link", "package": "x", "ran": True, "returncode": 0,
                    "messages": self.messages}

    class FakeTxn:
        executed_log = []
        prefix_action_groups = {}
        script_results = [FakeResult("first line\nsecond line\n")]
        warnings = ["ClobberError: one\nmore"]

    from rich.console import Console

    console = Console(width=100, record=True, color_system=None)
    console.print(section_link(FakeTxn(), None))
    text = console.export_text()
    assert "  .messages.txt: first line" in text and "  .messages.txt: second line" in text
    assert "notice: ClobberError: one" in text
    assert "\n  f\n" not in text  # no longer one character per line


def test_server_down_default_run_falls_back_to_cached_repodata(tmp_path):
    """README: with the server down and a cached repodata.json, the default run (which starts
    with current_repodata.json) goes on with the cache, warning once per file."""
    from test_index_http import RepoServer, ctx, rec, write

    from conda_deepdive.index.index import fetch_index
    from conda_deepdive.reporting import RecordingReporter

    root = tmp_path / "srv"
    write(root, "chan/linux-64/repodata.json", {"info": {"subdir": "linux-64"}, "packages": {
        "a-1-0.tar.bz2": rec("a", "1")}})
    write(root, "chan/noarch/repodata.json", {"info": {"subdir": "noarch"}, "packages": {}})
    server = RepoServer(root)
    try:
        fetch_index(ctx(tmp_path, channels=[f"{server.url}/chan"]), repodata_fn="current_repodata.json")
    finally:
        server.stop()
    rr = RecordingReporter()
    index = fetch_index(ctx(tmp_path, channels=[f"{server.url}/chan"]), repodata_fn="current_repodata.json",
                        reporter=rr)
    assert "a" in {r.name for r in index.records}
    warnings = [e.data["message"] for e in rr.events if e.kind == "warning"]
    assert any("current_repodata.json could not be fetched" in w and "falling back to repodata.json" in w
               for w in warnings)
    assert any("using the cached copy" in w for w in warnings)


def test_failed_pre_unlink_is_condas_warning(env_pa):
    url, env, prefix = env_pa
    assert _run("install", "-y", "-p", str(prefix), "preunlink", *channel_args(url), env=env).returncode == 0
    done = _run("remove", "-y", "-p", str(prefix), "preunlink", *channel_args(url), env=env)
    assert done.returncode == 0
    assert done.stderr == (f"WARNING conda.core.link:run_script(1716): pre-unlink script failed for package "
                           f"{url}::preunlink-1-0\nconsider notifying the package maintainer\n")


def test_safety_checks_warn_prints_the_findings(env_pa):
    url, env, prefix = env_pa
    done = _run("install", "-y", "-p", str(prefix), "liar", *channel_args(url), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("\nSafetyError: The package for liar located at ")
    assert "has an incorrect size.\n  reported size: 5 bytes\n  actual size: 4 bytes\n\n" in done.stderr
    # safety_checks: enabled refuses it, and a failed create leaves nothing behind
    strict = prefix.parent / "strict"
    done = _run("create", "-y", "-p", str(strict), "liar", *channel_args(url),
                env=dict(env, CONDA_SAFETY_CHECKS="enabled"))
    assert done.returncode == 1 and "SafetyError" in done.stderr and not strict.exists()


def test_create_json_stderr_matches_reference_01(tmp_path):
    """Reference 01 (real conda, ``create --json`` of the linkdemo channel): the pre-link
    warning and both scripts' messages on stderr, byte for byte but for conda's install path."""
    ref = json.loads(shared_path("reference", "link", "01_create_demo.json").read_text())
    channel = shared_path("data", "channels", "linkdemo")
    env = cli_env(tmp_path)
    done = _run("create", "-y", "--json", "-p", str(tmp_path / "envs" / "demo"), "--override-channels",
                "-c", channel.as_uri(), "pyhello", "hookpkg", "softpkg", env=env)
    assert done.returncode == 0, done.stderr
    mine = done.stderr.replace(channel.as_uri(), "file:///tmp/ref/channel")
    assert mine == ref["stderr"].replace("/opt/conda-src/conda/core/link.py", "conda/core/link.py")
    assert json.loads(done.stdout)["success"] is True
