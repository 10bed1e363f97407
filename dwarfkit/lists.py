"""Range lists and location lists (public path): :class:`RangeList`, :class:`LocationList` and their tables.

They live in :mod:`dwarfkit.tables.lists`, with the other tables shared by all units; this module keeps the
import path ``dwarfkit.lists`` that programs use. Imports only that module.
"""
from __future__ import annotations

from .tables.lists import (
                           DW_LLE_end_of_list,
                           DW_LLE_start_length,
                           DW_LLE_startx_length,
                           DW_RLE_end_of_list,
                           DW_RLE_start_length,
                           DW_RLE_startx_length,
                           ListTable,
                           LocationList,
                           RangeList,
)

__all__ = ["ListTable", "LocationList", "RangeList", "DW_RLE_end_of_list", "DW_RLE_startx_length",
           "DW_RLE_start_length", "DW_LLE_end_of_list", "DW_LLE_startx_length", "DW_LLE_start_length"]
