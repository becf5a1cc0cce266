"""SQL cells: cells whose metadata names a data connection and an output variable.

Not executed yet. This module is where running them will live (query the connection, bind
the result to the output variable in the kernel); until then the runner only recognises
them, and fails the run rather than send SQL to Python as source code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def is_sql_cell(cell: Mapping[str, Any]) -> bool:
    """Return whether `cell` is a SQL cell (it has `runyard.sql` in its metadata)."""
    runyard = cell.get("metadata", {}).get("runyard")
    return isinstance(runyard, Mapping) and runyard.get("sql") is not None
