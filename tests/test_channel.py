"""Channel parsing: names, alias, defaults, file://, tokens, subdirs (conda.models.channel)."""

from __future__ import annotations

import os
import pickle

import pytest

from conda_deepdive.models import Channel, ChannelConfig, MultiChannel
from conda_deepdive.models.channel import all_channel_urls, mask_token

SUBDIRS = ("osx-64", "noarch")


def test_name_hangs_off_the_channel_alias():
    c = Channel("conda-forge")
    assert (c.scheme, c.location, c.name, c.platform) == ("https", "conda.anaconda.org", "conda-forge", None)
    assert c.canonical_name == "conda-forge"
    assert c.base_url == "https://conda.anaconda.org/conda-forge"
    assert str(c) == "https://conda.anaconda.org/conda-forge"
    assert c.urls(subdirs=SUBDIRS) == [
        "https://conda.anaconda.org/conda-forge/osx-64",
        "https://conda.anaconda.org/conda-forge/noarch",
    ]
    assert "conda-forge" in repr(c)


def test_name_with_platform():
    c = Channel("conda-forge/linux-64")
    assert c.name == "conda-forge" and c.platform == "linux-64" and c.subdir == "linux-64"
    assert c.urls(subdirs=SUBDIRS) == [
        "https://conda.anaconda.org/conda-forge/linux-64",
        "https://conda.anaconda.org/conda-forge/noarch",
    ]
    assert c.url() == "https://conda.anaconda.org/conda-forge/linux-64"
    assert str(c) == "https://conda.anaconda.org/conda-forge/linux-64"


def test_defaults_is_a_multichannel_of_default_channels():
    d = Channel("defaults")
    assert isinstance(d, MultiChannel)
    assert d.canonical_name == "defaults" and d.base_url is None and d.url() is None
    assert [c.base_url for c in d.channels] == [
        "https://repo.anaconda.com/pkgs/main",
        "https://repo.anaconda.com/pkgs/r",
    ]
    assert d.urls(subdirs=SUBDIRS) == [
        "https://repo.anaconda.com/pkgs/main/osx-64",
        "https://repo.anaconda.com/pkgs/main/noarch",
        "https://repo.anaconda.com/pkgs/r/osx-64",
        "https://repo.anaconda.com/pkgs/r/noarch",
    ]
    assert str(d) == "defaults"


def test_members_of_defaults_have_canonical_name_defaults():
    for spelling in ("pkgs/main", "https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/main/osx-64"):
        c = Channel(spelling)
        assert c.canonical_name == "defaults", spelling
        assert c.base_url == "https://repo.anaconda.com/pkgs/main"
    assert Channel("pkgs/free").base_url == "https://conda.anaconda.org/pkgs/free"  # no longer a default


def test_custom_default_channels_and_custom_channels():
    cfg = ChannelConfig(
        default_channels=("https://mirror.local/pkgs/main",),
        custom_channels={"bioconda": "https://mirror.local/conda"},
        custom_multichannels={"mine": ("conda-forge", "bioconda")},
        subdirs=SUBDIRS,
    )
    assert Channel("defaults", cfg).urls() == [
        "https://mirror.local/pkgs/main/osx-64",
        "https://mirror.local/pkgs/main/noarch",
    ]
    bio = Channel("bioconda", cfg)
    assert bio.base_url == "https://mirror.local/conda/bioconda"
    assert bio.canonical_name == "mine"
    assert Channel("https://mirror.local/conda/bioconda/osx-64", cfg).canonical_name == "mine"
    mine = Channel("mine", cfg)
    assert isinstance(mine, MultiChannel)
    assert [c.base_url for c in mine.channels] == [
        "https://conda.anaconda.org/conda-forge",
        "https://mirror.local/conda/bioconda",
    ]


def test_file_urls_and_paths():
    c = Channel("file:///srv/channels/teach/linux-64")
    assert c.scheme == "file" and c.location == "/srv/channels" and c.name == "teach"
    assert c.platform == "linux-64"
    assert c.canonical_name == "file:///srv/channels/teach"
    assert c.base_url == "file:///srv/channels/teach"
    assert Channel("/srv/channels/teach") == Channel("file:///srv/channels/teach")
    assert Channel("/srv/channels/teach").canonical_name == "file:///srv/channels/teach"


def test_file_channel_alias_resolves_names_locally():
    cfg = ChannelConfig(channel_alias="file:///x/pkgs", subdirs=SUBDIRS)
    main = Channel("main", cfg)
    assert main.base_url == "file:///x/pkgs/main"
    assert main.canonical_name == "main"
    assert main.urls() == ["file:///x/pkgs/main/osx-64", "file:///x/pkgs/main/noarch"]
    # and a URL under that alias is recognised as the named channel
    assert Channel("file:///x/pkgs/main/noarch", cfg).canonical_name == "main"


def test_url_with_package_filename():
    url = "https://conda.anaconda.org/conda-forge/linux-64/numpy-1.20.0-py39_0.conda"
    c = Channel(url)
    assert c.platform == "linux-64"
    assert c.package_filename == "numpy-1.20.0-py39_0.conda"
    assert c.url() == url
    assert c.subdir_url() == "https://conda.anaconda.org/conda-forge/linux-64"


def test_tokens_are_kept_for_downloads_and_redacted_when_printed():
    c = Channel("https://conda.anaconda.org/t/tk-123-456/private/linux-64")
    assert c.token == "tk-123-456"
    assert c.name == "private" and c.canonical_name == "private"
    assert c.urls(with_credentials=True) == [
        "https://conda.anaconda.org/t/tk-123-456/private/linux-64",
        "https://conda.anaconda.org/t/tk-123-456/private/noarch",
    ]
    assert c.urls() == [
        "https://conda.anaconda.org/private/linux-64",
        "https://conda.anaconda.org/private/noarch",
    ]
    assert "tk-123-456" not in str(c) and "tk-123-456" not in repr(c)
    assert "/t/<TOKEN>/" in repr(c)
    assert c.subdir_url("noarch") == "https://conda.anaconda.org/t/tk-123-456/private/noarch"
    assert mask_token("https://h/t/abc-1/x") == "https://h/t/<TOKEN>/x"


def test_basic_auth_only_with_credentials():
    c = Channel("https://user:pw@example.com/chan/osx-64")
    assert c.auth == "user:pw"
    assert c.urls()[0] == "https://example.com/chan/osx-64"
    assert c.urls(with_credentials=True)[0] == "https://user:pw@example.com/chan/osx-64"


def test_host_only_and_conda_prefixed_urls():
    c = Channel("http://localhost:8000/teach")
    assert (c.location, c.name) == ("localhost:8000", "teach")
    assert c.canonical_name == "http://localhost:8000/teach"
    ae = Channel("https://enterprise.example/conda/team/tools")
    assert (ae.location, ae.name) == ("enterprise.example/conda", "team/tools")


def test_unknown_and_virtual_channels():
    unknown = Channel(None)
    assert unknown.canonical_name == "<unknown>" and unknown.base_url is None and unknown.url() is None
    assert Channel("<unknown>") == unknown and Channel("<unknown>").canonical_name == "<unknown>"
    at = Channel("@")
    assert at.canonical_name == "@" and at.name == "@"


def test_equality_hash_and_caching():
    assert Channel("conda-forge") is Channel("conda-forge")
    assert Channel("conda-forge") == Channel("https://conda.anaconda.org/conda-forge/linux-64")
    assert Channel("conda-forge") == "conda-forge"
    assert Channel("conda-forge") != Channel("bioconda")
    assert len({Channel("conda-forge"), Channel("https://conda.anaconda.org/conda-forge")}) == 1
    c = Channel("conda-forge/osx-64")
    assert Channel(c) is c
    assert pickle.loads(pickle.dumps(c)) == c


def test_config_is_frozen_hashable_and_changes_meaning():
    a = ChannelConfig(custom_channels={"x": "https://h"})
    b = ChannelConfig(custom_channels={"x": "https://h"})
    assert a == b and hash(a) == hash(b)
    with pytest.raises(Exception):
        a.channel_alias = "https://other"  # type: ignore[misc]
    other = ChannelConfig(channel_alias="https://mirror.example/conda-alias")
    assert Channel("conda-forge", other).base_url == "https://mirror.example/conda-alias/conda-forge"
    assert Channel("conda-forge").base_url == "https://conda.anaconda.org/conda-forge"


def test_migrated_channel_alias_rehomes_old_urls():
    cfg = ChannelConfig(migrated_channel_aliases=("https://old.example",))
    c = Channel("https://old.example/conda-forge/noarch", cfg)
    assert c.base_url == "https://conda.anaconda.org/conda-forge"
    assert c.canonical_name == "conda-forge"


def test_all_channel_urls_dedupes_in_priority_order():
    urls = all_channel_urls(["conda-forge", "defaults", "conda-forge/osx-64"], subdirs=SUBDIRS)
    assert urls[:2] == ["https://conda.anaconda.org/conda-forge/osx-64", "https://conda.anaconda.org/conda-forge/noarch"]
    assert len(urls) == len(set(urls)) == 6


def test_bad_channel_value():
    from conda_deepdive.exceptions import ChannelError

    with pytest.raises(ChannelError):
        Channel(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Channel("conda-forge").urls(subdirs="linux-64")


def test_url_helpers_answer_as_condas_regexes_do():
    # split_platform, has_scheme and the Windows-path test skip compiling regexes for the few
    # URLs a run reads; they must answer exactly as conda's regexes (written out here) do
    import random
    import re

    from conda_deepdive.models import urls
    from conda_deepdive.models.channel import KNOWN_SUBDIRS

    def platform_by_regex(url, subdirs):
        m = re.search(r"/({})(?:/|$)".format("|".join(re.escape(s) for s in subdirs)), url, re.I)
        platform = m.group(1) if m else None
        return (url.replace("/" + platform, "", 1) if platform is not None else url).rstrip("/"), platform

    rng = random.Random(16)
    pieces = ["/", "//", "linux-64", "LINUX-64", "Linux-64", "noarch", "osx-arm64", "osx-64", "x",
              "conda-forge", "file:", "https:", ":", "\n", "-", "64", "linux", "t", "é", "ſ", "K"]
    subdir_sets = [KNOWN_SUBDIRS, ("linux-64", "noarch"), ("NoArch",), ("a-b", "A-B"), ("linux-64\n",)]
    urls_seen = ["https://conda.anaconda.org/conda-forge/linux-64", "file:///tmp/c/noarch/",
                 "file:///tmp/c/noarch\n", "https://h/t/tok/linux-64/x.conda", "/linux-64",
                 "https://h/osx-64x/osx-64", "https://h/é/linux-64"]
    urls_seen += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 9))) for _ in range(3000)]
    for url in urls_seen:
        for subdirs in subdir_sets:
            assert urls.split_platform(url, subdirs) == platform_by_regex(url, subdirs), (url, subdirs)
        scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://", url) is not None
        assert urls.has_scheme(url) is scheme, url
        assert urls._is_win_path(url) == bool(re.match(r"^[a-zA-Z]:[/\\]", url)), url
    for value in ("C:/x", "c:\\x", "C:", "1:/x", "é:/x", "CC:/x", "s3+x.y-z://b", "3s://b", "é://b",
                  "a b://c", "://x", "a://", "ab:/x://y"):
        assert urls.has_scheme(value) is (re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://", value) is not None)
        assert urls._is_win_path(value) == bool(re.match(r"^[a-zA-Z]:[/\\]", value))
    for url in ("https://h/t/abc-1_2/conda-forge", "https://h/conda-forge", "https://h/t//x"):
        m = re.search(r"/t/([a-zA-Z0-9-_]*)", url)
        token = m.group(1) if m else None
        cleaned = url.replace("/t/" + token, "", 1) if token is not None else url
        assert urls.split_anaconda_token(url) == (cleaned.rstrip("/"), token)
        assert urls.mask_token(url) == re.sub(r"/t/([a-zA-Z0-9-_]*)", "/t/<TOKEN>", url)


def test_percent_encoding_is_urllibs():
    # models.urls writes quote/unquote itself so that a warm run never imports urllib.parse
    # (nor the ipaddress module it pulls in); the answers must be urllib's
    import random
    from urllib import parse

    from conda_deepdive.models import urls

    rng = random.Random(21)
    alphabet = "ab/:~%2F%41%e9%C3%A9%zz%4 é☃;=@!$&'()*+,-._\\?#[]\x00"
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert urls.unquote(text) == parse.unquote(text), text
        for safe in ("/", "/:", "/:~!$&'()*+,;=@", ""):
            assert urls.quote(text, safe=safe) == parse.quote(text, safe=safe), (text, safe)
    for text in ("%C3%A9t%C3%A9", "%ff%fe", "100%", "%%41", "caf\u00e9%20x"):
        assert urls.unquote(text) == parse.unquote(text)


def test_the_plain_forms_of_file_urls_and_credentials_are_urllibs(tmp_path):
    # the warm path reads file:// URLs without urllib: same folder, same stripped URL
    import random
    from urllib.parse import unquote, urlparse

    from conda_deepdive.index.repodata_cache import _strip_credentials, _url_to_local, _url_to_path

    rng = random.Random(8)
    pieces = ["file://", "https://", "HTTP://", "/", "//", "x", "t", "t/tok", "%20", "%C3%A9", "é",
              "@", "user:pw@", ";", "?q", "#f", "localhost", "host", ":8080", " ", "\t", "[::1]", "."]
    for _ in range(4000):
        url = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        try:
            parsed = urlparse(url)
            expected = parsed._replace(netloc=parsed.netloc.rsplit("@", 1)[-1]).geturl()
        except ValueError:  # urllib refuses it (a bad bracketed host): so must we
            with pytest.raises(ValueError):
                _strip_credentials(url)
            continue
        if not parsed.path.startswith("/t/"):
            assert _strip_credentials(url) == expected, url
        if url.startswith("file://"):
            assert os.path.normpath(_url_to_local(url)) == os.path.normpath(str(_url_to_path(url))), url
    folder = tmp_path / "a b" / "é"
    assert _url_to_local(folder.as_uri()) == str(folder)
