"""Jupyter notebooks as uploaded: what a valid one looks like, and the normal form we store.

Only nbformat 4 is accepted. The checks are written out here rather than delegated to the
`nbformat` package so that the domain layer stays free of I/O and third-party code, and so
that every rejection names the offending path (`cells[3].cell_type`) in words a user can act
on. The output has the structure nbformat 4.5's schema requires. Metadata passes through as
the author wrote it, except that cell `tags`, which decide the parameters cell, must be a list
of strings; nbformat itself only logs odd metadata, it does not refuse the notebook.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from runyard.errors import InvalidNotebook

SUPPORTED_NBFORMAT = 4
CELL_TYPES = ("code", "markdown", "raw")
PARAMETERS_TAG = "parameters"
DEFAULT_LANGUAGE = "python"

# Cell ids arrived in nbformat 4.5. A document that carries them but declares an older minor
# version fails the schema validation nbformat runs on read and write, so we declare 4.5.
_MINOR_WITH_CELL_IDS = 5
_CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # the pattern of nbformat 4.5's schema
_MEBIBYTE = 1024 * 1024


def parse_notebook(raw: bytes | str | Mapping[str, Any], *, max_bytes: int) -> dict[str, Any]:
    """Validate an uploaded notebook and return its normal form, a new dict.

    `raw` is the .ipynb file (bytes or text, UTF-8, a BOM tolerated) or the JSON object
    already parsed. A parsed object is measured by its compact JSON encoding, so it is never
    judged larger than the file it came from.

    Raises InvalidNotebook, whose message names the first problem and whose `issues` list
    every problem found in the cells, when the input is larger than `max_bytes`, is not JSON
    (NaN and Infinity included), is not an nbformat 4 notebook, or holds text that cannot be
    encoded as UTF-8 (a lone surrogate from a `\\ud800` escape).

    The normal form:
    - top level `nbformat`, `nbformat_minor` (at least 5), `metadata`, `cells`; any other key
      is dropped, as are cell keys nbformat 4 does not define for that cell type;
    - a missing `metadata` (top level or cell) becomes `{}`, a missing `nbformat_minor` 0;
    - each `source` is one string (a list of lines is joined);
    - every cell has a unique `id`: a cell without one, or whose id repeats an earlier
      cell's, gets `cell-<index>` (suffixed `-1`, `-2`… if that is taken). The same input
      always yields the same ids. A present id that breaks nbformat's pattern is an error;
    - code cells have `outputs: []` and `execution_count: None`, because the stored notebook
      is a program to run, and outputs left over from the author's session would be stale.
    """
    doc = _load(raw, max_bytes)
    if not isinstance(doc, dict):
        raise InvalidNotebook(f"expected a JSON object at the top level, got {_kind(doc)}")
    minor = _check_version(doc)

    metadata = doc.get("metadata", {})
    if not isinstance(metadata, dict):
        raise InvalidNotebook(f"metadata: expected an object, got {_kind(metadata)}")
    if "cells" not in doc:
        raise InvalidNotebook("cells: missing; a notebook must have a list of cells")
    raw_cells = doc["cells"]
    if not isinstance(raw_cells, list):
        raise InvalidNotebook(f"cells: expected a list, got {_kind(raw_cells)}")

    problems: list[str] = []
    normalised = [_normalise_cell(index, cell, problems) for index, cell in enumerate(raw_cells)]
    if problems:
        raise _invalid(problems)
    cells = [cell for cell in normalised if cell is not None]  # all of them, as no problems
    _assign_ids(cells)

    notebook: dict[str, Any] = {
        "nbformat": SUPPORTED_NBFORMAT,
        "nbformat_minor": max(minor, _MINOR_WITH_CELL_IDS),
        "metadata": metadata,
        "cells": cells,
    }
    _check_encodable(notebook)
    return notebook


def find_parameters_cell(nb: Mapping[str, Any]) -> int | None:
    """Index of the first code cell tagged `parameters` (metadata.tags), as papermill finds
    it; None if there is none. Tolerates malformed cells and tags by skipping them."""
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return None
    for index, cell in enumerate(cells):
        if not isinstance(cell, Mapping) or cell.get("cell_type") != "code":
            continue
        metadata = cell.get("metadata")
        tags = metadata.get("tags") if isinstance(metadata, Mapping) else None
        if isinstance(tags, list) and PARAMETERS_TAG in tags:
            return index
    return None


def kernel_language(nb: Mapping[str, Any]) -> str:
    """The notebook's programming language, lower-cased: metadata.kernelspec.language, else
    metadata.language_info.name, else "python" (what Jupyter assumes for an unlabelled
    notebook). Empty or non-string values are skipped."""
    metadata = nb.get("metadata")
    if not isinstance(metadata, Mapping):
        return DEFAULT_LANGUAGE
    for section, key in (("kernelspec", "language"), ("language_info", "name")):
        block = metadata.get(section)
        value = block.get(key) if isinstance(block, Mapping) else None
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return DEFAULT_LANGUAGE


def _load(raw: bytes | str | Mapping[str, Any], max_bytes: int) -> Any:
    """Parse `raw` into fresh JSON values after checking its size; never shares objects
    with a mapping given as input."""
    if isinstance(raw, Mapping):
        try:
            text = json.dumps(dict(raw), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise InvalidNotebook(f"not JSON: {exc}") from exc
        except RecursionError as exc:
            raise InvalidNotebook("not JSON: nested too deeply") from exc
        _check_size(len(text.encode("utf-8", "surrogatepass")), max_bytes)
        # The round trip through text is also the deep copy.
        return json.loads(text)
    if isinstance(raw, bytes | bytearray):
        _check_size(len(raw), max_bytes)
    elif isinstance(raw, str):
        _check_size(len(raw.encode("utf-8", "surrogatepass")), max_bytes)
        # json.loads detects a BOM in bytes but refuses one at the start of a str; editors on
        # Windows write one, and it carries no meaning.
        raw = raw.removeprefix("\ufeff")
    else:
        raise TypeError(f"expected bytes, str or a mapping, got {type(raw).__name__}")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidNotebook(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidNotebook(
            f"not UTF-8 text: {exc.reason} at byte {exc.start}; save the notebook as UTF-8"
        ) from exc
    except RecursionError as exc:
        raise InvalidNotebook("not JSON: nested too deeply") from exc


def _reject_constant(name: str) -> Any:
    # Python's json module reads NaN and Infinity, but they are not JSON: PostgreSQL's jsonb
    # and every browser client would choke on the stored document later.
    raise InvalidNotebook(f"not JSON: {name} is not a JSON value")


def _check_size(size: int, max_bytes: int) -> None:
    if size <= max_bytes:
        return
    size_text, limit_text = _format_size(size), _format_size(max_bytes)
    if size_text == limit_text:
        # "10.0 MB, over the 10.0 MB limit" would read as a bug; exact counts settle it.
        size_text, limit_text = f"{size} bytes", f"{max_bytes} bytes"
    raise InvalidNotebook(f"notebook is {size_text}, over the {limit_text} limit")


def _format_size(size: int) -> str:
    if size >= _MEBIBYTE:
        return f"{size / _MEBIBYTE:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"


def _check_version(doc: dict[str, Any]) -> int:
    """Return nbformat_minor after checking that the document is nbformat 4."""
    if "nbformat" not in doc:
        raise InvalidNotebook("nbformat: missing; is this a Jupyter notebook (.ipynb)?")
    major = doc["nbformat"]
    if not _is_int(major):
        raise InvalidNotebook(f"nbformat: expected an integer, got {_kind(major)}")
    if major != SUPPORTED_NBFORMAT:
        raise InvalidNotebook(f"nbformat {major} is not supported; save the notebook as nbformat 4")
    minor = doc.get("nbformat_minor", 0)
    if not _is_int(minor) or minor < 0:
        raise InvalidNotebook(
            f"nbformat_minor: expected a non-negative integer, got {_kind(minor)}"
        )
    return int(minor)


def _normalise_cell(index: int, cell: Any, problems: list[str]) -> dict[str, Any] | None:
    """Return the cell in normal form (its id, if valid, kept for `_assign_ids`), or None
    after appending to `problems` what is wrong with it."""
    where = f"cells[{index}]"
    if not isinstance(cell, dict):
        problems.append(f"{where}: expected an object, got {_kind(cell)}")
        return None
    found = len(problems)

    cell_type = cell.get("cell_type")
    if cell_type not in CELL_TYPES:
        got = f"got {_kind(cell_type)}" if "cell_type" in cell else "it is missing"
        problems.append(f"{where}.cell_type: expected code, markdown or raw; {got}")

    source: Any = cell.get("source")
    if _is_list_of_str(source):
        source = "".join(source)
    elif not isinstance(source, str):
        got = f"got {_kind(source)}" if "source" in cell else "it is missing"
        problems.append(f"{where}.source: expected a string or a list of strings; {got}")

    metadata = cell.get("metadata", {})
    if not isinstance(metadata, dict):
        problems.append(f"{where}.metadata: expected an object, got {_kind(metadata)}")
    elif "tags" in metadata and not _is_list_of_str(metadata["tags"]):
        problems.append(
            f"{where}.metadata.tags: expected a list of strings, got {_kind(metadata['tags'])}"
        )

    cell_id = cell.get("id")
    if "id" in cell and not (isinstance(cell_id, str) and _CELL_ID.fullmatch(cell_id)):
        problems.append(
            f"{where}.id: expected 1-64 letters, digits, '-' or '_', got {_kind(cell_id)}"
        )

    attachments = cell.get("attachments")
    if cell_type != "code" and "attachments" in cell and not isinstance(attachments, dict):
        problems.append(f"{where}.attachments: expected an object, got {_kind(attachments)}")

    if len(problems) > found:
        return None
    normal: dict[str, Any] = {"cell_type": cell_type, "metadata": metadata, "source": source}
    if cell_id is not None:
        normal["id"] = cell_id
    if cell_type == "code":
        normal["outputs"] = []
        normal["execution_count"] = None
    elif attachments is not None:
        normal["attachments"] = attachments
    return normal


def _assign_ids(cells: list[dict[str, Any]]) -> None:
    """Give every cell a unique id, in place, keeping the first holder of each given id.

    1. Collect the ids the author's cells carry; the first cell with an id keeps it.
    2. Each cell left without one (none given, or a repeat, as a copy-paste between
       notebooks leaves) gets `cell-<index>`, suffixed until it collides with nothing.
    Jupyter repairs repeated ids the same way, so a notebook it opens we accept too.
    """
    taken: set[str] = set()
    needs_id: list[int] = []
    for index, cell in enumerate(cells):
        cell_id = cell.get("id")
        if cell_id is None or cell_id in taken:
            needs_id.append(index)
        else:
            taken.add(cell_id)
    for index in needs_id:
        base = candidate = f"cell-{index}"
        suffix = 0
        while candidate in taken:
            suffix += 1
            candidate = f"{base}-{suffix}"
        taken.add(candidate)
        cells[index]["id"] = candidate


def _check_encodable(notebook: dict[str, Any]) -> None:
    # JSON escapes can spell half a UTF-16 surrogate pair ("\ud800"), which Python keeps in a
    # str but neither UTF-8 storage nor PostgreSQL accepts. Refuse it here, as a 422, rather
    # than fail on the INSERT.
    try:
        json.dumps(notebook, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidNotebook(
            "contains text that is not valid Unicode (an unpaired surrogate such as \\ud800)"
        ) from exc


def _invalid(problems: list[str]) -> InvalidNotebook:
    message = problems[0]
    if len(problems) > 1:
        more = len(problems) - 1
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return InvalidNotebook(message, issues=problems)


def _is_list_of_str(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    """Describe a JSON value in an error message: short, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
