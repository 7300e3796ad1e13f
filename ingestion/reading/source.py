"""The uniform row stream every format reader produces (DESIGN §5).

A reader turns a file into :class:`SheetSource` objects; each yields
:class:`RawRow` values: the 1-based row number as the file shows it, the
typed cell values (``str``, ``float``, ``int``, ``datetime``, ``bool`` or
``None`` for empty/error cells) and, where the format has them, each cell's
number format and the row's outline level.  PDF rows also carry the
1-based ``page`` they were read from (``None`` for other formats).  A row the
reader read in spite of damage carries :class:`RowNote` values saying what it
repaired (a CSV quote that was never closed).  Spreadsheet error cells
(``#DIV/0!``, ``#N/A``) are empty values; the error each held is kept in
``RawRow.errors`` so that a price column can report it.
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

    ``error`` is set when the reader could not read the row at all (a CSV
    record with a field over the size limit: ``values`` empty) or refused to
    (a CSV record whose fields cannot be lined up with the columns:
    ``values`` holds the fields as read, for the log, and ``error_column``
    the 0-based column concerned); the row then becomes an error problem
    ``unreadable_row`` and is not interpreted.  ``notes`` say what the reader
    repaired in a row it did read (each becomes a warning problem).
    ``errors`` maps the 0-based column of each spreadsheet error cell (its
    value is ``None``) to the error's text (``"#DIV/0!"``); ``None`` when the
    row has none.  ``controls`` holds the 0-based columns whose text held
    control characters that :class:`~ingestion.reading.api.RowGuard`
    removed (other than whole ANSI sequences): a price read from such a
    cell is in doubt.  ``line`` is the record's text as the file holds it,
    for a refused CSV record (it goes to the log with the fields).
    """

    row: int
    values: list[CellValue]
    formats: list[str | None] | None = None
    level: int | None = None
    page: int | None = None
    error: str | None = None
    notes: tuple[RowNote, ...] = ()
    errors: dict[int, str] | None = None
    error_column: int | None = None
    controls: frozenset[int] | None = None
    line: str | None = None


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
