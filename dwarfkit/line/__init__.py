"""Line-number programs (``.debug_line``), DWARF versions 2 to 5.

    program = LineProgram(Encoding(5), comp_dir="/src", name="main.c", min_instruction_length=4)  # aarch64
    header = program.add_file("util.h", program.add_directory("/src/include"))
    seq = program.sequence(Address("main"))          # one sequence per function
    seq.row(0, 3)                                    # offset from the function start, line
    seq.row(8, 4, column=5, prologue_end=True)
    seq.row(16, 12, file=header)
    seq.end(24)                                      # first byte after the function
    stmt_list = program.emit(line_writer, line_str, debug_str)
"""
from .opcodes import no_op_padding
from .program import LineProgram
from .sequence import LineSequence

__all__ = ["LineProgram", "LineSequence", "no_op_padding"]
