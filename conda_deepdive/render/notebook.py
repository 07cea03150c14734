"""Notebook helpers: run Sessions in a scratch folder and show stages as stable text.

A notebook cell's stored output is compared by ``pytest --nbval``, so what a cell prints must be
the same on every machine and every run. :class:`Workshop` arranges that:

* everything lives in one scratch folder (``ws.root``): environments, the package cache, HOME;
* the virtual packages are pinned with ``CONDA_OVERRIDE_*`` (a real machine's glibc, kernel
  and CPU would otherwise show up in the output);
* :meth:`Workshop.show` renders a stage section, a result object or any rich renderable as plain
  text (no colour, fixed width, no timings) with paths replaced by placeholders
  (``<WORK>``, ``<TEACHING_CHANNELS>``…).

``Workshop.stepper(session)`` offers an ipywidgets "next stage" button when ipywidgets is
installed; it is optional and the notebooks never store widget state.

    >>> ws = Workshop()
    >>> s = ws.session("install", "numpy")
    >>> s.next(); ws.show(s, "parse")

After an intended change of output (a solver that makes fewer pycosat calls, a new column),
refresh the stored outputs and review the diff::

    python -m conda_deepdive.render.notebook conda_deepdive/course/notebooks/*.ipynb
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping

from conda_deepdive.render.sanitize import Sanitizer, sanitizing

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Workshop", "PINNED_VIRTUAL_PACKAGES", "teaching_channel", "refresh_outputs"]

#: What the notebooks pretend the machine is (so stored outputs match everywhere).
PINNED_VIRTUAL_PACKAGES = {
    "CONDA_OVERRIDE_GLIBC": "2.36",
    "CONDA_OVERRIDE_LINUX": "6.1.0",
    "CONDA_OVERRIDE_ARCHSPEC": "x86_64",
    "CONDA_OVERRIDE_CUDA": "",
}


def teaching_channel(name: str = "main") -> str:
    """The ``file://`` URL of a teaching channel: ``main``, ``free`` or ``conda-forge``."""
    from conda_deepdive.config.teaching_defaults import channels_dir

    sub = {"main": "pkgs/main", "free": "pkgs/free", "conda-forge": "cloud/conda-forge"}.get(name, name)
    return (channels_dir() / sub).as_uri()


class Workshop:
    """A scratch folder + a fixed environment mapping + a sanitizer, for reproducible notebooks."""

    def __init__(self, root: str | None = None, *, width: int = 100,
                 env: Mapping[str, str] | None = None) -> None:
        self.root = os.path.abspath(root) if root else tempfile.mkdtemp(prefix="conda-deepdive-ws-")
        os.makedirs(self.root, exist_ok=True)
        self.width = width
        self.home = os.path.join(self.root, "home")
        os.makedirs(self.home, exist_ok=True)
        self.env = {
            "HOME": self.home,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TMPDIR": self.root,
            "CONDA_PKGS_DIRS": os.path.join(self.root, "pkgs"),
            **PINNED_VIRTUAL_PACKAGES,
            **(env or {}),
        }
        self._count = 0

    # -- sessions ------------------------------------------------------------------------------
    def prefix(self, name: str | None = None, *, empty_env: bool = True) -> str:
        """A new prefix path under the workshop folder (an empty environment unless told not)."""
        self._count += 1
        path = os.path.join(self.root, name or f"env{self._count}")
        if empty_env:
            os.makedirs(os.path.join(path, "conda-meta"), exist_ok=True)
            history = os.path.join(path, "conda-meta", "history")
            if not os.path.exists(history):
                open(history, "w", encoding="utf-8").close()
        return path

    def session(self, command: str, *specs: str, channels: Iterable[str] = ("main",),
                prefix: str | None = None, extra: Iterable[str] = (), reporter: Any = None,
                env: Mapping[str, str] | None = None) -> Any:
        """A :class:`~conda_deepdive.pipeline.Session` for ``command`` on the teaching channels.

        ``channels`` are teaching channel names (``main``, ``free``, ``conda-forge``) or URLs;
        they replace the configured ones (``--override-channels``). A fresh empty environment is
        made unless ``prefix`` is given.
        """
        from conda_deepdive.pipeline import Session

        if prefix is None:
            prefix = self.prefix(empty_env=command != "create")
        argv = [command, "-p", prefix, "-y", "--override-channels"]
        for channel in channels:
            argv += ["-c", channel if "://" in channel else teaching_channel(channel)]
        argv += [*extra, *specs]
        return Session.from_argv(argv, env={**self.env, **(env or {})}, reporter=reporter)

    # -- showing -------------------------------------------------------------------------------
    @property
    def sanitizer(self) -> Sanitizer:
        from conda_deepdive.config.teaching_defaults import channels_dir

        return Sanitizer({
            self.root: "<WORK>",
            str(channels_dir()): "<TEACHING_CHANNELS>",
            os.path.abspath(sys.prefix): "<ROOT_PREFIX>",
        })

    def text(self, value: Any) -> str:
        """``str(value)`` with machine paths replaced (for ``repr`` of result objects)."""
        return self.sanitizer.text(str(value))

    def render(self, what: Any, stage: str | None = None, *, full: bool = False) -> str:
        """Plain text of a stage section (``render(session, "solve")``) or of a renderable."""
        from conda_deepdive.render.console import render_text, stage_panel

        with sanitizing(self.sanitizer):
            if stage is not None:
                renderable = stage_panel(what, stage, full=full, timings=False)
            elif hasattr(what, "__rich_console__") or hasattr(what, "__rich__") or isinstance(what, str):
                renderable = what
            else:
                from conda_deepdive.render.console import data_renderable

                summary = getattr(what, "summary", None)
                renderable = data_renderable(summary() if callable(summary) else repr(what))
            return render_text(renderable, width=self.width, sanitizer=self.sanitizer)

    def show(self, what: Any, stage: str | None = None, *, full: bool = False) -> None:
        """Print :meth:`render` (a notebook cell's stream output: plain, stable text)."""
        print(self.render(what, stage, full=full), end="")

    def stepper(self, session: Any) -> Any:
        """An ipywidgets button that runs the next stage and shows it (optional)."""
        try:
            import ipywidgets as widgets
        except ImportError:  # pragma: no cover - ipywidgets is in the test/notebook extras
            print("ipywidgets is not installed: call session.next() and ws.show(session, name)")
            return None
        output = widgets.Output()
        button = widgets.Button(description=f"run {session.next_stage}")

        def on_click(_button: Any) -> None:
            name = session.next_stage
            if name is None:
                return
            with output:
                session.next()
                self.show(session, name)
            button.description = f"run {session.next_stage}" if session.next_stage else "done"
            button.disabled = session.next_stage is None

        button.on_click(on_click)
        return widgets.VBox([button, output])

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __repr__(self) -> str:
        return "Workshop(root='<WORK>')"


# ----------------------------------------------------------------------------------------------
# refreshing the stored outputs (uses jupyter_client + nbformat, which nbval already needs)
# ----------------------------------------------------------------------------------------------

def refresh_outputs(path: str, *, timeout: float = 300.0, kernel_name: str = "python3") -> int:
    """Run every code cell of the notebook at ``path`` in a fresh kernel and store the outputs.

    Returns the number of code cells run. A cell that raises stops the refresh (nothing is
    written), so a broken notebook is never stored as if it were fine.
    """
    import nbformat
    from jupyter_client.manager import start_new_kernel

    book = nbformat.read(path, as_version=4)
    manager, client = start_new_kernel(kernel_name=kernel_name,
                                       cwd=os.path.dirname(os.path.abspath(path)))
    count = 0
    try:
        for cell in book.cells:
            if cell.cell_type != "code":
                continue
            count += 1
            cell.outputs = _run_cell(client, cell.source, timeout, path, count)
            cell.execution_count = count
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    nbformat.write(book, path)
    return count


def _run_cell(client: Any, source: str, timeout: float, path: str, number: int) -> list:
    import nbformat

    msg_id = client.execute(source)
    outputs: list = []
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            return outputs
        if kind == "error":
            raise RuntimeError(f"{path}: code cell {number} failed: {content['ename']}: {content['evalue']}")
        if kind == "stream":
            last = outputs[-1] if outputs else None
            if last is not None and last.get("output_type") == "stream" and last.get("name") == content["name"]:
                last["text"] += content["text"]  # one output per run of a stream, like nbclient
                continue
        if kind in ("stream", "display_data", "execute_result"):
            outputs.append(nbformat.v4.output_from_msg(msg))


def main(argv: list[str] | None = None) -> int:
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("usage: python -m conda_deepdive.render.notebook NOTEBOOK.ipynb ...", file=sys.stderr)
        return 2
    for path in paths:
        cells = refresh_outputs(path)
        print(f"{path}: {cells} code cells run, outputs stored")
    return 0


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    raise SystemExit(main())
