"""What is installed in an environment (``conda.core.prefix_data``).

A conda environment ("prefix") remembers what it holds in ``<prefix>/conda-meta/``: one JSON file
per installed package, named ``<name>-<version>-<build>.json``. Each file is the package's
repodata record plus what linking added to it (``files``, ``paths_data``, ``link``,
``requested_spec``…). conda reads those files into ``PrefixRecord`` objects; that is the *whole*
installed state the solver starts from. There is no database — delete a JSON file and, as far as
conda is concerned, the package is gone (its files stay on disk).

What to notice as a learner:

* ``conda-meta/history`` is *not* read here: it says what the user *asked for*
  (see :mod:`conda_deepdive.index.history`); ``conda-meta/*.json`` says what is *there*.
* an environment is recognised by ``conda-meta/history`` (``is_environment()``), not by the
  JSON files: a fresh ``conda create`` with no packages still writes a history file.
* a record installed from a channel that is no longer configured still counts; the solver adds
  these records to its index so it can keep them (``conda.core.index._supplement_index_with_prefix``).
* a record stores its channel as a URL (``"channel": "https://repo.anaconda.com/pkgs/main/linux-64"``);
  which *name* that URL has (``defaults``, ``conda-forge`` or the URL itself) depends on the
  channel settings of whoever reads it — conda uses its global context, here you pass the
  ``ChannelConfig`` (``PrefixData(prefix, channel_config=context.channel_config)``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from conda_deepdive.exceptions import CondaError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["PrefixData", "CorruptedPrefixRecordError"]


class CorruptedPrefixRecordError(CondaError):
    """A ``conda-meta/*.json`` file that cannot be read as a package record."""

    def __init__(self, path: str, reason: str):
        self.path = path
        super().__init__(f"Cannot read installed-package record {path}: {reason}")


def _record_from_dict(data: dict, channel_config: Any = None) -> Any:
    from conda_deepdive.models import PrefixRecord

    if channel_config is not None:
        # interpret the stored channel URL (or, failing that, the package URL) under the
        # caller's settings, so a default channel is "defaults", a custom one is its name
        from conda_deepdive.models.channel import Channel

        data = dict(data, channel=Channel(data.get("channel") or data.get("url") or None, channel_config))
    return PrefixRecord.from_dict(data)


class PrefixData:
    """The installed packages of one prefix, read lazily from ``conda-meta/*.json``.

    ``channel_config`` (a :class:`~conda_deepdive.models.channel.ChannelConfig`, normally
    ``context.channel_config``) decides how each record's channel URL is named; without it the
    records are read under conda's built-in channel settings.

    >>> pd = PrefixData("/opt/envs/demo", channel_config=ctx.channel_config)  # doctest: +SKIP
    >>> pd.get("python").version                   # doctest: +SKIP
    '3.11.2'
    >>> pd.get("python").channel.canonical_name    # doctest: +SKIP
    'defaults'
    """

    def __init__(self, prefix: str | os.PathLike, channel_config: Any = None):
        self.prefix = os.fspath(prefix)
        self.channel_config = channel_config
        self._records: dict[str, Any] | None = None

    # -- reading ---------------------------------------------------------------------------------
    @property
    def meta_dir(self) -> str:
        return os.path.join(self.prefix, "conda-meta")

    def _load(self) -> dict[str, Any]:
        if self._records is not None:
            return self._records
        records: dict[str, Any] = {}
        try:
            names = sorted(os.listdir(self.meta_dir))
        except (FileNotFoundError, NotADirectoryError):
            names = []
        for fn in names:
            if not fn.endswith(".json"):
                continue
            path = os.path.join(self.meta_dir, fn)
            try:
                with open(path, encoding="utf-8") as fh:
                    data = json.load(fh)
            except (OSError, ValueError) as exc:
                raise CorruptedPrefixRecordError(path, str(exc)) from None
            if not isinstance(data, dict) or not data.get("name"):
                raise CorruptedPrefixRecordError(path, "not a JSON object with a 'name'")
            try:
                record = _record_from_dict(data, self.channel_config)
            except CondaError:
                raise
            except Exception as exc:  # a record our data model rejects: name the file
                raise CorruptedPrefixRecordError(path, f"{type(exc).__name__}: {exc}") from None
            # two files for one name would be a broken prefix; conda keeps the last one read
            records[record.name] = record
        self._records = records
        return records

    def reload(self) -> "PrefixData":
        """Forget what was read (after a transaction changed ``conda-meta``)."""
        self._records = None
        return self

    # -- queries ---------------------------------------------------------------------------------
    def iter_records(self) -> Iterator[Any]:
        """Every installed :class:`PrefixRecord`, sorted by name."""
        return iter(tuple(self._load().values()))

    def iter_records_sorted(self) -> Iterator[Any]:
        """Installed records in dependency order (dependencies first), like conda's."""
        from conda_deepdive.models.prefix_graph import PrefixGraph

        return iter(PrefixGraph(self.iter_records()).records)

    def get(self, name: str, default: Any = None) -> Any:
        """The installed record called ``name``, or ``default``."""
        return self._load().get(name, default)

    def query(self, spec: Any) -> Iterator[Any]:
        """Installed records matching ``spec`` (a ``MatchSpec`` or spec string)."""
        from conda_deepdive.models import MatchSpec

        ms = spec if isinstance(spec, MatchSpec) else MatchSpec(spec)
        name = ms.get_exact_value("name")
        if name:
            rec = self.get(name)
            candidates = (rec,) if rec is not None else ()
        else:
            candidates = tuple(self.iter_records())
        return iter(tuple(r for r in candidates if ms.match(r)))

    def is_environment(self) -> bool:
        """Is this a conda environment? (conda's test: ``conda-meta/history`` exists)."""
        return os.path.isfile(os.path.join(self.meta_dir, "history"))

    def __contains__(self, name: str) -> bool:
        return name in self._load()

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        n = len(self._load())
        return f"PrefixData({self.prefix!r}, {n} record{'s' if n != 1 else ''})"

    def summary(self) -> dict:
        return {
            "prefix": self.prefix,
            "is_environment": self.is_environment(),
            "records": sorted(r.dist_str() for r in self.iter_records()),
        }
