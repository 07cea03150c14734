"""The mirror under faults: the matrix, kill -9 at random points, and the command line.

Every fault is injected by the loopback server of ``mirror_fault_server.py``. What must hold:
a transient fault is retried and the mirror ends equal to upstream; a persistent one ends with
exit code 1 naming the file and the reason, the file is neither on disk nor in the index, and
the next run repairs it. At no moment does the published index name a missing or wrong file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conda_deepdive.config.teaching_defaults import channels_dir
from conda_deepdive.mirror.conda_mirror import check_consistency, mirror_channel
from conda_deepdive.mirror.downloader import Downloader
from conda_deepdive.reporting import RecordingReporter

from mirror_fault_server import FaultServer

pytestmark = pytest.mark.network

FN = "numpy-2.1.3-py312h3b1f031_0.conda"
PATH = f"/main/linux-64/{FN}"
PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def upstream(tmp_path) -> Path:
    root = tmp_path / "upstream"
    shutil.copytree(channels_dir() / "pkgs" / "main", root / "main")
    return root


@pytest.fixture
def server(upstream):
    with FaultServer(upstream) as srv:
        yield srv


def _run(url: str, target: Path, *, retries: int, reporter=None, **kw):
    delays: list[float] = []
    rec = reporter or RecordingReporter()
    dl = Downloader(num_threads=4, max_retries=retries, timeout=5, reporter=rec, backoff_base=0.01,
                    backoff_cap=0.05, sleep=delays.append)
    include = kw.pop("include", ["numpy=2.1.3", "xz"])  # a few files: the faults are what matters
    result = mirror_channel(url, target, ["linux-64"], include=include, downloader=dl, reporter=rec, **kw)
    return result, delays, rec


def _shards_match_index(target: Path) -> bool:
    """After a run, the shard files on disk are exactly those the live shard index names (a
    shard written early for a file that then failed is pruned once the index is live)."""
    import msgpack
    import zstandard

    subdir = target / "linux-64"
    blob = (subdir / "repodata_shards.msgpack.zst").read_bytes()
    index = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(blob), raw=False)
    named = {bytes(d).hex() + ".msgpack.zst" for d in index["shards"].values()}
    return named == {p.name for p in subdir.glob("*.msgpack.zst") if p.name != "repodata_shards.msgpack.zst"}


def _published(target: Path) -> set[str]:
    index = json.loads((target / "linux-64" / "repodata.json").read_text())
    return set(index["packages"]) | set(index["packages.conda"])


MATRIX = [
    # fault, what the failure says when it persists
    ("503", "HTTP 503"),
    ("429", "HTTP 429"),
    ("reset", "after"),
    ("truncate", "after"),
    ("corrupt", "sha256 mismatch"),
    ("html", "HTML page"),
    ("long", "bytes, the index says"),
    ("404", "HTTP 404"),
]


@pytest.fixture(params=["held", "streamed"])
def body_path(request, monkeypatch):
    """Both ways a body travels: held in memory until checked (small files, the teaching
    channel's) and streamed into its part file (anything over one chunk)."""
    from conda_deepdive.mirror import downloader

    if request.param == "streamed":
        monkeypatch.setattr(downloader, "SMALL", 0)
    return request.param


@pytest.mark.parametrize("fault,reason", MATRIX, ids=[m[0] for m in MATRIX])
def test_fault_matrix(fault, reason, server, upstream, tmp_path, body_path):
    target = tmp_path / "m"
    # transient: one bad answer, then good ones (a 404 is never retried: it stays a failure)
    server.add_fault(PATH, fault)
    result, delays, rec = _run(f"{server.url}/main", target, retries=2)
    if fault == "404":
        assert result.exit_code == 1 and server.requests[PATH] == 1
    else:
        assert result.exit_code == 0, result
        assert (target / "linux-64" / FN).read_bytes() == (upstream / "main" / "linux-64" / FN).read_bytes()
        assert "download_retry" in rec.kinds("mirror")
    assert check_consistency(target) == []

    # persistent: every attempt fails → exit 1, named, not published, not on disk
    target2 = tmp_path / "m2"
    server.add_fault(PATH, *[fault] * 3)
    result, delays, _ = _run(f"{server.url}/main", target2, retries=2)
    assert result.exit_code == 1
    failed = {f.fn: f.reason for f in result.failures}
    assert FN in failed and reason in failed[FN], failed
    assert FN not in _published(target2)
    assert not (target2 / "linux-64" / FN).exists()
    assert _shards_match_index(target2)
    assert check_consistency(target2) == []
    # the next run repairs it
    server.faults.clear()
    again, _, _ = _run(f"{server.url}/main", target2, retries=2)
    assert again.exit_code == 0 and FN in _published(target2) and again.downloaded_files == 1
    assert check_consistency(target2) == []


def test_retry_after_is_honoured(server, tmp_path):
    server.add_fault(PATH, "503:3")
    result, delays, _ = _run(f"{server.url}/main", tmp_path / "m", retries=2)
    assert result.exit_code == 0 and max(delays) >= 3  # waited what the server asked (capped at 60)


def test_truncated_download_resumes_with_range(server, upstream, tmp_path, body_path):
    server.add_fault(PATH, "truncate")
    result, _, rec = _run(f"{server.url}/main", tmp_path / "m", retries=2)
    assert result.exit_code == 0
    assert any(p == PATH and r.startswith("bytes=") for p, r in server.ranges)
    done = [e.data for e in rec.events if e.kind == "download_finished" and e.data["fn"] == FN]
    assert done and done[0]["resumed"] is True


def test_md5_only_record_and_wrong_archive(server, upstream, tmp_path, body_path):
    up = upstream / "main" / "linux-64"
    index = json.loads((up / "repodata.json").read_text())
    del index["packages.conda"][FN]["sha256"]  # md5 is all the record has
    # a file whose checksum is right but whose archive is another package
    other = "numpy-2.1.3-py311h2c21264_0.conda"
    impostor = "numpy-2.1.3-py312ha458c48_0.conda"
    shutil.copy(up / other, up / impostor)
    index["packages.conda"][impostor] = dict(index["packages.conda"][other], build="py312ha458c48_0")
    (up / "repodata.json").write_text(json.dumps(index, indent=2))
    server.add_fault(PATH, "corrupt")
    result, _, _ = _run(f"{server.url}/main", tmp_path / "m", retries=2)
    failed = {f.fn: f.reason for f in result.failures}
    assert FN not in failed  # the corrupt first attempt failed md5, the retry passed
    assert "info/index.json says build=" in failed[impostor]
    assert result.exit_code == 1 and check_consistency(tmp_path / "m") == []


def test_nothing_reachable_exits_2(tmp_path, env, monkeypatch):
    from conda_deepdive.cli.main import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(["mirror", "--upstream-channel", "http://127.0.0.1:9/main", "--platform", "linux-64",
                   "--target-directory", str(tmp_path / "m"), "--max-retries", "0", "--timeout", "2"], env=env)
    assert rc == 2
    assert "MirrorError: Nothing could be mirrored from http://127.0.0.1:9/main" in err.getvalue()


def test_seed_command_line(tmp_path, env, monkeypatch):
    """The seed's conda-mirror line, as written, on the bundled channel (no network)."""
    from conda_deepdive.cli.main import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf.yaml").write_text("blacklist:\n    - build: 'py2*'\nwhitelist:\n    - build: 'py3*'\n")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main("mirror --upstream-channel main --platform linux-64 -vvv --num-threads 12 "
                  "--temp-directory ./temp/ -k --config conf.yaml".split(), env=env)
    assert rc == 0, out.getvalue() + err.getvalue()
    target = tmp_path / "anaconda" / "pkgs" / "main"
    assert (target / "linux-64" / "repodata.json").exists() and (target / "noarch" / "repodata.json").exists()
    assert "Status     complete" in out.getvalue()
    assert f"channel_alias: {(tmp_path / 'anaconda' / 'pkgs').as_uri()}" in out.getvalue()
    assert check_consistency(target) == []
    # --json: the result document; an unchanged re-run downloads nothing
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = main("mirror --upstream-channel main --platform linux-64 --json".split(), env=env)
    doc = json.loads(out.getvalue())
    assert rc == 0 and doc["exit_code"] == 0 and doc["files_downloaded"] == 0 and doc["skipped"] == 112


def test_cli_exit_1_names_the_file(server, tmp_path, env):
    from conda_deepdive.cli.main import main

    server.add_fault(PATH, *["corrupt"] * 2)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = main(["mirror", "--upstream-channel", f"{server.url}/main", "--platform", "linux-64",
                   "--target-directory", str(tmp_path / "m"), "--include", "numpy", "--max-retries", "1"],
                  env=env)
    assert rc == 1
    assert f"linux-64/{FN}: sha256 mismatch" in out.getvalue() and "INCOMPLETE" in out.getvalue()


@pytest.mark.slow
def test_kill_9_at_random_points_leaves_a_consistent_mirror(upstream, tmp_path):
    """Kill the mirror process at random moments (bounded rounds); a checker reading the mirror
    during the syncs and after each kill never finds an index entry that is missing or wrong."""
    rng = random.Random(14)
    target = tmp_path / "m"
    problems: list[str] = []
    killed = 0
    env = dict(os.environ, PYTHONPATH=str(PROJECT), HOME=str(tmp_path))
    with FaultServer(upstream, latency=0.04) as srv:
        cmd = [sys.executable, "-m", "conda_deepdive", "mirror", "--upstream-channel", f"{srv.url}/main",
               "--platform", "linux-64", "--target-directory", str(target), "--num-threads", "3", "-q"]
        stop = threading.Event()

        def checker() -> None:
            while not stop.is_set():
                problems.extend(check_consistency(target, verify_hashes=True))
                time.sleep(0.01)

        watcher = threading.Thread(target=checker, daemon=True)
        watcher.start()
        try:
            # each round has work to be killed in: downloads, an upstream removal, local
            # removals (--exclude), downloads again
            for round_, extra in enumerate(([], [], "drop", ["--exclude", "numpy"], [], [])):
                if extra == "drop":
                    up = upstream / "main" / "linux-64"
                    index = json.loads((up / "repodata.json").read_text())
                    del index["packages.conda"]["zlib-1.2.13-h5eee18b_1.conda"]
                    (up / "repodata.json").write_text(json.dumps(index, indent=2))
                    extra = []
                proc = subprocess.Popen(cmd + extra, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.4, 1.8))
                proc.send_signal(signal.SIGKILL)
                killed += proc.wait() == -signal.SIGKILL
                problems.extend(check_consistency(target))
            final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        finally:
            stop.set()
            watcher.join()
    assert killed >= 1  # at least one round died mid-sync
    assert problems == []
    assert final.returncode == 0, final.stdout + final.stderr
    assert check_consistency(target) == []
    index = json.loads((target / "linux-64" / "repodata.json").read_text())
    assert "zlib-1.2.13-h5eee18b_1.conda" not in index["packages.conda"]
    assert not (target / "linux-64" / "zlib-1.2.13-h5eee18b_1.conda").exists()
    assert not [p for p in target.rglob("*mirror-tmp*")]  # no temp left after a clean run


@pytest.fixture
def tls_server(upstream, tmp_path):
    """The upstream over HTTPS with a self-signed certificate (made by the ``openssl`` tool)."""
    import functools
    import http.server
    import ssl

    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed: no certificate for the HTTPS test")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    requests_seen: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            requests_seen.append(self.path)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Handler, directory=str(upstream)))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"https://localhost:{httpd.server_address[1]}", cert, requests_seen
    finally:
        httpd.shutdown()


def test_https_verifies_the_certificate(tls_server, tmp_path):
    """An unknown certificate fails at once (it would not verify on a retry either), with the
    reason; the CA bundle named by ``ssl_verify`` makes the same mirror work."""
    from conda_deepdive.exceptions import MirrorError

    url, cert, seen = tls_server
    rec = RecordingReporter()
    with pytest.raises(MirrorError, match="CERTIFICATE_VERIFY_FAILED"):
        mirror_channel(f"{url}/main", tmp_path / "bad", ["linux-64"], include=["xz"], max_retries=3,
                       reporter=rec)
    assert seen == [] and "index_retry" not in rec.kinds("mirror")  # failed at once, not retried
    result = mirror_channel(f"{url}/main", tmp_path / "good", ["linux-64"], include=["xz"],
                            ssl_verify=str(cert))
    assert result.exit_code == 0 and result.downloaded_files == 2
    assert check_consistency(tmp_path / "good") == []


@pytest.fixture
def http_proxy():
    """A forwarding HTTP proxy on loopback that records the absolute URLs it was asked for."""
    import http.server
    import urllib.request

    seen: list[str] = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            seen.append(self.path)  # a proxy is sent the whole URL
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(self.path) as up:
                body = up.read()
                self.send_response(up.status)
                self.send_header("Content-Type", up.headers.get("Content-Type", "application/octet-stream"))
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()


@pytest.mark.parametrize("how", ["option", "environment"])
def test_downloads_go_through_the_proxy(how, server, http_proxy, tmp_path, monkeypatch):
    """``--proxy`` (conda's ``proxy_servers``) or ``HTTP_PROXY``: every request goes through the
    proxy; ``NO_PROXY`` naming the host sends them direct again."""
    proxy, seen = http_proxy
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    kw = {}
    if how == "option":
        kw["proxies"] = {"http": proxy}
    else:
        monkeypatch.setenv("HTTP_PROXY", proxy)
    result = mirror_channel(f"{server.url}/main", tmp_path / "m", ["linux-64"], include=["xz"], **kw)
    assert result.exit_code == 0 and result.downloaded_files == 2
    assert {u.rsplit("/", 1)[-1] for u in seen} >= {"repodata.json", "xz-5.4.6-h5eee18b_1.conda",
                                                    "xz-5.4.6-h5eee18b_1.tar.bz2"}
    assert all(u.startswith(server.url) for u in seen)
    if how == "environment":
        seen.clear()
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        again = mirror_channel(f"{server.url}/main", tmp_path / "m2", ["linux-64"], include=["xz"])
        assert again.exit_code == 0 and seen == []
