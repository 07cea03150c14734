"""Benchmark: conda-mirror 0.10 (from PyPI, in its own venv) versus ``conda-deepdive mirror``.

Run: ``.venv/bin/python benchmarks/bench_mirror.py [--threads 8] [--small 200] [--big-mb 300]``

Both tools mirror the same channel, served in this process by a loopback HTTP server that adds
``--latency`` seconds (default 20 ms) to every request — a stand-in for a real CDN round trip:

1. ``small``: ``--small`` packages of ~16 KB each (``.tar.bz2``, listed under ``packages``: the
   only key conda-mirror reads);
2. ``big``: one package of ``--big-mb`` MB (a valid ``.tar.bz2`` made of concatenated bz2
   streams, so it is built in seconds; ``info/index.json`` comes first).

Each tool runs in a child process with ``--num-threads --threads``, ``--repeat`` times,
alternating (ours twice: quiet, and ``deepdive+bars`` with its rich progress bars drawn on a
pseudo-terminal, the default a user at a terminal sees); wall time and the child's peak RSS
(``ru_maxrss`` of the waited process tree) are printed per run, then the ratio of the medians.
The first run
creates ``/tmp/conda-mirror-0.10-venv`` with ``pip install conda-mirror==0.10.*``.
Goals (issue 14): ≥ 6× faster than conda-mirror on ``small``; < 100 MB peak on ``big``.
"""

from __future__ import annotations

import argparse
import bz2
import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
CM_VENV = Path("/tmp/conda-mirror-0.10-venv")
WORK = Path("/tmp/bench-mirror")


# ------------------------------------------------------------------------------------------
# the channel
# ------------------------------------------------------------------------------------------

def _tar_member(name: str, size: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, 1_700_000_000, 0o644
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _pad(n: int) -> bytes:
    return b"\0" * ((512 - n % 512) % 512)


def _index_json(name: str, version: str, build: str) -> bytes:
    return json.dumps({"name": name, "version": version, "build": build, "build_number": 0,
                       "depends": [], "subdir": "linux-64", "arch": "x86_64", "platform": "linux",
                       "license": "BSD"}).encode()


def make_package(path: Path, name: str, version: str, build: str, payload_mb: int = 0,
                 small_bytes: int = 16 * 1024) -> dict:
    """A ``.tar.bz2`` with ``info/index.json`` first; big payloads as repeated bz2 streams."""
    index = _index_json(name, version, build)
    head = _tar_member("info/index.json", len(index)) + index + _pad(len(index))
    if payload_mb:
        block = os.urandom(1 << 20)
        size = payload_mb << 20
        head += _tar_member(f"lib/{name}.bin", size)
        tail = _pad(size) + b"\0" * 1024
        squeezed = bz2.compress(block, 1)
        with open(path, "wb") as fh:
            fh.write(bz2.compress(head, 1))
            for _ in range(payload_mb):
                fh.write(squeezed)  # a .tar.bz2 may be several concatenated bz2 streams
            fh.write(bz2.compress(tail, 1))
    else:
        data = os.urandom(small_bytes)
        body = head + _tar_member(f"lib/{name}.bin", len(data)) + data + _pad(len(data)) + b"\0" * 1024
        path.write_bytes(bz2.compress(body, 1))
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            md5.update(chunk)
            sha.update(chunk)
    rec = json.loads(index)
    rec.update(md5=md5.hexdigest(), sha256=sha.hexdigest(), size=path.stat().st_size, timestamp=1_700_000_000_000)
    return rec


def make_channel(root: Path, n_small: int, big_mb: int) -> None:
    marker = root / f".built-{n_small}-{big_mb}"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    for channel, specs in (("small", [(f"pkg{i:03d}", "1.0", "0", 0) for i in range(n_small)]),
                           ("big", [("bigpkg", "1.0", "0", big_mb)])):
        sub = root / channel / "linux-64"
        sub.mkdir(parents=True)
        packages = {}
        for name, version, build, mb in specs:
            fn = f"{name}-{version}-{build}.tar.bz2"
            packages[fn] = make_package(sub / fn, name, version, build, mb)
        repodata = {"info": {"subdir": "linux-64"}, "packages": packages, "packages.conda": {},
                    "removed": [], "repodata_version": 1}
        (sub / "repodata.json").write_text(json.dumps(repodata, indent=2))
        noarch = root / channel / "noarch"
        noarch.mkdir()
        (noarch / "repodata.json").write_text(json.dumps(
            {"info": {"subdir": "noarch"}, "packages": {}, "packages.conda": {}, "removed": [],
             "repodata_version": 1}))
    marker.touch()


# ------------------------------------------------------------------------------------------
# the server
# ------------------------------------------------------------------------------------------

class _Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    latency = 0.02
    # a CDN answers headers and body without Nagle's 40 ms wait for the delayed ACK
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        time.sleep(self.latency)
        super().do_GET()


def serve(root: Path, latency: float) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(type("H", (_Handler,), {"latency": latency}), directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


# ------------------------------------------------------------------------------------------
# running the tools
# ------------------------------------------------------------------------------------------

# runs the command in a fresh process; with --pty first, on a pseudo-terminal (progress bars drawn)
_MEASURE = """
import os, pty, resource, subprocess, sys, threading, time
args, on_pty = sys.argv[1:], sys.argv[1] == "--pty"
if on_pty:
    args = args[1:]
    master, slave = pty.openpty()
    seen = []
    def drain():
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            seen.append(data)
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
t = time.perf_counter()
if on_pty:
    p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    dt = time.perf_counter() - t
    os.close(slave)
    reader.join(5)
    tail = b"".join(seen).decode(errors="replace")[-2000:]
else:
    p = subprocess.run(args, capture_output=True, text=True)
    dt = time.perf_counter() - t
    tail = p.stdout[-2000:] + p.stderr[-2000:]
print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)
sys.stderr.write(tail)
"""


def measure(cmd: list[str], pty: bool = False) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, output tail) of ``cmd`` in a fresh process tree
    (``pty``: its output goes to a pseudo-terminal, so progress bars are drawn)."""
    p = subprocess.run([sys.executable, "-c", _MEASURE, *(["--pty"] if pty else []), *cmd],
                       capture_output=True, text=True)
    seconds, kb, rc = p.stdout.split()
    return float(seconds), int(kb) / 1024, int(rc), p.stderr


def ensure_conda_mirror() -> Path:
    exe = CM_VENV / "bin" / "conda-mirror"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(CM_VENV)], check=True)
        subprocess.run([str(CM_VENV / "bin" / "pip"), "install", "-q", "conda-mirror==0.10.*"], check=True)
    return exe


def run_pair(label: str, url: str, threads: int, cm: Path, repeat: int = 1) -> dict:
    """Each tool ``repeat`` times, alternating (a busy machine hurts both alike); medians."""
    runs: dict[str, list[dict]] = {"conda-mirror": [], "conda-deepdive": [], "deepdive+bars": []}
    for _ in range(repeat):
        for tool, result in _run_once(label, url, threads, cm).items():
            runs[tool].append(result)
    out = {}
    for tool, results in runs.items():
        results.sort(key=lambda r: r["seconds"])
        out[tool] = results[len(results) // 2]
    return out


def _run_once(label: str, url: str, threads: int, cm: Path) -> dict:
    out = {}
    for tool in ("conda-mirror", "conda-deepdive", "deepdive+bars"):
        target = WORK / "targets" / f"{label}-{tool}"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        tmp = WORK / "tmp"
        tmp.mkdir(exist_ok=True)
        if tool == "conda-mirror":
            cmd = [str(cm), "--upstream-channel", url, "--target-directory", str(target), "--platform",
                   "linux-64", "--num-threads", str(threads), "--temp-directory", str(tmp), "--no-progress"]
        else:
            cmd = [str(PROJECT / ".venv" / "bin" / "python"), "-m", "conda_deepdive", "mirror",
                   "--upstream-channel", url, "--target-directory", str(target), "--platform", "linux-64",
                   "--num-threads", str(threads)]
            if tool == "conda-deepdive":
                cmd += ["-q", "--no-progress"]
        # deepdive+bars: the default on a terminal, rich progress bars drawn on a pseudo-terminal
        seconds, peak, rc, tail = measure(cmd, pty=tool == "deepdive+bars")
        n = len(list((target / "linux-64").glob("*.tar.bz2")))
        out[tool] = {"seconds": seconds, "peak_mb": peak, "rc": rc, "files": n}
        print(f"  {label:<6} {tool:<15} {seconds:8.2f} s   peak {peak:7.1f} MB   exit {rc}   {n} files")
        if rc != 0:
            print("    " + tail.strip().replace("\n", "\n    ")[-800:])
    return out


def main() -> int:
    from _bytecode import compile_package

    compile_package()  # as pip does for an installed wheel (see _bytecode.py)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--small", type=int, default=200)
    ap.add_argument("--big-mb", type=int, default=300)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool and case (medians are compared)")
    args = ap.parse_args()
    cm = ensure_conda_mirror()
    channels = WORK / "upstream"
    t = time.perf_counter()
    make_channel(channels, args.small, args.big_mb)
    print(f"channel ready in {time.perf_counter() - t:.1f}s: {args.small} small packages, one "
          f"{args.big_mb} MB package; {args.latency * 1000:.0f} ms added per request, "
          f"{args.threads} threads")
    httpd, base = serve(channels, args.latency)
    try:
        small = run_pair("small", f"{base}/small", args.threads, cm, args.repeat)
        big = run_pair("big", f"{base}/big", args.threads, cm, args.repeat)
    finally:
        httpd.shutdown()
    ratio = small["conda-mirror"]["seconds"] / small["conda-deepdive"]["seconds"]
    ratio_big = big["conda-mirror"]["seconds"] / big["conda-deepdive"]["seconds"]
    print(f"\nsmall: conda-deepdive is {ratio:.1f}x faster than conda-mirror (goal >= 6x); with progress "
          f"bars on a terminal {small['conda-mirror']['seconds'] / small['deepdive+bars']['seconds']:.1f}x")
    print(f"big:   conda-deepdive is {ratio_big:.1f}x faster; peak memory "
          f"{big['conda-deepdive']['peak_mb']:.0f} MB vs conda-mirror {big['conda-mirror']['peak_mb']:.0f} MB "
          f"(goal < 100 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
