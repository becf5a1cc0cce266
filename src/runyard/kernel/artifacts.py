"""Renderings of an executed notebook that a run keeps next to it."""

from __future__ import annotations

import html
import json
import logging
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbconvert import HTMLExporter

logger = logging.getLogger(__name__)

HTML_PAGE = "text/html; charset=utf-8"

# The media type of each artifact a run keeps, by name: stored with it, served as is. `app` is
# the outputs-only page, which readers who may not see the code get as the run's `html`.
MEDIA_TYPES: Mapping[str, str] = {
    "notebook": "application/x-ipynb+json",
    "log": "text/plain; charset=utf-8",
    "html": HTML_PAGE,
    "app": HTML_PAGE,
}

# Preferred first. "lab" is nbconvert's default and ships with it (under sys.prefix's
# share/jupyter); "basic" is the bare body without page chrome.
_TEMPLATES = ("lab", "basic")

# An exporter is costly to build (its Jinja environment compiles templates: ~0.1 s) and
# cheap to reuse (~10 ms a render), but nbconvert does not promise it is thread-safe:
# keep one per thread, template and kind of page.
_exporters = threading.local()


@dataclass(frozen=True)
class Pages:
    """The two HTML pages a run keeps: the whole notebook, and its outputs alone (the "app",
    for readers who may see results but not the code that made them)."""

    notebook: str
    app: str


def render_pages(notebook: Mapping[str, Any]) -> Pages:
    return Pages(notebook=render_html(notebook), app=render_html(notebook, inputs=False))


def render_html(notebook: Mapping[str, Any], *, inputs: bool = True) -> str:
    """Return a standalone HTML page of `notebook` (an nbformat v4 dict), outputs included,
    and the cells' sources too unless `inputs` is False.

    Never raises for a notebook that renders badly or an nbconvert template that is not
    installed: it falls back to the "basic" template, then to a minimal escaped rendering,
    because a missing rendering must not cost a run its result.
    """
    for template in _TEMPLATES:
        try:
            return _render(notebook, template, inputs)
        except Exception:
            # Broad on purpose: see the docstring. The traceback is logged, not lost.
            logger.exception("nbconvert could not render HTML with template %r", template)
    return render_minimal_html(notebook, inputs=inputs)


def _render(notebook: Mapping[str, Any], template: str, inputs: bool) -> str:
    # Imported here: nbconvert takes over a second to import, which processes that only
    # read results (the API, the scheduler) should not pay.
    import nbformat

    exporter = _exporter(template, inputs)
    node = nbformat.from_dict(_with_unique_cell_ids(notebook))  # type: ignore[no-untyped-call]
    body, _resources = exporter.from_notebook_node(node)
    return str(body)


def _with_unique_cell_ids(notebook: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of `notebook` in which every cell has an id of its own, if its format
    (4.5 and later) requires ids.

    nbconvert repairs missing or duplicate ids too, but warns each time; a notebook written
    by older tools is common enough that the warning would be noise.
    """
    result = dict(notebook)
    if (result.get("nbformat", 4), result.get("nbformat_minor", 0)) < (4, 5):
        return result
    seen: set[str] = set()
    cells = []
    for cell in result.get("cells", []):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or cell_id in seen:
            cell = {**cell, "id": uuid.uuid4().hex}
        seen.add(cell["id"])
        cells.append(cell)
    result["cells"] = cells
    return result


def _exporter(template: str, inputs: bool) -> HTMLExporter:
    from nbconvert import HTMLExporter

    cache: dict[tuple[str, bool], HTMLExporter] | None = getattr(_exporters, "by_kind", None)
    if cache is None:
        cache = _exporters.by_kind = {}
    if (template, inputs) not in cache:
        cache[(template, inputs)] = HTMLExporter(  # type: ignore[no-untyped-call]
            template_name=template,
            exclude_input=not inputs,
            exclude_input_prompt=not inputs,
            exclude_output_prompt=not inputs,
        )
    return cache[(template, inputs)]


def render_minimal_html(notebook: Mapping[str, Any], *, inputs: bool = True) -> str:
    """Return a plain HTML page of the cells' sources (if `inputs`) and text outputs,
    everything escaped."""
    parts = ["<!DOCTYPE html>", '<html><head><meta charset="utf-8"><title>Notebook</title>']
    parts.append("</head><body>")
    for cell in notebook.get("cells", []):
        source = _text(cell.get("source", ""))
        parts.append(f'<div class="cell {html.escape(str(cell.get("cell_type", "")))}">')
        if inputs:
            parts.append(f"<pre>{html.escape(source)}</pre>")
        for output in cell.get("outputs", []):
            parts.append(f'<pre class="output">{html.escape(_output_text(output))}</pre>')
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _output_text(output: Mapping[str, Any]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return _text(output.get("text", ""))
    if kind == "error":
        return f"{output.get('ename', '')}: {output.get('evalue', '')}"
    data = output.get("data", {})
    if "text/plain" in data:
        return _text(data["text/plain"])
    return json.dumps(sorted(data))


def _text(value: Any) -> str:
    # nbformat allows multi-line strings to be stored as lists of lines.
    return "".join(value) if isinstance(value, list) else str(value)
