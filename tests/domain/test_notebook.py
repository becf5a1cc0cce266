from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runyard.domain.notebook import find_parameters_cell, kernel_language, parse_notebook
from runyard.errors import InvalidNotebook, Unprocessable

LIMIT = 10 * 1024 * 1024
CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def code(source: Any = "x = 1\n", **extra: Any) -> dict[str, Any]:
    return {"cell_type": "code", "metadata": {}, "source": source, **extra}


def markdown(source: Any = "# Title\n", **extra: Any) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source, **extra}


def notebook(*cells: Any, **top: Any) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells), **top}


def rejection(raw: Any, *, max_bytes: int = LIMIT) -> InvalidNotebook:
    with pytest.raises(InvalidNotebook) as caught:
        parse_notebook(raw, max_bytes=max_bytes)
    return caught.value


# --- accepting and normalising ------------------------------------------------------------


def test_it_reads_bytes_text_and_parsed_dicts_alike() -> None:
    doc = notebook(markdown(id="intro"), code(id="work"))
    text = json.dumps(doc, indent=1)

    from_bytes = parse_notebook(text.encode(), max_bytes=LIMIT)
    from_text = parse_notebook(text, max_bytes=LIMIT)
    from_dict = parse_notebook(doc, max_bytes=LIMIT)

    assert from_bytes == from_text == from_dict


@pytest.mark.parametrize("as_bytes", [True, False])
def test_it_tolerates_a_utf8_byte_order_mark(as_bytes: bool) -> None:
    text = "\ufeff" + json.dumps(notebook(code()))

    parsed = parse_notebook(text.encode() if as_bytes else text, max_bytes=LIMIT)

    assert parsed["cells"][0]["source"] == "x = 1\n"


def test_it_joins_a_list_of_source_lines_into_one_string() -> None:
    parsed = parse_notebook(notebook(code(["a = 1\n", "b = 2\n"]), markdown([])), max_bytes=LIMIT)

    assert [cell["source"] for cell in parsed["cells"]] == ["a = 1\nb = 2\n", ""]


def test_it_clears_outputs_and_execution_counts_left_from_the_authors_session() -> None:
    stale = code(
        outputs=[{"output_type": "stream", "name": "stdout", "text": "old\n"}],
        execution_count=7,
    )

    cell = parse_notebook(notebook(stale), max_bytes=LIMIT)["cells"][0]

    assert cell["outputs"] == []
    assert cell["execution_count"] is None


def test_it_gives_code_cells_empty_outputs_when_the_upload_has_none() -> None:
    cell = parse_notebook(notebook(code()), max_bytes=LIMIT)["cells"][0]

    assert cell["outputs"] == []
    assert cell["execution_count"] is None


def test_it_keeps_notebook_and_cell_metadata() -> None:
    top = {"kernelspec": {"name": "python3", "language": "python"}, "custom": [1, 2]}
    cell_meta = {"tags": ["parameters"], "collapsed": True}

    parsed = parse_notebook(notebook(code(metadata=cell_meta), metadata=top), max_bytes=LIMIT)

    assert parsed["metadata"] == top
    assert parsed["cells"][0]["metadata"] == cell_meta


def test_it_fills_in_missing_metadata_and_minor_version() -> None:
    doc = {"nbformat": 4, "cells": [{"cell_type": "code", "source": ""}]}

    parsed = parse_notebook(doc, max_bytes=LIMIT)

    assert parsed["metadata"] == {}
    assert parsed["cells"][0]["metadata"] == {}
    assert parsed["nbformat_minor"] == 5


def test_it_keeps_the_ids_the_author_gave() -> None:
    parsed = parse_notebook(notebook(code(id="setup"), markdown(id="notes_1")), max_bytes=LIMIT)

    assert [cell["id"] for cell in parsed["cells"]] == ["setup", "notes_1"]


def test_it_gives_cells_without_an_id_one_derived_from_their_position() -> None:
    doc = notebook(code(), markdown(), code(id="kept"))

    first = parse_notebook(doc, max_bytes=LIMIT)
    second = parse_notebook(doc, max_bytes=LIMIT)

    assert [cell["id"] for cell in first["cells"]] == ["cell-0", "cell-1", "kept"]
    assert first == second


def test_it_replaces_a_repeated_id_and_keeps_the_first_holder() -> None:
    doc = notebook(code(id="same"), code(id="same"), code(id="other"))

    ids = [cell["id"] for cell in parse_notebook(doc, max_bytes=LIMIT)["cells"]]

    assert ids == ["same", "cell-1", "other"]


def test_a_generated_id_never_collides_with_one_given_later_in_the_notebook() -> None:
    doc = notebook(code(), code(id="cell-0"), code(id="cell-0-1"))

    ids = [cell["id"] for cell in parse_notebook(doc, max_bytes=LIMIT)["cells"]]

    assert ids == ["cell-0-2", "cell-0", "cell-0-1"]


def test_it_declares_nbformat_4_5_at_least_because_cells_now_carry_ids() -> None:
    older = parse_notebook(notebook(code(), nbformat_minor=2), max_bytes=LIMIT)
    newer = parse_notebook(notebook(code(), nbformat_minor=9), max_bytes=LIMIT)

    assert older["nbformat_minor"] == 5
    assert newer["nbformat_minor"] == 9


def test_it_drops_keys_that_nbformat_4_does_not_define() -> None:
    doc = notebook(
        markdown(outputs=[], execution_count=1, attachments={"a.png": {"image/png": "AA=="}}),
        code(attachments={}, extra="x"),
        worksheets=[],
    )

    parsed = parse_notebook(doc, max_bytes=LIMIT)

    assert set(parsed) == {"nbformat", "nbformat_minor", "metadata", "cells"}
    md, cc = parsed["cells"]
    assert set(md) == {"id", "cell_type", "metadata", "source", "attachments"}
    assert md["attachments"] == {"a.png": {"image/png": "AA=="}}
    assert set(cc) == {"id", "cell_type", "metadata", "source", "outputs", "execution_count"}


def test_it_returns_a_copy_and_leaves_the_input_untouched() -> None:
    doc = notebook(code(["a\n", "b\n"], outputs=[{"output_type": "stream"}]))
    before = json.loads(json.dumps(doc))

    parsed = parse_notebook(doc, max_bytes=LIMIT)
    parsed["metadata"]["changed"] = True
    parsed["cells"][0]["metadata"]["changed"] = True

    assert doc == before


def test_its_output_is_a_valid_notebook_for_nbformat_itself() -> None:
    doc = notebook(
        code(["import os\n"], outputs=[{"output_type": "stream", "name": "stdout", "text": ""}]),
        markdown(),
        {"cell_type": "raw", "metadata": {}, "source": "raw"},
        nbformat_minor=4,
    )

    nbformat.validate(parse_notebook(doc, max_bytes=LIMIT))


def test_an_empty_notebook_is_valid() -> None:
    assert parse_notebook(notebook(), max_bytes=LIMIT)["cells"] == []


# --- rejecting ----------------------------------------------------------------------------


def test_invalid_notebooks_are_unprocessable_content() -> None:
    assert isinstance(rejection(b"nope"), Unprocessable)


def test_it_rejects_text_that_is_not_json_and_says_where() -> None:
    assert rejection(b"").message == "not JSON: Expecting value at line 1 column 1"
    assert rejection('{"nbformat": 4,\n  oops}').message.endswith("at line 2 column 3")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_it_rejects_the_non_json_constants_python_would_read(constant: str) -> None:
    raw = '{"nbformat": 4, "cells": [], "metadata": {"x": ' + constant + "}}"

    assert rejection(raw).message == f"not JSON: {constant} is not a JSON value"


def test_it_rejects_bytes_that_are_not_utf8() -> None:
    assert rejection(b'{"nbformat": 4, "cells": ["\xff"]}').message.startswith("not UTF-8 text")


def test_it_rejects_a_dict_that_cannot_be_written_as_json() -> None:
    assert rejection(notebook(code(), metadata={"when": object()})).message.startswith("not JSON")
    assert rejection(notebook(code(), metadata={"x": float("nan")})).message.startswith("not JSON")


def test_it_rejects_json_nested_too_deeply_for_python() -> None:
    assert rejection("[" * 100_000 + "]" * 100_000).message == "not JSON: nested too deeply"


def test_it_rejects_a_top_level_that_is_not_an_object() -> None:
    assert rejection("[]").message == "expected a JSON object at the top level, got a list"


def test_it_rejects_an_nbformat_3_notebook_and_says_how_to_fix_it() -> None:
    old = {"nbformat": 3, "nbformat_minor": 0, "worksheets": [{"cells": []}], "metadata": {}}

    assert rejection(old).message == "nbformat 3 is not supported; save the notebook as nbformat 4"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"cells": []}, "nbformat: missing; is this a Jupyter notebook (.ipynb)?"),
        ({"nbformat": "4", "cells": []}, "nbformat: expected an integer, got '4'"),
        ({"nbformat": True, "cells": []}, "nbformat: expected an integer, got true"),
        (
            {"nbformat": 4, "nbformat_minor": -1, "cells": []},
            "nbformat_minor: expected a non-negative integer, got -1",
        ),
        ({"nbformat": 4}, "cells: missing; a notebook must have a list of cells"),
        ({"nbformat": 4, "cells": {}}, "cells: expected a list, got an object"),
        ({"nbformat": 4, "cells": [], "metadata": []}, "metadata: expected an object, got a list"),
    ],
)
def test_it_rejects_a_malformed_top_level(doc: dict[str, Any], message: str) -> None:
    assert rejection(doc).message == message


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("x = 1", "cells[1]: expected an object, got 'x = 1'"),
        (
            {"cell_type": "heading", "source": "", "metadata": {}},
            "cells[1].cell_type: expected code, markdown or raw; got 'heading'",
        ),
        (
            {"source": "", "metadata": {}},
            "cells[1].cell_type: expected code, markdown or raw; it is missing",
        ),
        (code(None), "cells[1].source: expected a string or a list of strings; got null"),
        (code(["a", 1]), "cells[1].source: expected a string or a list of strings; got a list"),
        (
            {"cell_type": "code", "metadata": {}},
            "cells[1].source: expected a string or a list of strings; it is missing",
        ),
        (code(metadata="tags"), "cells[1].metadata: expected an object, got 'tags'"),
        (
            code(metadata={"tags": "parameters"}),
            "cells[1].metadata.tags: expected a list of strings, got 'parameters'",
        ),
        (
            code(metadata={"tags": [None]}),
            "cells[1].metadata.tags: expected a list of strings, got a list",
        ),
        (
            code(id="a b"),
            "cells[1].id: expected 1-64 letters, digits, '-' or '_', got 'a b'",
        ),
        (code(id=""), "cells[1].id: expected 1-64 letters, digits, '-' or '_', got ''"),
        (code(id="x" * 65), "cells[1].id: expected 1-64 letters, digits, '-' or '_', got 'xxxx"),
        (code(id=3), "cells[1].id: expected 1-64 letters, digits, '-' or '_', got 3"),
        (markdown(attachments=[]), "cells[1].attachments: expected an object, got a list"),
    ],
)
def test_it_rejects_a_malformed_cell_naming_its_index(cell: Any, message: str) -> None:
    assert rejection(notebook(code(), cell)).message.startswith(message)


def test_it_reports_the_problems_of_every_cell_at_once() -> None:
    doc = notebook(code(), code(source=1), {"cell_type": "heading", "source": ""}, markdown())

    error = rejection(doc)

    assert error.message == (
        "cells[1].source: expected a string or a list of strings; got 1 (and 1 more problem)"
    )
    assert error.issues == [
        "cells[1].source: expected a string or a list of strings; got 1",
        "cells[2].cell_type: expected code, markdown or raw; got 'heading'",
    ]


def test_it_rejects_text_with_an_unpaired_surrogate_that_storage_could_not_encode() -> None:
    raw = '{"nbformat": 4, "cells": [{"cell_type": "code", "source": "\\ud800"}]}'

    assert "unpaired surrogate" in rejection(raw).message


def test_it_rejects_a_notebook_over_the_size_limit_and_says_both_sizes() -> None:
    raw = json.dumps(notebook(code("#" * int(12.3 * 1024 * 1024))))

    assert rejection(raw).message == "notebook is 12.3 MB, over the 10.0 MB limit"


def test_a_notebook_just_over_the_limit_is_told_in_exact_bytes() -> None:
    raw = json.dumps(notebook()).encode()

    error = rejection(raw, max_bytes=len(raw) - 1)

    assert error.message == f"notebook is {len(raw)} bytes, over the {len(raw) - 1} bytes limit"


def test_sizes_in_kilobytes_read_as_kilobytes() -> None:
    raw = json.dumps(notebook(code("#" * 3000)))

    assert rejection(raw, max_bytes=2048).message == "notebook is 3.0 KB, over the 2.0 KB limit"


def test_a_notebook_exactly_at_the_limit_is_accepted() -> None:
    raw = json.dumps(notebook(code())).encode()

    parse_notebook(raw, max_bytes=len(raw))


def test_the_size_of_text_is_counted_in_utf8_bytes_not_characters() -> None:
    raw = json.dumps(notebook(markdown("é" * 600)), ensure_ascii=False)
    assert len(raw) < 1024 < len(raw.encode())

    assert "over the 1.0 KB limit" in rejection(raw, max_bytes=1024).message


def test_a_parsed_notebook_is_measured_by_its_json_encoding() -> None:
    doc = notebook(code("#" * 5000))

    assert "over the 4.0 KB limit" in rejection(doc, max_bytes=4096).message


# --- the parameters cell and the language -------------------------------------------------


def tagged(*tags: Any, cell_type: str = "code") -> dict[str, Any]:
    return {"cell_type": cell_type, "metadata": {"tags": list(tags)}, "source": ""}


def test_it_finds_the_first_code_cell_tagged_parameters() -> None:
    nb = notebook(code(), tagged("setup"), tagged("other", "parameters"), tagged("parameters"))

    assert find_parameters_cell(nb) == 2


def test_a_markdown_cell_tagged_parameters_does_not_count() -> None:
    nb = notebook(tagged("parameters", cell_type="markdown"), tagged("parameters"))

    assert find_parameters_cell(nb) == 1


def test_a_notebook_without_a_parameters_cell_has_none() -> None:
    assert find_parameters_cell(notebook(code(), markdown())) is None
    assert find_parameters_cell(notebook()) is None


def test_finding_the_parameters_cell_skips_malformed_tags() -> None:
    odd = {"cell_type": "code", "metadata": {"tags": "parameters"}, "source": ""}

    assert find_parameters_cell(notebook(odd, "junk", tagged("parameters"))) == 2
    assert find_parameters_cell({"cells": None}) is None


@pytest.mark.parametrize(
    ("metadata", "language"),
    [
        ({"kernelspec": {"name": "ir", "language": "R"}}, "r"),
        ({"kernelspec": {"name": "julia-1.9"}, "language_info": {"name": "julia"}}, "julia"),
        ({"kernelspec": {"language": ""}, "language_info": {"name": "python"}}, "python"),
        ({"kernelspec": {"language": "python"}, "language_info": {"name": "R"}}, "python"),
        ({}, "python"),
        ({"kernelspec": "python3", "language_info": {"name": 3}}, "python"),
    ],
)
def test_the_kernel_language_comes_from_kernelspec_then_language_info(
    metadata: dict[str, Any], language: str
) -> None:
    assert kernel_language(notebook(metadata=metadata)) == language


def test_a_notebook_without_metadata_is_taken_to_be_python() -> None:
    assert kernel_language({"cells": []}) == "python"


# --- properties ---------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
cell_ids = st.from_regex(r"[a-zA-Z0-9_-]{1,8}", fullmatch=True) | st.just("cell-0")
sources = st.text(max_size=30) | st.lists(st.text(max_size=10), max_size=3)
# Keys nbformat's schema does not define, whose values it does not check.
metadata = st.dictionaries(st.from_regex(r"x_[a-z]{0,4}", fullmatch=True), json_values, max_size=3)
tags = st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), max_size=3, unique=True)
cell_metadata = st.builds(
    lambda meta, tags: {**meta, "tags": tags} if tags is not None else meta,
    metadata,
    st.none() | tags,
)

valid_cells = st.builds(
    lambda cell_type, source, meta, extra: {
        "cell_type": cell_type,
        "source": source,
        "metadata": meta,
        **extra,
    },
    st.sampled_from(["code", "markdown", "raw"]),
    sources,
    cell_metadata,
    st.fixed_dictionaries(
        {}, optional={"id": cell_ids, "outputs": st.just([]), "execution_count": st.integers(1, 9)}
    ),
)
valid_notebooks = st.builds(
    lambda cells, meta, minor: {
        "nbformat": 4,
        "nbformat_minor": minor,
        "metadata": meta,
        "cells": cells,
    },
    st.lists(valid_cells, max_size=6),
    metadata,
    st.integers(0, 5),
)
# Near misses: the right keys with values that are sometimes wrong, to reach every check.
notebook_like = st.fixed_dictionaries(
    {},
    optional={
        "nbformat": st.just(4) | json_scalars,
        "nbformat_minor": st.integers(-1, 6) | json_scalars,
        "metadata": metadata | json_values,
        "cells": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "cell_type": st.sampled_from(["code", "markdown", "raw", "heading"]),
                    "source": sources | json_values,
                    "metadata": metadata | json_values,
                    "id": cell_ids | json_values,
                    "attachments": json_values,
                },
            )
            | json_values,
            max_size=4,
        )
        | json_values,
    },
)


@settings(max_examples=150, deadline=None)
@given(valid_notebooks)
def test_every_valid_notebook_normalises_to_one_nbformat_accepts_and_stays_put(
    doc: dict[str, Any],
) -> None:
    parsed = parse_notebook(doc, max_bytes=LIMIT)

    nbformat.validate(json.loads(json.dumps(parsed)))
    ids = [cell["id"] for cell in parsed["cells"]]
    assert len(ids) == len(set(ids))
    assert all(CELL_ID.fullmatch(cell_id) for cell_id in ids)
    assert parse_notebook(parsed, max_bytes=LIMIT) == parsed


@settings(max_examples=300, deadline=None)
@given(notebook_like | json_values)
def test_any_json_is_either_a_notebook_or_an_invalid_notebook_error(doc: Any) -> None:
    with contextlib.suppress(InvalidNotebook):
        parse_notebook(json.dumps(doc), max_bytes=LIMIT)


@settings(max_examples=200)
@given(st.binary(max_size=64))
def test_any_bytes_are_either_a_notebook_or_an_invalid_notebook_error(raw: bytes) -> None:
    with contextlib.suppress(InvalidNotebook):
        parse_notebook(raw, max_bytes=LIMIT)
