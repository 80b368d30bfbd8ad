"""What every import format is: a header it recognises and a way to turn rows into records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from treu.commerce.services import OrderInput
from treu.customers.services import CustomerInput
from treu.imports.parsing import CellError
from treu.imports.reading import Row

CUSTOMERS = "customers"
ORDERS = "orders"


@dataclass
class RowError:
    line: int
    column: str
    reason: str


@dataclass
class CustomerRecord:
    line: int
    customer: CustomerInput | None
    address: dict[str, str] | None = None
    errors: list[RowError] = field(default_factory=list)


@dataclass
class OrderRecord:
    lines: list[int]  # line numbers of the order's rows, in order
    order: OrderInput | None  # customer_id is filled in by the importer
    customer: CustomerInput | None = None
    errors: list[RowError] = field(default_factory=list)

    @property
    def line(self) -> int:
        return self.lines[0]


class Columns:
    """Looks cells up by column name, however the file orders or spells its header."""

    def __init__(self, header: list[str]):
        self.header = header
        self.index = {}
        for i, name in enumerate(header):
            self.index.setdefault(name.strip().lower(), i)

    def has(self, name: str) -> bool:
        return name.lower() in self.index

    def getter(self, name: str):
        i = self.index.get(name.lower())
        if i is None:
            return lambda cells: ""
        return lambda cells: cells[i].strip()


class Format:
    key: str = ""
    label: Any = ""
    entity: str = ORDERS
    # Columns that must be present (as written in the export); they also identify the format.
    required: tuple[str, ...] = ()
    # Columns the format reads when present.
    optional: tuple[str, ...] = ()
    # Which column a service's error field points at.
    field_columns: dict[str, str] = {}

    def matches(self, columns: Columns) -> bool:
        return all(columns.has(name) for name in self.required)

    def missing(self, columns: Columns) -> list[str]:
        return [name for name in self.required if not columns.has(name)]

    def records(self, rows: Iterable[Row], columns: Columns, *, shop) -> Iterator[Any]:
        raise NotImplementedError


class Cells:
    """One row's cells read through the format's getters, collecting every cell error."""

    def __init__(self, row: Row, getters: dict[str, Any]):
        self.row = row
        self.getters = getters
        self.errors: list[RowError] = []
        if row.problem:
            self.errors.append(RowError(row.line, "", row.problem))

    def text(self, name: str) -> str:
        return self.getters[name](self.row.cells)

    def read(self, name: str, parse, *, default=None):
        """Parse a cell; on failure remember the error with its line and column."""
        if self.row.problem:  # its cells are shifted: reading them would only add noise
            return default
        try:
            return parse(self.text(name))
        except CellError as error:
            self.errors.append(RowError(self.row.line, name, error.reason))
            return default


def group_consecutive(rows: Iterable[Row], key) -> Iterator[list[Row]]:
    """Orders span consecutive rows that share a key (the order's id or name)."""
    group: list[Row] = []
    current = None
    for row in rows:
        if row.problem and group:
            # A row split at the wrong separator has no trustworthy key: it stays with
            # the order before it, which is then refused as a whole.
            group.append(row)
            continue
        k = key(row.cells)
        if group and k != current:
            yield group
            group = []
        current = k
        group.append(row)
    if group:
        yield group


def split_name(full: str) -> tuple[str, str]:
    """'Anna Maria Müller' -> ('Anna Maria', 'Müller'): the last word is the family name."""
    parts = full.split()
    if len(parts) < 2:
        return (full.strip(), "")
    return (" ".join(parts[:-1]), parts[-1])
