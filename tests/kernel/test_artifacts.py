from __future__ import annotations

from typing import Any

import pytest

from runyard.kernel import artifacts
from runyard.kernel.artifacts import render_html, render_minimal_html, render_pages


def executed_notebook(*, minor: int = 5, with_ids: bool = True) -> dict[str, Any]:
    cells: list[dict[str, Any]] = [
        {"cell_type": "markdown", "metadata": {}, "source": "# Report <draft>"},
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "source": "print('<b>hi</b>')",
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "<b>hi</b>\n"}],
        },
        {
            "cell_type": "code",
            "execution_count": 2,
            "metadata": {},
            "source": "1 / 0",
            "outputs": [
                {
                    "output_type": "error",
                    "ename": "ZeroDivisionError",
                    "evalue": "division by zero",
                    "traceback": ["\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"],
                }
            ],
        },
    ]
    if with_ids:
        for i, cell in enumerate(cells):
            cell["id"] = f"cell-{i}"
    return {"nbformat": 4, "nbformat_minor": minor, "metadata": {}, "cells": cells}


def test_the_lab_template_renders_outputs_escaped() -> None:
    html = render_html(executed_notebook())

    assert 'class="jp-Notebook' in html  # the lab template, not a fallback
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "ZeroDivisionError" in html


def test_cells_without_ids_render_without_warnings() -> None:
    # pytest turns warnings into errors here: nbconvert's MissingIDFieldWarning would make
    # the lab template fail and the rendering fall back.
    html = render_html(executed_notebook(with_ids=False))

    assert 'class="jp-Notebook' in html


def test_notebooks_older_than_4_5_render() -> None:
    assert 'class="jp-Notebook' in render_html(executed_notebook(minor=4, with_ids=False))


def test_without_templates_the_rendering_falls_back_to_minimal_html(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(artifacts, "_TEMPLATES", ("no-such-template",))

    html = render_html(executed_notebook())

    assert html == render_minimal_html(executed_notebook())


def test_the_minimal_rendering_escapes_everything() -> None:
    html = render_minimal_html(executed_notebook())

    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert "# Report &lt;draft&gt;" in html
    assert "ZeroDivisionError: division by zero" in html
    assert "<b>" not in html


def test_the_app_page_keeps_outputs_and_markdown_but_drops_the_code() -> None:
    pages = render_pages(executed_notebook())

    assert "&lt;b&gt;hi&lt;/b&gt;" in pages.app and "Report" in pages.app
    assert 'class="jp-CodeMirrorEditor' not in pages.app  # no code cell's source
    assert 'class="jp-CodeMirrorEditor' in pages.notebook


def test_the_minimal_app_page_leaves_out_the_sources() -> None:
    page = render_minimal_html(executed_notebook(), inputs=False)

    assert "1 / 0" not in page and "ZeroDivisionError" in page
