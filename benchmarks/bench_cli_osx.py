"""The whole command, as a user runs it: ``create --dry-run numpy`` on 39k records.

Issue #5's speed goal: load and solve ``numpy`` on main + free + bioconda osx-64 2018 (39,056
records, strict channel priority) in under 1 s on the project's 2-core machines. This times the
real thing — a fresh ``python -m conda_deepdive create --dry-run --json`` process: interpreter
start-up, imports, condarc, reading the three ``repodata.json`` files, channel priority, spec
collection, reduction, every SAT call, the transaction and the JSON output — set up exactly as
``../shared/fidelity`` ran real conda 26.7.1 for its timing anchor (4.48 s, same machine type).

Two baselines are measured in the same run, interleaved with our runs, so a busy machine slows
them alike:

* ``python -c "json.load ×3"``: a fresh interpreter that only parses the same three files. No
  tool that reads repodata.json with the standard library can beat it.
* conda 26.7.1's figure from ``../shared/fidelity/README.md`` (recorded, not re-run: conda is
  not installed here).

Then one in-process run split by pipeline stage, to show where the time goes.

    python benchmarks/bench_cli_osx.py [--runs 7] [--spec numpy] [--flexible]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = ROOT.parent / "shared" / "data" / "channels"
CHANNEL_DIRS = ("main-osx64-2018", "free-osx64-2018", "bioconda-osx64-2018")
CONDA_SECONDS = {"numpy": 4.48, "pandas": 4.79}  # whole CLI call, strict (fidelity README)
GOAL_SECONDS = 1.0


def _environment(workdir: Path, strict: bool) -> dict[str, str]:
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    rc_dir = workdir / ("strict" if strict else "flexible")
    rc_dir.mkdir(exist_ok=True)
    # the file must be called condarc (or *.yml): conda ignores other CONDARC names
    (rc_dir / "condarc").write_text(
        f"channel_priority: {'strict' if strict else 'flexible'}\nadd_pip_as_python_dependency: true\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home), CONDARC=str(rc_dir / "condarc"),
               CONDA_SUBDIR="osx-64", CONDA_OVERRIDE_OSX="10.13", CONDA_OVERRIDE_ARCHSPEC="x86_64",
               CONDA_OVERRIDE_CUDA="")
    return env


def _argv(workdir: Path, spec: str) -> list[str]:
    argv = ["create", "--dry-run", "--json", "--override-channels"]
    for name in CHANNEL_DIRS:
        argv += ["-c", f"file://{CHANNELS / name}"]
    return argv + ["-p", str(workdir / "env"), "--repodata-fn", "repodata.json", spec]


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, bytes]:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, done.stdout


def _stages_in_process(workdir: Path, env: dict[str, str], spec: str) -> dict[str, float]:
    from conda_deepdive.index import gc_policy
    from conda_deepdive.pipeline import Session

    gc_policy.freeze_after_loading(True)  # as the command line does
    session = Session(_argv(workdir, spec), env=dict(env, CONDA_PKGS_DIRS=str(workdir / "pkgs-inproc")))
    seconds: dict[str, float] = {}
    while session.next_stage is not None:
        stage = session.next_stage
        start = time.perf_counter()
        session.next()
        seconds[stage] = time.perf_counter() - start
    gc_policy.freeze_after_loading(False)
    return seconds


def main(argv: list[str] | None = None) -> int:
    from _bytecode import compile_package

    compile_package()  # as pip does for an installed wheel (see _bytecode.py)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--spec", default="numpy")
    ap.add_argument("--flexible", action="store_true", help="flexible channel priority instead of strict")
    args = ap.parse_args(argv)
    if not all((CHANNELS / name).is_dir() for name in CHANNEL_DIRS):
        print(f"{CHANNELS} is absent: nothing to benchmark")
        return 0
    files = [str(CHANNELS / name / "osx-64" / "repodata.json") for name in CHANNEL_DIRS]
    json_only = [sys.executable, "-c",
                 "import json, sys\nfor f in sys.argv[1:]:\n    json.load(open(f, 'rb'))", *files]
    with tempfile.TemporaryDirectory() as td:
        workdir = Path(td)
        env = _environment(workdir, strict=not args.flexible)
        ours_cmd = [sys.executable, "-m", "conda_deepdive", *_argv(workdir, args.spec)]
        ours, base = [], []
        _run(json_only, env)  # warm the OS file cache
        for i in range(args.runs):
            run_env = dict(env, CONDA_PKGS_DIRS=str(workdir / f"pkgs{i}"))  # empty cache, like conda's runs
            seconds, out = _run(ours_cmd, run_env)
            ours.append(seconds)
            base.append(_run(json_only, env)[0])
        result = json.loads(out)
        linked = sorted(p["dist_name"] for p in result["actions"]["LINK"])
        stages = _stages_in_process(workdir, env, args.spec)

    mode = "flexible" if args.flexible else "strict"
    med, best = statistics.median(ours), min(ours)
    base_med = statistics.median(base)
    print(f"create --dry-run {args.spec}, main+free+bioconda osx-64 2018 ({mode}), {args.runs} runs, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  result: {len(linked)} packages to link ({', '.join(linked[:3])}, …)")
    print(f"  conda-deepdive, whole process   median {med:6.2f} s   best {best:6.2f} s   "
          f"(goal < {GOAL_SECONDS:.1f} s: {'met' if med < GOAL_SECONDS else 'NOT met'} by the median)")
    print(f"  python + json.load of the files median {base_med:6.2f} s   best {min(base):6.2f} s   "
          f"-> ours / that = {med / base_med:.2f}x")
    conda = CONDA_SECONDS.get(args.spec) if not args.flexible else None
    if conda:
        print(f"  conda 26.7.1 (recorded)                {conda:6.2f} s   -> ours / conda = {med / conda:.2f}x")
    total = sum(stages.values())
    print(f"  in process, by stage ({total:.2f} s):  "
          + "  ".join(f"{name} {s * 1000:.0f}" for name, s in stages.items()) + "  (ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
