"""A description file read into plain Python data, with the line each value came from.

YAML (PyYAML's safe loader) and JSON (read by the same parser: JSON is YAML's flow style) give dicts, lists,
strings, numbers, booleans and null; :class:`Source` remembers the line of every value by its path in the tree
(``("units", 0, "dies", 1, "type")``), so that any error names ``file:line`` and the path. A description given as a
dict (``dwarfkit.build({...})``) has no lines: errors name the path alone.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import DescriptionError

Path_ = tuple[str | int, ...]


@dataclass
class Source:
    """Where a description came from: its file (None for a dict) and the line of each path in it."""

    name: str | None = None
    lines: dict[Path_, int] = field(default_factory=dict)

    def where(self, path: Path_) -> str:
        """``file:line: path`` for messages (the nearest enclosing value's line when this one has none)."""
        text = format_path(path)
        if self.name is None:
            return text or "the description"
        for n in range(len(path), -1, -1):
            line = self.lines.get(path[:n])
            if line is not None:
                return f"{self.name}:{line}: {text}" if text else f"{self.name}:{line}"
        return f"{self.name}: {text}" if text else self.name

    def error(self, path: Path_, message: str) -> DescriptionError:
        return DescriptionError(f"{self.where(path)}: {message}")


def format_path(path: Path_) -> str:
    """``units[0].dies[1].type``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_description(path: str | os.PathLike[str]) -> tuple[Any, Source]:
    """The description in the YAML or JSON file at ``path`` and its :class:`Source`. DescriptionError (with the file
    and line) for a file that cannot be read or parsed, or that holds a key twice."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DescriptionError(f"{name}: cannot read the description: {error}") from None
    source = Source(name)
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))   # libyaml: 20 times faster
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = getattr(error, "problem", None) or str(error)
        raise DescriptionError(f"{where}: not YAML or JSON: {problem}") from None
    if node is None:
        raise DescriptionError(f"{name}: the description is empty")
    constructor = yaml.SafeLoader("")
    return _convert(node, (), source, constructor), source


def _convert(node: yaml.Node, path: Path_, source: Source, constructor: yaml.SafeLoader) -> Any:
    source.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise DescriptionError(f"{source.name}:{key_node.start_mark.line + 1}: {format_path(path) or 'top'}: "
                                       f"key {key!r} is not a name or a number")
            if key in out:
                raise DescriptionError(f"{source.name}:{key_node.start_mark.line + 1}: {format_path(path) or 'top'}: "
                                       f"{key!r} is given twice")
            out[key] = _convert(value_node, (*path, key), source, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, n), source, constructor) for n, item in enumerate(node.value)]
    return constructor.construct_object(node, deep=True)
