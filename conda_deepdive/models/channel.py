"""Channels: where packages come from (mirrors ``conda.models.channel``).

A *channel* is a directory tree on a server (or on disk) holding one ``repodata.json`` per
*subdir* (``linux-64``, ``osx-64``, ``noarch`` …). Users name channels in many ways and conda
turns every spelling into the same small value object:

====================================  =========================================================
what the user writes                  what conda understands
====================================  =========================================================
``conda-forge``                       ``channel_alias`` + name → ``https://conda.anaconda.org/conda-forge``
``defaults``                          a :class:`MultiChannel` of the ``default_channels``
``pkgs/main``                         a member of ``defaults`` → canonical name ``defaults``
``https://my.host/chan/linux-64``     a URL; the trailing known subdir is split off (``platform``)
``file:///srv/chan``, ``/srv/chan``   a local channel (paths become ``file://`` URLs)
``https://h/t/<token>/chan``          an anaconda.org token, kept for downloads, never printed
====================================  =========================================================

Each :class:`Channel` is split into conda's parts::

    scheme :// [auth@] location [/t/token] / name [/platform [/package_filename]]

``canonical_name`` is the *short identity* conda prints and stores (``conda list``, history,
``conda-meta``): the multichannel name (``defaults``) for members of a multichannel, the bare
``name`` for channels under the ``channel_alias`` or in ``custom_channels``, otherwise the full
base URL (``file:///srv/chan``). Records are identified by canonical name, so the same package
reached through two spellings of one channel is the same package.

Unlike conda there is no global context: a frozen :class:`ChannelConfig` (built by
``Context.channel_config``) carries the handful of settings that change how names resolve.
What to notice: the same string can mean different URLs under different configs — try
``Channel("main", ChannelConfig(channel_alias="file:///srv/pkgs"))``.
"""

from __future__ import annotations

import os
import sys
from itertools import chain
from types import MappingProxyType
from collections.abc import Iterable, Mapping

from conda_deepdive.values import field, value_object

from .urls import (  # noqa: F401  (re-exported for convenience)
    PACKAGE_EXTENSIONS,
    _tokenized_startswith,
    _UrlParts,
    has_scheme,
    is_package_file,
    is_path,
    join_url,
    mask_token,
    path_to_url,
    split_anaconda_token,
    split_platform,
    split_scheme_auth_token,
    strip_pkg_extension,
    url_to_path,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

#: Every subdir conda knows; a path segment equal to one of these is the channel's platform.
KNOWN_SUBDIRS: tuple[str, ...] = (
    "noarch",
    "emscripten-wasm32",
    "wasi-wasm32",
    "freebsd-64",
    "linux-32",
    "linux-64",
    "linux-aarch64",
    "linux-armv6l",
    "linux-armv7l",
    "linux-ppc64",
    "linux-ppc64le",
    "linux-riscv64",
    "linux-s390x",
    "osx-64",
    "osx-arm64",
    "win-32",
    "win-64",
    "win-arm64",
    "zos-z",
)

DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org"
DEFAULT_CHANNELS: tuple[str, ...] = (
    "https://repo.anaconda.com/pkgs/main",
    "https://repo.anaconda.com/pkgs/r",
)
DEFAULTS_CHANNEL_NAME = "defaults"
UNKNOWN_CHANNEL = "<unknown>"


def host_uname(field: str) -> str:
    """``platform.uname().<field>`` (``system``, ``release``, ``machine``…), read from
    ``os.uname()`` where it exists: the same values, without importing :mod:`platform` (~1.5 ms)."""
    uname = getattr(os, "uname", None)
    if uname is None:  # Windows
        import platform

        return getattr(platform.uname(), field)
    value = getattr(uname(), {"system": "sysname", "node": "nodename"}.get(field, field))
    return "" if value == "unknown" else value  # platform's normalisation


def native_subdir() -> str:
    """The subdir of the running machine (what conda's ``context.subdir`` defaults to)."""
    machine = host_uname("machine").lower()
    if sys.platform.startswith("linux"):
        arch = {"x86_64": "64", "amd64": "64", "i686": "32", "i386": "32", "arm64": "aarch64"}
        return f"linux-{arch.get(machine, machine)}"
    if sys.platform == "darwin":
        return "osx-arm64" if machine == "arm64" else "osx-64"
    if sys.platform.startswith("win"):
        return "win-arm64" if machine == "arm64" else ("win-64" if sys.maxsize > 2**32 else "win-32")
    return "linux-64"


def _freeze_map(value: Mapping | Iterable | None) -> Mapping:
    return MappingProxyType(dict(value or {}))


@value_object(frozen=True, eq=True, repr=False)  # its own __repr__ below
class ChannelConfig:
    """The channel-related settings of a ``Context`` (conda reads these from the global context).

    * ``channel_alias`` — the URL prefix bare names hang off (``conda-forge`` → alias/conda-forge).
    * ``default_channels`` — the members of the ``defaults`` multichannel.
    * ``custom_channels`` — ``{name: location_url}``: ``name`` is served from ``location_url/name``.
    * ``custom_multichannels`` — ``{name: [channel, ...]}`` extra multichannels besides ``defaults``.
    * ``migrated_channel_aliases`` — old aliases; URLs under them are rewritten to the current alias.
    * ``subdirs`` — what :meth:`Channel.urls` lists when the channel names no platform.
    """

    channel_alias: str = DEFAULT_CHANNEL_ALIAS
    default_channels: tuple[str, ...] = DEFAULT_CHANNELS
    custom_channels: Mapping[str, str] = field(default_factory=dict)
    custom_multichannels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    migrated_channel_aliases: tuple[str, ...] = ()
    subdirs: tuple[str, ...] = field(default_factory=lambda: (native_subdir(), "noarch"))
    known_subdirs: tuple[str, ...] = KNOWN_SUBDIRS

    def __post_init__(self) -> None:
        # normalise user input (lists, dicts) into immutable, hashable shapes
        set_ = object.__setattr__
        set_(self, "channel_alias", (self.channel_alias or DEFAULT_CHANNEL_ALIAS).rstrip("/"))
        set_(self, "default_channels", tuple(self.default_channels or ()))
        set_(self, "custom_channels", _freeze_map(self.custom_channels))
        set_(
            self,
            "custom_multichannels",
            _freeze_map({k: tuple(v) for k, v in dict(self.custom_multichannels or {}).items()}),
        )
        set_(self, "migrated_channel_aliases", tuple(self.migrated_channel_aliases or ()))
        set_(self, "subdirs", tuple(self.subdirs))
        set_(self, "known_subdirs", tuple(dict.fromkeys((*self.known_subdirs, *self.subdirs))))
        key = (
            self.channel_alias,
            self.default_channels,
            tuple(sorted(self.custom_channels.items())),
            tuple(sorted(self.custom_multichannels.items())),
            self.migrated_channel_aliases,
            self.subdirs,
            self.known_subdirs,
        )
        set_(self, "_key", key)
        set_(self, "_hash", hash(key))
        set_(self, "_derived", {})

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        shown = []
        for name in ("channel_alias", "default_channels", "custom_channels", "custom_multichannels",
                     "migrated_channel_aliases", "subdirs"):
            value = getattr(self, name)
            if isinstance(value, Mapping):
                value = dict(value)
            shown.append(f"{name}={value!r}")
        return f"ChannelConfig({', '.join(shown)})"

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return isinstance(other, ChannelConfig) and self._key == other._key  # type: ignore[attr-defined]

    # -- derived views, computed once per config ------------------------------------------
    @property
    def alias(self) -> "Channel":
        """``channel_alias`` split into scheme/auth/location/token (a nameless Channel)."""
        derived = self._derived  # type: ignore[attr-defined]
        if "alias" not in derived:
            derived["alias"] = _alias_channel(self.channel_alias)
        return derived["alias"]

    @property
    def migrated_aliases(self) -> tuple["Channel", ...]:
        derived = self._derived  # type: ignore[attr-defined]
        if "migrated" not in derived:
            derived["migrated"] = tuple(_alias_channel(u) for u in self.migrated_channel_aliases)
        return derived["migrated"]

    @property
    def multichannels(self) -> dict[str, tuple["Channel", ...]]:
        """``{name: member channels}`` including ``defaults`` (conda's ``custom_multichannels``)."""
        derived = self._derived  # type: ignore[attr-defined]
        if "multi" not in derived:
            result = {
                DEFAULTS_CHANNEL_NAME: tuple(
                    _simple_channel(self, url) for url in self.default_channels
                )
            }
            custom = self._custom_named
            for name, members in self.custom_multichannels.items():
                # a member named like a custom channel is that channel (conda resolves members
                # with Channel(value)); anything else is a URL or a name under the alias
                result[name] = tuple(custom.get(m) or _simple_channel(self, m) for m in members)
            derived["multi"] = result
        return derived["multi"]

    @property
    def named_channels(self) -> dict[str, "Channel"]:
        """``{channel name: Channel}`` for multichannel members and ``custom_channels``."""
        derived = self._derived  # type: ignore[attr-defined]
        if "named" not in derived:
            result: dict[str, Channel] = {}
            for ch in chain.from_iterable(self.multichannels.values()):
                result[ch.name] = ch
            result.update(self._custom_named)  # explicit custom_channels win, as in conda
            derived["named"] = result
        return derived["named"]

    @property
    def _named_prefixes(self) -> tuple[tuple["Channel", str, list[str]], ...]:
        """``(channel, its URL, the URL split on "/")`` of :attr:`named_channels`, longest name
        first: the order conda tries them in when it reads a channel URL."""
        derived = self._derived  # type: ignore[attr-defined]
        if "prefixes" not in derived:
            ordered = sorted(self.named_channels.items(), key=lambda kv: len(kv[0]), reverse=True)
            derived["prefixes"] = tuple(
                (channel, url, url.split("/"))
                for channel, url in ((ch, join_url(ch.location, ch.name)) for _name, ch in ordered))
        return derived["prefixes"]

    @property
    def _custom_named(self) -> dict[str, "Channel"]:
        derived = self._derived  # type: ignore[attr-defined]
        if "custom" not in derived:
            chans = (_simple_channel(self, url, name) for name, url in self.custom_channels.items())
            derived["custom"] = {ch.name: ch for ch in chans}
        return derived["custom"]

    def __reduce__(self):
        return (
            _config_from_state,
            (
                self.channel_alias,
                self.default_channels,
                dict(self.custom_channels),
                {k: tuple(v) for k, v in self.custom_multichannels.items()},
                self.migrated_channel_aliases,
                self.subdirs,
                self.known_subdirs,
            ),
        )


def _config_from_state(*state: Any) -> "ChannelConfig":
    return ChannelConfig(*state)


DEFAULT_CHANNEL_CONFIG = ChannelConfig()


# --------------------------------------------------------------------------------------------
# Channel
# --------------------------------------------------------------------------------------------
_CHANNEL_CACHE: dict[tuple[Any, ChannelConfig], "Channel"] = {}


class Channel:
    """One channel (optionally narrowed to a platform / a package file), as conda parses it.

    Build it with ``Channel(value, config=None)`` where ``value`` is a name, URL, path, another
    Channel, or ``None`` (the ``<unknown>`` channel). Results are cached per ``(value, config)``.
    """

    __slots__ = (
        "scheme",
        "auth",
        "location",
        "token",
        "name",
        "platform",
        "package_filename",
        "config",
        "_canonical_name",
        "_hash",
    )

    def __new__(cls, value: Any = None, config: ChannelConfig | None = None, **parts: Any):
        if parts or cls is not Channel:
            return super().__new__(cls)
        if isinstance(value, Channel) and (config is None or value.config == config):
            return value
        config = config or DEFAULT_CHANNEL_CONFIG
        key = (value, config)
        try:
            cached = _CHANNEL_CACHE.get(key)
        except TypeError:  # unhashable value: let from_value complain clearly
            cached = None
        if cached is None:
            cached = Channel.from_value(value, config)
            if len(_CHANNEL_CACHE) > 100_000:
                _CHANNEL_CACHE.clear()
            try:
                _CHANNEL_CACHE[key] = cached
            except TypeError:
                pass
        return cached

    def __init__(self, value: Any = None, config: ChannelConfig | None = None, **parts: Any):
        if not parts:
            return  # built (or fetched from the cache) in __new__
        self.scheme = parts.get("scheme")
        self.auth = parts.get("auth")
        self.location = parts.get("location")
        self.token = parts.get("token")
        self.name = parts.get("name") or ""
        self.platform = parts.get("platform")
        self.package_filename = parts.get("package_filename")
        self.config = config or DEFAULT_CHANNEL_CONFIG
        self._canonical_name = None
        self._hash = None

    @classmethod
    def _make(cls, config: ChannelConfig, **parts: Any) -> "Channel":
        return cls(None, config, _=True, **parts)

    # -- construction -----------------------------------------------------------------------
    @staticmethod
    def from_value(value: Any, config: ChannelConfig | None = None) -> "Channel":
        """Parse any user spelling of a channel (conda's ``Channel.from_value``)."""
        config = config or DEFAULT_CHANNEL_CONFIG
        if isinstance(value, Channel):
            return Channel._from_dump(value.dump(), config)
        if value in (None, UNKNOWN_CHANNEL, "None:///<unknown>", "None"):
            return Channel._make(config, name=UNKNOWN_CHANNEL)
        if not isinstance(value, str):
            from ..exceptions import ChannelError

            raise ChannelError(f"Cannot interpret {value!r} as a channel (expected a name or URL).")
        if has_scheme(value):
            return Channel.from_url(value, config)
        if is_path(value):
            return Channel.from_url(path_to_url(value), config)
        if is_package_file(value):
            return Channel.from_url(path_to_url(value), config)
        stripped, platform = split_platform(value, config.known_subdirs)
        multis = config.multichannels
        if stripped in multis:
            return MultiChannel(stripped, multis[stripped], platform, config=config)
        return Channel.from_channel_name(value, config)

    @staticmethod
    def from_url(url: str, config: ChannelConfig | None = None) -> "Channel":
        return _parse_conda_channel_url(url, config or DEFAULT_CHANNEL_CONFIG)

    @staticmethod
    def from_channel_name(channel_name: str, config: ChannelConfig | None = None) -> "Channel":
        config = config or DEFAULT_CHANNEL_CONFIG
        stripped, platform = split_platform(channel_name, config.known_subdirs)
        named = config.named_channels
        probe = stripped
        while True:  # progressively strip path segments: a/b/c, a/b, a
            if probe in named:
                base = named[probe]
                return Channel._make(
                    config,
                    scheme=base.scheme,
                    auth=base.auth,
                    location=base.location,
                    token=base.token,
                    name=stripped,
                    platform=platform,
                )
            shorter = probe.rsplit("/", 1)[0]
            if shorter == probe:
                break
            probe = shorter
        ca = config.alias
        return Channel._make(
            config,
            scheme=ca.scheme,
            auth=ca.auth,
            location=ca.location,
            token=ca.token,
            name=stripped,
            platform=platform,
        )

    @staticmethod
    def _from_dump(d: Mapping[str, Any], config: ChannelConfig) -> "Channel":
        if "channels" in d:
            members = tuple(Channel._from_dump(c, config) for c in d["channels"])
            return MultiChannel(d["name"], members, d.get("platform"), config=config)
        return Channel._make(config, **{k: v for k, v in d.items() if k != "channels"})

    # -- conda's vocabulary -------------------------------------------------------------------
    @property
    def subdir(self) -> str | None:
        return self.platform

    @property
    def channel_name(self) -> str:
        return self.name

    @property
    def channel_location(self) -> str | None:
        return self.location

    @property
    def canonical_name(self) -> str:
        """The short identity conda prints: multichannel name, bare name, or base URL."""
        cn = self._canonical_name
        if cn is None:
            cn = self._canonical_name = self._compute_canonical_name()
        return cn

    def _compute_canonical_name(self) -> str:
        config = self.config
        if self.name == UNKNOWN_CHANNEL and not self.location:
            return UNKNOWN_CHANNEL
        for multiname, members in config.multichannels.items():
            if any(self.name == member.name for member in members):
                return multiname
        if self.name:
            tokens = self.name.split("/")
            for that_name in config.named_channels:
                if _tokenized_startswith(tokens, that_name.split("/")):
                    return self.name
        if any(self.location == ca.location for ca in (config.alias, *config.migrated_aliases)):
            return self.name
        if self.scheme:
            return f"{self.scheme}://{join_url(self.location, self.name)}"
        return join_url(self.location, self.name).lstrip("/")

    @property
    def base_url(self) -> str | None:
        """``scheme://location/name`` — the channel root, no platform, no credentials."""
        if self.canonical_name == UNKNOWN_CHANNEL:
            return None
        return f"{self.scheme}://{join_url(self.location, self.name)}"

    @property
    def base_urls(self) -> tuple[str | None, ...]:
        return (self.base_url,)

    def _base(self, with_credentials: bool) -> str:
        parts = [self.location]
        if with_credentials and self.token:
            parts += ["t", self.token]
        parts.append(self.name)
        return join_url(*parts)

    def _with_scheme(self, path: str, with_credentials: bool) -> str:
        if with_credentials and self.auth:
            return f"{self.scheme}://{self.auth}@{path}"
        return f"{self.scheme}://{path}"

    def urls(self, with_credentials: bool = False, subdirs: Iterable[str] | None = None) -> list[str]:
        """The subdir URLs conda fetches ``repodata.json`` from, in order.

        A channel that names a platform yields that platform plus ``noarch``; otherwise one
        URL per entry of ``subdirs`` (default: ``config.subdirs``). The unknown channel falls
        back to ``defaults`` like conda.
        """
        if subdirs is None:
            subdirs = self.config.subdirs
        if isinstance(subdirs, str):
            raise TypeError("subdirs must be an iterable of subdir names, not a string")
        if self.canonical_name == UNKNOWN_CHANNEL:
            return Channel(DEFAULTS_CHANNEL_NAME, self.config).urls(with_credentials, subdirs)
        base = self._base(with_credentials)
        if self.platform:
            platforms = [self.platform] + (["noarch"] if self.platform != "noarch" else [])
        else:
            platforms = list(subdirs)
        return [self._with_scheme(join_url(base, p), with_credentials) for p in platforms]

    def url(self, with_credentials: bool = False) -> str | None:
        """One URL: the platform (and package file) if known, else the first non-noarch subdir."""
        if self.canonical_name == UNKNOWN_CHANNEL:
            return None
        parts = [self._base(with_credentials)]
        if self.platform:
            parts.append(self.platform)
            if self.package_filename:
                parts.append(self.package_filename)
        else:
            parts.append(next((s for s in self.config.subdirs if s != "noarch"), "noarch"))
        return self._with_scheme(join_url(*parts), with_credentials)

    def subdir_url(self, subdir: str | None = None, with_credentials: bool = True) -> str | None:
        """The URL of one subdir directory (where ``repodata.json`` lives)."""
        if self.canonical_name == UNKNOWN_CHANNEL:
            return None
        subdir = subdir or self.platform
        if subdir is None:
            return self.url(with_credentials)
        return self._with_scheme(join_url(self._base(with_credentials), subdir), with_credentials)

    # -- dunder -------------------------------------------------------------------------------
    def __str__(self) -> str:
        base = self.base_url or self.name
        return join_url(base, self.platform) if self.platform else base

    def __repr__(self) -> str:
        bits = [repr(self.canonical_name)]
        if self.platform:
            bits.append(f"platform={self.platform!r}")
        if self.package_filename:
            bits.append(f"package_filename={self.package_filename!r}")
        if self.base_url and self.base_url != self.canonical_name:
            shown = self.base_url
            if self.token:
                shown = f"{self.scheme}://{join_url(self.location, 't', '<TOKEN>', self.name)}"
            bits.append(f"base_url={shown!r}")
        return f"Channel({', '.join(bits)})"

    def __eq__(self, other: object) -> bool:
        # conda's rule: same location and same name (platform and credentials do not matter)
        if not isinstance(other, Channel):
            if not isinstance(other, str):
                return NotImplemented
            try:
                other = Channel(other, self.config)
            except Exception:
                return False
        return self.location == other.location and self.name == other.name

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = self._hash = hash((self.location, self.name))
        return h

    def __bool__(self) -> bool:
        return bool(self.location or self.name)

    def __reduce__(self):
        return (Channel._from_dump, (self.dump(), self.config))

    def dump(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "auth": self.auth,
            "location": self.location,
            "token": self.token,
            "name": self.name,
            "platform": self.platform,
            "package_filename": self.package_filename,
        }


class MultiChannel(Channel):
    """A name standing for several channels, e.g. ``defaults`` → ``pkgs/main`` + ``pkgs/r``."""

    __slots__ = ("channels",)

    def __init__(
        self,
        name: str,
        channels: Iterable[Channel] | None = None,
        platform: str | None = None,
        config: ChannelConfig | None = None,
    ):
        if channels is None or isinstance(channels, ChannelConfig):
            return  # Channel("defaults") returned an already-built MultiChannel; nothing to do
        config = config or DEFAULT_CHANNEL_CONFIG
        members = tuple(channels)
        if platform:
            members = tuple(Channel._make(config, **dict(c.dump(), platform=platform)) for c in members)
        self.channels = members
        self.scheme = self.auth = self.location = self.token = None
        self.name = name
        self.platform = platform
        self.package_filename = None
        self.config = config
        self._canonical_name = name
        self._hash = None

    def __new__(cls, *args: Any, **kwargs: Any):
        return object.__new__(cls)

    @property
    def _channels(self) -> tuple[Channel, ...]:
        return self.channels

    @property
    def canonical_name(self) -> str:
        return self.name

    def urls(self, with_credentials: bool = False, subdirs: Iterable[str] | None = None) -> list[str]:
        if subdirs is None:
            subdirs = self.config.subdirs
        return [u for c in self.channels for u in c.urls(with_credentials, subdirs)]

    @property
    def base_url(self) -> None:
        return None

    @property
    def base_urls(self) -> tuple[str | None, ...]:
        return tuple(c.base_url for c in self.channels)

    def url(self, with_credentials: bool = False) -> None:
        return None

    def subdir_url(self, subdir: str | None = None, with_credentials: bool = True) -> None:
        return None

    def __repr__(self) -> str:
        members = ", ".join(repr(c.base_url) for c in self.channels)
        plat = f", platform={self.platform!r}" if self.platform else ""
        return f"MultiChannel({self.name!r}, [{members}]{plat})"

    def dump(self) -> dict[str, Any]:
        return {"name": self.name, "channels": tuple(c.dump() for c in self.channels)}


# --------------------------------------------------------------------------------------------
# parsing URLs into channels (conda's parse_conda_channel_url + _read_channel_configuration)
# --------------------------------------------------------------------------------------------
def _alias_channel(url: str) -> Channel:
    location, scheme, auth, token = split_scheme_auth_token(url)
    return Channel._make(DEFAULT_CHANNEL_CONFIG, scheme=scheme, auth=auth, location=location, token=token)


def _simple_channel(config: ChannelConfig, channel_url: str, name: str | None = None) -> Channel:
    """A configured channel URL (``default_channels`` / ``custom_channels`` entry) as a Channel."""
    alias = config.alias
    test_url, scheme, auth, token = split_scheme_auth_token(channel_url)
    if name and scheme:
        return Channel._make(
            config, scheme=scheme, auth=auth, location=test_url, token=token, name=name.strip("/")
        )
    if scheme:
        if alias.location and test_url.startswith(alias.location):
            location, name = alias.location, test_url.replace(alias.location, "", 1)
        else:
            parts = _UrlParts(channel_url)
            location, name = parts.netloc_path(""), parts.path or ""
        return Channel._make(
            config, scheme=scheme, auth=auth, location=location, token=token, name=name.strip("/")
        )
    return Channel._make(
        config,
        scheme=alias.scheme,
        auth=alias.auth,
        location=alias.location,
        token=alias.token,
        name=(name and name.strip("/")) or channel_url.strip("/"),
    )


def _parse_conda_channel_url(url: str, config: ChannelConfig) -> Channel:
    if url.startswith("file:"):
        url = url.replace("\\", "/")
    cleaned, token = split_anaconda_token(url)
    cleaned, platform = split_platform(cleaned, config.known_subdirs)
    package_filename = None
    if is_package_file(cleaned) and "/" in cleaned:
        cleaned, package_filename = cleaned.rsplit("/", 1)
    parts = _UrlParts(cleaned)
    location, name, scheme, auth, ctoken = _read_channel_configuration(parts, config)
    return Channel._make(
        config,
        scheme=scheme or "https",
        auth=parts.auth or auth,
        location=location,
        token=token or ctoken,
        name=name,
        platform=platform,
        package_filename=package_filename,
    )


def _read_channel_configuration(parts: _UrlParts, config: ChannelConfig):
    """Decide ``(location, name, scheme, auth, token)`` for a channel URL, in conda's order."""
    scheme = parts.scheme
    path = parts.path and parts.path.rstrip("/")
    test_url = parts.netloc_path(path or "")

    # 1. no path at all: the host is the location, there is no channel name
    if not path:
        return parts.netloc_path("").rstrip("/"), None, scheme, None, None

    # 2. URLs under a migrated (old) channel_alias are re-homed onto the current alias
    for migrated in config.migrated_aliases:
        if migrated.location and test_url.startswith(migrated.location):
            name = test_url.replace(migrated.location, "", 1).strip("/")
            ca = config.alias
            return ca.location, name, ca.scheme, ca.auth, ca.token

    # 3. custom channels (incl. multichannel members), longest name first
    segments = test_url.split("/")
    for channel, that_url, that_segments in config._named_prefixes:
        if _tokenized_startswith(segments, that_segments):
            subname = test_url.replace(that_url, "", 1).strip("/")
            return channel.location, join_url(channel.name, subname), scheme, channel.auth, channel.token

    # 4. under the channel_alias: the rest of the path is the channel name
    ca = config.alias
    if ca.location and _tokenized_startswith(test_url.split("/"), ca.location.split("/")):
        name = test_url.replace(ca.location, "", 1).strip("/") or None
        return ca.location, name, scheme, ca.auth, ca.token

    # 5. a plain file:// URL: last path segment is the name
    if not parts.host:
        location, _, name = test_url.rpartition("/")
        return location or "/", name, "file", None, None

    # 6. host[:port] is the location, the path is the name ("/conda" prefix kept in location)
    segments = path.strip("/").split("/")
    location = parts.netloc_path("")
    if segments and segments[0] == "conda":
        location, path = location + "/conda", "/".join(segments[1:])
    return location.rstrip("/"), path.strip("/") or None, scheme, None, None


def all_channel_urls(
    channels: Iterable[Any], subdirs: Iterable[str] | None = None, with_credentials: bool = True,
    config: ChannelConfig | None = None,
) -> list[str]:
    """Every subdir URL of ``channels`` in priority order, duplicates dropped."""
    seen: dict[str, None] = {}
    for value in channels:
        for url in Channel(value, config).urls(with_credentials, subdirs):
            seen.setdefault(url, None)
    return list(seen)


__all__ = [
    "Channel",
    "ChannelConfig",
    "DEFAULT_CHANNEL_CONFIG",
    "KNOWN_SUBDIRS",
    "MultiChannel",
    "UNKNOWN_CHANNEL",
    "all_channel_urls",
    "join_url",
    "mask_token",
    "native_subdir",
    "path_to_url",
    "url_to_path",
]
