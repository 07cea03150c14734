"""Stage 4: channel priority — which channel may supply which package (``conda.resolve``).

Channels are listed in priority order (``-c a -c b``: ``a`` first). conda turns that list into a
*rank* per channel name (``Resolve._make_channel_priorities``): 0 for the first channel, 1 for the
next, and so on. A multichannel such as ``defaults`` is expanded into its members
(``pkgs/main``, ``pkgs/r``…) and each member gets the next counter, in order. A channel that is not
in the list at all (the virtual-package channel ``@``, or a prefix record from a channel no longer
configured) gets rank 1 — a quirk of conda's, faithfully kept.

What the three ``channel_priority`` settings do with the ranks:

``strict``
    For each package *name*, only the best-ranked channel that has any record of that name may
    supply it (``Resolve._get_strict_channel``). Records of the same name in lower channels are
    *masked* while the index is reduced — even when the higher channel only has old versions.
``flexible`` (the default)
    Nothing is removed. The rank is the first thing the solver compares in a record's
    ``version_key`` (before the version), so a higher channel wins when it can, but a lower channel
    can still supply a version the higher one lacks.
``disabled``
    The version is compared first; the rank only breaks ties between equal versions.

What to notice: strict priority is a *filter* (fewer candidates, so "unsatisfiable" can appear
where flexible would succeed — conda then adds a note to the error), flexible is a *preference*.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from itertools import groupby
from operator import attrgetter
from collections.abc import Callable, Iterable, Mapping

from conda_deepdive.reporting import Reporter
from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "MAX_CHANNEL_PRIORITY",
    "CHANNEL_PRIORITIES",
    "make_channel_priorities",
    "channel_name",
    "strict_channel_name",
    "NamePriority",
    "PriorityReport",
    "apply_channel_priority",
]

#: conda's ``base.constants.MAX_CHANNEL_PRIORITY``: ranks are capped just below it.
MAX_CHANNEL_PRIORITY = 10000
#: The values ``context.channel_priority`` accepts.
CHANNEL_PRIORITIES = ("strict", "flexible", "disabled")
#: conda's default rank for a channel that is not in the configured list.
UNLISTED_RANK = 1


def channel_name(record: Any) -> str:
    """The channel *name* of a record (``record.channel.name``; strings are accepted too)."""
    ch = record.channel
    return ch if isinstance(ch, str) else ch.name


def _expand(channels: Iterable[Any], config: Any = None) -> Iterable[Any]:
    from conda_deepdive.models.channel import Channel

    for c in channels:
        ch = c if isinstance(c, Channel) else Channel(c, config=config)
        members = getattr(ch, "channels", None)
        if members is not None and not isinstance(members, str):  # a MultiChannel
            yield from members
        else:
            yield ch


def make_channel_priorities(channels: Iterable[Any], config: Any = None) -> dict[str, int]:
    """``{channel name: rank}``, lowest rank = highest priority (conda's priorities map).

    ``channels`` are ``Channel`` objects or strings (parsed with ``config``). A name seen twice
    keeps its first rank; the counter still advances, exactly as conda's ``enumerate`` does.
    """
    ranks: dict[str, int] = {}
    for counter, ch in enumerate(_expand(channels, config)):
        if ch.name not in ranks:
            ranks[ch.name] = min(counter, MAX_CHANNEL_PRIORITY - 1)
    return ranks


def strict_channel_name(records: Iterable[Any], ranks: Mapping[str, int]) -> str | None:
    """The one channel allowed to supply these records' name under strict priority.

    Among the channels that have a record of the name, the one with the lowest rank. Like conda
    (a dict keyed by rank), when two channels share a rank the one seen last wins.
    """
    return _best_channel({channel_name(r) for r in records}, ranks)


def _best_channel(names: Iterable[str], ranks: Mapping[str, int]) -> str | None:
    by_rank: dict[int, str] = {}
    for name in names:
        by_rank[ranks.get(name, UNLISTED_RANK)] = name
    return by_rank[min(by_rank)] if by_rank else None


@value_object(frozen=True, repr=False)  # its own __repr__ below
class NamePriority:
    """One package name: which channels offer it, which one strict priority keeps."""

    name: str
    offered_by: tuple[str, ...]  # channel names, best rank first
    records_per_channel: tuple[int, ...]
    kept: str | None  # the strict channel (None when nothing is masked in this mode)
    masked: tuple[str, ...]  # channels whose records of this name are masked

    @cached_property  # asked by the summary and the renderers: computed once
    def masked_count(self) -> int:
        if not self.masked:
            return 0
        return sum(n for ch, n in zip(self.offered_by, self.records_per_channel) if ch in self.masked)

    def __repr__(self) -> str:
        offers = ", ".join(f"{ch} ({n})" for ch, n in zip(self.offered_by, self.records_per_channel))
        masked = f"; masked: {', '.join(self.masked)}" if self.masked else ""
        return f"<{self.name}: {offers}{masked}>"

    def summary(self) -> dict:
        return {
            "name": self.name,
            "offered_by": dict(zip(self.offered_by, self.records_per_channel)),
            "kept": self.kept,
            "masked": list(self.masked),
            "masked_records": self.masked_count,
        }


class PriorityReport:
    """The channel-priority view of an index: ranks, and per name who offers and who is masked.

    This is the whole-index picture; the solver applies the strict filter lazily, only to names it
    reaches while reducing the index (see ``reduction.py``), with the same rule.

    An index has thousands of names, and a notebook looks at a handful: names are kept compactly —
    ``singles`` (``{name: (channel, records)}``) for the names one channel offers (most of them,
    never masked), ``several`` (``{name: (channels in priority order, kept, masked, {channel:
    records})}``) for the others — and a name's :class:`NamePriority` is made when it is asked
    for. ``order`` lists every name in first-seen order. Where nothing can be masked (flexible,
    disabled) even that table waits until something reads it: a plain ``conda install`` only
    needs the number of names.
    """

    def __init__(self, mode: str, ranks: Mapping[str, int], names: Mapping[str, Any],
                 singles: Mapping[str, tuple[str, int]] | None = None,
                 order: Iterable[str] | None = None, masked_records: int | None = None,
                 *, pending: Callable[[], tuple] | None = None,
                 name_count: int | Callable[[], int] | None = None,
                 masked_total: Callable[[], int | None] | None = None):
        self.mode = mode
        self.ranks = dict(ranks)
        self._table = (dict(names), dict(singles or {}), list(order) if order is not None else None)
        # ``pending() -> (names, singles, order)`` works the table out on first use: where no
        # channel can be masked (flexible, disabled) a run that never looks at it never pays
        # for a walk over every name of every channel
        self._pending = pending
        self._name_count = name_count
        self._names: dict[str, NamePriority] | None = None
        self._masked_total = masked_records
        # ``masked_total() -> int | None`` counts the masked records on first use, when nobody
        # was listening while the stage ran (None: count them from the per-name table)
        self._masked_later = masked_total

    def _filled(self) -> tuple[dict, dict, list | None]:
        if self._pending is not None:
            several, singles, order = self._pending()
            self._table = (dict(several), dict(singles), list(order))
            self._pending = None
        return self._table

    @property
    def _several(self) -> dict:  # NamePriority, or its compact tuple (made on first use)
        return self._filled()[0]

    @property
    def _singles(self) -> dict:
        return self._filled()[1]

    @property
    def _order(self) -> list | None:
        return self._filled()[2]

    def _entry(self, name: str) -> NamePriority | None:
        entry = self._several.get(name)
        if entry is not None and not isinstance(entry, NamePriority):
            order, kept, masked, per = entry
            entry = self._several[name] = NamePriority(name, order, tuple(per[ch] for ch in order),
                                                       kept, masked)
        return entry

    def _all_several(self) -> list[NamePriority]:
        return [self._entry(name) for name in self._several]

    @property
    def names(self) -> dict[str, NamePriority]:
        if self._names is None:
            kept_single = self.mode == "strict"
            singles = self._singles
            names = {}
            for name in self._order if self._order is not None else (*self._several, *singles):
                entry = self._entry(name)
                if entry is None:
                    ch, n = singles[name]
                    entry = NamePriority(name, (ch,), (n,), ch if kept_single else None, ())
                names[name] = entry
            self._names = names
        return self._names

    def __getitem__(self, name: str) -> NamePriority:
        if self._names is None and name in self._several:
            return self._entry(name)
        return self.names[name]

    def __contains__(self, name: object) -> bool:
        return name in self._several or name in self._singles

    def _count(self) -> int:
        if self._pending is not None and self._name_count is not None:
            if callable(self._name_count):  # counted when first asked for
                self._name_count = self._name_count()
            return self._name_count
        return len(self._several) + len(self._singles)

    @property
    def contested(self) -> list[NamePriority]:
        """Names offered by more than one channel (the only ones priority can matter for)."""
        return [p for p in self._all_several() if len(p.offered_by) > 1]

    @property
    def masked(self) -> list[NamePriority]:
        return [p for p in self._all_several() if p.masked]

    def is_masked(self, record: Any) -> bool:
        entry = self._entry(record.name)
        return bool(entry and channel_name(record) in entry.masked)

    def _masked_records(self) -> int:
        if self._masked_total is None and self._masked_later is not None:
            self._masked_total, self._masked_later = self._masked_later(), None
        if self._masked_total is None:
            self._masked_total = sum(p.masked_count for p in self._all_several() if p.masked)
        return self._masked_total

    def __repr__(self) -> str:
        ranks = ", ".join(f"{name}={rank}" for name, rank in self.ranks.items())
        contested = sum(1 for name in self._several if self._contested(name))
        return (
            f"<PriorityReport {self.mode}: ranks {{{ranks}}}; {self._count()} names, "
            f"{contested} offered by several channels, {self._masked_records()} records masked>"
        )

    def _contested(self, name: str) -> bool:
        entry = self._several[name]
        return len(entry.offered_by if isinstance(entry, NamePriority) else entry[0]) > 1

    def summary(self, contested: bool = True) -> dict:
        out = {
            "mode": self.mode,
            "ranks": self.ranks,
            "names": self._count(),
            "contested": [p.summary() for p in self.contested] if contested else None,
            "masked_records": self._masked_records(),
        }
        if not contested:
            del out["contested"]
        return out


def _count_by_name_and_channel(records: Iterable[Any]) -> dict[str, dict[str, int]]:
    """``{name: {channel name: record count}}``, in first-seen order.

    The index has ~10⁵ records but they come in long runs sharing one channel object (one run
    per channel and subdir), so we count names run by run with C-level ``Counter`` and name each
    channel once: a per-record Python loop here would cost more than the rest of the stage. An
    ``Index`` is cheaper still: its subdirs count their names without building the records.
    """
    counts: dict[str, dict[str, int]] = {}

    def add(ch: str, per_name: Mapping[str, int]) -> None:
        for name, n in per_name.items():
            per = counts.get(name)
            if per is None:
                counts[name] = {ch: n}
            else:
                per[ch] = per.get(ch, 0) + n

    subdir_datas = getattr(records, "subdir_datas", None)
    if subdir_datas is not None:  # an Index: each subdir already knows its counts per name
        for sd in subdir_datas:
            per_name = sd.name_counts()
            if not per_name:
                continue
            ch = sd.records_channel()  # named without decoding one of its records
            add(ch if isinstance(ch, str) else ch.name, per_name)
    else:
        for _key, run in groupby(records, key=_channel_identity):
            run = list(run)
            add(channel_name(run[0]), Counter(map(attrgetter("name"), run)))
    return counts


def _channel_identity(record: Any) -> int:
    return id(record.channel)


def apply_channel_priority(
    records: Iterable[Any],
    channels: Iterable[Any],
    channel_priority: str = "flexible",
    config: Any = None,
    reporter: Reporter | None = None,
) -> PriorityReport:
    """Rank the channels and, for every package name, say who offers it and who is masked.

    ``records`` is any iterable of records; an ``Index`` is counted faster (per subdir).
    """
    if channel_priority not in CHANNEL_PRIORITIES:
        from conda_deepdive.exceptions import CondaValueError

        raise CondaValueError(
            f"channel_priority must be one of {', '.join(CHANNEL_PRIORITIES)}; got {channel_priority!r}"
        )
    reporter = reporter or Reporter()
    ranks = make_channel_priorities(channels, config)
    reporter.event("priority", "channel_ranks", mode=channel_priority, ranks=dict(ranks))
    strict = channel_priority == "strict"
    subdir_datas = getattr(records, "subdir_datas", None)
    # An Index (it has subdir_datas) is ranked without the per-name walk: the masked groups
    # (strict) and the number of names are all the stage reports, and the per-name table waits
    # until something (a notebook, the trace) reads it.
    fast = None
    listening = reporter.listens("priority")
    if subdir_datas is not None:
        # the number of names is the index's name union (C speed), made when first asked for
        if strict and listening:
            fast = _strict_groups(records, ranks)
        elif strict:  # nobody sees the masked groups now: the report counts them when read
            fast = None, lambda: len(records.by_name)
        else:  # nothing is masked
            fast = [], lambda: len(records.by_name)
    if fast is not None:
        masked_groups, name_count = fast
        for kept, masked, names, count in masked_groups or ():
            reporter.event("priority", "masked", kept=kept, masked=list(masked), names=names,
                           records=count)

        def pending() -> tuple:
            counts = _count_by_name_and_channel(records)
            several, singles, _masked = _rank_names(counts, ranks, strict)
            return several, singles, counts

        def count_masked() -> int | None:  # None: work it out from the per-name table
            groups = _strict_groups(records, ranks)
            return None if groups is None else sum(g[3] for g in groups[0])

        report = PriorityReport(channel_priority, ranks, {}, pending=pending, name_count=name_count,
                                masked_records=None if masked_groups is None
                                else sum(g[3] for g in masked_groups),
                                masked_total=count_masked if masked_groups is None else None)
    else:
        counts = _count_by_name_and_channel(records)
        several, singles, masked_names = _rank_names(counts, ranks, strict)
        # one event per (kept, masked channels): which names strict priority takes from whom
        masked_total = 0
        for (kept, masked), (names, count) in masked_names.items():
            masked_total += count
            reporter.event("priority", "masked", kept=kept, masked=list(masked), names=names,
                           records=count)
        report = PriorityReport(channel_priority, ranks, several, singles, counts, masked_total)
    if listening:
        reporter.event("priority", "summary", **report.summary(contested=False))
    return report


def _strict_groups(index: Any, ranks: Mapping[str, int]) -> tuple[list, int] | None:
    """Strict priority's masking of a whole index, worked out a channel at a time with set
    operations instead of a Python step per (name, channel): ``([(kept, masked channels, names,
    masked records), …], number of names)``, in the order :func:`_rank_names` finds them.

    An index with tens of thousands of names spends most of this stage's time on that walk, and
    a ``conda install`` only needs the masked groups (for the trace) and two totals; the per-name
    table is still made, the slow way, if someone reads it. ``None`` when two channels of the
    index share a rank (an unlisted channel has rank 1, like the second listed one): which one is
    kept then depends on the order names were seen in, and only the per-name walk knows it.
    """
    by_channel: dict[str, list] = {}  # channel name -> [(subdir data, its names)]
    for sd in index.subdir_datas:
        names = sd.names()
        if names:
            ch = sd.records_channel()
            by_channel.setdefault(ch if isinstance(ch, str) else ch.name, []).append((sd, names))
    channel_ranks = [ranks.get(ch, UNLISTED_RANK) for ch in by_channel]
    if len(set(channel_ranks)) != len(channel_ranks):
        return None
    # split the names into blocks offered by the same channels (partition refinement: one set
    # operation per block and channel)
    blocks: list[tuple[tuple, set]] = []
    for ch, parts in by_channel.items():
        offered = set().union(*(names for _sd, names in parts))
        refined = []
        for chans, block in blocks:
            both = block & offered
            if both:
                refined.append((chans + (ch,), both))
                offered -= both
                block -= both
            if block:
                refined.append((chans, block))
        if offered:
            refined.append(((ch,), offered))
        blocks = refined
    names_in_order = list(index.by_name)  # first-seen order, as the per-name walk meets them
    first_seen = dict(zip(names_in_order, range(len(names_in_order))))
    groups = []
    for chans, block in blocks:
        if len(chans) < 2:
            continue  # one channel offers these: nothing to mask
        order = sorted(chans, key=lambda ch: (ranks.get(ch, UNLISTED_RANK), ch))
        kept, masked = order[0], tuple(order[1:])
        records = 0
        for ch in masked:
            for sd, _names in by_channel[ch]:
                records += sd.records_of(block)
        names = sorted(block, key=first_seen.__getitem__)
        groups.append((first_seen[names[0]], (kept, masked, names, records)))
    groups.sort(key=lambda g: g[0])
    return [g[1] for g in groups], len(names_in_order)


def _rank_names(counts: Mapping[str, Mapping[str, int]], ranks: Mapping[str, int],
                strict: bool) -> tuple[dict, dict, dict]:
    """``(several, singles, masked names)`` for ``{name: {channel: records}}`` (see
    :class:`PriorityReport`); the last is ``{(kept, masked channels): [names, records]}``."""
    several: dict[str, tuple] = {}
    singles: dict[str, tuple[str, int]] = {}
    # names offered by the same channels share their ranking: work it out once per channel set
    rankings: dict[tuple, tuple] = {}
    masked_names: dict[tuple, list] = {}  # (kept, masked) -> [names, records]
    for name, per in counts.items():
        if len(per) == 1:  # most names: one channel offers them, nothing to rank or mask
            (singles[name],) = per.items()  # (channel, records)
            continue
        key = tuple(per)
        ranking = rankings.get(key)
        if ranking is None:
            order = tuple(sorted(per, key=lambda ch: (ranks.get(ch, UNLISTED_RANK), ch)))
            kept = _best_channel(per, ranks) if strict else None
            masked = tuple(ch for ch in order if ch != kept) if strict else ()
            ranking = rankings[key] = (order, kept, masked)
        several[name] = (*ranking, per)
        if ranking[2]:
            group = masked_names.get(ranking[1:])
            if group is None:
                group = masked_names[ranking[1:]] = [[], 0]
            group[0].append(name)
            group[1] += sum(per.values()) - per.get(ranking[1], 0)
    return several, singles, masked_names

