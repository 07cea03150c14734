"""Install packages into an environment (``conda install``; conda: ``conda.cli.main_install``).

Like conda, this module is only a door: the shared logic of create/install/update/remove lives
in :func:`conda_deepdive.cli.install.install`, imported when the command actually runs.
"""

from __future__ import annotations

from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any


def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> Any:
    """Run ``install`` for the parsed ``args`` (``env`` replaces ``os.environ`` when given)."""
    from conda_deepdive.cli.install import install

    return install(args, parser, "install", env)
