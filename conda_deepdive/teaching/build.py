"""Build the teaching channels: ``python -m conda_deepdive.teaching.build [--out DIR]``.

Reads the recipes under ``conda_deepdive/data/recipes/`` (see :mod:`.recipes`), builds every package archive
(:mod:`.archive`) and indexes each channel (:mod:`.indexer`), writing::

    <out>/pkgs/main/{channeldata.json,index.html,linux-64/,noarch/}
    <out>/pkgs/free/...
    <out>/cloud/conda-forge/...

which is the layout of a conda mirror: ``channel_alias: file://<out>/pkgs`` makes the channel
name ``main`` mean ``<out>/pkgs/main``, and ``file://<out>/cloud`` as alias serves
``conda-forge``. The default output is the committed ``conda_deepdive/data/channels``; the build is
byte-reproducible, so rebuilding it must leave ``git status`` clean.

Each channel is first written to a temporary directory beside the destination and then moved
into place, so an interrupted build never leaves a half-written channel behind.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from conda_deepdive.config.teaching_defaults import channels_dir, data_dir, recipes_dir
from conda_deepdive.teaching.archive import BuiltPackage, build_package, dumps_json
from conda_deepdive.teaching.indexer import channel_index_html, channeldata, subdir_files
from conda_deepdive.teaching.recipes import ChannelSpec, load_channels
from conda_deepdive.values import value_object

__all__ = ["DATA_DIR", "RECIPES_DIR", "CHANNELS_DIR", "ChannelBuild", "build_channel", "build_all", "main"]

# the package data (found through importlib.resources, so an installed copy finds it too)
DATA_DIR = data_dir()
RECIPES_DIR = recipes_dir()
CHANNELS_DIR = channels_dir()
SUBDIRS = ("linux-64", "noarch")
# zstd output is stable for a given library version and level, not across versions: the
# committed .conda/.zst bytes were made with this libzstd (zstandard.ZSTD_VERSION)
ZSTD_BUILT_WITH = (1, 5, 7)


@value_object(frozen=True)
class ChannelBuild:
    """What one channel build produced (for the report and for tests)."""

    path: str
    packages: tuple[BuiltPackage, ...]
    files: tuple[tuple[str, int], ...]  # (relative path, size)

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)

    def __repr__(self) -> str:
        archives = sum(len(p.archives) for p in self.packages)
        return (f"<ChannelBuild {self.path}: {len(self.packages)} packages, {archives} archives, "
                f"{self.total_bytes} bytes>")


def channel_files(channel: ChannelSpec) -> tuple[list[BuiltPackage], dict[str, bytes]]:
    """Build one channel in memory: ``{relative path: bytes}`` for every file it contains."""
    built = [build_package(spec) for spec in channel.packages]
    files: dict[str, bytes] = {}
    for subdir in SUBDIRS:
        in_subdir = [p for p in built if p.spec.subdir == subdir]
        for name, data in subdir_files(subdir, in_subdir, channel.path).items():
            files[f"{subdir}/{name}"] = data
    cdata = channeldata(built)
    files["channeldata.json"] = dumps_json(cdata)
    files["index.html"] = channel_index_html(channel.path, cdata)
    return built, files


def build_channel(channel: ChannelSpec, out_dir: Path) -> ChannelBuild:
    """Write one channel under ``out_dir/<channel.path>``, replacing what was there."""
    built, files = channel_files(channel)
    dest = Path(out_dir) / channel.path
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-build-", dir=dest.parent))
    try:
        for rel, data in sorted(files.items()):
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            os.chmod(target, 0o644)
        os.chmod(staging, 0o755)
        if dest.exists():
            old = dest.with_name(f".{dest.name}-old")
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
            staging.rename(dest)
            shutil.rmtree(old)
        else:
            staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ChannelBuild(channel.path, tuple(built), tuple((rel, len(d)) for rel, d in sorted(files.items())))


def build_all(out_dir: Path | str = CHANNELS_DIR, recipes_dir: Path | str = RECIPES_DIR) -> tuple[ChannelBuild, ...]:
    """Build every channel listed in ``recipes_dir/channels.yaml`` into ``out_dir``."""
    channels = load_channels(Path(recipes_dir))
    return tuple(build_channel(channel, Path(out_dir)) for channel in channels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conda_deepdive.teaching.build",
        description="Build the offline teaching channels from conda_deepdive/data/recipes/.")
    parser.add_argument("--out", type=Path, default=CHANNELS_DIR,
                        help=f"output directory (default: {CHANNELS_DIR})")
    parser.add_argument("--recipes", type=Path, default=RECIPES_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from conda_deepdive.exceptions import CondaError

    try:
        results = build_all(args.out, args.recipes)
    except CondaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for r in results:
        print(r)
    total = sum(r.total_bytes for r in results)
    print(f"wrote {sum(len(r.packages) for r in results)} packages, {total} bytes, into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
