"""The entry point: ``python -m conda_deepdive …`` / ``conda-deepdive …`` (conda: ``conda.cli.main``).

``main()`` parses the command line (stage 1), then imports and runs the one command module that
was asked for. Errors end the way they end in conda:

* a :class:`~conda_deepdive.exceptions.CondaError` prints one message — ``ClassName: message`` on
  stderr, or with ``--json`` conda's JSON error object on stdout — and exits with the error's
  return code (1; ``DryRunExit`` is a quiet 0, as in conda);
* a usage error exits 2 with argparse's message.

Nothing heavy is imported before the command runs, so ``--help`` answers at once.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

__all__ = ["main", "console_main", "print_error"]


def print_error(exc: BaseException, json_mode: bool) -> int:
    """Report a CondaError like conda's ExceptionHandler; returns the exit code."""
    from conda_deepdive.exceptions import DryRunExit

    if isinstance(exc, DryRunExit):
        rc = 0
        if json_mode:  # conda prints the dry-run plan as JSON, then nothing for the "error"
            return rc
    else:
        rc = getattr(exc, "return_code", 1)
        rc = rc if isinstance(rc, int) else 1
    if json_mode:
        import json

        sys.stdout.write(json.dumps(exc.dump_map(), indent=2, sort_keys=True) + "\n")
    else:
        # conda's print_conda_exception: the leaf errors of a CondaMultiError, a blank line apart
        leaves = getattr(exc, "errors", None) if type(exc).__name__ == "CondaMultiError" else None
        text = "\n\n".join(e.__repr__() if not isinstance(e, OSError) or hasattr(e, "dump_map")
                             else str(e) for e in leaves) if leaves else repr(exc)
        sys.stderr.write(f"\n{text}\n\n")
    sys.stderr.flush()
    sys.stdout.flush()
    return rc


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run one command line; return its exit code (never raises for a CondaError).

    ``env`` replaces ``os.environ`` for configuration lookup (HOME, CONDARC, ``CONDA_*``) —
    the tests and notebooks pass one explicitly.
    """
    from conda_deepdive.cli.parser import do_call, generate_parser, parse_command
    from conda_deepdive.exceptions import CondaError

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["--help"]  # conda with no arguments prints its help
    json_mode = "--json" in argv
    parser = generate_parser(argv[0])  # only the sub-command asked for, when it can be told
    parsed = None
    try:
        parsed = parse_command(argv, parser)
        result = do_call(parsed.namespace, parser, env=env)
    except CondaError as exc:
        if parsed is not None and getattr(parsed.namespace, "json", None):
            json_mode = True
        return print_error(exc, json_mode)
    except SystemExit as exit_:  # argparse: --help/--version (0) or a usage error (2)
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except KeyboardInterrupt:  # Ctrl-C outside a command that catches it: one line, exit 130
        import signal

        from conda_deepdive.exceptions import CondaSignalInterrupt

        return print_error(CondaSignalInterrupt(signal.SIGINT), json_mode)
    except OSError as exc:  # conda's ExceptionHandler: a full disk anywhere is NoSpaceLeftError
        import errno

        if exc.errno != errno.ENOSPC:
            raise
        from conda_deepdive.exceptions import NoSpaceLeftError

        return print_error(NoSpaceLeftError(exc), json_mode or bool(parsed and getattr(parsed.namespace, "json", None)))
    return result if isinstance(result, int) else 0


def console_main() -> int:
    """The process entry point (``python -m conda_deepdive``, the ``conda-deepdive`` script).

    Like :func:`main`, plus one process-wide choice a library call must not make for its
    caller: loaded indexes go to the garbage collector's permanent generation, the young
    generation is collected in large batches, and what is alive at the end is frozen so that
    interpreter shutdown does not scan it again (gc_policy.py).
    """
    from conda_deepdive.index import gc_policy

    gc_policy.freeze_after_loading(True)
    gc_policy.short_lived_process()
    try:
        return main()
    finally:
        gc_policy.before_exit()
