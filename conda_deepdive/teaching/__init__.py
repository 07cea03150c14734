"""The teaching channels: a miniature, offline, fully reproducible conda repository.

``python -m conda_deepdive trace install numpy`` needs channels to read. Instead of downloading
anaconda.org, the project ships three small channels laid out like a conda mirror
(``conda_deepdive/data/channels/pkgs/main``, ``pkgs/free`` and ``cloud/conda-forge``), generated from the
YAML recipes in ``conda_deepdive/data/recipes/`` by this package:

* :mod:`.recipes` — recipe YAML → :class:`~.recipes.PackageSpec` (conda-build's job, in small);
* :mod:`.archive` — ``.tar.bz2`` and ``.conda`` archives with a real ``info/`` directory;
* :mod:`.indexer` — ``repodata.json``, ``current_repodata.json``, ``channeldata.json``
  (conda-index's job);
* :mod:`.build` — ``build_all(out_dir)`` and the ``python -m conda_deepdive.teaching.build`` entry.

The packages are real and runnable: a miniature ``python`` that runs the host interpreter, a
pure-python ``numpy`` stand-in, console entry points, link scripts, prefix placeholders, and a
few deliberate traps (see ``docs/teaching-channel.md``).
"""

__all__ = ["build_all"]


def build_all(*args, **kwargs):
    """Build every teaching channel (see :func:`conda_deepdive.teaching.build.build_all`)."""
    from conda_deepdive.teaching.build import build_all as _build_all

    return _build_all(*args, **kwargs)
