"""Line-number programs (``.debug_line``), DWARF versions 2 to 5.

    program = LineProgram(Encoding(5), comp_dir="/src", name="main.c", min_instruction_length=4)  # aarch64
    header = program.add_file("util.h", program.add_directory("/src/include"))
    seq = program.sequence(Address("main"))          # one sequence per function
    seq.row(0, 3)                                    # offset from the function start, line
    seq.row(8, 4, column=5, prologue_end=True)
    seq.row(16, 12, file=header)
    seq.end(24)                                      # first byte after the function
    stmt_list = program.emit(line_writer, line_str, debug_str)

Modules, bottom up: ``sequence`` (:class:`LineSequence`: one contiguous code range, ``row``, ``add_rows``, ``end``;
rows stored compactly, as ``(address, line)`` pairs in one flat list plus runs of rows that share column, file,
flags, isa and discriminator, so a million rows make no object each; ``seq.rows`` is a list-like view of 7-tuples),
``opcodes`` (:class:`SequenceEncoder`: rows to opcodes, smallest first: special opcode, ``const_add_pc`` + special,
``advance_pc``/``fixed_advance_pc``; every row check (address backwards or not a multiple of the minimum
instruction length, file index, opcode base) names program, sequence and row; ``no_op_padding(n)``), ``program``
(:class:`LineProgram`: the header of v2-5 (v5 entry formats: ``DW_LNCT_path`` as ``line_strp``, or inline
``string`` when ``emit`` gets no line_str table; ``directory_index``; optional MD5), directory and file tables with
the same indices in every version (directory 0 = comp_dir, file 1 = the primary file, v5 file 0 = it too), ``emit``,
and ``emit_header`` + ``encode_sequence`` for per-function slots), ``raw`` (raw control: header fields as given and
raw opcode sequences, through ``LineProgram.override``/``raw_sequence``).

What flows: a front end (or a compile unit, whose ``cu.line`` this is) adds sequences and rows; ``emit`` appends the
program to the ``.debug_line`` writer (:mod:`dwarfkit.tables.lines` for a builder) and puts paths into
``.debug_line_str``; symbolic addresses become ADDRESS relocations (``DW_LNE_set_address``).

Imports: the foundations only (``address``, ``encoding``, ``errors``, ``sections``, ``strings``, ``writer``) and
pyelftools' constants; never ``info``, ``tables`` or ``program``.

Where to add: a standard opcode or a row attribute -> ``opcodes`` (and its field of the row tuple in ``sequence``).
Reader quirks met (see ``tests/line_oracle.py``): pyelftools 0.33 clears is_stmt on end_sequence rows.
"""
from .opcodes import no_op_padding
from .program import LineProgram
from .sequence import LineSequence

__all__ = ["LineProgram", "LineSequence", "no_op_padding"]
