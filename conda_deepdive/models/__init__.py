"""conda's data model (``conda.models``): versions, match specs, channels, package records.

Import what you need from here; submodules load lazily so ``import conda_deepdive.models`` stays
cheap (the CLI's ``--help`` must not pay for the whole data model).

* :class:`VersionOrder` — ``models.version``; :class:`VersionSpec`, :class:`BuildNumberMatch` —
  ``models.version_spec``
* :class:`MatchSpec` — the package query language (``numpy >=1.20``) — ``models.match_spec``
  (its field matchers live in ``models.matchers``, the string grammar in ``models.spec_parser``)
* :class:`Channel`, :class:`MultiChannel`, :class:`ChannelConfig` — ``models.channel``
  (URL helpers in ``models.urls``)
* :class:`PackageRecord`, :class:`PackageCacheRecord`, :class:`PrefixRecord` — ``models.records``
* enums (``NoarchType``, ``PathType``, ``LinkType``, ``PackageType``) — ``models.enums``
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

_WHERE = {
    "VersionOrder": "version",
    "VersionSpec": "version_spec",
    "BuildNumberMatch": "version_spec",
    "ver_eval": "version_spec",
    "MatchSpec": "match_spec",
    "Channel": "channel",
    "MultiChannel": "channel",
    "ChannelConfig": "channel",
    "PackageRecord": "records",
    "PackageCacheRecord": "records",
    "PrefixRecord": "records",
    "NoarchType": "enums",
    "PathType": "enums",
    "LinkType": "enums",
    "PackageType": "enums",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'conda_deepdive.models' has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
