"""Line-number programs (``.debug_line``), DWARF versions 2 to 5."""
from .opcodes import no_op_padding
from .program import LineProgram
from .sequence import LineSequence

__all__ = ["LineProgram", "LineSequence", "no_op_padding"]
