"""Range lists and location lists (public path): :class:`RangeList`, :class:`LocationList` and their tables.

Entries chosen by the caller: ``dw.range_list([Rle.base_address("f"), Rle.offset_pair(0, 16)])``,
``dw.location_list([Lle.view_pair(0, 1), Lle.startx_length("f", 8, Expr().reg(5))])``; GCC's separate view lists:
``views = loc.locviews([(0, 1), ...])`` then ``location=loc, GNU_locviews=views``
(see :mod:`dwarfkit.tables.list_entries`).

They live in :mod:`dwarfkit.tables.lists`, with the other tables shared by all units; this module keeps the
import path ``dwarfkit.lists`` that programs use. Imports only that module.
"""
from __future__ import annotations

from .tables.list_entries import ListEntry, Lle, Rle
from .tables.lists import (
                           DW_LLE_end_of_list,
                           DW_LLE_start_length,
                           DW_LLE_startx_length,
                           DW_RLE_end_of_list,
                           DW_RLE_start_length,
                           DW_RLE_startx_length,
                           ListTable,
                           LocationList,
                           LocationViews,
                           RangeList,
)

__all__ = ["ListTable", "LocationList", "LocationViews", "RangeList", "ListEntry", "Rle", "Lle",
           "DW_RLE_end_of_list", "DW_RLE_startx_length",
           "DW_RLE_start_length", "DW_LLE_end_of_list", "DW_LLE_startx_length", "DW_LLE_start_length"]
