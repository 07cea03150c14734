"""Recipes: the declarative YAML that describes every package of the teaching channels.

A real channel is made by conda-build (recipe → package archive) and conda-index
(archives → ``repodata.json``). Our recipes play the first part in miniature: each YAML file
under ``conda_deepdive/data/recipes/<channel>/`` lists packages with the metadata conda-build would put in
``info/index.json`` (name, version, build string, depends, constrains, …) and the few files
each package carries.

One recipe can describe many packages through a ``matrix`` — a list of axes, each a list of
variable dicts — just as conda-build's variants turn one numpy recipe into a build per python
version and BLAS flavour. ``@@var@@`` anywhere in a string is replaced by the variant's value;
``@@PREFIX@@`` in a file becomes the conda-build prefix placeholder, so the builder can record
it in ``info/has_prefix`` exactly as conda-build does. Empty strings in ``depends``,
``constrains`` and ``track_features`` disappear, which lets a variant drop a dependency.

A file comes from ``content`` (inline text), ``template`` (a text file in ``sources/``, with
substitution) or ``source`` (a file in ``sources/`` copied byte for byte, such as the one
committed compiled binary). ``libraries`` is a shorthand for a stand-in ``.so`` plus its soname
symlinks, ``scripts`` writes ``bin/.<name>-<kind>.sh`` link scripts and ``entry_points`` go to
``info/link.json`` of a ``noarch: python`` package.

What to notice: the build string ``py311h1a2b3c4_0`` is not decoration. ``py311`` says which
python it was built for, ``h1a2b3c4`` is a hash of the variant's requirements (different deps →
different hash → different file name), and ``_0`` is the build number.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import posixpath
import re
from pathlib import Path
from collections.abc import Iterator

from conda_deepdive.exceptions import CondaError
from conda_deepdive.values import value_object

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "RecipeError",
    "FileSpec",
    "SymlinkSpec",
    "PackageSpec",
    "ChannelSpec",
    "load_channels",
    "prefix_placeholder",
]

SCRIPT_KINDS = ("pre-link", "post-link", "pre-unlink")
_VAR = re.compile(r"@@([A-Za-z_][A-Za-z0-9_]*)@@")
_PACKAGE_KEYS = {
    "name", "version", "build", "build_number", "subdir", "noarch", "depends", "constrains",
    "track_features", "license", "license_family", "summary", "description", "home",
    "dev_url", "timestamp", "formats", "run_exports", "files", "symlinks", "libraries",
    "entry_points", "scripts", "matrix", "exclude",
}
_FILE_KEYS = {"path", "content", "source", "template", "executable", "no_link"}


class RecipeError(CondaError):
    """A teaching-channel recipe that cannot be turned into packages."""


def prefix_placeholder(name: str) -> str:
    """The host-prefix placeholder conda-build would have used building ``name``.

    conda-build builds in ``<croot>/<pkg>_<timestamp>/_h_env_placehold_placehold…`` and pads
    the path to 255 characters, so that any real prefix up to that length fits when conda
    rewrites it at link time.
    """
    return (f"/home/builder/conda-bld/{name}_1700000000000/_h_env" + "_placehold" * 30)[:255]


@value_object(frozen=True)
class FileSpec:
    """One regular file of a package, with its final bytes."""

    path: str
    content: bytes
    executable: bool = False
    no_link: bool = False

    def __repr__(self) -> str:
        flags = "".join(f" {f}" for f, on in (("exec", self.executable), ("no_link", self.no_link)) if on)
        return f"<FileSpec {self.path} {len(self.content)}B{flags}>"


@value_object(frozen=True)
class SymlinkSpec:
    """A symbolic link stored in the archive (conda path_type ``softlink``)."""

    path: str
    target: str

    def __repr__(self) -> str:
        return f"<SymlinkSpec {self.path} -> {self.target}>"


@value_object(frozen=True)
class PackageSpec:
    """Everything needed to write one package archive (one variant of one recipe)."""

    channel: str
    name: str
    version: str
    build: str
    build_number: int
    subdir: str
    noarch: str | None
    depends: tuple[str, ...]
    constrains: tuple[str, ...]
    track_features: tuple[str, ...]
    license: str
    license_family: str | None
    summary: str
    description: str
    home: str
    dev_url: str | None
    timestamp: int
    formats: tuple[str, ...]
    run_exports: str | None  # canonical JSON, kept as text so the spec stays hashable
    files: tuple[FileSpec, ...]
    symlinks: tuple[SymlinkSpec, ...]
    entry_points: tuple[str, ...]
    recipe_file: str

    @property
    def dist(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"

    @property
    def placeholder(self) -> str:
        return prefix_placeholder(self.name)

    def __repr__(self) -> str:
        return f"<PackageSpec {self.channel}/{self.subdir}::{self.dist} {'+'.join(self.formats)}>"


@value_object(frozen=True)
class ChannelSpec:
    """A channel directory (``pkgs/main``…) and the packages its recipes produce."""

    path: str
    title: str
    packages: tuple[PackageSpec, ...]

    def __repr__(self) -> str:
        return f"<ChannelSpec {self.path}: {len(self.packages)} packages>"


def _yaml_load(path: Path) -> Any:
    from ruamel.yaml import YAML  # heavy import kept local (see ARCHITECTURE.md)
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise RecipeError(f"recipe {path}: not valid YAML: {exc}") from None


def load_channels(recipes_dir: Path) -> tuple[ChannelSpec, ...]:
    """Read ``channels.yaml`` and every channel's recipe files, expanding all variants."""
    recipes_dir = Path(recipes_dir)
    index_file = recipes_dir / "channels.yaml"
    if not index_file.is_file():
        raise RecipeError(f"recipe directory {recipes_dir} has no channels.yaml")
    doc = _yaml_load(index_file) or {}
    channels = []
    for entry in doc.get("channels", []):
        path = entry["path"]
        chan_dir = recipes_dir / path
        files = sorted(chan_dir.glob("*.yaml"))
        if not files:
            raise RecipeError(f"channel {path}: no recipe files in {chan_dir}")
        packages: list[PackageSpec] = []
        for f in files:
            packages.extend(_load_recipe_file(f, path, recipes_dir))
        seen: dict[tuple[str, str], str] = {}
        for p in packages:
            key = (p.subdir, p.dist)
            if key in seen:
                raise RecipeError(f"channel {path}: {p.subdir}/{p.dist} is produced twice "
                                  f"({seen[key]} and {p.recipe_file})")
            seen[key] = p.recipe_file
        channels.append(ChannelSpec(path, entry.get("title", path), tuple(packages)))
    return tuple(channels)


def _load_recipe_file(path: Path, channel: str, recipes_dir: Path) -> Iterator[PackageSpec]:
    doc = _yaml_load(path) or {}
    defaults = doc.get("defaults", {}) or {}
    rel = path.relative_to(recipes_dir).as_posix()
    for raw in doc.get("packages", []) or []:
        recipe = {**defaults, **raw}
        label = f"recipe {rel} (package {recipe.get('name', '?')})"
        unknown = set(recipe) - _PACKAGE_KEYS
        if unknown:
            raise RecipeError(f"{label}: unknown keys {sorted(unknown)}")
        for variables in _variants(recipe, label):
            yield _expand(recipe, variables, channel, rel, label, recipes_dir)


def _variants(recipe: dict, label: str) -> Iterator[dict[str, Any]]:
    axes = recipe.get("matrix") or [[{}]]
    if not all(isinstance(axis, list) and axis for axis in axes):
        raise RecipeError(f"{label}: matrix must be a list of non-empty lists of variable dicts")
    excludes = recipe.get("exclude") or []
    for combo in itertools.product(*axes):
        merged: dict[str, Any] = {}
        for d in combo:
            merged.update(d)
        if any(all(str(merged.get(k)) == str(v) for k, v in ex.items()) for ex in excludes):
            continue
        yield merged


def _substitute(value: Any, variables: dict[str, Any], label: str) -> Any:
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole and whole.group(1) in variables and not isinstance(variables[whole.group(1)], str):
            return variables[whole.group(1)]  # keep ints (timestamps, build numbers) as ints

        def repl(m: re.Match) -> str:
            if m.group(1) not in variables:
                raise RecipeError(f"{label}: unknown variable @@{m.group(1)}@@")
            return str(variables[m.group(1)])

        return _VAR.sub(repl, value)
    if isinstance(value, list):
        return [_substitute(v, variables, label) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, variables, label) for k, v in value.items()}
    return value


def _variant_hash(name: str, depends: list[str], constrains: list[str], variables: dict) -> str:
    # conda-build hashes the variant's pinned requirements; we hash the resolved
    # requirements plus the variant variables (version excluded, as conda-build does).
    used = {k: str(v) for k, v in variables.items() if k not in ("version", "timestamp")}
    blob = json.dumps([name, sorted(depends), sorted(constrains), used], sort_keys=True)
    return "h" + hashlib.sha256(blob.encode()).hexdigest()[:7]


def _expand(recipe: dict, variables: dict, channel: str, rel: str, label: str,
            recipes_dir: Path) -> PackageSpec:
    v = dict(variables)
    if "python" in v:
        v.setdefault("py_nodot", str(v["python"]).replace(".", ""))
    name = _substitute(recipe.get("name"), v, label)
    if not name:
        raise RecipeError(f"{label}: a package needs a name")
    v["name"] = name
    version = str(_substitute(recipe.get("version", ""), v, label))
    if not version:
        raise RecipeError(f"{label}: a package needs a version")
    v["version"] = version
    build_number = int(_substitute(recipe.get("build_number", 0), v, label))
    v["build_number"] = build_number
    label = f"recipe {rel} ({name}-{version})"

    def strings(key: str) -> list[str]:
        return [s for s in (str(x) for x in _substitute(recipe.get(key) or [], v, label)) if s]

    depends, constrains = strings("depends"), strings("constrains")
    noarch = recipe.get("noarch")
    if noarch not in (None, "python", "generic"):
        raise RecipeError(f"{label}: noarch must be 'python' or 'generic', not {noarch!r}")
    v["hash"] = _variant_hash(name, depends, constrains, v)
    default_build = ("py" if noarch == "python" else
                     f"py{v['py_nodot']}" if "py_nodot" in v else "") + "@@hash@@_@@build_number@@"
    build = str(_substitute(recipe.get("build", default_build), v, label))
    v["build"] = build
    v["PREFIX"] = prefix_placeholder(name)
    subdir = "noarch" if noarch else str(recipe.get("subdir", "linux-64"))
    timestamp = _substitute(recipe.get("timestamp"), v, label)
    if not isinstance(timestamp, int) or timestamp < 10**12:
        raise RecipeError(f"{label}: timestamp must be epoch milliseconds, got {timestamp!r}")
    formats = tuple(_substitute(recipe.get("formats"), v, label) or (".conda", ".tar.bz2"))
    if not formats or set(formats) - {".conda", ".tar.bz2"}:
        raise RecipeError(f"{label}: formats must be a subset of ['.conda', '.tar.bz2']")

    files = [_file(f, v, label, recipes_dir) for f in recipe.get("files") or []]
    symlinks = [SymlinkSpec(*_substitute([s["path"], s["target"]], v, label))
                for s in recipe.get("symlinks") or []]
    for real, links in (_substitute(recipe.get("libraries") or {}, v, label)).items():
        files.append(FileSpec(real, (f"{posixpath.basename(real)}: stand-in for a shared library "
                                     f"of {name} {version} (conda-deepdive teaching channel; "
                                     f"not loadable)\n").encode(), executable=True))
        for link in links:
            target = posixpath.relpath(real, posixpath.dirname(link) or ".")
            symlinks.append(SymlinkSpec(link, target))
    for kind, body in (recipe.get("scripts") or {}).items():
        if kind not in SCRIPT_KINDS:
            raise RecipeError(f"{label}: script kind {kind!r} is not one of {SCRIPT_KINDS}")
        files.append(FileSpec(f"bin/.{name}-{kind}.sh", _substitute(body, v, label).encode(),
                              executable=True))
    entry_points = tuple(strings("entry_points"))
    if entry_points and noarch != "python":
        raise RecipeError(f"{label}: entry_points are only written for noarch: python packages")
    paths = [f.path for f in files] + [s.path for s in symlinks]
    dupes = {p for p in paths if paths.count(p) > 1}
    if dupes:
        raise RecipeError(f"{label}: paths listed twice: {sorted(dupes)}")
    run_exports = recipe.get("run_exports")

    return PackageSpec(
        channel=channel, name=name, version=version, build=build, build_number=build_number,
        subdir=subdir, noarch=noarch, depends=tuple(depends), constrains=tuple(constrains),
        track_features=tuple(strings("track_features")),
        license=str(recipe.get("license", "")), license_family=recipe.get("license_family"),
        summary=str(_substitute(recipe.get("summary", ""), v, label)),
        description=str(_substitute(recipe.get("description", ""), v, label)).strip(),
        home=str(recipe.get("home", "")), dev_url=recipe.get("dev_url"),
        timestamp=timestamp, formats=formats,
        run_exports=json.dumps(_substitute(run_exports, v, label), sort_keys=True) if run_exports else None,
        files=tuple(sorted(files, key=lambda f: f.path)),
        symlinks=tuple(sorted(symlinks, key=lambda s: s.path)),
        entry_points=entry_points, recipe_file=rel,
    )


def _file(raw: dict, v: dict, label: str, recipes_dir: Path) -> FileSpec:
    origins = [k for k in ("content", "source", "template") if k in raw]
    unknown = set(raw) - _FILE_KEYS
    if unknown or "path" not in raw or len(origins) != 1:
        raise RecipeError(f"{label}: a file needs 'path' and exactly one of 'content', 'source' "
                          f"or 'template' (got keys {sorted(raw)})")
    path = _substitute(raw["path"], v, label)
    if path.startswith("/") or ".." in path.split("/"):
        raise RecipeError(f"{label}: file path {path!r} must be relative and stay inside the prefix")
    if "content" in raw:
        content = _substitute(raw["content"], v, label).encode()
    else:
        src = recipes_dir / "sources" / raw[origins[0]]
        if not src.is_file():
            raise RecipeError(f"{label}: {origins[0]} file {src} does not exist")
        if "source" in raw:
            content = src.read_bytes()  # copied byte for byte: committed binaries never rebuild
        else:  # a text file shared by several recipes, with @@var@@ substitution
            content = _substitute(src.read_text(encoding="utf-8"), v, label).encode()
    # the mode comes from the recipe only, never from the checkout (git may lose exec bits)
    return FileSpec(path, content, bool(raw.get("executable", False)), bool(raw.get("no_link", False)))
