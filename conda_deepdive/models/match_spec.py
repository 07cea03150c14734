"""MatchSpec: conda's query language for packages (mirrors ``conda.models.match_spec``).

Every package request — on the command line (``numpy>=1.20``), in a record's ``depends``
(``python >=3.6,<3.7.0a0``), in ``--file`` lists, in history — is parsed into a
:class:`MatchSpec`: a set of *field matchers*, one per record field the spec constrains. A record
matches when every matcher accepts the record's value for that field.

The fields (``MatchSpec.FIELD_NAMES``) and how each one matches:

=================  ======================================================================
``name``           exact, glob (``py*``) or regex (``^py.*$``); always stored lower-case
``version``        a :class:`~conda_deepdive.models.version_spec.VersionSpec` (``>=1.2,<2``, ``1.7.*``…)
``build``          exact / glob / regex over the build string (``py38*``)
``build_number``   a :class:`~conda_deepdive.models.version_spec.BuildNumberMatch` (``>=3``)
``channel``        a :class:`~conda_deepdive.models.channel.Channel` compared by name
``subdir``         exact string (``linux-64``)
``track_features``, ``features``  the *set* of features must be equal
``url``, ``md5``, ``sha256``, ``fn``  exact strings
``license``, ``license_family``   case-insensitive glob
=================  ======================================================================

One spec has many spellings; ``str()`` prints the *canonical* one::

    numpy 1.7*            -> numpy=1.7             (fuzzy version: '=' and no '.*')
    numpy 1.7.1 py27_0    -> numpy==1.7.1=py27_0   (exact version + exact build outside brackets)
    numpy >=1.5           -> numpy[version='>=1.5'] (anything with operators goes in brackets)
    conda-forge::numpy    -> conda-forge::numpy    (channel in front, its canonical name)
    mkl@                  -> *[track_features=mkl] (ancient feature syntax)

*Strictness* is conda's old 1-2-3 scale, still used by conda-build and by the solver's
bookkeeping: 1 = name only, 2 = name + version, 3 = anything more (build, channel, md5, a
non-exact name …).

What to notice: parsing is the expensive part, so identical strings are parsed once and the
resulting (immutable) MatchSpec is reused — the solver builds one MatchSpec per dependency
string of ~40k records and calls :meth:`MatchSpec.match` millions of times. Almost all of those
strings are ``name``, ``name version`` or ``name version build``: they take a fast path
(``spec_parser._parse_simple_spec``) that builds the very same MatchSpec without the general
parser's eight steps; the canonical string, the hash and the match tests are worked out only when
first asked for.
"""

from __future__ import annotations

from functools import reduce
from os.path import basename
from collections.abc import Callable, Iterable, Mapping

from ..exceptions import InvalidMatchSpec, InvalidVersionSpec
from .channel import strip_pkg_extension
from .matchers import (  # noqa: F401  (re-exported: conda keeps them in match_spec)
    CaseInsensitiveStrMatch,
    ChannelMatch,
    ExactLowerStrMatch,
    ExactStrMatch,
    FeatureMatch,
    GlobLowerStrMatch,
    GlobStrMatch,
    MatchInterface,
    _make_component,
)
from .records import PackageRecord
from .spec_parser import _parse_simple_spec, _parse_spec_str
from .version_spec import VersionSpec

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

_VERSION_SPECS = VersionSpec._cache_  # the interning table: string -> VersionSpec
_BUILD_MATCHERS: dict[str, GlobStrMatch] = {}  # build string -> matcher, for the fast path

FIELD_NAMES: tuple[str, ...] = (
    "channel",
    "subdir",
    "name",
    "version",
    "build",
    "build_number",
    "track_features",
    "features",
    "url",
    "md5",
    "sha256",
    "license",
    "license_family",
    "fn",
)
FIELD_NAMES_SET = frozenset(FIELD_NAMES)


# ============================================================================================
# MatchSpec
# ============================================================================================
_SPEC_CACHE: dict[str, "MatchSpec"] = {}


class MatchSpec:
    """A package query: a set of field matchers (see the module docstring for the grammar).

    ``MatchSpec("numpy >=1.20")``, ``MatchSpec(name="numpy", version=">=1.20")``,
    ``MatchSpec(other_spec, optional=True)``. Immutable; equal specs hash equal.
    """

    FIELD_NAMES = FIELD_NAMES
    FIELD_NAMES_SET = FIELD_NAMES_SET

    __slots__ = (
        "_match_components",
        "_optional",
        "_target",
        "_original_spec_str",
        "_hash_key",
        "_hash",
        "_str",
        "_tests",
        "_exact_name",
        "_strictness",
    )

    def __new__(cls, spec_arg: Any = None, **kwargs: Any) -> "MatchSpec":
        is_str = spec_arg.__class__ is str and not kwargs
        cacheable = is_str and cls is MatchSpec
        if cacheable:
            spec = _SPEC_CACHE.get(spec_arg)
            if spec is not None:
                return spec
        try:
            simple = _parse_simple_spec(spec_arg) if is_str else None
            if simple is not None:  # 'name', 'name >=1.2,<2', 'name 1.2 build_0' …
                spec = cls._from_simple(spec_arg, simple)
            else:
                spec = cls._construct(spec_arg, kwargs)
        except (InvalidVersionSpec, InvalidMatchSpec) as exc:
            # conda wraps every spec error once more, naming the whole input: hence messages
            # like "Invalid spec 'x': Invalid spec 'x': no package name found in 'x'"
            text = f"{spec_arg}" if spec_arg else ""
            if kwargs:
                text += " " + ", ".join(f"{k}={v}" for k, v in kwargs.items())
            raise InvalidMatchSpec(text.strip(), str(exc)) from exc
        if cacheable:
            if len(_SPEC_CACHE) > 200_000:
                _SPEC_CACHE.clear()
            _SPEC_CACHE[spec_arg] = spec
        return spec

    @classmethod
    def _construct(cls, spec_arg: Any, kwargs: dict[str, Any]) -> "MatchSpec":
        if not spec_arg:
            return cls._from_components(dict(kwargs))
        if isinstance(spec_arg, MatchSpec):
            if not kwargs:
                return spec_arg
            merged: dict[str, Any] = dict(spec_arg._match_components)
            merged.setdefault("optional", spec_arg.optional)
            merged.setdefault("target", spec_arg.target)
            merged["_original_spec_str"] = spec_arg.original_spec_str
            merged.update(kwargs)
            return cls._from_components(merged)
        if isinstance(spec_arg, str):
            parsed = _parse_spec_str(spec_arg)
            if kwargs:
                parsed = dict(parsed, **kwargs)
                if set(kwargs) - {"optional", "target"}:
                    parsed.pop("_original_spec_str", None)
            return cls._from_components(dict(parsed))
        if isinstance(spec_arg, Mapping):
            return cls._from_components(dict(spec_arg, **kwargs))
        if isinstance(spec_arg, PackageRecord):
            spec = exact_spec(spec_arg)
            return cls(spec, **kwargs) if kwargs else spec
        raise InvalidMatchSpec(
            f"{spec_arg!r}", f"cannot build a MatchSpec from a {type(spec_arg).__name__}; give a string or keywords"
        )

    @classmethod
    def _from_components(cls, kwargs: dict[str, Any]) -> "MatchSpec":
        optional = kwargs.pop("optional", False)
        target = kwargs.pop("target", None)
        original = kwargs.pop("_original_spec_str", None)
        unknown = set(kwargs) - FIELD_NAMES_SET
        if unknown:
            raise InvalidMatchSpec(original, f"Cannot match on field(s): {unknown}")
        # a field given as None is simply not constrained
        components = {key: _make_component(key, value) for key, value in kwargs.items() if value is not None}
        return cls._new(components, optional, target, original)

    @classmethod
    def _from_simple(cls, spec_str: str, parsed: tuple) -> "MatchSpec":
        """The fast path for the common shapes (see ``spec_parser._parse_simple_spec``): the
        same matchers the general path builds, from the same caches, without its bookkeeping."""
        _, version, build, name_matcher = parsed
        components = {"name": name_matcher}
        if version is not None:
            # VersionSpec interns by string: this is the very object the general path gets
            components["version"] = _VERSION_SPECS.get(version) or VersionSpec(version)
            if build is not None:
                matcher = _BUILD_MATCHERS.get(build)
                if matcher is None:
                    if len(_BUILD_MATCHERS) > 500_000:
                        _BUILD_MATCHERS.clear()
                    matcher = _BUILD_MATCHERS[build] = (
                        GlobStrMatch._plain(build) if "*" not in build else GlobStrMatch(build))
                components["build"] = matcher
        self = object.__new__(cls)
        set_ = object.__setattr__
        set_(self, "_match_components", components)
        set_(self, "_optional", False)
        set_(self, "_target", None)
        set_(self, "_original_spec_str", spec_str)
        set_(self, "_exact_name", name_matcher._raw_value)
        return self

    @classmethod
    def _new(cls, components: dict[str, Any], optional: Any, target: Any, original: str | None) -> "MatchSpec":
        self = object.__new__(cls)
        set_ = object.__setattr__
        set_(self, "_match_components", components)
        set_(self, "_optional", bool(optional))
        set_(self, "_target", target)
        set_(self, "_original_spec_str", original)
        name_matcher = components.get("name")
        set_(self, "_exact_name", name_matcher.exact_value if name_matcher is not None else None)
        # identity (_hash_key, _hash), the canonical string (_str) and the per-field test
        # functions (_tests) are worked out on first use: those slots start out empty
        return self

    def _key(self) -> tuple:
        try:
            return self._hash_key
        except AttributeError:
            comps = frozenset((f, type(m).__name__, str(m)) for f, m in self._match_components.items())
            key = (comps, self._optional, self._target)
            object.__setattr__(self, "_hash_key", key)
            return key

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("MatchSpec is immutable; build a new one with MatchSpec(spec, **changes)")

    def __reduce__(self):
        # rebuild from plain field values: the canonical string does not always parse back
        state = {field: _plain_value(m) for field, m in self._match_components.items()}
        return (_rebuild, (state, self._optional, self._target, self._original_spec_str))

    # -- alternative constructors ----------------------------------------------------------
    @classmethod
    def from_dist_str(cls, dist_str: str) -> "MatchSpec":
        """``'conda-forge/linux-64::numpy-1.20.0-py39_0'`` → an exact spec for that package."""
        from .channel import KNOWN_SUBDIRS

        parts: dict[str, Any] = {}
        dist_str, _ = strip_pkg_extension(dist_str)
        if "::" in dist_str:
            channel_subdir, dist_str = dist_str.split("::", 1)
            channel_str, _, subdir = channel_subdir.rpartition("/")
            if channel_str and subdir in KNOWN_SUBDIRS:
                parts["channel"], parts["subdir"] = channel_str, subdir
            else:
                parts["channel"] = channel_subdir
        pieces = dist_str.rsplit("-", 2)
        if len(pieces) != 3:
            raise InvalidMatchSpec(dist_str, "expected name-version-build")
        parts.update(name=pieces[0], version=pieces[1], build=pieces[2])
        return cls(**parts)

    # -- reading fields -----------------------------------------------------------------------
    def get_exact_value(self, field_name: str) -> Any:
        """The field's value if it is pinned to exactly one value (``numpy==1.7`` → ``'1.7'``)."""
        matcher = self._match_components.get(field_name)
        return matcher and matcher.exact_value

    def get_raw_value(self, field_name: str) -> Any:
        """What was asked for, pattern or not (``numpy 1.7*`` → version ``'1.7.*'``)."""
        matcher = self._match_components.get(field_name)
        return matcher and matcher.raw_value

    def get(self, field_name: str, default: Any = None) -> Any:
        value = self.get_raw_value(field_name)
        return default if value is None else value

    def __contains__(self, field_name: str) -> bool:
        return field_name in self._match_components

    @property
    def name(self) -> str:
        return self._exact_name or "*"  # the name matcher's exact value, kept at construction

    @property
    def version(self) -> VersionSpec | None:
        return self._match_components.get("version")

    @property
    def optional(self) -> bool:
        return self._optional

    @property
    def target(self) -> Any:
        return self._target

    @property
    def original_spec_str(self) -> str | None:
        return self._original_spec_str

    @property
    def fn(self) -> str:
        value = self.get_raw_value("fn") or self.get_raw_value("url")
        if not value:
            raise ValueError(f"{self} names no file")
        return basename(value)

    @property
    def is_name_only_spec(self) -> bool:
        comps = self._match_components
        return len(comps) == 1 and "name" in comps and self.name != "*"

    @property
    def strictness(self) -> int:
        """conda's 1-2-3 scale: 1 name only, 2 name+version, 3 anything stricter."""
        try:
            return self._strictness  # the reduction asks for every dependency, often
        except AttributeError:
            pass
        comps = self._match_components
        counted = sum(f in comps for f in ("name", "version", "build"))
        if counted < len(comps) or not self._exact_name or "build" in comps:
            value = 3
        elif "version" in comps:
            value = 2
        else:
            value = 1
        object.__setattr__(self, "_strictness", value)
        return value

    @property
    def spec(self) -> str:
        return self.conda_build_form()

    def _is_simple(self) -> bool:
        return len(self._match_components) == 1 and self.get_exact_value("name") is not None

    def _is_single(self) -> bool:
        return len(self._match_components) == 1

    # -- matching -----------------------------------------------------------------------------
    def match(self, record: Any) -> bool:
        """Does ``record`` (a PackageRecord or a plain dict) satisfy every field matcher?"""
        if record.__class__ is dict:
            record = PackageRecord.from_dict(record)
        name = self._exact_name
        if name is not None and record.name != name:
            return False  # the common case in the solver: a record of another package
        try:
            tests = self._tests
        except AttributeError:  # first match: compile the per-field tests
            tests = _compile_tests(self._match_components)
            object.__setattr__(self, "_tests", tests)
        for test in tests:
            if not test(record):
                return False
        return True

    # -- printing -------------------------------------------------------------------------------
    def __str__(self) -> str:
        try:
            return self._str
        except AttributeError:
            text = _canonical_str(self._match_components)
            object.__setattr__(self, "_str", text)
            return text

    def __repr__(self) -> str:
        extra = ""
        if self._target:
            extra += f', target="{self._target}"'
        if self._optional:
            extra += ", optional=True"
        return f'{type(self).__name__}("{self}"{extra})'

    def __json__(self) -> str:
        return str(self)

    def dist_str(self) -> str:
        return str(self)

    def conda_build_form(self) -> str:
        """The space-separated ``name version build`` form conda-build writes in recipes."""
        name = self.get_exact_value("name")
        if not name:
            raise ValueError(f"conda_build_form() needs an exact package name; {self} has none")
        version = self.get_raw_value("version")
        build = self.get_raw_value("build")
        if build:
            return " ".join((name, str(version or "*"), str(build)))
        if version:
            return f"{name} {version}"
        return name

    def _to_filename_do_not_use(self) -> str | None:
        fn = self.get_exact_value("fn")
        if fn:
            return fn
        values = [self.get_exact_value(f) for f in ("name", "version", "build")]
        if any(v is None for v in values):
            return None
        return "-".join(values) + ".tar.bz2"

    # -- identity ---------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return isinstance(other, MatchSpec) and self._key() == other._key()

    def __hash__(self) -> int:
        try:
            return self._hash
        except AttributeError:
            h = hash(self._key())
            object.__setattr__(self, "_hash", h)
            return h

    # -- combining specs -------------------------------------------------------------------------
    @classmethod
    def merge(cls, match_specs: Iterable[Any], union: bool = False) -> tuple["MatchSpec", ...]:
        """Combine specs for the same package into one (``numpy >=1`` + ``numpy <2`` →
        ``numpy[version='<2,>=1']``). Specs without an exact name are passed through."""
        specs = sorted((cls(s) for s in match_specs if s), key=str)
        names = {s.name for s in specs}
        if len(names) == len(specs) and "*" not in names:
            return tuple(specs)  # one spec per name (a record's depends, mostly): nothing to merge
        by_name: dict[str, list[MatchSpec]] = {}
        for s in specs:
            by_name.setdefault(s.name, []).append(s)
        unmergeable = by_name.pop("*", [])
        merged: list[MatchSpec] = []
        for group in by_name.values():
            by_optional: dict[bool, list[MatchSpec]] = {}
            for s in group:
                by_optional.setdefault(s.optional, []).append(s)
            for subgroup in by_optional.values():
                targets = {s.target for s in subgroup if s.target is not None}
                if len(targets) > 1:
                    listing = "".join(f"\n  - {s}" for s in subgroup)
                    raise ValueError(f"Incompatible MatchSpec merge:{listing}")
                if len(subgroup) == 1:
                    merged.append(subgroup[0])
                else:
                    merged.append(reduce(lambda a, b: a._merge(b, union), subgroup))
        return (*merged, *unmergeable)

    @classmethod
    def union(cls, match_specs: Iterable[Any]) -> tuple["MatchSpec", ...]:
        """Like :meth:`merge` but OR-ing the constraints (``1.7|1.8``)."""
        return cls.merge(match_specs, union=True)

    def _merge(self, other: "MatchSpec", union: bool = False) -> "MatchSpec":
        if self.optional != other.optional or self.target != other.target:
            raise ValueError(f"Incompatible MatchSpec merge:  - {self}\n  - {other}")
        final: dict[str, Any] = {}
        for field in set(self._match_components) | set(other._match_components):
            this = self._match_components.get(field)
            that = other._match_components.get(field)
            if this is None or that is None:
                final[field] = this if that is None else that
            elif union:
                try:
                    final[field] = this.union(that)
                except (AttributeError, ValueError, TypeError):
                    final[field] = f"{this}|{that}"
            else:
                final[field] = this.merge(that)
        return type(self)(optional=self.optional, target=self.target, **final)


def clear_caches() -> None:
    """Forget every parsed spec string and field matcher (benchmarks measure cold parsing)."""
    from . import matchers, spec_parser

    _SPEC_CACHE.clear()
    spec_parser._PARSE_CACHE.clear()
    spec_parser._SIMPLE_NAMES.clear()
    _BUILD_MATCHERS.clear()
    matchers._MATCHER_CACHE.clear()


def _plain_value(matcher: Any) -> Any:
    if isinstance(matcher, ChannelMatch):
        return str(matcher)
    raw = matcher.raw_value
    return tuple(sorted(raw)) if isinstance(raw, frozenset) else raw


def _rebuild(state: dict, optional: bool, target: Any, original: str | None) -> MatchSpec:
    return MatchSpec(optional=optional, target=target, _original_spec_str=original, **state)


def _compile_tests(components: dict[str, Any]) -> tuple[Callable[[Any], bool], ...]:
    """One small function per field, cheapest and most selective (name) first."""
    tests: list[tuple[int, Callable[[Any], bool]]] = []
    for field, matcher in components.items():
        if field == "name":
            if matcher.exact_value is None and not matcher.matches_all:  # exact: checked in match()
                tests.append((0, lambda rec, _m=matcher.match: _m(rec.name)))
        elif field == "version":
            vmatch = matcher.match
            tests.append((1, lambda rec, _m=vmatch: _m(_version_of(rec))))
        elif field == "build":
            tests.append((2, lambda rec, _m=matcher.match: bool(_m(rec.build))))
        else:
            tests.append((3, _field_test(field, matcher)))
    tests.sort(key=lambda t: t[0])
    return tuple(t for _, t in tests)


def _field_test(field: str, matcher: Any) -> Callable[[Any], bool]:
    m = matcher.match

    def test(rec: Any) -> bool:
        try:
            value = getattr(rec, field)
        except AttributeError:
            value = None
        try:
            return bool(m(value))
        except AttributeError:
            return matcher == value

    return test


def _version_of(rec: Any) -> Any:
    try:
        return rec.version_order  # PackageRecord caches its parsed VersionOrder
    except AttributeError:
        return rec.version


def _canonical_str(components: dict[str, Any]) -> str:
    """Print components the canonical way (see the module docstring)."""
    out: list[str] = []
    brackets: list[str] = []

    channel = components.get("channel")
    channel_exact = channel is not None and channel.exact_value is not None
    if channel_exact:
        out.append(str(channel))
    elif channel is not None and not channel.matches_all:
        brackets.append(f"channel={channel}")

    subdir = components.get("subdir")
    if subdir is not None:
        if channel_exact:
            out.append(f"/{subdir}")
        else:
            brackets.append(f"subdir={subdir}")

    name = components.get("name")
    name_text = str(name) if name is not None else "*"
    out.append(f"::{name_text}" if out else name_text)

    version = components.get("version")
    build = components.get("build")
    version_exact = False
    if version is not None:
        v = str(version)
        if v == "*":
            pass  # matches everything: nothing to print
        elif any(c in v for c in "><$^|,"):
            brackets.append(f"version='{v}'")
        elif v[:2] in ("!=", "~="):
            if build is not None:
                brackets.append(f"version='{v}'")
            else:
                out.append(v)
        elif v.endswith(".*"):
            out.append("=" + v[:-2])
        elif v.endswith("*"):
            out.append("=" + v[:-1])
        elif v.startswith("=="):
            out.append(v)
            version_exact = True
        else:
            out.append("==" + v)
            version_exact = True

    if build is not None:
        b = str(build)
        if any(c in b for c in "><$^|,"):
            brackets.append(f"build='{b}'")
        elif "*" in b or not version_exact:
            brackets.append(f"build={b}")
        else:
            out.append("=" + b)

    skip = {"channel", "subdir", "name", "version", "build"}
    if "url" in components and "fn" in components:
        skip.add("fn")
    for key in FIELD_NAMES:
        if key in skip or key not in components:
            continue
        if key == "url" and channel is not None:
            continue  # the channel already says where the package lives
        value = str(components[key])
        if any(c in value for c in ", ="):
            brackets.append(f"{key}='{value}'")
        else:
            brackets.append(f"{key}={value}")

    if brackets:
        out.append("[" + ",".join(brackets) + "]")
    return "".join(out)


__all__ = [
    "combined_depends",
    "exact_spec",
    "CaseInsensitiveStrMatch",
    "ChannelMatch",
    "ExactStrMatch",
    "FeatureMatch",
    "GlobLowerStrMatch",
    "GlobStrMatch",
    "MatchInterface",
    "MatchSpec",
    "clear_caches",
]


# -- what a record says about other packages, as MatchSpecs -----------------------------------
# (conda has these as PackageRecord methods; here a record is plain data and the query language
# reads it, so models/records.py never needs to import this module)


def exact_spec(rec: PackageRecord) -> MatchSpec:
    """The spec that matches only this record: ``channel/subdir::name==version=build``
    (conda's ``PackageRecord.to_match_spec``)."""
    return MatchSpec(channel=rec.channel, subdir=rec.subdir, name=rec.name, version=rec.version, build=rec.build)


def combined_depends(rec: PackageRecord) -> tuple:
    """``depends`` merged per name, plus ``constrains`` as *optional* specs (conda's
    ``PackageRecord.combined_depends``: everything a record says about other packages)."""
    result = {ms.name: ms for ms in MatchSpec.merge(rec.depends)}
    for spec in rec.constrains:
        ms = MatchSpec(spec)
        result[ms.name] = MatchSpec(ms, optional=(ms.name not in result))
    return tuple(result.values())
