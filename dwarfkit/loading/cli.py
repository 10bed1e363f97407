"""The ``dwarfkit convert`` command (registered in :data:`dwarfkit.cli.COMMANDS`)."""
from __future__ import annotations

import argparse
import sys

from ..cli import COMMANDS
from ..errors import DescriptionError
from .convert import ConvertOptions, convert


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="an ELF, Mach-O (or dSYM bundle) or COFF/PE file with DWARF")
    p.add_argument("output", help="where to write the converted file (written atomically)")
    p.add_argument("--dwarf-version", type=int, choices=(2, 3, 4, 5), help="write this DWARF version")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--dwarf64", dest="offset_size", action="store_const", const=8, help="64-bit DWARF")
    size.add_argument("--dwarf32", dest="offset_size", action="store_const", const=4, help="32-bit DWARF")
    indexed = p.add_mutually_exclusive_group()
    indexed.add_argument("--indexed", dest="indexed", action="store_const", const=True,
                         help="DWARF 5 strx/addrx/rnglistx/loclistx forms")
    indexed.add_argument("--no-indexed", dest="indexed", action="store_const", const=False,
                         help="offsets and addresses in the DIEs")
    compress = p.add_mutually_exclusive_group()
    compress.add_argument("--compress", dest="compress", action="store_const", const=True,
                          help="zlib-compress the debug sections")
    compress.add_argument("--decompress", dest="compress", action="store_const", const=False,
                          help="write the debug sections uncompressed")
    p.add_argument("--separate-debug", metavar="DEBUGFILE", help="strip OUTPUT and write its DWARF to DEBUGFILE, "
                   "linked by .gnu_debuglink (ELF)")
    p.add_argument("--prefix-map", metavar="OLD=NEW", action="append", default=[],
                   help="rewrite paths starting with OLD in units and line tables (repeatable)")
    p.add_argument("--only-units", metavar="GLOB", action="append", default=[],
                   help="keep only the units whose name matches (repeatable)")
    p.add_argument("--drop-units", metavar="GLOB", action="append", default=[],
                   help="drop the units whose name matches (repeatable)")
    p.add_argument("--index", choices=("debug_names", "gdb_index", "apple", "none"), default="none",
                   help="write this accelerator table (DWARF 5 .debug_names; gdb's .gdb_index, ELF; the Apple "
                   "tables, Mach-O/dSYM)")
    split = p.add_mutually_exclusive_group()
    split.add_argument("--split-dwarf", dest="split", action="store_const", const=True,
                       help="each compile unit's DIEs into a .dwo beside OUTPUT, a skeleton unit in OUTPUT (ELF)")
    split.add_argument("--unsplit", dest="split", action="store_const", const=False,
                       help="fold the .dwo files of a split program back into OUTPUT")
    p.add_argument("--arch", help="the slice of a fat Mach-O file")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _run(args: argparse.Namespace) -> int:
    pairs = []
    for item in args.prefix_map:
        old, sep, new = item.partition("=")
        if not sep or not old:
            raise DescriptionError(f"--prefix-map {item!r}: give OLD=NEW")
        pairs.append((old, new))
    options = ConvertOptions(version=args.dwarf_version, offset_size=args.offset_size, indexed=args.indexed,
                             arch=args.arch, compress=args.compress, separate_debug=args.separate_debug,
                             prefix_map=pairs, only_units=args.only_units, drop_units=args.drop_units,
                             index=None if args.index == "none" else args.index,
                             split=args.split,
                             progress=(lambda *_: None) if args.quiet or not sys.stderr.isatty() else None)
    if args.dwarf_version or args.offset_size or args.indexed is not None:
        options.keep_forms = False
    convert(args.input, args.output, options)
    return 0


COMMANDS["convert"] = ("write a copy of a file with its DWARF re-emitted: another version, 32/64-bit, indexed "
                       "forms, compression, a separate debug file, path prefixes, a subset of units, split DWARF",
                       _add_arguments, _run)
