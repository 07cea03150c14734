"""Machine-specific text out, placeholders in: what makes a trace the same on every machine.

A trace mentions the temporary prefix, the package cache, where this checkout lives, the home
directory and sometimes an object's memory address. :class:`Sanitizer` replaces each with a
stable placeholder (``<PREFIX>``, ``<PKGS>``, ``<TEACHING_CHANNELS>``, ``~``…) so exports,
snapshots and stored notebook outputs can be compared byte for byte.

Rendering wraps long cells, which could split a path over two lines before the placeholder
replaces it. So the sections clean their text *while building* it: inside
``with sanitizing(sanitizer):`` every :func:`clean` call applies the sanitizer; outside, it
returns the text unchanged (the live CLI shows real paths).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from collections.abc import Iterator, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Sanitizer", "clean", "sanitizing"]

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_CURRENT: ContextVar["Sanitizer | None"] = ContextVar("conda_deepdive_sanitizer", default=None)


class Sanitizer:
    """Replaces machine-specific substrings by stable placeholders (longest path first)."""

    def __init__(self, replacements: Mapping[str, str]):
        pairs = [(str(k), v) for k, v in replacements.items() if k]
        # also catch the file:// URL form of each path
        pairs += [("file://" + k, "file://" + v) for k, v in pairs if k.startswith("/")]
        self.pairs = sorted(pairs, key=lambda kv: len(kv[0]), reverse=True)

    def text(self, value: str) -> str:
        for old, new in self.pairs:
            value = value.replace(old, new)
        return _ADDRESS.sub("", value)

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        return value

    @classmethod
    def for_session(cls, session: Any, extra: Mapping[str, str] | None = None) -> "Sanitizer":
        from conda_deepdive.config.teaching_defaults import channels_dir

        repl: dict[str, str] = {}
        context = session.results.get("context")
        if context is not None:
            if getattr(context, "target_prefix", None):
                repl[str(context.target_prefix)] = "<PREFIX>"
            for i, pkgs in enumerate(getattr(context, "pkgs_dirs", ()) or ()):
                repl[str(pkgs)] = "<PKGS>" if i == 0 else f"<PKGS{i}>"
            root = getattr(context, "root_prefix", None)
            if root and root != "/":
                repl[str(root)] = "<ROOT_PREFIX>"
        repl[str(channels_dir())] = "<TEACHING_CHANNELS>"
        home = session.env.get("HOME")
        if home and home != "/":
            repl[home] = "~"
        repl.update(extra or {})
        return cls(repl)


def clean(value: Any) -> str:
    """``str(value)``, sanitized when a :func:`sanitizing` block is active."""
    text = "" if value is None else str(value)
    current = _CURRENT.get()
    return current.text(text) if current is not None else text


@contextmanager
def sanitizing(sanitizer: "Sanitizer | None") -> Iterator[None]:
    """Make :func:`clean` apply ``sanitizer`` inside the block (``None``: no change)."""
    token = _CURRENT.set(sanitizer)
    try:
        yield
    finally:
        _CURRENT.reset(token)
