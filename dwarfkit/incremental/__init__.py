"""Incremental DWARF: one function's debug info rewritten in place (see writer.py, fragments.py, journal.py).

    writer = IncrementalExecutable.create("app", UnitInfo("jit.c", "/src"), functions)   # dwarfkit.backends.elf
    writer.update(Function("f", 0x401000, 96, 10, rows=((0, 10), (16, 11))))
    writer.move("f", 0x402000); writer.set_line("f", 12); writer.remove("f"); writer.close()
"""
from .model import Block, Function, Program, UnitInfo, Variable
from .writer import IncrementalDwarf, NoTarget, Target

__all__ = ["Block", "Function", "IncrementalDwarf", "NoTarget", "Program", "Target", "UnitInfo", "Variable"]
