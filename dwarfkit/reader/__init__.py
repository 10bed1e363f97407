"""Reading DWARF back out of ELF, Mach-O and COFF files: ``dwarfkit dump`` and ``dwarfkit verify``."""
