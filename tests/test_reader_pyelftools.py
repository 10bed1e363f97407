"""dwarfkit's DIE decoder against pyelftools, the independent oracle: same DIEs, forms and raw values."""
from __future__ import annotations

import pytest
from dump_compare import CORPUS, require_reader_corpus
from elftools.elf.elffile import ELFFile
from test_dump_llvm import corpus_files

from dwarfkit.reader.container import open_debug_file
from dwarfkit.reader.units import DwarfContext

# The three 1.3 MB pyelftools files take pyelftools half a minute; llvm-dwarfdump covers them (test_dump_llvm).
ELF_FILES = [n for n in corpus_files() if n.startswith(("elf/", "third_party/"))
             and (CORPUS / n).stat().st_size < 1_000_000]


def _ours(path):
    ctx = DwarfContext(open_debug_file(path))
    for unit in ctx.units():
        ctx.load(unit)
        for i, ab in enumerate(unit.abbs):
            if ab is None:
                continue
            values = []
            for (at, form, _c), v in zip(ab.attrs, unit.vals[i], strict=False):
                if isinstance(v, (bytes, bytearray)) and form != 0x08:
                    v = list(v)
                values.append((at, v))
            yield unit.offs[i], ab.tag, values


def _theirs(path):
    with open(path, "rb") as f:
        elf = ELFFile(f)
        if not elf.has_dwarf_info():
            return
        dwarf = elf.get_dwarf_info()
        for cu in dwarf.iter_CUs():
            for die in cu.iter_DIEs():
                if die.is_null():
                    continue
                values = []
                for attr in die.attributes.values():
                    v = attr.raw_value
                    if attr.form == "DW_FORM_flag_present":
                        v = 1  # pyelftools keeps b"" for a form without bytes
                    elif isinstance(v, bytes) and attr.form != "DW_FORM_string":
                        v = list(v)
                    values.append((attr.name, v))
                yield die.offset, die.tag, values


@pytest.mark.parametrize("name", ELF_FILES)
def test_dies_agree_with_pyelftools(name):
    path = require_reader_corpus() / name
    theirs = list(_theirs(path))
    if not theirs:
        pytest.skip(f"{name} has no .debug_info")
    from elftools.dwarf.enums import ENUM_DW_AT, ENUM_DW_TAG
    tag_codes = dict(ENUM_DW_TAG)
    at_codes = dict(ENUM_DW_AT)
    ours = list(_ours(path))
    assert len(ours) == len(theirs)
    for (o_off, o_tag, o_vals), (t_off, t_tag, t_vals) in zip(ours, theirs, strict=False):
        assert o_off == t_off
        assert o_tag == (tag_codes.get(t_tag, t_tag) if isinstance(t_tag, str) else t_tag), hex(o_off)
        mine = [(at, v) for at, v in o_vals]
        pye = [(at_codes.get(a, a) if isinstance(a, str) else a, v) for a, v in t_vals]
        # pyelftools keys attributes by name: a DIE with a repeated attribute keeps only the last
        if len({a for a, _ in mine}) == len(mine):
            assert sorted(mine, key=repr) == sorted(pye, key=repr), f"{name} DIE 0x{o_off:x}"
