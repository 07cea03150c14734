"""``serve --port 0`` takes a free port and prints its URL; a port in use is one line, exit 1.

Real processes on the loopback interface, as a workshop would start them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request

import pytest

pytestmark = pytest.mark.network


def _as_at_a_terminal() -> None:
    # Ctrl-C's default meaning, as at a terminal: a test suite started in the background (a
    # non-interactive shell's ``cmd &``) inherits SIGINT *ignored*, and Python keeps it ignored
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _serve(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "conda_deepdive", "serve", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_at_a_terminal)


@pytest.fixture
def server_env(tmp_path) -> dict:
    return {**os.environ, "HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}


def test_port_zero_prints_the_url_and_a_second_serve_on_it_fails_in_one_line(server_env):
    first = _serve("--port", "0", env=server_env)
    try:
        line = first.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:(\d+))/ \(Ctrl-C to stop\)", line)
        assert match, line + first.stderr.read() if first.poll() is not None else line
        url, port = match.group(1), int(match.group(2))
        assert port != 0
        with urllib.request.urlopen(f"{url}/pkgs/main/noarch/repodata.json", timeout=10) as resp:
            assert resp.status == 200 and resp.headers["ETag"]

        second = subprocess.run([sys.executable, "-m", "conda_deepdive", "serve", "--port", str(port)],
                                env=server_env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert second.stdout == ""
        assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr, second.stderr
        assert f"port {port} on 127.0.0.1 is already in use" in second.stderr
        assert "--port 0" in second.stderr
    finally:
        first.send_signal(signal.SIGINT)
        try:
            out, _ = first.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            first.kill()
            first.communicate()
            raise
    assert first.returncode == 0 and "stopped" in out


def test_teaching_serve_module_reports_a_busy_port_in_one_line(server_env):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "conda_deepdive.teaching.serve", "--port", str(port)],
                              env=server_env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "already in use" in proc.stderr, proc.stderr


def test_help_says_what_the_port_default_is():
    proc = subprocess.run([sys.executable, "-m", "conda_deepdive", "serve", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    assert "default 8999; 0 picks a free port" in text and "chosen by the server" not in text
