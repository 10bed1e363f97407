"""Registers ``dwarfkit dump`` and ``dwarfkit verify`` with dwarfkit's command line."""
from __future__ import annotations

import argparse
import io
import sys

from ..cli import COMMANDS
from ..errors import DwarfkitError
from .container import open_debug_file
from .dump import SECTION_FLAGS, dump_text
from .text import DumpOptions, InfoDumper


def _add_dump_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="ELF, Mach-O (or dSYM bundle, fat file) or COFF/PE file")
    for flag in SECTION_FLAGS:
        p.add_argument(f"--{flag}", action="store_true", help=f"dump .{flag.replace('-', '_')}")
    p.add_argument("--show-form", action="store_true", help="print each attribute's form")
    p.add_argument("-v", "--verbose", action="store_true", help="print forms and raw values as well")
    p.add_argument("--dwo", action="store_true", help="after each skeleton unit, print its split unit from the "
                   ".dwo it names (as llvm-dwarfdump 17's --dwo)")
    p.add_argument("--arch", help="the architecture to read from a fat Mach-O file (x86_64, arm64)")
    p.add_argument("--json", action="store_true", help="print JSON (structure documented in dwarfkit.reader.json_dump)")
    p.add_argument("--lookup", metavar="ADDR", help="print the unit, function, blocks and line of an address")
    p.add_argument("--name", help="print the DIEs with this name or linkage name")
    p.add_argument("--summary", action="store_true", help="sizes of sections, and per unit its DIE count")
    _add_jobs_argument(p)
    _add_limit_argument(p)


def _add_jobs_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("-j", "--jobs", type=_jobs, metavar="N",
                   help="worker processes for a large file's units (default: one per CPU); the output is the same")


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of jobs")
    return value


def _add_limit_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-section-size", type=_size, metavar="BYTES",
                   help="inflate compressed sections up to this size (default: 32 times the file's size, between "
                        "64 MiB and 1 GiB); suffixes K, M, G")


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    scale = units.get(t[-1:], 1)
    try:
        value = int(t[:-1] if scale > 1 else t, 0) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (write 2G, 512M or 1073741824)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the size must be positive")
    return value


def _address(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise DwarfkitError(f"--lookup: {text!r} is not an address (write 0x401000 or 4198400)") from None


def _run_dump(args: argparse.Namespace) -> int:
    df = open_debug_file(args.file, args.arch, args.max_section_size)
    chosen = {f for f in SECTION_FLAGS if getattr(args, f.replace("-", "_"))} or set(SECTION_FLAGS)
    opts = DumpOptions(show_form=args.show_form, verbose=args.verbose, jobs=args.jobs, dwo=args.dwo)
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="surrogateescape", write_through=False)
    status = 0
    try:
        if args.lookup is not None or args.name is not None or args.summary:
            from . import query
            from .units import DwarfContext
            ctx = DwarfContext(df)
            dumper = InfoDumper(ctx, out, opts)
            found: list[str] = []
            if args.summary:
                found = query.summary(ctx, out)
            seen: list[str] = []
            if args.lookup is not None and not query.lookup(ctx, _address(args.lookup), out, dumper,
                                                            None if args.summary else seen):
                print(f"dwarfkit: {args.file}: no unit covers address {args.lookup}", file=sys.stderr)
                status = 1
            if args.name is not None and not query.find_name(ctx, args.name, dumper):
                print(f"dwarfkit: {args.file}: no DIE is named {args.name!r}", file=sys.stderr)
                status = 1
            problems = df.problems + ctx.problems + dumper.problems + found
            problems += [p for p in seen if p not in problems]
        elif args.json:
            from .json_dump import dump_json
            problems = dump_json(df, out, chosen, opts)
        else:
            problems = dump_text(df, out, chosen, opts)
        out.flush()
    finally:
        out.detach()
    for p in dict.fromkeys(problems):  # once each, though a table read twice reports twice
        print(f"dwarfkit: {args.file}: {one_line(p)}", file=sys.stderr)
    return 1 if problems else status


_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7f, 0x85, 0x2028, 0x2029]}


def one_line(message: str) -> str:
    """A problem as one printable line: names read from a hostile file may hold newlines and control bytes."""
    return message if message.isprintable() else message.translate(_CONTROL)


def _add_verify_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="ELF, Mach-O (or dSYM bundle, fat file) or COFF/PE file")
    p.add_argument("--arch", help="the architecture to read from a fat Mach-O file (x86_64, arm64)")
    p.add_argument("--binary", help="for a dSYM: the executable whose UUID it must carry (default: found next to it)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr (shown on a terminal otherwise)")
    _add_jobs_argument(p)
    _add_limit_argument(p)


def _run_verify(args: argparse.Namespace) -> int:
    from .verify import verify
    progress = None
    if not args.quiet and sys.stderr.isatty():
        def progress(done: int, total: int) -> None:
            if total > 20:
                print(f"\rverifying units: {done}/{total}", end="\n" if done == total else "", file=sys.stderr,
                      flush=True)
    findings = verify(args.file, args.arch, args.binary, args.max_section_size, progress, args.jobs)
    for f in dict.fromkeys(findings):
        print(one_line(f))
    if not findings:
        print(f"{args.file}: no problems found")
    return 1 if findings else 0


COMMANDS["dump"] = ("print the DWARF of a file the way llvm-dwarfdump does", _add_dump_arguments, _run_dump)
COMMANDS["verify"] = ("check the DWARF of a file; one line per problem", _add_verify_arguments, _run_verify)
