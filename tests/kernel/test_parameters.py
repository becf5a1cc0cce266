from __future__ import annotations

import keyword
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runyard.kernel.parameters import inject_parameters, render_parameters_source


def run_source(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, "<injected>", "exec"), {"__builtins__": __builtins__}, namespace)
    return namespace


def same(a: Any, b: Any) -> bool:
    """Equality in which nan equals nan and tuples equal lists (as after a JSON trip)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def code_cell(source: str, *tags: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"tags": list(tags)} if tags else {}
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"c{abs(hash(source))}",
        "metadata": metadata,
        "outputs": [],
        "source": source,
    }


def notebook(*cells: dict[str, Any], minor: int = 5) -> dict[str, Any]:
    return {"nbformat": 4, "nbformat_minor": minor, "metadata": {}, "cells": list(cells)}


TRICKY: dict[str, Any] = {
    "flag": True,
    "off": False,
    "nothing": None,
    "count": -3,
    "big": 2**80,
    "ratio": 0.1,
    "tiny": 5e-324,
    "negative_zero": -0.0,
    "not_a_number": float("nan"),
    "infinite": float("inf"),
    "negative_infinite": float("-inf"),
    "greeting": "héllo 'wörld' \"quoted\" \\ back\nslash 😀",
    "surrogate": "\ud800",
    "nested": {"a": [1, 2.5, None, {"b": [True, float("nan")]}], "": {}},
    "empty_list": [],
}


def test_tricky_literals_run_back_to_the_same_values() -> None:
    namespace = run_source(render_parameters_source(TRICKY))

    for name, value in TRICKY.items():
        assert same(namespace[name], value), name


def test_special_floats_are_rendered_as_float_calls() -> None:
    source = render_parameters_source({"a": float("nan"), "b": float("-inf")})

    assert "a = float('nan')" in source
    assert "b = float('-inf')" in source


def test_tuples_are_rendered_as_lists() -> None:
    assert "t = [1, [2]]" in render_parameters_source({"t": (1, (2,))})


def test_enum_subclasses_are_rendered_as_their_base_values() -> None:
    import enum

    class Colour(enum.StrEnum):
        RED = "red"

    class Size(enum.IntEnum):
        BIG = 3

    namespace = run_source(render_parameters_source({"c": Colour.RED, "s": Size.BIG}))

    assert namespace == {"c": "red", "s": 3}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)


names = st.text(alphabet="abcxyz_", min_size=1, max_size=6).filter(str.isidentifier)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(names, json_values))
def test_any_json_value_runs_back_to_itself(params: dict[str, Any]) -> None:
    params = {k: v for k, v in params.items() if not keyword.iskeyword(k)}
    namespace = run_source(render_parameters_source(params))

    assert same(namespace, params)


@pytest.mark.parametrize("name", ["not valid", "1st", "class", "", "x-y"])
def test_a_name_that_is_not_an_identifier_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid Python identifier"):
        render_parameters_source({name: 1})


def test_a_value_that_is_not_plain_data_is_refused() -> None:
    with pytest.raises(TypeError, match="set"):
        render_parameters_source({"s": {1, 2}})


def test_the_injected_cell_follows_the_parameters_cell() -> None:
    original = notebook(code_cell("import os"), code_cell("x = 1", "parameters"), code_cell("x"))

    injected = inject_parameters(original, {"x": 2})

    sources = [cell["source"] for cell in injected["cells"]]
    assert sources == ["import os", "x = 1", "# Parameters\nx = 2\n", "x"]
    assert injected["cells"][2]["metadata"]["tags"] == ["injected-parameters"]
    assert injected["cells"][2]["id"]


def test_without_a_parameters_cell_the_injected_cell_comes_first() -> None:
    injected = inject_parameters(notebook(code_cell("print(x)")), {"x": 2})

    assert injected["cells"][0]["source"] == "# Parameters\nx = 2\n"


def test_a_previous_injected_cell_is_replaced() -> None:
    original = notebook(
        code_cell("x = 1", "parameters"), code_cell("x = 5", "injected-parameters"), code_cell("x")
    )

    injected = inject_parameters(original, {"x": 2})

    assert [cell["source"] for cell in injected["cells"]][1:] == ["# Parameters\nx = 2\n", "x"]


def test_no_parameters_means_no_injected_cell() -> None:
    original = notebook(code_cell("x = 1", "parameters"))

    assert inject_parameters(original, {}) == original


def test_the_original_notebook_is_not_mutated() -> None:
    original = notebook(code_cell("x = 1", "parameters"))
    before = repr(original)

    injected = inject_parameters(original, {"x": 2})
    injected["cells"][0]["metadata"]["tags"].append("changed")

    assert repr(original) == before


def test_notebooks_older_than_4_5_get_no_cell_id() -> None:
    original = notebook(minor=4)

    injected = inject_parameters(original, {"x": 2})

    assert "id" not in injected["cells"][0]
