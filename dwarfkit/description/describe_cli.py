"""``dwarfkit describe FILE [-o OUT.yaml] [--raw]`` and ``dwarfkit dump --yaml FILE``: a file's DWARF as a YAML
description (:mod:`.describe`) that ``dwarfkit build`` takes.

The YAML keeps a description readable: a DIE per block, short collections (a row, an operation, a list entry, an
attribute's ``{value, form}``) on one line in flow style. ``dump --yaml`` is added to the reader's ``dump`` command
here (the reader sits below this package and cannot call it). Registered in :data:`dwarfkit.cli.COMMANDS`.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import yaml

from ..cli import COMMANDS
from ..output import write_atomically
from .describe import describe_for_yaml

FLOW_WIDTH = 100
"""A collection of scalars (or of such collections) whose flow text is at most this long goes on one line."""


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):   # type: ignore[misc]
    """libyaml's emitter when PyYAML has it (a large program's description: seconds instead of a minute)."""


def _width(value: Any, limit: int) -> int:
    """About how long ``value`` is in flow style (past ``limit``: stops counting)."""
    if isinstance(value, dict):
        total = 2
        for key, item in value.items():
            total += len(str(key)) + 4 + _width(item, limit - total)
            if total > limit:
                break
        return total
    if isinstance(value, list):
        total = 2
        for item in value:
            total += 2 + _width(item, limit - total)
            if total > limit:
                break
        return total
    return len(str(value)) + 2


def _short(value: Any) -> bool:
    return _width(value, FLOW_WIDTH) <= FLOW_WIDTH


def _list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=_short(data))


def _dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    flow = _short(data) and "tag" not in data
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)


_Dumper.add_representer(list, _list)
_Dumper.add_representer(dict, _dict)


def to_yaml(description: dict[str, Any]) -> str:
    """``description`` as YAML text, in the layout above."""
    return yaml.dump(description, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="ELF, Mach-O (or dSYM bundle) or COFF/PE file with DWARF")
    p.add_argument("-o", "--output", help="write the YAML here (default: standard output)")
    p.add_argument("--raw", action="store_true", help="print every attribute's form, not only the unusual ones")


def _run(args: argparse.Namespace) -> int:
    described = describe_for_yaml(args.file, raw=args.raw)
    if args.output:   # the file relative to the description, as build reads it: the two may move together
        described["file"] = os.path.relpath(described["file"], os.path.dirname(os.path.abspath(args.output)))
        write_atomically(args.output, to_yaml(described).encode())
    else:
        sys.stdout.write(to_yaml(described))
    return 0


COMMANDS["describe"] = ("print a file's DWARF as a description (YAML) that `dwarfkit build` makes again",
                        _add_arguments, _run)


def _wrap_dump() -> None:
    """``dump --yaml``: the reader's dump command, which prints the description instead when asked."""
    if "dump" not in COMMANDS:
        return
    help_text, add_arguments, run = COMMANDS["dump"]

    def add(p: argparse.ArgumentParser) -> None:
        add_arguments(p)
        p.add_argument("--yaml", action="store_true", help="print the description of the file (as `describe`)")

    def dump(args: argparse.Namespace) -> int:
        if getattr(args, "yaml", False):
            sys.stdout.write(to_yaml(describe_for_yaml(args.file)))
            return 0
        return run(args)

    COMMANDS["dump"] = (help_text, add, dump)


_wrap_dump()

