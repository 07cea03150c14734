"""Prefix replacement: how a package built in ``/home/builder/.../_h_env_placehold…`` works in *your* prefix.

conda counterpart: ``conda.core.portability`` (``update_prefix``, ``replace_prefix``,
``binary_replace``, ``replace_long_shebang``).

conda-build records, in ``info/paths.json``, every file that contains the build prefix (the
*placeholder*) and whether it is a ``text`` or a ``binary`` file. At link time conda copies such
a file (it can never be hard-linked: its bytes differ per environment) and rewrites it:

* **text** files: a plain search-and-replace. The file usually gets shorter (the placeholder is
  255 characters long). Afterwards, a ``#!`` line that became longer than 127 characters, or
  whose interpreter path contains a space, is rewritten to ``#!/usr/bin/env <name>`` — the
  kernel would not run it otherwise.
* **binary** files (compiled programs, shared libraries): the placeholder sits inside a
  NUL-terminated C string, so it is replaced *in place* and the string is padded with NUL bytes.
  The file keeps its exact length. A prefix longer than the placeholder cannot fit: that is a
  :class:`~conda_deepdive.exceptions.PaddingError`, raised while *verifying* the transaction,
  before anything is linked.

What to notice: the sha256 of a rewritten file differs from the one in the package, which is why
conda-meta records carry both ``sha256`` and ``sha256_in_prefix``.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_SHEBANG_LENGTH",
    "PaddingTooShort",
    "replace_prefix",
    "binary_replace",
    "replace_long_shebang",
    "update_prefix_bytes",
]

#: Linux and macOS refuse longer ``#!`` lines (``BINPRM_BUF_SIZE``); conda uses the same bound.
MAX_SHEBANG_LENGTH = 127

# whole shebang line, the interpreter path (escaped spaces allowed), and the rest (options)
_SHEBANG = re.compile(rb"^(#!(?:[ ]*)(/(?:\\ |[^ \n\r\t])*)(.*))$", re.MULTILINE)


class PaddingTooShort(Exception):
    """Internal signal: a binary placeholder is shorter than the new prefix."""


def replace_prefix(mode: str, data: bytes, placeholder: str, new_prefix: str) -> bytes:
    """Replace ``placeholder`` with ``new_prefix`` in ``data`` (``mode`` is "text" or "binary")."""
    if mode == "text":
        # A space in the new prefix would split the shebang into interpreter + argument.
        # Escape it in the first line so replace_long_shebang notices and uses /usr/bin/env.
        newline = data.find(b"\n")
        if newline > -1:
            first, rest = data[:newline], data[newline:]
            marker = f"#!{placeholder}".encode()
            if marker in first:
                first = first.replace(marker, f"#!{new_prefix}".replace(" ", "\\ ").encode())
                data = first + rest
        return data.replace(placeholder.encode(), new_prefix.encode())
    if mode == "binary":
        return binary_replace(data, placeholder.encode(), new_prefix.encode())
    raise ValueError(f"unknown file_mode {mode!r} (expected 'text' or 'binary')")


def binary_replace(data: bytes, placeholder: bytes, new_prefix: bytes) -> bytes:
    """Rewrite each NUL-terminated string holding ``placeholder``, NUL-padding to the same length."""

    def one_string(match: re.Match) -> bytes:
        text = match.group()
        padding = (len(placeholder) - len(new_prefix)) * text.count(placeholder)
        if padding < 0:
            raise PaddingTooShort()
        return text.replace(placeholder, new_prefix) + b"\0" * padding

    pattern = re.compile(re.escape(placeholder) + b"([^\0]*?)\0")
    result = pattern.sub(one_string, data)
    if len(result) != len(data):  # pragma: no cover - guarded by the padding arithmetic
        raise AssertionError("binary prefix replacement changed the file length")
    return result


def replace_long_shebang(data: bytes) -> bytes:
    """Shorten a text file's shebang to ``#!/usr/bin/env NAME`` when the kernel could not run it."""
    match = _SHEBANG.match(data)
    if not match:
        return data
    whole, executable, options = match.groups()
    head, _, name = executable.decode("utf-8", "surrogateescape").rpartition("/")
    if len(whole) > MAX_SHEBANG_LENGTH or "\\ " in head:
        new = f"#!/usr/bin/env {name}{options.decode('utf-8', 'surrogateescape')}"
        data = data.replace(whole, new.encode("utf-8", "surrogateescape"))
    return data


def update_prefix_bytes(data: bytes, new_prefix: str, placeholder: str, mode: str) -> bytes:
    """The full rewrite conda applies to one file's bytes (replace, then fix the shebang)."""
    result = replace_prefix(mode, data, placeholder, new_prefix)
    if mode == "text":
        result = replace_long_shebang(result)
    return result
