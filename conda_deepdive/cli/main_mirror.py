"""``conda-deepdive mirror``: conda-mirror's command line, on the mirror stage.

The seed's line works as written::

    conda-deepdive mirror --upstream-channel main --platform linux-64 -vvv --num-threads 12 \\
        --temp-directory ./temp/ -k --config conf.yaml

``--upstream-channel`` is a name (resolved through the Context: ``custom_channels``,
``channel_alias``, the teaching defaults — so with no network ``main`` is the bundled channel) or
a URL; ``--target-directory`` defaults to the seed's tree, ``./anaconda/pkgs/<name>`` for defaults
channels and ``./anaconda/cloud/<name>`` otherwise. As in conda-mirror, keys of ``--config``
whose name is an option (``upstream_channel``, ``platform``, ``num_threads`` …) are used when the
option is not typed.

Exit codes: 0 complete, 1 some files failed (listed with the reason; they are not in the
published index), 2 nothing could be done. ``--json`` prints the result's summary document.
At the end the command prints the condarc that points conda at the mirror — and, when the seed's
recipe would not reach it (``conda-forge`` under ``anaconda/cloud``), why ``custom_channels`` is
needed.
"""

from __future__ import annotations

import json
import os
import sys
from argparse import ArgumentParser, Namespace
from collections.abc import Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

#: conda-mirror options a --config file may set (its rule: only when not typed)
_CONFIG_OPTIONS = ("upstream_channel", "target_directory", "temp_directory", "platform", "num_threads",
                   "max_retries", "include_depends", "dry_run", "no_validate_target", "ssl_verify",
                   "proxy")


def execute(args: Namespace, parser: ArgumentParser, env: Mapping[str, str] | None = None) -> int:
    from conda_deepdive.config.context import Context
    from conda_deepdive.exceptions import MirrorError
    from conda_deepdive.mirror.conda_mirror import (
        client_condarc,
        default_target,
        mirror_channel,
        resolve_upstream,
    )
    from conda_deepdive.mirror.filters import load_mirror_config
    from conda_deepdive.render.mirror_progress import MirrorProgress

    config = load_mirror_config(args.config) if getattr(args, "config", None) else None
    opts = _options(args, config)
    if not opts["upstream_channel"]:
        raise MirrorError("Missing --upstream-channel (a channel name like main or conda-forge, or a URL)")
    context = Context.load(env=env)
    url, name, is_defaults = resolve_upstream(str(opts["upstream_channel"]), context)
    target = opts["target_directory"] or default_target(name, is_defaults)
    platforms = opts["platform"] or [context.subdir]
    if isinstance(platforms, str):
        platforms = [platforms]
    threads = opts["num_threads"]
    threads = os.cpu_count() or 1 if threads == 0 else (8 if threads is None else int(threads))
    as_json = bool(getattr(args, "json", None))
    verbosity = getattr(args, "verbosity", None) or 0
    quiet = bool(getattr(args, "quiet", None)) or as_json
    show = getattr(args, "show_progress", None) is not False and not as_json
    reporter = MirrorProgress(sys.stderr, verbosity=verbosity, quiet=quiet,
                              tty=None if show else False)
    ssl_verify = opts["ssl_verify"]
    if isinstance(ssl_verify, str) and ssl_verify.lower() == "false":
        ssl_verify = False
    result = mirror_channel(
        url, target, platforms,
        config=config,
        include=getattr(args, "include", None) or (),
        exclude=getattr(args, "exclude", None) or (),
        closure=getattr(args, "closure", None) or (),
        include_depends=bool(opts["include_depends"]),
        num_threads=threads,
        max_retries=5 if opts["max_retries"] is None else int(opts["max_retries"]),
        timeout=getattr(args, "timeout", None) or 30.0,
        keep_removed=bool(getattr(args, "keep_removed", None)),
        dry_run=bool(opts["dry_run"]),
        validate_target=not opts["no_validate_target"],
        reporter=reporter,
        ssl_verify=True if ssl_verify is None else ssl_verify,
        proxies=_proxies(opts["proxy"]),
    )
    condarc, why = client_condarc(target)
    if as_json:
        doc = result.summary()
        doc["condarc"] = condarc
        doc["condarc_note"] = why
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        return result.exit_code
    out = sys.stdout
    out.write(_summary_text(result))
    if not result.dry_run and not quiet:
        out.write("\nTo use this mirror, put this in your .condarc (or run the matching "
                  "`conda config --set/--add` commands):\n\n")
        out.write("".join(f"    {line}\n" for line in condarc.splitlines()))
        if why:
            out.write(f"\nWhy not just the seed's recipe: {why}\n")
    out.flush()
    return result.exit_code


def _options(args: Namespace, config: Any) -> dict[str, Any]:
    opts = {k: getattr(args, k, None) for k in _CONFIG_OPTIONS}
    opts["ssl_verify"] = getattr(args, "ssl_verify", None)
    opts["dry_run"] = getattr(args, "dry_run", None)
    if config is not None:
        for key in _CONFIG_OPTIONS:
            if opts.get(key) is None and key in config.options:
                opts[key] = config.options[key]
    return opts


def _proxies(proxy: Any) -> dict[str, str] | None:
    """conda-mirror's ``--proxy``: ``scheme:url`` or a URL whose scheme names the protocol."""
    if not proxy:
        return None
    scheme, _, rest = str(proxy).partition(":")
    if rest.startswith("//"):
        return {scheme: str(proxy)}
    return {scheme: rest}


def _summary_text(result: Any) -> str:
    from conda_deepdive.mirror.conda_mirror import _human

    verb = "Would download" if result.dry_run else "Downloaded"
    lines = [
        "",
        f"Mirror of {result.upstream}",
        f"  into       {result.target}",
    ]
    for s in result.subdirs:
        lines.append(f"  {s!r}")
    lines += [
        f"  {verb:<11}{result.downloaded_files} files, {_human(result.downloaded_bytes)}",
        f"  Skipped    {result.skipped} already verified",
        f"  Removed    {len(result.removed)}{' (dry run: would remove)' if result.dry_run else ''}",
        f"  Failed     {len(result.failures)}",
    ]
    for f in result.failures:
        lines.append(f"    {f.subdir}/{f.fn}: {f.reason}")
    if result.closure_pulled_by:
        lines.append(f"  Closure    {len(result.closure_pulled_by)} files pulled in by "
                     + ", ".join(sorted({s for v in result.closure_pulled_by.values() for s in v})))
    lines.append(f"  Time       {result.seconds:.2f}s")
    status = {0: "complete", 1: "INCOMPLETE: the files above are missing from the mirror "
              "(not in its index); run again to retry", 2: "nothing could be done"}[result.exit_code]
    lines.append(f"  Status     {status}")
    return "\n".join(lines) + "\n"
