"""Choosing and checking the form of an attribute value.

``choose(unit, die, at, value)`` turns a typed value into ``(form, stored)`` where ``stored`` is what the encoder
(:mod:`dwarfkit.info.encode`) writes: an int, bytes, an Address, a Die, or a list object. Every choice depends only on
the value, never on where the DIE ends up, so a DIE's size is known before layout: references are fixed width.

A pinned form (``pin(value, form)``) is kept as given when the version has it: ``pin(v, "indirect", inner=...)``
stores ``(inner form, inner value)`` and the encoder writes DW_FORM_indirect's ULEB128 form code before the value;
``ref_sig8``, ``ref_sup4/8``, ``GNU_ref_alt`` (class reference) and ``strp_sup``, ``GNU_strp_alt`` (class string)
also take a plain number, the signature or offset into another file as read. ``DW_FORM_ref`` (reserved) is refused,
and GNU split DWARF 4's ``GNU_addr_index``/``GNU_str_index`` outside a GNU split unit (:mod:`dwarfkit.split`), where
they are what ``strx``/``addrx`` are in DWARF 5.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from .. import names
from ..address import Address
from ..errors import DescriptionError, LayoutError
from ..expr import DieOperand, Expr
from ..raw import DieOffset, Label, LabelOffset, Raw
from ..tables.lists import LocationList, LocationViews, RangeList
from . import classes
from .die import Die, DW_UT_type, Pinned

if TYPE_CHECKING:
    from .die import UnitView as Unit

F = names.FORMS
ADDR, BLOCK2, BLOCK4, DATA2, DATA4, DATA8, STRING, BLOCK, BLOCK1, DATA1, FLAG, SDATA, STRP, UDATA = (
    F["addr"], F["block2"], F["block4"], F["data2"], F["data4"], F["data8"], F["string"], F["block"], F["block1"],
    F["data1"], F["flag"], F["sdata"], F["strp"], F["udata"])
REF_ADDR, REF1, REF2, REF4, REF8, REF_UDATA, SEC_OFFSET, EXPRLOC, FLAG_PRESENT = (
    F["ref_addr"], F["ref1"], F["ref2"], F["ref4"], F["ref8"], F["ref_udata"], F["sec_offset"], F["exprloc"],
    F["flag_present"])
STRX, ADDRX, DATA16, LINE_STRP, REF_SIG8, IMPLICIT_CONST, LOCLISTX, RNGLISTX = (
    F["strx"], F["addrx"], F["data16"], F["line_strp"], F["ref_sig8"], F["implicit_const"], F["loclistx"],
    F["rnglistx"])
STRX1, STRX2, STRX3, STRX4 = F["strx1"], F["strx2"], F["strx3"], F["strx4"]
INDIRECT, REF_SUP4, REF_SUP8, STRP_SUP, GNU_REF_ALT, GNU_STRP_ALT = (
    F["indirect"], F["ref_sup4"], F["ref_sup8"], F["strp_sup"], F["GNU_ref_alt"], F["GNU_strp_alt"])
# Offsets into another file (a DWARF 5 supplementary file, dwz's .gnu_debugaltlink file), given by number: the writer
# keeps them as read. Sizes: the offset size, or 4/8 for ref_sup4/8.
FOREIGN_REFERENCES = {REF_SUP4: 4, REF_SUP8: 8, GNU_REF_ALT: None}
FOREIGN_STRINGS = {STRP_SUP: None, GNU_STRP_ALT: None}
# Forms no writer path produces: why, for the error.
_UNWRITABLE = {F["ref"]: "is reserved (no DWARF version defines it)",
               F["GNU_addr_index"]: "belongs to GNU split DWARF 4 (.dwo); use DWARF 5 DW_FORM_addrx",
               F["GNU_str_index"]: "belongs to GNU split DWARF 4 (.dwo); use DWARF 5 DW_FORM_strx"}
_RAW_VALUES = (Raw, DieOffset, Label, LabelOffset)
ADDRX1, ADDRX2, ADDRX3, ADDRX4 = F["addrx1"], F["addrx2"], F["addrx3"], F["addrx4"]
GNU_ADDR_INDEX, GNU_STR_INDEX = F["GNU_addr_index"], F["GNU_str_index"]

DATA_SIZES = {DATA1: 1, DATA2: 2, DATA4: 4, DATA8: 8}
REF_SIZES = {REF1: 1, REF2: 2, REF4: 4, REF8: 8, REF_UDATA: 4}   # ref_udata: a 4-byte padded ULEB128
STRX_FORMS = {STRX: None, STRX1: 1, STRX2: 2, STRX3: 3, STRX4: 4}
ADDRX_FORMS = {ADDRX: None, ADDRX1: 1, ADDRX2: 2, ADDRX3: 3, ADDRX4: 4}
BLOCK_FORMS = {BLOCK1: 1, BLOCK2: 2, BLOCK4: 4, BLOCK: None}

# First DWARF version that has each form.
_SINCE = {REF_SUP4: 5, REF_SUP8: 5, STRP_SUP: 5,
          EXPRLOC: 4, FLAG_PRESENT: 4, SEC_OFFSET: 4, REF_SIG8: 4, STRX: 5, STRX1: 5, STRX2: 5, STRX3: 5, STRX4: 5,
          ADDRX: 5, ADDRX1: 5, ADDRX2: 5, ADDRX3: 5, ADDRX4: 5, LINE_STRP: 5, IMPLICIT_CONST: 5, LOCLISTX: 5,
          RNGLISTX: 5, DATA16: 5}

A = names.ATTRIBUTES
AT_low_pc, AT_high_pc, AT_name, AT_stmt_list, AT_decl_file, AT_call_file = (
    A["low_pc"], A["high_pc"], A["name"], A["stmt_list"], A["decl_file"], A["call_file"])
AT_ranges, AT_data_member_location, AT_comp_dir = A["ranges"], A["data_member_location"], A["comp_dir"]
AT_GNU_locviews = A["GNU_locviews"]
ADDRESS_ATTRIBUTES = {AT_low_pc, A["entry_pc"], A["call_return_pc"], A["call_pc"]}
FILE_ATTRIBUTES = {AT_decl_file, AT_call_file}
AUTOMATIC = {AT_stmt_list, A["str_offsets_base"], A["addr_base"], A["rnglists_base"], A["loclists_base"]}


_SDATA_LIMIT = 1 << 63   # (S)LEB128 constants are read as 64-bit integers


def _fits_unsigned(value: int, size: int) -> bool:
    return 0 <= value < 1 << (8 * size)


def _constant_form(value: int) -> int:
    if value < 0:
        return SDATA
    if value < 0x100:
        return DATA1
    if value < 0x10000:
        return DATA2
    if value < 0x100000000:
        return DATA4
    if value < 1 << 64:
        return DATA8
    return UDATA


def _index_form(index: int, forms: dict[int, int | None]) -> int:
    for form, size in forms.items():
        if size is not None and index < 1 << (8 * size):
            return form
    return next(iter(forms))


# Attributes whose values need more than the value's type to pick a form; they take the general path.
SPECIAL = AUTOMATIC | ADDRESS_ATTRIBUTES | FILE_ATTRIBUTES | {AT_high_pc, AT_data_member_location, AT_ranges} | set(
    names.VALUE_TABLES)


def choose(unit: "Unit", die: Die, at: int, value: Any) -> tuple[int, Any]:
    """The form and stored value of attribute ``at`` = ``value`` on ``die``; DescriptionError if it cannot be.

    The common cases (a constant, a name, a reference in the unit, an address, an expression) are decided here in a
    few comparisons; everything else goes through :func:`_choose_general`.
    """
    classes.check(die, at, value, unit.encoding.version)
    kind = type(value)
    if kind is Address:
        if unit.indexed:
            return _address(unit, die, at, value, None)
        if value.symbol is None:
            if 0 <= value.offset < 1 << (8 * unit.encoding.address_size):
                return ADDR, value.offset   # plain: stored as the number
            return _address(unit, die, at, value, None)   # reports the error
        return ADDR, value
    if at in SPECIAL:
        if kind is int and at in FILE_ATTRIBUTES and unit.tables.implicit_const and \
                unit.encoding.version >= 5 and 0 <= value < _SDATA_LIMIT:
            return IMPLICIT_CONST, value
        return _choose_general(unit, die, at, value)
    if kind is int:
        if 0 <= value < 0x100:
            return DATA1, value
        if 0 <= value < 0x10000:
            return DATA2, value
        return _constant(unit, die, at, value, None, unit.encoding.version)
    if kind is str:
        tables = unit.tables
        if unit.indexed or die.parent is None or "\0" in value or not value.isascii():
            return _string(unit, die, at, value, None, unit.encoding.version)
        if at == AT_name:
            die.name = value
        if len(value) < tables.encoding.offset_size and value.isascii():  # shorter inline than as an offset
            return STRING, value.encode() + b"\0"
        return STRP, _offset(tables, tables.strings, value, die, at)
    if kind is Die:
        if value.unit is unit:
            return REF4, value
        return _reference(unit, die, at, value, None)
    if kind is bool:
        if value and unit.encoding.version >= 4:
            return FLAG_PRESENT, None
        return FLAG, int(value)
    if kind is Expr:
        simple = value.simple
        if simple is not None and unit.encoding.version >= 4:
            return EXPRLOC, unit.tables.intern_block(bytes(simple))
    return _choose_general(unit, die, at, value)


def _choose_general(unit: "Unit", die: Die, at: int, value: Any) -> tuple[int, Any]:
    tables = unit.tables
    version = unit.encoding.version
    pinned: int | None = None
    if type(value) in _RAW_VALUES or type(value) is Pinned and type(value.value) in (Raw, Label) and \
            value.inner is None:
        return tables.raw_control().value(unit, die, at, value, None)   # raw control: bytes as given
    if isinstance(value, Pinned):
        if value.form == INDIRECT:
            return _indirect(unit, die, at, value)
        if value.form in _UNWRITABLE and not (tables.gnu_split and value.form in (GNU_ADDR_INDEX, GNU_STR_INDEX)):
            raise die.error(at, f"form {names.form_name(value.form)} {_UNWRITABLE[value.form]}")
        if value.inner is not None:
            raise die.error(at, "an inner form is given only with DW_FORM_indirect")
        pinned, value = value.form, value.value
        since = _SINCE.get(pinned, 2)
        if version < since:
            raise die.error(at, f"form {names.form_name(pinned)} needs DWARF {since} or later (this is DWARF "
                                f"{version})")
        if pinned not in names.FORM_NAMES:
            raise die.error(at, f"unknown form {pinned:#x}")
    if at in AUTOMATIC:
        raise die.error(at, "is set automatically")
    if type(value) is int and value < 0 and at in classes.UNSIGNED:
        raise die.error(at, f"{value} is negative; a size, length, count, line or enumeration is not")

    # Normalise the value's type by attribute.
    if isinstance(value, str) and at in ADDRESS_ATTRIBUTES:
        value = Address(value)   # low_pc="main": the address of a symbol
    if isinstance(value, str):
        table = names.VALUE_TABLES.get(at)
        if table is not None:
            if value not in table:
                known = ", ".join(name for name in table if not name.startswith("DW_"))
                raise die.error(at, f"unknown value {value!r} (known: {known})")
            value = table[value]
        elif at in FILE_ATTRIBUTES:
            value = unit.file(value)
    if at in ADDRESS_ATTRIBUTES and isinstance(value, int) and not isinstance(value, bool):
        value = Address(None, value)
    if at == AT_high_pc and isinstance(value, int) and not isinstance(value, bool) and version < 4:
        low = die.get(AT_low_pc)
        if not isinstance(low, Address):
            raise die.error(at, "a length needs DW_AT_low_pc set first (DWARF 2 and 3 store high_pc as an address)")
        value = low + value
    if at == AT_data_member_location and isinstance(value, int) and version < 3 and pinned is None:
        value = Expr().plus_uconst(value)
    if isinstance(value, (list, tuple)) and at == AT_ranges:
        value = tables.range_list(value)

    if isinstance(value, bool):
        return _flag(die, at, value, pinned, version)
    if isinstance(value, int) and (pinned in FOREIGN_REFERENCES or pinned in FOREIGN_STRINGS or pinned == REF_SIG8):
        return _foreign(tables.encoding.offset_size, die, at, value, pinned)
    if isinstance(value, int):
        return _constant(unit, die, at, value, pinned, version)
    if isinstance(value, str):
        return _string(unit, die, at, value, pinned, version)
    if isinstance(value, Address):
        return _address(unit, die, at, value, pinned)
    if isinstance(value, Die):
        return _reference(unit, die, at, value, pinned)
    if isinstance(value, Expr):
        if tables.dwo:   # a split unit names addresses by index into its skeleton file's .debug_addr
            value = value.indexed_addresses(tables.address_index, gnu=tables.gnu_split)
        try:
            data, relocs = value.encode(unit.encoding)
        except DescriptionError as error:
            raise die.error(at, str(error)) from None
        for _, _, operand in relocs:
            if isinstance(operand, DieOperand):
                _check_die_operand(unit, die, at, operand)
        return _block(die, at, (data, tuple(relocs)), pinned, version, EXPRLOC if version >= 4 else None)
    if isinstance(value, (bytes, bytearray)):
        if pinned == DATA16:
            if len(value) != 16:
                raise die.error(at, f"DW_FORM_data16 needs 16 bytes, got {len(value)}")
            return DATA16, bytes(value)
        return _block(die, at, (bytes(value), ()), pinned, version, None)
    if isinstance(value, (RangeList, LocationList)):
        return _list(unit, die, at, value, pinned, version)
    raise die.error(at, f"cannot encode a value of type {type(value).__name__}: {value!r}")


def _indirect(unit: "Unit", die: Die, at: int, value: Pinned) -> tuple[int, Any]:
    """DW_FORM_indirect: the abbreviation says indirect, the DIE holds the inner form (ULEB128) and then the value."""
    inner = value.inner
    if inner in (INDIRECT, IMPLICIT_CONST):
        raise die.error(at, f"DW_FORM_indirect cannot hold {names.form_name(inner)} (its value is not in the DIE)")
    form, stored = choose(unit, die, at, value.value if inner is None else Pinned(value.value, inner))
    if form == IMPLICIT_CONST:   # chosen automatically: the DIE must hold the value
        form, stored = choose(unit, die, at, Pinned(stored, SDATA if stored < 0 else UDATA))
    return INDIRECT, (form, stored)


def _foreign(offset_size: int, die: Die, at: int, value: int, pinned: int) -> tuple[int, Any]:
    """A type signature, or an offset into a supplementary or alternate file, given as the number read."""
    size = 8 if pinned == REF_SIG8 else FOREIGN_REFERENCES.get(pinned) or offset_size
    if not _fits_unsigned(value, size):
        raise die.error(at, f"{value} does not fit form {names.form_name(pinned)} ({size} bytes)")
    return pinned, value


def _check_die_operand(unit: "Unit", die: Die, at: int, operand: DieOperand) -> None:
    target = operand.die
    if target.unit.tables is not unit.tables:
        raise die.error(at, f"an expression operand refers to {target.path()}, a DIE of another program")
    if operand.relative and target.unit is not unit:
        raise die.error(at, f"an expression operand refers to {target.path()} in another unit; this operation takes "
                            f"an offset inside the unit")
    if not operand.relative and target.unit.unit_type == DW_UT_type and unit.encoding.version == 4:
        raise die.error(at, f"an expression operand refers to {target.path()} in .debug_types; it needs a DIE of "
                            f".debug_info")


def _flag(die: Die, at: int, value: bool, pinned: int | None, version: int) -> tuple[int, Any]:
    if pinned is None:
        pinned = FLAG_PRESENT if value and version >= 4 else FLAG
    if pinned == FLAG_PRESENT:
        if not value:
            raise die.error(at, "DW_FORM_flag_present cannot hold false")
        return FLAG_PRESENT, None
    if pinned == FLAG:
        return FLAG, int(value)
    raise die.error(at, f"a flag does not fit form {names.form_name(pinned)}")


def _constant(unit: "Unit", die: Die, at: int, value: int, pinned: int | None, version: int) -> tuple[int, Any]:
    if value < 0 and at in classes.UNSIGNED:
        raise die.error(at, f"{value} is negative; a size, length, count, line or enumeration is not")
    if not -_SDATA_LIMIT <= value < 1 << 64 and pinned != DATA16:
        raise die.error(at, f"constant {value:#x} does not fit 64 bits")
    if pinned is None:
        if at in FILE_ATTRIBUTES and version >= 5 and unit.tables.implicit_const:
            return IMPLICIT_CONST, value
        return _constant_form(value), value
    if pinned in DATA_SIZES:
        size = DATA_SIZES[pinned]
        if not -(1 << (8 * size - 1)) <= value < 1 << (8 * size):
            raise die.error(at, f"value {value} does not fit form {names.form_name(pinned)} ({size} bytes)")
        return pinned, value
    if pinned == UDATA:
        if value < 0:
            raise die.error(at, f"value {value} does not fit form DW_FORM_udata (unsigned)")
        return pinned, value
    if pinned in (SDATA, IMPLICIT_CONST):
        if value >= _SDATA_LIMIT:   # a reader sign-extends 64 bits: 2**63 would read back negative
            raise die.error(at, f"value {value:#x} does not fit form {names.form_name(pinned)} (signed 64 bits)")
        return pinned, value
    if pinned == DATA16:
        if not -(1 << 127) <= value < 1 << 128:
            raise die.error(at, f"value {value:#x} does not fit form DW_FORM_data16 (128 bits)")
        return DATA16, (value & ((1 << 128) - 1)).to_bytes(16, unit.encoding.byteorder)
    if pinned in REF_SIZES or pinned == REF_ADDR:
        raise die.error(at, f"a reference needs a DIE, not the number {value}")
    raise die.error(at, f"the constant {value} does not fit form {names.form_name(pinned)}")


def _string(unit: "Unit", die: Die, at: int, text: str, pinned: int | None, version: int) -> tuple[int, Any]:
    tables = unit.tables
    if "\0" in text:
        raise die.error(at, f"string {text!r} contains a NUL character")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError as error:
            raise die.error(at, f"string {text!r} is not valid text: {error.reason} at index {error.start}") from None
    if at == AT_name:
        die.name = text
    automatic = pinned is None
    if pinned is None:
        if unit.indexed:
            pinned = STRX   # narrowed to strx1..4 below; a pinned DW_FORM_strx stays ULEB128
        elif at in (AT_comp_dir, AT_name) and die.parent is None and version >= 5 and tables.use_line_strings:
            pinned = LINE_STRP   # the unit's name and directory are also in the line table: share them
        else:
            encoded = text.encode()
            if len(encoded) < tables.encoding.offset_size:   # shorter inline than as an offset
                return STRING, encoded + b"\0"
            return STRP, _offset(tables, tables.strings, text, die, at)
    if pinned == STRING:
        return STRING, text.encode() + b"\0"
    if pinned == STRP:
        return STRP, _offset(tables, tables.strings, text, die, at)
    if pinned == LINE_STRP:
        return LINE_STRP, _offset(tables, tables.line_strings, text, die, at)
    if pinned in STRX_FORMS or pinned == GNU_STR_INDEX:
        index = tables.string_index(text)
        unit.uses_str_offsets = True
        if pinned == GNU_STR_INDEX or unit.encoding.version < 5:   # GNU split DWARF 4
            return GNU_STR_INDEX, index
        form = _index_form(index, STRX_FORMS) if pinned == STRX and automatic else pinned
        return _check_index(die, at, form, index, STRX_FORMS)
    raise die.error(at, f"a string does not fit form {names.form_name(pinned)}")


def _offset(tables: Any, table: Any, text: str, die: Die, at: int) -> int:
    try:
        offset = table.add(text)
    except DescriptionError as error:
        raise die.error(at, str(error)) from None
    if offset >> (8 * tables.encoding.offset_size):
        raise LayoutError(f"{die.path()} / attribute {names.attribute_name(at)}: offset {offset:#x} into {table.name} "
                          f"does not fit 32-bit DWARF; DWARF64 (offset_size=8) is needed")
    return offset


def _check_index(die: Die, at: int, form: int, index: int, forms: dict[int, int | None]) -> tuple[int, Any]:
    size = forms[form]
    if size is not None and not _fits_unsigned(index, size):
        raise die.error(at, f"index {index} does not fit form {names.form_name(form)}")
    return form, index


def _address(unit: "Unit", die: Die, at: int, value: Address, pinned: int | None) -> tuple[int, Any]:
    tables = unit.tables
    size = unit.encoding.address_size
    if value.symbol is None and not 0 <= value.offset < 1 << (8 * size):
        raise die.error(at, f"address {value.offset:#x} does not fit {size} bytes")
    if pinned is None:
        pinned = ADDRX if unit.indexed else ADDR
    if pinned == ADDR:
        return ADDR, value
    if pinned in ADDRX_FORMS or pinned == GNU_ADDR_INDEX:
        index = tables.address_index(value)
        unit.uses_addr = True
        if pinned == GNU_ADDR_INDEX or unit.encoding.version < 5:   # GNU split DWARF 4
            return GNU_ADDR_INDEX, index
        # DW_FORM_addrx (ULEB128) rather than addrx1..4: as small for the first 128 addresses, and llvm-dwarfdump 14
        # resolves only this one when it computes DW_AT_high_pc from an indexed DW_AT_low_pc.
        return _check_index(die, at, pinned, index, ADDRX_FORMS)
    raise die.error(at, f"an address does not fit form {names.form_name(pinned)}")


def _reference(unit: "Unit", die: Die, at: int, target: Die, pinned: int | None) -> tuple[int, Any]:
    if target.unit.tables is not unit.tables:
        raise die.error(at, f"refers to {target.path()}, a DIE of another program")
    same_unit = target.unit is unit
    if target.unit.unit_type == DW_UT_type and not same_unit:
        if target is not target.unit.type_die:
            raise die.error(at, f"refers to {target.path()} inside a type unit; only its type DIE can be referred "
                                f"to from outside (by signature)")
        if pinned not in (None, REF_SIG8):
            raise die.error(at, f"a type unit's type is referred to with DW_FORM_ref_sig8, not "
                                f"{names.form_name(pinned)}")
        return REF_SIG8, target.unit.signature
    if pinned is None:
        return (REF4 if same_unit else REF_ADDR), target
    if pinned in REF_SIZES:
        if not same_unit:
            raise die.error(at, f"{names.form_name(pinned)} cannot refer to {target.path()} in another unit "
                                f"(use DW_FORM_ref_addr)")
        return pinned, target
    if pinned == REF_ADDR:
        return pinned, target
    raise die.error(at, f"a reference does not fit form {names.form_name(pinned)}")


def _block(die: Die, at: int, value: tuple[bytes, Sequence[Any]], pinned: int | None, version: int,
           default: int | None) -> tuple[int, Any]:
    size = len(value[0])
    if pinned is None:
        pinned = default
    if pinned is None:
        pinned = BLOCK1 if size < 0x100 else BLOCK2 if size < 0x10000 else BLOCK4
    if pinned == EXPRLOC or pinned == BLOCK:
        return pinned, value
    if pinned in BLOCK_FORMS:
        if not _fits_unsigned(size, BLOCK_FORMS[pinned]):  # type: ignore[arg-type]
            raise die.error(at, f"a {size}-byte block does not fit form {names.form_name(pinned)}")
        return pinned, value
    raise die.error(at, f"a block or expression does not fit form {names.form_name(pinned)}")


def _list(unit: "Unit", die: Die, at: int, value: Any, pinned: int | None, version: int) -> tuple[int, Any]:
    tables = unit.tables
    if value.table is not tables.list_table(not isinstance(value, RangeList), version, unit.encoding.address_size):
        raise die.error(at, "uses a range or location list of another program (or of another DWARF version or "
                            "address size: make it with the unit, dw.range_list(entries, unit))")
    if isinstance(value, LocationViews) != (at == AT_GNU_locviews):   # view pairs and locations are not the same
        raise die.error(at, "takes location views (list.locviews(...))" if at == AT_GNU_locviews else
                        "is given location views; they belong in DW_AT_GNU_locviews")
    indexed_form = RNGLISTX if isinstance(value, RangeList) else LOCLISTX
    if value.uses_addresses:
        unit.uses_addr = True   # entries chosen by the caller name addresses by index
    if pinned is None:
        if version >= 5 and unit.indexed and value.views is None and not isinstance(value, LocationViews):
            pinned = indexed_form
        else:
            pinned = SEC_OFFSET if version >= 4 else (DATA8 if tables.encoding.offset_size == 8 else DATA4)
    if pinned == indexed_form:
        if unit.indexed:
            unit.uses_addr = True   # indexed lists start entries with addrx
        value.index()   # gives the list its index now, so that the form's size is known
        if isinstance(value, RangeList):
            unit.uses_rnglists = True
        else:
            unit.uses_loclists = True
        return pinned, value
    offset_form = SEC_OFFSET if version >= 4 else (DATA8 if tables.encoding.offset_size == 8 else DATA4)
    if pinned == offset_form:
        if unit.indexed:
            unit.uses_addr = True
        # A loaded list was checked when read, and a DWARF 2-4 list of (start, length) entries is written relative
        # to its unit's base address: the encoder places those when it writes the DIE.
        if not value.as_read and (version >= 5 or value.explicit):
            value.place()
        return pinned, value
    raise die.error(at, f"a {'range' if indexed_form == RNGLISTX else 'location'} list does not fit form "
                        f"{names.form_name(pinned)}")
