"""Package records: what conda knows about one package build (mirrors ``conda.models.records``).

Three record types share one shape::

                      PackageRecord            one entry of a channel's repodata.json
                     /             \\
      PackageCacheRecord         PrefixRecord
      (+ where the tarball /     (+ what got installed: files, paths_data, link,
       extracted dir live in       requested_spec — the conda-meta/<n-v-b>.json file)
       the package cache)

A record is identified by ``_pkey`` = (channel canonical name, subdir, name, version,
build_number, build): the same build reached through two URLs of one channel is the same record,
which is why ``dist_str()`` prints the channel's *canonical name* (``defaults/osx-64::numpy-…``).

Records are slotted and immutable (use :meth:`PackageRecord.replace`). Loading an index builds
~40k of them, so :meth:`PackageRecord.from_repodata` skips all validation and the record's
:class:`~conda_deepdive.models.version.VersionOrder` is parsed only when first needed.

What to notice: repodata stores ``track_features`` as *one string* (``"mkl debug"``) and
``timestamp`` sometimes in seconds, sometimes in milliseconds; the record normalises both, and
:meth:`PackageRecord.to_dict` writes them back the way conda writes ``repodata_record.json``.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Mapping

from .channel import Channel, MultiChannel, join_url
from .enums import LinkType, NoarchType, PackageType

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

_MAX_SECONDS = 253402300799  # 9999-12-31: bigger "timestamps" are milliseconds


def _timestamp_ms(value: Any) -> int:
    """Normalise a repodata timestamp to integer milliseconds, rounding exactly as conda does
    (conda stores seconds as a float and multiplies back by 1000 when dumping)."""
    if not value:
        return 0
    if value > _MAX_SECONDS:
        return int(value / 1000 * 1000)
    return int(value * 1000)


def _features(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        value = value.replace(" ", ",").split(",")
    return tuple(f for f in (str(x).strip() for x in value) if f)


_CHANNEL_FOR_SUBDIR: dict[tuple[int, str], tuple[Channel, Channel]] = {}


def channel_for_subdir(channel: Channel, subdir: str | None) -> Channel:
    """The record's channel names its subdir (conda's SubdirData channel is the subdir URL)."""
    if not subdir or isinstance(channel, MultiChannel) or channel.platform == subdir or not channel.scheme:
        return channel
    # keyed by identity (channels equal by location+name may differ in token or config)
    entry = _CHANNEL_FOR_SUBDIR.get((id(channel), subdir))
    if entry is not None and entry[0] is channel:
        return entry[1]
    url = channel.subdir_url(subdir, with_credentials=True)
    found = Channel(url, channel.config) if url else channel
    if len(_CHANNEL_FOR_SUBDIR) > 10_000:
        _CHANNEL_FOR_SUBDIR.clear()
    _CHANNEL_FOR_SUBDIR[(id(channel), subdir)] = (channel, found)
    return found


class PackageRecord:
    """One package build as listed in repodata (name, version, build, dependencies, checksums)."""

    __slots__ = (
        "name",
        "version",
        "build",
        "build_number",
        "channel",
        "subdir",
        "fn",
        "md5",
        "legacy_bz2_md5",
        "legacy_bz2_size",
        "url",
        "sha256",
        "arch",
        "platform",
        "depends",
        "constrains",
        "track_features",
        "features",
        "noarch",
        "license",
        "license_family",
        "_package_type",
        "timestamp",
        "size",
        "_vo",
        "_pkey_cache",
        "_hash",
    )

    #: dump order of conda's PackageRecord fields (repodata_record.json / conda-meta)
    _DUMP_FIELDS = (
        "name", "version", "build", "build_number", "channel", "subdir", "fn", "md5",
        "legacy_bz2_md5", "legacy_bz2_size", "url", "sha256", "arch", "platform", "depends",
        "constrains", "track_features", "features", "noarch", "license", "license_family",
        "package_type", "timestamp", "size",
    )
    _ALIASES = {"build_string": "build", "filename": "fn"}

    def __init__(self, **fields: Any):
        self._fill(fields)

    # -- construction -----------------------------------------------------------------------
    def _fill(self, fields: Mapping[str, Any]) -> None:
        """Coerce and set every base field from a loose mapping (the careful, slow path)."""
        d = dict(fields)
        for alias, real in self._ALIASES.items():
            if alias in d and real not in d:
                d[real] = d.pop(alias)
        set_ = object.__setattr__
        missing = [k for k in ("name", "version", "build") if d.get(k) is None]
        if missing:
            from ..exceptions import CondaValueError

            raise CondaValueError(
                f"A package record needs {', '.join(missing)}; got fields {sorted(d)}"
            )
        set_(self, "name", str(d["name"]))
        set_(self, "version", str(d["version"]))
        set_(self, "build", str(d["build"]))
        set_(self, "build_number", int(d.get("build_number") or 0))
        url = d.get("url")
        channel = d.get("channel")
        if channel is None or channel == "":
            channel = Channel(url) if url else Channel(None)
        elif not isinstance(channel, Channel):
            channel = Channel(channel)
        subdir = d.get("subdir")
        if not subdir:
            subdir = _derive_subdir(url, d.get("platform"), d.get("arch"))
        fn = d.get("fn")
        if not fn:
            fn = (Channel(url).package_filename if url else None) or f"{d['name']}-{d['version']}-{d['build']}"
        set_(self, "channel", channel)
        set_(self, "subdir", subdir)
        set_(self, "fn", fn)
        set_(self, "md5", d.get("md5"))
        set_(self, "legacy_bz2_md5", d.get("legacy_bz2_md5"))
        set_(self, "legacy_bz2_size", d.get("legacy_bz2_size"))
        set_(self, "url", url)
        set_(self, "sha256", d.get("sha256"))
        set_(self, "arch", d.get("arch"))
        platform = d.get("platform")
        if platform is not None and not isinstance(platform, str):
            platform = getattr(platform, "name", str(platform))  # a Platform enum → 'osx', 'linux'…
        set_(self, "platform", platform or None)
        set_(self, "depends", tuple(d.get("depends") or ()))
        set_(self, "constrains", tuple(d.get("constrains") or ()))
        set_(self, "track_features", _features(d.get("track_features")))
        set_(self, "features", _features(d.get("features")))
        set_(self, "noarch", NoarchType.coerce(d.get("noarch")))
        set_(self, "license", d.get("license"))
        set_(self, "license_family", d.get("license_family"))
        ptype = d.get("package_type")
        set_(self, "_package_type", PackageType(ptype) if ptype else None)
        set_(self, "timestamp", _timestamp_ms(d.get("timestamp")))
        size = d.get("size")
        set_(self, "size", int(size) if size is not None else None)
        set_(self, "_vo", None)
        set_(self, "_pkey_cache", None)
        set_(self, "_hash", None)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PackageRecord":
        """Build from a dict (repodata entry, ``repodata_record.json``, conda-meta JSON)."""
        return cls(**d)

    from_objects = from_dict  # conda's name for the dict case

    @classmethod
    def from_repodata(
        cls,
        fn: str,
        raw: Mapping[str, Any],
        channel: Channel,
        subdir: str,
        base_url: str | None = None,
        arch: str | None = None,
        platform: str | None = None,
    ) -> "PackageRecord":
        """FAST path for loading an index: one ``repodata.json`` entry → record.

        ``fn`` is the key in ``packages``/``packages.conda``; ``subdir`` is the repodata file's
        ``info.subdir`` (it overrides the entry's own, as in conda's SubdirData); ``base_url`` is
        the subdir URL the file lives under (``…/conda-forge/linux-64``), default the
        channel's. ``arch``/``platform`` come from the file's ``info`` like conda. No validation.
        """
        if cls is not PackageRecord:
            fields = dict(raw, fn=fn, channel=channel_for_subdir(channel, subdir), subdir=subdir)
            fields.setdefault("url", f"{(base_url or channel.subdir_url(subdir) or '').rstrip('/')}/{fn}")
            fields.update({k: v for k, v in (("arch", arch), ("platform", platform)) if v})
            return cls(**fields)
        # build on a mutable twin class (plain attribute stores are ~2.5x faster than
        # object.__setattr__), then flip the instance to the immutable class
        self = _new_building()
        get = raw.get
        self.name = raw["name"]
        self.version = raw["version"]
        self.build = raw["build"]
        self.build_number = get("build_number", 0)
        if channel.platform != subdir:
            channel = channel_for_subdir(channel, subdir)
        self.channel = channel
        self.subdir = subdir
        self.fn = fn
        self.md5 = get("md5")
        self.legacy_bz2_md5 = get("legacy_bz2_md5")
        self.legacy_bz2_size = get("legacy_bz2_size")
        if base_url is None:
            base_url = channel.subdir_url(subdir, with_credentials=True) or ""
        self.url = f"{base_url.rstrip('/')}/{fn}" if base_url else fn
        self.sha256 = get("sha256")
        self.arch = arch
        self.platform = platform
        depends = get("depends")
        self.depends = tuple(depends) if depends else ()
        constrains = get("constrains")
        self.constrains = tuple(constrains) if constrains else ()
        tf = get("track_features")
        self.track_features = _features(tf) if tf else ()
        feats = get("features")
        self.features = _features(feats) if feats else ()
        noarch = get("noarch")
        self.noarch = NoarchType.coerce(noarch) if noarch else None
        self.license = get("license")
        self.license_family = get("license_family")
        ptype = get("package_type")
        self._package_type = PackageType(ptype) if ptype else None
        ts = get("timestamp")
        self.timestamp = _timestamp_ms(ts) if ts else 0
        self.size = get("size")
        self._vo = None
        self._pkey_cache = None
        self._hash = None
        self.__class__ = PackageRecord
        return self

    def replace(self, **changes: Any) -> "PackageRecord":
        """A copy with some fields changed (records themselves never change)."""
        fields = self._field_values()
        fields.update(changes)
        return type(self)(**fields)

    def _field_values(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in PackageRecord._DUMP_FIELDS if name != "package_type"}
        values["package_type"] = self._package_type
        return values

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; use .replace({name}=...)")

    def __reduce__(self):
        return (_rebuild_record, (type(self), self.to_dict()))

    # -- derived values --------------------------------------------------------------------------
    @property
    def version_order(self):
        """The parsed :class:`VersionOrder` of ``version`` (computed once, on first use)."""
        vo = self._vo
        if vo is None:
            from .version import VersionOrder

            vo = VersionOrder(self.version)
            object.__setattr__(self, "_vo", vo)
        return vo

    @property
    def package_type(self) -> PackageType | None:
        """Stated ``package_type``, else derived from ``noarch`` (like conda)."""
        if self._package_type is not None:
            return self._package_type
        if self.noarch is NoarchType.python:
            return PackageType.NOARCH_PYTHON
        if self.noarch is NoarchType.generic:
            return PackageType.NOARCH_GENERIC
        return None

    @property
    def is_unmanageable(self) -> bool:
        return self.package_type in PackageType.unmanageable_package_types()

    @property
    def schannel(self) -> str:
        return self.channel.canonical_name

    @property
    def namekey(self) -> str:
        return "global:" + self.name

    @property
    def _pkey(self) -> tuple:
        key = self._pkey_cache
        if key is None:
            key = (self.channel.canonical_name, self.subdir, self.name, self.version, self.build_number, self.build)
            object.__setattr__(self, "_pkey_cache", key)
        return key

    def dist_str(self) -> str:
        """``canonical-channel[/subdir]::name-version-build`` — how conda names a record."""
        subdir = f"/{self.subdir}" if self.subdir else ""
        return f"{self.channel.canonical_name}{subdir}::{self.name}-{self.version}-{self.build}"

    def record_id(self) -> str:
        return f"{self.channel.name}/{self.subdir}::{self.name}-{self.version}-{self.build}"

    def dist_fields_dump(self) -> dict[str, Any]:
        return {
            "base_url": self.channel.base_url,
            "build_number": self.build_number,
            "build_string": self.build,
            "channel": self.channel.name,
            "dist_name": self.dist_str().split(":")[-1],
            "name": self.name,
            "platform": self.subdir,
            "version": self.version,
        }

    # -- dict-like access (conda's DictSafeMixin) ---------------------------------------------
    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, None)
        return default if value is None else value

    def __contains__(self, key: str) -> bool:
        return getattr(self, key, None) is not None

    # -- dumping ----------------------------------------------------------------------------------
    def _base_dump(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "build": self.build,
            "build_number": self.build_number,
            "channel": str(self.channel),
            "subdir": self.subdir,
            "fn": self.fn,
        }
        for key in ("md5", "legacy_bz2_md5", "legacy_bz2_size", "url", "sha256", "arch", "platform"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        d["depends"] = list(self.depends)
        d["constrains"] = list(self.constrains)
        if self.track_features:
            d["track_features"] = " ".join(self.track_features)
        if self.features:
            d["features"] = " ".join(self.features)
        if self.noarch is not None:
            d["noarch"] = self.noarch.value
        for key in ("license", "license_family"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        if self.package_type is not None:
            d["package_type"] = self.package_type.value
        if self.timestamp:
            d["timestamp"] = self.timestamp
        if self.size is not None:
            d["size"] = self.size
        return d

    def to_dict(self) -> dict[str, Any]:
        """conda's dump: the ``repodata_record.json`` / conda-meta shape, keys in conda's order."""
        return self._base_dump()

    dump = to_dict

    # -- identity -----------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PackageRecord):
            return NotImplemented
        return self._pkey == other._pkey

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = hash(self._pkey)
            object.__setattr__(self, "_hash", h)
        return h

    def __str__(self) -> str:
        return f"{self.channel.canonical_name}/{self.subdir}::{self.name}=={self.version}={self.build}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dist_str()!r})"


class _BuildingRecord(PackageRecord):
    """Same memory layout as PackageRecord but writable: used only while a record is built."""

    __slots__ = ()
    __setattr__ = object.__setattr__  # type: ignore[assignment]


def _new_building() -> "_BuildingRecord":
    return object.__new__(_BuildingRecord)


def _derive_subdir(url: str | None, platform: Any, arch: str | None) -> str | None:
    if url:
        sub = Channel(url).subdir
        if sub:
            return sub
    if platform:
        plat = getattr(platform, "name", platform)
        if not arch:
            return "noarch"
        if "x86" in arch:
            arch = "64" if "64" in arch else "32"
        return f"{plat}-{arch}"
    return None


def _rebuild_record(cls: type, d: dict) -> PackageRecord:
    return cls.from_dict(d)


class PackageCacheRecord(PackageRecord):
    """A record plus where its tarball and extracted directory live in a package cache."""

    __slots__ = ("package_tarball_full_path", "extracted_package_dir")

    def __init__(self, **fields: Any):
        self._fill(fields)
        object.__setattr__(self, "package_tarball_full_path", fields.get("package_tarball_full_path"))
        object.__setattr__(self, "extracted_package_dir", fields.get("extracted_package_dir"))
        if self.md5 is None and self.package_tarball_full_path and os.path.isfile(self.package_tarball_full_path):
            object.__setattr__(self, "md5", _md5sum(self.package_tarball_full_path))

    def _field_values(self) -> dict[str, Any]:
        values = super()._field_values()
        values.update(
            package_tarball_full_path=self.package_tarball_full_path,
            extracted_package_dir=self.extracted_package_dir,
        )
        return values

    @property
    def is_fetched(self) -> bool:
        return bool(self.package_tarball_full_path) and os.path.isfile(self.package_tarball_full_path)

    @property
    def is_extracted(self) -> bool:
        epd = self.extracted_package_dir
        return bool(epd) and os.path.isfile(os.path.join(epd, "info", "index.json"))

    @property
    def tarball_basename(self) -> str:
        return os.path.basename(self.package_tarball_full_path or "")

    def to_dict(self) -> dict[str, Any]:
        d = self._base_dump()
        d["package_tarball_full_path"] = self.package_tarball_full_path
        d["extracted_package_dir"] = self.extracted_package_dir
        return d

    dump = to_dict


def _md5sum(path: str) -> str:
    import hashlib

    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class PrefixRecord(PackageRecord):
    """A record of an *installed* package: the ``conda-meta/<name>-<version>-<build>.json`` file.

    Beyond the package fields it lists the installed ``files``, per-file ``paths_data``
    (``{"paths_version": 1, "paths": [{"_path", "path_type", "sha256", ...}]}``), how it was
    linked (``link = {"source": <extracted dir>, "type": LinkType}``) and the user's request
    that pulled it in (``requested_spec``; ``requested_specs`` lists every such request).
    """

    __slots__ = (
        "package_tarball_full_path",
        "extracted_package_dir",
        "files",
        "paths_data",
        "link",
        "requested_spec",
        "requested_specs",
        "auth",
    )

    def __init__(self, **fields: Any):
        self._fill(fields)
        set_ = object.__setattr__
        set_(self, "package_tarball_full_path", fields.get("package_tarball_full_path"))
        set_(self, "extracted_package_dir", fields.get("extracted_package_dir"))
        set_(self, "files", tuple(fields.get("files") or ()))
        set_(self, "paths_data", _freeze_json(fields.get("paths_data")))
        link = fields.get("link")
        if link is not None:
            link = dict(link)
            if link.get("type") is not None:
                link["type"] = LinkType.coerce(link["type"])
            link = _freeze_json(link)
        set_(self, "link", link)
        set_(self, "requested_spec", fields.get("requested_spec"))
        specs = fields.get("requested_specs")
        if specs is None:
            specs = fields.get("_requested_specs")
        if specs is None and fields.get("requested_spec"):
            specs = [fields["requested_spec"]]
        set_(self, "requested_specs", tuple(str(s) for s in (specs or ())))
        set_(self, "auth", fields.get("auth"))

    def _field_values(self) -> dict[str, Any]:
        values = super()._field_values()
        for key in PrefixRecord.__slots__:
            values[key] = getattr(self, key)
        return values

    @classmethod
    def load(cls, path: str | os.PathLike) -> "PrefixRecord":
        """Read one ``conda-meta/*.json`` file."""
        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(json.load(fh))

    def to_dict(self) -> dict[str, Any]:
        """The conda-meta JSON shape, keys in the order conda 26 writes them."""
        d = self._base_dump()
        if self.requested_spec is not None:
            d["requested_spec"] = self.requested_spec
        else:
            d["_requested_specs"] = list(self.requested_specs)
        d["package_tarball_full_path"] = self.package_tarball_full_path
        d["extracted_package_dir"] = self.extracted_package_dir
        d["files"] = list(self.files)
        if self.paths_data is not None:
            d["paths_data"] = _thaw_json(self.paths_data)
        if self.link is not None:
            link = _thaw_json(self.link)
            if isinstance(link.get("type"), LinkType):
                link["type"] = int(link["type"])
            d["link"] = link
        if self.auth is not None:
            d["auth"] = self.auth
        if self.requested_spec is not None:
            d["requested_specs"] = list(self.requested_specs)
        return d

    dump = to_dict

    def to_json(self) -> str:
        """Serialise like conda writes conda-meta files (2-space indent)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"


class _FrozenDict(dict):
    """A read-only dict (JSON payloads inside immutable records)."""

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("record data is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(json.dumps(_thaw_json(self), sort_keys=True, default=str))


def _freeze_json(value: Any) -> Any:
    if isinstance(value, Mapping):
        return _FrozenDict({k: _freeze_json(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_freeze_json(v) for v in value)
    return value


def _thaw_json(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw_json(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw_json(v) for v in value]
    return value


def records_from_repodata(
    repodata: Mapping[str, Any], channel: Channel, subdir: str | None = None, base_url: str | None = None
) -> list[PackageRecord]:
    """Every record of one parsed ``repodata.json`` (``packages`` then ``packages.conda``).

    A plain helper: it keeps both formats of a package. The index stage (``index.SubdirData``)
    applies conda's extra rules — a ``.conda`` shadows its ``.tar.bz2`` twin, ``pip`` added to
    ``python``'s depends — before calling :meth:`PackageRecord.from_repodata` itself.
    """
    info = repodata.get("info") or {}
    subdir = info.get("subdir") or subdir or channel.subdir
    if base_url is None:
        base_url = channel.subdir_url(subdir, with_credentials=True)
    arch, platform = info.get("arch"), info.get("platform")
    channel = channel_for_subdir(channel, subdir)
    make = PackageRecord.from_repodata
    out: list[PackageRecord] = []
    # tens of thousands of new objects would trigger many useless garbage-collector passes
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for key in ("packages", "packages.conda"):
            for fn, raw in (repodata.get(key) or {}).items():
                out.append(make(fn, raw, channel, subdir, base_url, arch, platform))
    finally:
        if gc_was_enabled:
            gc.enable()
    return out


__all__ = ["PackageCacheRecord", "PackageRecord", "PrefixRecord", "records_from_repodata", "join_url",
           "channel_for_subdir"]
