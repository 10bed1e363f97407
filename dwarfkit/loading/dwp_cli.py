"""The ``dwarfkit dwp`` command (registered in :data:`dwarfkit.cli.COMMANDS`): :func:`.dwp.write_dwp`."""
from __future__ import annotations

import argparse

from ..cli import COMMANDS
from .dwp import write_dwp


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("output", help="the package to write (written atomically), e.g. prog.dwp")
    p.add_argument("inputs", nargs="+", help=".dwo files, packages, or objects/executables whose skeleton units "
                   "name .dwo files")


def _run(args: argparse.Namespace) -> int:
    write_dwp(args.output, args.inputs)
    return 0


COMMANDS["dwp"] = ("package split DWARF (.dwo files, or those an executable names) into a .dwp, as llvm-dwp does",
                   _add_arguments, _run)
