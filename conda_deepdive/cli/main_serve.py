"""``conda-deepdive serve [DIR] [--port N] [--bind ADDR]``: serve the teaching channels over HTTP.

Not a conda command: a helper so that workshops can watch conda's HTTP caching (ETag,
``If-None-Match``, 304) against a local server. See :mod:`conda_deepdive.teaching.serve`.
Port 8999 by default; ``--port 0`` takes any free port (the URL is printed first). When the
port is taken — a second ``serve`` — the answer is one line on stderr and exit code 1.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser, Namespace


def execute(args: Namespace, parser: ArgumentParser) -> int:
    from conda_deepdive.teaching.serve import DEFAULT_DIRECTORY, DEFAULT_MAX_AGE, DEFAULT_PORT, bind_error, serve

    directory = getattr(args, "directory", None) or getattr(args, "dir", None) or DEFAULT_DIRECTORY
    port = DEFAULT_PORT if getattr(args, "port", None) is None else int(args.port)
    bind = getattr(args, "bind", None) or "127.0.0.1"
    max_age = getattr(args, "max_age", None)
    try:
        return serve(directory, port=port, bind=bind,
                     max_age=DEFAULT_MAX_AGE if max_age is None else int(max_age))
    except OSError as exc:  # the socket could not be bound: say why in one line, no traceback
        sys.stdout.flush()
        sys.stderr.write(f"serve: {bind_error(exc, bind, port)}\n")
        sys.stderr.flush()
        return 1
