"""Explicit installs: package files, URLs and ``@EXPLICIT`` lists, installed without a solve.

conda counterparts: ``conda.misc`` (``_match_specs_from_explicit``, ``get_package_records_from_explicit``,
``install_explicit_packages``), ``conda.models.environment.Environment.from_cli_with_file_envs``
(how a request is recognised as explicit) and ``conda.env.specs.explicit.ExplicitSpec``.

``conda create -p P ./zlib-1.2.13-h5eee18b_1.conda`` (or a URL, or ``--file list.txt`` where the
file contains the line ``@EXPLICIT``, as ``conda list --explicit`` writes it) names *exact
packages*. conda then skips stages 3–6 entirely — the lesson is what the solver is for:

1. each line becomes a URL (a path is turned into ``file://…``); a ``#<md5>`` or ``#sha256:<hex>``
   fragment is a checksum the download must match;
2. the packages are fetched and extracted into the package cache *first* (stage 8's machinery,
   :class:`~conda_deepdive.fetch.fetch_extract.ProgressiveFetchExtract`), because only the
   package's own ``info/index.json`` says what it is: its records come from the package files,
   not from any repodata. A URL whose directory is not a platform subdir belongs to the
   ``<unknown>`` channel;
3. no index, no channel priority, no solve: **dependencies are not checked** (an explicit
   ``zlib`` without ``libgcc-ng`` installs fine and may not run). A package already installed
   with the same channel/subdir/name/version/build is left alone; another installed version
   of the same name is replaced;
4. the transaction links exactly those records; history's ``update specs`` are the records'
   ``channel/subdir::name==version=build`` specs.

Nothing asks for confirmation (``install_explicit_packages`` never calls ``confirm_yn``), a dry
run ends before anything is fetched, and ``--json`` prints no result document.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence

from conda_deepdive.reporting import Reporter
from conda_deepdive.solve.install_flow import EXPLICIT_MARKER, NO_SOLVE
from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["EXPLICIT_MARKER", "NO_SOLVE", "ExplicitSpec", "ExplicitPackages", "NoSolve",
           "parse_explicit", "fetch_explicit", "explicit_plan"]

UNKNOWN_CHANNEL = "<unknown>"

# conda.misc._get_url_pattern() for the .conda and .tar.bz2 extractors
_URL_PAT = re.compile(
    r"(?:(?P<url_p>.+)(?:[/\\]))?"
    r"(?P<fn>[^/\\#]+(?:\.conda|\.tar\.bz2))"
    r"(?:#("
    r"(?P<md5>[0-9a-f]{32})"
    r"|((sha256:)?(?P<sha256>[0-9a-f]{64}))"
    r"))?$"
)
_KNOWN_SUBDIRS = ("noarch", "linux-32", "linux-64", "linux-aarch64", "linux-armv6l", "linux-armv7l",
                  "linux-ppc64", "linux-ppc64le", "linux-riscv64", "linux-s390x", "osx-64",
                  "osx-arm64", "win-32", "win-64", "win-arm64", "emscripten-wasm32",
                  "wasi-wasm32", "freebsd-64", "zos-z")


def _is_url(text: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text))


def _path_to_url(path: str) -> str:
    from urllib.parse import quote

    return "file://" + quote(os.path.abspath(os.path.expanduser(path)))


@value_object(frozen=True)
class ExplicitSpec:
    """One explicit package: its URL, file name and the checksums its line carried."""

    url: str
    fn: str
    md5: str | None = None
    sha256: str | None = None

    @property
    def dist(self) -> str:
        from conda_deepdive.fetch.package_cache import strip_pkg_extension

        return strip_pkg_extension(self.fn)

    @property
    def name_version_build(self) -> tuple[str, str, str]:
        """From the file name (``name-version-build``), as conda's legacy dist parsing does."""
        parts = self.dist.rsplit("-", 2)
        if len(parts) != 3:
            from conda_deepdive.exceptions import ParseError

            raise ParseError(f"Could not parse explicit URL: {self.url} "
                             f"(the file name is not name-version-build)")
        return parts[0], parts[1], parts[2]

    @property
    def subdir_dir(self) -> str | None:
        """The platform subdir the URL's directory names, or None (→ channel ``<unknown>``)."""
        parent = self.url.rsplit("/", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        return parent if parent in _KNOWN_SUBDIRS else None

    def pseudo_record(self) -> dict:
        """What the fetch stage needs before the package is known: name, version, build from
        the file name, the URL and any checksum (no size: the file decides)."""
        name, version, build = self.name_version_build
        rec = {"name": name, "version": version, "build": build, "fn": self.fn, "url": self.url}
        if self.md5:
            rec["md5"] = self.md5
        if self.sha256:
            rec["sha256"] = self.sha256
        return rec

    def __str__(self) -> str:
        fragment = f"#{self.md5}" if self.md5 else f"#sha256:{self.sha256}" if self.sha256 else ""
        return self.url + fragment


def parse_explicit(lines: Iterable[str]) -> tuple[ExplicitSpec, ...]:
    """conda's ``_match_specs_from_explicit``: the marker is skipped, paths become ``file://`` URLs."""
    from conda_deepdive.exceptions import ParseError

    out = []
    for line in lines:
        spec = line.strip()
        if not spec or spec.startswith("#") or spec == EXPLICIT_MARKER:
            continue
        if not _is_url(spec):
            spec = _path_to_url(spec)
        m = _URL_PAT.match(spec)
        if m is None:
            raise ParseError(f"Could not parse explicit URL: {spec}")
        url = f"{m.group('url_p')}/{m.group('fn')}" if m.group("url_p") else m.group("fn")
        out.append(ExplicitSpec(url, m.group("fn"), m.group("md5"), m.group("sha256")))
    return tuple(out)


# ------------------------------------------------------------------------------------------
# stage results
# ------------------------------------------------------------------------------------------

class NoSolve:
    """The result of a stage an explicit install skips (index, priority, specs, reduce)."""

    __slots__ = ("stage",)

    def __init__(self, stage: str) -> None:
        self.stage = stage

    reason = NO_SOLVE
    specs_to_add: tuple = ()  # what a SpecsState would offer: nothing was collected

    def why(self, name: str) -> str:
        """Why ``name`` is in the result (``explain`` asks the specs stage)."""
        return "named exactly by the request (no solve, dependencies not checked)"

    def summary(self) -> dict:
        return {"skipped": True, "reason": NO_SOLVE}

    def __repr__(self) -> str:
        return f"NoSolve({self.stage!r}: {NO_SOLVE})"


class ExplicitPackages:
    """The explicit request, fetched: the specs as given and the records read from the packages."""

    def __init__(self, specs: Sequence[ExplicitSpec], records: Sequence[Any], pkgs_dir: str) -> None:
        self.specs = tuple(specs)
        self.records = tuple(records)
        self.pkgs_dir = pkgs_dir

    reason = NO_SOLVE

    def summary(self) -> dict:
        return {
            "reason": NO_SOLVE,
            "specs": [str(s) for s in self.specs],
            "records": [r.dist_str() for r in self.records],
            "depends_not_checked": {r.name: list(r.depends) for r in self.records if r.depends},
        }

    def __repr__(self) -> str:
        return f"ExplicitPackages({', '.join(r.dist_str() for r in self.records)}; {NO_SOLVE})"


class ExplicitPlan:
    """What conda's ``install_explicit_packages`` decides; stands where a solver stands, so the
    transaction stage reads ``specs_to_add`` (history's update specs) from it."""

    def __init__(self, link_precs: Sequence[Any], unlink_precs: Sequence[Any],
                 already_installed: Sequence[Any]) -> None:
        self.link_precs = tuple(link_precs)
        self.unlink_precs = tuple(unlink_precs)
        self.already_installed = tuple(already_installed)
        self.specs_to_add = tuple(_record_spec(r) for r in self.link_precs)
        self.specs_to_remove: tuple = ()
        self.neutered_specs: tuple = ()

    reason = NO_SOLVE
    final_state = property(lambda self: self.link_precs)

    def summary(self) -> dict:
        return {
            "reason": NO_SOLVE,
            "link": [r.dist_str() for r in self.link_precs],
            "unlink": [r.dist_str() for r in self.unlink_precs],
            "already_installed": [r.dist_str() for r in self.already_installed],
            "update_specs": [str(s) for s in self.specs_to_add],
        }

    def __repr__(self) -> str:
        return (f"ExplicitPlan(link={len(self.link_precs)}, unlink={len(self.unlink_precs)}, "
                f"unchanged={len(self.already_installed)}; {NO_SOLVE})")


def _record_spec(rec: Any) -> Any:
    from conda_deepdive.models import MatchSpec

    return MatchSpec(str(rec))  # channel/subdir::name==version=build


# ------------------------------------------------------------------------------------------
# fetching (conda.misc.get_package_records_from_explicit)
# ------------------------------------------------------------------------------------------

def _cached_record(spec: ExplicitSpec, pkgs_dir: str, context: Any) -> Any:
    """Rewrite ``repodata_record.json`` as conda writes it for a URL spec (index.json + url,
    channel, fn, md5, sha256, size from the tarball) and return the record."""
    from conda_deepdive.fetch.package_cache import RECORD_FIELDS, hash_file
    from conda_deepdive.models.channel import Channel
    from conda_deepdive.models.records import PackageRecord

    extracted = os.path.join(pkgs_dir, spec.dist)
    info = os.path.join(extracted, "info")
    with open(os.path.join(info, "index.json"), encoding="utf-8") as fh:
        index_json = json.load(fh)
    record_path = os.path.join(info, "repodata_record.json")
    tarball = os.path.join(pkgs_dir, spec.fn)
    if os.path.isfile(tarball):
        sums = hash_file(tarball)
        extra = {"md5": spec.md5 or sums["md5"], "sha256": spec.sha256 or sums["sha256"],
                 "size": os.path.getsize(tarball)}
    else:  # extracted earlier, tarball removed since (conda clean --tarballs)
        with open(record_path, encoding="utf-8") as fh:
            old = json.load(fh)
        extra = {k: old[k] for k in ("md5", "sha256", "size") if k in old}
    if spec.subdir_dir:
        channel = Channel(spec.url.rsplit("/", 1)[0], config=context.channel_config)
        channel_url = spec.url.rsplit("/", 1)[0]
    else:
        channel, channel_url = Channel(UNKNOWN_CHANNEL, config=context.channel_config), UNKNOWN_CHANNEL
    merged = {k: v for k, v in index_json.items() if v is not None}
    merged.update(extra, url=spec.url, fn=spec.fn, channel=channel_url)
    ordered = {k: merged[k] for k in RECORD_FIELDS if k in merged}
    tmp = record_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(ordered, fh, indent=2)
    os.replace(tmp, record_path)
    return PackageRecord.from_dict({**ordered, "channel": channel})


def fetch_explicit(specs: Sequence[ExplicitSpec], context: Any,
                   reporter: Reporter | None = None) -> ExplicitPackages:
    """Fetch and extract the explicit packages (stage 8's machinery), then read their records."""
    from conda_deepdive.fetch.fetch_extract import ProgressiveFetchExtract

    reporter = reporter or Reporter()
    pfe = ProgressiveFetchExtract([s.pseudo_record() for s in specs], context, reporter)
    pfe.execute()
    pkgs_dir = pfe.writable_cache.pkgs_dir
    records = []
    for spec in specs:
        where = pkgs_dir
        for d in pfe.pkgs_dirs:  # already extracted in a (read-only) cache: read it there
            if os.path.isfile(os.path.join(d, spec.dist, "info", "index.json")):
                where = d
                break
        rec = _cached_record(spec, where, context)
        records.append(rec)
        reporter.event("index", "explicit_record", spec=str(spec), record=rec.dist_str(),
                       depends=list(rec.depends))
    return ExplicitPackages(specs, records, pkgs_dir)


def explicit_plan(records: Sequence[Any], prefix: str, context: Any) -> ExplicitPlan:
    """conda's ``install_explicit_packages``: keep what is installed exactly, replace the rest."""
    from conda_deepdive.exceptions import CondaValueError
    from conda_deepdive.index.prefix_data import PrefixData

    names = [r.name for r in records]
    if len(set(names)) != len(names):
        raise CondaValueError("Duplicate packages found in 'explicit_packages'.")
    prefix_data = PrefixData(prefix, channel_config=context.channel_config)
    link, unlink, kept = [], [], []
    for rec in records:
        installed = prefix_data.get(rec.name, None) if prefix_data.is_environment() else None
        if installed is not None:
            if next(iter(prefix_data.query(_record_spec(rec))), None) is not None:
                kept.append(rec)
                continue
            unlink.append(installed)
        link.append(rec)
    return ExplicitPlan(link, unlink, kept)
