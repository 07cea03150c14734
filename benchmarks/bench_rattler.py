"""conda-deepdive against rattler (py-rattler), whole process, same requests, same run.

Issue #16's goal: whole-process time ≤ 1.5× rattler's on ``create --dry-run numpy`` over
main + free + bioconda osx-64 2018 (39,056 records, strict priority) and on ``pandas`` over
test-index4, peak memory within 30 MB of rattler's, and time that stays flat (±20 %) from 39k to
156k records on a warm cache.

rattler runs from its **own** environment (never a dependency of ours): a venv with
``py-rattler`` from PyPI, by default ``/tmp/rattler-venv`` (made on first use with
``python -m venv`` + ``pip install py-rattler``), driving ``benchmarks/rattler_solve.py``.
Ours runs as users get it, from a wheel: this checkout is built (``pip wheel``) and installed
into ``/tmp/deepdive-bench-venv`` at the start of every run (``--ours checkout`` runs the
checkout with this interpreter instead: a development venv's editable-install finder alone adds
~15 ms to every start-up, which an installed wheel does not pay).

For each request, runs are interleaved (ours cold, ours warm, rattler) so a busy machine slows
all alike; each row is the median over ``--runs``. Wall time *and* CPU time (user + system,
from ``wait4``) are printed: on a shared, busy machine the CPU time is the steadier figure. *cold* = an empty package cache (our sparse
name index is built from the file), *warm* = the cache of a previous run (the index is read).
rattler reads local ``file://`` repodata the same way every time (its ``SparseRepoData`` indexes
the file on open), so it has one row. Time is wall clock of the whole process; memory is the
child's peak RSS (``ru_maxrss``).

Growth: the three 2018 channels are copied under other names into a temporary folder
(×1, ×2, ×4 = 39k, 78k, 156k records, the copies listed after the originals) and ``numpy`` is
solved over each set by both tools. The sizes take turns within each round, and the growth is
the median of the rounds' own 156k / 39k ratios: measured one size after the other, the ratio
moved by ±0.3 with the machine's speed.

    python benchmarks/bench_rattler.py [--runs 5] [--skip-growth] [--rattler-python PATH]
                                       [--ours wheel|checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANNELS = ROOT.parent / "shared" / "data" / "channels"
OSX = ("main-osx64-2018", "free-osx64-2018", "bioconda-osx64-2018")
RATTLER_VENV = Path("/tmp/rattler-venv")
OURS_VENV = Path("/tmp/deepdive-bench-venv")
GOAL_RATIO, GOAL_MB, GOAL_FLAT = 1.5, 30.0, 0.20


def _rattler_python(path: str | None) -> str:
    if path:
        return path
    python = RATTLER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(RATTLER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "py-rattler"], check=True)
    return str(python)


def _ours_python(mode: str) -> tuple[str, str]:
    """``(python, cwd)`` to run ``python -m conda_deepdive`` with (see the module docstring)."""
    if mode == "checkout":
        from _bytecode import compile_package

        compile_package()  # as pip does for an installed wheel (see _bytecode.py)
        return sys.executable, str(ROOT)
    python = OURS_VENV / "bin" / "python"
    fresh = not python.exists()
    if fresh:
        subprocess.run([sys.executable, "-m", "venv", str(OURS_VENV)], check=True)
    with tempfile.TemporaryDirectory() as td:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", td, str(ROOT)],
                       check=True, cwd=td)
        shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' staging folder
        (wheel,) = Path(td).glob("conda_deepdive-*.whl")
        # the dependencies once, the package itself every run (it is this checkout's)
        extra = [] if fresh else ["--no-deps", "--force-reinstall"]
        subprocess.run([str(python), "-m", "pip", "install", "-q", *extra, str(wheel)], check=True)
    return str(python), "/tmp"  # not the checkout: ``-m`` would import it from the cwd


def _measure(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, float, bytes]:
    """(wall seconds, CPU seconds (user + system), peak RSS in MB, stdout) of one child."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _pid, _status, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out


class Request:
    """One request, set up for both tools exactly as ``../shared/fidelity`` ran conda."""

    def __init__(self, workdir: Path, label: str, channel_dirs: list[Path], subdir: str, spec: str,
                 priority: str, rattler_python: str, ours: tuple[str, str] = (sys.executable, str(ROOT))) -> None:
        self.label, self.workdir, self.spec = label, workdir, spec
        home = workdir / "home"
        home.mkdir(parents=True, exist_ok=True)
        rc = workdir / "condarc"
        rc.write_text(f"channel_priority: {priority}\nadd_pip_as_python_dependency: true\n")
        virtual = {"osx-64": ["__osx=10.13"], "linux-64": ["__glibc=2.17", "__linux=5.15"]}[subdir]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CONDA")}
        self.env.update(HOME=str(home), XDG_CONFIG_HOME=str(home), CONDARC=str(rc), CONDA_SUBDIR=subdir,
                        CONDA_OVERRIDE_CUDA="", CONDA_OVERRIDE_ARCHSPEC="x86_64")
        for item in virtual:
            name, version = item.split("=")
            self.env[f"CONDA_OVERRIDE_{name.strip('_').upper()}"] = version
        urls = [f"file://{d}" for d in channel_dirs]
        self.ours_cwd = ours[1]
        self.ours = [ours[0], "-m", "conda_deepdive", "create", "--dry-run", "--json",
                     "--override-channels", *[x for u in urls for x in ("-c", u)],
                     "-p", str(workdir / "env"), "--repodata-fn", "repodata.json", spec]
        self.rattler = [rattler_python, str(ROOT / "benchmarks" / "rattler_solve.py"), "--subdir", subdir,
                        "--priority", priority, "--virtual", "__unix=0", "--virtual", "__archspec=1=x86_64",
                        *[x for v in virtual for x in ("--virtual", v)],
                        *[x for u in urls for x in ("--channel", u)], spec]
        self.runs = 0

    def prepare(self) -> None:
        """Fill the warm package cache (one run of ours, not measured)."""
        self.rows: dict[str, list[tuple[float, float, float]]] = {"ours cold": [], "ours warm": [], "rattler": []}
        self._answers: dict[str, list] = {}
        self.warm_pkgs = self.workdir / "pkgs-warm"
        _measure(self.ours, dict(self.env, CONDA_PKGS_DIRS=str(self.warm_pkgs)), self.ours_cwd)

    def once(self, i: int) -> None:
        """One measured round: ours cold, ours warm, rattler (appended to ``rows``)."""
        cold = dict(self.env, CONDA_PKGS_DIRS=str(self.workdir / f"pkgs-cold{self.runs}-{i}"))
        t, cpu, mb, out = _measure(self.ours, cold, self.ours_cwd)
        self.rows["ours cold"].append((t, cpu, mb))
        t, cpu, mb, out = _measure(self.ours, dict(self.env, CONDA_PKGS_DIRS=str(self.warm_pkgs)), self.ours_cwd)
        self.rows["ours warm"].append((t, cpu, mb))
        self._answers["ours"] = sorted(a["dist_name"] for a in json.loads(out)["actions"]["LINK"])
        t, cpu, mb, out = _measure(self.rattler, self.env, "/tmp")
        self.rows["rattler"].append((t, cpu, mb))
        self._answers["rattler"] = json.loads(out)["link"]
        self.same_answer = self._answers["ours"] == self._answers["rattler"]
        self.answer_size = len(self._answers["ours"])

    def run(self, n: int) -> dict[str, list[tuple[float, float, float]]]:
        self.prepare()
        for i in range(n):
            self.once(i)
        self.runs += 1
        return self.rows


def _med(rows: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    return tuple(statistics.median(r[i] for r in rows) for i in range(3))


def _table(title: str, req: Request, rows: dict) -> dict[str, tuple[float, float]]:
    med = {k: _med(v) for k, v in rows.items()}
    rt, rcpu, rmb = med["rattler"]
    print(f"\n{title}  ({len(next(iter(rows.values())))} runs each, answers "
          f"{'identical' if req.same_answer else 'DIFFER'}: {req.answer_size} packages)")
    print(f"  {'':10s} {'wall s':>7s} {'cpu s':>7s} {'peak MB':>8s} {'wall/rattler':>13s} "
          f"{'cpu/rattler':>12s} {'MB - rattler':>13s}")
    for k, (t, cpu, mb) in med.items():
        print(f"  {k:10s} {t:7.3f} {cpu:7.3f} {mb:8.1f} {t / rt:12.2f}x {cpu / rcpu:11.2f}x {mb - rmb:+12.1f}")
    wt, wcpu, wmb = med["ours warm"]
    print(f"  goal: time <= {GOAL_RATIO}x rattler (warm, wall: {'met' if wt / rt <= GOAL_RATIO else 'NOT met'}; "
          f"cpu: {'met' if wcpu / rcpu <= GOAL_RATIO else 'NOT met'}), memory within {GOAL_MB:.0f} MB "
          f"(warm: {'met' if wmb - rmb <= GOAL_MB else 'NOT met'})")
    return med


def _copy_channels(dest: Path, copies: int) -> list[Path]:
    """The three 2018 channels, then ``copies - 1`` renamed copies of them (lower priority)."""
    dirs = [CHANNELS / name for name in OSX]
    for k in range(1, copies):
        for name in OSX:
            target = dest / f"{name}-copy{k}"
            if not target.exists():
                for subdir in ("osx-64", "noarch"):
                    (target / subdir).mkdir(parents=True)
                    shutil.copyfile(CHANNELS / name / subdir / "repodata.json", target / subdir / "repodata.json")
            dirs.append(target)
    return dirs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-growth", action="store_true")
    ap.add_argument("--rattler-python", default=None, help="python of an env with py-rattler")
    ap.add_argument("--ours", choices=("wheel", "checkout"), default="wheel",
                    help="run ours from a wheel of this checkout (default) or from the checkout")
    args = ap.parse_args(argv)
    if not all((CHANNELS / n).is_dir() for n in (*OSX, "test-index4")):
        print(f"{CHANNELS} is absent: nothing to benchmark")
        return 0
    rattler = _rattler_python(args.rattler_python)
    ours = _ours_python(args.ours)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; rattler: {rattler}; "
          f"ours: {ours[0]} ({args.ours})")
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        osx = Request(tmp / "osx", "numpy", [CHANNELS / n for n in OSX], "osx-64", "numpy", "strict", rattler, ours)
        _table("create --dry-run numpy, main+free+bioconda osx-64 2018 (39,056 records, strict)",
               osx, osx.run(args.runs))
        ti4 = Request(tmp / "ti4", "pandas", [CHANNELS / "test-index4"], "linux-64", "pandas", "strict", rattler, ours)
        _table("create --dry-run pandas, test-index4 (5,643 records)", ti4, ti4.run(args.runs))
        if args.skip_growth:
            return 0
        # the three sizes are measured in turn within each round, so a change in the shared
        # machine's speed (a third between minutes, here) hits every size alike; the growth is the
        # median of each round's own 156k / 39k ratio
        sizes = {}
        for copies, label in ((1, "39k"), (2, "78k"), (4, "156k")):
            dirs = _copy_channels(tmp / "copies", copies)
            sizes[label] = Request(tmp / f"grow{copies}", "numpy", dirs, "osx-64", "numpy", "strict", rattler, ours)
            sizes[label].prepare()
        for i in range(args.runs):
            for req in sizes.values():
                req.once(i)
        growth = {label: _med_all(req.rows) for label, req in sizes.items()}
        print("\nCost growth, numpy over 1, 2 and 4 copies of the 2018 channels, sizes interleaved "
              f"({args.runs} rounds; medians; wall s / cpu s / peak MB)")
        print(f"  {'records':8s} {'ours cold':>24s} {'ours warm':>24s} {'rattler':>24s}  answers")
        for label, med in growth.items():
            cells = "".join(f" {med[k][0]:6.3f} /{med[k][1]:6.3f} /{med[k][2]:6.1f}"
                            for k in ("ours cold", "ours warm", "rattler"))
            print(f"  {label:8s}{cells}  {'identical' if sizes[label].same_answer else 'DIFFER'}")
        small, big = sizes["39k"].rows, sizes["156k"].rows
        for k in ("ours cold", "ours warm", "rattler"):
            wall = statistics.median(b[0] / a[0] for a, b in zip(small[k], big[k]))
            cpu = statistics.median(b[1] / a[1] for a, b in zip(small[k], big[k]))
            flat = abs(cpu - 1) <= GOAL_FLAT
            print(f"  {k:10s} 156k / 39k (median of the rounds' ratios): wall {wall:.2f}, cpu {cpu:.2f}"
                  + (f"  (goal ±{GOAL_FLAT:.0%}, cpu: {'met' if flat else 'NOT met'})" if k == "ours warm" else ""))
    return 0


def _med_all(rows: dict) -> dict:
    return {k: _med(v) for k, v in rows.items()}


if __name__ == "__main__":
    sys.exit(main())
