"""``--help`` must stay instant: it may import argparse and our parser, nothing heavy.

We check *what* gets imported (in a fresh interpreter), not how long it takes — timing belongs in
``benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("ruamel", "yaml", "requests", "urllib3", "pycosat", "rich", "networkx", "zstandard",
         "conda_package_handling", "conda_package_streaming", "ipywidgets", "platformdirs",
         "filelock", "conda_deepdive.config.context", "conda_deepdive.config.condarc", "conda_deepdive.models",
         "conda_deepdive.pipeline", "conda_deepdive.cli.install", "conda_deepdive.index.index",
         "conda_deepdive.solve.solve", "conda_deepdive.render")

PROBE = """
import json, runpy, sys
sys.argv = ["conda_deepdive", *json.loads(sys.argv[1])]
code = None
try:
    runpy.run_module("conda_deepdive", run_name="__main__")
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
sys.stderr.write("\\n@@MODULES@@" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run(argv: list[str], env: dict | None = None, bare: bool = False) -> tuple[str, int, list[str]]:
    """Run the CLI in a fresh interpreter; ``bare``: without ``site`` (``-S``), the package and
    its dependencies put on ``PYTHONPATH`` instead, so that no ``.pth`` file (a development
    install's import finder, say) imports anything before our code runs."""
    flags = []
    if bare:
        import sysconfig

        import conda_deepdive

        root = os.path.dirname(os.path.dirname(conda_deepdive.__file__))
        paths = dict.fromkeys([root, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
        env = dict(env if env is not None else os.environ, PYTHONPATH=os.pathsep.join(paths))
        flags = ["-S"]
    proc = subprocess.run([sys.executable, *flags, "-c", PROBE, json.dumps(argv)], capture_output=True,
                          text=True, timeout=60, env=env)
    report = json.loads(proc.stderr.rsplit("@@MODULES@@", 1)[1])
    return proc.stdout, report["code"], report["modules"]


@pytest.mark.parametrize("argv", [["--help"], ["install", "--help"], ["create", "--help"],
                                  ["trace", "--help"], ["config", "--help"], ["--version"]])
def test_help_imports_nothing_heavy(argv):
    out, code, modules = _run(argv)
    assert code == 0
    assert "usage: conda-deepdive" in out or "conda-deepdive" in out
    loaded = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == [], f"--help imported {loaded}"
    ours = sorted(m for m in modules if m.startswith("conda_deepdive") and m != "conda_deepdive.__main__")
    # gc_policy (stdlib gc/threading only) is imported by the entry point to set a process policy
    assert ours == ["conda_deepdive", "conda_deepdive.cli",
                    "conda_deepdive.cli.main", "conda_deepdive.cli.parser",
                    "conda_deepdive.exceptions", "conda_deepdive.index",
                    "conda_deepdive.index.gc_policy"]


def test_install_help_lists_condas_options():
    out, code, _ = _run(["install", "--help"])
    for flag in ("--name", "--prefix", "--channel", "--override-channels", "--use-local",
                 "--strict-channel-priority", "--repodata-fn", "--dry-run", "--json", "--yes",
                 "--freeze-installed", "--no-update-deps", "--update-deps", "--update-specs",
                 "--update-all", "--all", "--no-deps", "--only-deps", "--offline", "--verbose",
                 "--quiet", "--file", "--no-pin", "--copy", "--clobber"):
        assert flag in out, flag


#: what a warm ``create --dry-run`` has no use for: each costs start-up time on every command
#: (typing ~4 ms; shutil pulls bz2 and lzma; ctypes.util runs ldconfig) and is imported only
#: where it is needed (issue 16)
NOT_ON_A_DRY_RUN = ("typing", "shutil", "threading", "subprocess", "ctypes", "tempfile", "textwrap",
                    "rich", "ruamel", "requests", "platform",
                    # pathlib pulls in urllib.parse and ipaddress (~2 ms); signal builds enums
                    "pathlib", "urllib", "ipaddress", "signal", "conda_deepdive.solve.resolve_conflicts")


def test_a_warm_dry_run_imports_only_what_it_uses(tmp_path):
    from conda_deepdive.teaching.build import CHANNELS_DIR

    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA")}
    env.update(HOME=str(tmp_path / "home"), CONDA_PKGS_DIRS=str(tmp_path / "pkgs"),
               CONDARC=str(tmp_path / "condarc"))
    argv = ["create", "--dry-run", "--json", "-p", str(tmp_path / "env"), "--override-channels",
            "-c", (CHANNELS_DIR / "pkgs" / "main").as_uri(), "numpy"]
    for _ in range(2):  # the first run builds the caches (and may import more to do it)
        out, code, modules = _run(argv, env, bare=True)
        assert code == 0 and json.loads(out)["success"] is True
    loaded = [m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_ON_A_DRY_RUN)]
    assert loaded == [], f"a warm dry run imported {loaded}"
    assert "conda_deepdive.solve.solve" in modules  # (it did run)
