"""What the mirror already knows: verified files and the upstream index's HTTP validators.

conda-mirror re-hashes every file of the mirror on every run (hours on a big channel). Here each
subdir keeps a small JSON file, ``.mirror-state.json``, beside its index:

* ``files``: ``{fn: {"size", "mtime_ns", "sha256"}}`` for every package file this tool wrote or
  verified. A file whose size *and* mtime still match, and whose record's sha256 is the one that
  was verified, is trusted without reading it again (the same bargain ``make`` and ``rsync``
  make). Anything else is re-checked.
* ``upstream``: the ``ETag``/``Last-Modified`` of upstream's ``repodata.json`` — sent back as
  ``If-None-Match``/``If-Modified-Since`` so that an unchanged upstream answers ``304`` with
  no body.

The state is a cache, never the truth: deleting it only costs one re-hash. It is written
atomically (through :func:`~conda_deepdive.mirror.publish.atomic_write_bytes`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from conda_deepdive.mirror.publish import atomic_write_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["STATE_FILE", "UPSTREAM_COPY", "MirrorState"]

STATE_FILE = ".mirror-state.json"
#: upstream's full repodata.json as last fetched (filters are re-applied to it after a 304)
UPSTREAM_COPY = ".mirror-upstream-repodata.json"


class MirrorState:
    """The state of one mirrored subdir (mutable while a run works; saved at the end)."""

    def __init__(self, subdir_dir: str | os.PathLike, data: dict | None = None) -> None:
        self.subdir_dir = Path(subdir_dir)
        data = data or {}
        self.files: dict[str, dict[str, Any]] = dict(data.get("files") or {})
        self.upstream: dict[str, Any] = dict(data.get("upstream") or {})

    def __repr__(self) -> str:
        return f"MirrorState({self.subdir_dir.name}: {len(self.files)} verified files)"

    @classmethod
    def load(cls, subdir_dir: str | os.PathLike) -> "MirrorState":
        path = Path(subdir_dir) / STATE_FILE
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}  # missing or damaged: start over (costs one re-hash, loses nothing)
        return cls(subdir_dir, data if isinstance(data, dict) else {})

    def save(self) -> None:
        doc = {"files": dict(sorted(self.files.items())), "upstream": self.upstream}
        atomic_write_bytes(self.subdir_dir / STATE_FILE, json.dumps(doc, indent=1).encode(), fsync=False)

    def is_verified(self, fn: str, sha256: str | None, md5: str | None, size: int | None) -> bool:
        """True when ``fn`` is on disk exactly as it was when verified against this record."""
        entry = self.files.get(fn)
        if not entry:
            return False
        try:
            st = (self.subdir_dir / fn).stat()
        except OSError:
            return False
        if st.st_size != entry.get("size") or st.st_mtime_ns != entry.get("mtime_ns"):
            return False
        if size is not None and size != st.st_size:
            return False
        if sha256:
            return entry.get("sha256") == sha256
        return bool(md5) and entry.get("md5") == md5

    def remember(self, fn: str, sha256: str | None, md5: str | None) -> None:
        st = (self.subdir_dir / fn).stat()
        self.files[fn] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256, "md5": md5}

    def forget(self, fn: str) -> None:
        self.files.pop(fn, None)
