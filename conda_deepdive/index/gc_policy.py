"""How Python's cyclic garbage collector should treat a freshly loaded index.

Not a stage of ``conda install`` but a lesson in why a Python package manager is slow or fast.
Loading repodata creates ~10⁵ long-lived objects (records, tuples, strings) that never form
reference cycles. The cyclic collector does not know that: it scans young objects every few
hundred allocations, and once enough objects have survived it scans *everything* again. For the
39k-record osx-64 index that is ~0.2 s of a ~1 s ``create --dry-run``, for nothing.

Two tools, both from the standard ``gc`` module:

* :func:`paused` switches the collector off while the objects are built (re-entrant,
  thread-safe; the outermost exit switches it back on);
* with :func:`freeze_after_loading` turned on, that exit also calls ``gc.freeze()``: every object
  alive at that moment moves to a "permanent generation" the collector never scans again.
  Reference counting still frees them when they are dropped; only reference *cycles* among them
  would never be collected. That is a fine trade for a short-lived command-line process (the
  entry point turns it on) and a poor one for a long notebook kernel (left off there);
* :func:`short_lived_process` (also the entry point's choice) lets the young generation grow to
  :data:`YOUNG_GENERATION` objects before a collection instead of 700: the solver allocates
  hundreds of thousands of short-lived clause lists and tuples, which reference counting frees
  anyway, and the default threshold spent ~10 ms (5 %) of a dry run scanning them ~100 times.
  Cycles are still collected, only in larger batches. When the command is done,
  :func:`before_exit` freezes what is alive: interpreter shutdown then skips one last scan of
  every object (~2 ms) whose memory the operating system takes back anyway.
"""

from __future__ import annotations

import gc
from _thread import allocate_lock  # threading.Lock itself, without importing threading (~1.5 ms)
from contextlib import contextmanager
from collections.abc import Iterator

__all__ = ["paused", "freeze_after_loading", "short_lived_process", "before_exit", "YOUNG_GENERATION"]

#: the young generation's threshold for a command-line process (CPython's default is 700)
YOUNG_GENERATION = 100_000

_lock = allocate_lock()
_depth = 0
_was_enabled = True
_freeze = False


def freeze_after_loading(enabled: bool = True) -> None:
    """Process-wide: after each index load, move everything alive out of the collector's sight."""
    global _freeze
    _freeze = bool(enabled)


def short_lived_process() -> None:
    """Process-wide: collect the young generation every :data:`YOUNG_GENERATION` allocations."""
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, gen1, gen2)


def before_exit() -> None:
    """Process-wide, once the command has finished: nothing alive is scanned again."""
    gc.freeze()


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (see the module docstring)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if _freeze:
                    gc.freeze()
                if _was_enabled:
                    gc.enable()
