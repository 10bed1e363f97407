"""Incremental updates against whole-file writes (issue 7), on the synthetic program of ../shared/bench/SPEC.md.

    python3 benchmarks/bench_incremental.py [FUNCTIONS] [UPDATES] [elf|pe] [general|convenience]

Writes an ELF executable (or a PE image) with FUNCTIONS functions (default 100,000: SPEC's addresses, lines, variables,
lexical block and 16 rows; one unit), then makes UPDATES (default 1,000) single-function updates: each picks a random
function and gives it new code size, rows and variables (sometimes with new names), as a recompiled function would.
By default every function is given as an entry of the general model (a ``Die`` subtree made with ``Unit.die``,
carried as JSON); ``convenience`` gives the ``Function``/``Variable``/``Block`` model instead. Making the DIEs is
the caller's work and is not timed: the times are the writer's.
Prints:

* the time of a whole-file write and the median time of one update, and their ratio;
* per update, bytes written / (size of the function's DIE subtree + line sequence) -- the median and the maximum --,
  how many updates had to move the function or a section, how many of the bytes went to the tables beside the
  slots (new names in .debug_str, the function's .debug_ranges/.debug_aranges entries), and how many section header
  patches (a visible size that changed, a section that moved) each update asked the container for;
* the time to close (which writes the state snapshot) and to reopen the file from it, CPU and wall clock, the
  snapshot's size, whether the reopen used it, and whole write / (close + reopen) in CPU time.

Times of writes and updates are CPU time of this process (user + system: the pwrites' system time counts), so that
other load on the machine changes them less than wall-clock time.
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dwarfkit import Address, Arch, pin  # noqa: E402
from dwarfkit.backends.coff import write_pe  # noqa: E402
from dwarfkit.backends.coff.incremental import IncrementalImage  # noqa: E402
from dwarfkit.backends.elf import write_executable  # noqa: E402
from dwarfkit.backends.elf.incremental import IncrementalExecutable  # noqa: E402
from dwarfkit.expr import Expr  # noqa: E402
from dwarfkit.image import ContentSection, Image, SectionKind, Symbol  # noqa: E402
from dwarfkit.incremental import Block, Function, UnitInfo, Variable  # noqa: E402
from dwarfkit.incremental.dies import UnitDies, function_die  # noqa: E402
from dwarfkit.incremental.fragments import line_program, line_sequence_size  # noqa: E402
from dwarfkit.incremental.writer import IncrementalDwarf, Target  # noqa: E402
from dwarfkit.program import DwarfBuilder  # noqa: E402

BASES = {"elf": 0x10000, "pe": IncrementalImage.text_address()}
T = TypeVar("T")
"""Where the code area starts in each container."""


def synth(i: int, size: int = 64, rows: int = 16, extra: int = 0, fresh_names: int = 0,
          base: int = BASES["elf"], step: int = 4) -> Function:
    """SPEC's function ``i``; ``extra`` more variables, the first ``fresh_names`` of them with names never seen."""
    line = (i % 1000) * 20 + 1
    variables = [Variable("a", line, "long", -24, True), Variable("b", line, "long", -32, True),
                 Variable("x", line + 1, "long", -40), Variable("y", line + 2, "long", -48)]
    variables += [Variable(f"z{k}" if k >= fresh_names else f"new_{i}_{k}", line + 4 + k, "long", -64 - 8 * k)
                  for k in range(extra)]
    block = Block(16, 48, (Variable("t", line + 3, "pointer", -56),))
    return Function(f"fn_{i}", base + 64 * i, size, line, tuple((step * j, line + j // 2) for j in range(rows)),
                    tuple(variables), (block,))


def general(fn: Function, maker: IncrementalDwarf) -> Function:
    """The same function as an entry of the general model: its DW_TAG_subprogram made with ``Unit.die``."""
    die = function_die(maker.compile_unit, maker.types, fn)
    return maker.entry(die, address=fn.address, size=fn.size, line=fn.line, rows=fn.rows)


def ordinary_write(path: Path, unit: UnitInfo, functions: list[Function], text_size: int, container: str) -> None:
    """The whole file the ordinary way, as a compiler that rewrites everything would."""
    dw = DwarfBuilder(version=4)
    cu = dw.compile_unit(unit.name, comp_dir=unit.comp_dir, producer=unit.producer, language=unit.language,
                         low_pc=Address(None, 0),
                         ranges=dw.range_list([(Address(None, fn.address), fn.size) for fn in functions]))
    long_t = cu.base_type("long", 8, "signed")
    types = {"long": long_t, "pointer": cu.pointer_type(long_t, 8)}
    frame_base = Expr().op("call_frame_cfa")
    for fn in functions:
        sub = cu.die("subprogram", external=True, name=pin(fn.name, "strp"), decl_file=1, decl_line=fn.line,
                     type=long_t, low_pc=Address(None, fn.address), high_pc=fn.size, frame_base=frame_base)
        for v in fn.variables:
            sub.die("formal_parameter" if v.parameter else "variable", name=pin(v.name, "strp"), decl_file=1,
                    decl_line=v.line, type=types[v.type], location=Expr().fbreg(v.frame_offset))
        for b in fn.blocks:
            block = sub.die("lexical_block", low_pc=Address(None, fn.address + b.low), high_pc=b.high - b.low)
            for v in b.variables:
                block.die("variable", name=pin(v.name, "strp"), decl_file=1, decl_line=v.line, type=types[v.type],
                          location=Expr().fbreg(v.frame_offset))
        seq = cu.line.sequence(Address(None, fn.address))
        seq.add_rows(fn.rows)
        seq.end(fn.size)
    image = Image(Arch.X86_64, [ContentSection(".text", SectionKind.CODE, data=b"\xcc" * text_size)],
                  [Symbol("_start", ".text", 0, 1)], dw.emit(aranges=True), entry="_start")
    if container == "pe":
        write_pe(image, path)
    else:
        write_executable(image, path, addresses={".text": BASES["elf"]})


class Counting:
    """The file's target, counting the bytes each update writes per section and the header patches it asks for."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.reset()

    def reset(self) -> None:
        self.written: dict[str, int] = {}
        self.headers = 0

    def write(self, section: str, offset: int, data: bytes) -> None:
        self.written[section] = self.written.get(section, 0) + len(data)
        self.target.write(section, offset, data)

    def replace(self, section: str, data: bytes) -> None:
        self.written[section] = self.written.get(section, 0) + len(data)
        self.headers += 1
        self.target.replace(section, data)

    def resize(self, section: str, size: int) -> None:
        self.headers += 1
        self.target.resize(section, size)


def timed(action: Callable[[], T]) -> tuple[T, float, float]:
    """(result, CPU seconds of this process, wall clock seconds)."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = action()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    updates = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    container = sys.argv[3] if len(sys.argv) > 3 else "elf"
    model = sys.argv[4] if len(sys.argv) > 4 else "general"
    base = BASES[container]
    rng = random.Random(1)
    unit = UnitInfo("synth.c", "/synth", "synth 1.0")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synth"
        functions = [synth(i, base=base) for i in range(n)]
        maker = IncrementalDwarf(unit)
        given = [general(fn, maker) for fn in functions] if model == "general" else functions
        start = time.process_time()
        writer: IncrementalExecutable | IncrementalImage
        if container == "pe":
            writer = IncrementalImage.create(path, unit, given, text_size=64 * n)
        else:
            writer = IncrementalExecutable.create(path, unit, given, text_address=base, text_size=64 * n)
        whole = time.process_time() - start
        print(f"whole {container} file: {n} functions ({model} model), {path.stat().st_size:,} bytes, {whole:.2f} s")
        start = time.process_time()
        ordinary_write(Path(tmp) / "ordinary", unit, functions, 64 * n, container)
        ordinary = time.process_time() - start
        print(f"the same program through DwarfBuilder + the {container} writer (no slots): {ordinary:.2f} s")
        program = line_program(unit)
        measure = UnitDies(unit)  # tables of its own: measuring adds nothing to the file's
        dwarf = writer.dwarf
        counting = Counting(writer.target)
        dwarf.target = counting
        times, ratios, tables, headers, moved = [], [], [], [], 0
        for _ in range(updates):
            i = rng.randrange(n)
            # A recompiled function: usually about the same size, sometimes noticeably bigger or smaller.
            rows = rng.choice((12, 14, 16, 16, 18, 20, 28))
            extra = rng.choice((0, 0, 1, 2, 3))
            # The code stays in its 64 bytes (the next function follows: overlaps are refused), denser if need be.
            fn = synth(i, rows=rows, extra=extra, fresh_names=rng.choice((0, 0, 0, extra)), base=base,
                       step=4 if rows <= 16 else 2)
            fragment = len(measure.function(fn, 0)) + line_sequence_size(program, fn)
            before_slots = (writer.dwarf.functions[fn.name].info, writer.dwarf.functions[fn.name].line)
            update = general(fn, maker) if model == "general" else fn
            written = writer.bytes_written
            counting.reset()
            start = time.process_time()
            writer.update(update)
            times.append(time.process_time() - start)
            ratios.append((writer.bytes_written - written) / fragment)
            tables.append(sum(counting.written.get(s, 0) for s in (".debug_str", ".debug_ranges", ".debug_aranges")))
            headers.append(counting.headers)
            if (writer.dwarf.functions[fn.name].info, writer.dwarf.functions[fn.name].line) != before_slots:
                moved += 1
        _, close_cpu, close_wall = timed(writer.close)
        snapshot = path.with_name(path.name + ".snapshot").stat().st_size
        again, open_cpu, open_wall = timed(lambda: type(writer).open(path))
        again.close()
    median = statistics.median(times)
    print(f"{updates} updates: median {median * 1e6:.0f} us, whole write / median update = {whole / median:,.0f}x "
          f"(DwarfBuilder write / median update = {ordinary / median:,.0f}x)")
    print(f"bytes written per update / fragment size: median {statistics.median(ratios):.2f}, "
          f"max {max(ratios):.2f} ({moved} updates moved a slot or a section); of them to .debug_str/ranges/aranges: "
          f"median {statistics.median(tables):.0f}, max {max(tables):,}; section header patches: "
          f"median {statistics.median(headers):.0f}, max {max(headers)}")
    print(f"close (writes the {snapshot:,}-byte snapshot): CPU {close_cpu:.2f} s, wall {close_wall:.2f} s; "
          f"open ({again.restored}, file checked against it): CPU {open_cpu:.2f} s, wall {open_wall:.2f} s; "
          f"whole write / (close + open) = {whole / (close_cpu + open_cpu):.1f}x")


if __name__ == "__main__":
    main()
