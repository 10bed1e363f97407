"""The ``.debug_info``/``.debug_types``/``.debug_addr`` half of ``dwarfdump_view``: llvm-dwarfdump-14 ``-v`` text ->
units of :class:`DieNode` trees with resolved values (what is kept and dropped: ``dwarfdump_view``'s docstring).

Parsing keeps every DIE with its raw attribute text first; values are resolved once all DIEs are known, because a
reference may point forwards, into another unit, or (``DW_FORM_ref_sig8``) to a type unit printed later.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from dwarfdump_model import Address, DieNode, DwarfView, Entry, Ref, UnitView, Value

STRING_FORMS = {"DW_FORM_string", "DW_FORM_strp", "DW_FORM_line_strp", "DW_FORM_strx", "DW_FORM_strx1",
                "DW_FORM_strx2", "DW_FORM_strx3", "DW_FORM_strx4", "DW_FORM_GNU_str_index", "DW_FORM_GNU_strp_alt",
                "DW_FORM_strp_sup"}
UNIT_REF_FORMS = {"DW_FORM_ref1", "DW_FORM_ref2", "DW_FORM_ref4", "DW_FORM_ref8", "DW_FORM_ref_udata"}
ADDR_FORMS = {"DW_FORM_addr", "DW_FORM_addrx", "DW_FORM_addrx1", "DW_FORM_addrx2", "DW_FORM_addrx3",
              "DW_FORM_addrx4", "DW_FORM_GNU_addr_index"}
EXPR_FORMS = {"DW_FORM_exprloc", "DW_FORM_block", "DW_FORM_block1", "DW_FORM_block2", "DW_FORM_block4"}
# Offsets whose meaning is a table compared on its own (line table, string offsets, address table, macros).
DROPPED = {"DW_AT_sibling", "DW_AT_stmt_list", "DW_AT_str_offsets_base", "DW_AT_addr_base", "DW_AT_rnglists_base",
           "DW_AT_loclists_base", "DW_AT_macro_info", "DW_AT_macros", "DW_AT_GNU_macros", "DW_AT_GNU_addr_base",
           "DW_AT_GNU_ranges_base"}
LIST_ATTRIBUTES = {"DW_AT_location", "DW_AT_ranges", "DW_AT_start_scope", "DW_AT_string_length", "DW_AT_frame_base",
                   "DW_AT_data_member_location", "DW_AT_use_location", "DW_AT_return_addr", "DW_AT_static_link",
                   "DW_AT_vtable_elem_location", "DW_AT_segment", "DW_AT_GNU_call_site_value",
                   "DW_AT_call_value", "DW_AT_call_data_value", "DW_AT_call_data_location", "DW_AT_call_target"}
UNIT_TYPES = {"Compile": "DW_UT_compile", "Type": "DW_UT_type", "Partial": "DW_UT_partial",
              "Skeleton": "DW_UT_skeleton", "Split Compile": "DW_UT_split_compile", "Split Type": "DW_UT_split_type"}
SHORT_UNIT = {"DW_TAG_compile_unit": "cu", "DW_TAG_partial_unit": "pu", "DW_TAG_skeleton_unit": "skeleton",
              "DW_TAG_type_unit": "tu"}

_SECTION = re.compile(r"^(\.\w+) contents:$")
_UNIT = re.compile(r"^0x([0-9a-f]+): ([\w ]+?) Unit: (.*?) \(next unit at")
_DIE = re.compile(r"^0x([0-9a-f]+):( +)(DW_TAG_\w+|NULL)")
_ATTR = re.compile(r"^ +(DW_AT_\w+) (?:\[DW_FORM_indirect\] )?\[(DW_FORM_\w+)\]\t\((.*)$")
_ENTRY = re.compile(r'^\[(0x[0-9a-f]+), (0x[0-9a-f]+)\)(?: "([^"]*)")?(?:: (.*))?$')
_ADDRESS = re.compile(r'(0x[0-9a-f]+)(?: "([^"]*)")?\s*$')
# DIE operands of DW_OPs as llvm-dwarfdump-14 prints them: "(0xCU_OFFSET -> 0xABSOLUTE) "name"" (convert,
# regval_type, deref_type, const_type); a bare CU-relative or absolute offset for the others.
_TYPED_OPERAND = re.compile(r'\(0x[0-9a-f]+ -> 0x([0-9a-f]+)\)(?: "[^"]*")?')
_CU_RELATIVE_OP = re.compile(r"\b(DW_OP_call2|DW_OP_call4|DW_OP_GNU_parameter_ref) 0x([0-9a-f]+)")
_ABSOLUTE_OP = re.compile(r"\b(DW_OP_call_ref|DW_OP_GNU_variable_value|DW_OP_implicit_pointer|"
                          r"DW_OP_GNU_implicit_pointer) 0x([0-9a-f]+)")
_INDEXED_OP = re.compile(r"\b(DW_OP_addrx|DW_OP_GNU_addr_index|DW_OP_constx|DW_OP_GNU_const_index) 0x([0-9a-f]+)")
_UNIT_REF = re.compile(r"\{0x([0-9a-f]+)\}")
_REF_ADDR = re.compile(r"\s*0x([0-9a-f]+)")
_RAW_TAIL = re.compile(r"<decoding error>((?: [0-9a-f]{2})+)")


@dataclass
class _Die:
    section: str
    offset: int
    tag: str
    unit: _Unit
    attributes: list[tuple[str, str, str]] = field(default_factory=list)  # name, form, raw text
    children: list[_Die] = field(default_factory=list)
    parent: _Die | None = None
    path: str = ""


@dataclass
class _Unit:
    section: str
    offset: int
    header: dict[str, object]
    root: _Die | None = None
    addr_base: int | None = None
    label: str = ""
    type_offset: int = 0


class InfoParser:
    """Fills ``view.units`` from llvm-dwarfdump-14 ``-v --debug-info --debug-types --debug-addr`` output, and
    records for the line-table half which unit owns which line table (``stmt_lists``) and its comp_dir."""

    def __init__(self, view: DwarfView) -> None:
        self.view = view
        self.units: list[_Unit] = []
        self.dies: dict[tuple[str, int], _Die] = {}
        self.addr_tables: dict[int, list[int]] = {}
        self.stmt_lists: dict[int, str] = {}
        self.comp_dirs: dict[str, str] = {}
        self.signatures: dict[int, _Unit] = {}
        self._exprs: dict[tuple[str, int, str], str] = {}

    # ------------------------------------------------------------------------------------------- reading

    def parse(self, text: str) -> None:
        section = ""
        stack: list[_Die] = []
        unit: _Unit | None = None
        attribute: list | None = None  # [die, name, form, lines]
        addr_lines: list[str] = []

        def close_attribute() -> None:
            nonlocal attribute
            if attribute is not None:
                die, name, form, lines = attribute
                raw = "\n".join(lines)
                die.attributes.append((name, form, raw[:-1] if raw.endswith(")") else raw))
                attribute = None

        for line in text.splitlines():
            first = line[:1]
            if first == " " and section != ".debug_addr":  # most lines: an attribute or a list entry
                stripped = line.lstrip()
                if stripped.startswith("DW_AT_") and stack and (m := _ATTR.match(line)):
                    close_attribute()
                    attribute = [stack[-1], m[1], m[2], [m[3]]]
                elif attribute is not None and stripped:
                    attribute[3].append(stripped)
                elif stripped:
                    self.view.unparsed.append(f"{section}: {line}")
                else:
                    close_attribute()
                continue
            if not line.strip():
                close_attribute()
                continue
            if m := _SECTION.match(line):
                close_attribute()
                section = m[1]
                continue
            if section == ".debug_addr":
                addr_lines.append(line)
                continue
            if section not in (".debug_info", ".debug_types"):
                if "file format" not in line:
                    self.view.unparsed.append(f"{section}: {line}")
                continue
            if m := _UNIT.match(line):
                close_attribute()
                fields = dict(re.findall(r"(\w+) = ('[^']*'|[^,]+)", m[3]))
                header: dict[str, object] = {"format": fields.get("format"),
                                             "version": int(fields.get("version", "0"), 16),
                                             "unit_type": fields.get("unit_type") or UNIT_TYPES.get(m[2], m[2]),
                                             "addr_size": int(fields.get("addr_size", "0"), 16)}
                unit = _Unit(section, int(m[1], 16), header)
                self.units.append(unit)
                if "type_signature" in fields:
                    header["type_signature"] = fields["type_signature"]
                    self.signatures[int(fields["type_signature"], 16)] = unit
                    unit.type_offset = int(fields.get("type_offset", "0"), 16)
                stack = []
                continue
            if m := _DIE.match(line):
                close_attribute()
                depth = (len(m[2]) - 1) // 2
                del stack[depth:]
                if m[3] == "NULL" or unit is None:
                    continue
                die = _Die(section, int(m[1], 16), m[3], unit, parent=stack[-1] if stack else None)
                if die.parent is not None:
                    die.parent.children.append(die)
                elif unit.root is None:
                    unit.root = die
                self.dies[(section, die.offset)] = die
                stack.append(die)
                continue
            if attribute is not None:
                attribute[3].append(line.strip())
                continue
            self.view.unparsed.append(f"{section}: {line}")
        close_attribute()
        self._read_addr_tables(addr_lines)
        self._resolve()

    def _read_addr_tables(self, lines: list[str]) -> None:
        start = 0
        addresses: list[int] | None = None
        for line in lines:
            if m := re.match(r"^(?:0x[0-9a-f]+: )?Address table header: length = 0x([0-9a-f]+), format = (\w+)", line):
                dwarf64 = m[2] == "DWARF64"
                base = start + (16 if dwarf64 else 8)
                addresses = self.addr_tables.setdefault(base, [])
                start += int(m[1], 16) + (12 if dwarf64 else 4)
            elif addresses is not None and re.match(r"^0x[0-9a-f]+$", line.strip()):
                addresses.append(int(line.strip(), 16))
            elif line.strip() and not line.startswith(("Addrs: [", "]")) and "file format" not in line:
                self.view.unparsed.append(f".debug_addr: {line}")

    # ------------------------------------------------------------------------------------------- resolving

    def _resolve(self) -> None:
        seen: dict[str, int] = {}
        for unit in self.units:
            if unit.root is None:
                continue
            raw = {name: text for name, _, text in unit.root.attributes}
            kind = SHORT_UNIT.get(unit.root.tag, unit.root.tag.removeprefix("DW_TAG_"))
            name = _string(raw["DW_AT_name"]) if "DW_AT_name" in raw else None
            label = f"tu {unit.header['type_signature']}" if "type_signature" in unit.header else \
                f"{kind} {name}" if name else kind
            seen[label] = seen.get(label, 0) + 1
            unit.label = label if seen[label] == 1 else f"{label} #{seen[label]}"
            if "DW_AT_addr_base" in raw or "DW_AT_GNU_addr_base" in raw:
                unit.addr_base = int(raw.get("DW_AT_addr_base", raw.get("DW_AT_GNU_addr_base", "0")), 16)
            if "DW_AT_stmt_list" in raw:
                self.stmt_lists.setdefault(int(raw["DW_AT_stmt_list"], 16), unit.label)
            if "DW_AT_comp_dir" in raw:
                self.comp_dirs[unit.label] = _string(raw["DW_AT_comp_dir"])[1:-1]
            self._label(unit.root, unit.label)
        for unit in self.units:
            node = self._node(unit.root) if unit.root is not None else None
            self.view.units.append(UnitView(unit.label or "unit without DIEs", unit.header, node))

    def _name(self, die: _Die, hops: int = 0) -> str | None:
        """The DIE's name, or (concrete instances, out-of-line copies) its abstract origin's or specification's."""
        for name, _, raw in die.attributes:
            if name == "DW_AT_name":
                return _string(raw)
        if "call_site" in die.tag:
            return None   # a call site names its callee (GNU's by abstract_origin, DWARF 5's by call_origin): no name
        for name, form, raw in die.attributes:
            if name in ("DW_AT_abstract_origin", "DW_AT_specification") and hops < 8:
                target = self._target(die, form, raw)
                if target is not None:
                    return self._name(target, hops + 1)
        return None

    def _label(self, die: _Die, path: str) -> None:
        die.path = path
        seen: dict[str, int] = {}
        for child in die.children:
            name = self._name(child)
            label = child.tag.removeprefix("DW_TAG_") + (f" {name}" if name else "")
            seen[label] = seen.get(label, 0) + 1
            self._label(child, f"{path} / {label}" + (f" #{seen[label]}" if seen[label] > 1 else ""))

    def _target(self, die: _Die, form: str, raw: str) -> _Die | None:
        if form in UNIT_REF_FORMS:
            m = _UNIT_REF.search(raw)
            return self.dies.get((die.section, int(m[1], 16))) if m else None
        if form == "DW_FORM_ref_addr":
            m = _REF_ADDR.match(raw)
            return self.dies.get((".debug_info", int(m[1], 16))) if m else None
        if form == "DW_FORM_ref_sig8":
            unit = self.signatures.get(int(raw.strip().split()[0], 16))
            if unit is not None:
                return self.dies.get((unit.section, unit.offset + unit.type_offset))
        return None

    def _ref(self, die: _Die, form: str, raw: str) -> Ref:
        target = self._target(die, form, raw)
        if target is None and form == "DW_FORM_ref_sig8":
            return Ref(f"signature {raw.strip().split()[0]}")
        return Ref(target.path if target is not None else "<no DIE there>")

    def _node(self, die: _Die) -> DieNode:
        values: list[tuple[str, Value]] = []
        low_pc: Address | None = None
        for name, form, raw in die.attributes:
            value = self._value(die, name, form, raw)
            if name == "DW_AT_low_pc" and isinstance(value, Address):
                low_pc = value
            if not isinstance(value, _Dropped):
                values.append((name, value))
        for i, (name, value) in enumerate(values):  # a constant high_pc is an offset from low_pc
            if name == "DW_AT_high_pc" and isinstance(value, int) and not isinstance(value, bool) and low_pc:
                values[i] = (name, Address(low_pc.value + value, low_pc.section))
        label = die.path.rsplit(" / ", 1)[-1]
        return DieNode(die.tag.removeprefix("DW_TAG_"), tuple(values), tuple(self._node(c) for c in die.children),
                       label)

    def _value(self, die: _Die, name: str, form: str, raw: str) -> Value | _Dropped:
        if name in DROPPED:
            return _DROP
        if name == "DW_AT_GNU_locviews":
            return "<views>"  # an offset into the views table; what it means is not printed by llvm-dwarfdump-14
        if form in STRING_FORMS:
            return _string(raw)
        if form in UNIT_REF_FORMS or form in ("DW_FORM_ref_addr", "DW_FORM_ref_sig8", "DW_FORM_GNU_ref_alt"):
            return self._ref(die, form, raw)
        if form in ADDR_FORMS:
            return _address(raw)
        if form in ("DW_FORM_flag", "DW_FORM_flag_present"):
            return raw.strip() == "true" or (raw.strip().startswith("0x") and int(raw.strip(), 16) != 0)
        if form in EXPR_FORMS:
            expr = self._expr(die, raw)
            if name == "DW_AT_data_member_location" and (m := _PLUS_UCONST.fullmatch(expr)):
                return int(m[1], 16)  # DWARF 2's way of saying a constant offset
            return expr
        if form in ("DW_FORM_loclistx", "DW_FORM_rnglistx") or \
                (form in ("DW_FORM_sec_offset", "DW_FORM_data4", "DW_FORM_data8") and name in LIST_ATTRIBUTES):
            return tuple(self._entry(die, line) for line in raw.split("\n")[1:])
        if form == "DW_FORM_sec_offset":
            return "<offset>"
        return _constant(raw)

    def _entry(self, die: _Die, line: str) -> Entry:
        line = line.strip()
        if m := _ENTRY.match(line):
            section = m[3] or ""
            expr = self._expr(die, m[4]) if m[4] is not None else None
            return Entry(Address(int(m[1], 16), section), Address(int(m[2], 16), section), expr)
        if line.startswith("<default>: "):
            return Entry(None, None, self._expr(die, line[len("<default>: "):]))
        return Entry(None, None, None, line)

    def _expr(self, die: _Die, text: str) -> str:
        key = (die.section, die.unit.offset, text)
        found = self._exprs.get(key)
        if found is None:
            found = self._exprs[key] = self._resolve_expr(die, text)
        return found

    def _resolve_expr(self, die: _Die, text: str) -> str:
        unit = die.unit
        if "0x" not in text and "<" not in text:  # no operand that needs resolving
            return " ".join(text.split())

        def path_at(section: str, offset: int) -> str:
            target = self.dies.get((section, offset))
            return f"<{target.path}>" if target is not None else "<no DIE there>"

        text = " ".join(text.split())
        text = _RAW_TAIL.sub(lambda m: self._decode_raw(unit, m[1]), text)
        text = _TYPED_OPERAND.sub(lambda m: path_at(die.section, int(m[1], 16)), text)
        text = _CU_RELATIVE_OP.sub(lambda m: f"{m[1]} {path_at(die.section, unit.offset + int(m[2], 16))}", text)
        text = _ABSOLUTE_OP.sub(lambda m: f"{m[1]} {path_at('.debug_info', int(m[2], 16))}", text)
        return _INDEXED_OP.sub(lambda m: self._indexed(unit, m[1], int(m[2], 16)), text)

    def _indexed(self, unit: _Unit, op: str, index: int) -> str:
        table = self.addr_tables.get(unit.addr_base if unit.addr_base is not None else 8, [])
        if index >= len(table):
            return f"{op} <index {index} outside .debug_addr>"
        kind = "DW_OP_addr" if op in ("DW_OP_addrx", "DW_OP_GNU_addr_index") else "DW_OP_const"
        return f"{kind} 0x{table[index]:x}"

    def _decode_raw(self, unit: _Unit, hex_bytes: str) -> str:
        """llvm-dwarfdump-14 cannot decode DW_OP_implicit_pointer (0xa0) / GNU_implicit_pointer (0xf2) and prints
        the bytes: decode them so the DIE operand compares by the target's path, not its offset."""
        data = bytes.fromhex(hex_bytes)
        size = 8 if unit.header.get("format") == "DWARF64" else 4
        if data and data[0] in (0xA0, 0xF2) and len(data) > size:
            offset = int.from_bytes(data[1:1 + size], "little")
            value, shift, i = 0, 0, 1 + size
            while i < len(data):
                value |= (data[i] & 0x7F) << shift
                shift += 7
                i += 1
                if not data[i - 1] & 0x80:
                    if data[i - 1] & 0x40:
                        value -= 1 << shift
                    break
            target = self.dies.get((".debug_info", offset))
            where = f"<{target.path}>" if target is not None else "<no DIE there>"
            rest = f" <raw>{data[i:].hex(' ')}" if i < len(data) else ""
            op = "DW_OP_implicit_pointer" if data[0] == 0xA0 else "DW_OP_GNU_implicit_pointer"
            return f"{op} {where} {value:+d}{rest}"
        return f"<decoding error>{hex_bytes}"


class _Dropped:
    """An attribute left out of the view (see DROPPED)."""


_DROP = _Dropped()


def _string(raw: str) -> str:
    m = _QUOTED.search(raw)
    return f'"{m[1]}"' if m else raw.strip()


def _address(raw: str) -> Address | str:
    m = _ADDRESS.search(raw)
    return Address(int(m[1], 16), m[2] or "") if m else raw.strip()


_HEX = re.compile(r"0x[0-9a-f]+")
_QUOTED = re.compile(r'"(.*)"\s*$', re.S)
_PLUS_UCONST = re.compile(r"DW_OP_plus_uconst 0x([0-9a-f]+)")
_DECIMAL = re.compile(r"-?\d+")


def _constant(raw: str) -> Value:
    text = raw.strip()
    if _HEX.fullmatch(text):
        return int(text, 16)
    if _DECIMAL.fullmatch(text):
        return int(text)
    return " ".join(text.split())
