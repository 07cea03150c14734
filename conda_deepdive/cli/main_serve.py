"""``conda-deepdive serve [DIR] [--port N] [--bind ADDR]``: serve the teaching channels over HTTP.

Not a conda command: a helper so that workshops can watch conda's HTTP caching (ETag,
``If-None-Match``, 304) against a local server. See :mod:`conda_deepdive.teaching.serve`.
"""

from __future__ import annotations

from argparse import ArgumentParser, Namespace


def execute(args: Namespace, parser: ArgumentParser) -> int:
    from conda_deepdive.teaching.serve import DEFAULT_DIRECTORY, DEFAULT_MAX_AGE, DEFAULT_PORT, serve

    directory = getattr(args, "directory", None) or getattr(args, "dir", None) or DEFAULT_DIRECTORY
    port = getattr(args, "port", None)
    max_age = getattr(args, "max_age", None)
    return serve(
        directory,
        port=DEFAULT_PORT if port is None else int(port),
        bind=getattr(args, "bind", None) or "127.0.0.1",
        max_age=DEFAULT_MAX_AGE if max_age is None else int(max_age),
    )
