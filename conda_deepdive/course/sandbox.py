"""A throw-away workspace for one course notebook: prefix, package cache, condarc, Context.

Every notebook of the course starts with ``sb = Sandbox("02-index")`` and ends with
``sb.cleanup()``. In between, everything that a real ``conda install`` would touch lives under
one temporary folder (``sb.root``):

* ``sb.prefix_dir`` — the target environment (``<WORK>/env``), an empty environment (only
  ``conda-meta/history``) so that ``install`` may target it, as conda requires;
* ``sb.pkgs_dir`` — the package cache (``CONDA_PKGS_DIRS``), with ``cache/`` for repodata;
* ``sb.condarc`` — a condarc file that ``CONDARC`` points at (empty until you write it);
* ``HOME`` — a fresh home folder, so your own ``~/.condarc`` never leaks into a lesson.

The machine is pinned (``CONDA_SUBDIR=linux-64`` and the ``CONDA_OVERRIDE_*`` virtual
packages), and :meth:`Sandbox.text` replaces machine paths, loopback ports and clock times with
placeholders (``<WORK>``, ``<TEACHING_CHANNELS>``, ``<SERVER>``, ``<TIME>``), so a notebook's
stored outputs are the same on every machine — ``pytest --nbval`` compares them.

It is :class:`conda_deepdive.render.notebook.Workshop` (sessions on the teaching channels, plain
renderings) plus the files a lesson wants to open::

    >>> sb = Sandbox("demo")
    >>> sb.write_condarc("channel_priority: strict\\n")
    >>> sb.context("install", "numpy").source_of("channel_priority")   # '<WORK>/condarc'
    >>> sb.cleanup()
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
from pathlib import Path
from collections.abc import Iterable, Mapping

from conda_deepdive.render.notebook import Workshop
from conda_deepdive.render.sanitize import Sanitizer

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Sandbox", "PINNED_SUBDIR"]

#: The platform every lesson pretends to run on (the teaching channels have linux-64 + noarch).
PINNED_SUBDIR = "linux-64"

# clock times that end up in files a lesson opens (history, HTTP dates, server logs)
_TIMES = (
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?"), "<TIME>"),
    (re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"), "<HTTP-DATE>"),
    (re.compile(r"\[\d\d/\w{3}/\d{4} \d\d:\d\d:\d\d\]"), "[<TIME>]"),
)

# ruamel.yaml (as conda uses it) moves a plain value that would pass column 80 onto its own,
# indented line — so whether ``channel_alias: file://<WORK>/…`` is folded depends on how long
# this machine's temporary folder is. A folded value holding a placeholder is joined back.
_FOLDED_YAML = re.compile(
    r"^(?P<head>(?P<indent> *)[^\s#:-][^\n:]*):[ ]*\n(?P=indent) +(?P<value>(?!- )(?=\S)[^\n]*<[A-Z_-]+>[^\n]*)$",
    re.M)


def _unfold(m: re.Match) -> str:
    value = m.group("value")
    if ": " in value or value.endswith(":"):  # a nested mapping, not a folded scalar
        return m.group(0)
    return f"{m.group('head')}: {value}"


class Sandbox(Workshop):
    """One notebook's temporary workspace. Use it as a context manager or call :meth:`cleanup`."""

    def __init__(self, name: str = "sandbox", *, condarc: str | None = None,
                 env: Mapping[str, str] | None = None, width: int = 100) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name) or "sandbox"
        root = os.path.realpath(tempfile.mkdtemp(prefix=f"conda-deepdive-{safe}-"))
        self.name = name
        self.condarc = os.path.join(root, "condarc")
        self.pkgs_dir = os.path.join(root, "pkgs")
        self.prefix_dir = os.path.join(root, "env")
        self.placeholders: dict[str, str] = {}
        self._servers: list = []
        super().__init__(root, width=width, env={
            "CONDARC": self.condarc,
            "CONDA_SUBDIR": PINNED_SUBDIR,
            **(env or {}),
        })
        # a notebook whose last cell never runs (a closed tab, a stopped kernel) still leaves
        # nothing behind: the folder goes when the Sandbox is collected or Python exits
        self._finalizer = weakref.finalize(self, shutil.rmtree, root, True)
        self.write_condarc(condarc or "")
        self.prefix("env")  # an empty environment: conda-meta/history

    # -- files ----------------------------------------------------------------------------------
    def write_condarc(self, text: str) -> str:
        """(Re)write the sandbox's condarc (YAML text); returns its path."""
        with open(self.condarc, "w", encoding="utf-8") as f:
            f.write(text)
        return self.condarc

    def path(self, *parts: str) -> str:
        """A path inside the sandbox (``sb.path("env", "conda-meta")``)."""
        return os.path.join(self.root, *parts)

    def read(self, path: str | os.PathLike, *, limit: int | None = None) -> str:
        """A text file's contents, sanitized (``limit``: at most that many lines)."""
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        if limit is not None and len(lines) > limit:
            lines = lines[:limit] + [f"… ({len(text.splitlines()) - limit} more lines)"]
        return self.text("\n".join(lines))

    def _size(self, file: Path) -> str:
        """A file's size for :meth:`tree`. A small text file that names a machine path (the
        package cache's ``urls.txt`` names the channel folder) is counted in lines: its byte size
        depends on where the checkout lives, and stored outputs must not."""
        size = file.stat().st_size
        if size <= 65536:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return f"{size:,} B"
            if self.text(text) != text:
                count = len(text.splitlines())
                return f"{count} line{'s' if count != 1 else ''}"
        return f"{size:,} B"

    def tree(self, path: str | os.PathLike, *, depth: int = 3, limit: int = 40,
             exclude: Iterable[str] = ()) -> str:
        """A sorted, sanitized listing of ``path`` (like ``tree -L depth``), files with sizes;
        entries named in ``exclude`` are left out."""
        skip = set(exclude)
        root = Path(path)
        lines = [self.text(str(root)) + "/"]

        def walk(folder: Path, level: int) -> None:
            for child in sorted(folder.iterdir(), key=lambda p: self.text(p.name)):
                if len(lines) > limit:
                    return
                if child.name in skip:
                    continue
                pad, name = "    " * level, self.text(child.name)
                if child.is_symlink():
                    lines.append(f"{pad}{name} -> {self.text(os.readlink(child))}")
                elif child.is_dir():
                    lines.append(f"{pad}{name}/")
                    if level + 1 < depth:
                        walk(child, level + 1)
                else:
                    lines.append(f"{pad}{name}  ({self._size(child)})")

        if root.is_dir():
            walk(root, 1)
        if len(lines) > limit:
            lines = lines[:limit] + ["    …"]
        return "\n".join(lines)

    # -- configuration ----------------------------------------------------------------------------
    def context(self, *argv: str, env: Mapping[str, str] | None = None) -> Any:
        """The Context stage 2 builds for the command line ``argv`` (``-p`` defaults to
        :attr:`prefix_dir`): built-in defaults → this sandbox's condarc → ``CONDA_*`` (the
        sandbox's environment plus ``env``) → the flags."""
        from conda_deepdive.cli.parser import parse_command
        from conda_deepdive.config.context import Context

        args = list(argv) or ["install"]
        if args[0] in ("create", "install", "update", "remove") and not {"-p", "--prefix", "-n", "--name"} & set(args):
            args[1:1] = ["-p", self.prefix_dir]
        parsed = parse_command(args)
        return Context.load(args=parsed.namespace, env={**self.env, **(env or {})})

    def session(self, command: str, *specs: str, channels: Iterable[str] = ("main",),
                prefix: str | None = None, extra: Iterable[str] = (), reporter: Any = None,
                env: Mapping[str, str] | None = None) -> Any:
        """A Session on the teaching channels (see ``Workshop.session``); ``prefix`` defaults to a
        new environment folder under the sandbox."""
        return super().session(command, *specs, channels=channels, prefix=prefix, extra=extra,
                               reporter=reporter, env=env)

    # -- a channel server on the loopback interface ---------------------------------------------
    def serve(self, directory: str | os.PathLike | None = None, *, max_age: int = 60) -> str:
        """Serve ``directory`` (default: the teaching channels) over HTTP on 127.0.0.1, a free
        port, until :meth:`cleanup`; returns the base URL (shown as ``<SERVER>``). The server's
        request log is kept in :attr:`server_log` (see :meth:`requests_seen`)."""
        import io
        import threading

        from conda_deepdive.config.teaching_defaults import channels_dir
        from conda_deepdive.teaching.serve import make_server

        self.server_log = io.StringIO()
        server = make_server(directory or channels_dir(), port=0, bind="127.0.0.1",
                             max_age=max_age, log_stream=self.server_log)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="conda-deepdive-sandbox-serve", daemon=True)
        thread.start()
        self._servers.append((server, thread))
        host, port = server.server_address[:2]
        url = f"http://{host}:{port}"
        self.placeholder(url, "<SERVER>")
        return url

    def requests_seen(self) -> list[str]:
        """The GET/HEAD lines the server logged since the last call, without client address and
        time, sorted (conda fetches subdirs in threads, so their order varies)."""
        log = getattr(self, "server_log", None)
        if log is None:
            return []
        lines = [line.split("] ", 1)[1] for line in log.getvalue().splitlines()
                 if '"GET' in line or '"HEAD' in line]
        log.seek(0)
        log.truncate()
        return sorted(lines)

    def _stop_servers(self) -> None:
        while self._servers:
            server, thread = self._servers.pop()
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

    # -- stable text ------------------------------------------------------------------------------
    def placeholder(self, value: str, name: str) -> None:
        """Show ``value`` as ``name`` from now on (e.g. a loopback server's URL as ``<SERVER>``)."""
        self.placeholders[value] = name

    @property
    def sanitizer(self) -> Sanitizer:
        base = super().sanitizer
        return Sanitizer({**dict(base.pairs), **self.placeholders})

    def text(self, value: Any) -> str:
        text = super().text(value)
        for pattern, repl in _TIMES:
            text = pattern.sub(repl, text)
        return _FOLDED_YAML.sub(_unfold, text)

    def show(self, what: Any, stage: str | None = None, *, full: bool = False) -> None:
        """Display a stage section (``sb.show(session, "solve")``), a result object, an error or
        a rich renderable as HTML with a stable text twin (:func:`conda_deepdive.course.display.show`),
        with this sandbox's placeholders."""
        from conda_deepdive.course.display import show

        show(what, stage, full=full, sanitizer=self.sanitizer, width=self.width)

    def echo(self, value: Any) -> None:
        """Print :meth:`text` of ``value``."""
        print(self.text(value))

    # -- lifetime ---------------------------------------------------------------------------------
    def cleanup(self) -> None:
        """Stop the servers and remove the whole workspace (safe to call twice)."""
        self._stop_servers()
        shutil.rmtree(self.root, ignore_errors=True)
        self._finalizer.detach()

    @property
    def removed(self) -> bool:
        return not os.path.exists(self.root)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        return f"Sandbox({self.name!r}, root='<WORK>')"
