"""Stage 8, fetch and extract through the package cache (conda: ``conda.core.package_cache_data``,
``conda.gateways.disk.read``, conda-package-handling).

Each package to link must be in a package cache (``pkgs_dirs``): downloaded once
(:class:`CacheUrlAction`, checked against the record's size and sha256/md5) and extracted once
(:class:`ExtractPackageAction`) into ``<pkgs>/<name>-<version>-<build>/`` with an
``info/repodata_record.json``. :class:`ProgressiveFetchExtract` plans both for a transaction.

* ``package_cache.py`` — :class:`PackageCacheData` (what is in a cache) and its records;
* ``fetch_extract.py`` — the download and extraction actions, safe extraction of ``.conda`` and
  ``.tar.bz2`` archives.

What to notice: a second install of the same package downloads nothing — a cache hit.

Exports: ``PackageCacheData``, ``PackageCacheEntry``, ``ProgressiveFetchExtract``,
``CacheUrlAction``, ``ExtractPackageAction``.
"""

from conda_deepdive import lazy_exports

_WHERE = {
    "PackageCacheData": "package_cache",
    "PackageCacheEntry": "package_cache",
    "ProgressiveFetchExtract": "fetch_extract",
    "CacheUrlAction": "fetch_extract",
    "ExtractPackageAction": "fetch_extract",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
