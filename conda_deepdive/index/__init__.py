"""Stage 3, the index: what the channels offer and what the prefix already has (conda:
``conda.core.subdir_data``, ``conda.core.index``, ``conda.gateways.repodata``,
``conda.core.prefix_data``, ``conda.history``, ``conda.plugins.virtual_packages``).

For every channel × subdir (the platform's and ``noarch``) conda fetches ``repodata.json`` — first
``current_repodata.json``, the newest versions only — through an HTTP cache (ETag,
``Last-Modified``, ``Cache-Control: max-age``, a ``304`` means "use the cached copy"). Records are
built lazily, name by name. The solver's world also contains the installed packages
(``conda-meta/*.json``), the environment's ``history`` and the virtual packages (``__glibc``,
``__osx``, ``__cuda``…) that describe the machine.

* ``subdir_data.py`` — one channel × subdir: fetch, parse, lazy records (:class:`SubdirData`);
* ``repodata_cache.py`` — the HTTP cache and its ``.info.json`` state files;
* ``record_store.py`` — records built on first lookup; ``gc_policy.py`` — the CLI's GC policy;
* ``index.py`` — all channels together (:class:`Index`, :func:`fetch_index`);
* ``virtual_packages.py``, ``prefix_data.py`` (:class:`PrefixData`), ``history.py`` (:class:`History`).

What to notice: the trace's cache column — a second run reads the cache, an expired one revalidates.

Exports: ``Index``, ``fetch_index``, ``SubdirData``, ``FetchInfo``, ``RepodataCache``,
``PrefixData``, ``History``, ``virtual_packages``.
"""

from conda_deepdive import lazy_exports

_WHERE = {
    "Index": "index",
    "fetch_index": "index",
    "SubdirData": "subdir_data",
    "FetchInfo": "subdir_data",
    "RepodataCache": "repodata_cache",
    "PrefixData": "prefix_data",
    "History": "history",
    "virtual_packages": "virtual_packages",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
