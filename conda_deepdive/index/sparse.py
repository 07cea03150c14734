"""Reading a monolithic ``repodata.json`` sparsely: the records of one name, without the others.

Part of stage 3 (index fetch). conda 26.7.1 parses the whole file (``json.loads``) and rattler
reads it sparsely; this module is the sparse side. ``create numpy`` on main + free + bioconda
osx-64 2018 reaches ~1,400 of 39,056 records: parsing all of them creates about a million Python
objects that are thrown away. Instead:

1. **Skip, don't parse.** ``msgspec`` decodes the file as ``{key: Raw}`` — a ``Raw`` is the
   undecoded bytes of one value, a view into the buffer — at about 1 GB/s. Walking the gaps
   between those values (``,"<key>":``, one small regex match each) gives every record's **byte
   range**, and a second skim that keeps only ``name``/``track_features``/``record_version``
   gives its name. (Measured on the three 2018 files, 20 MB: ``json.loads`` 330 ms, ``orjson``
   280 ms, full ``msgspec`` 190 ms, this whole index ~90 ms once.)
2. **Keep the index.** ``{name: [record numbers]}``, the ranges, the ``.tar.bz2`` twins of
   ``.conda`` files, ``{feature: [names]}`` and, per name, the distinct dependency strings of its
   records (what the solver needs from records strict channel priority will mask, without
   building them: see ``resolve.MaskedTail``) are written beside the repodata cache, keyed like
   the cache itself (``<pkgs_dir>/cache/<hash>.sparse``: a JSON header, then packed arrays) and
   stamped with the size and mtime of the file they describe. The next run maps that small file
   into memory and parses only a small JSON header: the names sit in a hash table (:class:`_Names`)
   and, like the arrays and filenames, are read in place, page by page, for the names the solve
   asks about (decoding all 3,859 names of bioconda osx-64 into a dict cost ~0.5 ms a subdir).
3. **Decode on demand.** ``RecordStore.for_name("numpy")`` decodes just numpy's byte ranges
   (stdlib ``json``, ~4 µs a record: msgspec decodes faster but importing it costs more
   than the ~1,400 records a solve reaches) and builds ``PackageRecord``\\ s exactly as the full
   path does (same twins, same pip dependency, same ``info`` overrides).

What to notice: nothing about the *answer* changes — the records built are equal to the
full parse's, in the same order — only the records of names the solve never reaches are never
built. Any surprise in the file (not an object, duplicate keys, a nested layout the gap walk does
not expect, invalid JSON) makes :func:`build_index` return ``None`` and the caller falls back to
the full parse, which also produces conda's error messages.

Deliberate difference from conda: conda has no sparse reader (it has shards, see
:mod:`conda_deepdive.index.shards`). Set ``CONDA_DEEPDIVE_SPARSE_REPODATA=0`` to turn it off.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping

from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from pathlib import Path
    from typing import Any

__all__ = ["SparseIndex", "build_index", "load_index", "save_index", "sparse_enabled",
           "index_path", "INDEX_VERSION"]

INDEX_VERSION = 7  # 7: names found through a hash table; 6: dependency strings per name;
#                   5: filenames found by byte offset
#                   (4: by character; 3: msgpack; 2: lists)
INDEX_SUFFIX = ".sparse"
_MAGIC = b"conda-deepdive sparse index %d\n" % INDEX_VERSION
_OLD_SUFFIXES = (".sparse.msgpack",)  # earlier versions' files, removed when a new one is saved
_CONDA_EXT, _TAR_BZ2_EXT = ".conda", ".tar.bz2"

_STR = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'


@functools.cache
def _patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """``(gap, open, close)``: the bytes between two values of an object (optional comma, the
    next key, the colon), and the braces. Compiled on the first scan: a warm run reads its stored
    index and never scans."""
    return (re.compile(rb"[ \t\r\n]*+,?[ \t\r\n]*+" + _STR + rb"[ \t\r\n]*+:[ \t\r\n]*+"),
            re.compile(rb"[ \t\r\n]*+\{"), re.compile(rb"[ \t\r\n]*+\}"))


def sparse_enabled(env: Any = None) -> bool:
    """On unless ``CONDA_DEEPDIVE_SPARSE_REPODATA`` is ``0``/``false``/``no``."""
    value = (env if env is not None else os.environ).get("CONDA_DEEPDIVE_SPARSE_REPODATA", "")
    return str(value).strip().lower() not in ("0", "false", "no")


class _Entries:
    """The ``(fn, start, end)`` of entry ``i``, read on demand from two packed integer arrays
    and the filenames' UTF-8 bytes (what a stored index holds, viewed in place): loading 39k
    entries costs no Python objects, and a filename is decoded only when its entry is read."""

    __slots__ = ("_fns", "_fn_ends", "_spans")

    def __init__(self, fns: Any, fn_ends: Any, spans: Any) -> None:
        self._fns, self._fn_ends, self._spans = fns, fn_ends, spans  # fn_ends: byte offsets

    def __len__(self) -> int:
        return len(self._fn_ends)

    def __getitem__(self, i: int) -> tuple[str, int, int]:
        if i < 0:
            i += len(self._fn_ends)
        start = self._fn_ends[i - 1] if i else 0
        fn = str(self._fns[start:self._fn_ends[i]], "utf-8", "surrogatepass")
        return fn, self._spans[2 * i], self._spans[2 * i + 1]

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def _table_size(count: int) -> int:
    """The number of slots for ``count`` names: the smallest prime at least twice as many (a
    prime, because a name's slot is its UTF-8 bytes read as one integer, modulo the size)."""
    size = max(2 * count + 1, 7)
    while any(size % d == 0 for d in range(2, int(size ** 0.5) + 1)):
        size += 1
    return size


def _name_slots(encoded: list[bytes]) -> list[int]:
    """The stored hash table: ``slots[h]`` is a name's number + 1 (0: empty), the name placed at
    its home slot ``int.from_bytes(utf8) % size`` or, taken, the next free one (linear probing).
    That hash needs no import and depends on every byte, like the Rabin-Karp fingerprint."""
    size = _table_size(len(encoded))
    slots = [0] * size
    for i, data in enumerate(encoded):
        h = int.from_bytes(data, "little") % size
        while slots[h]:
            h = h + 1 if h + 1 < size else 0
        slots[h] = i + 1
    return slots


class _Names:
    """Name -> its number, read back from disk without decoding the names.

    A stored index holds every name once (UTF-8, first-seen order, with their end offsets) and
    a small hash table over them. Finding one name hashes it, reads a slot or two and compares
    bytes: a solve asks about ~35 names of each subdir, so a warm run never decodes the other
    thousands (bioconda osx-64 has 3,859; decoding them and building a dict cost ~0.5 ms per
    subdir, which is what made the run grow with the channels). Asking for *every* name (the
    report, ``counts()``) decodes them all once."""

    __slots__ = ("_blob", "_ends", "_slots", "_found", "_all")

    def __init__(self, blob: Any, ends: Any, slots: Any) -> None:
        self._blob, self._ends, self._slots = blob, ends, slots
        self._found: dict[str, int] = {}  # names asked about: a solve asks most of them again
        self._all: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self._ends)

    def find(self, name: str) -> int:
        """The name's number, or -1."""
        i = self._found.get(name)
        if i is not None:
            return i
        try:
            data = name.encode("utf-8", "surrogatepass")
        except AttributeError:  # not a str: no such name
            return -1
        blob, ends, slots = self._blob, self._ends, self._slots
        size, count = len(slots), len(ends)
        h = int.from_bytes(data, "little") % size
        i = -1
        for _ in range(size):  # bounded: a damaged table cannot loop forever
            j = slots[h] - 1
            if not 0 <= j < count:
                break  # an empty slot (or a damaged one): not here
            if blob[ends[j - 1] if j else 0:ends[j]] == data:
                i = j
                break
            h = h + 1 if h + 1 < size else 0
        self._found[name] = i
        return i

    def all(self) -> dict[str, int]:
        """``{name: number}`` for every name, in first-seen order (decoded on first use)."""
        if self._all is None:
            text, ends = self._blob, self._ends.tolist()
            self._all = {str(text[a:b], "utf-8", "surrogatepass"): i
                         for i, (a, b) in enumerate(zip([0, *ends[:-1]], ends))}
        return self._all


class _Positions(Mapping):
    """``{name: entry numbers}`` read back from disk: the numbers of every name sit in one packed
    integer array, name after name, so loading creates no object per record or per name
    (39k ints and 5k lists for the 2018 channels, ~2 ms); names are found through :class:`_Names`."""

    __slots__ = ("_names", "_pos", "_ends")

    def __init__(self, names: _Names, pos: Any, ends: Any) -> None:
        self._names, self._pos, self._ends = names, pos, ends

    def __getitem__(self, name: str) -> Any:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def get(self, name: str, default: Any = None) -> Any:
        i = self._names.find(name)
        if i < 0:
            return default
        return self._pos[self._ends[i - 1] if i else 0:self._ends[i]]

    def __iter__(self):
        return iter(self._names.all())

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return self._names.find(name) >= 0  # type: ignore[arg-type]

    def name_keys(self) -> Any:
        """The names as a ``dict_keys`` view (fast set operations)."""
        return self._names.all().keys()

    def total_of(self, names: Iterable[str]) -> int:
        """How many entries the given names (all of them here) have together."""
        at, ends = self._names.all(), self._ends
        total = 0
        for name in names:
            i = at[name]
            total += ends[i] - ends[i - 1] if i else ends[i]
        return total

    def counts(self) -> dict[str, int]:
        """``{name: number of entries}`` in order, without slicing."""
        ends = self._ends.tolist()
        return dict(zip(self._names.all(), map(int.__sub__, ends, [0, *ends[:-1]])))


class _Dependencies(Mapping):
    """``{name: [distinct depends/constrains strings of its records]}`` read back from disk: one
    newline-joined run of UTF-8 per name, decoded only for the names asked about."""

    __slots__ = ("_names", "_blob", "_ends")

    def __init__(self, names: _Names, blob: Any, ends: Any) -> None:
        self._names = names  # shared with _Positions
        self._blob, self._ends = blob, ends

    def __getitem__(self, name: str) -> list:
        i = self._names.find(name)
        if i < 0:
            raise KeyError(name)
        text = bytes(self._blob[self._ends[i - 1] if i else 0:self._ends[i]]).decode("utf-8", "surrogatepass")
        return text.split("\n") if text else []

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if self._names.find(name) >= 0 else default

    def __iter__(self):
        return iter(self._names.all())

    def __len__(self) -> int:
        return len(self._names)


class _Twins(Mapping):
    """``{start of a .conda entry: (start, end) of its .tar.bz2 twin}`` over the stored packed
    triples, made into a dict the first time a record of this subdir is decoded: a subdir the
    solve never reaches (most of a big channel's) never pays for it."""

    __slots__ = ("_triples", "_map")

    def __init__(self, triples: Any) -> None:
        self._triples, self._map = triples, None

    def _dict(self) -> dict:
        if self._map is None:
            t = self._triples.tolist()
            self._map = {t[i]: (t[i + 1], t[i + 2]) for i in range(0, len(t), 3)}
        return self._map

    def get(self, start: Any, default: Any = None) -> Any:
        return self._dict().get(start, default) if self._triples else default

    def __getitem__(self, start: int) -> tuple[int, int]:
        return self._dict()[start]

    def __iter__(self):
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._triples) // 3


@value_object(frozen=True, repr=False)  # its own __repr__ below
class SparseIndex:
    """Where each record of one ``repodata.json`` is, by name (see module doc).

    ``entries`` are the kept records in conda's order (``packages.conda`` first, then the
    ``.tar.bz2`` files without a ``.conda`` twin), each ``(fn, start, end)``; ``positions`` maps a
    name to entry numbers; ``twins`` maps the start offset of a ``.conda`` entry to the
    ``(start, end)`` of its ``.tar.bz2`` twin (conda copies the twin's md5/size onto the record).
    """

    info: dict
    repodata_version: int
    entries: Any = field(repr=False)  # a list, or _Entries when read back from disk
    positions: dict = field(repr=False)
    twins: dict = field(repr=False)  # a dict, or _Twins when read back from disk
    features: dict = field(repr=False)
    stamp: tuple = ()
    # {name: distinct dependency strings of its records} (a _Dependencies when read back), the
    # names whose records may be special to the solver (track_features, a package type, odd
    # dependencies), and the features records have: what the solver's name closure needs from
    # records it will not build
    dependencies: Any = field(default=None, repr=False)
    special: frozenset = field(default=frozenset(), repr=False)
    has_features: dict = field(default_factory=dict, repr=False)  # {name: features its records have}

    def __repr__(self) -> str:
        return (f"<SparseIndex {len(self.entries)} records of {len(self.positions)} names, "
                f"subdir {self.info.get('subdir')!r}>")

    def to_bytes(self) -> bytes:
        """A JSON header, then the offsets as native 64-bit integer arrays (the file is a local
        cache): stdlib only, so reading it back imports nothing (msgpack and the ``datetime``
        it pulls in cost a warm run ~3 ms) and copies no array."""
        from array import array

        def packed(chunks: list[bytes]) -> tuple[bytes, bytes]:
            """The chunks joined, and the offset where each ends (native 64-bit integers)."""
            ends, total = array("q"), 0
            for chunk in chunks:
                total += len(chunk)
                ends.append(total)
            return b"".join(chunks), ends.tobytes()

        fns, fn_ends = packed([e[0].encode("utf-8", "surrogatepass") for e in self.entries])
        spans = array("q", [x for e in self.entries for x in e[1:]])
        twins = array("q", [x for k, v in self.twins.items() for x in (k, *v)])
        names = list(self.positions)
        pos, pos_ends = array("q"), array("q")
        for name in names:
            pos.extend(self.positions[name])
            pos_ends.append(len(pos))
        # without the dependencies, every name is "special": the solver then builds its records
        known = self.dependencies if self.dependencies is not None else {}
        special = self.special if self.dependencies is not None else frozenset(names)
        deps, deps_ends = packed(["\n".join(known.get(name, ())).encode("utf-8", "surrogatepass")
                                  for name in names])
        encoded = [name.encode("utf-8", "surrogatepass") for name in names]
        name_blob, name_ends = packed(encoded)
        body = {"names": name_blob, "name_ends": name_ends,
                "slots": array("q", _name_slots(encoded)).tobytes(),
                "fns": fns, "fn_ends": fn_ends,
                "spans": spans.tobytes(), "pos": pos.tobytes(), "pos_ends": pos_ends.tobytes(),
                "twins": twins.tobytes(), "deps": deps, "deps_ends": deps_ends}
        sections, offset = {}, 0
        for key, data in body.items():
            sections[key] = [offset, len(data)]
            offset += len(data)
        header = json.dumps({"byteorder": sys.byteorder, "stamp": list(self.stamp), "info": self.info,
                             "repodata_version": self.repodata_version,
                             "features": self.features, "special": sorted(special),
                             "has_features": self.has_features,
                             "sections": sections}).encode()
        return b"".join([_MAGIC, len(header).to_bytes(8, "little"), header, *body.values()])

    @classmethod
    def from_bytes(cls, data: Any) -> "SparseIndex | None":
        """Read an index from ``data`` (``bytes``, or the stored file mapped into memory: the
        arrays and filenames stay views into it, so only what gets read is ever paged in)."""
        try:
            if data[:len(_MAGIC)] != _MAGIC:
                return None  # another version's index (or not one at all): rebuilt
            at = len(_MAGIC) + 8
            size = int.from_bytes(data[len(_MAGIC):at], "little")
            doc = json.loads(data[at:at + size])
            if doc["byteorder"] != sys.byteorder:
                return None
            body = memoryview(data)[at + size:]
            sections = doc["sections"]
            if len(body) != sum(length for _, length in sections.values()):
                return None  # truncated (or more than it says)
            part = {key: body[start:start + length] for key, (start, length) in sections.items()}
            fn_ends, spans = part["fn_ends"].cast("q"), part["spans"].cast("q")
            if len(spans) != 2 * len(fn_ends):
                return None
            twins = part["twins"].cast("q")
            if len(twins) % 3:
                return None
            name_ends, slots = part["name_ends"].cast("q"), part["slots"].cast("q")
            pos_ends, pos = part["pos_ends"].cast("q"), part["pos"].cast("q")
            count = len(name_ends)
            if (count != len(pos_ends) or (pos_ends and pos_ends[-1] != len(pos))
                    or (name_ends and name_ends[-1] != len(part["names"]))
                    or len(slots) <= count):  # (the writer leaves most slots empty)
                return None
            str(part["names"], "utf-8", "surrogatepass")  # the names are text (else: rebuilt)
            fns = part["fns"]
            if fn_ends and fn_ends[-1] != len(fns):
                return None
            deps, deps_ends = part["deps"], part["deps_ends"].cast("q")
            if len(deps_ends) != count or (deps_ends and deps_ends[-1] != len(deps)):
                return None
            names = _Names(part["names"], name_ends, slots)
            positions = _Positions(names, pos, pos_ends)
            return cls(doc["info"], doc["repodata_version"], _Entries(fns, fn_ends, spans),
                       positions, _Twins(twins), doc["features"],
                       tuple(doc["stamp"]), _Dependencies(names, deps, deps_ends),
                       frozenset(doc["special"]), doc["has_features"])
        except Exception:  # a damaged index is rebuilt, never trusted
            return None


def _walk(buf: Any, start: int, raws: Any) -> list[tuple[int, int]] | None:
    """Byte ranges of the values of the object whose ``{`` is at ``start``, given their
    ``Raw`` views in order; ``None`` if the bytes between them are not what JSON allows."""
    pos = start + 1
    gap, _, close_brace = _patterns()
    match = gap.match
    spans = []
    for raw in raws:
        m = match(buf, pos)
        if m is None:
            return None
        s = m.end()
        pos = s + len(raw)
        spans.append((s, pos))
    close = close_brace.match(buf, pos)
    return spans if close is not None else None


def build_index(buf: Any, use_only_tar_bz2: bool = False, stamp: tuple = ()) -> SparseIndex | None:
    """Scan ``buf`` (the bytes of a ``repodata.json``) once; ``None`` means "parse it fully"."""
    import msgspec

    import typing  # msgspec imports it anyway; real types, as annotations here are strings

    # the dependency lists stay undecoded (``Raw``: a view into ``buf``): builds of one name
    # mostly share them, so each distinct list is decoded once, and a big file's million
    # dependency strings never all exist at once
    _Skim = msgspec.defstruct("_Skim", [
        *((key, typing.Any, None) for key in ("name", "track_features", "record_version", "features",
                                              "package_type")),
        *((key, msgspec.Raw, None) for key in ("depends", "constrains"))])

    raw_map = msgspec.json.Decoder(dict[str, msgspec.Raw])
    skim_map = msgspec.json.Decoder(dict[str, _Skim])
    try:
        opened = _patterns()[1].match(buf)
        if opened is None:
            return None
        top = raw_map.decode(buf)
        top_spans = _walk(buf, opened.end() - 1, top.values())
        if top_spans is None:
            return None
        spans_of = dict(zip(top, top_spans))
        info = msgspec.json.decode(top["info"]) if "info" in top else {}
        version = msgspec.json.decode(top["repodata_version"]) if "repodata_version" in top else 0
        if not isinstance(info, dict) or not isinstance(version, int) or isinstance(version, bool):
            return None
        groups = {}
        for key in ("packages.conda", "packages"):
            if key not in top or (key == "packages.conda" and use_only_tar_bz2):
                groups[key] = ([], [], [])
                continue
            start = spans_of[key][0]
            if buf[start:start + 1] != b"{":
                return None
            raws = raw_map.decode(top[key])
            skims = skim_map.decode(top[key])
            spans = _walk(buf, start, raws.values())
            if spans is None or len(skims) != len(raws):
                return None
            groups[key] = (list(raws), spans, list(skims.values()))
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError, KeyError):
        return None

    modern_fns, modern_spans, modern_skims = groups["packages.conda"]
    legacy_fns, legacy_spans, legacy_skims = groups["packages"]
    legacy_at = {fn: i for i, fn in enumerate(legacy_fns)}
    shadowed = set()
    entries: list = []
    positions: dict[str, list[int]] = {}
    twins: dict[int, tuple[int, int]] = {}
    trackers: dict[str, dict[str, None]] = {}
    dependencies: dict[str, dict[str, None]] = {}  # name -> distinct dependency strings
    special: set[str] = set()
    has_features: dict[str, dict[str, None]] = {}
    from conda_deepdive.models.records import _features

    def add(fn: str, span: tuple[int, int], skim: Any) -> None:
        rv = skim.record_version
        if rv is not None and not isinstance(rv, bool) and isinstance(rv, (int, float)) and rv > 1:
            return  # conda ignores records from a future schema
        name = skim.name
        if not isinstance(name, str):
            raise ValueError(name)
        n = len(entries)
        pos = positions.get(name)
        if pos is None:
            positions[name] = [n]
            seen = dependencies[name] = {}
        else:
            pos.append(n)
            seen = dependencies[name]
        entries.append((fn, span[0], span[1]))
        if skim.track_features:
            for feat in _features(skim.track_features):
                trackers.setdefault(feat, {})[name] = None
        deps = skim.depends
        if deps is not None:
            seen[bytes(deps)] = None  # decoded below, once per distinct list
        deps = skim.constrains
        if deps is not None:
            seen[bytes(deps)] = None
        if skim.track_features or skim.package_type:
            special.add(name)
        if skim.features:
            if isinstance(skim.features, (str, list)) and all(type(f) is str for f in skim.features):
                has = has_features.get(name)
                if has is None:
                    has = has_features[name] = {}
                has.update(dict.fromkeys(_features(skim.features)))
            else:
                special.add(name)

    try:
        for fn, span, skim in zip(modern_fns, modern_spans, modern_skims):
            twin_fn = fn[: -len(_CONDA_EXT)] + _TAR_BZ2_EXT
            shadowed.add(twin_fn)
            before = len(entries)
            add(fn, span, skim)
            j = legacy_at.get(twin_fn)
            if j is not None and len(entries) > before:
                twins[span[0]] = legacy_spans[j]
        for fn, span, skim in zip(legacy_fns, legacy_spans, legacy_skims):
            if fn not in shadowed:
                add(fn, span, skim)
    except (ValueError, TypeError):
        return None
    features = {feat: list(names) for feat, names in trackers.items()}
    strings_of = msgspec.json.Decoder(typing.Optional[list[str]]).decode
    decoded: dict[bytes, list | None] = {}  # a distinct raw list -> its strings (None: odd)
    strings: dict[str, list] = {}
    for name, raws in dependencies.items():
        out: dict[str, None] = {}
        for raw in raws:
            found = decoded.get(raw, ())
            if found == ():
                try:
                    found = strings_of(raw) or []  # null: no dependencies
                except (msgspec.DecodeError, msgspec.ValidationError):
                    found = None  # not a list of strings
                if found and "\n" in "".join(found):
                    found = None  # the stored form joins them with newlines
                decoded[raw] = found
            if found is None:
                special.add(name)  # building its records will say what is wrong
            else:
                out.update(dict.fromkeys(found))
        strings[name] = list(out)
    return SparseIndex(info, version, entries, positions, twins, features, tuple(stamp),
                       strings, frozenset(special),
                       {name: list(feats) for name, feats in has_features.items()})


def index_path(cache_dir: str | os.PathLike, key: str) -> Path:
    """``<cache_dir>/<key>.sparse`` — beside ``<key>.json`` of the repodata cache."""
    from pathlib import Path

    return Path(index_file(cache_dir, key))


def index_file(cache_dir: str | os.PathLike, key: str) -> str:
    """:func:`index_path` as a string (a warm run reads it with ``open``: no pathlib to import)."""
    return os.path.join(os.fspath(cache_dir), f"{key}{INDEX_SUFFIX}")


def load_index(path: str | os.PathLike, stamp: tuple) -> SparseIndex | None:
    """The stored index, if it describes the file with this ``stamp`` (size, mtime).

    The file is mapped, not read: a warm run over a big channel parses the header (the names)
    and touches only the pages of the entries it decodes."""
    data = map_file(path)
    if data is None:  # empty, or not mappable here: read it
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            return None
    index = SparseIndex.from_bytes(data)
    if index is None or tuple(index.stamp) != tuple(stamp):
        _close(data)  # so the rebuilt index can replace the file (Windows refuses while mapped)
        return None
    return index


def _close(data: Any) -> None:
    close = getattr(data, "close", None)
    if close is not None:
        try:
            close()
        except BufferError:  # a view into it still exists (a half-read index): let gc do it
            pass


def save_index(path: str | os.PathLike, index: SparseIndex) -> bool:
    """Write atomically (temporary file + rename); ``False`` if the folder is not writable."""
    from pathlib import Path

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.urandom(4).hex()}.tmp")
        tmp.write_bytes(index.to_bytes())
        os.replace(tmp, path)
        for suffix in _OLD_SUFFIXES:  # what an earlier version stored for the same file
            old = path.with_name(path.name[: -len(INDEX_SUFFIX)] + suffix)
            if old.exists():
                old.unlink()
        return True
    except OSError:
        return False


def map_file(path: str | os.PathLike) -> Any:
    """The file's bytes as a read-only ``mmap`` (slices are ``bytes``), or ``None``."""
    import mmap

    try:
        with open(path, "rb") as fh:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None


def make_decoder(buf: Any, index: SparseIndex, make: Callable[[str, dict], Any],
                 index_file: Any = None) -> Callable[[str, int, int], Any]:
    """``(fn, start, end) -> PackageRecord``: decode one byte range, add the ``.tar.bz2`` twin's
    checksum and size as the full path does, then ``make`` the record.

    A range that does not hold one JSON object means the index does not describe this file
    (a damaged or edited ``index_file``): :class:`SparseIndexDamagedError`, and the file is
    removed. The returned function's ``damaged(fn)`` makes that error (``RecordStore`` raises it
    when a record's name is not the one the index filed it under)."""
    # the standard library's decoder: the same values the full parse produces, and importing
    # msgspec (~20-40 ms here) would cost more than decoding the ~1,400 records a solve reaches.
    # ``json.loads`` ends in the C scanner after three Python-level steps (encoding detection,
    # ``decode``, ``raw_decode``); a range is exactly one UTF-8 value, so calling the scanner
    # directly gives the same value in ~60 % of the time.
    from json import JSONDecoder

    scan = JSONDecoder().scan_once

    def decode(data: bytes) -> Any:
        return scan(data.decode("utf-8", "surrogatepass"), 0)[0]

    twins = index.twins  # keyed by the start offset of the .conda entry

    def damaged(fn: str) -> Exception:
        from conda_deepdive.exceptions import SparseIndexDamagedError

        where = f"The stored sparse index {index_file}" if index_file else "The sparse index"
        removed = False
        if index_file:
            try:
                os.unlink(index_file)
                removed = True
            except OSError:
                pass
        then = ("The index was removed; run the command again to rebuild it from the repodata."
                if removed else "Set CONDA_DEEPDIVE_SPARSE_REPODATA=0 to read the file fully.")
        return SparseIndexDamagedError(
            f"{where} does not match the repodata it describes: the bytes it gives for "
            f"{fn!r} are not that record. {then}")

    def build(fn: str, start: int, end: int) -> Any:
        try:
            raw = decode(buf[start:end])
            twin = twins.get(start)
            if twin is not None:  # conda remembers the .tar.bz2 twin's checksum and size
                legacy = decode(buf[twin[0]:twin[1]])
                raw["legacy_bz2_md5"] = legacy.get("md5")
                raw["legacy_bz2_size"] = legacy.get("size")
        except (ValueError, StopIteration, TypeError, AttributeError):  # not one JSON object
            raise damaged(fn) from None
        if not isinstance(raw, dict):
            raise damaged(fn)
        return make(fn, raw)

    build.damaged = damaged
    return build
