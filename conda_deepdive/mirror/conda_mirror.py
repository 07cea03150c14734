"""The mirror stage: make a local directory serve what an upstream channel serves (conda-mirror).

conda counterpart: none in conda itself — this is ``conda-mirror``'s ``conda_mirror.main``,
rebuilt so that the mirror is *correct at every instant* and a failed run says so.

One run, per subdir (every ``--platform`` plus ``noarch``, always):

1. **Index.** GET upstream's ``repodata.json`` — conditionally, with the ETag/Last-Modified kept
   in the subdir's state file, so an unchanged upstream answers ``304`` and sends nothing.
2. **Select.** conf.yaml ``blacklist``/``whitelist`` (conda-mirror's rules), ``--include`` /
   ``--exclude`` MatchSpecs, then ``--closure`` (the solver's reduced index, all subdirs at once).
3. **Plan.** A kept file already in the mirror and recorded as verified with the same size and
   mtime is trusted (no re-hash); one that is present but unknown is verified once; everything
   else is downloaded.
4. **Download** (:mod:`.downloader`): parallel, streamed, checked, resumable; files appear under
   their real name only once verified. Meanwhile a side thread *prepares* the new index as it
   will be if every download succeeds (step 5's JSON, compressions and shard files — nothing
   live yet); when one fails, that index is computed again without it.
5. **Publish** (:mod:`.publish`): upstream's ``repodata.json`` restricted to the files the mirror
   really has — same keys, same order, ``packages.conda``, ``removed``, ``repodata_version``,
   patched fields and all (byte for byte when nothing is left out) — plus ``.bz2``, ``.zst``, a
   ``current_repodata.json`` computed for that set, and ``channeldata.json`` when upstream has one.
6. **Remove** files the new index no longer names — only now that it is live (``--keep-removed``
   keeps them).

The result is a :class:`MirrorResult`: what was kept, downloaded, skipped, removed, what failed
and why, and :attr:`MirrorResult.exit_code` — 0 complete, 1 some files failed (they are *not*
in the published index), 2 nothing could be done.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from collections.abc import Iterable, Mapping, Sequence

from conda_deepdive.exceptions import MirrorError
from conda_deepdive.mirror.current_repodata import build_current_repodata
from conda_deepdive.mirror.downloader import (
    DownloadFailed,
    Downloader,
    DownloadJob,
    DownloadOutcome,
    IndexResponse,
    hash_file,
)
from conda_deepdive.mirror.filters import MirrorConfig, apply_filters
from conda_deepdive.mirror.publish import (
    TEMP_MARK,
    PreparedIndex,
    PublishedIndex,
    atomic_write_bytes,
    prepare_index,
    publish_index,
    publish_prepared,
)
from conda_deepdive.mirror.state import UPSTREAM_COPY, MirrorState
from conda_deepdive.reporting import Reporter
from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Failure", "SubdirReport", "MirrorResult", "mirror_channel", "resolve_upstream",
           "default_target", "client_condarc", "check_consistency", "DEFAULTS_NAMES", "PACKAGE_SUFFIXES"]

STAGE = "mirror"
PACKAGE_SUFFIXES = (".conda", ".tar.bz2")
#: channels that live under repo.anaconda.com/pkgs (the seed's ``anaconda/pkgs/<name>``)
DEFAULTS_NAMES = ("main", "free", "pro", "r", "msys2", "mro", "archive")


@value_object(frozen=True)
class Failure:
    """A file (or a whole subdir index) the run could not mirror, and why."""

    subdir: str
    fn: str
    reason: str

    def __repr__(self) -> str:
        return f"Failure({self.subdir}/{self.fn}: {self.reason})"


@value_object(frozen=True)
class SubdirReport:
    """One subdir's numbers: upstream records, kept, downloaded, trusted, failed, removed."""

    subdir: str
    index_status: int
    upstream: int
    kept: int
    published: int
    downloaded: int
    skipped: int
    failed: int
    removed: int
    dropped: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        idx = {200: "new index", 304: "index unchanged (304)", 404: "no index upstream"}.get(
            self.index_status, f"index HTTP {self.index_status}")
        return (f"{self.subdir}: {idx}; {self.upstream} upstream, {self.kept} kept, "
                f"{self.downloaded} downloaded, {self.skipped} already verified, "
                f"{self.failed} failed, {self.removed} removed")

    def summary(self) -> dict:
        return {"subdir": self.subdir, "index_status": self.index_status, "upstream": self.upstream,
                "kept": self.kept, "published": self.published, "downloaded": self.downloaded,
                "skipped": self.skipped, "failed": self.failed, "removed": self.removed,
                "filtered_out": len(self.dropped)}


@value_object(frozen=True)
class MirrorResult:
    """The notebook-ready answer of :func:`mirror_channel` (immutable)."""

    upstream: str
    target: str
    subdirs: tuple[SubdirReport, ...]
    failures: tuple[Failure, ...]
    downloaded_files: int
    downloaded_bytes: int
    skipped: int
    removed: tuple[str, ...]
    published: tuple[PublishedIndex, ...]
    closure_pulled_by: Mapping[str, tuple[str, ...]]
    dry_run: bool
    seconds: float
    planned: tuple[str, ...] = ()
    nothing_done: bool = False

    @property
    def exit_code(self) -> int:
        if self.nothing_done:
            return 2
        return 1 if self.failures else 0

    @property
    def complete(self) -> bool:
        return self.exit_code == 0

    def __repr__(self) -> str:
        verb = "would download" if self.dry_run else "downloaded"
        lines = [f"MirrorResult({self.upstream} -> {self.target}: exit {self.exit_code}, "
                 f"{verb} {self.downloaded_files} files ({_human(self.downloaded_bytes)}), "
                 f"{self.skipped} already verified, {len(self.failures)} failed, "
                 f"{len(self.removed)} removed, {self.seconds:.2f}s)"]
        lines += [f"  {s!r}" for s in self.subdirs]
        lines += [f"  FAILED {f.subdir}/{f.fn}: {f.reason}" for f in self.failures]
        return "\n".join(lines)

    def summary(self) -> dict:
        return {
            "upstream": self.upstream,
            "target": self.target,
            "exit_code": self.exit_code,
            "dry_run": self.dry_run,
            "files_downloaded": self.downloaded_files,
            "bytes_downloaded": self.downloaded_bytes,
            "skipped": self.skipped,
            "failed": [{"subdir": f.subdir, "fn": f.fn, "reason": f.reason} for f in self.failures],
            "removed": list(self.removed),
            "subdirs": [s.summary() for s in self.subdirs],
            "closure": {k: list(v) for k, v in self.closure_pulled_by.items()},
            "planned": list(self.planned),
            "mirror_seconds": round(self.seconds, 3),
        }


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


# ------------------------------------------------------------------------------------------
# where from, where to
# ------------------------------------------------------------------------------------------

def resolve_upstream(value: str, context: Any) -> tuple[str, str, bool]:
    """``main`` / ``conda-forge`` / a URL → (channel URL, channel name, is it a defaults channel).

    A short name that ends one of ``default_channels`` is that channel (``main`` →
    ``…/pkgs/main``); other names resolve as conda resolves them — ``custom_channels``, then
    ``channel_alias`` (the teaching defaults make both point at the bundled channels when
    offline). A local path works too.
    """
    from conda_deepdive.models.channel import Channel

    if "://" not in value and (value.startswith((".", "/", "~")) or os.sep in value and os.path.isdir(value)):
        path = Path(os.path.expanduser(value)).resolve()
        return path.as_uri(), path.name, path.name in DEFAULTS_NAMES
    if value in ("defaults",):
        raise MirrorError("--upstream-channel defaults is a group of channels "
                          f"({', '.join(context.default_channels)}): mirror them one by one, "
                          "e.g. --upstream-channel main")
    if "://" not in value and "/" not in value:
        # a defaults channel by its short name: `main` is repo.anaconda.com/pkgs/main (the
        # default_channels entry), as in the seed's tree, not conda.anaconda.org/main
        for entry in context.default_channels:
            if str(entry).rstrip("/").rsplit("/", 1)[-1] == value and "://" in str(entry):
                return str(entry).rstrip("/"), value, True
        if value in DEFAULTS_NAMES:  # free, pro …: beside the default channels (…/pkgs/<name>)
            for entry in context.default_channels:
                entry = str(entry).rstrip("/")
                if "://" in entry and entry.rsplit("/", 2)[-2] == "pkgs":
                    return f"{entry.rsplit('/', 1)[0]}/{value}", value, True
    channel = Channel.from_value(value, context.channel_config)
    url = channel.base_url
    if not url:
        raise MirrorError(f"Cannot resolve the upstream channel {value!r} to a URL")
    name = url.rstrip("/").rsplit("/", 1)[-1]
    is_defaults = channel.canonical_name == "defaults" or "/pkgs/" in url or name in DEFAULTS_NAMES
    return url.rstrip("/"), name, is_defaults


def default_target(name: str, is_defaults: bool, cwd: str | os.PathLike = ".") -> Path:
    """The seed's tree: ``anaconda/pkgs/<name>`` for defaults channels, else ``anaconda/cloud/<name>``."""
    return Path(cwd).resolve() / "anaconda" / ("pkgs" if is_defaults else "cloud") / name


def client_condarc(target: str | os.PathLike) -> tuple[str, str | None]:
    """The condarc that points conda at this mirror, and why the seed's recipe needs it.

    The seed sets ``channel_alias: file://…/anaconda/pkgs``: every channel *name* becomes
    ``<alias>/<name>``, so ``main``/``free``/``pro`` are found — but ``conda-forge`` lives in
    ``anaconda/cloud``, which the alias does not reach (conda would look for
    ``anaconda/pkgs/conda-forge``). ``custom_channels`` maps that one name to its own root.
    """
    target = Path(target).resolve()
    root, kind, name = target.parent.parent, target.parent.name, target.name
    if root.name != "anaconda" or kind not in ("pkgs", "cloud"):
        text = f"channels:\n  - {target.as_uri()}\n"
        return text, None
    alias = (root / "pkgs").as_uri()
    lines = [f"channel_alias: {alias}"]
    why = None
    if kind == "cloud":
        lines += ["custom_channels:", f"  {name}: {(root / 'cloud').as_uri()}"]
        why = (f"{name} is mirrored under anaconda/cloud, but channel_alias {alias} only reaches "
               f"anaconda/pkgs/<name>: conda would look for anaconda/pkgs/{name} and find nothing. "
               f"custom_channels maps the name {name} to anaconda/cloud.")
    lines += ["channels:", f"  - {name}", "offline: true"]
    return "\n".join(lines) + "\n", why


# ------------------------------------------------------------------------------------------
# the stage
# ------------------------------------------------------------------------------------------

def _indent_of(body: bytes) -> int | None:
    """Upstream's JSON layout, so a filtered index looks like the original (indent or compact)."""
    head = body[:64]
    if head.startswith(b"{\n"):
        rest = head[2:]
        return len(rest) - len(rest.lstrip(b" ")) or 1
    return None


def _empty_noarch() -> dict:
    return {"info": {"subdir": "noarch"}, "packages": {}, "packages.conda": {}, "removed": [],
            "repodata_version": 1}


class _Subdir:
    """Working data of one subdir during a run (not part of the result)."""

    def __init__(self, name: str, directory: Path) -> None:
        self.name, self.dir = name, directory
        self.state = MirrorState.load(directory)
        self.status = 0
        self.body: bytes | None = None
        self.repodata: dict | None = None
        self.packages: dict[str, dict] = {}  # every upstream record
        self.usable: dict[str, dict] = {}  # those that can be mirrored safely
        self.kept: set[str] = set()
        self.dropped: dict[str, str] = {}
        self.present: set[str] = set()
        self.skipped = 0
        self.downloaded = 0
        self.failed = 0
        self.removed: list[str] = []
        self.etag: str | None = None
        self.last_modified: str | None = None


def mirror_channel(
    upstream: str,
    target: str | os.PathLike,
    platforms: Sequence[str],
    *,
    channel: Any = None,
    config: MirrorConfig | None = None,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    closure: Iterable[str] = (),
    include_depends: bool = False,
    num_threads: int = 8,
    max_retries: int = 5,
    timeout: float = 30.0,
    keep_removed: bool = False,
    dry_run: bool = False,
    validate_target: bool = True,
    reporter: Reporter | None = None,
    downloader: Downloader | None = None,
    ssl_verify: Any = True,
    proxies: Mapping[str, str] | None = None,
) -> MirrorResult:
    """Mirror ``upstream`` (a channel URL: ``https://…``, ``http://…`` or ``file://…``) into ``target``.

    See the module docstring for the steps. Never raises for a file that fails (it is listed in
    the result); raises :class:`~conda_deepdive.exceptions.MirrorError` only when no index at all
    could be read.
    """
    from conda_deepdive.models.channel import Channel

    t0 = time.perf_counter()
    reporter = reporter or Reporter()
    upstream = upstream.rstrip("/")
    target = Path(target).resolve()
    channel = channel or Channel.from_value(upstream)
    include, exclude, closure = tuple(include), tuple(exclude), tuple(closure)
    if closure:  # a spec that cannot be read is the user's typo, not "nothing satisfies it"
        from conda_deepdive.models.match_spec import MatchSpec

        for spec in closure:
            MatchSpec(spec)  # raises InvalidMatchSpec: one line on the command line
    names = list(dict.fromkeys([*platforms, "noarch"]))
    reporter.stage_started(STAGE, f"Mirroring {upstream} ({', '.join(names)}) into {target}")
    dl = downloader or Downloader(num_threads=num_threads, max_retries=max_retries, timeout=timeout,
                                  reporter=reporter, stage=STAGE, ssl_verify=ssl_verify, proxies=proxies)
    failures: list[Failure] = []
    subdirs = [_Subdir(n, target / n) for n in names]

    # 1. indexes ------------------------------------------------------------------------
    def get_index(sd: _Subdir) -> IndexResponse | DownloadFailed:
        copy = sd.dir / UPSTREAM_COPY
        etag = sd.state.upstream.get("etag") if copy.exists() else None
        lm = sd.state.upstream.get("last_modified") if copy.exists() else None
        try:
            return dl.get_index(f"{upstream}/{sd.name}/repodata.json", etag, lm)
        except DownloadFailed as exc:
            return exc

    def get_channeldata() -> IndexResponse | None:
        try:
            return dl.get_index(f"{upstream}/channeldata.json")
        except DownloadFailed:
            return None

    # every index (and channeldata.json, used at the end) is requested at once: each is a round
    # trip; the answers are read in order below
    with ThreadPoolExecutor(max_workers=len(subdirs) + 1, thread_name_prefix="mirror-index") as pool:
        channeldata = pool.submit(get_channeldata)
        responses = list(pool.map(get_index, subdirs))
        cd_resp = channeldata.result()
    for sd, resp in zip(subdirs, responses):
        url = f"{upstream}/{sd.name}/repodata.json"
        copy = sd.dir / UPSTREAM_COPY
        if isinstance(resp, DownloadFailed):
            exc = resp
            failures.append(Failure(sd.name, "repodata.json", exc.reason))
            reporter.event(STAGE, "index_failed", subdir=sd.name, reason=exc.reason)
            continue
        sd.status = resp.status
        if resp.status == 404:
            if sd.name == "noarch":
                sd.repodata = _empty_noarch()  # conda needs a noarch/ even when upstream has none
            else:
                failures.append(Failure(sd.name, "repodata.json", f"upstream has no {sd.name} subdir ({url})"))
            reporter.event(STAGE, "index", subdir=sd.name, status=404)
            continue
        sd.body = copy.read_bytes() if resp.status == 304 else resp.body
        sd.etag, sd.last_modified = resp.etag, resp.last_modified
        try:
            sd.repodata = json.loads(sd.body)
            if not isinstance(sd.repodata, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            failures.append(Failure(sd.name, "repodata.json", f"upstream index is not valid JSON ({exc})"))
            sd.repodata, sd.body = None, None
            continue
        shape = _index_shape_problem(sd.repodata)
        if shape:
            failures.append(Failure(sd.name, "repodata.json", f"upstream index is malformed: {shape}"))
            reporter.event(STAGE, "index_failed", subdir=sd.name, reason=f"malformed: {shape}")
            sd.repodata, sd.body = None, None
            continue
        reporter.event(STAGE, "index", subdir=sd.name, status=resp.status, bytes=len(sd.body or b""))

    live = [sd for sd in subdirs if sd.repodata is not None]
    if not any(sd.status in (200, 304) for sd in live):
        dl.close()
        reasons = "; ".join(f"{f.subdir}: {f.reason}" for f in failures) or "no index"
        raise MirrorError(f"Nothing could be mirrored from {upstream}: {reasons}")

    # 2. selection ----------------------------------------------------------------------
    for sd in live:
        rd = sd.repodata or {}
        sd.packages = {**(rd.get("packages") or {}), **(rd.get("packages.conda") or {})}
        # every record is untrusted input: one that could not be mirrored safely (a file name
        # that is a path, a size that is not a number, a checksum that is not hex…) is left out
        # and listed as a failure; the others go on
        sd.usable = {}
        for fn, rec in sd.packages.items():
            problem = record_problem(fn, rec)
            if problem is None:
                sd.usable[fn] = rec
                continue
            failures.append(Failure(sd.name, fn, f"upstream record not mirrored: {problem}"))
            reporter.warning(STAGE, f"{sd.name}/{fn!r}: {problem}: not mirrored")
        selected = apply_filters(sd.usable, config, include, exclude)
        sd.kept, sd.dropped = set(selected.kept), dict(selected.dropped)
        for fn in set(sd.packages) - set(sd.usable):
            sd.dropped[fn] = "malformed upstream record"
    pulled: dict[str, tuple[str, ...]] = {}
    whitelisted_names: list[str] = []
    if include_depends and config is not None and config.whitelist:
        from conda_deepdive.mirror.filters import match_pattern_item

        for sd in live:
            for item in config.whitelist:
                for fn in match_pattern_item(sd.usable, item):
                    whitelisted_names.append(sd.usable[fn]["name"])
    specs = tuple(dict.fromkeys([*closure, *sorted(set(whitelisted_names))]))
    if specs:
        from conda_deepdive.mirror.closure import compute_closure

        platform = next((n for n in names if n != "noarch"), "noarch")
        pool = {sd.name: ({fn: sd.usable[fn] for fn in sd.kept} if not include_depends
                          else sd.usable) for sd in live}
        info = {sd.name: (sd.repodata or {}).get("info") or {} for sd in live}
        result = compute_closure(specs, pool, channel, platform, info)
        for sd in live:
            inside = result.kept.get(sd.name, frozenset())
            if include_depends and not closure:
                sd.kept |= set(inside)  # conda-mirror -D: whitelisted records' dependencies come back
                for fn in inside:
                    sd.dropped.pop(fn, None)
            else:
                for fn in sd.kept - inside:
                    sd.dropped[fn] = "outside the closure of " + " ".join(specs)
                sd.kept &= set(inside)
        pulled = {f"{sd}/{fn}": why for (sd, fn), why in result.pulled_by.items()}
        for spec in result.unsatisfiable:
            reporter.warning(STAGE, f"--closure {spec}: nothing in the upstream index satisfies it")
        reporter.event(STAGE, "closure", specs=list(specs), kept=sum(len(v) for v in result.kept.values()))
    for sd in live:
        reporter.event(STAGE, "selected", subdir=sd.name, upstream=len(sd.packages), kept=len(sd.kept),
                       dropped=len(sd.dropped))

    # 3. plan -----------------------------------------------------------------------------
    jobs: list[DownloadJob] = []
    to_verify: list[tuple[_Subdir, str]] = []
    for sd in live:
        for fn in sorted(sd.kept):
            rec = sd.packages[fn]
            if sd.state.is_verified(fn, rec.get("sha256"), rec.get("md5"), rec.get("size")):
                sd.present.add(fn)
                sd.skipped += 1
            elif (sd.dir / fn).exists() and validate_target and not dry_run:
                to_verify.append((sd, fn))
            elif (sd.dir / fn).exists() and not validate_target:
                sd.present.add(fn)
                sd.skipped += 1
            else:
                jobs.append(_job(upstream, sd, fn, rec))
    if to_verify:
        _verify_existing(to_verify, num_threads, reporter)
        for sd, fn in to_verify:
            if fn in sd.present:
                sd.skipped += 1
            else:
                jobs.append(_job(upstream, sd, fn, sd.packages[fn]))
    total_bytes = sum(j.size or 0 for j in jobs)
    reporter.event(STAGE, "plan", files=len(jobs), bytes=total_bytes,
                   skipped=sum(sd.skipped for sd in live), dry_run=dry_run)
    planned = tuple(f"{j.subdir}/{j.fn}" for j in jobs)
    if dry_run:
        would_remove = []
        for sd in live:
            would_remove += [f"{sd.name}/{fn}" for fn in _package_files(sd.dir) if fn not in sd.kept]
        dl.close()
        result_ = MirrorResult(upstream, str(target), tuple(_report(sd) for sd in subdirs if sd.repodata is not None),
                               tuple(failures), len(jobs), total_bytes, sum(sd.skipped for sd in live),
                               tuple([] if keep_removed else would_remove), (), pulled, True,
                               time.perf_counter() - t0, planned)
        reporter.stage_finished(STAGE, result_)
        return result_

    # 4. downloads ------------------------------------------------------------------------
    by_name = {sd.name: sd for sd in live}
    lock = threading.Lock()
    progress = {"files": 0, "bytes": 0}

    def done(outcome: DownloadOutcome, job: DownloadJob) -> None:
        sd = by_name[job.subdir]
        with lock:
            if outcome.ok:
                sd.present.add(job.fn)
                sd.downloaded += 1
                sd.state.remember(job.fn, job.sha256, job.md5)
                progress["bytes"] += job.size or 0
            else:
                sd.failed += 1
                failures.append(Failure(job.subdir, job.fn, outcome.reason or "failed"))
            progress["files"] += 1
            reporter.progress(STAGE, "files", progress["files"], len(jobs))
            reporter.progress(STAGE, "bytes", progress["bytes"], total_bytes)

    dl.on_done = done
    for sd in live:
        sd.dir.mkdir(parents=True, exist_ok=True)
        # a file that will be *replaced* (upstream rebuilt it under the same name, or the copy
        # here is bad) must leave the live index before its new bytes take its name
        replacing = {j.fn for j in jobs if j.subdir == sd.name and Path(j.dest).exists()}
        if replacing:
            _withdraw(sd.dir, replacing)
    # while the downloads are in flight, one side thread computes each new index as it will be
    # if every download succeeds (JSON, compressions, current_repodata, shard files): the main
    # work there is waiting on the network. Nothing of it is live until step 5 publishes it.
    expected = {sd.name: sd.present | {j.fn for j in jobs if j.subdir == sd.name} for sd in live}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirror-prepare") as side:
        early = {sd.name: side.submit(_prepare, sd, expected[sd.name], channel) for sd in live}
        outcomes = dl.fetch_all(jobs)
    dl.close()
    received = sum(o.received for o in outcomes if o.ok)

    # 5. publish, then 6. remove -------------------------------------------------------------
    published: list[PublishedIndex] = []
    present_names: set[str] = set()
    for sd in live:
        prepared = None
        if sd.present == expected[sd.name]:
            try:
                prepared = early[sd.name].result()
            except Exception:  # computed again below; an error that persists is raised there
                prepared = None
        if prepared is None:  # some downloads failed: the index leaves them out
            prepared = _prepare(sd, sd.present, channel)
        pub = publish_prepared(prepared)
        published.append(pub)
        reporter.event(STAGE, "published", subdir=sd.name, records=pub.records,
                       files=[n for n, _ in pub.files])
        present_names |= {sd.packages[fn]["name"] for fn in sd.present}
        if sd.status == 200 and sd.body is not None:
            atomic_write_bytes(sd.dir / UPSTREAM_COPY, sd.body, fsync=False)
            sd.state.upstream = {"etag": sd.etag, "last_modified": sd.last_modified}
        # the new index is live: only now may files it no longer names go
        failed_here = {f.fn for f in failures if f.subdir == sd.name}
        for fn in _package_files(sd.dir):
            if fn not in sd.present and not keep_removed:
                try:
                    (sd.dir / fn).unlink()
                    sd.removed.append(fn)
                    sd.state.forget(fn)
                except OSError:
                    pass
        for leftover in sd.dir.iterdir():
            name = leftover.name
            if TEMP_MARK in name and not name.endswith(f"{TEMP_MARK}part"):
                _unlink_quiet(leftover)  # a temp file of a killed run
            elif name.endswith(f"{TEMP_MARK}part"):
                fn = name[1: -len(f"{TEMP_MARK}part")]
                if fn not in failed_here or fn not in sd.kept:
                    _unlink_quiet(leftover)  # keep only what a re-run can resume
        for fn in list(sd.state.files):
            if fn not in sd.present:
                sd.state.forget(fn)
        sd.state.save()
        for fn in sd.removed:
            reporter.event(STAGE, "removed", subdir=sd.name, fn=fn)

    # channeldata.json, when upstream has one (restricted to what is mirrored)
    if cd_resp is not None and cd_resp.status == 200 and cd_resp.body:
        try:
            cd = json.loads(cd_resp.body)
            pkgs = cd.get("packages") or {}
            cd["packages"] = {k: v for k, v in pkgs.items() if k in present_names}
            if isinstance(cd.get("subdirs"), list):
                cd["subdirs"] = sorted(set(cd["subdirs"]) | {sd.name for sd in live})
            published.append(publish_index(target / "noarch", None, channeldata=cd))
        except (ValueError, AttributeError):
            reporter.warning(STAGE, "upstream channeldata.json is not valid JSON: not mirrored")

    result_ = MirrorResult(
        upstream, str(target), tuple(_report(sd) for sd in subdirs if sd.repodata is not None),
        tuple(sorted(failures, key=lambda f: (f.subdir, f.fn))), sum(1 for o in outcomes if o.ok), received,
        sum(sd.skipped for sd in live), tuple(f"{sd.name}/{fn}" for sd in live for fn in sd.removed),
        tuple(published), pulled, False, time.perf_counter() - t0, planned)
    reporter.stage_finished(STAGE, result_)
    return result_


def _prepare(sd: _Subdir, present: set[str], channel: Any) -> PreparedIndex:
    """The index of ``sd`` naming exactly the files in ``present``, computed (not yet live)."""
    rd = sd.repodata or {}
    if present == set(sd.packages) and sd.body is not None:
        doc, raw = rd, sd.body  # nothing left out: serve upstream's bytes as they are
    else:
        doc = {k: ({fn: r for fn, r in v.items() if fn in present}
                   if k in ("packages", "packages.conda") and isinstance(v, dict) else v)
               for k, v in rd.items()}
        raw = None
    current = build_current_repodata(doc, channel, sd.name)
    return prepare_index(sd.dir, doc, raw=raw, indent=_indent_of(sd.body or b"{\n  "),
                         current_repodata=current)


def _withdraw(directory: Path, fns: set[str]) -> None:
    """Re-publish the live index of ``directory`` without ``fns`` (before they are replaced)."""
    try:
        live = json.loads((directory / "repodata.json").read_bytes())
    except (OSError, ValueError):
        return
    names = set((live.get("packages") or {})) | set((live.get("packages.conda") or {}))
    if not names & fns:
        return
    doc = {k: ({fn: r for fn, r in v.items() if fn not in fns}
               if k in ("packages", "packages.conda") and isinstance(v, dict) else v)
           for k, v in live.items()}
    try:
        current = json.loads((directory / "current_repodata.json").read_bytes())
        current = {k: ({fn: r for fn, r in v.items() if fn not in fns}
                       if k in ("packages", "packages.conda") and isinstance(v, dict) else v)
                   for k, v in current.items()}
    except (OSError, ValueError):
        current = None
    publish_index(directory, doc, current_repodata=current)


_HEX = frozenset("0123456789abcdefABCDEF")


def _index_shape_problem(repodata: Mapping[str, Any]) -> str | None:
    """What makes an upstream ``repodata.json`` unusable as a whole (None: its shape is fine)."""
    for key in ("packages", "packages.conda"):
        value = repodata.get(key)
        if value is not None and not isinstance(value, dict):
            return f"{key!r} is a {type(value).__name__}, not an object"
    if repodata.get("info") is not None and not isinstance(repodata.get("info"), dict):
        return "'info' is not an object"
    return None


def record_problem(fn: object, rec: object) -> str | None:
    """Why one upstream record cannot be mirrored safely, or None.

    The file name becomes a path (it must be a plain package file name); name, version and
    build are compared with the archive's ``info/index.json``; size bounds the download and the
    checksums verify it.
    """
    if not is_plain_package_fn(fn):
        return "its file name is not a plain package file name (a path?)"
    if not isinstance(rec, dict):
        return f"the record is a {type(rec).__name__}, not an object"
    for key in ("name", "version", "build"):
        if not isinstance(rec.get(key), str) or not rec.get(key):
            return f"{key!r} is missing or not a string"
    size = rec.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        return f"'size' is {size!r}, not a byte count"
    for key, length in (("sha256", 64), ("md5", 32)):
        value = rec.get(key)
        if value is not None and (not isinstance(value, str) or len(value) != length or not set(value) <= _HEX):
            return f"{key!r} is not {length} hex digits"
    for key in ("depends", "constrains", "track_features"):
        value = rec.get(key)
        if key == "track_features" and isinstance(value, str):
            continue
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            return f"{key!r} is not a list of strings"
    return None


def is_plain_package_fn(fn: object) -> bool:
    """A package file name that is safe to join to a directory: ``name-version-build.conda`` or
    ``.tar.bz2``, no separator, no leading dot, nothing that could climb out of the subdir."""
    return (isinstance(fn, str) and fn.endswith(PACKAGE_SUFFIXES) and not fn.startswith(".")
            and not any(c in fn for c in ("/", "\\", "\0")) and len(fn) <= 255)


def _job(upstream: str, sd: _Subdir, fn: str, rec: Mapping[str, Any]) -> DownloadJob:
    return DownloadJob(f"{upstream}/{sd.name}/{fn}", str(sd.dir / fn), sd.name, fn, rec.get("size"),
                       rec.get("sha256"), rec.get("md5"), rec.get("name"), rec.get("version"),
                       rec.get("build"))


def _report(sd: _Subdir) -> SubdirReport:
    return SubdirReport(sd.name, sd.status, len(sd.packages), len(sd.kept), len(sd.present),
                        sd.downloaded, sd.skipped, sd.failed, len(sd.removed), dict(sd.dropped))


def _package_files(directory: Path) -> list[str]:
    try:
        return sorted(p.name for p in directory.iterdir()
                      if p.name.endswith(PACKAGE_SUFFIXES) and not p.name.startswith("."))
    except OSError:
        return []


def _unlink_quiet(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _verify_existing(items: list[tuple[_Subdir, str]], num_threads: int, reporter: Reporter) -> None:
    """Hash files that are in the mirror but not in the state file (once; then they are known)."""
    lock = threading.Lock()

    def check(item: tuple[_Subdir, str]) -> None:
        sd, fn = item
        rec = sd.packages[fn]
        algos = ("sha256",) if rec.get("sha256") else ("md5",)
        try:
            size, digests = hash_file(sd.dir / fn, algos)
        except OSError:
            return
        ok = (rec.get("size") in (None, size)) and (
            digests.get("sha256") == rec.get("sha256") if rec.get("sha256") else digests.get("md5") == rec.get("md5"))
        with lock:
            if ok:
                sd.present.add(fn)
                sd.state.remember(fn, rec.get("sha256"), rec.get("md5"))
            reporter.event(STAGE, "verified_existing", subdir=sd.name, fn=fn, ok=ok)

    with ThreadPoolExecutor(max_workers=max(1, num_threads)) as pool:
        list(pool.map(check, items))


def check_consistency(target: str | os.PathLike, *, verify_hashes: bool = True,
                      attempts: int = 20) -> list[str]:
    """Everything wrong with a mirror *as a client sees it right now* (empty list: consistent).

    For every subdir with a ``repodata.json``: each file the index names must exist with the
    declared size (and sha256/md5 when ``verify_hashes``); ``current_repodata.json`` may only
    name files ``repodata.json`` names. Safe to run while a sync is in progress — that is the
    point: the answer must be "consistent" at every instant.

    "An instant" needs care: reading an index and then checking its files takes a while, and a
    sync may publish a new index (and delete what it no longer names) in between. Such a pass
    saw two different moments, so it is repeated (up to ``attempts`` times) until the index
    files are the same before and after it.
    """
    problems: list[str] = []
    root = Path(target)
    for index in sorted(root.glob("*/repodata.json")):
        subdir = index.parent
        for _ in range(max(1, attempts)):
            before = _index_identity(subdir)
            found = _check_subdir(subdir, verify_hashes)
            if _index_identity(subdir) == before:
                break
        problems.extend(found)
    return problems


def _index_identity(subdir: Path) -> tuple:
    """Which index files are live in ``subdir`` (a publish replaces them: new inodes)."""
    out = []
    for name in ("repodata.json", "current_repodata.json"):
        try:
            st = (subdir / name).stat()
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


def _check_subdir(subdir: Path, verify_hashes: bool) -> list[str]:
    problems: list[str] = []
    index = subdir / "repodata.json"
    try:
        repodata = json.loads(index.read_bytes())
    except (OSError, ValueError) as exc:
        return [f"{subdir.name}/repodata.json unreadable: {exc}"]
    entries = {**(repodata.get("packages") or {}), **(repodata.get("packages.conda") or {})}
    for fn, rec in entries.items():
        path = subdir / fn
        try:
            size = path.stat().st_size
        except OSError:
            problems.append(f"{subdir.name}/{fn} is in the index but missing")
            continue
        if rec.get("size") is not None and size != rec["size"]:
            problems.append(f"{subdir.name}/{fn} has {size} bytes, the index says {rec['size']}")
            continue
        if verify_hashes:
            algo = "sha256" if rec.get("sha256") else "md5"
            if rec.get(algo):
                try:
                    _, digests = hash_file(path, (algo,))
                except OSError:
                    problems.append(f"{subdir.name}/{fn} is in the index but missing")
                    continue
                if digests[algo] != rec[algo]:
                    problems.append(f"{subdir.name}/{fn}: {algo} differs from the index")
    current = subdir / "current_repodata.json"
    if current.exists():
        try:
            cur = json.loads(current.read_bytes())
        except (OSError, ValueError) as exc:
            problems.append(f"{subdir.name}/current_repodata.json unreadable: {exc}")
            return problems
        for fn in {**(cur.get("packages") or {}), **(cur.get("packages.conda") or {})}:
            if not (subdir / fn).exists():
                problems.append(f"{subdir.name}/current_repodata.json names missing {fn}")
    return problems
