"""Hex's queried tables of a project: the tables its SQL cells read (contract §13)."""

from __future__ import annotations

from runyard.api.wire import Pagination, Wire


class QueriedTable(Wire):
    dataConnectionId: str
    dataConnectionName: str
    tableName: str


class QueriedTableList(Wire):
    values: list[QueriedTable]
    pagination: Pagination
    traceId: str
