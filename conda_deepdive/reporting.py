"""The tracer protocol: how stages tell the world what they are doing.

conda itself reports through loggers, spinners and progress bars scattered across modules. Here
every stage talks to one narrow interface, the :class:`Reporter`, in the spirit of resolvelib's
``BaseReporter``: the stage says *what happened* (``event("solve", "sat_call", clauses=812)``)
and a renderer decides *how to show it* (a rich panel, a notebook widget, a JSON file).

What to notice as a learner: stages never print. If you want to see a stage's inner life, attach a
:class:`RecordingReporter` and read ``reporter.events`` afterwards — it is plain JSON data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from conda_deepdive.values import field, value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Reporter", "NullReporter", "RecordingReporter", "MultiReporter", "Event", "jsonable"]


class Reporter:
    """Base tracer: every method is a no-op, override the ones you care about.

    ``data`` values are JSON-serialisable. Durations go in keys ending in ``_seconds`` so that
    deterministic snapshots can drop them (see :meth:`RecordingReporter.to_json`).
    """

    def stage_started(self, stage: str, title: str) -> None:
        """A stage of the pipeline begins (``stage`` is its short name, e.g. ``"solve"``)."""

    def stage_finished(self, stage: str, result: Any) -> None:
        """A stage ended; ``result`` is the stage's inspectable result object."""

    def event(self, stage: str, kind: str, **data: Any) -> None:
        """Something worth showing happened inside ``stage``."""

    def progress(self, stage: str, task: str, done: int, total: int | None) -> None:
        """``done`` of ``total`` units of ``task`` are complete (downloads, extractions…)."""

    def warning(self, stage: str, message: str) -> None:
        """A non-fatal problem the user should see (e.g. "served from cache, server down")."""

    def listens(self, stage: str) -> bool:
        """Would an :meth:`event` of ``stage`` be seen by anyone?

        A stage may skip work whose only use is an event nobody sees (never work its result
        needs: the result object works it out when read). This base class ignores events, so a
        reporter listens when its class has an ``event`` of its own."""
        return type(self).event is not Reporter.event


NullReporter = Reporter  # a Reporter that ignores everything is just the base class


@value_object(frozen=True)
class Event:
    """One recorded happening: ``(stage, kind, data)``."""

    stage: str
    kind: str
    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"stage": self.stage, "kind": self.kind, "data": self.data}


def jsonable(value: Any) -> Any:
    """Turn ``value`` into plain JSON data (objects become their ``summary()`` or ``str``)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    summary = getattr(value, "summary", None)
    if callable(summary):
        return jsonable(summary())
    return str(value)


def _drop_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_timings(v) for k, v in value.items() if not k.endswith("_seconds")}
    if isinstance(value, list):
        return [_drop_timings(v) for v in value]
    return value


class RecordingReporter(Reporter):
    """Keeps every call as JSON data, in order. The basis of ``--export trace.json`` and tests."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def _add(self, stage: str, kind: str, data: dict) -> None:
        self.events.append(Event(stage, kind, jsonable(data)))

    def stage_started(self, stage: str, title: str) -> None:
        self._add(stage, "stage_started", {"title": title})

    def stage_finished(self, stage: str, result: Any) -> None:
        self._add(stage, "stage_finished", {"result": result})

    def event(self, stage: str, kind: str, **data: Any) -> None:
        self._add(stage, kind, data)

    def progress(self, stage: str, task: str, done: int, total: int | None) -> None:
        self._add(stage, "progress", {"task": task, "done": done, "total": total})

    def warning(self, stage: str, message: str) -> None:
        self._add(stage, "warning", {"message": message})

    def of_stage(self, stage: str) -> list[Event]:
        return [e for e in self.events if e.stage == stage]

    def kinds(self, stage: str | None = None) -> list[str]:
        return [e.kind for e in self.events if stage is None or e.stage == stage]

    def to_json(self, *, timings: bool = False, indent: int | None = 2) -> str:
        """The whole recording; without ``timings`` it is deterministic for a fixed input."""
        data = [e.to_dict() for e in self.events]
        if not timings:
            data = _drop_timings(data)
        return json.dumps(data, indent=indent, sort_keys=True)


class MultiReporter(Reporter):
    """Fans every call out to several reporters (e.g. a recorder and a live renderer)."""

    def __init__(self, reporters: Iterable[Reporter]) -> None:
        self.reporters = list(reporters)

    def stage_started(self, stage: str, title: str) -> None:
        for r in self.reporters:
            r.stage_started(stage, title)

    def stage_finished(self, stage: str, result: Any) -> None:
        for r in self.reporters:
            r.stage_finished(stage, result)

    def event(self, stage: str, kind: str, **data: Any) -> None:
        for r in self.reporters:
            r.event(stage, kind, **data)

    def progress(self, stage: str, task: str, done: int, total: int | None) -> None:
        for r in self.reporters:
            r.progress(stage, task, done, total)

    def warning(self, stage: str, message: str) -> None:
        for r in self.reporters:
            r.warning(stage, message)

    def listens(self, stage: str) -> bool:
        return any(r.listens(stage) for r in self.reporters)
