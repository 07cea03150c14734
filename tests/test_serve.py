"""conda_deepdive.teaching.serve: static files with ETag / Last-Modified / Cache-Control and 304 answers."""

from __future__ import annotations

import email.utils
import io
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conda_deepdive.exceptions import CondaValueError
from conda_deepdive.teaching.serve import DEFAULT_DIRECTORY, serving

pytestmark = pytest.mark.network

LOG_LINE = re.compile(
    r'^127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4} \d{2}:\d{2}:\d{2}\] "(?P<request>[^"]*)" (?P<code>\d{3}) (?P<size>\d+|-)$')


def get(url: str, headers: dict | None = None, method: str = "GET"):
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:  # 304 and 404 arrive as HTTPError
        return err.code, dict(err.headers), err.read()


@pytest.fixture
def channel(tmp_path: Path) -> Path:
    sub = tmp_path / "pkgs" / "main" / "noarch"
    sub.mkdir(parents=True)
    (sub / "repodata.json").write_text('{"info": {"subdir": "noarch"}}')
    os.utime(sub / "repodata.json", (1700000000, 1700000000))
    return tmp_path


def test_200_with_validators_and_cache_control(channel):
    with serving(channel, max_age=123, log_stream=io.StringIO()) as url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        status, headers, body = get(f"{url}/pkgs/main/noarch/repodata.json")
    assert status == 200 and body == b'{"info": {"subdir": "noarch"}}'
    assert re.fullmatch(r'"[0-9a-f]{32}"', headers["ETag"])
    assert headers["Last-Modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert headers["Cache-Control"] == "public, max-age=123"
    assert headers["Content-Type"] == "application/json"
    assert headers["Content-Length"] == str(len(body))


def test_if_none_match_gives_304_and_etag_follows_content(channel):
    target = channel / "pkgs/main/noarch/repodata.json"
    with serving(channel, log_stream=io.StringIO()) as url:
        u = f"{url}/pkgs/main/noarch/repodata.json"
        _, first, _ = get(u)
        etag = first["ETag"]
        status, headers, body = get(u, {"If-None-Match": etag})
        assert (status, body) == (304, b"")
        assert headers["ETag"] == etag and "Last-Modified" in headers and "Cache-Control" in headers
        assert get(u, {"If-None-Match": f'"other", W/{etag}'})[0] == 304  # weak comparison, lists
        assert get(u, {"If-None-Match": '"something-else"'})[0] == 200
        # If-None-Match wins over a matching If-Modified-Since
        assert get(u, {"If-None-Match": '"x"', "If-Modified-Since": first["Last-Modified"]})[0] == 200
        target.write_text('{"info": {"subdir": "noarch"}, "packages": {}}')
        status, changed, _ = get(u, {"If-None-Match": etag})
        assert status == 200 and changed["ETag"] != etag


def test_if_modified_since(channel):
    with serving(channel, log_stream=io.StringIO()) as url:
        u = f"{url}/pkgs/main/noarch/repodata.json"
        assert get(u, {"If-Modified-Since": "Tue, 14 Nov 2023 22:13:20 GMT"})[0] == 304
        assert get(u, {"If-Modified-Since": "Wed, 15 Nov 2023 00:00:00 GMT"})[0] == 304
        assert get(u, {"If-Modified-Since": "Tue, 14 Nov 2023 22:13:19 GMT"})[0] == 200
        assert get(u, {"If-Modified-Since": "not a date"})[0] == 200


def test_log_lines_use_the_common_log_format(channel):
    log = io.StringIO()
    with serving(channel, log_stream=log) as url:
        u = f"{url}/pkgs/main/noarch/repodata.json"
        _, headers, body = get(u)
        get(u, {"If-None-Match": headers["ETag"]})
        get(u, method="HEAD")
        get(f"{url}/missing.json")
    lines = [m.groupdict() for m in map(LOG_LINE.match, log.getvalue().splitlines()) if m]
    assert lines[0] == {"request": "GET /pkgs/main/noarch/repodata.json HTTP/1.1", "code": "200",
                        "size": str(len(body))}
    assert lines[1] == {"request": "GET /pkgs/main/noarch/repodata.json HTTP/1.1", "code": "304", "size": "-"}
    assert lines[2]["request"].startswith("HEAD ") and lines[2]["code"] == "200"
    assert lines[-1]["code"] == "404"


def test_serves_the_committed_channels_by_default():
    with serving(log_stream=io.StringIO()) as url:
        status, _, body = get(f"{url}/pkgs/main/linux-64/repodata.json")
        assert status == 200
        assert body == (DEFAULT_DIRECTORY / "pkgs/main/linux-64/repodata.json").read_bytes()
        status, headers, _ = get(f"{url}/cloud/conda-forge/noarch/repodata.json.zst")
        assert status == 200 and headers["Content-Type"] == "application/zstd"
        assert get(f"{url}/pkgs/main/")[0] == 200  # the channel's index.html


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(CondaValueError, match="does-not-exist"):
        with serving(tmp_path / "does-not-exist"):
            pass


def test_command_line_prints_the_url_and_serves(channel):
    proc = subprocess.Popen([sys.executable, "-m", "conda_deepdive.teaching.serve", str(channel), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+)/", first)
        assert match, first
        assert "channel_alias: " in proc.stdout.readline()
        deadline = time.monotonic() + 10
        while True:
            try:
                status = get(f"{match.group(1)}/pkgs/main/noarch/repodata.json")[0]
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert '"GET /pkgs/main/noarch/repodata.json HTTP/1.1" 200' in proc.stderr.read()


def test_last_modified_is_the_file_mtime(channel):
    target = channel / "pkgs/main/noarch/repodata.json"
    os.utime(target, (1600000000, 1600000000))
    with serving(channel, log_stream=io.StringIO()) as url:
        _, headers, _ = get(f"{url}/pkgs/main/noarch/repodata.json")
    assert email.utils.parsedate_to_datetime(headers["Last-Modified"]).timestamp() == 1600000000
