"""The "## Package Plan ##" text conda prints before it asks "Proceed ([y]/n)?".

conda counterpart: ``UnlinkLinkTransaction._calculate_change_report`` and ``_change_report_str``
in ``conda.core.link``.

Packages are sorted into sections by comparing what is unlinked with what is linked, name by name:
*NEW* (only linked), *REMOVED* (only unlinked), *UPDATED* (higher version, or same version and
higher build number), *DOWNGRADED* (otherwise, same channel and subdir), *SUPERSEDED* (otherwise:
the channel changed). Sizes use conda's rounding (``human_bytes``).

What to notice: the report lists *changes*, not actions. A package that is unlinked and linked
again as the very same record — conda's record identity, ``_pkey``: canonical channel, subdir,
name, version, build number, build — appears in no section. That happens to every package named
with ``--force-reinstall`` (``solve.diff_for_unlink_link_precs`` puts it in both lists) and to
``noarch: python`` packages relinked for a new python. So ``install --force-reinstall zlib``
prints only the header (plus a download table if zlib is not in the package cache), although
``--json`` shows zlib under both UNLINK and LINK and the environment really is relinked: conda's
report has no "REINSTALLED" heading (that is apt's wording).
"""

from __future__ import annotations


from conda_deepdive.link.link import dist_name_of, dist_str, record_id
from conda_deepdive.fetch.package_cache import record_value

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["change_report", "human_bytes"]


def human_bytes(n: int) -> str:
    """conda's size display: ``512 B``, ``4 KB``, ``1.5 MB``, ``2.00 GB``."""
    if n < 1024:
        return "%d B" % n
    k = n / 1024
    if k < 1024:
        return "%d KB" % round(k)
    m = k / 1024
    if m < 1024:
        return "%.1f MB" % m
    return "%.2f GB" % (m / 1024)


def change_report(prefix: str, setup: Any, download_urls: set) -> str:
    """The text conda prints for one prefix (``_change_report_str``)."""
    from conda_deepdive.models.version import VersionOrder

    name = lambda p: record_value(p, "name")  # noqa: E731
    unlink_map = {name(p): p for p in setup.unlink_precs}
    link_map = {name(p): p for p in setup.link_precs}
    removed = {n: unlink_map[n] for n in set(unlink_map) - set(link_map)}
    new = {n: link_map[n] for n in set(link_map) - set(unlink_map)}
    updated, downgraded, superseded = {}, {}, {}
    for n in set(link_map) & set(unlink_map):
        old, nxt = unlink_map[n], link_map[n]
        old_v, new_v = VersionOrder(str(old.version)), VersionOrder(str(nxt.version))
        if new_v > old_v or (new_v == old_v and nxt.build_number > old.build_number):
            updated[n] = (old, nxt)
        elif _chan_name(old) == _chan_name(nxt) and old.subdir == nxt.subdir:
            if _record_key(old) == _record_key(nxt):
                continue  # the same record relinked (--force-reinstall, noarch: python): no change
            downgraded[n] = (old, nxt)
        else:
            superseded[n] = (old, nxt)
    fetch = [p for p in setup.link_precs if record_value(p, "url") in download_urls]

    def dashlist(items):
        return "".join(f"\n    - {i}" for i in items)

    b = ["", "## Package Plan ##\n", f"  environment location: {prefix}", ""]
    if setup.remove_specs:
        b += [f"  removed specs:{dashlist(sorted(str(s) for s in setup.remove_specs))}", ""]
    if setup.update_specs:
        b += [f"  added / updated specs:{dashlist(sorted(str(s) for s in setup.update_specs))}", ""]
    if fetch:
        b.append("\nThe following packages will be downloaded:\n")
        fmt = "    %-27s|%17s"
        b += [fmt % ("package", "build"), fmt % ("-" * 27, "-" * 17)]
        total = 0
        for p in sorted(fetch, key=name):
            size = record_value(p, "size") or 0
            total += size
            line = fmt % (f"{p.name}-{p.version}", p.build) + "%15s" % human_bytes(size)
            chan = _canonical(p)
            if chan and chan != "defaults":
                line += "  " + chan
            b.append(line)
        b.append(" " * 4 + "-" * 60)
        b.append(" " * 43 + "Total: %14s" % human_bytes(total))

    def single(key, text):
        key = key if len(key) <= 18 else key[:17] + "~"
        b.append("  %-18s %s" % (key, text))

    def double(key, left, right):
        key = key if len(key) <= 18 else key[:17] + "~"
        left = left if len(left) <= 38 else left[:37] + "~"
        b.append("  %-18s %38s --> %s" % (key, left, right))

    def meta(p):
        return " ".join(getattr(p, "metadata", None) or ())

    if new:
        b.append("\nThe following NEW packages will be INSTALLED:\n")
        for n in sorted(new):
            single(n, f"{record_id(new[n])} {meta(new[n])}")
    if removed:
        b.append("\nThe following packages will be REMOVED:\n")
        for n in sorted(removed):
            b.append(f"  {dist_name_of(removed[n])}")
    for title, table in (("UPDATED", updated), ("SUPERSEDED by a higher-priority channel", superseded),
                         ("DOWNGRADED", downgraded)):
        if table:
            b.append(f"\nThe following packages will be {title}:\n")
            for n in sorted(table):
                left, right = _diff_strs(*table[n])
                double(n, left, f"{right} {meta(table[n][1])}")
    b += ["", ""]
    return "\n".join(b)


def _chan_name(rec: Any) -> str | None:
    channel = record_value(rec, "channel")
    return getattr(channel, "name", None) if channel is not None and not isinstance(channel, str) else channel


def _record_key(rec: Any) -> tuple:
    """conda's record identity (``PackageRecord._pkey``, without the optional ``fn`` that only
    ``separate_format_cache`` adds): two records with equal keys are the same package build."""
    # dist_str(with_subdir=True) is "canonical/subdir::name-version-build"; the build number is
    # the one field of the key it does not show
    return dist_str(rec, True), int(record_value(rec, "build_number") or 0)


def _canonical(rec: Any) -> str | None:
    channel = record_value(rec, "channel")
    if channel is not None and not isinstance(channel, str):
        return getattr(channel, "canonical_name", None)
    return channel


def _diff_strs(old: Any, new: Any) -> tuple[str, str]:
    channel_change = _chan_name(old) != _chan_name(new)
    subdir_change = old.subdir != new.subdir
    version_change = str(old.version) != str(new.version)
    build_change = old.build != new.build
    left, right = [], []
    if channel_change or subdir_change:
        if _chan_name(old) is not None:
            left.append(_chan_name(old))
        if _chan_name(new) is not None:
            right.append(_chan_name(new))
    if subdir_change:
        left.append("/" + old.subdir)
        right.append("/" + new.subdir)
    if (channel_change or subdir_change) and (version_change or build_change):
        left.append("::" + old.name + "-")
        right.append("::" + new.name + "-")
    if version_change or build_change:
        left.append(f"{old.version}-{old.build}")
        right.append(f"{new.version}-{new.build}")
    return "".join(left), "".join(right)
