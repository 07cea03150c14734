"""``conda info`` (and ``conda info --envs``): stage 2 seen from the outside.

conda counterparts: ``conda.cli.main_info`` (``get_info_dict``, ``get_main_info_display``,
``InfoRenderer``), ``conda.core.envs_manager.list_all_known_prefixes`` and the console/JSON
reporter backends that draw the ``detail_view`` and ``envs_list`` styles.

``conda info`` answers "what did the Context resolve to?" without running a command: the
platform and its virtual packages, the channel URLs the index stage will fetch (one per channel ×
subdir), the package caches the fetch stage writes to, the envs directories a ``-n NAME`` is looked
up in, and the condarc files that were read. What to notice:

* ``channel URLs`` are the *expanded* channels: ``defaults`` is a multichannel, so it becomes one
  URL per member channel and subdir — exactly the repodata files stage 3 reads;
* conda-deepdive's built-in channel settings point at the bundled teaching channels; the extra
  ``teaching defaults`` row says so (conda has no such row) and names the directory;
* ``info --envs`` (and its alias ``env list``) lists ``~/.conda/environments.txt`` (the file every
  ``create`` registers in), every environment found in the envs directories, and the base
  environment. Unlike conda we only *read* environments.txt: conda rewrites it without the
  prefixes that are gone, and a simulator must not change a real conda installation's files.

The text layout (``%23s : value`` rows, ``# conda environments:`` header) and the JSON keys are
conda 26.7.1's.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = ["execute", "swallow_broken_pipe", "info_dict", "main_info_display", "detail_view",
           "list_all_known_prefixes", "env_name", "envs_details", "envs_list_text"]

ROOT_ENV_NAME = "base"


# ------------------------------------------------------------------------------------------
# environments (conda.core.envs_manager, conda.core.prefix_data)
# ------------------------------------------------------------------------------------------

def _home(env: Mapping[str, str]) -> str:
    return env.get("HOME") or os.path.expanduser("~")


def environments_txt(env: Mapping[str, str]) -> str:
    """``~/.conda/environments.txt`` of the user whose HOME is in ``env``."""
    return os.path.join(_home(env), ".conda", "environments.txt")


def is_environment(prefix: str) -> bool:
    """conda's test: the prefix has ``conda-meta/history``."""
    return os.path.isfile(os.path.join(prefix, "conda-meta", "history"))


def list_all_known_prefixes(context: Any, env: Mapping[str, str]) -> list[str]:
    """environments.txt ∪ environments in the envs directories ∪ the base environment, sorted.

    Read only: a registered prefix that is gone is left out, not removed from the file.
    """
    found: set[str] = set()
    path = environments_txt(env)
    if os.path.isfile(path):
        with open(path, encoding="utf-8", errors="replace") as fh:
            found.update(line.strip() for line in fh
                         if line.strip() and not line.startswith("#") and is_environment(line.strip()))
    for envs_dir in context.envs_dirs:
        if not os.path.isdir(envs_dir):
            continue
        for entry in os.scandir(envs_dir):
            if entry.path not in found and is_environment(entry.path):
                found.add(entry.path)
    found.add(context.root_prefix)
    return sorted(found)


def _same_path(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def env_name(prefix: str | None, context: Any) -> str:
    """``base`` for the root prefix, the directory name inside an envs directory, else ``""``."""
    if not prefix:
        return ""
    if _same_path(prefix, context.root_prefix):
        return ROOT_ENV_NAME
    parent = os.path.dirname(os.path.abspath(prefix))
    if any(_same_path(parent, d) for d in context.envs_dirs):
        return os.path.basename(prefix)
    return ""


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def _created(prefix: str) -> float | None:
    """conda-meta's birth time; Linux Pythons have none, then ``conda-meta/created_at``."""
    meta = os.path.join(prefix, "conda-meta")
    try:
        st = os.stat(meta)
    except OSError:
        return None
    birth = getattr(st, "st_birthtime", None)
    if birth is not None:
        return birth
    try:
        with open(os.path.join(meta, "created_at"), encoding="utf-8") as fh:
            return float(fh.read().strip())
    except (OSError, ValueError):
        return None


def envs_details(prefixes: Iterable[str], context: Any, active: str | None) -> dict[str, dict]:
    """``envs_details`` of ``conda info --envs --json`` (conda's keys, in conda's order)."""
    out: dict[str, dict] = {}
    for prefix in prefixes:
        history = os.path.join(prefix, "conda-meta", "history")
        try:
            modified = os.stat(history).st_mtime
        except OSError:
            modified = None
        out[prefix] = {
            "name": env_name(prefix, context),
            "created": _iso(_created(prefix)),
            "last_modified": _iso(modified),
            "active": _same_path(prefix, active),
            "base": _same_path(prefix, context.root_prefix),
            "frozen": os.path.isfile(os.path.join(prefix, "conda-meta", "frozen")),
            "writable": (os.access(history, os.W_OK) if is_environment(prefix) else None),
        }
    return out


def envs_list_text(prefixes: Iterable[str], context: Any, active: str | None) -> str:
    """conda's ``envs_list`` style: a commented header, then ``name  * +  path`` per env."""
    lines = ["# conda environments:", "#", "# * -> active", "# + -> frozen"]
    for prefix in prefixes:
        mark = "*" if _same_path(prefix, active) else " "
        frozen = "+" if os.path.isfile(os.path.join(prefix, "conda-meta", "frozen")) else " "
        lines.append(f"{env_name(prefix, context):20} {mark} {frozen} {prefix}")
    return "\n" + "\n".join(lines) + "\n\n"


# ------------------------------------------------------------------------------------------
# the info dictionary (conda.cli.main_info.get_info_dict)
# ------------------------------------------------------------------------------------------

def channel_urls(context: Any) -> list[str]:
    """``all_channel_urls(context.channels)``: every channel × subdir URL, multichannels expanded."""
    from conda_deepdive.models.channel import Channel

    urls: list[str] = []
    for value in context.channels:
        for url in Channel(value, config=context.channel_config).urls(
                with_credentials=False, subdirs=tuple(context.subdirs)):
            if url not in urls:
                urls.append(url)
    return urls


def _user_agent() -> str:
    import platform

    from conda_deepdive import CONDA_VERSION, __version__

    return (f"conda/{CONDA_VERSION} conda-deepdive/{__version__} "
            f"{platform.python_implementation()}/{platform.python_version()} "
            f"{platform.system()}/{platform.release()}")


def info_dict(context: Any, env: Mapping[str, str]) -> dict[str, Any]:
    """conda's ``get_info_dict()`` for this Context, plus a ``conda_deepdive`` block."""
    import tempfile

    import conda_deepdive
    from conda_deepdive import CONDA_VERSION, __version__
    from conda_deepdive.config.teaching_defaults import channels_dir, teaching_enabled
    from conda_deepdive.index.virtual_packages import virtual_packages

    home = _home(env)
    active = env.get("CONDA_PREFIX") or None
    netrc = env.get("NETRC") or (os.path.join(home, ".netrc")
                                 if os.path.isfile(os.path.join(home, ".netrc")) else None)
    try:
        shlvl = int(env.get("CONDA_SHLVL", "-1"))
    except ValueError:
        shlvl = -1
    try:
        from importlib.metadata import version

        requests_version = version("requests")
    except Exception:  # pragma: no cover - requests is a dependency
        requests_version = "unknown"
    channels = channel_urls(context)
    teaching = teaching_enabled(env)
    info: dict[str, Any] = {
        "platform": context.subdir,
        "conda_version": CONDA_VERSION,
        "conda_env_version": CONDA_VERSION,
        "conda_build_version": "not installed",
        "root_prefix": context.root_prefix,
        "conda_prefix": context.root_prefix,
        "av_data_dir": os.path.join(context.root_prefix, "etc", "conda"),
        "av_metadata_url_base": None,
        "root_writable": bool(context.root_writable),
        "pkgs_dirs": list(context.pkgs_dirs),
        "envs_dirs": list(context.envs_dirs),
        "default_prefix": active or context.root_prefix,
        "active_prefix": active,
        "active_prefix_name": (env_name(active, context) or active) if active else None,
        "conda_shlvl": shlvl,
        "channels": channels,
        "user_rc_path": os.path.join(home, ".condarc"),
        "rc_path": os.path.join(home, ".condarc"),
        "sys_rc_path": os.path.join(context.root_prefix, ".condarc"),
        "offline": bool(context.offline),
        "envs": [],
        "python_version": ".".join(map(str, sys.version_info)),
        "requests_version": requests_version,
        "user_agent": _user_agent(),
        "conda_location": os.path.dirname(os.path.abspath(conda_deepdive.__file__)),
        "config_files": list(context.config_files),
        "netrc_file": netrc,
        "virtual_pkgs": [[vp.name, str(vp.version), str(vp.build)] for vp in virtual_packages(context)],
        "solver": {"name": "classic", "user_agent": "solver/classic", "default": False},
        "tmp_dir": tempfile.gettempdir(),
        "notices_cache_dir": os.path.join(home, ".cache", "conda", "notices"),
    }
    if sys.platform != "win32":
        info["UID"], info["GID"] = os.geteuid(), os.getegid()
    keys = {"CIO_TEST", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "LD_PRELOAD"}
    keys.update(k for k in env if k.upper().startswith(("CONDA", "PYTHON", "SUDO"))
                or k.upper().endswith("PATH"))
    env_vars = {k: env.get(k, env.get(k.lower(), "<not set>")) for k in keys}
    env_vars.update({k: "<set>" for k in env if k.upper().endswith("PROXY")})
    info.update({
        "sys.version": sys.version,
        "sys.prefix": sys.prefix,
        "sys.executable": sys.executable,
        "site_dirs": [],
        "env_vars": env_vars,
        # not in conda: where this simulator's built-in channels point
        "conda_deepdive": {
            "version": __version__,
            "teaching_defaults": teaching,
            "teaching_channels": str(channels_dir()) if teaching else None,
        },
    })
    return info


def main_info_display(info: Mapping[str, Any]) -> dict[str, Any]:
    """conda's ``get_main_info_display``: the rows of ``conda info``, in conda's order."""

    def flatten(lines: Iterable[Any]) -> str:
        return ("\n" + 26 * " ").join(map(str, lines))

    rows: dict[str, Any] = {}
    if info["active_prefix_name"]:
        rows["active environment"] = info["active_prefix_name"]
        rows["active env location"] = info["active_prefix"]
    else:
        rows["active environment"] = info["active_prefix"]
    if info["conda_shlvl"] >= 0:
        rows["shell level"] = info["conda_shlvl"]
    rows["user config file"] = info["user_rc_path"]
    rows["populated config files"] = flatten(info["config_files"])
    rows["conda version"] = info["conda_version"]
    rows["conda-build version"] = info["conda_build_version"]
    rows["python version"] = info["python_version"]
    rows["solver"] = info["solver"]["name"] + (" (default)" if info["solver"]["default"] else "")
    rows["virtual packages"] = flatten("=".join(pkg) for pkg in info["virtual_pkgs"])
    writable = "writable" if info["root_writable"] else "read only"
    rows["base environment"] = f"{info['root_prefix']}  ({writable})"
    rows["conda av data dir"] = info["av_data_dir"]
    rows["conda av metadata url"] = info["av_metadata_url_base"]
    rows["channel URLs"] = flatten(info["channels"])
    rows["package cache"] = flatten(info["pkgs_dirs"])
    rows["notices cache"] = info["notices_cache_dir"]
    rows["envs directories"] = flatten(info["envs_dirs"])
    rows["temporary directory"] = info["tmp_dir"]
    rows["platform"] = info["platform"]
    rows["user-agent"] = info["user_agent"]
    if "UID" in info:
        rows["UID:GID"] = f"{info['UID']}:{info['GID']}"
    rows["netrc file"] = info["netrc_file"]
    rows["offline mode"] = info["offline"]
    deepdive = info.get("conda_deepdive") or {}
    if deepdive.get("teaching_defaults"):
        # not a conda row: the built-in channel settings are the bundled teaching channels
        rows["teaching defaults"] = flatten([
            deepdive["teaching_channels"],
            "(defaults, conda-forge and -c NAME point here; CONDA_DEEPDIVE_REAL_DEFAULTS=1 "
            "turns this off)",
        ])
    return rows


def detail_view(rows: Mapping[str, Any]) -> str:
    """The console backend's ``detail_view``: right-aligned keys, `` : ``, the value."""
    width = max(map(len, rows))
    return "\n" + "\n".join(f" {key:>{width}} : {value}" for key, value in rows.items()) + "\n\n"


# ------------------------------------------------------------------------------------------
# the command
# ------------------------------------------------------------------------------------------

def swallow_broken_pipe(func):
    """``conda info | head``: a reader that goes away ends the output quietly (exit 0), as
    conda's ``swallow_broken_pipe`` does, instead of a BrokenPipeError traceback."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            # Python's recipe: point stdout at devnull so the interpreter's final flush is silent
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 0

    return wrapper


def _components(args: Any, context: Any) -> list[str]:
    """conda's ``iter_info_components``."""
    flag = lambda name: bool(getattr(args, name, None))  # noqa: E731
    out: list[str] = []
    if flag("base"):
        out.append("base")
    if flag("unsafe_channels"):
        out.append("channels")
    if ((flag("all") or (not flag("envs") and not flag("system"))) and not context.json
            and not flag("base") and not flag("unsafe_channels")):
        out.append("detail")
    if flag("envs") or (flag("all") and not context.json):
        out.append("envs")
    if (flag("system") or flag("all")) and not context.json:
        out.append("system")
    if context.json and not flag("base") and not flag("unsafe_channels") and not flag("envs"):
        out.append("json_all")
    return out


def _write_json(data: Any) -> None:
    # conda's JSON backend: indent 2, keys in insertion order, no trailing newline
    sys.stdout.write(json.dumps(data, indent=2))
    sys.stdout.flush()


def _system_text(info: Mapping[str, Any]) -> str:
    lines = [f"sys.version: {sys.version[:40]}...", f"sys.prefix: {sys.prefix}",
             f"sys.executable: {sys.executable}", f"conda location: {info['conda_location']}",
             "conda-build: (missing)", "user site dirs:", ""]
    lines += [f"{name}: {value}" for name, value in sorted(info["env_vars"].items())]
    return "\n".join(lines) + "\n"


@swallow_broken_pipe
def execute(args: Any, parser: Any, env: Mapping[str, str] | None = None) -> int:
    """Run ``info`` (or ``env list``, which is ``info --envs``)."""
    from conda_deepdive.config.context import Context
    from conda_deepdive.exceptions import ArgumentError

    env = dict(os.environ if env is None else env)
    if getattr(args, "size", None) and not getattr(args, "envs", None):
        raise ArgumentError("--size can only be used with --envs")
    context = Context.load(args=args, env=env)
    active = env.get("CONDA_PREFIX") or None
    info: dict[str, Any] | None = None

    def get_info() -> dict[str, Any]:
        nonlocal info
        if info is None:
            info = info_dict(context, env)
        return info

    for component in _components(args, context):
        if component == "base":
            if context.json:
                _write_json({"root_prefix": context.root_prefix})
            else:
                sys.stdout.write(context.root_prefix + "\n")
        elif component == "channels":
            if context.json:
                _write_json({"channels": list(context.channels)})
            else:
                sys.stdout.write("\n".join(context.channels) + "\n")
        elif component == "detail":
            sys.stdout.write(detail_view(main_info_display(get_info())))
        elif component == "envs":
            prefixes = list_all_known_prefixes(context, env)
            if context.json:
                _write_json({"envs": prefixes, "envs_details": envs_details(prefixes, context, active)})
            else:
                sys.stdout.write(envs_list_text(prefixes, context, active))
        elif component == "system":
            sys.stdout.write(_system_text(get_info()))
        elif component == "json_all":
            data = get_info()
            data["envs"] = list_all_known_prefixes(context, env)
            data["envs_details"] = envs_details(data["envs"], context, active)
            _write_json(data)
    sys.stdout.flush()
    return 0
