"""``conda config --show`` and ``--show-sources`` (conda: ``conda.cli.main_config``).

``--show-sources`` is the best window onto stage 2: one ``==> source <==`` block per source,
lowest precedence first — conda-deepdive's built-in ``teaching defaults`` (the channel settings
that point at the bundled teaching channels; absent with ``CONDA_DEEPDIVE_REAL_DEFAULTS=1``),
each condarc file that was read, ``envvars`` (the ``CONDA_*`` variables), then ``cmd_line``
(flags). So even a clean machine shows one block. The layout is conda's (its ``format_dict``,
a blank line after each block; ``--json``: one object, source → settings).
``--show [KEY ...]`` prints the *merged* values that the rest of the pipeline will use.

Writing is conda's ``ConfigurationFile`` (:class:`conda_deepdive.config.condarc.ConfigurationFile`):
``--set KEY VALUE``, ``--add``/``--prepend``, ``--append``, ``--remove KEY VALUE``,
``--remove-key KEY`` and ``--get [KEY ...]`` edit (or read) *one* file — ``~/.condarc`` unless
``--file``, ``--env`` or ``--system`` says otherwise — round-trip with ruamel.yaml, so comments
and key order survive. Notice that conda edits the *file*, not the merged configuration: in conda
26.7.1 ``--remove channels defaults`` fails when the file's ``channels`` never listed
``defaults``, even though the merged value did until the first ``--add``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any


def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> int:
    from conda_deepdive.config.condarc import format_dict, jsonable
    from conda_deepdive.config.context import SETTINGS, Context
    from conda_deepdive.exceptions import ArgumentError, CondaValueError

    context = Context.load(args=args, env=env)
    as_json = bool(getattr(args, "json", None))
    if getattr(args, "show_sources", None):
        sources = _all_sources(context, env)
        if as_json:
            _print_json({source: jsonable(values) for source, values in sources.items()})
        else:
            lines: list[str] = []
            for source, values in sources.items():
                lines.append(f"==> {source} <==")
                lines.extend(format_dict(values))
                lines.append("")
            sys.stdout.write("\n".join(lines) + "\n")  # conda print()s the joined blocks
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
    if not _modifies(args):
        raise CondaValueError("conda-deepdive config: give --show [KEY ...], --show-sources, --get "
                              "[KEY ...], --set, --add/--prepend, --append, --remove or --remove-key")
    return _modify(args, context, env)


def _all_sources(context: Any, env: Mapping[str, str] | None) -> dict[str, dict[str, Any]]:
    """conda's ``context.collect_all()`` with the built-in teaching layer in front of it."""
    import os

    from conda_deepdive.config.context import TEACHING_SOURCE
    from conda_deepdive.config.teaching_defaults import teaching_enabled, teaching_settings

    sources: dict[str, dict[str, Any]] = {}
    if teaching_enabled(os.environ if env is None else env):
        sources[TEACHING_SOURCE] = teaching_settings()
    sources.update(context.collect_all())
    return sources


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _modifies(args: Any) -> bool:
    return any((getattr(args, "get", None) is not None, getattr(args, "set", None),
                getattr(args, "prepend", None), getattr(args, "append", None),
                getattr(args, "remove", None), getattr(args, "remove_key", None)))


def _rc_path(args: Any, context: Any, env: Mapping[str, str] | None) -> str:
    """conda's choice of file: --system, --env (the active env, else the user file), --file,
    else ``~/.condarc`` (``HOME`` from the passed environment; ``CONDARC`` is only *read*)."""
    import os

    environ = dict(os.environ if env is None else env)
    home = environ.get("HOME") or os.path.expanduser("~")
    user_rc = os.path.abspath(os.path.join(home, ".condarc"))
    if getattr(args, "system", None):
        return os.path.join(context.root_prefix, ".condarc")
    if getattr(args, "env", None):
        active = environ.get("CONDA_PREFIX")
        return os.path.join(active, ".condarc") if active else user_rc
    if getattr(args, "file", None):
        return os.path.abspath(os.path.expanduser(args.file))
    return user_rc


def _modify(args: Any, context: Any, env: Mapping[str, str] | None) -> int:
    """conda's ``execute_config`` from "read existing condarc" on (same order of operations)."""
    import os

    from conda_deepdive.config.condarc import MISSING, ConfigurationFile, config_item_lines, jsonable
    from conda_deepdive.config.context import SETTINGS

    as_json = bool(getattr(args, "json", None))
    warnings: list[str] = []

    def warn(msg: str) -> None:
        if as_json:
            warnings.append(msg)
        else:
            sys.stderr.write(msg + "\n")

    settings = {name: s for s in SETTINGS for name in s.names}
    rc_path = _rc_path(args, context, env)
    sys_rc = os.path.join(context.root_prefix, ".condarc")
    rc = ConfigurationFile(rc_path, settings, warn)
    if os.path.exists(rc_path):
        rc.read()
    elif os.path.exists(sys_rc):  # conda starts from the system file when the target is new
        rc.read(sys_rc)

    pairs: list[tuple[str, Any]] = []
    if args.get is not None:
        for key in args.get or sorted(rc.content.keys()):
            name, value = rc.get_key(key)
            if value is not MISSING:
                pairs.append((name, value))
    for option, prepend in ((args.prepend, True), (args.append, False)):
        for key, item in option or ():
            rc.add(key, item, prepend=prepend)
    for key, item in args.set or ():
        rc.set_key(key, item)
    for key, item in args.remove or ():
        rc.remove_item(key, item)
    for key in args.remove_key or ():
        rc.remove_key(key)
    if not args.get:  # conda writes even for a bare --get (nothing changed: same content)
        rc.write()

    if as_json:
        doc = {"success": True, "rc_path": rc_path, "warnings": warnings,
               "get": {k: jsonable(_plain_yaml(v)) for k, v in pairs}}
        sys.stdout.write(json.dumps(doc, indent=2))  # conda prints no final newline here
    else:
        for key, value in pairs:
            for line in config_item_lines(key, _plain_yaml(value)):
                sys.stdout.write(line + "\n")
    return 0


def _plain_yaml(value: Any) -> Any:
    """ruamel's round-trip containers and scalars → plain dict/list/str/bool/int."""
    if isinstance(value, Mapping):
        return {str(k): _plain_yaml(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_yaml(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)
