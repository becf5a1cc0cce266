from __future__ import annotations

import contextlib
import json
import math
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runyard.domain.parameters import (
    ParameterSpec,
    ParamType,
    bound_values,
    parameters_schema,
    parse_parameters_source,
    validate_inputs,
    values_key,
)
from runyard.errors import InvalidInputParams, InvalidNotebook, InvalidParam


def only(source: str) -> ParameterSpec:
    [spec] = parse_parameters_source(source)
    return spec


def refusal(source: str) -> InvalidNotebook:
    with pytest.raises(InvalidNotebook) as caught:
        parse_parameters_source(source)
    return caught.value


def spec(data_type: ParamType, *, nullable: bool = False, name: str = "p") -> ParameterSpec:
    return ParameterSpec(name, data_type, None, None, nullable)


def invalid(data_type: ParamType, value: Any, *, nullable: bool = False) -> InvalidParam:
    with pytest.raises(InvalidInputParams) as caught:
        validate_inputs([spec(data_type, nullable=nullable)], {"p": value})
    [problem] = caught.value.invalid
    return problem


# --- reading the parameters cell: types from literals ---------------------------------------


@pytest.mark.parametrize(
    ("literal", "data_type", "default"),
    [
        ("10", ParamType.INT, 10),
        ("-3", ParamType.INT, -3),
        ("2.5", ParamType.FLOAT, 2.5),
        ("-1e-3", ParamType.FLOAT, -0.001),
        ("'eu-west'", ParamType.STR, "eu-west"),
        ('"""multi\nline"""', ParamType.STR, "multi\nline"),
        ("True", ParamType.BOOL, True),
        ("False", ParamType.BOOL, False),
        ("[1, 'a', None]", ParamType.LIST, [1, "a", None]),
        ('{"k": [1.5, {"n": False}]}', ParamType.DICT, {"k": [1.5, {"n": False}]}),
        ("None", ParamType.NONE, None),
    ],
)
def test_the_type_comes_from_the_literal(literal: str, data_type: ParamType, default: Any) -> None:
    declared = only(f"x = {literal}")

    assert declared == ParameterSpec("x", data_type, default, None, default is None)


def test_an_iso_date_string_without_an_annotation_stays_a_string() -> None:
    assert only('day = "2024-01-31"').data_type is ParamType.STR


def test_declarations_come_back_in_source_order_among_comments_and_docstrings() -> None:
    source = '''"""Inputs of the daily report."""
# how many rows to fetch
limit = 100

"the region to report on"
region = "eu"  # a trailing comment
'''

    assert [p.name for p in parse_parameters_source(source)] == ["limit", "region"]


@pytest.mark.parametrize("source", ["", "\n\n", "# nothing here\n", '"""Just a docstring."""'])
def test_a_cell_without_assignments_declares_nothing(source: str) -> None:
    assert parse_parameters_source(source) == []


def test_a_value_may_span_several_lines() -> None:
    assert only('cols = [\n    "a",\n    "b",\n]\n').default == ["a", "b"]


# --- reading the parameters cell: annotations ----------------------------------------------


@pytest.mark.parametrize(
    ("source", "data_type"),
    [
        ("x: float = 1", ParamType.FLOAT),
        ("x: int = 1", ParamType.INT),
        ("x: str = 'a'", ParamType.STR),
        ("x: bool = True", ParamType.BOOL),
        ("x: list = []", ParamType.LIST),
        ("x: list[int] = [1]", ParamType.LIST),
        ("x: List[str] = ['a']", ParamType.LIST),
        ("x: dict[str, int] = {}", ParamType.DICT),
        ("x: typing.Dict = {}", ParamType.DICT),
        ("x: date = '2024-01-31'", ParamType.DATE),
        ("x: datetime.date = '2024-01-31'", ParamType.DATE),
        ("x: datetime = '2024-01-31T09:30:00'", ParamType.DATETIME),
        ("x: datetime.datetime = '2024-01-31T09:30:00+02:00'", ParamType.DATETIME),
        ("x: 'float' = 1", ParamType.FLOAT),
        ("x: int | float = 1", ParamType.FLOAT),
        ("x: Annotated[int, 'rows'] = 1", ParamType.INT),
    ],
)
def test_a_recognised_annotation_decides_the_type(source: str, data_type: ParamType) -> None:
    declared = only(source)

    assert declared.data_type is data_type
    assert declared.nullable is False


def test_the_annotation_is_recorded_as_written() -> None:
    assert only("x: Optional[int] = 3").annotation == "Optional[int]"
    assert only("x = 3").annotation is None


def test_the_default_is_kept_as_written_even_when_the_annotation_widens_it() -> None:
    declared = only("ratio: float = 1")

    assert declared.default == 1
    assert isinstance(declared.default, int)


@pytest.mark.parametrize(
    "source",
    [
        "x: int = None",
        "x: Optional[int] = None",
        "x: typing.Optional[int] = 5",
        "x: int | None = None",
        "x: None | int = 5",
        "x: Union[int, None] = None",
        "x: 'int | None' = 5",
    ],
)
def test_none_in_the_annotation_or_default_makes_an_int_nullable(source: str) -> None:
    declared = only(source)

    assert declared.data_type is ParamType.INT
    assert declared.nullable is True


@pytest.mark.parametrize("annotation", ["Any", "typing.Any", "object", "None"])
def test_an_annotation_that_admits_anything_reads_as_nonetype(annotation: str) -> None:
    declared = only(f"x: {annotation} = None")

    assert declared.data_type is ParamType.NONE
    assert declared.nullable is True


@pytest.mark.parametrize(
    ("source", "data_type", "nullable"),
    [
        ("x: MyEnum = 'red'", ParamType.STR, False),
        ("x: Literal['a', 'b'] = 'a'", ParamType.STR, False),
        ("x: int | str = 5", ParamType.INT, False),
        ("x: Optional[pd.Timestamp] = None", ParamType.NONE, True),
        ("x: 'not valid python(' = 1.5", ParamType.FLOAT, False),
    ],
)
def test_an_unrecognised_annotation_is_kept_but_the_default_decides_the_type(
    source: str, data_type: ParamType, nullable: bool
) -> None:
    declared = only(source)

    assert (declared.data_type, declared.nullable) == (data_type, nullable)
    assert declared.annotation is not None


# --- reading the parameters cell: refusals -------------------------------------------------


def test_a_function_call_is_not_a_literal() -> None:
    error = refusal("a = 1\n\nx = foo()\n")

    assert error.message == (
        "parameters cell line 3: `x = foo()` is not a literal;"
        " the parameters cell may contain only literal assignments"
    )


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("x = other", "`x = other` is not a literal"),
        ("x = f'{y}'", "is not a literal"),
        ("x = 1 + 2", "is not a literal"),
        ("x = [*rest]", "is not a literal"),
        ("x = {**base}", "is not a literal"),
        ("x = lambda: 1", "is not a literal"),
        ("import os", "`import os` is an import (move it to another cell)"),
        ("from pathlib import Path", "is an import"),
        ("x += 1", "`x += 1` is an augmented assignment"),
        ("for i in []:\n    pass", "`for i in []: …` is a loop"),
        ("while False:\n    pass", "is a loop"),
        ("def f():\n    return 1", "is a definition"),
        ("if True:\n    x = 1", "is a if statement"),
        ("pass", "is a pass statement"),
        ("print(1)", "`print(1)` is an expression, not an assignment"),
        ("a = b = 1", "`a = b = 1` assigns several names at once"),
        ("a, b = 1, 2", "unpacks into several names"),
        ("[a, b] = [1, 2]", "unpacks into several names"),
        ("cfg.x = 1", "assigns to cfg.x, not to a plain name"),
        ("d['k'] = 1", "assigns to d['k'], not to a plain name"),
        ("x: int", "`x: int` has no default value"),
        ("x = (1, 2)", "holds a tuple; write a list [...] instead"),
        ("x = [1, (2,)]", "holds a tuple"),
        ("x = {1, 2}", "holds a set"),
        ("x = set()", "holds a set"),
        ("x = b'raw'", "holds bytes"),
        ("x = 1j", "holds a complex"),
        ("x = ...", "holds a ellipsis"),
        ("x = {1: 'a'}", "holds a dict key that is not a string (1)"),
        ("x = {'a': {None: 1}}", "holds a dict key that is not a string (None)"),
        ("x = 1e999", "holds inf, which is not a finite number"),
        ("x = [-1e999]", "holds -inf"),
        ("x: int = 'ten'", "`x: int = 'ten'` has a default, 'ten', that is not an int"),
        ("x: int = 1.0", "has a default, 1.0, that is not an int"),
        ("x: int = True", "has a default, true, that is not an int"),
        ("x: float = '1.5'", "that is not a float"),
        ("x: bool = 0", "that is not a bool"),
        ("x: str = 5", "that is not a str"),
        ("x: list = {}", "that is not a list"),
        ("x: dict = []", "that is not a dict"),
        ("x: date = '2024-02-30'", "that is not an ISO date string"),
        ("x: date = 20240131", "that is not an ISO date string"),
        ("x: datetime = 'tomorrow'", "that is not an ISO datetime string"),
    ],
)
def test_anything_but_a_literal_assignment_is_refused_with_a_reason(
    source: str, reason: str
) -> None:
    message = refusal(source).message

    assert message.startswith("parameters cell line 1: `")
    assert reason in message


def test_a_date_built_by_a_call_points_to_the_iso_string_form() -> None:
    message = refusal("day = datetime.date(2024, 1, 31)").message

    assert 'write dates as ISO strings: `day: date = "2024-01-01"`' in message


def test_a_name_declared_twice_is_refused_naming_both_lines() -> None:
    error = refusal("x = 1\ny = 2\nx = 'one'\n")

    assert error.message == (
        "parameters cell line 3: `x = 'one'` declares x again (first on line 1);"
        " declare each parameter once"
    )


def test_every_problem_of_the_cell_is_reported_at_once() -> None:
    error = refusal("a = 1\nb = foo()\nimport os\nc = 3\nd = (1,)\n")

    assert error.message.endswith("(and 2 more problems)")
    assert [issue.split(":")[0] for issue in error.issues] == [
        "parameters cell line 2",
        "parameters cell line 3",
        "parameters cell line 5",
    ]


def test_a_long_or_multiline_statement_is_quoted_by_its_shortened_first_line() -> None:
    long_call = "x = compute(" + ", ".join(str(n) for n in range(40)) + ")"

    assert "`x = compute(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 1…`" in (
        refusal(long_call).message
    )
    assert "`x = foo( …`" in refusal("x = foo(\n    1,\n)").message


@pytest.mark.parametrize(
    ("source", "where"),
    [
        ("a = 1\nb = = 2\n", "parameters cell line 2: invalid syntax"),
        ("%matplotlib inline\n", "parameters cell line 1: invalid syntax"),
        ("x = 1\n  y = 2\n", "parameters cell line 2: unexpected indent"),
    ],
)
def test_a_syntax_error_is_reported_with_its_line(source: str, where: str) -> None:
    assert refusal(source).message == f"{where}; the parameters cell must be valid Python"


def test_text_python_cannot_even_read_is_an_invalid_notebook() -> None:
    assert refusal("x = 1\0").message.startswith("parameters cell")
    assert refusal("x = '\ud800'").message.startswith("parameters cell")


def test_an_integer_beyond_pythons_digit_limit_is_a_syntax_error_not_a_crash() -> None:
    assert refusal("x = " + "9" * 5000).message.startswith("parameters cell line 1:")


def test_absurdly_nested_literals_are_refused_not_a_crash() -> None:
    refusal("x = " + "[" * 5000 + "]" * 5000)


# --- the spec ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data_type", "input_cell_type"),
    [
        (ParamType.INT, "NUMERIC_INPUT"),
        (ParamType.FLOAT, "NUMERIC_INPUT"),
        (ParamType.STR, "TEXT_INPUT"),
        (ParamType.BOOL, "CHECKBOX"),
        (ParamType.LIST, "MULTISELECT"),
        (ParamType.DICT, "TEXT_INPUT"),
        (ParamType.NONE, "TEXT_INPUT"),
        (ParamType.DATE, "DATE_INPUT"),
        (ParamType.DATETIME, "DATE_INPUT"),
    ],
)
def test_each_type_maps_to_a_hex_input_cell_type(
    data_type: ParamType, input_cell_type: str
) -> None:
    assert data_type.input_cell_type == input_cell_type
    assert spec(data_type).input_cell_type == input_cell_type


def test_data_types_are_reported_by_their_python_names() -> None:
    assert [t.value for t in ParamType] == [
        "int",
        "float",
        "str",
        "bool",
        "list",
        "dict",
        "NoneType",
        "date",
        "datetime",
    ]


def test_a_spec_survives_a_trip_through_json_storage() -> None:
    declared = only("cols: Optional[list[str]] = ['a', 'b']")

    stored = json.loads(json.dumps(declared.to_dict()))

    assert stored == {
        "name": "cols",
        "data_type": "list",
        "default": ["a", "b"],
        "annotation": "Optional[list[str]]",
        "nullable": True,
    }
    assert ParameterSpec.from_dict(stored) == declared


def test_to_dict_does_not_share_the_default_with_the_spec() -> None:
    declared = only("cols = ['a']")

    declared.to_dict()["default"].append("b")

    assert declared.default == ["a"]


def test_from_dict_refuses_an_unknown_type() -> None:
    with pytest.raises(ValueError, match="'decimal'"):
        ParameterSpec.from_dict({"name": "x", "data_type": "decimal", "default": 1})


def test_the_schema_is_camel_cased_and_json_ready() -> None:
    specs = parse_parameters_source('limit = 10\nday: date | None = "2024-01-31"\n')

    schema = parameters_schema(specs)

    assert schema == [
        {
            "name": "limit",
            "dataType": "int",
            "default": 10,
            "inputCellType": "NUMERIC_INPUT",
            "nullable": False,
            "annotation": None,
        },
        {
            "name": "day",
            "dataType": "date",
            "default": "2024-01-31",
            "inputCellType": "DATE_INPUT",
            "nullable": True,
            "annotation": "date | None",
        },
    ]
    assert json.loads(json.dumps(schema)) == schema


# --- validating run inputs: coercion ------------------------------------------------------


@pytest.mark.parametrize(
    ("data_type", "given", "expected"),
    [
        (ParamType.INT, 10, 10),
        (ParamType.INT, -3, -3),
        (ParamType.INT, 3.0, 3),
        (ParamType.INT, "10", 10),
        (ParamType.INT, " -42 ", -42),
        (ParamType.INT, "+7", 7),
        (ParamType.FLOAT, 2.5, 2.5),
        (ParamType.FLOAT, 2, 2.0),
        (ParamType.FLOAT, "2.5", 2.5),
        (ParamType.FLOAT, "-1e3", -1000.0),
        (ParamType.FLOAT, ".5", 0.5),
        (ParamType.FLOAT, "7", 7.0),
        (ParamType.STR, "hello", "hello"),
        (ParamType.STR, "", ""),
        (ParamType.BOOL, True, True),
        (ParamType.BOOL, False, False),
        (ParamType.BOOL, "true", True),
        (ParamType.BOOL, "FALSE", False),
        (ParamType.BOOL, "Yes", True),
        (ParamType.BOOL, "no", False),
        (ParamType.BOOL, "1", True),
        (ParamType.BOOL, " 0 ", False),
        (ParamType.LIST, [1, "a"], [1, "a"]),
        (ParamType.LIST, [], []),
        (ParamType.DICT, {"a": [1]}, {"a": [1]}),
        (ParamType.DATE, "2024-01-31", "2024-01-31"),
        (ParamType.DATE, "20240131", "2024-01-31"),
        (ParamType.DATETIME, "2024-01-31T09:30:00", "2024-01-31T09:30:00"),
        (ParamType.DATETIME, "2024-01-31 09:30", "2024-01-31T09:30:00"),
        (ParamType.DATETIME, "2024-01-31T09:30:00Z", "2024-01-31T09:30:00+00:00"),
        (ParamType.DATETIME, "2024-01-31", "2024-01-31T00:00:00"),
        (ParamType.NONE, {"any": ["thing"]}, {"any": ["thing"]}),
        (ParamType.NONE, None, None),
        (ParamType.NONE, "text", "text"),
    ],
)
def test_inputs_are_coerced_to_the_declared_type(
    data_type: ParamType, given: Any, expected: Any
) -> None:
    coerced = validate_inputs([spec(data_type)], {"p": given})["p"]

    assert coerced == expected
    assert type(coerced) is type(expected)


@pytest.mark.parametrize(
    ("data_type", "given", "reason"),
    [
        (ParamType.INT, "ten", "expected an integer, got 'ten'"),
        (ParamType.INT, True, "expected an integer, got true"),
        (ParamType.INT, 2.5, "expected an integer, got 2.5"),
        (ParamType.INT, "2.0", "expected an integer, got '2.0'"),
        (ParamType.INT, "1_000", "expected an integer, got '1_000'"),
        (ParamType.INT, "", "expected an integer, got ''"),
        (ParamType.INT, float("inf"), "expected an integer, got inf"),
        (ParamType.INT, "9" * 5000, "expected an integer, got '9999"),
        (ParamType.INT, [1], "expected an integer, got a list"),
        (ParamType.FLOAT, False, "expected a number, got false"),
        (ParamType.FLOAT, "1,5", "expected a number, got '1,5'"),
        (ParamType.FLOAT, "nan", "expected a number, got 'nan'"),
        (ParamType.FLOAT, "inf", "expected a number, got 'inf'"),
        (ParamType.FLOAT, "1e999", "expected a finite number, got '1e999'"),
        (ParamType.FLOAT, float("nan"), "expected a finite number, got nan"),
        (ParamType.FLOAT, 10**400, "expected a finite number, got a very large integer"),
        (ParamType.FLOAT, {}, "expected a number, got an object"),
        (ParamType.STR, 5, "expected a string, got 5"),
        (ParamType.STR, None, "expected a string, got null"),
        (ParamType.STR, ["a"], "expected a string, got a list"),
        (ParamType.BOOL, 1, "expected true or false, got 1"),
        (ParamType.BOOL, "maybe", "expected true or false, got 'maybe'"),
        (ParamType.LIST, "[1, 2]", "expected a list, got '[1, 2]'"),
        (ParamType.LIST, {"a": 1}, "expected a list, got an object"),
        (ParamType.DICT, [], "expected an object, got a list"),
        (ParamType.DICT, '{"a": 1}', "expected an object, got '{\"a\": 1}'"),
        (
            ParamType.LIST,
            [1, float("nan")],
            "expected a list of JSON values, but it holds nan, which is not a finite number",
        ),
        (
            ParamType.DICT,
            {"a": [float("inf")]},
            "expected an object of JSON values, but it holds inf",
        ),
        (ParamType.NONE, float("-inf"), "expected a JSON value, but it holds -inf"),
        (ParamType.NONE, {"a": (1, 2)}, "expected a JSON value, but it holds a tuple"),
        (ParamType.DATE, "2024-02-30", "expected an ISO date (YYYY-MM-DD), got '2024-02-30'"),
        (ParamType.DATE, "2024-01-31T10:00:00", "expected an ISO date (YYYY-MM-DD)"),
        (ParamType.DATE, "31/01/2024", "expected an ISO date (YYYY-MM-DD)"),
        (ParamType.DATE, 20240131, "expected an ISO date (YYYY-MM-DD), got 20240131"),
        (ParamType.DATETIME, "yesterday", "expected an ISO datetime (YYYY-MM-DDTHH:MM:SS)"),
        (ParamType.DATETIME, 1706700000, "expected an ISO datetime"),
    ],
)
def test_a_value_that_does_not_fit_is_reported_with_a_reason(
    data_type: ParamType, given: Any, reason: str
) -> None:
    assert invalid(data_type, given).reason.startswith(reason)


def test_an_invalid_param_carries_what_hex_reports() -> None:
    specs = parse_parameters_source("limit = 100\n")

    with pytest.raises(InvalidInputParams) as caught:
        validate_inputs(specs, {"limit": "ten"})

    assert caught.value.invalid == [
        InvalidParam(
            param_name="limit",
            param_value="ten",
            data_type="int",
            input_cell_type="NUMERIC_INPUT",
            reason="expected an integer, got 'ten'",
        )
    ]
    assert caught.value.issues == ["inputParams.limit: expected an integer, got 'ten'"]


def test_unknown_names_are_reported_as_not_found() -> None:
    specs = parse_parameters_source("limit = 100\n")

    with pytest.raises(InvalidInputParams) as caught:
        validate_inputs(specs, {"limt": 5, "region": "eu"})

    assert caught.value.not_found == ["limt", "region"]
    assert caught.value.invalid == []


def test_every_problem_is_reported_at_once() -> None:
    specs = parse_parameters_source("a = 1\nb = True\nc = 'x'\n")

    with pytest.raises(InvalidInputParams) as caught:
        validate_inputs(specs, {"a": "one", "b": "maybe", "c": "fine", "zz": 0})

    assert [p.param_name for p in caught.value.invalid] == ["a", "b"]
    assert caught.value.not_found == ["zz"]


def test_a_notebook_without_parameters_accepts_no_inputs() -> None:
    assert validate_inputs([], {}) == {}
    with pytest.raises(InvalidInputParams) as caught:
        validate_inputs([], {"x": 1})
    assert caught.value.not_found == ["x"]


def test_only_the_inputs_given_come_back_not_the_defaults() -> None:
    specs = parse_parameters_source("a = 1\nb = 2\n")

    assert validate_inputs(specs, {"b": "5"}) == {"b": 5}


def test_none_is_accepted_only_where_the_declaration_allows_it() -> None:
    specs = parse_parameters_source("a: int = None\nb: str | None = 'x'\nc = 1\n")

    assert validate_inputs(specs, {"a": None, "b": None}) == {"a": None, "b": None}
    assert invalid(ParamType.INT, None).reason == "expected an integer, got null"


def test_a_nullable_spec_still_checks_values_that_are_not_none() -> None:
    assert invalid(ParamType.INT, "x", nullable=True).reason == "expected an integer, got 'x'"


def test_the_reported_value_is_the_one_given_not_a_coerced_one() -> None:
    assert invalid(ParamType.INT, ["1"]).param_value == ["1"]


def test_long_strings_are_shortened_in_reasons() -> None:
    reason = invalid(ParamType.INT, "x" * 500).reason

    assert len(reason) < 80
    assert reason.endswith("…'")


# --- properties ---------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
# What Python's json module can hand over, NaN and Infinity included.
loose_json_values = st.recursive(
    json_scalars | st.floats() | st.integers() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
specs_strategy = st.lists(
    st.builds(
        ParameterSpec,
        name=st.sampled_from(["a", "b", "c", "d"]),
        data_type=st.sampled_from(list(ParamType)),
        default=st.none(),
        annotation=st.none(),
        nullable=st.booleans(),
    ),
    max_size=4,
    unique_by=lambda s: s.name,
)
LITERAL_TYPES = {
    bool: ParamType.BOOL,
    int: ParamType.INT,
    float: ParamType.FLOAT,
    str: ParamType.STR,
    list: ParamType.LIST,
    dict: ParamType.DICT,
    type(None): ParamType.NONE,
}


@given(json_values)
def test_any_json_literal_reads_back_as_its_own_default_and_type(value: Any) -> None:
    declared = only(f"x = {value!r}")

    assert declared.default == value
    assert declared.data_type is LITERAL_TYPES[type(value)]


annotated_literals = st.one_of(
    st.tuples(st.just("int"), st.integers(min_value=-(10**30), max_value=10**30)),
    st.tuples(st.just("float"), st.floats(allow_nan=False, allow_infinity=False) | st.integers()),
    st.tuples(st.just("str"), st.text(max_size=12)),
    st.tuples(st.just("bool"), st.booleans()),
    st.tuples(st.just("list"), st.lists(json_values, max_size=3)),
    st.tuples(st.just("dict"), st.dictionaries(st.text(max_size=6), json_values, max_size=3)),
    st.tuples(st.sampled_from(["date", "datetime.date"]), st.dates().map(date.isoformat)),
    st.tuples(
        st.sampled_from(["datetime", "datetime.datetime"]),
        st.datetimes(timezones=st.none() | st.just(UTC)).map(datetime.isoformat),
    ),
)


@given(annotated_literals)
def test_a_literal_that_fits_its_annotation_reads_back_with_the_annotated_type(
    annotated: tuple[str, Any],
) -> None:
    annotation, value = annotated

    declared = only(f"x: {annotation} = {value!r}")

    assert declared.data_type is ParamType(annotation.removeprefix("datetime."))
    assert declared.default == value
    assert declared.annotation == annotation


@given(json_values, st.sampled_from(["", ": Optional[int]", ": list[str] | None", ": Any"]))
def test_a_spec_from_any_cell_survives_json_storage(value: Any, annotation: str) -> None:
    with contextlib.suppress(InvalidNotebook):
        declared = only(f"x{annotation} = {value!r}")
        stored = json.loads(json.dumps(declared.to_dict()))
        assert ParameterSpec.from_dict(stored) == declared


@settings(max_examples=300)
@given(
    st.text(max_size=60)
    | st.lists(
        st.sampled_from(
            [
                "x = 1",
                "x: int = None",
                "y = [1, {'a': (2,)}]",
                "import os",
                "z = foo()",
                "  w = 2",
                "# c",
                '"""doc"""',
                "v: date = '2024-13-01'",
                "u: Optional[] = 1",
                "t = -",
                "s = {1: 2}",
            ]
        ),
        max_size=6,
    ).map("\n".join)
)
def test_any_text_either_declares_parameters_or_is_an_invalid_notebook(source: str) -> None:
    with contextlib.suppress(InvalidNotebook):
        for declared in parse_parameters_source(source):
            json.dumps(declared.to_dict(), allow_nan=False)


@settings(max_examples=300)
@given(specs_strategy, st.dictionaries(st.sampled_from("abcdez"), loose_json_values, max_size=5))
def test_validating_any_json_raises_nothing_but_invalid_input_params(
    specs: list[ParameterSpec], inputs: dict[str, Any]
) -> None:
    with contextlib.suppress(InvalidInputParams):
        coerced = validate_inputs(specs, inputs)
        assert set(coerced) == set(inputs)


@settings(max_examples=300)
@given(specs_strategy, st.dictionaries(st.sampled_from("abcd"), loose_json_values, max_size=4))
def test_coerced_inputs_are_accepted_again_unchanged(
    specs: list[ParameterSpec], inputs: dict[str, Any]
) -> None:
    try:
        coerced = validate_inputs(specs, inputs)
    except InvalidInputParams:
        return

    again = validate_inputs(specs, coerced)

    assert json.dumps(again) == json.dumps(coerced)


@given(st.floats() | st.text(max_size=12) | st.integers())
def test_a_float_input_is_always_finite(value: Any) -> None:
    with contextlib.suppress(InvalidInputParams):
        assert math.isfinite(validate_inputs([spec(ParamType.FLOAT)], {"p": value})["p"])


def test_inputs_that_bind_the_same_values_share_a_key_whatever_they_spell_out() -> None:
    specs = parse_parameters_source("n = 1\nratio: float = 1\nregion = 'EU'")
    spelled = bound_values(specs, {"n": 1, "region": "EU"})
    assert values_key(spelled) == values_key(bound_values(specs, {}))
    assert bound_values(specs, {"region": "US"})["n"] == 1
    # A notebook prints 1 and 1.0 differently: they are different values here too.
    assert values_key(bound_values(specs, {"ratio": 1.0})) != values_key(bound_values(specs, {}))
