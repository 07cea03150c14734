"""``conda config --show`` and ``--show-sources`` (conda: ``conda.cli.main_config``).

``--show-sources`` is the best window onto stage 2: one ``==> source <==`` block per condarc
file that was read, then ``envvars`` (the ``CONDA_*`` variables), then ``cmd_line`` (flags).
``--show [KEY ...]`` prints the *merged* values that the rest of the pipeline will use.
Only reading is supported; writing condarc files (``--add``, ``--set`` …) is not simulated.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Mapping


def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> int:
    from conda_deepdive.config.condarc import format_dict, jsonable
    from conda_deepdive.config.context import SETTINGS, Context
    from conda_deepdive.exceptions import ArgumentError, CondaValueError

    context = Context.load(args=args, env=env)
    as_json = bool(getattr(args, "json", None))
    if getattr(args, "show_sources", None):
        if as_json:
            _print_json({source: jsonable(values) for source, values in context.collect_all().items()})
        else:
            sys.stdout.write(context.show_sources())
        return 0
    if getattr(args, "show", None) is not None:
        known = [s.name for s in SETTINGS]
        wanted = list(args.show) or sorted(known)
        unknown = [k for k in wanted if k not in context.names]
        if unknown:
            listed = "".join(f"\n  - {k}" for k in unknown)
            raise ArgumentError(f"Invalid configuration parameters: {listed}")
        values = {name: getattr(context, name) for name in sorted(wanted)}
        if as_json:
            _print_json(jsonable(values))
        else:
            sys.stdout.write("\n".join(format_dict(values)) + "\n")
        return 0
    raise CondaValueError("conda-deepdive config only reads configuration: use --show [KEY ...] "
                          "or --show-sources")


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
