"""The uniform row stream every format reader produces (DESIGN §5).

A reader turns a file into :class:`SheetSource` objects; each yields
:class:`RawRow` values: the 1-based row number as the file shows it, the
typed cell values (``str``, ``float``, ``int``, ``datetime``, ``bool`` or
``None`` for empty/error cells) and, where the format has them, each cell's
number format and the row's outline level.  PDF rows also carry the
1-based ``page`` they were read from (``None`` for other formats).  A row the
reader read in spite of damage carries :class:`RowNote` values saying what it
repaired (a CSV quote that was never closed).
"""

from __future__ import annotations

from typing import Callable, Iterator

import attrs

from ingestion.reading.normalize import CellValue


@attrs.frozen
class RowNote:
    """What a reader repaired in a row it still read; it becomes a warning :class:`~ingestion.errors.Problem`.

    ``type`` is the problem's slug (``unterminated_quote``), ``message`` its
    sentence, ``column`` the 0-based index of the cell concerned (``None``:
    the whole row).
    """

    type: str
    message: str
    column: int | None = None


@attrs.define(slots=True)
class RawRow:
    """One row of one sheet: ``row`` is 1-based; ``formats`` parallels ``values``; ``page`` is 1-based (PDF).

    ``error`` is set (and ``values`` empty) when the reader could not read the
    row at all, e.g. a CSV record with a field over the size limit; the row
    then becomes an error problem ``unreadable_row``.  ``notes`` say what the
    reader repaired in a row it did read (each becomes a warning problem).
    """

    row: int
    values: list[CellValue]
    formats: list[str | None] | None = None
    level: int | None = None
    page: int | None = None
    error: str | None = None
    notes: tuple[RowNote, ...] = ()


@attrs.define
class SheetSource:
    """One table to read: a sheet of a workbook or the single table of a CSV.

    ``rows()`` may be called once; ``estimated_rows`` is the stated size (for
    progress), ``hidden`` is true for hidden and very hidden sheets.
    """

    name: str | None
    rows: Callable[[], Iterator[RawRow]]
    estimated_rows: int | None = None
    hidden: bool = False
