"""Which records to mirror: conda-mirror's ``blacklist``/``whitelist`` and MatchSpec filters.

conda-mirror reads a YAML config (``--config conf.yaml``)::

    blacklist:
        - build: 'py2*'
    whitelist:
        - build: 'py3*'

Each list item is a mapping ``{repodata key: pattern}``; a record matches an item when it matches
*every* key of it. conda-mirror (``conda_mirror._match``) compares **lower-cased** strings:
``str(record.get(key, "")).lower()`` against the lower-cased pattern, with ``fnmatch`` — except
that a ``version`` pattern containing one of ``<>=^$!`` is a conda version spec (``>=1.2``, and
``'>=1.2 py3*'`` also tests the build), and a ``build`` pattern with one of those characters went
to conda's *build-number* matcher (a bug: ``py3.*`` never matches a build string that way).
Here such a build pattern compares the build *number* when it is a number comparison (``>=2``),
and is a regular expression on the build string when written ``^…$``, as in a MatchSpec.

The order is conda-mirror's: everything matched by any blacklist item is excluded, then anything
matched by any whitelist item is re-admitted — so a whitelist alone changes nothing, and
``blacklist: [{name: '*'}]`` + a whitelist is an allow-list. Every other key of the YAML file
whose name is a command-line option (``upstream_channel``, ``platform``, ``num_threads`` …) is
used as that option's value unless the option was typed — also conda-mirror's rule.

conda-deepdive adds MatchSpec filters: ``--include SPEC`` keeps only records matching some
include spec, ``--exclude SPEC`` then drops matches. The reasons are kept per file.
"""

from __future__ import annotations

import fnmatch
import operator
import re
from collections.abc import Callable, Iterable, Mapping

from conda_deepdive.exceptions import CondaValueError
from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["MirrorConfig", "load_mirror_config", "match_pattern_item", "FilterResult", "apply_filters"]

#: conda-mirror's VERSION_SPEC_CHARS: a pattern with one of these is a spec, not a glob
_SPEC_CHARS = re.compile(r"[<>=^$!]")
_NUMBER_CMP = re.compile(r"^\s*(>=|<=|==|!=|>|<|=)?\s*(\d+)\s*$")
_OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, "=": operator.eq, "!=": operator.ne,
        ">": operator.gt, "<": operator.lt, None: operator.eq}


@value_object(frozen=True)
class MirrorConfig:
    """A conda-mirror ``--config`` file: the two filter lists and option defaults."""

    path: str | None = None
    blacklist: tuple[Mapping[str, str], ...] = ()
    whitelist: tuple[Mapping[str, str], ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"MirrorConfig({self.path!r}, blacklist={list(map(dict, self.blacklist))}, "
                f"whitelist={list(map(dict, self.whitelist))})")


def _items(path: str, key: str, value: Any) -> tuple[Mapping[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise CondaValueError(f"{path}: {key!r} must be a list of {{key: pattern}} mappings, "
                              f"got {value!r}")
    return tuple({str(k): str(v) for k, v in item.items()} for item in value)


def load_mirror_config(path: str) -> MirrorConfig:
    """Read conda-mirror's YAML config (``yaml.safe_load``, like conda-mirror)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        with open(path, encoding="utf-8") as fh:
            data = YAML(typ="safe", pure=True).load(fh) or {}
    except OSError as exc:
        raise CondaValueError(f"Cannot read the mirror config {path}: {exc.strerror or exc}") from None
    except YAMLError as exc:
        raise CondaValueError(f"The mirror config {path} is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise CondaValueError(f"The mirror config {path} must be a mapping (blacklist:, whitelist:, …)")
    options = {k: v for k, v in data.items() if k not in ("blacklist", "whitelist")}
    return MirrorConfig(path, _items(path, "blacklist", data.get("blacklist")),
                        _items(path, "whitelist", data.get("whitelist")), options)


def _glob(pattern: str) -> Callable[[str], bool]:
    return lambda value: fnmatch.fnmatch(value, pattern)


def _version_matcher(pattern: str) -> Callable[[str], bool]:
    from conda_deepdive.models.version_spec import VersionSpec

    spec = VersionSpec(pattern.split(" ")[0])
    return lambda value: bool(spec.match(value))


def _build_matcher(pattern: str) -> Callable[[Any], bool]:
    """A build pattern with spec characters (see the module docstring)."""
    m = _NUMBER_CMP.match(pattern)
    if m:
        op, number = _OPS[m.group(1)], int(m.group(2))
        return ("build_number", lambda value: value.isdigit() and op(int(value), number))  # type: ignore[return-value]
    if pattern.startswith("^") and pattern.endswith("$"):
        rx = re.compile(pattern)
        return ("build", lambda value: bool(rx.match(value)))  # type: ignore[return-value]
    return ("build", _glob(pattern))  # type: ignore[return-value]


def _matchers(item: Mapping[str, str]) -> dict[str, Callable[[str], bool]]:
    matchers: dict[str, Callable[[str], bool]] = {}
    for key, pattern in sorted(item.items()):
        key, pattern = key.lower(), str(pattern).lower()
        if key == "version" and _SPEC_CHARS.search(pattern):
            if " " in pattern:
                pattern, build_pattern = pattern.split(" ", 1)
                if "build" not in matchers:
                    bkey, bmatch = _build_matcher(build_pattern)  # type: ignore[misc]
                    matchers[bkey] = bmatch
            matchers[key] = _version_matcher(pattern)
        elif key == "build" and _SPEC_CHARS.search(pattern):
            bkey, bmatch = _build_matcher(pattern)  # type: ignore[misc]
            matchers[bkey] = bmatch
        else:
            matchers[key] = _glob(pattern)
    return matchers


def match_pattern_item(packages: Mapping[str, Mapping[str, Any]], item: Mapping[str, str]) -> set[str]:
    """conda-mirror's ``_match``: the file names whose record matches every key of ``item``."""
    matchers = _matchers(item)
    return {fn for fn, rec in packages.items()
            if all(m(str(rec.get(key, "")).lower()) for key, m in matchers.items())}


@value_object(frozen=True)
class FilterResult:
    """Kept file names and, for every dropped one, why (``blacklist {'build': 'py2*'}`` …)."""

    kept: frozenset[str]
    dropped: Mapping[str, str]

    def __repr__(self) -> str:
        return f"FilterResult(kept={len(self.kept)}, dropped={len(self.dropped)})"


def apply_filters(
    packages: Mapping[str, Mapping[str, Any]],
    config: MirrorConfig | None = None,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> FilterResult:
    """Blacklist, whitelist (conda-mirror's order), then ``--include`` / ``--exclude`` MatchSpecs."""
    from conda_deepdive.models.match_spec import MatchSpec

    dropped: dict[str, str] = {}
    if config is not None:
        for item in config.blacklist:
            for fn in match_pattern_item(packages, item):
                dropped.setdefault(fn, f"blacklist {dict(item)}")
        for item in config.whitelist:
            for fn in match_pattern_item(packages, item):
                dropped.pop(fn, None)
    include_specs = [MatchSpec(s) for s in include]
    exclude_specs = [(s, MatchSpec(s)) for s in exclude]
    if include_specs or exclude_specs:
        for fn, rec in packages.items():
            if fn in dropped:
                continue
            if include_specs and not any(ms.match(rec) for ms in include_specs):
                dropped[fn] = "matches no --include spec"
                continue
            hit = next((text for text, ms in exclude_specs if ms.match(rec)), None)
            if hit is not None:
                dropped[fn] = f"--exclude {hit}"
    return FilterResult(frozenset(fn for fn in packages if fn not in dropped), dropped)
