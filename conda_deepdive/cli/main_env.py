"""``conda env list``: an alias of ``conda info --envs`` (conda: ``conda.cli.main_env_list``).

conda registers ``env list`` with ``func=conda.cli.main_info.execute`` and the defaults of
``info --envs`` (``envs=True``, everything else off); the parser does the same here, and this
door only forwards to :mod:`conda_deepdive.cli.main_info`. Only ``env list`` is simulated among
the ``conda env`` sub-commands.
"""

from __future__ import annotations

from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any


def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> int:
    """Run ``env list`` (= ``info --envs``; ``--json`` gives ``envs`` and ``envs_details``)."""
    from conda_deepdive.cli.main_info import execute as info_execute

    return info_execute(args, parser, env=env)
