"""Registers ``dwarfkit dump`` and ``dwarfkit verify`` with dwarfkit's command line."""
from __future__ import annotations

import argparse
import io
import sys

from ..cli import COMMANDS
from .container import open_debug_file
from .dump import SECTION_FLAGS, dump_text
from .text import DumpOptions


def _add_dump_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="ELF, Mach-O (or dSYM bundle, fat file) or COFF/PE file")
    for flag in SECTION_FLAGS:
        p.add_argument(f"--{flag}", action="store_true", help=f"dump .{flag.replace('-', '_')}")
    p.add_argument("--show-form", action="store_true", help="print each attribute's form")
    p.add_argument("-v", "--verbose", action="store_true", help="print forms and raw values as well")
    p.add_argument("--arch", help="the architecture to read from a fat Mach-O file (x86_64, arm64)")


def _run_dump(args: argparse.Namespace) -> int:
    df = open_debug_file(args.file, args.arch)
    chosen = {f for f in SECTION_FLAGS if getattr(args, f.replace("-", "_"))} or set(SECTION_FLAGS)
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="surrogateescape", write_through=False)
    try:
        problems = dump_text(df, out, chosen, DumpOptions(show_form=args.show_form, verbose=args.verbose))
        out.flush()
    finally:
        out.detach()
    for p in problems:
        print(f"dwarfkit: {args.file}: {p}", file=sys.stderr)
    return 1 if problems else 0


COMMANDS["dump"] = ("print the DWARF of a file the way llvm-dwarfdump does", _add_dump_arguments, _run_dump)
