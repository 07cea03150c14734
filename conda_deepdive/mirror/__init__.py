"""Stage 8 (outside conda install): the channel mirror — ``conda-deepdive mirror``.

conda-mirror's job (copy a channel's subdirs into a local tree that conda can use offline),
done the way a package manager should: verified, parallel, atomic at every instant, incremental.

* :mod:`~conda_deepdive.mirror.conda_mirror` — the stage: :func:`mirror_channel` and its
  :class:`MirrorResult` (conda-mirror's ``conda_mirror.main``);
* :mod:`~conda_deepdive.mirror.filters` — conf.yaml ``blacklist``/``whitelist`` read exactly as
  conda-mirror reads them, plus MatchSpec ``--include``/``--exclude``;
* :mod:`~conda_deepdive.mirror.closure` — ``--closure SPEC``: the solver's reduced index;
* :mod:`~conda_deepdive.mirror.downloader` — parallel streaming downloads that check what they get;
* :mod:`~conda_deepdive.mirror.publish` — the one door every index file goes through;
* :mod:`~conda_deepdive.mirror.current_repodata` — ``current_repodata.json`` as conda-index builds it;
* :mod:`~conda_deepdive.mirror.state` — what was already verified (size + mtime), HTTP validators.

Import the submodules directly; this package re-exports nothing.
"""
