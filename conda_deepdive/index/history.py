"""What the user asked for, revision by revision (``conda.history``).

``<prefix>/conda-meta/history`` is an append-only text log. Every transaction adds one
*revision*::

    ==> 2026-11-21 23:04:36 <==
    # cmd: conda create -p /tmp/envs/demo pyhello
    # conda version: 26.7.1
    +file:///tmp/channel/linux-64::python-3.11.2-mini_0
    +file:///tmp/channel/noarch::pyhello-1.0-pyh_0
    # update specs: ['pyhello']

``+`` lines are packages linked, ``-`` lines packages unlinked, and the ``# update specs`` /
``# remove specs`` / ``# neutered specs`` comments record the *requests*.

Why the solver cares: replaying the ``update``/``remove``/``neutered`` spec lines gives the
"history specs" (:meth:`History.get_requested_specs_map`) — the packages you explicitly asked
for. conda treats those differently from mere dependencies: it keeps them (and their version
constraints) on later installs, while dependencies may be swapped or pruned. What to notice:
a spec you typed once (``numpy=1.14``) keeps constraining every later ``conda install`` in that
environment until something "neuters" it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable

from conda_deepdive import CONDA_VERSION
from conda_deepdive.exceptions import CondaError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["History", "Revision", "CondaHistoryError"]

_SEPARATOR = r"==>\s*(.+?)\s*<=="
_CMD = r"#\s*cmd:\s*(.+)"
_CONDA_VERSION = r"#\s*conda version:\s*(.+)"
_SPECS = r"#\s*(\w+)\s*specs:\s*(.+)?"
# (compiled by re's own cache on first use: a new environment has no history to read)


class CondaHistoryError(CondaError):
    def __init__(self, message: str):
        super().__init__(f"History error: {message}")


class Revision(tuple):
    """One parsed revision: ``(date, {"+dist", "-dist"...}, ["# comment", ...])``.

    A plain tuple (conda's ``History.parse()`` shape) with readable names on top.
    """

    __slots__ = ()

    def __new__(cls, date: str, diffs: set, comments: list):
        return super().__new__(cls, (date, diffs, comments))

    @property
    def date(self) -> str:
        return self[0]

    @property
    def diffs(self) -> set:
        return self[1]

    @property
    def comments(self) -> list:
        return self[2]

    def __repr__(self) -> str:
        return f"Revision({self.date!r}, {len(self.diffs)} changes, {len(self.comments)} comments)"


def _split_specs(text: str) -> list[str]:
    """Old (conda 4.3) unbracketed spec lists: ``python>=3.5,numpy >=1.11,<2.0``.

    A comma followed by a version operator continues the previous spec.
    """
    specs: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if specs and part[0] in "<>=!~" and not re.match(r"^[A-Za-z0-9_]", part):
            specs[-1] += "," + part
        else:
            specs.append(part)
    return specs


def parse_comment_line(line: str) -> dict:
    """Decode one ``#`` line of a revision into a small dict (``cmd``, ``conda_version``,
    ``action`` and ``update_specs`` / ``remove_specs`` / ``neutered_specs``)."""
    item: dict[str, Any] = {}
    m = re.match(_CMD, line)
    if m:
        argv = m.group(1).split()
        if argv and argv[0].endswith("conda"):
            argv[0] = "conda"
        item["cmd"] = argv
    m = re.match(_CONDA_VERSION, line)
    if m:
        item["conda_version"] = m.group(1)
    m = re.match(_SPECS, line)
    if m:
        action, text = m.groups()
        text = (text or "").strip()
        item["action"] = action
        if text.startswith("["):
            import ast  # only a history with spec lists needs the parser (~2 ms to import)

            try:
                specs = [str(s) for s in ast.literal_eval(text)]
            except (ValueError, SyntaxError):
                specs = []
        elif "[" not in text:
            specs = _split_specs(text)
        else:
            specs = []
        # ``feature@`` entries are a relic of conda 4.3 features and never specs
        specs = [s for s in specs if s and not s.endswith("@")]
        if specs and action in ("update", "install", "create"):
            item["update_specs"] = item["specs"] = specs
        elif specs and action in ("remove", "uninstall"):
            item["remove_specs"] = item["specs"] = specs
        elif specs and action == "neutered":
            item["neutered_specs"] = item["specs"] = specs
    return item


def _as_dist_str(value: Any) -> str:
    dist_str = getattr(value, "dist_str", None)
    return dist_str() if callable(dist_str) else str(value)


def _as_spec_str(value: Any) -> str:
    from conda_deepdive.models import MatchSpec

    return str(value if isinstance(value, MatchSpec) else MatchSpec(value))


class History:
    """Reader and writer of ``<prefix>/conda-meta/history``."""

    def __init__(self, prefix: str | os.PathLike):
        self.prefix = os.fspath(prefix)
        self.meta_dir = os.path.join(self.prefix, "conda-meta")
        self.path = os.path.join(self.meta_dir, "history")

    def __repr__(self) -> str:
        exists = "exists" if os.path.isfile(self.path) else "absent"
        return f"History({self.path!r}, {exists})"

    # -- reading ---------------------------------------------------------------------------------
    def parse(self) -> list[Revision]:
        """Every revision as ``(date, set of '+dist'/'-dist' lines, list of '#' lines)``."""
        if not os.path.isfile(self.path):
            return []
        try:
            with open(self.path, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CondaHistoryError(f"cannot read {self.path}: {exc}") from None
        revisions: list[Revision] = []
        for raw in lines:
            line = raw.strip()
            if not line:
                continue
            m = re.match(_SEPARATOR, line)
            if m:
                revisions.append(Revision(m.group(1), set(), []))
            elif not revisions:
                continue  # text before the first separator: conda ignores it too
            elif line.startswith("#"):
                revisions[-1].comments.append(line)
            else:
                revisions[-1].diffs.add(line)
        return revisions

    def get_user_requests(self) -> list[dict]:
        """One dict per revision that recorded a command: ``date``, ``cmd``, ``conda_version``,
        ``action``, ``update_specs``/``remove_specs``/``neutered_specs``, ``link_dists``,
        ``unlink_dists``."""
        requests = []
        for revision in self.parse():
            item: dict[str, Any] = {"date": revision.date}
            for line in revision.comments:
                item.update(parse_comment_line(line))
            item["link_dists"] = tuple(sorted(d[1:] for d in revision.diffs if d.startswith("+")))
            item["unlink_dists"] = tuple(sorted(d[1:] for d in revision.diffs if d.startswith("-")))
            if "cmd" in item:
                requests.append(item)
        return requests

    def get_requested_specs_map(self) -> dict:
        """``{name: MatchSpec}`` of what the user explicitly asked for and still has installed.

        Replays the revisions in order: ``remove specs`` forget a name, ``update specs`` set it,
        ``neutered specs`` (loosened by an earlier solve) override it. Names that are no longer
        installed are dropped, since conda has not always recorded removals.
        """
        from conda_deepdive.models import MatchSpec
        from conda_deepdive.index.prefix_data import PrefixData

        spec_map: dict[str, Any] = {}
        for request in self.get_user_requests():
            for text in request.get("remove_specs", ()):
                spec_map.pop(MatchSpec(text).name, None)
            for key in ("update_specs", "neutered_specs"):
                for text in request.get(key, ()):
                    spec = MatchSpec(text)
                    spec_map[spec.name] = spec
        installed = {rec.name for rec in PrefixData(self.prefix).iter_records()}
        return {name: spec for name, spec in spec_map.items() if name in installed}

    def get_state(self, rev: int = -1) -> set[str]:
        """The set of ``channel/subdir::name-version-build`` installed after revision ``rev``."""
        revisions = self.parse()
        if not revisions:
            return set()
        if rev < 0:
            rev = len(revisions) + rev
        state: set[str] = set()
        for revision in revisions[: rev + 1]:
            for line in revision.diffs:
                if line.startswith("+"):
                    state.add(line[1:])
                elif line.startswith("-"):
                    state.discard(line[1:])
                else:  # the oldest format lists the whole state without +/-
                    state.add(line)
        return state

    # -- writing ---------------------------------------------------------------------------------
    @staticmethod
    def format_revision(unlink_dists: Iterable[Any], link_dists: Iterable[Any], cmd: str | list,
                        update_specs: Iterable[Any] = (), remove_specs: Iterable[Any] = (),
                        neutered_specs: Iterable[Any] = (), when: float | None = None) -> str:
        """The text of one revision, exactly as conda writes it."""
        unlink = {_as_dist_str(d) for d in unlink_dists}
        link = {_as_dist_str(d) for d in link_dists}
        # a package both unlinked and relinked (a reinstall) shows as -old and +new only when
        # they differ; identical strings cancel out, as in conda's set difference
        minus, plus = sorted(unlink - link), sorted(link - unlink)
        if not isinstance(cmd, str):
            cmd = " ".join(str(a) for a in cmd)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))
        lines = [f"==> {stamp} <==", f"# cmd: {cmd}", f"# conda version: {CONDA_VERSION}"]
        lines += [f"-{d}" for d in minus] + [f"+{d}" for d in plus]
        for label, specs in (("remove", remove_specs), ("update", update_specs),
                             ("neutered", neutered_specs)):
            texts = [_as_spec_str(s) for s in specs]
            if texts:
                lines.append(f"# {label} specs: {texts!r}")
        return "\n".join(lines) + "\n"

    def write_changes(self, unlink_dists: Iterable[Any], link_dists: Iterable[Any], cmd: str | list,
                      update_specs: Iterable[Any] = (), remove_specs: Iterable[Any] = (),
                      neutered_specs: Iterable[Any] = (), when: float | None = None) -> str:
        """Append one revision. The file is replaced atomically (write a temporary file beside
        it, then rename), so a crash never leaves half a revision behind. Returns the text added."""
        text = self.format_revision(unlink_dists, link_dists, cmd, update_specs, remove_specs,
                                    neutered_specs, when)
        os.makedirs(self.meta_dir, exist_ok=True)
        try:
            with open(self.path, encoding="utf-8") as fh:
                old = fh.read()
        except FileNotFoundError:
            old = ""
        if old and not old.endswith("\n"):
            old += "\n"
        import tempfile  # only when the history file is written

        fd, tmp = tempfile.mkstemp(prefix=".history.", dir=self.meta_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(old + text)
            if os.path.exists(self.path):
                os.chmod(tmp, os.stat(self.path).st_mode & 0o7777)
            else:
                os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return text
