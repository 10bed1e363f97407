"""Convenience builders for type DIEs, mixed into every unit.

Each returns the new DIE, ready to be used as a ``type=`` value:

    int_t = cu.base_type("int", 4, "signed")
    point = cu.struct_type("point", 8, [("x", int_t, 0), ("y", int_t, 4)])
    flags = cu.struct_type("flags", 4, [("a", int_t, 0, 3), ("b", int_t, 0, 5, 3)])   # bit fields
    vec = cu.array_type(int_t, [4])                       # int[4]; [(1, 10)] gives bounds 1..10
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from ..errors import DescriptionError

if TYPE_CHECKING:
    from .die import Die

Member = tuple  # (name, type, byte_offset) or (name, type, byte_offset, bit_size[, bit_offset])


class TypeHelpers:
    """Type DIEs under a parent (the unit's root unless ``parent`` is given)."""

    root: "Die"
    encoding: Any

    def _add(self, parent: "Die | None", tag: str, **attributes: Any) -> "Die":
        return (parent or self.root).die(tag, **attributes)

    def base_type(self, name: str, byte_size: int, encoding: str | int, *, parent: "Die | None" = None) -> "Die":
        """``DW_TAG_base_type``; ``encoding`` by name (``"signed"``, ``"float"``, ...) or DW_ATE value."""
        return self._add(parent, "base_type", name=name, byte_size=byte_size, encoding=encoding)

    def pointer_type(self, to: "Die | None", byte_size: int | None = None, *, parent: "Die | None" = None) -> "Die":
        """A pointer to ``to`` (None: ``void *``), address-sized unless ``byte_size`` is given."""
        return self._add(parent, "pointer_type", byte_size=byte_size or self.encoding.address_size, type=to)

    def const_type(self, to: "Die | None", *, parent: "Die | None" = None) -> "Die":
        return self._add(parent, "const_type", type=to)

    def volatile_type(self, to: "Die | None", *, parent: "Die | None" = None) -> "Die":
        return self._add(parent, "volatile_type", type=to)

    def typedef(self, name: str, to: "Die | None", *, parent: "Die | None" = None) -> "Die":
        return self._add(parent, "typedef", name=name, type=to)

    def struct_type(self, name: str | None, byte_size: int, members: Sequence[Member] = (), *,
                    parent: "Die | None" = None, tag: str = "structure_type") -> "Die":
        """A struct with ``members``: ``(name, type, byte_offset)`` or, for a bit field,
        ``(name, type, byte_offset, bit_size[, bit_offset])`` with bit_offset counted from the least significant bit
        of the storage unit at byte_offset (the storage unit is the member type's size)."""
        struct = self._add(parent, tag, name=name, byte_size=byte_size)
        for member in members:
            self.member(struct, *member)
        return struct

    def union_type(self, name: str | None, byte_size: int, members: Sequence[Member] = (), *,
                   parent: "Die | None" = None) -> "Die":
        """A union; members as for :meth:`struct_type` (offsets are usually 0)."""
        return self.struct_type(name, byte_size, members, parent=parent, tag="union_type")

    def member(self, struct: "Die", name: str | None, type: "Die", byte_offset: int, bit_size: int | None = None,
               bit_offset: int = 0) -> "Die":
        """Adds one member to ``struct``; see :meth:`struct_type` for bit fields."""
        if bit_size is None:
            return struct.die("member", name=name, type=type, data_member_location=byte_offset)
        if bit_size <= 0 or bit_offset < 0:
            raise DescriptionError(f"{struct.path()}: member {name!r} has bit size {bit_size}, offset {bit_offset}")
        if self.encoding.version >= 4:
            return struct.die("member", name=name, type=type, bit_size=bit_size,
                              data_bit_offset=byte_offset * 8 + bit_offset)
        # DWARF 2/3: DW_AT_bit_offset counts from the most significant bit of the storage unit.
        storage = type.get("byte_size")
        if not isinstance(storage, int):
            raise DescriptionError(f"{struct.path()}: bit field {name!r} needs a member type with byte_size")
        if bit_offset + bit_size > storage * 8:
            raise DescriptionError(f"{struct.path()}: bit field {name!r} ({bit_offset}+{bit_size} bits) does not fit "
                                   f"its {storage}-byte storage unit")
        if self.encoding.byteorder == "little":
            msb_offset = storage * 8 - bit_offset - bit_size
        else:
            msb_offset = bit_offset
        return struct.die("member", name=name, type=type, data_member_location=byte_offset, byte_size=storage,
                          bit_size=bit_size, bit_offset=msb_offset)

    def array_type(self, element: "Die", dimensions: Sequence[int | tuple[int, int]], *, name: str | None = None,
                   index_type: "Die | None" = None, parent: "Die | None" = None) -> "Die":
        """An array of ``element``; each dimension is a count or inclusive bounds ``(lower, upper)``."""
        for dim in dimensions:   # checked before the array exists, so that a refusal leaves no half array
            if not isinstance(dim, tuple) and (not isinstance(dim, int) or isinstance(dim, bool) or dim < 0):
                where = f"{(parent or self.root).path()} / "
                raise DescriptionError(f"{where}array_type {name!r}: dimension count {dim!r} is not a non-negative "
                                       f"integer")
        array = self._add(parent, "array_type", name=name, type=element)
        for dim in dimensions:
            if isinstance(dim, tuple):
                lower, upper = dim
                array.die("subrange_type", type=index_type, lower_bound=lower or None, upper_bound=upper)
            elif dim > 0:
                array.die("subrange_type", type=index_type, upper_bound=dim - 1)
            else:
                array.die("subrange_type", type=index_type)   # unknown bound: int x[]
        return array

    def enumeration_type(self, name: str | None, byte_size: int, enumerators: Sequence[tuple[str, int]], *,
                         type: "Die | None" = None, parent: "Die | None" = None) -> "Die":
        """An enum with ``[(name, value), ...]``; ``type`` is the underlying type (DWARF 3+)."""
        enum = self._add(parent, "enumeration_type", name=name, byte_size=byte_size,
                         type=type if self.encoding.version >= 3 else None)
        for enumerator, value in enumerators:
            enum.die("enumerator", name=enumerator, const_value=value)
        return enum

    def subroutine_type(self, returns: "Die | None", parameters: Sequence["Die"] = (), *, prototyped: bool = True,
                        varargs: bool = False, parent: "Die | None" = None) -> "Die":
        """A function type: ``returns`` (None: void), parameter types, ``...`` with ``varargs``."""
        fn = self._add(parent, "subroutine_type", prototyped=prototyped or None, type=returns)
        for param in parameters:
            fn.die("formal_parameter", type=param)
        if varargs:
            fn.die("unspecified_parameters")
        return fn
