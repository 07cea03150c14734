"""One process at a time changes a prefix: an inter-process lock per environment.

conda counterpart: none. conda 26.7.1 does not lock an environment: two ``conda install``
commands running at once on one prefix can both read the same installed state, both solve
against it and both write — leaving two records for one name, or files that no record owns
after the loser rolls back. conda-deepdive adds what conda-adjacent tools use for this, a
``filelock.FileLock``, just as it does for the package cache (``fetch/package_cache.py``).

Where the lock lives, and why there: beside the prefix, as ``<parent>/.<name>.conda_deepdive.lock``.
Not inside it — a new environment does not exist yet when its lock is taken, ``create -y``
over an existing environment deletes the whole directory, and a prefix must stay byte-identical
to the one real conda writes. Not in a temporary directory either: two processes may see
different ``TMPDIR`` values, but they always agree on the prefix's own path. The empty lock
file stays after use (deleting a lock file while another process waits on it is a race).

What to notice:

* the lock is taken *before the solve*, not only around ``execute()``: the second process must
  solve against the state the first one leaves, or its plan is already out of date;
* it is re-entrant inside one process (``is_singleton``): the command line takes it before
  solving and the transaction takes it again, for notebook sessions that skip the command line;
* a process that has to wait says so once, through ``on_wait`` (the CLI prints one line on
  stderr), then waits as long as it takes — like a second ``apt`` waiting for the first.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from collections.abc import Callable, Iterator

__all__ = ["LOCK_SUFFIX", "prefix_lock_path", "prefix_lock", "waiting_message"]

LOCK_SUFFIX = ".conda_deepdive.lock"


def prefix_lock_path(prefix: str) -> str:
    """``<parent>/.<name>.conda_deepdive.lock`` for the (absolute, normalised) prefix."""
    prefix = os.path.abspath(prefix).rstrip(os.sep) or os.sep
    parent, name = os.path.split(prefix)
    if not name:  # the filesystem root: no parent to hold the lock, use a hashed name beside it
        name = "root-" + hashlib.sha256(prefix.encode()).hexdigest()[:12]
    return os.path.join(parent, f".{name}{LOCK_SUFFIX}")


def waiting_message(prefix: str) -> str:
    """The one line a waiting process prints (no newline)."""
    return (f"Waiting for another conda-deepdive process to finish changing {prefix} "
            f"(lock: {prefix_lock_path(prefix)})")


@contextmanager
def prefix_lock(prefix: str, on_wait: Callable[[str], None] | None = None,
                timeout: float = -1) -> Iterator[str]:
    """Hold the prefix's lock for the ``with`` block; yields the lock file's path.

    ``on_wait(message)`` is called once if another process holds the lock; ``timeout`` (seconds,
    ``-1`` = forever) bounds the wait, after which ``filelock.Timeout`` is raised.
    """
    import filelock

    path = prefix_lock_path(prefix)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lock = filelock.FileLock(path, is_singleton=True)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        if on_wait is not None:
            on_wait(waiting_message(os.path.abspath(prefix)))
        lock.acquire(timeout=timeout)
    try:
        yield path
    finally:
        lock.release()
