"""A compile unit's line program, loaded: header parameters, directory and file tables, and every row.

The tables keep their indices (rows and ``DW_AT_decl_file`` name files by number); each sequence starts at its
``DW_LNE_set_address`` (in an object, the symbol of that field's relocation) and holds every row with all its
fields, including the rows at one address (the line table's views).
"""
from __future__ import annotations

from ..address import Address
from ..errors import DescriptionError, ReadError
from ..info.unit import CompileUnit, TypeUnit
from ..line import sequence as S
from ..line.opcodes import STANDARD_OPCODE_LENGTHS
from ..line.program import LineProgram
from ..reader.lines import BASIC_BLOCK, END_SEQUENCE, EPILOGUE_BEGIN, IS_STMT, PROLOGUE_END, LineTable, parse_line_table
from ..reader.units import Unit as ReadUnit
from .state import LoadState


def load_line_program(loader: LoadState, unit: ReadUnit, model: CompileUnit | TypeUnit, keep: bool) -> None:
    """Fills ``model.line`` from the table ``unit``'s DW_AT_stmt_list names (nothing when it has none)."""
    line = model.line
    assert line is not None
    if unit.stmt_list is None:
        line.sequences = []
        if isinstance(model, CompileUnit):
            model.has_line_program = False
        return
    df = loader.df
    data = df.section("debug_line")
    # A type unit's table is only a file table (for DW_AT_decl_file): the compilers point it at their compile
    # unit's, whose rows that unit writes; a copy would repeat them in the linked program, once per type unit.
    rows = not isinstance(model, TypeUnit)
    # A linked file's rows kept in the file's encoding are decoded when looked at; unchanged, they are copied.
    kept = rows and keep and "debug_line" not in df.relocations and not loader.file_maps.get(id(model))
    table = parse_line_table(data, unit.stmt_list, df.byteorder, unit.address_size, df.section("debug_str"),
                             df.section("debug_line_str"), rows=rows and not kept)
    where = f"{df.path}: .debug_line[0x{unit.stmt_list:x}]"
    if table.problems:
        raise ReadError(f"{df.path}: {table.problems[0]}")
    if table.min_inst_length < 1 or table.line_range < 1:   # the writer divides by both
        raise ReadError(f"{where}: minimum_instruction_length {table.min_inst_length} and line_range "
                        f"{table.line_range} must both be at least 1")
    name = model.root.name
    line.name = name
    # The header's parameters shape how rows are encoded, not what they mean: kept, as any version takes them.
    line.min_instruction_length = table.min_inst_length
    line.max_ops_per_instruction = max(1, table.max_ops_per_inst) if line.encoding.version >= 4 else 1
    line.default_is_stmt = bool(table.default_is_stmt)
    line.line_base, line.line_range = table.line_base, table.line_range
    line.opcode_base = max(table.opcode_base, 10)
    comp_dir = unit.comp_dir
    if table.version >= 5:
        directories = list(table.include_dirs) or [comp_dir]
        files = [(f.name, f.dir_index, f.md5) for f in table.files]
    else:
        directories = [comp_dir] + list(table.include_dirs)
        files = [(f.name, f.dir_index, None) for f in table.files]
    if line.encoding.version >= 5 and table.version < 5:
        files = [(name or (files[0][0] if files else ""), 0, None)] + files   # DWARF 5 adds file 0: the unit's file
    elif line.encoding.version < 5 and table.version >= 5:
        files = _files_from_one(files)[0]   # file 0 goes: rows and decl_file name it by another number
    line.comp_dir = directories[0]
    try:   # the writer's checks of the tables (text, directory indices) and rows, named by where they were read
        line.replace_tables(directories, files)
    except DescriptionError as error:
        raise ReadError(f"{where}: {error}") from None
    if kept:
        line.source = _KeptRows(loader, unit, table, where)
    elif rows:
        _sequences(loader, table, line, where, loader.file_maps.get(id(model)) or {})
    else:
        line.sequences = []


class _KeptRows:
    """The rows of a linked file's line program as read: its opcodes, copied while the header they follow is the
    same, or decoded when looked at (:func:`_sequences`; a broken program raises then, naming its table)."""

    __slots__ = ("loader", "unit", "table", "where", "header")

    def __init__(self, loader: LoadState, unit: ReadUnit, table: LineTable, where: str) -> None:
        self.loader, self.unit, self.table, self.where = loader, unit, table, where
        lengths = (STANDARD_OPCODE_LENGTHS + (0,) * 255)[:max(0, table.opcode_base - 1)]
        same = table.standard_opcode_lengths == list(lengths)
        self.header = (table.version, table.address_size or unit.address_size, table.min_inst_length,
                       table.max_ops_per_inst if table.version >= 4 else 1, bool(table.default_is_stmt),
                       table.line_base, table.line_range, table.opcode_base, len(table.files)) if same else None
        """What the opcodes need of the header they follow (None: this header cannot be written again)."""

    def as_bytes(self, program: LineProgram) -> bytes | None:
        enc = program.encoding
        header = self.header
        if header is None or (enc.version, enc.address_size, program.min_instruction_length,
                              program.max_ops_per_instruction, program.default_is_stmt, program.line_base,
                              program.line_range, program.opcode_base) != header[:-1] or \
                len(program.files) - program.first_file < header[-1]:
            return None
        return self.loader.df.section("debug_line")[self.table.program:self.table.end]

    def load_rows(self, program: LineProgram) -> None:
        df = self.loader.df
        table = parse_line_table(df.section("debug_line"), self.table.offset, df.byteorder, self.unit.address_size,
                                 df.section("debug_str"), df.section("debug_line_str"))
        if table.problems:
            raise ReadError(f"{df.path}: {table.problems[0]}")
        _sequences(self.loader, table, program, self.where, {})


_STMT_BLOCK = IS_STMT | BASIC_BLOCK
_ENDS = (PROLOGUE_END | EPILOGUE_BEGIN) >> 1
# The reader's flags and the sequence's are the same but for END_SEQUENCE (4), which the sequence does not keep.
assert (IS_STMT, BASIC_BLOCK, PROLOGUE_END >> 1, EPILOGUE_BEGIN >> 1, END_SEQUENCE) == (
    S.IS_STMT, S.BASIC_BLOCK, S.PROLOGUE_END, S.EPILOGUE_BEGIN, 4)


def file_map(loader: LoadState, unit: ReadUnit, target_version: int) -> dict[int, int] | None:
    """For a DWARF 5 table written as 2-4: the new number of file 0, which compilers name in rows and decl_file
    (the file of the same name and directory numbered from 1, or a new last entry). None when nothing moves."""
    if unit.stmt_list is None or target_version >= 5 or unit.version < 5:
        return None
    df = loader.df
    table = parse_line_table(df.section("debug_line"), unit.stmt_list, df.byteorder, unit.address_size,
                             df.section("debug_str"), df.section("debug_line_str"), rows=False)
    if table.version < 5 or not table.files:
        return None
    return _files_from_one([(f.name, f.dir_index, f.md5) for f in table.files])[1]


def _files_from_one(files: list[tuple[str, int, bytes | None]]) -> tuple[list, dict[int, int]]:
    """A DWARF 5 file table (from 0) as a table from 1, and where file 0 went."""
    rest = files[1:]
    first = files[0]
    for n, entry in enumerate(rest, start=1):
        if entry[:2] == first[:2]:
            return rest, {0: n}
    return rest + [first], {0: len(rest) + 1}


def _sequences(loader: LoadState, table, line, where: str,   # type: ignore[no-untyped-def]
               renumbered: dict[int, int]) -> None:
    relocs = loader.df.relocations.get("debug_line", {})
    starts = dict(table.address_fields)   # row index -> offset of the DW_LNE_set_address operand
    seq = None
    base = Address(None, 0)
    origin = last = 0
    file_now = 1
    files = range(line.first_file, len(line.files))   # the valid file numbers
    min_len = line.min_instruction_length
    for i, (address, line_number, column, file, isa, discriminator, flags) in enumerate(table.rows):
        file = renumbered.get(file, file)
        if i in starts:
            ref = relocs.get(starts[i])
            if ref is not None and ref.kind == "address":
                moved = Address(ref.symbol, ref.addend)
                if seq is not None and moved.symbol != base.symbol:
                    raise ReadError(f"{where}: a sequence moves from {base} to {moved}, another symbol; it cannot "
                                    f"be loaded as one sequence")
                if seq is None:
                    base, origin = moved, address
            elif seq is None:
                base, origin = Address(None, address), address
        if seq is None:
            if i not in starts:
                base, origin = Address(None, address), address
            seq = line.sequence(base)
            pairs, runs = seq.pairs, seq.runs
            last, file_now = 0, 1
            attributes = None
        offset = address - origin
        # What the writer refuses at emit, where the row's place in the file is no longer known: checked here.
        if line_number < 0 or offset < last or offset % min_len or file != file_now and file not in files:
            raise ReadError(f"{where}: row {i}: {_bad_row(offset, last, line_number, file, files, min_len)}")
        last, file_now = offset, file
        if flags & END_SEQUENCE:
            if attributes is not None:   # the last run ends with the sequence
                runs.append((len(pairs) >> 1, attributes))
            seq.end(offset)
            seq = None
            continue
        # The row as LineSequence.row stores it (a decoded row needs none of its checks), written into its pairs
        # and runs here (the hot loop of a line table): the reader's flags IS_STMT, BASIC_BLOCK, (END_SEQUENCE),
        # PROLOGUE_END, EPILOGUE_BEGIN as the sequence's four bits. A run is closed when the next one starts.
        row_attributes = (column, file, (flags & _STMT_BLOCK) | (flags >> 1 & _ENDS), isa, discriminator)
        if row_attributes != attributes:
            if attributes is not None:
                runs.append((len(pairs) >> 1, attributes))
            attributes = row_attributes
        pairs.append(offset)
        pairs.append(line_number)
    if seq is not None:
        raise ReadError(f"{where}: the last sequence has no DW_LNE_end_sequence")


def _bad_row(offset: int, last: int, line_number: int, file: int, files: range, min_len: int) -> str:
    if line_number < 0:
        return f"line {line_number} is negative"
    if offset < last:
        return f"address goes back by {last - offset:#x} within a sequence"
    if offset % min_len:
        return f"address advance {offset:#x} is not a multiple of the minimum instruction length {min_len}"
    valid = f"valid: {files.start}..{files.stop - 1}" if files else "the table has no file"
    return f"file index {file} does not exist ({valid})"
