"""The export trie of ``LC_DYLD_INFO_ONLY``: which symbols an executable exports, at which offset from its header.

dyld walks the trie edge by edge, so names sharing a prefix share the edge that spells it (``_area`` and
``_area_rect`` hang below one ``_area`` node). Node offsets are ULEB128 and their sizes change the offsets that
follow, so the layout is repeated until it is stable.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dwarfkit.encoding import uleb128, uleb128_size


@dataclass
class _Node:
    address: int | None = None
    """Offset of the exported symbol from the Mach-O header, when a name ends here."""
    edges: list[tuple[str, "_Node"]] = field(default_factory=list)
    offset: int = 0

    def terminal(self) -> bytes:
        if self.address is None:
            return b""
        return uleb128(0) + uleb128(self.address)  # flags 0: a regular symbol

    def size(self) -> int:
        terminal = len(self.terminal())
        size = uleb128_size(terminal) + terminal + 1
        for label, child in self.edges:
            size += len(label.encode()) + 1 + uleb128_size(child.offset)
        return size


def _build(names: list[tuple[str, int]]) -> _Node:
    """Radix tree of (name, address) pairs sorted by name."""
    node = _Node()
    rest = list(names)
    if rest and rest[0][0] == "":
        node.address = rest.pop(0)[1]
    while rest:
        first = rest[0][0][0]
        group = [(n, a) for n, a in rest if n[0] == first]
        rest = rest[len(group):]
        prefix = group[0][0]
        for name, _ in group[1:]:
            while not name.startswith(prefix):
                prefix = prefix[:-1]
        node.edges.append((prefix, _build([(n[len(prefix):], a) for n, a in group])))
    return node


def export_trie(symbols: dict[str, int]) -> bytes:
    """The trie for ``symbols`` (Mach-O name -> offset from the header), padded to 8 bytes."""
    root = _build(sorted(symbols.items()))
    nodes: list[_Node] = []
    pending = [root]
    while pending:  # breadth first, as ld64 orders them
        node = pending.pop(0)
        nodes.append(node)
        pending += [child for _, child in node.edges]
    while True:
        offset, changed = 0, False
        for node in nodes:
            if node.offset != offset:
                node.offset, changed = offset, True
            offset += node.size()
        if not changed:
            break
    out = bytearray()
    for node in nodes:
        terminal = node.terminal()
        out += uleb128(len(terminal)) + terminal + bytes((len(node.edges),))
        for label, child in node.edges:
            out += label.encode() + b"\0" + uleb128(child.offset)
    out += bytes(-len(out) % 8)
    return bytes(out)
