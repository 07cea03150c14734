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

from typing import Any, Callable

from conda_deepdive.index import gc_policy

__all__ = ["RecordStore"]


class RecordStore:
    """Parsed repodata entries of one subdir, turned into records on demand (see module doc)."""

    __slots__ = ("_entries", "_positions", "_built", "_all", "_make", "_trackers")

    def __init__(self, entries: list[tuple], positions: dict[str, list[int]],
                 make: Callable[..., Any], trackers: dict[str, list[str]] | None = None) -> None:
        # (filename, raw entry) in file order; the sparse reader (sparse.py) stores
        # (filename, start, end) byte ranges instead: ``make(*entry)`` builds either
        self._entries = entries
        self._positions = positions  # name -> indexes into _entries, in file order
        self._built: list[Any] = [None] * len(entries)
        self._all: tuple | None = None
        self._make = make
        self._trackers: dict[str, list[str]] | None = trackers  # known up front when sparse

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        built = len(self._entries) - self._built.count(None)
        return f"<RecordStore {len(self._entries)} records of {len(self._positions)} names, {built} built>"

    def names(self) -> list[str]:
        """Package names, in order of first appearance in the file."""
        return list(self._positions)

    def counts(self) -> dict[str, int]:
        """``{name: number of records}`` without building any record."""
        return {name: len(pos) for name, pos in self._positions.items()}

    def names_tracking(self, feature: str) -> list[str]:
        """Names with a record whose ``track_features`` include ``feature`` (first-seen order),
        read from the raw entries: no record is built."""
        if self._trackers is None:
            from conda_deepdive.models.records import _features

            trackers: dict[str, dict[str, None]] = {}
            for _fn, raw in self._entries:
                tf = raw.get("track_features")
                if tf:
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
            rec = built[i]
            if rec is None:
                rec = built[i] = self._make(*self._entries[i])
            out.append(rec)
        return tuple(out)

    def all(self) -> tuple:
        """Every record, in file order (the rest are built now)."""
        if self._all is None:
            built, make = self._built, self._make
            with gc_policy.paused():
                for i, rec in enumerate(built):
                    if rec is None:
                        built[i] = make(*self._entries[i])
            self._all = tuple(built)
        return self._all
