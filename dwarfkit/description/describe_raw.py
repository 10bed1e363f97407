"""Describing what the loader cannot take: DWARF broken on purpose, rendered as raw control so that ``build`` makes the
same bytes again (``docs/description.md``, "Raw control").

- A file whose units the loader refuses (a unit version no DWARF has, a unit without DIEs, a zero unit length, an
  abbreviation code missing from its table: gdb.dwarf2's dw2-error, dw2-dummy-cu and friends) is described by its
  DWARF sections' bytes (``raw_sections``, as the reader sees them: an object's relocations applied, not kept),
  beside ``file:`` for its code and symbols; :func:`raw_description` makes that, and says why in ``note``.
- A raw value in the model (``dwarfkit.Raw``) is printed as ``{raw: HEX, form: F}`` (:func:`raw_value`). The
  loader makes none yet: a loadable file's defects (a wrong sibling, a code other than build's) are not printed.

Imports the reader's container and the foundations.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .. import names
from ..raw import Raw
from ..reader.container import open_debug_file

# The sections a broken file's description gives as bytes (what the loader would otherwise have read), in the order
# llvm-dwarfdump prints them.
DWARF_SECTIONS = ("debug_abbrev", "debug_info", "debug_types", "debug_line", "debug_line_str", "debug_str",
                  "debug_str_offsets", "debug_addr", "debug_aranges", "debug_ranges", "debug_rnglists", "debug_loc",
                  "debug_loclists", "debug_frame", "debug_macinfo", "debug_macro")


def raw_description(path: str | os.PathLike[str], why: str) -> dict[str, Any] | None:
    """The description of a file whose DWARF the loader refuses: its DWARF sections as bytes, so that ``build``
    writes them again into a copy of the file; None when it has no DWARF section."""
    df = open_debug_file(Path(path))
    sections = {f".{name}": df.section(name).hex() for name in DWARF_SECTIONS if df.section(name)}
    if ".debug_info" not in sections:
        return None
    return {"file": str(Path(path).resolve()), "note": f"described as bytes: {why}", "raw_sections": sections}


def raw_value(value: Raw, form: int) -> dict[str, Any]:
    """A raw attribute value as the description's ``{raw: HEX, form: F}``."""
    data = value.data if isinstance(value.data, bytes) else b""
    return {"raw": data.hex(" "), "form": names.form_name(form)[len("DW_FORM_"):]}
