"""``dwarfkit verify``: llvm-dwarfdump --verify's checks plus dwarfkit's own, one finding per line.

Every finding names its section and offset. Checks:
- unit headers and their chain, abbreviation tables, forms (what ``DwarfContext`` reports while decoding);
- attribute values in range: string offsets and indices, address indices, section offsets
  (stmt_list, ranges, location lists), references landing on the start of a DIE;
- DIE address ranges: low <= high, children inside their parent, sibling functions not overlapping;
- line tables: decodable, file indices valid, addresses not decreasing inside a sequence;
- ours: relocations all applied, line rows and function ranges on instruction starts (x86_64, aarch64, via capstone),
  a dSYM's UUID equal to its binary's.
All work is bounded by the size of the data: every loop walks bytes or decoded entries that are already there.
"""
from __future__ import annotations

import bisect
from pathlib import Path
from typing import Callable

from ..errors import DwarfkitError
from . import forms, parallel
from .container import open_debug_file
from .container_check import container_findings
from .debugfile import CodeSection, DebugFile, dwo_spelling
from .dump import line_tables
from .forms import F
from .lines import END_SEQUENCE, parse_line_table
from .package_check import package_findings
from .query import die_ranges
from .ranges import attribute_ranges, list_offset, loclist
from .split import SplitFiles
from .split_lists import split_loclist
from .units import DwarfContext, Unit, Value, forget
from .verify_shapes import (
    A_SIBLING,
    line_header_findings,
    sibling_finding,
    table_header_findings,
    unit_tree_findings,
)

A_STMT_LIST, A_RANGES, A_LOW_PC, A_HIGH_PC, A_DECL_FILE, A_CALL_FILE = 0x10, 0x55, 0x11, 0x12, 0x3a, 0x58
LOCLIST_ATTRS = {0x02, 0x0b, 0x0d, 0x19, 0x2a, 0x2f, 0x37, 0x38, 0x40, 0x46, 0x48, 0x4a, 0x4d}
T_SUBPROGRAM, T_LEXICAL_BLOCK, T_INLINED, T_CU = 0x2e, 0x0b, 0x1d, 0x11
RANGED_TAGS = {T_SUBPROGRAM, T_LEXICAL_BLOCK, T_INLINED, T_CU, 0x41, 0x4a}
MAX_FINDINGS = 10_000  # past this, a summary line: a corrupt file must not flood the terminal


def verify(path: str, arch: str | None = None, binary: str | None = None,
           max_section_size: int | None = None, progress: Callable[[int, int], None] | None = None,
           jobs: int | None = None) -> list[str]:
    """The findings of every check; ``progress(done, total)`` is called as units are done (the command shows it
    on a terminal for long runs). ``jobs``: worker processes for the units of a large file (None: one per CPU); the
    findings are the same, in the same order, for any number."""
    df = open_debug_file(path, arch, max_section_size)
    v = Verifier(df)
    v.progress = progress
    v.jobs = parallel.check_jobs(jobs)
    v.findings += container_findings(df.path)
    v.check_dsym_uuid(path, arch, binary)
    v.run()
    split = df.split_part()
    if split is not None:  # a .dwo or .dwp: the same checks on its .debug_*.dwo sections
        sv = Verifier(split)
        sv.run()
        v.findings += [dwo_spelling(f) for f in sv.findings] + package_findings(sv.ctx)
    _verify_split_units(v)
    findings = v.findings
    if len(findings) > MAX_FINDINGS:
        findings = findings[:MAX_FINDINGS] + [f"... and {len(findings) - MAX_FINDINGS} more findings"]
    return findings


def _verify_split_units(v: Verifier) -> None:
    """Skeleton units: their .dwo files found, DWO ids matching, and the split parts checked with the skeletons'
    addresses."""
    files = SplitFiles(v.ctx)
    for unit in v.ctx.units():
        if files.is_skeleton(unit):
            note = files.split_unit(unit).note
            if note:
                v.add(note)
        forget(unit)
    for path, ctx in files.opened.items():
        if isinstance(ctx, DwarfContext) and path in files.matched:
            sv = Verifier(ctx.file)
            sv.ctx = ctx  # its units know their skeletons' address bases
            sv.run()
            v.findings += [f"{path}: {dwo_spelling(f)}" for f in sv.findings]


class Verifier:
    def __init__(self, df: DebugFile):
        self.df = df
        self.ctx = DwarfContext(df)
        self.findings: list[str] = []
        self.functions: list[tuple[int, int, str]] = []  # (low, high, where)
        self.binary_code: list[CodeSection] = []  # a dSYM's instructions live in its binary
        self.progress: Callable[[int, int], None] | None = None
        self.jobs = 1

    def add(self, message: str) -> None:
        self.findings.append(message)

    def run(self) -> None:
        for p in self.df.problems:
            self.add(p)
        ctx = self.ctx
        all_units = ctx.units("debug_info") + ctx.units("debug_types")
        done = 0
        for section in ("debug_info", "debug_types"):
            units = ctx.units(section)
            if parallel.worth_it(self.jobs, len(self.df.section(section))):
                global _worker_verifier
                _worker_verifier = self
                try:
                    runs = [(section, first, last) for first, last in parallel.unit_runs(units)]
                    for (_, first, last), (findings, functions) in zip(
                            runs, parallel.in_order(_check_run, runs, self.jobs), strict=True):
                        self.findings += findings
                        self.functions += functions
                        done += last - first
                        if self.progress is not None:
                            self.progress(done, len(all_units))
                finally:
                    _worker_verifier = None
                continue
            starts: dict[int, int] = {}
            for unit in units:
                self.check_unit(unit, starts)
                done += 1
                if self.progress is not None:
                    self.progress(done, len(all_units))
        for p in ctx.problems + table_header_findings(ctx):
            self.add(p)
        self.check_line_tables()
        self.check_instructions()

    # --- units and DIEs --------------------------------------------------------------------------------------
    def check_unit(self, unit: Unit, _starts: dict[int, int]) -> None:
        ctx = self.ctx
        sec = "." + unit.section
        if unit.version >= 5 and unit.unit_type not in (1, 2, 3, 4, 5, 6):
            self.add(f"{sec}[0x{unit.offset:x}]: unit type 0x{unit.unit_type:x} is not a DW_UT_* value")
        ctx.load(unit)
        for p in unit.problems:
            self.add(p)
        for p in unit_tree_findings(unit):
            self.add(p)
        if not unit.offs:
            return
        if unit.abbs[0] is None or unit.abbs[0].tag not in (0x11, 0x41, 0x4a, 0x3c):
            self.add(f"{sec}[0x{unit.offs[0]:x}]: the unit's first DIE is not a unit DIE")
        line_sizes = len(self.df.section("debug_line"))
        self.unit_files = None
        if unit.stmt_list is not None and unit.stmt_list < line_sizes:
            t = parse_line_table(self.df.section("debug_line"), unit.stmt_list, ctx.order, unit.address_size,
                                 ctx.str, ctx.line_str, rows=False)
            first = 0 if t.version >= 5 else 1
            self.unit_files = (first, first + len(t.files) - 1)
        data_lens = {F["strp"]: len(ctx.str), F["line_strp"]: len(ctx.line_str)}
        ranges_parent: list[list[tuple[int, int]] | None] = []
        for i, ab in enumerate(unit.abbs):
            ranges_parent.append(None)
            values = unit.vals[i]
            if ab is None or values is None:
                continue
            where = f"{sec}[0x{unit.offs[i]:x}]"
            for (at, form, _c), v in zip(ab.attrs, values, strict=True):
                if isinstance(v, tuple):
                    form, v = v
                self.check_value(unit, i, where, at, form, v, data_lens, line_sizes)
            if ab.tag in RANGED_TAGS:
                self.check_ranges(unit, i, where, ranges_parent)
        forget(unit)

    def check_value(self, unit: Unit, i: int, where: str, at: int, form: int, v: Value, data_lens: dict[int, int],
                    line_size: int) -> None:
        ctx = self.ctx
        from .names import attr_name
        name = attr_name(at)
        if form in data_lens and v >= data_lens[form]:
            self.add(f"{where}: {name} {forms.form_name(form)} offset 0x{v:x} is past the end of "
                     f"{'.debug_str' if form == F['strp'] else '.debug_line_str'} (0x{data_lens[form]:x})")
        elif form in forms.STRING_INDEX:
            off = ctx.string_offset(unit, v)
            if off is None:
                self.add(f"{where}: {name} string index {v} is past the end of .debug_str_offsets")
            elif off >= len(ctx.str):
                self.add(f"{where}: {name} string index {v} gives offset 0x{off:x}, past the end of .debug_str")
        elif form in forms.ADDR_INDEX:
            # A .dwo read alone has no .debug_addr: its addresses are in the skeleton's file.
            if ctx.address_index(unit, v) is None and (ctx.addr or not self.df.dwo):
                self.add(f"{where}: {name} address index {v} is past the end of .debug_addr")
        elif form in forms.UNIT_REFS:
            target = unit.offset + v
            if unit.die_index(target) is None:
                self.add(f"{where}: {name} refers to 0x{target:x}, which is not the start of a DIE in its unit "
                         f"(0x{unit.offset:x}-0x{unit.end:x})")
            elif at == A_SIBLING and (finding := sibling_finding(unit, i, where, target)) is not None:
                self.add(finding)
        elif form == F["ref_addr"]:
            other = ctx.unit_at(v, unit.section)
            if other is None or not self._is_die_start(other, v):
                self.add(f"{where}: {name} DW_FORM_ref_addr 0x{v:x} is not the start of a DIE")
        elif at in (A_DECL_FILE, A_CALL_FILE) and form in forms.CONSTANTS and self.unit_files is not None:
            lo, hi = self.unit_files
            if not lo <= v <= hi:
                self.add(f"{where}: {name} {v} is not a file index of the unit's line table "
                         f"(valid: {lo}-{hi})")
        elif at == A_STMT_LIST and form in (F["sec_offset"], F["data4"], F["data8"]):
            if v >= line_size:
                self.add(f"{where}: DW_AT_stmt_list 0x{v:x} is past the end of .debug_line (0x{line_size:x})")
        elif at in LOCLIST_ATTRS and (form in (F["sec_offset"], F["loclistx"])
                                      or (form in (F["data4"], F["data8"]) and unit.version <= 3
                                          and at in forms.LOCLIST_PTR_V2_3)):
            off = list_offset(ctx, unit, form, v)
            if off is None:
                self.add(f"{where}: {name} location list index {v} is past the end of .debug_loclists")
                return
            _entries, problem = (split_loclist(ctx, unit, off) if self.df.dwo else
                                 loclist(ctx, unit, off, unit.version >= 5))
            if problem:
                self.add(f"{problem} (from {where} {name})")
        elif at == A_RANGES:
            off, _ranges, problem = attribute_ranges(ctx, unit, form, v)
            if off is None:
                self.add(f"{problem} (from {where} DW_AT_ranges)" if problem else
                         f"{where}: DW_AT_ranges index {v} is past the end of .debug_rnglists")
                return
            if problem:
                self.add(f"{problem} (from {where} DW_AT_ranges)")

    def _is_die_start(self, unit: Unit, offset: int) -> bool:
        loaded = bool(unit.offs)
        self.ctx.load(unit)
        ok = unit.die_index(offset) is not None
        if not loaded:
            forget(unit)
        return ok

    def check_ranges(self, unit: Unit, i: int, where: str, ranges_of: list) -> None:
        ranges = die_ranges(self.ctx, unit, i)
        ranges_of[i] = ranges
        tag = unit.tag(i)
        for lo, hi in ranges:
            if hi < lo:
                self.add(f"{where}: address range [0x{lo:x}, 0x{hi:x}) ends before it starts")
        if not ranges:
            return
        if tag == T_SUBPROGRAM:
            for lo, hi in ranges:
                if hi > lo:
                    self.functions.append((lo, hi, where))
        # The nearest ancestor with ranges must contain these (llvm-dwarfdump: "DIE address ranges are not
        # contained in its parent's ranges"). Units are not checked against: their ranges come from the linker.
        p = unit.parents[i]
        while p > 0 and not ranges_of[p]:
            p = unit.parents[p]
        if p <= 0 or unit.tag(p) == T_CU:
            return
        parent = ranges_of[p]
        for lo, hi in ranges:
            if hi > lo and not any(plo <= lo and hi <= phi for plo, phi in parent):
                self.add(f"{where}: address range [0x{lo:x}, 0x{hi:x}) is not inside its parent's ranges "
                         f"(DIE 0x{unit.offs[p]:x})")

    # --- line tables -----------------------------------------------------------------------------------------
    def check_line_tables(self) -> None:
        self.rows: list[tuple[int, str]] = []
        for t in line_tables(self.ctx):
            for p in t.problems + line_header_findings(t):
                self.add(p)
            where = f".debug_line[0x{t.offset:x}]"
            nfiles = len(t.files)
            prev = None
            bad_files = set()
            for n, (addr, _line, _col, file, _isa, _d, flags) in enumerate(t.rows):
                valid = (0 <= file < nfiles) if t.version >= 5 else (1 <= file <= nfiles)
                if not valid and file not in bad_files:
                    bad_files.add(file)
                    self.add(f"{where}: row {n} names file {file}, the table has {nfiles} file entries")
                if prev is not None and addr < prev:
                    self.add(f"{where}: row {n} address 0x{addr:x} is below the previous row's 0x{prev:x} "
                             "in the same sequence")
                if not flags & END_SEQUENCE:
                    self.rows.append((addr, f"{where}: row {n}"))
                prev = None if flags & END_SEQUENCE else addr

    # --- instruction boundaries ----------------------------------------------------------------------------
    def check_instructions(self) -> None:
        arch = self.df.arch
        if arch not in ("x86_64", "aarch64") or not self.functions:
            return
        import capstone
        if arch == "x86_64":
            cs = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        else:
            cs = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
        cs.skipdata = True
        code = [c for c in self.df.code if c.data] or self.binary_code
        if not code:
            return  # no instructions in this file (a dSYM without its binary, a .debug file)
        if self.df.is_object and len([c for c in code if c.address == 0]) > 1:
            return  # several code sections at address 0: the object's addresses do not say which one
        rows = sorted(self.rows)
        addresses = [a for a, _w in rows]
        for lo, hi, where in sorted(set(self.functions)):
            section = next((c for c in code if c.address <= lo and hi <= c.address + len(c.data)), None)
            if section is None:
                if not self.df.is_object or code:
                    self.add(f"{where}: function range [0x{lo:x}, 0x{hi:x}) is not inside a code section")
                continue
            starts = set()
            end = lo
            for insn_addr, size, _m, _o in cs.disasm_lite(section.data[lo - section.address:hi - section.address], lo):
                starts.add(insn_addr)
                end = insn_addr + size
            if arch == "aarch64" and lo % 4:
                self.add(f"{where}: function start 0x{lo:x} is not 4-byte aligned")
            if end != hi:
                self.add(f"{where}: function range [0x{lo:x}, 0x{hi:x}) does not end on an instruction boundary "
                         f"(decoding from its start ends at 0x{end:x})")
            k = bisect.bisect_left(addresses, lo)
            while k < len(rows) and addresses[k] < hi:
                if addresses[k] not in starts:
                    self.add(f"{rows[k][1]}: address 0x{addresses[k]:x} is not an instruction start in the function "
                             f"at 0x{lo:x} ({where})")
                k += 1

    # --- dSYM ----------------------------------------------------------------------------------------------
    def check_dsym_uuid(self, path: str, arch: str | None, binary: str | None) -> None:
        p = Path(path)
        bundle = next((q for q in [p, *p.parents] if q.suffix == ".dSYM"), None)
        if binary is None and bundle is None:
            return
        exe = Path(binary) if binary else bundle.with_suffix("")  # type: ignore[union-attr]
        if not exe.exists():
            if binary:
                self.add(f"dSYM: binary {exe} does not exist")
            return
        try:
            other = open_debug_file(exe, arch)
        except DwarfkitError as e:
            self.add(f"dSYM: cannot read binary {exe}: {e}")
            return
        self.binary_code = [c for c in other.code if c.data]
        if self.df.uuid is None or other.uuid is None:
            self.add(f"dSYM: LC_UUID missing in {'the dSYM' if self.df.uuid is None else exe}")
        elif self.df.uuid != other.uuid:
            self.add(f"dSYM: UUID {self.df.uuid.hex()} differs from {exe}'s {other.uuid.hex()}")


_worker_verifier: Verifier | None = None   # set before forking: the workers check runs of its units


def _check_run(run: tuple[str, int, int]) -> tuple[list[str], list[tuple[int, int, str]]]:
    """In a worker: the findings and function ranges of units [first, last) of a section."""
    section, first, last = run
    v = _worker_verifier
    assert v is not None
    v.findings, v.functions = [], []
    starts: dict[int, int] = {}
    for unit in v.ctx.units(section)[first:last]:
        v.check_unit(unit, starts)
    return v.findings, v.functions
