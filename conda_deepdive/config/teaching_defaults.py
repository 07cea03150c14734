"""Where the embedded teaching channels live, and the built-in settings that point conda at them.

Real conda's built-in defaults send you to ``https://repo.anaconda.com/pkgs/main`` and
``https://conda.anaconda.org/<name>``. conda-deepdive works offline by default, so its built-in
layer of settings (shown as ``teaching defaults`` in ``config --show-sources``) points the same
*names* at the channels shipped inside the package, in ``conda_deepdive/data/channels`` — laid
out like a conda-mirror tree:

* ``defaults`` → ``pkgs/main`` and ``pkgs/free`` (``default_channels``),
* any other name → ``channel_alias`` = ``file://…/data/channels/pkgs`` (so ``-c free`` works),
* ``conda-forge`` → ``custom_channels`` → ``file://…/data/channels/cloud/conda-forge``.

The channels and the recipes they are built from are *package data*: a wheel carries them and
they are found with :mod:`importlib.resources`, so an installed copy works from any directory.
Channel URLs are ``file://`` URLs, so the data must be real files on disk; when the package is
imported from a zip, :func:`importlib.resources.as_file` extracts it once for the process.

A condarc, a ``CONDA_*`` variable or a flag that sets these wins, as any higher layer does; set
``CONDA_DEEPDIVE_REAL_DEFAULTS=1`` to start from conda's real built-in defaults instead.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only
    from pathlib import Path

__all__ = ["data_dir", "channels_dir", "recipes_dir", "teaching_settings", "teaching_enabled"]


@functools.cache
def _data_dir_on_disk() -> str | None:
    """``conda_deepdive/data`` as a plain string when it is a folder beside the package's
    ``__init__.py`` (a regular install or a checkout), else ``None``. Every run needs it for
    the teaching layer's URLs; as a string it costs no pathlib import."""
    import conda_deepdive

    origin = getattr(conda_deepdive, "__file__", None)
    if origin:
        folder = os.path.join(os.path.dirname(origin), "data")
        if os.path.isdir(folder):
            return folder
    return None


@functools.cache
def data_dir() -> Path:
    """``conda_deepdive/data``: the package data (teaching channels and their recipes)."""
    from pathlib import Path

    # a regular install or a checkout: the files are already on disk, beside the package's
    # __init__.py (what importlib.resources.files answers too, without importing its machinery)
    on_disk = _data_dir_on_disk()
    if on_disk is not None:
        return Path(on_disk)
    import atexit
    import contextlib
    from importlib import resources

    root = resources.files("conda_deepdive") / "data"
    if isinstance(root, Path):
        return root
    # imported from a zip: extract once, keep the copy until the interpreter exits
    stack = contextlib.ExitStack()
    atexit.register(stack.close)
    return Path(stack.enter_context(resources.as_file(root)))


def channels_dir() -> Path:
    """The committed teaching channels (``conda_deepdive/data/channels``); every caller uses this."""
    return data_dir() / "channels"


def recipes_dir() -> Path:
    """The YAML recipes the teaching channels are built from (``conda_deepdive/data/recipes``)."""
    return data_dir() / "recipes"


def teaching_enabled(env: Mapping[str, str]) -> bool:
    return env.get("CONDA_DEEPDIVE_REAL_DEFAULTS", "").strip().lower() not in ("1", "true", "yes")


def _channels_uri() -> str:
    """``channels_dir().as_uri()``: ``file://`` and the path percent-encoded (``/`` kept)."""
    on_disk = _data_dir_on_disk()
    if on_disk is not None and os.path.isabs(on_disk):
        from conda_deepdive.models.urls import quote

        try:
            return "file://" + quote(os.path.join(on_disk, "channels"), safe="/")
        except UnicodeEncodeError:  # a path that is not UTF-8 text: as pathlib writes it
            pass
    return channels_dir().as_uri()


def teaching_settings() -> dict:
    """The settings of the ``teaching defaults`` layer (below every condarc file)."""
    root = _channels_uri()
    return {
        "channel_alias": f"{root}/pkgs",
        "default_channels": [f"{root}/pkgs/main", f"{root}/pkgs/free"],
        "custom_channels": {"conda-forge": f"{root}/cloud"},
    }
