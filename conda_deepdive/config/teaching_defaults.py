"""Where the embedded teaching channels live, and the built-in settings that point conda at them.

Real conda's built-in defaults send you to ``https://repo.anaconda.com/pkgs/main`` and
``https://conda.anaconda.org/<name>``. conda-deepdive works offline by default, so its built-in
layer of settings (shown as ``teaching defaults`` in ``config --show-sources``) points the same
*names* at the channels shipped in ``data/channels`` — laid out like a conda-mirror tree:

* ``defaults`` → ``pkgs/main`` and ``pkgs/free`` (``default_channels``),
* any other name → ``channel_alias`` = ``file://…/data/channels/pkgs`` (so ``-c free`` works),
* ``conda-forge`` → ``custom_channels`` → ``file://…/data/channels/cloud/conda-forge``.

A condarc, a ``CONDA_*`` variable or a flag that sets these wins, as any higher layer does; set
``CONDA_DEEPDIVE_REAL_DEFAULTS=1`` to start from conda's real built-in defaults instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

__all__ = ["project_root", "channels_dir", "teaching_settings", "teaching_enabled"]


def project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def channels_dir() -> Path:
    """``data/channels`` of this checkout (the committed teaching channels)."""
    return project_root() / "data" / "channels"


def teaching_enabled(env: Mapping[str, str]) -> bool:
    return env.get("CONDA_DEEPDIVE_REAL_DEFAULTS", "").strip().lower() not in ("1", "true", "yes")


def teaching_settings() -> dict:
    """The settings of the ``teaching defaults`` layer (below every condarc file)."""
    root = channels_dir().as_uri()
    return {
        "channel_alias": f"{root}/pkgs",
        "default_channels": [f"{root}/pkgs/main", f"{root}/pkgs/free"],
        "custom_channels": {"conda-forge": f"{root}/cloud"},
    }
