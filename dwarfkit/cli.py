"""The ``dwarfkit`` command line."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, NoReturn, Sequence

from . import __version__
from .errors import DwarfkitError

# Subcommands register here: name -> (help, add_arguments, run). run returns the exit code.
Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: dict[str, Command] = {}
# Modules that register subcommands when imported.
COMMAND_MODULES = ("dwarfkit.reader.cli", "dwarfkit.loading.cli", "dwarfkit.description.cli",
                   "dwarfkit.description.describe_cli", "dwarfkit.loading.dwp_cli")


def _load_commands() -> None:
    # Imported lazily so that ``dwarfkit --version`` stays fast.
    import importlib
    import importlib.util
    for module in COMMAND_MODULES:
        if importlib.util.find_spec(module.rpartition(".")[0]) and importlib.util.find_spec(module):
            importlib.import_module(module)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dwarfkit", description="Generate, dump and verify DWARF debug information "
                                     "in ELF, Mach-O and COFF files.")
    parser.add_argument("--version", action="version", version=f"dwarfkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_arguments, _run) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _load_commands()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        return COMMANDS[args.command][2](args)
    except DwarfkitError as e:
        print(f"dwarfkit: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


def run() -> NoReturn:
    """The command-line entry point: :func:`main`, then an exit that skips freeing the interpreter's objects.

    After a load or convert of a large library the process holds millions of small objects; freeing them one by one
    takes seconds and achieves nothing at exit (LLVM's tools skip it for the same reason). Output is flushed first,
    and every file dwarfkit writes is complete (written atomically) before ``main`` returns."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)


if __name__ == "__main__":
    run()
