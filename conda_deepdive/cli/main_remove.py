"""Remove packages (``conda remove`` / ``conda uninstall``; conda: ``conda.cli.main_remove``).

Like conda, this module is only a door: the shared logic of create/install/update/remove lives
in :func:`conda_deepdive.cli.install.install`, imported when the command actually runs.
"""

from __future__ import annotations

from typing import Any, Mapping


def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> Any:
    """Run ``remove`` for the parsed ``args`` (``env`` replaces ``os.environ`` when given)."""
    from conda_deepdive.cli.install import install

    return install(args, parser, "remove", env)
