"""Stage 2, the Context: every setting, and where each value came from (conda: ``conda.base.context``,
``conda.common.configuration``).

conda reads its settings in layers — built-in defaults, condarc files along the search path,
``CONDA_*`` environment variables, command-line flags — and the highest layer that sets a value
wins (sequences such as ``channels`` are merged instead). conda keeps one global ``context``;
here a :class:`Context` is an object you pass explicitly, so a notebook can hold two side by side.

* ``context.py`` — :class:`Context`, its settings and ``source_of(name)`` (provenance);
* ``condarc.py`` — condarc files, the search path, the merge rules (``conda.common.configuration``);
* ``teaching_defaults.py`` — the built-in layer that points ``defaults`` at the offline teaching
  channels shipped with the package.

What to notice: ``context.source_of("channels")`` names the file, variable or flag that won.

Exports: ``Context``, ``SETTINGS``, ``host_subdir``, ``ConfigurationFile``, ``SEARCH_PATH``,
``channels_dir``, ``teaching_settings``.
"""

from conda_deepdive import lazy_exports

_WHERE = {
    "Context": "context",
    "SETTINGS": "context",
    "host_subdir": "context",
    "ConfigurationFile": "condarc",
    "SEARCH_PATH": "condarc",
    "channels_dir": "teaching_defaults",
    "teaching_settings": "teaching_defaults",
}

__all__ = sorted(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
