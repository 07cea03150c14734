"""Where configuration comes from: condarc files, ``CONDA_*`` variables, command-line flags.

This is the machinery half of stage 2 (``conda.common.configuration`` in conda). It knows
nothing about *which* settings exist — :mod:`conda_deepdive.config.context` declares those with
:class:`Setting` — here we only:

1. find the condarc files in conda's search order (:data:`SEARCH_PATH`, :func:`search_path_files`),
2. read each one into a :class:`Layer` of :class:`RawValue` objects, keeping the little ``#!final``,
   ``#!top`` and ``#!bottom`` markers conda reads from YAML comments,
3. merge the layers for one setting the way conda does (:func:`merge_primitive`,
   :func:`merge_sequence`, :func:`merge_map`),
4. type each raw value against its :class:`Setting` (:func:`type_primitive`,
   :func:`sequence_items`, :func:`type_map`), raising an error that names the source file (or
   ``envvars``/``cmd_line``), the key and what is wrong.

What a learner should notice: the *order* of the layers is the whole story. Files read later win
for single values (``channel_priority``), but lists (``channels``) are *concatenated*, with the
later file's entries first. A ``#!final`` marker on a key in an early file (say, the system-wide
``/etc/conda/.condarc``) freezes it: files read after it can no longer change that key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from conda_deepdive.values import LazyPattern
from conda_deepdive.exceptions import (
    ConfigurationLoadError,
    CustomValidationError,
    InvalidElementTypeError,
    InvalidTypeError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: typing is not imported at run time
    from typing import Any

__all__ = [
    "SEARCH_PATH",
    "RawValue",
    "Layer",
    "expand_search_path",
    "search_path_files",
    "load_condarc_file",
    "merge_primitive",
    "merge_sequence",
    "merge_map",
    "Setting",
    "type_primitive",
    "sequence_items",
    "type_map",
    "jsonable",
    "format_dict",
    "ConfigurationFile",
    "MISSING",
    "config_item_lines",
]

#: conda's search order for configuration (``conda.base.constants.SEARCH_PATH``), lowest
#: precedence first. ``$VAR`` and ``~`` are expanded from the *passed* environment; an entry whose
#: variable is unset is skipped. A directory entry (``condarc.d/``) contributes its ``*.yml`` and
#: ``*.yaml`` files in sorted order.
SEARCH_PATH: tuple[str, ...] = (
    "/etc/conda/.condarc",
    "/etc/conda/condarc",
    "/etc/conda/condarc.d/",
    "/var/lib/conda/.condarc",
    "/var/lib/conda/condarc",
    "/var/lib/conda/condarc.d/",
    "$CONDA_ROOT/.condarc",
    "$CONDA_ROOT/condarc",
    "$CONDA_ROOT/condarc.d/",
    "$XDG_CONFIG_HOME/conda/.condarc",
    "$XDG_CONFIG_HOME/conda/condarc",
    "$XDG_CONFIG_HOME/conda/condarc.d/",
    "~/.config/conda/.condarc",
    "~/.config/conda/condarc",
    "~/.config/conda/condarc.d/",
    "~/.conda/.condarc",
    "~/.conda/condarc",
    "~/.conda/condarc.d/",
    "~/.condarc",
    "$CONDA_PREFIX/.condarc",
    "$CONDA_PREFIX/condarc",
    "$CONDA_PREFIX/condarc.d/",
    "$CONDARC",
)

CONDARC_FILENAMES = (".condarc", "condarc")
YAML_EXTENSIONS = (".yml", ".yaml")

FINAL, TOP, BOTTOM = "final", "top", "bottom"
_FLAGS = (FINAL, TOP, BOTTOM)


class RawValue:
    """One value for one key, as a single source wrote it, before typing and merging.

    ``value`` is plain data (str/int/bool/None, a tuple of :class:`RawValue`, or a dict of
    ``str -> RawValue``). ``key_flag`` is ``"final"`` when the key carried ``#!final`` (or, for an
    environment variable, the ``!important`` suffix). ``item_flags`` holds the per-item markers of
    a list (``"top"``/``"bottom"``/``None``) or of a map (``{key: "final"}``).
    """

    __slots__ = ("source", "key", "value", "key_flag", "item_flags")

    def __init__(self, source: str, key: str, value: Any, key_flag: str | None = None,
                 item_flags: Any = None):
        self.source = source
        self.key = key
        self.value = value
        self.key_flag = key_flag
        self.item_flags = item_flags

    def plain(self) -> Any:
        """The value with every nested :class:`RawValue` unwrapped (what the user wrote)."""
        return _plain(self.value)

    def __repr__(self) -> str:
        flag = f" #!{self.key_flag}" if self.key_flag else ""
        return f"RawValue({self.key}={self.plain()!r} from {self.source}{flag})"


def _plain(value: Any) -> Any:
    if isinstance(value, RawValue):
        return _plain(value.value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Layer:
    """Everything one source says: ``source`` is a file path, ``"envvars"``, ``"cmd_line"``
    or ``"api"``; ``values`` maps the key *as written* (maybe an alias) to a :class:`RawValue`."""

    __slots__ = ("source", "values")

    def __init__(self, source: str, values: Mapping[str, RawValue]):
        self.source = source
        self.values = dict(values)

    def __repr__(self) -> str:
        return f"Layer({self.source!r}, keys={sorted(self.values)})"


# ------------------------------------------------------------------------------------------
# the search path
# ------------------------------------------------------------------------------------------

_VAR = LazyPattern(r"\$(\w+)|\$\{(\w+)\}")  # compiled for the first value with a "$"


def _expand(template: str, variables: Mapping[str, str]) -> str | None:
    """``$VAR``/``~`` expansion from ``variables`` only; ``None`` when a variable is unset/empty."""
    missing = False

    def sub(match: re.Match) -> str:
        nonlocal missing
        name = match.group(1) or match.group(2)
        value = variables.get(name)
        if not value:
            missing = True
            return ""
        return value

    expanded = _VAR.sub(sub, template) if "$" in template else template
    if missing:
        return None
    if expanded == "~" or expanded.startswith("~/"):
        home = variables.get("HOME") or os.path.expanduser("~")
        expanded = home + expanded[1:]
    return expanded


def expand_search_path(search_path: Iterable[str], variables: Mapping[str, str]) -> list[str]:
    """The search path with variables filled in (entries with an unset variable dropped)."""
    out = []
    for template in search_path:
        path = _expand(str(template), variables)
        if path is not None:
            out.append(path)
    return out


def search_path_files(search_path: Iterable[str], variables: Mapping[str, str]) -> list[str]:
    """The condarc files that exist, in the order conda reads them (duplicates read once)."""
    found: list[str] = []
    for path in expand_search_path(search_path, variables):
        if os.path.isfile(path):
            name = os.path.basename(path)
            if name in CONDARC_FILENAMES or name.endswith(YAML_EXTENSIONS):
                candidates = [path]
            else:  # conda ignores e.g. CONDARC=/tmp/settings.txt: not a condarc name
                candidates = []
        elif os.path.isdir(path):
            candidates = sorted(
                os.path.join(path, n) for n in os.listdir(path)
                if n.endswith(YAML_EXTENSIONS) and os.path.isfile(os.path.join(path, n))
            )
        else:
            candidates = []
        for candidate in candidates:
            candidate = os.path.normpath(candidate)
            if candidate not in found:
                found.append(candidate)
    return found


# ------------------------------------------------------------------------------------------
# reading one condarc file (ruamel.yaml is imported only when a file exists)
# ------------------------------------------------------------------------------------------

def _flag_from_comment(comment: Any) -> str | None:
    if comment is None:
        return None
    text = getattr(comment, "value", comment)
    if not isinstance(text, str):
        return None
    text = text.strip().strip("#!").strip()
    return text if text in _FLAGS else None


def _key_comment(mapping: Any, key: Any) -> str | None:
    try:
        return _flag_from_comment(mapping.ca.items[key][2])
    except (AttributeError, KeyError, IndexError, TypeError):
        return None


def _item_comment(seq: Any, index: int) -> str | None:
    try:
        item = seq.ca.items[index]
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    try:
        if item[0]:
            return _flag_from_comment(item[0])
        return _flag_from_comment(item[1][0])
    except (IndexError, TypeError):
        return None


def _wrap_yaml(source: str, key: str, node: Any, key_flag: str | None) -> RawValue:
    """Turn a ruamel node into a :class:`RawValue` tree, reading the marker comments."""
    if isinstance(node, list):
        items = tuple(_wrap_yaml(source, key, v, _item_comment(node, i)) for i, v in enumerate(node))
        flags = tuple(item.key_flag for item in items)
        return RawValue(source, key, items, key_flag, flags)
    if isinstance(node, dict):
        children = {str(k): _wrap_yaml(source, key, v, _key_comment(node, k)) for k, v in node.items()}
        flags = {k: child.key_flag for k, child in children.items() if child.key_flag}
        return RawValue(source, key, children, key_flag, flags)
    if isinstance(node, str):
        node = str(node)  # drop ruamel's scalar string subclasses
    elif isinstance(node, bool):
        node = bool(node)
    elif isinstance(node, int):
        node = int(node)
    elif isinstance(node, float):
        node = float(node)
    return RawValue(source, key, node, key_flag)


def _flow_nesting_exceeds(text: str, limit: int) -> bool:
    """Do ``[``/``{`` nest deeper than ``limit``? (A quick scan: quotes are not special, which
    only matters for absurd files; no real condarc comes near.)"""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for ch in text:
        if ch == "[" or ch == "{":
            depth += 1
            if depth > limit:
                return True
        elif (ch == "]" or ch == "}") and depth:
            depth -= 1
    return False


#: words a YAML resolver (1.2, or 1.1 for old files) reads as something other than a string
_YAML_WORDS = {"true": True, "false": False, "null": None, "y": None, "n": None, "yes": None,
               "no": None, "on": None, "off": None}


def _flat_condarc(text: str) -> dict | None:
    """``{key: str | bool}`` when every line is blank or ``key: word`` (``word`` a plain lowercase
    string, ``true`` or ``false``) and no key repeats; otherwise ``None`` and ruamel.yaml reads the
    file. ruamel gives these files the same values (plain strings and booleans, no marker
    comments); importing it costs ~10 ms, a tenth of a whole dry run on a small channel."""
    values: dict = {}
    for line in text.split("\n"):
        if not line:
            continue
        # ``key: word``, both ASCII lowercase starting with a letter (key: [a-z][a-z0-9_]*,
        # word: [a-z][a-z0-9_-]*), one space after the colon, no quotes, comments or indentation
        key, sep, word = line.partition(": ")
        if not (sep and key.isascii() and word.isascii() and key[:1].isalpha() and word[:1].isalpha()
                and key.islower() and word.islower() and key.replace("_", "").isalnum()
                and word.replace("_", "").replace("-", "").isalnum()):
            return None
        if key in _YAML_WORDS or key in values:
            return None
        if word in _YAML_WORDS:
            if word not in ("true", "false"):
                return None
            values[key] = _YAML_WORDS[word]
        else:
            values[key] = word
    return values


def _require_mapping(data: Any, path: str) -> None:
    if not isinstance(data, dict):
        raise ConfigurationLoadError(
            "Unable to load configuration file.\n  path: %(path)s\n"
            "  reason: the top level must be a mapping of settings (key: value), got %(kind)s",
            path=path, kind=type(data).__name__.replace("Commented", "").lower(),
        )


def _parse_yaml(text: str, path: str, yaml: Any = None) -> Any:
    """``text`` parsed by ruamel.yaml in round-trip mode (``yaml``: a configured instance);
    every way it can fail is one :class:`ConfigurationLoadError` naming ``path``."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if _flow_nesting_exceeds(text, 500):
        raise ConfigurationLoadError(  # before ruamel, which needs seconds to give up on these
            "Unable to load configuration file.\n  path: %(path)s\n  reason: %(reason)s",
            path=path, reason="invalid yaml (nested too deeply to parse)",
        )
    yaml = yaml or YAML(typ="rt")
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # ruamel counts from 0; we report editor-style 1-based positions
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else ("?", "?")
        problem = exc.problem or exc.context or "invalid yaml"
        raise ConfigurationLoadError(
            "Unable to load configuration file.\n  path: %(path)s\n"
            "  reason: invalid yaml at line %(line)s, column %(column)s (%(problem)s)",
            path=path, line=line, column=column, problem=problem,
        ) from None
    except YAMLError as exc:
        raise ConfigurationLoadError(
            "Unable to load configuration file.\n  path: %(path)s\n  reason: invalid yaml (%(problem)s)",
            path=path, problem=str(exc).strip(),
        ) from None
    except RecursionError:  # [[[[…]]]] 100,000 deep: Python's parser stack gives up
        raise ConfigurationLoadError(
            "Unable to load configuration file.\n  path: %(path)s\n  reason: %(reason)s",
            path=path, reason="invalid yaml (nested too deeply to parse)",
        ) from None


def load_condarc_file(path: str) -> Layer:
    """Read one condarc file into a :class:`Layer`.

    Raises :class:`ConfigurationLoadError` naming the file and the problem (invalid YAML with its
    line and column, unreadable file, or a top level that is not a ``key: value`` mapping).
    """
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationLoadError(
            "Unable to load configuration file.\n  path: %(path)s\n  reason: %(reason)s",
            path=path, reason=str(exc),
        ) from None
    flat = _flat_condarc(text)
    if flat is not None:
        return Layer(path, {k: RawValue(path, k, v, None) for k, v in flat.items()})
    data = _parse_yaml(text, path)
    if data is None:
        return Layer(path, {})
    _require_mapping(data, path)
    try:
        values = {str(k): _wrap_yaml(path, str(k), v, _key_comment(data, k)) for k, v in data.items()}
    except RecursionError:
        raise ConfigurationLoadError(
            "Unable to load configuration file.\n  path: %(path)s\n  reason: %(reason)s",
            path=path, reason="values nested too deeply",
        ) from None
    return Layer(path, values)


# ------------------------------------------------------------------------------------------
# merging (conda.common.configuration: Primitive/Sequence/MapLoadedParameter.merge)
# ------------------------------------------------------------------------------------------

def _up_to_first_final(matches: list[RawValue]) -> list[RawValue]:
    for i, match in enumerate(matches):
        if match.key_flag == FINAL:
            return matches[: i + 1]
    return matches


def merge_primitive(matches: list[RawValue]) -> RawValue:
    """The first ``#!final`` match wins; otherwise the last (highest-precedence) one."""
    for match in matches:
        if match.key_flag == FINAL:
            return match
    return matches[-1]


def _unique(items: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def merge_sequence(matches: list[list[tuple[Any, str | None]]], finals: list[bool]) -> list[Any]:
    """Merge lists the way conda merges ``channels`` and friends.

    ``matches`` is one list of ``(item, flag)`` pairs per source, lowest precedence first.
    Sources after the first ``#!final`` one are ignored. Items from later sources come first;
    duplicates keep their first (highest-precedence) position; ``#!top`` items move to the very
    front and ``#!bottom`` items to the very end.
    """
    cut = len(matches)
    for i, final in enumerate(finals):
        if final:
            cut = i + 1
            break
    relevant = matches[:cut]
    top = [item for match in relevant for item, flag in match if flag == TOP]
    bottom = [item for match in reversed(relevant) for item, flag in match if flag == BOTTOM]
    everything = [item for match in reversed(relevant) for item, _ in match]
    top_first = _unique(top + everything)
    # conda's trick: de-duplicate the reversed list so a #!bottom line ends up last
    reversed_with_bottom = _unique(list(reversed(bottom)) + list(reversed(top_first)))
    return list(reversed(reversed_with_bottom))


def merge_map(matches: list[RawValue], merge_child) -> dict[str, Any]:
    """Maps merge key by key (``merge_child`` merges the values one key got from several
    sources); a key marked ``#!final`` inside a map keeps the first such value."""
    relevant = _up_to_first_final(matches)
    by_key: dict[str, list[RawValue]] = {}
    for match in relevant:
        for key, child in match.value.items():
            by_key.setdefault(key, []).append(child)
    merged = {key: merge_child(children) for key, children in by_key.items()}
    for match in reversed(relevant):
        for key, flag in (match.item_flags or {}).items():
            if flag == FINAL:
                merged[key] = merge_child([match.value[key]])
    return merged


# ------------------------------------------------------------------------------------------
# declaring and typing settings (conda: Parameter.load + typify); errors name source and key
# ------------------------------------------------------------------------------------------

_TRUE = ("true", "yes", "on", "y")
_FALSE = ("false", "off", "n", "no", "non", "none", "")


class Setting:
    """The declaration of one configuration parameter (conda: a ``ParameterLoader``).

    ``kind`` is ``"primitive"``, ``"sequence"`` or ``"map"``; ``types`` are the accepted Python
    types of a primitive (or of a map's values); ``choices`` turns a primitive into an enum;
    ``delimiter`` splits a list given as an environment variable.
    """

    __slots__ = ("name", "kind", "default", "types", "aliases", "choices", "delimiter", "element",
                 "validate", "doc")

    def __init__(self, name: str, kind: str, default: Any, types: tuple = (str,), aliases: tuple = (),
                 choices: tuple = (), delimiter: str = ",", element: str = "primitive",
                 validate: Callable[[Any], str | None] | None = None, doc: str = ""):
        self.name, self.kind, self.default, self.types = name, kind, default, types
        self.aliases, self.choices, self.delimiter = aliases, choices, delimiter
        self.element, self.validate, self.doc = element, validate, doc

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def __repr__(self) -> str:
        return f"Setting({self.name!r}, {self.kind}, default={self.default!r})"




def _type_name(value: Any) -> str:
    return {list: "list", tuple: "list", dict: "dict"}.get(type(value), type(value).__name__)


def _boolify(setting: str, value: Any, source: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise CustomValidationError(
        f"Parameter {setting} = {value!r} declared in {source} is invalid.\n"
        f"The value {value!r} cannot be boolified.")


def type_primitive(s: Setting, raw: Any, source: str, key: str | None = None) -> Any:
    """One scalar from YAML/env/flags → the setting's Python type (or a clear error)."""
    key = key or s.name
    if isinstance(raw, (tuple, list, dict)):
        raise InvalidTypeError(key, _plain(raw), source, _type_name(raw),
                               " | ".join(t.__name__ for t in s.types))
    if s.choices:
        value = raw
        if s.name == "channel_priority":  # conda maps booleans: true→flexible, false→disabled
            if isinstance(raw, bool) or (isinstance(raw, str) and raw.strip().lower() in _TRUE + _FALSE[:-1]):
                value = "flexible" if _boolify(key, raw, source) else "disabled"
        value = str(value).strip().lower() if value is not None else value
        if value not in s.choices:
            choices = ", ".join(f"'{c}'" for c in s.choices)
            raise CustomValidationError(
                f"Parameter {key} = {raw!r} declared in {source} is invalid.\n"
                f"{raw!r} is not a valid value for {key}.\nValid choices for {key}: {choices}")
        return value
    if raw is None:
        if type(None) in s.types:
            return None
        raise InvalidTypeError(key, raw, source, "NoneType", " | ".join(t.__name__ for t in s.types))
    types = s.types
    if bool in types and (isinstance(raw, bool) or (isinstance(raw, str) and raw.strip().lower() in _TRUE + _FALSE[:-1])):
        if int in types and isinstance(raw, str) and raw.strip().isdigit():
            return int(raw)
        return _boolify(key, raw, source)
    if float in types and not isinstance(raw, bool):
        try:  # timeouts (remote_*_timeout_secs): conda reads them as floats
            return float(raw)
        except (TypeError, ValueError):
            raise CustomValidationError(
                f"Parameter {key} = {raw!r} declared in {source} is invalid.\n"
                f"The value {raw!r} cannot be converted to a number.") from None
    if int in types and not isinstance(raw, bool):
        try:
            return int(raw)
        except (TypeError, ValueError):
            if str not in types:
                raise CustomValidationError(
                    f"Parameter {key} = {raw!r} declared in {source} is invalid.\n"
                    f"The value {raw!r} cannot be converted to an integer.") from None
    if str in types:
        return str(raw)
    if bool in types:
        return _boolify(key, raw, source)
    raise InvalidTypeError(key, raw, source, _type_name(raw), " | ".join(t.__name__ for t in types))


def sequence_items(s: Setting, match: RawValue, key: str | None = None) -> list[tuple[Any, str | None]]:
    """A list setting from one source → ``[(typed item, flag), ...]``."""
    key = key or s.name
    value = match.value
    if isinstance(value, str) and match.source == "envvars":
        return [(v.strip(), None) for v in value.split(s.delimiter) if v.strip()]
    if isinstance(value, list):  # from argparse (action="append")
        value = tuple(RawValue(match.source, key, v) for v in value)
    if not isinstance(value, tuple):
        raise InvalidTypeError(key, _plain(value), match.source, _type_name(value), "Sequence[str]")
    items = []
    for index, item in enumerate(value):
        inner = item.value if isinstance(item, RawValue) else item
        if isinstance(inner, (tuple, list, dict)) or inner is None:
            raise InvalidElementTypeError(key, _plain(inner), match.source, _type_name(inner),
                                          "str", index)
        flag = item.key_flag if isinstance(item, RawValue) else None
        items.append((str(inner), flag))
    return items



def type_map(setting: Setting, matches: list[RawValue], key: str | None = None) -> dict[str, Any]:
    key = key or setting.name
    for match in matches:
        if not isinstance(match.value, dict):
            raise InvalidTypeError(key, _plain(match.value), match.source, _type_name(match.value),
                                   f"Map[str, {'Sequence[str]' if setting.element == 'sequence' else 'str'}]")
    if setting.element == "sequence":
        def merge_child(children: list[RawValue]) -> tuple:
            lists = [sequence_items(setting, c, key) for c in children]
            return tuple(merge_sequence(lists, [c.key_flag == "final" for c in children]))
    else:
        scalar = Setting(setting.name, "primitive", None, setting.types)

        def merge_child(children: list[RawValue]) -> Any:
            chosen = merge_primitive(children)
            return type_primitive(scalar, chosen.value, chosen.source, key)
    return merge_map(matches, merge_child)



def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


def format_dict(block: Mapping[str, Any]) -> list[str]:
    """conda's ``format_dict`` for ``--show``/``--show-sources``."""
    lines = []
    for key, value in block.items():
        if isinstance(value, Mapping):
            if value:
                lines.append(f"{key}:")
                lines.extend(f"  {k}: {_fmt(v)}" for k, v in value.items())
            else:
                lines.append(f"{key}: {{}}")
        elif isinstance(value, (list, tuple)):
            if value:
                lines.append(f"{key}:")
                lines.extend(f"  - {_fmt(item)}" for item in value)
            else:
                lines.append(f"{key}: []")
        else:
            lines.append(f"{key}: {_fmt(value)}")
    return lines


def _fmt(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    return "None" if value is None else str(value)


# ------------------------------------------------------------------------------------------
# writing (conda.cli.condarc.ConfigurationFile): ``conda config --set/--add/--remove …``
# ------------------------------------------------------------------------------------------

class _Missing:
    """conda's ``MISSING``: the key is not in the file (``None`` is a value a file may hold)."""

    def __repr__(self) -> str:
        return "<MISSING>"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


def _round_trip_yaml():
    """ruamel.yaml set up exactly as conda's ``conda.common.serialize.yaml`` writer:
    round-trip mode (comments and key order survive), block style, lists indented by 4 with the
    dash at 2 (``channels:\\n  - conda-forge``)."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, offset=2, sequence=4)
    yaml.default_flow_style = False
    return yaml


class ConfigurationFile:
    """One condarc file being edited, as ``conda config`` edits it.

    ``settings`` maps every known setting *and alias* name to its :class:`Setting` (the Context
    declares them; this module only knows how to edit). Edits change :attr:`content` (ruamel's
    round-trip mapping, so comments and key order are kept); :meth:`write` saves it. Warnings
    conda prints on stderr (``Unknown key: 'x'``, ``… already in 'channels' list, moving to the
    top``) go to ``warning_handler``.

    What to notice: ``--add`` is ``--prepend`` — the last channel added gets the *highest*
    priority — and ``--remove channels defaults`` fails when ``channels`` was never written
    with ``defaults`` in it, because the file (not the merged value) is what is edited.
    """

    def __init__(self, path: str, settings: Mapping[str, Setting],
                 warning_handler: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.settings = settings
        self.warning_handler = warning_handler or (lambda msg: None)
        self.content: Any = {}

    def __repr__(self) -> str:
        return f"ConfigurationFile({self.path!r}, keys={list(self.content)})"

    # -- reading and writing -----------------------------------------------------------
    def read(self, path: str | None = None) -> Any:
        """Load ``path`` (default: this file); a missing file is an empty mapping."""
        path = path or self.path
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except FileNotFoundError:
            self.content = {}
            return self.content
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationLoadError(
                "Unable to load configuration file.\n  path: %(path)s\n  reason: %(reason)s",
                path=path, reason=str(exc)) from None
        content = _parse_yaml(text, path, _round_trip_yaml())
        if content is not None:
            _require_mapping(content, path)
        self.content = content or {}
        return self.content

    def write(self, path: str | None = None) -> None:
        """Save the content (temp file + rename: a crash never leaves half a condarc)."""
        from conda_deepdive.exceptions import CondaError

        path = path or self.path
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as fh:
                _round_trip_yaml().dump(self.content, fh)
            os.replace(tmp, path)
        except OSError as exc:
            with _suppress_os_error():
                os.unlink(tmp)
            raise CondaError(f"Cannot write to condarc file at {path}\nCaused by {exc!r}") from None

    # -- conda's operations ----------------------------------------------------------------
    def _setting(self, name: str) -> Setting | None:
        return self.settings.get(name)

    def _canonical(self, name: str) -> str | None:
        """conda's ``name_for_alias``: ``channel`` → ``channels``; ``None`` if not an alias."""
        s = self.settings.get(name)
        return s.name if s is not None and s.name != name else None

    def key_exists(self, key: str) -> bool:
        first = key.split(".")[0]
        s = self.settings.get(first)
        if s is None or s.name != first:
            if s is None:
                self.warning_handler(f"Unknown key: {key!r}")
            return s is not None
        return True

    def add(self, key: str, item: Any, prepend: bool = False) -> None:
        """``--prepend/--add`` (``prepend=True``) and ``--append``."""
        from conda_deepdive.exceptions import CondaValueError, CouldntParseError

        key, subkey = key.split(".", 1) if "." in key else (key, None)
        s = self.settings.get(key)
        if s is not None and s.name == key and s.kind == "sequence":
            arglist = self.content.setdefault(key, [])
        elif s is not None and s.name == key and s.kind == "map":
            arglist = self.content.setdefault(key, {}).setdefault(subkey, [])
        else:
            raise CondaValueError(f"Key '{key}' is not a known sequence parameter.")
        if not isinstance(arglist, list):
            raise CouldntParseError(f"key {key!r} should be a list, not {type(self.content[key]).__name__}.")
        if item in arglist:
            where = "top" if prepend else "bottom"
            label = key if subkey is None else f"{key}.{subkey}"
            self.warning_handler(f"Warning: {item!r} already in {label!r} list, moving to the {where}")
            kept = [p for p in arglist if p != item]
            arglist.clear()
            arglist.extend(kept)
        arglist.insert(0 if prepend else len(arglist), item)

    def get_key(self, key: str) -> tuple[str, Any]:
        """``(canonical key, value)`` or ``(key, MISSING)``."""
        if not self.key_exists(key):
            return key, MISSING
        key = self._canonical(key) or key
        node: Any = self.content
        try:
            for part in key.split("."):
                node = node[part]
        except (KeyError, TypeError):
            return key, MISSING
        return key, node

    def set_key(self, key: str, item: Any) -> None:
        """``--set KEY VALUE``: a primitive (typed as the setting says) or ``map.key``."""
        from conda_deepdive.exceptions import CondaKeyError

        if not self.key_exists(key):
            raise CondaKeyError(key, "unknown parameter")
        key = self._canonical(key) or key
        first, *rest = key.split(".")
        s = self.settings[first]
        if s.kind == "primitive" and not rest:
            self.content[first] = type_primitive(s, item, "--set parameter", first)
        elif s.kind == "map" and len(rest) == 1:
            self.content.setdefault(first, {})[rest[0]] = item
        else:
            raise CondaKeyError(key, "invalid parameter")

    def remove_item(self, key: str, item: Any) -> None:
        """``--remove KEY VALUE``: every occurrence of ``item`` in the list ``key``."""
        from conda_deepdive.exceptions import CondaKeyError

        first, *rest = key.split(".")
        s = self.settings.get(first)
        if s is None:
            raise CondaKeyError(key, "unknown parameter")
        if s.kind != "sequence" or rest:
            raise CondaKeyError(key, "invalid parameter")
        if first not in self.content:
            if first != "channels":
                raise CondaKeyError(key, "undefined in config")
            self.content[first] = ["defaults"]  # conda: an unset channels list means [defaults]
        if item not in self.content[first]:
            raise CondaKeyError(first, f"value {item!r} not present in config")
        self.content[first] = [i for i in self.content[first] if i != item]

    def remove_key(self, key: str) -> None:
        """``--remove-key KEY`` (a dotted key reaches into a map)."""
        from conda_deepdive.exceptions import CondaKeyError

        parts = key.split(".")
        node: Any = self.content
        try:
            for part in parts[:-1]:
                node = node[part]
            del node[parts[-1]]
        except (KeyError, TypeError):
            alias = self._canonical(key)
            if alias:
                try:
                    return self.remove_key(alias)
                except CondaKeyError:
                    pass
            raise CondaKeyError(key, "undefined in config") from None


class _suppress_os_error:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        return exc_type is not None and issubclass(exc_type, OSError)


def config_item_lines(key: str, value: Any) -> list[str]:
    """conda's ``print_config_item``: the ``--get`` lines that would re-create ``value``.

    Lists print as ``--add`` lines in *reverse* order (``--add`` prepends, so typing them in
    this order rebuilds the file); for ``channels`` the first line says ``# lowest priority``
    and the last ``# highest priority``.
    """
    lines: list[str] = []
    if isinstance(value, Mapping):
        for k, v in value.items():
            lines.extend(config_item_lines(f"{key}.{k}", v))
    elif isinstance(value, (bool, int, str)):
        lines.append(" ".join(("--set", key, str(value))))
    elif isinstance(value, (list, tuple)):
        n = len(value)
        for q, item in enumerate(reversed(value)):
            item = str(item) if isinstance(item, str) else item  # ruamel's scalar strings
            if key == "channels" and q in (0, n - 1):
                note = "  # lowest priority" if q == 0 else "  # highest priority"
                lines.append(" ".join(("--add", key, repr(item), note)))
            else:
                lines.append(" ".join(("--add", key, repr(item))))
    return lines
