"""Exporting a whole trace: JSON (for tests and tools), HTML and SVG (for slides).

An export must be *deterministic* for a fixed input so it can be diffed, snapshot-tested and put
on a slide: timings are left out and machine-specific paths (the temporary prefix, the package
cache, the project's own ``data/`` directory, the home directory) are replaced by placeholders
such as ``<PREFIX>``.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from conda_deepdive.reporting import RecordingReporter, _drop_timings, jsonable

__all__ = ["Sanitizer", "trace_document", "write_export", "TRACE_SCHEMA_VERSION"]

TRACE_SCHEMA_VERSION = 1
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


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
        from conda_deepdive.teaching_defaults import channels_dir

        repl: dict[str, str] = {}
        context = session.results.get("context")
        if context is not None:
            if getattr(context, "target_prefix", None):
                repl[str(context.target_prefix)] = "<PREFIX>"
            for i, pkgs in enumerate(getattr(context, "pkgs_dirs", ()) or ()):
                repl[str(pkgs)] = "<PKGS>" if i == 0 else f"<PKGS{i}>"
        repl[str(channels_dir())] = "<TEACHING_CHANNELS>"
        home = session.env.get("HOME")
        if home and home != "/":
            repl[home] = "~"
        repl.update(extra or {})
        return cls(repl)


def trace_document(session: Any, recorder: RecordingReporter, sanitizer: Sanitizer) -> dict:
    """The JSON export: schema version, argv, per-stage summaries and every recorded event."""
    stages = {}
    for name, result in session.results.items():
        summary = getattr(result, "summary", None)
        stages[name] = jsonable(summary() if callable(summary) else repr(result))
    doc = {
        "schema": "conda-deepdive-trace",
        "schema_version": TRACE_SCHEMA_VERSION,
        "argv": list(session.argv),
        "stages": stages,
        "stopped": session.stopped_reason,
        "events": [e.to_dict() for e in recorder.events],
    }
    return sanitizer.data(_drop_timings(doc))


def _sanitize_recording(console: Any, sanitizer: Sanitizer) -> None:
    # rich keeps what it printed as Segments; paths never straddle two segments of one style
    from rich.segment import Segment

    buffer = getattr(console, "_record_buffer", None)
    if buffer is None:
        return
    buffer[:] = [Segment(sanitizer.text(s.text), s.style, s.control) for s in buffer]


def write_export(path: str | Path, session: Any, recorder: RecordingReporter,
                 panels: Iterable[Any], sanitizer: Sanitizer, *, title: str = "conda-deepdive trace") -> Path:
    """Write ``.json``, ``.html`` or ``.svg`` depending on ``path``'s suffix."""
    from rich.console import Console

    from conda_deepdive.exceptions import CondaValueError

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        doc = trace_document(session, recorder, sanitizer)
        path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path
    if suffix not in (".html", ".svg"):
        raise CondaValueError(f"cannot export a trace to '{path.name}': use a .json, .html or .svg file name")
    console = Console(record=True, width=110, file=io.StringIO(), color_system="truecolor",
                      force_terminal=True, legacy_windows=False)
    for panel in panels:
        console.print(panel)
    _sanitize_recording(console, sanitizer)
    if suffix == ".html":
        path.write_text(console.export_html(inline_styles=True), encoding="utf-8")
    else:
        svg = console.export_svg(title=title)
        # rich derives element ids from a hash of the content; that is stable, keep it
        path.write_text(svg, encoding="utf-8")
    return path
