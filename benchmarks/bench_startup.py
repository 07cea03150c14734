"""How long does ``python -m conda_deepdive --help`` take, next to a bare ``python -c pass``?

The budget is 0.3 s for ``--help`` on the project's 2-core machine. Both commands are timed in
the same run (interleaved, median of N) so a noisy machine affects both alike; we print the
medians, the difference (our own cost) and the ratio.

    python benchmarks/bench_startup.py [N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

BUDGET_SECONDS = 0.3


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main(runs: int = 11) -> int:
    from _bytecode import compile_package

    compile_package()  # as pip does for an installed wheel (see _bytecode.py)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "conda_deepdive --help": [sys.executable, "-m", "conda_deepdive", "--help"],
        "conda_deepdive install --help": [sys.executable, "-m", "conda_deepdive", "install", "--help"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for name, argv in commands.items():  # warm the OS file cache once
        _time(argv)
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].append(_time(argv))
    base = statistics.median(samples["python -c pass"])
    print(f"runs: {runs} (median)")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"{name:32s} {med * 1000:7.1f} ms   +{(med - base) * 1000:6.1f} ms over python   "
              f"x{med / base:4.2f}")
    help_med = statistics.median(samples["conda_deepdive --help"])
    verdict = "OK" if help_med < BUDGET_SECONDS else "OVER BUDGET"
    print(f"--help budget {BUDGET_SECONDS * 1000:.0f} ms: {verdict}")
    return 0 if help_med < BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 11))
