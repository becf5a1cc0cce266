"""Papermill-style parameter injection: a cell of assignments placed after the defaults.

The notebook's own cell tagged `parameters` holds the defaults; a new cell tagged
`injected-parameters`, inserted right after it, assigns the run's values, so they win by
simply running later. Values are rendered as Python literals, never interpolated as text,
so a parameter value cannot become code.
"""

from __future__ import annotations

import copy
import keyword
import math
import uuid
from collections.abc import Mapping
from typing import Any

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"


def render_parameters_source(params: Mapping[str, Any]) -> str:
    """Return Python source that assigns each parameter, one `name = literal` line each.

    Values may be None, bool, int, float (nan and infinities included), str, and lists,
    tuples and dicts of these; tuples come out as lists, as they would through JSON.
    Subclasses (an IntEnum, a StrEnum) are rendered as their base value.

    Raises ValueError for a name that is not a Python identifier or is a keyword, and
    TypeError for a value of any other type.
    """
    lines = ["# Parameters"]
    for name, value in params.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"Parameter name {name!r} is not a valid Python identifier")
        lines.append(f"{name} = {_literal(value)}")
    return "\n".join(lines) + "\n"


def _literal(value: Any) -> str:
    # The base-class __repr__ is called explicitly so that subclasses with a custom repr
    # (IntEnum prints as <Color.RED: 1>) still yield valid source.
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "float('-inf')"
        return float.__repr__(value)
    if isinstance(value, str):
        return str.__repr__(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{_literal(k)}: {_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"Cannot render a parameter value of type {type(value).__name__}")


def inject_parameters(notebook: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of `notebook` with the parameters cell injected; `notebook` is untouched.

    1. Cells tagged `injected-parameters` (left by an earlier run) are dropped.
    2. If `params` is empty, nothing is injected.
    3. Otherwise a code cell tagged `injected-parameters` goes right after the first cell
       tagged `parameters`, or first if no cell has that tag.

    Raises what `render_parameters_source` raises.
    """
    result: dict[str, Any] = copy.deepcopy(dict(notebook))
    cells = [cell for cell in result.get("cells", []) if INJECTED_TAG not in _tags(cell)]
    if params:
        position = next((i + 1 for i, cell in enumerate(cells) if PARAMETERS_TAG in _tags(cell)), 0)
        cells.insert(position, _injected_cell(render_parameters_source(params), result))
    result["cells"] = cells
    return result


def _tags(cell: Mapping[str, Any]) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return tags if isinstance(tags, list) else []


def _injected_cell(source: str, notebook: Mapping[str, Any]) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [INJECTED_TAG]},
        "outputs": [],
        "source": source,
    }
    # Cell ids exist from nbformat 4.5 on; an older notebook would fail validation with one.
    if (notebook.get("nbformat", 4), notebook.get("nbformat_minor", 0)) >= (4, 5):
        cell["id"] = uuid.uuid4().hex
    return cell
