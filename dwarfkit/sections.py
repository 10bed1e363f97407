"""What the DWARF core hands to the backends: section bytes plus symbolic relocations.

This is the only thing that crosses the line between the core and the container writers (see ARCHITECTURE.md).

The bytes of a relocated field always hold a value a reader can use when this emission is the whole program and every
symbol is at address 0:

* ``ENTRY``: a DIE reference inside its unit (``ref1``..``ref8``, ``ref_udata``). The value is final; no container
  needs a relocation for it. It is listed so that in-place updates know which fields point where.
* ``UNIT``: a DIE reference across units (``ref_addr``), an offset into ``.debug_info``.
* ``SECTION``: an offset into a debug section (``strp`` into ``.debug_str``, ``stmt_list`` into ``.debug_line``,
  ``sec_offset`` into range or location lists, a CIE pointer, ...). ``target`` names the section.
* ``ADDRESS``: the address of the symbol ``target`` plus ``addend`` (``DW_AT_low_pc``, ``DW_OP_addr``,
  ``DW_LNE_set_address``, an FDE's initial location).
* ``PCREL``: the address of ``target`` plus ``addend`` minus the address of the field itself (``.eh_frame``).
* ``TLS_OFFSET``: the offset of the thread-local symbol ``target`` (plus ``addend``) in its module's TLS block, the
  operand of ``DW_OP_form_tls_address``/``DW_OP_GNU_push_tls_address`` (ELF: ``R_X86_64_DTPOFF64``,
  ``R_AARCH64_TLS_DTPREL``). Only linkers compute it: final images refuse it.

For ``UNIT``, ``SECTION``, ``ADDRESS`` and ``TLS_OFFSET`` the stored bytes equal ``addend``; for ``PCREL`` they are
0. An ELF object turns the kinds into ``.rela`` records, a COFF object into ``SECREL``/``ADDR64``, a final image
(executable, dSYM) resolves them with :meth:`DwarfSections.resolve`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

from .encoding import Encoding
from .errors import RelocationError


class RelocKind(enum.Enum):
    ENTRY = "entry"
    UNIT = "unit"
    SECTION = "section"
    ADDRESS = "address"
    PCREL = "pcrel"
    TLS_OFFSET = "tls_offset"

    # Members are singletons compared by identity: hash them so too (Enum's own hash is a Python-level call, and
    # writers key millions of fields by kind).
    __hash__ = object.__hash__

    @property
    def needs_container_relocation(self) -> bool:
        """False for references whose value no linker or loader can change."""
        return self is not RelocKind.ENTRY


@dataclass(frozen=True, slots=True)
class Relocation:
    offset: int
    """Where the field starts, from the start of its section."""
    size: int
    """Width of the field in bytes: 1, 2, 4 or 8."""
    kind: RelocKind
    target: str
    """A section name (``.debug_str``) for UNIT/SECTION/ENTRY, a symbol name for ADDRESS/PCREL/TLS_OFFSET."""
    addend: int = 0


SYMBOLIC = frozenset((RelocKind.ADDRESS, RelocKind.PCREL, RelocKind.TLS_OFFSET))
"""The kinds whose target is a symbol (the others name a section)."""

# Canonical order of the debug sections (ELF spelling); backends rename them for their container.
DEBUG_SECTION_ORDER: tuple[str, ...] = (
    ".debug_abbrev", ".debug_info", ".debug_types", ".debug_str", ".debug_str_offsets", ".debug_line",
    ".debug_line_str", ".debug_addr", ".debug_aranges", ".debug_ranges", ".debug_rnglists", ".debug_loc",
    ".debug_loclists", ".debug_frame", ".debug_pubnames", ".debug_pubtypes", ".debug_names", ".eh_frame",
)


@dataclass
class Section:
    name: str
    data: bytearray = field(default_factory=bytearray)
    relocations: list[Relocation] = field(default_factory=list)
    alignment: int = 1

    def __len__(self) -> int:
        return len(self.data)

    def check_relocations(self, sections: set[str] | None = None) -> None:
        """:func:`check_relocations` of this section's fields."""
        check_relocations(self.name, len(self.data), self.relocations, sections)

    def symbolic_relocations(self) -> list[Relocation]:
        """The fields against symbols (what a final image resolves); section offsets are final as emitted."""
        return [r for r in self.relocations if r.kind in SYMBOLIC]

    def relocation_fields(self) -> list[tuple[int, int, "RelocKind", str, int]]:
        """Every relocation as ``(offset, size, kind, target, addend)``, in no particular order: what a container
        writer turns into its records in bulk, without an object per field."""
        return [(r.offset, r.size, r.kind, r.target, r.addend) for r in self.relocations]

    def relocations_of(self, kind: "RelocKind") -> list[Relocation]:
        """The fields of one kind (checks that look at a rare kind need not see the others)."""
        return [r for r in self.relocations if r.kind is kind]


@dataclass
class DwarfSections:
    """The result of one emission: every section's bytes and relocations, in canonical order."""

    encoding: Encoding
    sections: dict[str, Section] = field(default_factory=dict)
    dwo: dict[str, "DwarfSections"] = field(default_factory=dict)
    """Split DWARF (:mod:`dwarfkit.split`): each ``.dwo`` of the program, by the name its skeleton gives
    (``DW_AT_dwo_name``, relative to the output's folder), to its sections (``.debug_*.dwo``, final: no
    relocations)."""

    def __getitem__(self, name: str) -> Section:
        return self.sections[name]

    def __contains__(self, name: str) -> bool:
        return name in self.sections

    def __iter__(self) -> Iterator[Section]:
        order = {n: i for i, n in enumerate(DEBUG_SECTION_ORDER)}
        return iter(sorted(self.sections.values(), key=lambda s: order.get(s.name, len(order))))

    def add(self, section: Section) -> Section:
        if section.name in self.sections:
            raise RelocationError(f"section {section.name} emitted twice")
        self.sections[section.name] = section
        return section

    def symbols(self) -> set[str]:
        """Names of the external symbols the sections refer to."""
        return {r.target for s in self.sections.values() for r in s.relocations
                if r.kind in SYMBOLIC}

    def sizes(self) -> dict[str, int]:
        return {s.name: len(s.data) for s in self}

    def resolve(self, symbol_addresses: Mapping[str, int],
                section_addresses: Mapping[str, int] | None = None) -> dict[str, bytes]:
        """Final bytes of every section, with addresses filled in (for executables and dSYMs).

        ``section_addresses`` gives the load address of sections that hold PCREL fields (``.eh_frame``).
        Section offsets stay as emitted: in a final image each debug section is one contiguous piece.
        """
        out: dict[str, bytes] = {}
        for section in self:
            data = bytearray(section.data)
            apply_relocations(data, section.name, section.symbolic_relocations(), symbol_addresses,
                              section_addresses or {}, self.encoding.byteorder)
            out[section.name] = bytes(data)
        return out


def apply_relocations(data: bytearray, section_name: str, relocations: Iterable[Relocation],
                      symbol_addresses: Mapping[str, int], section_addresses: Mapping[str, int],
                      byteorder: str) -> None:
    """Writes the final value of every ADDRESS and PCREL field into ``data``."""
    for r in relocations:
        if r.kind is RelocKind.ADDRESS:
            value = _symbol(symbol_addresses, r, section_name) + r.addend
        elif r.kind is RelocKind.PCREL:
            if section_name not in section_addresses:
                raise RelocationError(f"{section_name}+{r.offset:#x}: PC-relative field needs the address of "
                                      f"{section_name}")
            value = _symbol(symbol_addresses, r, section_name) + r.addend - (section_addresses[section_name] + r.offset)
        elif r.kind is RelocKind.TLS_OFFSET:
            raise RelocationError(f"{section_name}+{r.offset:#x}: the TLS offset of {r.target!r} is known only to a "
                                  f"linker; thread-local variables are written in ELF objects, not final images")
        else:
            continue
        data[r.offset:r.offset + r.size] = encode_field(value, r.size, byteorder, section_name, r)


def encode_field(value: int, size: int, byteorder: str, section_name: str, r: Relocation) -> bytes:
    bits = 8 * size
    if not -(1 << (bits - 1)) <= value < (1 << bits):
        raise RelocationError(f"{section_name}+{r.offset:#x}: value {value:#x} for {r.kind.value} relocation "
                              f"against {r.target!r} does not fit {size} bytes")
    return (value & ((1 << bits) - 1)).to_bytes(size, byteorder)  # type: ignore[arg-type]


def _symbol(symbol_addresses: Mapping[str, int], r: Relocation, section_name: str) -> int:
    try:
        return symbol_addresses[r.target]
    except KeyError:
        raise RelocationError(f"{section_name}+{r.offset:#x}: relocation against unknown symbol {r.target!r}") from None


def check_relocations(name: str, size: int, relocations: list[Relocation], sections: set[str] | None = None) -> None:
    """Every relocated field lies inside its section and has a width a container can relocate (1, 2, 4, 8 bytes);
    with ``sections`` (the names a container writes), every section offset or reference points into one of them.
    One pass over the relocations, with no per-field allocation: images carry one per address in their DWARF."""
    symbolic = SYMBOLIC
    for r in relocations:
        offset, width = r.offset, r.size
        if width not in FIELD_SIZES:
            raise RelocationError(f"{name}+{offset:#x}: relocated field of {width!r} bytes (1, 2, 4 or 8)")
        if not 0 <= offset <= size - width:
            raise RelocationError(f"{name}+{offset:#x}: {width}-byte relocation against {r.target!r} lies outside "
                                  f"the section (size {size:#x})")
        if sections is not None and r.target not in sections and r.kind not in symbolic:
            raise RelocationError(f"{name}+{offset:#x}: {r.kind.value} reference into section {r.target!r}, "
                                  f"which is not written")


FIELD_SIZES = frozenset((1, 2, 4, 8))
