"""Exporting a whole trace: JSON (for tests and tools), HTML and SVG (for slides).

An export must be *deterministic* for a fixed input so it can be diffed, snapshot-tested and put
on a slide: timings are left out and machine-specific paths (the temporary prefix, the package
cache, the package's ``data/`` directory, the home directory) are replaced by placeholders
such as ``<PREFIX>``. The bytes do not depend on ``PYTHONHASHSEED`` either (events that carry a
set report it sorted; ``tests/test_export_seeds.py`` compares two seeds).

``trace --json`` prints the same document as ``--export trace.json`` (:func:`dumps_trace`).

The SVG is made for slides on an offline laptop: rich's template loads *Fira Code* from a CDN,
ours has no ``@font-face`` and names a stack of monospace fonts every system already has.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from collections.abc import Iterable, Mapping

from conda_deepdive.render.sanitize import Sanitizer
from conda_deepdive.reporting import RecordingReporter, _drop_timings, jsonable

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Sanitizer", "trace_document", "dumps_trace", "write_export", "check_export_path", "svg_format",
           "TRACE_SCHEMA_VERSION", "MONOSPACE_FONTS"]

TRACE_SCHEMA_VERSION = 1


def _stable_events(events: list[dict]) -> list[dict]:
    """Events in an order that does not depend on thread scheduling.

    ``progress`` events are a display matter (and their count depends on chunking), so they are
    left out. The fetch stage runs packages in a thread pool: its events are sorted. Every other
    stage is sequential and keeps its order.
    """
    out: list[dict] = []
    fetch: list[dict] = []

    def flush() -> None:
        out.extend(sorted(fetch, key=lambda e: json.dumps(e, sort_keys=True)))
        fetch.clear()

    for event in events:
        if event["kind"] == "progress":
            continue
        if event["stage"] == "fetch" and event["kind"] not in ("stage_started", "stage_finished"):
            fetch.append(event)
            continue
        flush()
        out.append(event)
    flush()
    return out


def trace_document(session: Any, recorder: RecordingReporter, sanitizer: Sanitizer, *,
                   error: BaseException | None = None, extra: Mapping[str, Any] | None = None) -> dict:
    """The JSON export: schema version, argv, per-stage summaries and every recorded event.

    Keys (see ``tests/test_trace_export.py`` for the checked schema): ``schema``,
    ``schema_version``, ``argv``, ``command``, ``stage_order``, ``stages`` (name → summary),
    ``stopped``, ``error`` (``None`` or conda's error fields), ``events`` (stage, kind, data).
    """
    stages = {}
    for name, result in session.results.items():
        summary = getattr(result, "summary", None)
        stages[name] = jsonable(summary() if callable(summary) else repr(result))
    err = None
    if error is not None:
        dump = getattr(error, "dump_map", None)
        data = dump() if callable(dump) else {}
        err = {
            "exception_name": type(error).__name__,
            "message": str(error),
            "stage": session.next_stage,
            "exception_type": data.get("exception_type"),
        }
    doc = {
        "schema": "conda-deepdive-trace",
        "schema_version": TRACE_SCHEMA_VERSION,
        "argv": list(session.argv),
        "command": session.results["parse"].command if "parse" in session.results else None,
        "stage_order": [name for name in session.stages if name in session.results],
        "stages": stages,
        "stopped": session.stopped_reason,
        "error": err,
        "events": [e.to_dict() for e in recorder.events],
    }
    if extra:
        doc.update(jsonable(dict(extra)))
    doc = sanitizer.data(_drop_timings(doc))
    # order the thread pool's events only once they hold nothing machine- or run-specific
    doc["events"] = _stable_events(doc["events"])
    return doc


def dumps_trace(doc: Mapping[str, Any]) -> str:
    """The JSON text of a trace document: what ``--export x.json`` writes and ``--json`` prints."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


#: fonts that come with the system: macOS (ui-monospace, SF Mono, Menlo), Windows (Cascadia
#: Mono, Consolas), Linux (DejaVu Sans Mono, Liberation Mono), then the browser's own monospace
MONOSPACE_FONTS = ('ui-monospace, "SFMono-Regular", Menlo, "Cascadia Mono", Consolas, '
                   '"DejaVu Sans Mono", "Liberation Mono", monospace')


def svg_format() -> str:
    """rich's SVG template without the web fonts: no ``@font-face``, no URL to fetch."""
    from rich._export_format import CONSOLE_SVG_FORMAT

    fmt = re.sub(r"\s*@font-face\s*\{\{.*?\}\}", "", CONSOLE_SVG_FORMAT, flags=re.S)
    fmt = fmt.replace("font-family: Fira Code, monospace;", f"font-family: {MONOSPACE_FONTS};")
    fmt = fmt.replace("font-family: arial;", "font-family: system-ui, sans-serif;")
    return fmt


def _sanitize_recording(console: Any, sanitizer: Sanitizer) -> None:
    # rich keeps what it printed as Segments; paths never straddle two segments of one style
    from rich.segment import Segment

    buffer = getattr(console, "_record_buffer", None)
    if buffer is None:
        return
    buffer[:] = [Segment(sanitizer.text(s.text), s.style, s.control) for s in buffer]


EXPORT_SUFFIXES = (".json", ".html", ".svg")


def check_export_path(path: str | Path) -> Path:
    """Fail early (before anything runs) on a file name we cannot export to."""
    from conda_deepdive.exceptions import CondaValueError

    path = Path(path)
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        raise CondaValueError(f"cannot export a trace to '{path.name}': use a .json, .html or .svg file name")
    if not path.parent.is_dir():
        raise CondaValueError(f"cannot export a trace to '{path}': directory '{path.parent}' does not exist")
    return path


def write_export(path: str | Path, session: Any, recorder: RecordingReporter,
                 panels: Iterable[Any], sanitizer: Sanitizer, *, title: str = "conda-deepdive trace",
                 error: BaseException | None = None, extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``.json``, ``.html`` or ``.svg`` depending on ``path``'s suffix.

    ``panels`` must be rendered without timings for the HTML/SVG to be deterministic."""
    from rich.console import Console

    from conda_deepdive.exceptions import CondaValueError

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        doc = trace_document(session, recorder, sanitizer, error=error, extra=extra)
        path.write_text(dumps_trace(doc), encoding="utf-8")
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
        svg = console.export_svg(title=title, code_format=svg_format())
        # rich derives element ids from a hash of the content; that is stable, keep it
        path.write_text(svg, encoding="utf-8")
    return path
