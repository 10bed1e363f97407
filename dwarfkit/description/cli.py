"""The ``dwarfkit build`` command (registered in :data:`dwarfkit.cli.COMMANDS`)."""
from __future__ import annotations

import argparse

from ..cli import COMMANDS
from .build import build_file


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("description", help="a description of the program and its DWARF (YAML or JSON)")
    p.add_argument("-o", "--output", required=True, help="the file to write")


def _run(args: argparse.Namespace) -> int:
    build_file(args.description).write(args.output)
    return 0


COMMANDS["build"] = ("write the file a description (YAML or JSON) describes: code, units, DIEs, line rows",
                     _add_arguments, _run)
