"""The records of one subdir, built when first asked for, one package name at a time.

Part of stage 3 (index fetch; conda: ``SubdirData._process_raw_repodata``). conda turns every
entry of ``repodata.json`` into a ``PackageRecord`` as soon as the file is parsed. For the 39k
records of main + free + bioconda osx-64 that is ~0.13 s — yet ``create numpy`` only ever looks at
the ~1,400 records whose *names* the specs can reach (the solver's "name closure"). So we keep the
parsed entries, grouped by name, and build the records of a name the first time someone asks
(``for_name``), or all of them on ``all()``. Each record is built once: asking again returns the
same objects, so identity and equality behave as if everything had been built up front.

What to notice: ``counts()`` answers "how many records does each name have?" without building
anything — the channel-priority report uses that.
"""

from __future__ import annotations

from collections.abc import Callable

from conda_deepdive.index import gc_policy

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["RecordStore", "check_raw_record", "raw_dependencies"]

# What a repodata entry's fields must be before a record is built from it (conda's PackageRecord
# field types). A channel is untrusted: a version that is a number, a size that is a string or
# ``track_features: 5`` must end in one clear error naming the entry, never in a traceback deep
# inside the solver.
_STR = (str,)
_OPT_STR = (str, type(None))
_FIELD_TYPES: dict[str, tuple] = {
    "name": _STR, "version": _STR, "build": _STR,
    "md5": _OPT_STR, "sha256": _OPT_STR, "legacy_bz2_md5": _OPT_STR, "license": _OPT_STR,
    "license_family": _OPT_STR, "subdir": _OPT_STR, "arch": _OPT_STR, "platform": _OPT_STR,
    "url": _OPT_STR, "date": _OPT_STR, "preferred_env": _OPT_STR, "package_type": _OPT_STR,
    "build_number": (int,), "size": (int, type(None)), "legacy_bz2_size": (int, type(None)),
    "timestamp": (int, float, type(None)),
    "track_features": (str, list, tuple, type(None)), "features": (str, list, tuple, type(None)),
    "depends": (list, tuple, type(None)), "constrains": (list, tuple, type(None)),
    "noarch": (str, bool, type(None)),
}
_REQUIRED = ("name", "version", "build")
_BOOLISH = ("true", "false", "yes", "no", "on", "off", "y", "n", "1", "0", "")


def check_raw_record(fn: Any, raw: Any, where: str) -> Any:
    """Return ``raw`` (the entry ``fn`` of the repodata at ``where``) if it has conda's field
    types, else raise a documented CondaError. ``noarch: banana`` is conda's CondaUpgradeError.
    A version written as a JSON number is read as its text, as conda 26.7.1 does
    (``"version": 5`` installs as version ``5``)."""
    # fast path (every record of a solve passes here). The entries of one file share a handful
    # of shapes — the same keys in the same order, with the same value types — so a shape is
    # checked field by field once and then recognised at C speed; only the contents of its lists
    # and the name are looked at again. Anything unusual goes through the full check below,
    # which names the problem.
    if type(raw) is dict:
        shape = (tuple(raw), tuple(map(type, raw.values())))
        list_keys = _GOOD_SHAPES.get(shape)
        if list_keys is None:
            list_keys = _shape_lists(raw, shape)
        if list_keys is not False:
            try:  # all strings? (C-speed; a str subclass passes here and in the full check)
                for key in list_keys:
                    "".join(raw[key])
            except TypeError:
                return _check_raw_record_fully(fn, raw, where)
            name, noarch = raw["name"], raw.get("noarch")
            if (name and "/" not in name and "\\" not in name and "\x00" not in name
                    and name not in (".", "..")
                    and (noarch is None or type(noarch) is bool or noarch.lower() in _NOARCH_OK)):
                return raw
    return _check_raw_record_fully(fn, raw, where)


_GOOD_SHAPES: dict[tuple, tuple] = {}  # (keys, value types) -> the keys holding lists


def _shape_lists(raw: dict, shape: tuple) -> tuple | bool:
    """The list-valued keys of an entry whose keys and value types are conda's (remembered for
    its shape), or False when the full check must look at it."""
    if "name" not in raw or "version" not in raw or "build" not in raw:
        return False
    lists = []
    for key, t in zip(*shape):
        types = _FIELD_TYPES.get(key)
        if types is None:
            continue
        if t not in types:
            return False
        if t is list or t is tuple:
            lists.append(key)
    if len(_GOOD_SHAPES) < 4096:  # a hostile file could make every entry a new shape
        _GOOD_SHAPES[shape] = tuple(lists)
    return tuple(lists)


_NOARCH_OK = frozenset(("python", "generic", "true", "false", "yes", "no", "on", "off", "y", "n", "1", "0", ""))


def _check_raw_record_fully(fn: Any, raw: Any, where: str) -> Any:
    from conda_deepdive.exceptions import CondaUpgradeError, RepodataDecodeError

    def bad(why: str) -> RepodataDecodeError:
        return RepodataDecodeError(f"The repodata at {where} has an invalid entry {fn!r}: {why}.",
                                   url=where, fn=str(fn))

    if not isinstance(raw, dict):
        raise bad(f"it is a {type(raw).__name__}, not an object")
    for key in _REQUIRED:
        if key not in raw:
            raise bad(f"it has no {key!r}")
    version = raw["version"]
    if isinstance(version, (int, float)) and not isinstance(version, bool):
        raw = {**raw, "version": str(version)}
    for key, types in _FIELD_TYPES.items():
        if key in raw:
            value = raw[key]
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                raise bad(f"{key!r} is {value!r} ({type(value).__name__})")
    for key in ("depends", "constrains", "track_features", "features"):
        value = raw.get(key)
        if isinstance(value, (list, tuple)) and not all(isinstance(v, str) for v in value):
            raise bad(f"{key!r} holds something that is not a string")
    name = raw["name"]
    if not name or "/" in name or "\\" in name or "\x00" in name or name in (".", ".."):
        raise bad(f"the package name {name!r} is not a plain name")
    noarch = raw.get("noarch")
    if isinstance(noarch, str) and noarch.lower() not in ("python", "generic") + _BOOLISH:
        raise CondaUpgradeError(  # conda's NoarchType.coerce
            f"The noarch type for this package ({fn}) is set to '{noarch}'.\n"
            "The current version of conda is too old to install this package.\n"
            "Please update conda.")
    return raw


def raw_dependencies(raws: Any, name: str) -> tuple[list, list] | None:
    """``(depends + constrains, features)`` of raw repodata entries named ``name``
    (``RecordStore.masked_dependencies``), or ``None`` if one is not a plain entry of that name,
    or could make its record special to the solver (it tracks features or states a package type)."""
    deps: list = []
    feats: list = []
    for raw in raws:
        if (type(raw) is not dict or raw.get("name") != name or raw.get("track_features")
                or raw.get("package_type")):
            return None
        for key in ("depends", "constrains"):
            value = raw.get(key)
            if value:
                if type(value) is not list:
                    return None
                deps += value
        value = raw.get("features")
        if value:
            if not isinstance(value, (str, list, tuple)) or not all(type(f) is str for f in value):
                return None
            from conda_deepdive.models.records import _features

            feats += _features(value)
    try:  # only strings (a str subclass is fine: building checks the rest)
        "".join(deps)
    except TypeError:
        return None
    return deps, feats


class RecordStore:
    """Parsed repodata entries of one subdir, turned into records on demand (see module doc)."""

    __slots__ = ("_entries", "_positions", "_built", "_all", "_make", "_trackers", "_dependencies",
                 "_special", "_has_features")

    def __init__(self, entries: list[tuple], positions: dict[str, list[int]],
                 make: Callable[..., Any], trackers: dict[str, list[str]] | None = None,
                 dependencies: Any = None, special: Any = frozenset(),
                 has_features: Any = None) -> None:
        # (filename, raw entry) in file order; the sparse reader (sparse.py) stores
        # (filename, start, end) byte ranges instead: ``make(*entry)`` builds either
        self._entries = entries
        self._positions = positions  # name -> indexes into _entries, in file order
        # entry number -> its record, once built: a dict, because a solve builds a few hundred
        # of a big subdir's tens of thousands (a list of that length cost ~20 µs a subdir to make)
        self._built: dict[int, Any] = {}
        self._all: tuple | None = None
        self._make = make
        self._trackers: dict[str, list[str]] | None = trackers  # known up front when sparse
        # {name: distinct dependency strings} and the names that may be special, known up front
        # when sparse (``masked_dependencies``)
        self._dependencies = dependencies
        self._special = special
        self._has_features = has_features or {}

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        built = len(self._built)
        return f"<RecordStore {len(self._entries)} records of {len(self._positions)} names, {built} built>"

    def names(self) -> list[str]:
        """Package names, in order of first appearance in the file."""
        return list(self._positions)

    def counts(self) -> dict[str, int]:
        """``{name: number of records}`` without building any record."""
        counts = getattr(self._positions, "counts", None)  # a stored sparse index counts itself
        if counts is not None:
            return counts()
        return {name: len(pos) for name, pos in self._positions.items()}

    def names_tracking(self, feature: str) -> list[str]:
        """Names with a record whose ``track_features`` include ``feature`` (first-seen order),
        read from the raw entries: no record is built."""
        if self._trackers is None:
            from conda_deepdive.models.records import _features

            trackers: dict[str, dict[str, None]] = {}
            for _fn, raw in self._entries:
                tf = raw.get("track_features") if isinstance(raw, dict) else None
                if tf and isinstance(tf, (str, list, tuple)):  # other types fail when built
                    for feat in _features(tf):
                        trackers.setdefault(feat, {})[raw.get("name")] = None
            self._trackers = {feat: list(names) for feat, names in trackers.items()}
        return self._trackers.get(feature, [])

    def for_name(self, name: str) -> tuple:
        """The records named ``name``, in file order (built now if not yet)."""
        positions = self._positions.get(name)
        if not positions:
            return ()
        built = self._built
        out = []
        for i in positions:
            rec = built.get(i)
            if rec is None:
                rec = self._make(*self._entries[i])
                damaged = rec.name != name and getattr(self._make, "damaged", None)
                if damaged:  # only a damaged stored sparse index files a record wrongly
                    raise damaged(self._entries[i][0])
                built[i] = rec
            out.append(rec)
        return tuple(out)

    def records_of(self, names: set) -> int:
        """How many records the names in ``names`` have here, together (nothing is built).
        When they are most of this store's names, the others are counted and subtracted."""
        positions = self._positions
        # the names as a dict's key view: set operations on it run at C speed, no set is made
        keys = getattr(positions, "name_keys", None)
        mine = keys() if keys is not None else positions.keys()
        inside = names & mine
        total_of = getattr(positions, "total_of", None)
        if total_of is None:
            def total_of(some):
                return sum(len(positions[n]) for n in some)
        if 2 * len(inside) > len(mine):
            return len(self._entries) - total_of(mine - inside)
        return total_of(inside)

    def count(self, name: str) -> int:
        """How many records are named ``name`` (nothing is built)."""
        positions = self._positions.get(name)
        return len(positions) if positions is not None else 0

    def masked_dependencies(self, name: str) -> tuple[list, list] | None:
        """``(dependency strings, features)`` of the entries named ``name`` — their
        ``depends`` and ``constrains``, and the ``features`` they have — with no record built;
        ``None`` if one of them could make its record special to the solver (it tracks features
        or states a package type) or cannot be read without building it. What the name
        closure needs from records that strict channel priority will mask."""
        positions = self._positions.get(name)
        if not positions:
            return [], []
        if self._dependencies is not None:  # the stored sparse index kept them
            if name in self._special:
                return None
            return list(self._dependencies.get(name, ())), list(self._has_features.get(name, ()))
        built, entries = self._built, self._entries
        raws = []
        for i in positions:
            rec = built.get(i)
            if rec is not None:  # a record built already answers for its entry
                raws.append({"name": rec.name, "depends": list(rec.depends),
                             "constrains": list(rec.constrains), "features": list(rec.features),
                             "track_features": rec.track_features, "package_type": rec._package_type})
            elif len(entries[i]) == 2:  # (fn, raw entry): the full parse's
                raws.append(entries[i][1])
            else:  # a byte range: read only by building it
                return None
        return raw_dependencies(raws, name)

    def all(self) -> tuple:
        """Every record, in file order (the rest are built now)."""
        if self._all is None:
            built, make, entries = self._built, self._make, self._entries
            with gc_policy.paused():
                for i in range(len(entries)):
                    if i not in built:
                        built[i] = make(*entries[i])
            self._all = tuple(built[i] for i in range(len(entries)))
        return self._all
