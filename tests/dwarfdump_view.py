"""What llvm-dwarfdump-14 says a file's DWARF MEANS, as plain Python data: the parser behind ``roundtrip.dwarf_view``.

Two runs of llvm-dwarfdump-14 per file: ``-v --debug-info --debug-types --debug-addr`` (verbose, for the forms: a
``DW_AT_high_pc`` constant is an offset from ``DW_AT_low_pc``, a reference's target offset is printed as ``{0x...}``)
and ``--debug-line --debug-frame`` (line rows, and the unwind rows llvm-dwarfdump prints under each CIE/FDE).

What is kept is what a conversion must preserve; what is dropped is what it may re-choose:
* DIEs: tag, children in order, attributes by name with resolved values. Dropped: offsets, abbreviation codes,
  forms, ``DW_AT_sibling``, and the offsets whose meaning is a linked table compared on its own (``stmt_list``,
  ``*_base``, macro offsets; ``DW_AT_GNU_locviews`` keeps only its presence).
* Values: strings as text (``'"area"'``, whatever the form), flags as bools, constants as ints (or llvm's enum name),
  addresses as :class:`Address` (number + section name, as llvm-dwarfdump resolves an object's relocations), a
  constant ``DW_AT_high_pc`` as the address it means, references as the target DIE's path (:class:`Ref`),
  expressions as llvm-dwarfdump's op text with DIE operands (``DW_OP_convert``, ``regval_type``, ``deref_type``,
  ``const_type``, ``call2/4/ref``, ``implicit_pointer`` -- which llvm-dwarfdump-14 cannot decode and prints as raw
  bytes) replaced by the target's path and ``DW_OP_addrx``/``constx`` by the ``.debug_addr`` entry, range and
  location lists as tuples of :class:`Entry` (no list offsets).
* Unit headers: version, unit type (derived for DWARF < 5), address size, DWARF32/64, type signature.
* Line tables: per unit, sequences of :class:`Row` with the file as its full NAME (directory joined, comp_dir for
  relative ones), not its index.
* Call frames: per ``.debug_frame``/``.eh_frame`` FDE, its pc range, its CIE's augmentation, return address column
  and personality, and llvm-dwarfdump's unwind rows (``0x10: CFA=RSP+16: RBP=[CFA-16]``), not the instruction bytes.

Known blind spot: llvm-dwarfdump-14 does not apply an object's relocations inside expressions (``DW_OP_addr 0x0``
in a ``.o``) nor to ``.debug_addr``; those compare as the unrelocated field on both sides.
"""
from __future__ import annotations

import posixpath
import re
import subprocess
from pathlib import Path

from dwarfdump_info import InfoParser
from dwarfdump_model import DwarfView, FrameEntry, Row

LLVM_DWARFDUMP = "llvm-dwarfdump-14"


class DwarfdumpFailed(RuntimeError):
    """llvm-dwarfdump-14 could not read the file at all."""


def run_dwarfdump(path: Path, flags: list[str], timeout: float) -> tuple[str, str]:
    done = subprocess.run([LLVM_DWARFDUMP, *flags, str(path)], capture_output=True, text=True,
                          errors="surrogateescape", timeout=timeout)
    if done.returncode != 0 and not done.stdout.strip():
        raise DwarfdumpFailed(f"{LLVM_DWARFDUMP} {' '.join(flags)} {path}: {done.stderr.strip()}")
    return done.stdout, done.stderr


def dwarf_view(path: str | Path, *, timeout: float = 120) -> DwarfView:
    """llvm-dwarfdump-14's reading of ``path`` (ELF, Mach-O object/image/dSYM bundle, COFF object/PE image),
    normalised as the module docstring says."""
    path = Path(path)
    view = DwarfView(path)
    info, err1 = run_dwarfdump(path, ["-v", "--debug-info", "--debug-types", "--debug-addr"], timeout)
    rest, err2 = run_dwarfdump(path, ["--debug-line", "--debug-frame"], timeout)
    view.warnings = [w for w in (err1 + err2).splitlines() if w.strip()]
    parser = InfoParser(view)
    parser.parse(info)
    _parse_lines_and_frames(view, rest, parser.stmt_lists, parser.comp_dirs)
    return view


# ---------------------------------------------------------------------------------------------- line tables

_ROW = re.compile(r"^0x([0-9a-f]+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) *(.*)$")
_DIR = re.compile(r'^include_directories\[ *(\d+)\] = (?:\.debug_line_str\[0x[0-9a-f]+\] = )?"(.*)"$')
_FILE = re.compile(r"^file_names\[ *(\d+)\]:$")
_FILE_FIELD = re.compile(r'^ +(name|dir_index): (?:\.debug_line_str\[0x[0-9a-f]+\] = )?"?(.*?)"?$')
_FRAME_HEADER = re.compile(r"^([0-9a-f]{8,16}) ([0-9a-f]{8,16}) ([0-9a-f]{8,16}) (CIE|FDE)"
                           r"(?: cie=([0-9a-f]+|<invalid offset>) pc=([0-9a-f]+)\.\.\.([0-9a-f]+))?")
_FRAME_ROW = re.compile(r"^  (?:0x[0-9a-f]+: )?CFA=|^  (?:0x[0-9a-f]+: )?(?:CFA|undefined)")
_CIE_KEEP = ("Augmentation:", "Return address column:", "Personality Address:", "LSDA Address:")
_IGNORED = re.compile(r"^(\s*$|.*file format|Line table prologue|\s*\w[\w ]*: |standard_opcode_lengths|"
                      r"Address +Line|-{10}|  DW_CFA_|  (Format|Version|Augmentation data|Code alignment|"
                      r"Data alignment|Address size|Segment desc)|.*ZERO terminator|  Augmentation data)")


def _is_absolute(p: str) -> bool:
    return p.startswith("/") or bool(re.match(r"^[A-Za-z]:[\\/]", p))


def _join(*parts: str) -> str:
    out = ""
    for p in parts:
        if not p:
            continue
        out = p if (not out or _is_absolute(p)) else posixpath.join(out, p)
    return out


def _parse_lines_and_frames(view: DwarfView, text: str, stmt_lists: dict[int, str], comp_dirs: dict[str, str]
                            ) -> None:
    section = ""
    table_offset = -1
    version = 4
    dirs: dict[int, str] = {}
    files: dict[int, dict[str, str]] = {}
    current_file: dict[str, str] | None = None
    sequence: list[Row] = []
    sequences: list[tuple[Row, ...]] = []
    cies: dict[tuple[str, int], tuple[str, ...]] = {}
    entry: dict | None = None

    def finish_table() -> None:
        if sequence:  # a last sequence without end_sequence (llvm-dwarfdump warns about it)
            sequences.append(tuple(sequence))
        if table_offset >= 0:
            label = stmt_lists.get(table_offset, f"line table {len(view.lines)}")
            view.lines.setdefault(label, []).extend(sequences)

    def finish_entry() -> None:
        nonlocal entry
        if entry is None:
            return
        if entry["kind"] == "CIE":
            cies[(section, entry["offset"])] = tuple(entry["cie"]) + tuple(f"initial {r}" for r in entry["rows"])
        else:
            cie = cies.get((section, entry["cie_offset"]), ("<missing CIE>",))
            view.frames.append(FrameEntry(section, entry["pc"], cie, tuple(entry["rows"])))
        entry = None

    names: dict[int, str] = {}

    def file_name(index: int) -> str:
        if index not in names:
            names[index] = _file_name(index)
        return names[index]

    def _file_name(index: int) -> str:
        f = files.get(index)
        if f is None:
            return f"<file {index}>"
        d = int(f.get("dir_index", "0") or 0)
        directory = dirs.get(d, "")
        comp_dir = comp_dirs.get(stmt_lists.get(table_offset, ""), "")
        return _join(comp_dir, directory, f.get("name", ""))

    for line in text.splitlines():
        if line.endswith(" contents:"):
            finish_entry()
            if section == ".debug_line":
                finish_table()
            section = line.split()[0]
            continue
        if section == ".debug_line":
            if line.startswith("debug_line[0x"):
                finish_table()
                table_offset = int(line[len("debug_line["):-1], 16)
                dirs, files, sequences, sequence, current_file = {}, {}, [], [], None
                names.clear()
                continue
            if m := _ROW.match(line):
                flags = m[7].split()
                row = Row(int(m[1], 16), int(m[2]), int(m[3]), file_name(int(m[4])), "is_stmt" in flags,
                          "basic_block" in flags, "end_sequence" in flags, "prologue_end" in flags,
                          "epilogue_begin" in flags, int(m[5]), int(m[6]))
                sequence.append(row)
                if row.end_sequence:
                    sequences.append(tuple(sequence))
                    sequence = []
                continue
            if m := re.match(r"^ +version: (\d+)$", line):
                version = int(m[1])
                continue
            if m := _DIR.match(line):
                dirs[int(m[1])] = m[2]
                continue
            if m := _FILE.match(line):
                current_file = files.setdefault(int(m[1]), {})
                continue
            if current_file is not None and (m := _FILE_FIELD.match(line)):
                current_file[m[1]] = m[2]
                continue
        elif section in (".debug_frame", ".eh_frame"):
            if m := _FRAME_HEADER.match(line):
                finish_entry()
                entry = {"kind": m[4], "offset": int(m[1], 16), "cie": [], "rows": []}
                if m[4] == "FDE":
                    entry["cie_offset"] = int(m[5], 16) if m[5][0] != "<" else -1
                    entry["pc"] = (int(m[6], 16), int(m[7], 16))
                continue
            if entry is not None and (_FRAME_ROW.match(line) or line.lower().startswith(("error: ", "warning: "))):
                entry["rows"].append(line.strip())
                continue
            if entry is not None and line.strip().startswith(_CIE_KEEP):
                entry["cie"].append(" ".join(line.split()))
                continue
        if not _IGNORED.match(line):
            view.unparsed.append(f"{section}: {line}")
    finish_entry()
    if section == ".debug_line":
        finish_table()
    del version  # the rows' file names are resolved through the printed indexes, whatever the version
    for seqs in view.lines.values():
        seqs.sort(key=lambda s: (s[0].address, s[0].file, s[0].line) if s else (0, "", 0))
    view.frames.sort(key=lambda f: (f.section, f.pc, f.rows))
