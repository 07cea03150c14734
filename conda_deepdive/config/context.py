"""Stage 2: the Context — every setting ``conda install`` runs with, and where each came from.

conda counterpart: ``conda.base.context.Context`` (on top of ``conda.common.configuration``); see
conda's deep dive ``docs/source/dev-guide/deep-dives/context.md``.

A setting is looked up in a cascade, lowest precedence first:

1. the built-in default (the table :data:`SETTINGS` below, conda 26.7.1's defaults),
2. the condarc files, in conda's search order (:data:`conda_deepdive.config.condarc.SEARCH_PATH`,
   ``$CONDARC`` last),
3. ``CONDA_<NAME>`` environment variables (lists are comma separated: ``CONDA_CHANNELS=a,b``),
4. the command-line flags of stage 1 — their argparse ``dest`` *is* the setting's name (or one of
   its aliases: ``-c`` fills ``channel``, an alias of ``channels``; ``-y`` fills ``yes``, an alias
   of ``always_yes``).

What to notice:

* single values: the last source wins (unless an earlier file marked the key ``#!final``);
* lists such as ``channels`` are *merged*, later sources in front — a ``-c`` channel goes first;
* ``context.source_of("channel_priority")`` tells you which file, variable or flag decided;
  ``context.show_sources()`` prints the same blocks as ``conda config --show-sources``.

Unlike conda there is no global ``context`` singleton: :meth:`Context.load` returns a value, and
:meth:`Context.replace` returns a modified copy, so a notebook can hold a strict and a flexible
Context side by side.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping

from conda_deepdive.config.condarc import (
    SEARCH_PATH,
    Layer,
    RawValue,
    Setting,
    format_dict,
    jsonable,
    load_condarc_file,
    merge_primitive,
    merge_sequence,
    search_path_files,
    sequence_items,
    type_map,
    type_primitive,
)
from conda_deepdive.config.teaching_defaults import teaching_enabled, teaching_settings
from conda_deepdive.exceptions import (
    ArgumentError,
    CondaValueError,
    CustomValidationError,
    MultipleKeysError,
    NoWritablePkgsDirError,
    OperationNotAllowed,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["Context", "Setting", "SETTINGS", "DEFAULT_CHANNELS", "DEFAULT_CHANNEL_ALIAS", "host_subdir"]

DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org"
DEFAULTS_CHANNEL_NAME = "defaults"
#: provenance label of the teaching-channel defaults (see teaching_defaults.py)
TEACHING_SOURCE = "teaching defaults"
DEFAULT_CHANNELS = ("https://repo.anaconda.com/pkgs/main", "https://repo.anaconda.com/pkgs/r")
DEFAULT_AGGRESSIVE_UPDATE_PACKAGES = ("ca-certificates", "certifi", "openssl")
ROOT_ENV_NAME = "base"



def _channel_alias_ok(value: Any) -> str | None:
    if value and "://" not in str(value):
        return f"channel_alias value '{value}' must have scheme/protocol."
    return None


def _ssl_verify_ok(value: Any) -> str | None:
    if isinstance(value, str) and value not in ("truststore",) and not os.path.exists(value):
        return (f"ssl_verify value '{value}' must be a boolean, a path to a certificate bundle file, "
                "a path to a directory containing certificates of trusted CAs, or 'truststore'.")
    return None


def _p(name, default, types=None, **kw) -> Setting:
    return Setting(name, "primitive", default, types or (type(default),), **kw)


def _s(name, default=(), **kw) -> Setting:
    return Setting(name, "sequence", tuple(default), (str,), **kw)


def _m(name, types=(str,), **kw) -> Setting:
    return Setting(name, "map", {}, types, **kw)


#: Every setting the simulator knows, with conda 26.7.1's defaults. Order = display order.
SETTINGS: tuple[Setting, ...] = (
    # channels
    _s("channels", (DEFAULTS_CHANNEL_NAME,), aliases=("channel",)),
    _p("channel_alias", DEFAULT_CHANNEL_ALIAS, validate=_channel_alias_ok),
    _s("default_channels", DEFAULT_CHANNELS),
    _m("custom_channels"),
    _m("custom_multichannels", element="sequence"),
    _p("channel_priority", "flexible", choices=("strict", "flexible", "disabled")),
    _p("override_channels_enabled", True),
    _p("use_local", False),
    _s("repodata_fns", ("current_repodata.json", "repodata.json")),
    _p("local_repodata_ttl", 1, (bool, int)),
    _p("repodata_use_shards", True),
    _p("offline", False),
    # platform
    _p("subdir", ""),
    _s("subdirs"),
    # where things live
    _p("root_prefix", "", aliases=("root_dir",)),
    _s("pkgs_dirs"),
    _s("envs_dirs", delimiter=os.pathsep, aliases=("envs_path",)),
    # conda.core.envs_manager.register_env: add new prefixes to ~/.conda/environments.txt
    _p("register_envs", True),
    # solver
    _p("add_pip_as_python_dependency", True),
    _s("pinned_packages", delimiter="&"),
    _s("aggressive_update_packages", DEFAULT_AGGRESSIVE_UPDATE_PACKAGES),
    _s("create_default_packages"),
    _p("deps_modifier", "not_set", choices=("not_set", "no_deps", "only_deps")),
    _p("update_modifier", "update_specs",
       choices=("specs_satisfied_skip_solve", "freeze_installed", "update_deps", "update_specs",
                "update_all")),
    _p("ignore_pinned", False),
    _p("force_remove", False),
    _p("force_reinstall", False),
    _p("force", False),
    _p("unsatisfiable_hints", True),
    # output and flow
    _p("always_yes", None, (bool, type(None)), aliases=("yes",)),
    _p("dry_run", False),
    _p("json", False),
    _p("quiet", False),
    _p("verbosity", 0, (int,), aliases=("verbose",)),
    _p("show_channel_urls", None, (bool, type(None))),
    # network
    _p("ssl_verify", True, (bool, str), aliases=("verify_ssl",), validate=_ssl_verify_ok),
    _m("proxy_servers", types=(str, type(None))),
    _p("remote_connect_timeout_secs", 9.15, (int, float)),
    _p("remote_read_timeout_secs", 60.0, (int, float)),
    _p("default_threads", 0, (int,)),
    _p("fetch_threads", 5, (int,)),
    _p("repodata_threads", 0, (int,)),
    _p("verify_threads", 0, (int,)),
    _p("execute_threads", 0, (int,)),
    # linking
    _p("rollback_enabled", True),
    _p("safety_checks", "warn", choices=("disabled", "warn", "enabled")),
    _p("extra_safety_checks", False),
    _p("allow_softlinks", False),
    _p("always_copy", False, aliases=("copy",)),
    _p("always_softlink", False, aliases=("softlink",)),
    _p("clobber", False),
    _p("path_conflict", "clobber", choices=("clobber", "warn", "prevent")),
    # conda-deepdive only: seconds a package script may run (None = no limit, as in conda)
    _p("link_script_timeout", None, (int, float, type(None))),
)

_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
_BY_ANY_NAME: dict[str, Setting] = {n: s for s in SETTINGS for n in s.names}

#: Values that are *computed* (from settings, flags and the environment), not read from condarc.
DERIVED = ("target_prefix", "override_glibc", "override_osx", "override_cuda", "override_archspec",
           "override_linux")

_OVERRIDE_VARS = {"override_glibc": "CONDA_OVERRIDE_GLIBC", "override_osx": "CONDA_OVERRIDE_OSX",
                  "override_cuda": "CONDA_OVERRIDE_CUDA", "override_archspec": "CONDA_OVERRIDE_ARCHSPEC",
                  "override_linux": "CONDA_OVERRIDE_LINUX"}


def host_subdir() -> str:
    """conda's native subdir for this machine (``linux-64`` on x86_64 Linux)."""
    plat = {"linux": "linux", "darwin": "osx", "win32": "win"}.get(sys.platform, sys.platform)
    from conda_deepdive.models.channel import host_uname

    machine = host_uname("machine").lower()
    if machine in ("aarch64", "arm64", "armv6l", "armv7l", "ppc64", "ppc64le", "s390x", "riscv64"):
        if plat == "osx" and machine == "aarch64":
            machine = "arm64"
        return f"{plat}-{machine}"
    return f"{plat}-{64 if sys.maxsize > 2**32 else 32}"


def _expand_path(path: str, env: Mapping[str, str]) -> str:
    """conda's ``expand``: ``~`` and ``$VARS`` (from the passed environment), made absolute."""
    import re

    def sub(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        return env.get(name, m.group(0))

    if "$" in path:  # (most paths have no variable: no regex to compile)
        path = re.sub(r"\$(\w+)|\$\{(\w+)\}", sub, path)
    if path == "~" or path.startswith("~/"):
        path = (env.get("HOME") or os.path.expanduser("~")) + path[1:]
    return os.path.abspath(path)


def _unique(items: Iterable[Any]) -> tuple:
    out: list[Any] = []
    for item in items:
        if item not in out:
            out.append(item)
    return tuple(out)


def _is_creatable(path: str) -> bool:
    """Writable if it exists, or if its nearest existing parent is writable."""
    probe = path
    while probe and not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            return False
        probe = parent
    return os.path.isdir(probe) and os.access(probe, os.W_OK)


# ------------------------------------------------------------------------------------------
# the Context
# ------------------------------------------------------------------------------------------

class Context:
    """All settings for one run, each with its provenance. Build with :meth:`load` or
    :meth:`from_values`; never mutate — use :meth:`replace`.

    Settings are attributes (``context.channel_priority``); derived values are too
    (``subdirs``, ``target_prefix``, ``channel_config``, ``pkgs_dir_for_writes`` …).
    """

    __slots__ = ("_layers", "_args", "_env", "_api", "_search_path", "_values", "_sources",
                 "_winners", "_cache")

    # -- construction ------------------------------------------------------------------
    def __init__(self, layers: Iterable[Layer] = (), args: Mapping[str, Any] | None = None,
                 env: Mapping[str, str] | None = None, api: Mapping[str, Any] | None = None,
                 search_path: Iterable[str] = ()):
        set_ = object.__setattr__
        set_(self, "_layers", tuple(layers))
        set_(self, "_args", dict(args or {}))
        set_(self, "_env", dict(env or {}))
        set_(self, "_api", dict(api or {}))
        set_(self, "_search_path", tuple(search_path))
        set_(self, "_cache", {})
        values, sources, winners = _build(self._layers, self._args, self._env, self._api)
        set_(self, "_values", values)
        set_(self, "_sources", sources)
        set_(self, "_winners", winners)

    @classmethod
    def load(cls, args: Any = None, env: Mapping[str, str] | None = None,
             search_path: Iterable[str] | None = None) -> "Context":
        """defaults → condarc files → ``CONDA_*`` variables (from ``env``, default
        ``os.environ``) → the argparse ``args`` of stage 1 (Namespace or dict)."""
        env = dict(os.environ if env is None else env)
        args_map = _args_mapping(args)
        search_path = tuple(SEARCH_PATH if search_path is None else search_path)
        variables = dict(env)
        # conda reads $CONDA_PREFIX/.condarc of the *target* env when -p/-n is given
        if args_map.get("prefix"):
            variables["CONDA_PREFIX"] = _expand_path(str(args_map["prefix"]), env)
        variables.setdefault("CONDA_ROOT", _default_root_prefix())
        context = cls._from_files(search_path_files(search_path, variables), args_map, env, search_path)
        if args_map.get("name") and not args_map.get("prefix") and context.target_prefix:
            # -n NAME: the env's directory is only known after envs_dirs is; look again (as conda)
            variables["CONDA_PREFIX"] = context.target_prefix
            files = search_path_files(search_path, variables)
            if tuple(files) != context.config_files:
                context = cls._from_files(files, args_map, env, search_path)
        return context

    @classmethod
    def _from_files(cls, files: Iterable[str], args_map: dict, env: dict, search_path: tuple) -> "Context":
        layers = [load_condarc_file(path) for path in files]
        for layer in (_env_layer(env), _cmd_layer(args_map)):
            if layer.values:
                layers.append(layer)
        # the whole env is kept: $VARS inside pkgs_dirs/envs_dirs expand from it, as in conda
        return cls(layers, args_map, env, None, search_path)

    @classmethod
    def from_values(cls, env: Mapping[str, str] | None = None, **settings: Any) -> "Context":
        """Built-in defaults plus ``settings`` (source ``"api"``); no file or variable is read
        (``env`` only matters for ``HOME``-relative paths and ``CONDA_OVERRIDE_*``)."""
        _check_api(settings)
        return cls((), {}, dict(env or {}), settings)

    def replace(self, **settings: Any) -> "Context":
        """A copy with ``settings`` replaced (source ``"api"``); ``self`` is unchanged."""
        _check_api(settings)
        return Context(self._layers, self._args, self._env, {**self._api, **settings}, self._search_path)

    # -- attribute access --------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        try:
            return object.__getattribute__(self, "_values")[name]
        except KeyError:
            raise AttributeError(f"Context has no setting {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Context is immutable: use context.replace({name}=...)")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._values))

    @property
    def names(self) -> tuple[str, ...]:
        """Every setting and derived value, in display order."""
        return tuple(self._values)

    @property
    def config_files(self) -> tuple[str, ...]:
        """The condarc files that were read, in order."""
        return tuple(layer.source for layer in self._layers if layer.source not in ("envvars", "cmd_line"))

    @property
    def search_path(self) -> tuple[str, ...]:
        return self._search_path

    @property
    def args(self) -> dict[str, Any]:
        """The command-line values this Context was built with (``None`` ones dropped)."""
        return dict(self._args)

    # -- provenance ----------------------------------------------------------------------
    def source_of(self, name: str) -> str:
        """Where the effective value of ``name`` came from: a condarc path, ``"envvars"``,
        ``"cmd_line"``, ``"api"``, ``"default"`` or ``"derived"``. A merged list names every
        contributing source, highest precedence first, joined by ``" + "``."""
        if name not in self._winners:
            raise AttributeError(f"Context has no setting {name!r}")
        return self._winners[name]

    @property
    def sources(self) -> dict[str, tuple[tuple[str, Any], ...]]:
        """``{setting: ((source, value as that source wrote it), ...)}``, lowest precedence
        first, starting with ``("default", ...)``."""
        return dict(self._sources)

    def collect_all(self) -> dict[str, dict[str, Any]]:
        """``{source: {key as written: typed value}}`` for every source that set something —
        the data behind ``conda config --show-sources``."""
        out: dict[str, dict[str, Any]] = {}
        for layer in self._layers:
            block = {}
            for key, raw in layer.values.items():
                setting = _BY_ANY_NAME.get(key)
                if setting is None:  # a key no setting knows: conda ignores it too
                    continue
                if raw.value is None and setting.kind != "primitive":
                    continue
                block[key] = _typed_single(setting, raw, key)
            if block:
                out[layer.source] = block
        if self._api:
            out["api"] = {k: jsonable(v) for k, v in self._api.items()}
        return out

    def show_sources(self) -> str:
        """Text like ``conda config --show-sources``: a ``==> source <==`` block per source."""
        lines: list[str] = []
        for source, block in self.collect_all().items():
            lines.append(f"==> {source} <==")
            lines.extend(format_dict(block))
            lines.append("")
        return "\n".join(lines)

    def summary(self) -> dict[str, Any]:
        """JSON data: every setting's value and source, plus the files that were read."""
        return {
            "config_files": list(self.config_files),
            "settings": {name: {"value": jsonable(value), "source": self._winners[name]}
                         for name, value in self._values.items()},
        }

    def __repr__(self) -> str:
        lines = ["Context("]
        at_default = 0
        for name, value in self._values.items():
            source = self._winners[name]
            if source == "default" and name not in ("channels", "channel_priority", "subdir"):
                at_default += 1
                continue
            lines.append(f"  {name}={value!r},  # {source}")
        lines.append(f"  ... {at_default} more settings at their defaults")
        lines.append(")")
        return "\n".join(lines)

    # -- derived values that look at the disk or at other modules (computed on demand) -----
    @property
    def channel_config(self) -> Any:
        """A ``ChannelConfig`` for :class:`conda_deepdive.models.channel.Channel`."""
        if "channel_config" not in self._cache:
            from conda_deepdive.models.channel import ChannelConfig

            self._cache["channel_config"] = ChannelConfig(
                channel_alias=self.channel_alias,
                default_channels=tuple(self.default_channels),
                custom_channels=dict(self.custom_channels),
                custom_multichannels={k: tuple(v) for k, v in self.custom_multichannels.items()},
                subdirs=tuple(self.subdirs),
            )
        return self._cache["channel_config"]

    @property
    def pkgs_dir_for_writes(self) -> str:
        """The first package cache we may write to (conda: ``PackageCacheData.first_writable``)."""
        for pkgs_dir in self.pkgs_dirs:
            if _is_creatable(pkgs_dir):
                return pkgs_dir
        raise NoWritablePkgsDirError(self.pkgs_dirs)

    @property
    def repodata_cache_dir(self) -> str:
        """Where fetched repodata is cached: ``<pkgs_dir_for_writes>/cache``."""
        return os.path.join(self.pkgs_dir_for_writes, "cache")

    @property
    def root_writable(self) -> bool:
        history = os.path.join(self.root_prefix, "conda-meta", "history")
        return os.path.isfile(history) and os.access(history, os.W_OK)


# ------------------------------------------------------------------------------------------
# building: layers → merged settings → derived values
# ------------------------------------------------------------------------------------------

def _default_root_prefix() -> str:
    return os.path.abspath(sys.prefix)


def _args_mapping(args: Any) -> dict[str, Any]:
    if args is None:
        return {}
    if hasattr(args, "namespace") and hasattr(args, "func"):  # a stage-1 ParsedCommand
        args = args.namespace
    items = vars(args).items() if hasattr(args, "__dict__") else dict(args).items()
    return {k: v for k, v in items if v is not None and not k.startswith("_")}


def _env_layer(env: Mapping[str, str]) -> Layer:
    values: dict[str, RawValue] = {}
    for var, text in env.items():
        if not var.startswith("CONDA_"):
            continue
        key = var[len("CONDA_"):].lower()
        if key not in _BY_ANY_NAME:
            continue
        flag = None
        if "!important" in text:  # conda: CONDA_X="value!important" acts like #!final
            text, flag = text.split("!important", 1)[0], "final"
        if _BY_ANY_NAME[key].kind == "primitive":
            text = text.strip()
        values[key] = RawValue("envvars", key, text, flag)
    return Layer("envvars", values)


def _cmd_layer(args: Mapping[str, Any]) -> Layer:
    values = {k: RawValue("cmd_line", k, list(v) if isinstance(v, (list, tuple)) else v)
              for k, v in args.items() if k in _BY_ANY_NAME}
    return Layer("cmd_line", values)


def _check_api(settings: Mapping[str, Any]) -> None:
    unknown = [k for k in settings if k not in _BY_ANY_NAME and k not in DERIVED]
    if unknown:
        raise CondaValueError(
            f"unknown Context setting(s): {', '.join(sorted(unknown))}. "
            f"Known: {', '.join(sorted([*_BY_NAME, *DERIVED]))}")


def _typed_single(setting: Setting, raw: RawValue, key: str) -> Any:
    """One source's value for ``setting``, typed (used for show-sources)."""
    if setting.kind == "primitive":
        return type_primitive(setting, raw.value, raw.source, key)
    if setting.kind == "sequence":
        return [item for item, _ in sequence_items(setting, raw, key)]
    return {k: v for k, v in type_map(setting, [raw], key).items()}


def _matches(setting: Setting, layers: tuple[Layer, ...]) -> list[RawValue]:
    found = []
    for layer in layers:
        keys = [n for n in setting.names if n in layer.values]
        if len(keys) > 1:
            raise MultipleKeysError(layer.source, keys, setting.name)
        if keys:
            raw = layer.values[keys[0]]
            if raw.value is None and setting.kind != "primitive":
                continue  # conda: `channels: ~` or an unset argparse append means "not set here"
            found.append(raw)
    return found


def _merge_setting(setting: Setting, layers: tuple[Layer, ...]) -> tuple[Any, str, list]:
    """(typed merged value, winning source, provenance list) for one declared setting."""
    matches = _matches(setting, layers)
    provenance = [("default", jsonable(setting.default))] + [(m.source, m.plain()) for m in matches]
    if not matches:
        return setting.default, "default", provenance
    if setting.kind == "primitive":
        chosen = merge_primitive(matches)
        key = chosen.key if chosen.key in setting.names else setting.name
        value = type_primitive(setting, chosen.value, chosen.source, key)
        if setting.validate is not None and (problem := setting.validate(value)):
            raise CustomValidationError(
                f"Parameter {key} = {value!r} declared in {chosen.source} is invalid.\n{problem}")
        return value, chosen.source, provenance
    if setting.kind == "sequence":
        lists = [sequence_items(setting, m, m.key) for m in matches]
        finals = [m.key_flag == "final" for m in matches]
        value = tuple(merge_sequence(lists, finals))
        cut = finals.index(True) + 1 if True in finals else len(matches)
        contributing = [m.source for m in reversed(matches[:cut]) if sequence_items(setting, m, m.key)]
        return value, " + ".join(_unique(contributing)) or matches[-1].source, provenance
    value = type_map(setting, matches)
    contributing = _unique(m.source for m in reversed(matches) if m.value)
    return value, " + ".join(contributing) or matches[-1].source, provenance


def _api_value(name: str, value: Any) -> Any:
    """Type a value given through ``from_values``/``replace`` like any other source."""
    setting = _BY_ANY_NAME.get(name)
    if setting is None:  # a derived value (target_prefix, override_*) — taken as given
        return value
    if setting.kind == "primitive":
        typed = type_primitive(setting, value, "api", name)
        if setting.validate is not None and (problem := setting.validate(typed)):
            raise CustomValidationError(f"Parameter {name} = {typed!r} declared in api is invalid.\n{problem}")
        return typed
    if setting.kind == "sequence":
        if isinstance(value, str):
            value = [value]
        return tuple(item for item, _ in sequence_items(setting, RawValue("api", name, list(value)), name))
    return type_map(setting, [_wrap_plain("api", name, value)])


def _wrap_plain(source: str, key: str, value: Any) -> RawValue:
    if isinstance(value, dict):
        return RawValue(source, key, {k: _wrap_plain(source, key, v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return RawValue(source, key, tuple(_wrap_plain(source, key, v) for v in value))
    return RawValue(source, key, value)


def _build(layers: tuple[Layer, ...], args: dict[str, Any], env: dict[str, str],
           api: dict[str, Any]) -> tuple[dict, dict, dict]:
    merged: dict[str, Any] = {}
    winners: dict[str, str] = {}
    sources: dict[str, tuple] = {}
    for setting in SETTINGS:
        value, winner, provenance = _merge_setting(setting, layers)
        merged[setting.name], winners[setting.name] = value, winner
        sources[setting.name] = tuple(provenance)
    api_typed = {}
    for key, value in api.items():
        name = _BY_ANY_NAME[key].name if key in _BY_ANY_NAME else key
        api_typed[name] = _api_value(key, value)
        if name in merged:
            merged[name], winners[name] = api_typed[name], "api"
            sources[name] = sources[name] + (("api", jsonable(api_typed[name])),)

    v = dict(merged)
    home_env = env  # "~" falls back to the real home only when env has no HOME

    # conda-deepdive's built-in channel settings point at the bundled teaching channels
    # (teaching_defaults.py); like any default, every file, variable or flag overrides them
    if teaching_enabled(env):
        for name, value in teaching_settings().items():
            if winners[name] == "default":
                v[name], winners[name] = _api_value(name, value), TEACHING_SOURCE
                sources[name] = ((TEACHING_SOURCE, jsonable(v[name])),) + sources[name][1:]

    # platform
    if not v["subdir"]:
        v["subdir"], winners["subdir"] = host_subdir(), "derived" if winners["subdir"] == "default" else winners["subdir"]
    if not v["subdirs"]:
        v["subdirs"] = (v["subdir"], "noarch")
        winners["subdirs"] = "derived" if winners["subdirs"] == "default" else winners["subdirs"]

    # where things live
    root = _expand_path(v["root_prefix"], home_env) if v["root_prefix"] else _default_root_prefix()
    v["root_prefix"] = root
    if v["pkgs_dirs"]:
        v["pkgs_dirs"] = _unique(_expand_path(p, home_env) for p in v["pkgs_dirs"])
    else:
        v["pkgs_dirs"] = _unique(_expand_path(p, home_env) for p in (os.path.join(root, "pkgs"), "~/.conda/pkgs"))
        winners["pkgs_dirs"] = "derived"
    root_writable = os.access(os.path.join(root, "conda-meta", "history"), os.W_OK)
    fixed = ((os.path.join(root, "envs"), "~/.conda/envs") if root_writable
             else ("~/.conda/envs", os.path.join(root, "envs")))
    v["envs_dirs"] = _unique(_expand_path(p, home_env) for p in (*v["envs_dirs"], *fixed))

    # channels (conda: Context.channels)
    local = ("local",) if v["use_local"] else ()
    arg_channels = tuple(args.get("channel") or ())
    if "channels" in api_typed:
        v["channels"] = _unique((*local, *api_typed["channels"]))
    elif args.get("override_channels"):
        if not v["override_channels_enabled"]:
            raise OperationNotAllowed("Overriding channels has been disabled.")
        if not arg_channels:
            raise ArgumentError("At least one -c / --channel flag must be supplied when using --override-channels.")
        v["channels"], winners["channels"] = _unique((*local, *arg_channels)), "cmd_line"
    elif arg_channels and not any("channels" in l.values or "channel" in l.values for l in layers
                                  if l.source not in ("envvars", "cmd_line")):
        # conda appends 'defaults' after -c channels only when no condarc file lists channels
        # (and, a quirk worth knowing: CONDA_CHANNELS is then ignored)
        v["channels"], winners["channels"] = _unique((*local, *arg_channels, DEFAULTS_CHANNEL_NAME)), "cmd_line"
    else:
        v["channels"] = _unique((*local, *v["channels"]))

    # threads: 0 means "pick for me"
    default_threads = v["default_threads"] or None
    v["repodata_threads"] = v["repodata_threads"] or default_threads
    v["verify_threads"] = v["verify_threads"] or default_threads or 1
    v["execute_threads"] = v["execute_threads"] or default_threads or 1

    # derived: the target prefix and the virtual-package overrides
    v["target_prefix"], winners["target_prefix"] = _target_prefix(args, env, v, home_env)
    for name, var in _OVERRIDE_VARS.items():
        v[name] = env.get(var)  # None = unset; "" = set but empty (e.g. "no CUDA")
        winners[name] = "envvars" if var in env else "default"
    for name in DERIVED:
        if name in api_typed:
            v[name], winners[name] = api_typed[name], "api"
        sources.setdefault(name, ((winners[name], jsonable(v[name])),))
    return v, sources, winners


def _target_prefix(args: dict, env: dict, v: dict, home_env: Mapping[str, str]) -> tuple[str | None, str]:
    """conda's ``determine_target_prefix``: ``-p`` → ``-n`` → the active env.

    One deliberate difference: with neither flag nor an active ``CONDA_PREFIX`` conda targets its
    base env; the simulator answers ``None`` rather than point at the Python it runs in.
    """
    name, prefix = args.get("name"), args.get("prefix")
    if name is not None and not str(name).strip():
        raise CondaValueError("Argument --name requires a value.")
    if prefix is not None and not str(prefix).strip():
        raise CondaValueError("Argument --prefix requires a value.")
    if prefix is not None:
        return _expand_path(str(prefix), home_env), "cmd_line"
    if name is not None:
        bad = [c for c in ("/", " ", ":", "#") if c in name]
        if bad:
            raise CondaValueError(f"Invalid environment name: '{name}'\n"
                                  f"  Characters not allowed: ('/', ' ', ':', '#')")
        if name in (ROOT_ENV_NAME, "root"):
            return v["root_prefix"], "cmd_line"
        for envs_dir in v["envs_dirs"]:
            if os.path.isdir(os.path.join(envs_dir, name, "conda-meta")):
                return os.path.join(envs_dir, name), "cmd_line"
        for envs_dir in v["envs_dirs"]:
            if _is_creatable(envs_dir):
                return os.path.join(envs_dir, name), "cmd_line"
        return os.path.join(v["envs_dirs"][0], name), "cmd_line"
    active = env.get("CONDA_PREFIX")
    if active:
        return os.path.abspath(active), "envvars"
    return None, "default"


