"""A notebook's input parameters: declared papermill-style, checked when a run is triggered.

The `parameters`-tagged cell declares each input as a literal assignment; the literal gives
the default and (unless an annotation says otherwise) the type:

    limit = 100                    # int
    ratio: float = 1               # float: the annotation wins
    region = "eu"                  # str
    day: date = "2024-01-01"       # date, written as an ISO string
    owner: str | None = None       # str that may be None

Run inputs arrive as JSON (or as strings from `runyard run --param k=v`); `validate_inputs`
coerces them to the declared types and reports every problem at once, in the shape of Hex's
422 `InvalidParamPayload`. Everything a parameter can hold is a JSON value, because inputs
travel through the API, the database and the broker as JSON.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from runyard.errors import InvalidInputParams, InvalidNotebook, InvalidParam


class ParamType(StrEnum):
    """A parameter's type; the value is what Hex's `dataType` field reports."""

    INT = "int"
    FLOAT = "float"
    STR = "str"
    BOOL = "bool"
    LIST = "list"
    DICT = "dict"
    NONE = "NoneType"  # declared as `x = None`: any JSON value is accepted
    DATE = "date"  # an ISO date string, YYYY-MM-DD
    DATETIME = "datetime"  # an ISO 8601 datetime string

    @property
    def input_cell_type(self) -> str:
        """The Hex input cell type that would hold a value of this type (`inputCellType`)."""
        return _INPUT_CELL_TYPES.get(self, "TEXT_INPUT")


_INPUT_CELL_TYPES = {
    ParamType.INT: "NUMERIC_INPUT",
    ParamType.FLOAT: "NUMERIC_INPUT",
    ParamType.STR: "TEXT_INPUT",
    ParamType.BOOL: "CHECKBOX",
    ParamType.LIST: "MULTISELECT",
    ParamType.DATE: "DATE_INPUT",
    ParamType.DATETIME: "DATE_INPUT",
}


@dataclass(frozen=True)
class ParameterSpec:
    """One declared parameter.

    `default` is the literal as written in the cell (a date stays the string it was written
    as), and is always a JSON value. `annotation` is the annotation's source text, or None.
    `nullable` is True when None is an accepted value: the default is None, the annotation
    is Optional/`| None`, or the type is NoneType.
    """

    name: str
    data_type: ParamType
    default: Any
    annotation: str | None = None
    nullable: bool = False

    @property
    def input_cell_type(self) -> str:
        return self.data_type.input_cell_type

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for storage; `from_dict` reads it back to an equal spec."""
        return {
            "name": self.name,
            "data_type": self.data_type.value,
            "default": copy.deepcopy(self.default),
            "annotation": self.annotation,
            "nullable": self.nullable,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParameterSpec:
        """Inverse of `to_dict`. Raises KeyError or ValueError on a dict it did not write."""
        return cls(
            name=str(data["name"]),
            data_type=ParamType(data["data_type"]),
            default=copy.deepcopy(data.get("default")),
            annotation=data.get("annotation"),
            nullable=bool(data.get("nullable", False)),
        )


def parse_parameters_source(source: str) -> list[ParameterSpec]:
    """Read the declarations of a Python parameters cell, in source order.

    Allowed: `name = <literal>` and `name: <annotation> = <literal>`, one name per statement;
    comments, blank lines and bare strings (a docstring). A literal is anything
    `ast.literal_eval` reads that is also a JSON value: numbers (negative ones too, but
    finite), strings, True/False/None, and lists and dicts (string keys) of those. Tuples and
    sets are refused rather than turned into lists, because the cell itself would still bind
    a tuple while injected inputs would be lists, so code that works with the default would
    break with an input.

    The type is the literal's, unless the annotation names one of: int, float, str, bool,
    list, dict (also `list[int]`, `List[str]`, … — elements are not checked), date or
    `datetime.date`, datetime or `datetime.datetime`, Any/object (NoneType, i.e. anything).
    `Optional[T]`, `T | None`, `Union[T, None]` and `x: T = None` make it nullable, and
    `int | float` reads as float. An annotation outside that list (a class of the user's,
    a union of several types) is recorded but the type comes from the default. When the
    annotation decides the type the default must fit it exactly (`x: int = "3"` is an
    error): the cell is code the author controls, and it runs as written.

    A name declared twice is an error, though Python would let the last one win: it is
    nearly always a copy-paste slip, and the two declarations may disagree on the type.

    Raises InvalidNotebook naming the line and the reason (`parameters cell line 3: `x =
    foo()` is not a literal; …`), with every problem of the cell in `issues`.
    """
    try:
        module = ast.parse(source, filename="<parameters cell>")
    except SyntaxError as exc:
        where = f"parameters cell line {exc.lineno}" if exc.lineno else "parameters cell"
        raise InvalidNotebook(
            f"{where}: {exc.msg}; the parameters cell must be valid Python"
        ) from exc
    except (ValueError, RecursionError) as exc:
        # ValueError: NUL bytes or unencodable text; RecursionError: absurd nesting.
        raise InvalidNotebook(f"parameters cell: cannot be parsed as Python ({exc})") from exc

    specs: list[ParameterSpec] = []
    declared_on: dict[str, int] = {}
    problems: list[str] = []
    for statement in module.body:
        where = f"parameters cell line {statement.lineno}: `{_snippet(source, statement)}`"
        try:
            spec = _read_statement(statement)
        except _RefusedError as refused:
            problems.append(f"{where} {refused}")
            continue
        if spec is None:
            continue
        if spec.name in declared_on:
            problems.append(
                f"{where} declares {spec.name} again (first on line {declared_on[spec.name]});"
                " declare each parameter once"
            )
            continue
        declared_on[spec.name] = statement.lineno
        specs.append(spec)
    if problems:
        message = problems[0]
        if len(problems) > 1:
            more = len(problems) - 1
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise InvalidNotebook(message, issues=problems)
    return specs


def validate_inputs(
    specs: Sequence[ParameterSpec], input_params: Mapping[str, Any]
) -> dict[str, Any]:
    """Coerce run inputs to their declared types; return only the inputs given.

    Defaults are not filled in: the parameters cell already binds them, and the run records
    what the caller asked for. Values are JSON values, or strings from the CLI, hence the
    string forms accepted below:

    - int: an int (not a bool), an integral float (3.0 → 3), a string of digits ("10");
    - float: an int or a float (not a bool), a decimal string ("2.5", "1e3"); always
      returns a float; NaN and infinities are refused in every form, as JSON has none;
    - str: a string only; a number is refused rather than silently turned into text;
    - bool: a bool, or true/false/yes/no/1/0 as a string, in any case;
    - list, dict: a list, a dict (no JSON-in-a-string);
    - date: an ISO date string, returned as YYYY-MM-DD;
    - datetime: an ISO 8601 datetime string (a date alone means midnight), returned in
      `datetime.isoformat()` form;
    - NoneType: any JSON value, unchanged; and None for any nullable spec.

    Lists, dicts and NoneType values must be strict JSON all the way down: Python's json
    module lets NaN and Infinity through, the runs table and the kernel would not.

    Raises InvalidInputParams listing every unknown name (`not_found`) and every value that
    does not fit (`invalid`, with the value as given), never stopping at the first.
    """
    by_name = {spec.name: spec for spec in specs}
    coerced: dict[str, Any] = {}
    invalid: list[InvalidParam] = []
    not_found: list[str] = []
    for name, value in input_params.items():
        spec = by_name.get(name)
        if spec is None:
            not_found.append(name)
            continue
        if value is None and spec.nullable:
            coerced[name] = None
            continue
        try:
            coerced[name] = _COERCERS[spec.data_type](value)
        except _RefusedError as refused:
            invalid.append(
                InvalidParam(
                    param_name=name,
                    param_value=value,
                    data_type=spec.data_type.value,
                    input_cell_type=spec.input_cell_type,
                    reason=str(refused),
                )
            )
    if invalid or not_found:
        raise InvalidInputParams(invalid=invalid, not_found=not_found)
    return coerced


def bound_values(specs: Sequence[ParameterSpec], inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The values a run's parameters cell ends up binding: every declared default, then the
    (validated) inputs over them. Two sets of inputs that bind the same values compute the
    same app, however many of the defaults each spelled out."""
    values = {spec.name: copy.deepcopy(spec.default) for spec in specs}
    values.update(inputs)
    return values


def values_key(values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the values as canonical JSON: equal for equal values in any order,
    and different for 1 and 1.0, which a notebook prints differently."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def parameters_schema(specs: Sequence[ParameterSpec]) -> list[dict[str, Any]]:
    """The parameters as the API reports them, in camelCase and JSON-ready."""
    return [
        {
            "name": spec.name,
            "dataType": spec.data_type.value,
            "default": copy.deepcopy(spec.default),
            "inputCellType": spec.input_cell_type,
            "nullable": spec.nullable,
            "annotation": spec.annotation,
        }
        for spec in specs
    ]


class _RefusedError(Exception):
    """Internal: why a statement or a value was refused; callers add where it happened."""


# ---------------------------------------------------------------------------------------
# Reading the parameters cell


def _read_statement(statement: ast.stmt) -> ParameterSpec | None:
    """The spec one statement declares, None for a bare string; raises _RefusedError."""
    if isinstance(statement, ast.Expr):
        if isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str):
            return None
        raise _RefusedError(f"is an expression, not an assignment{_ONLY_ASSIGNMENTS}")
    if isinstance(statement, ast.Assign):
        if len(statement.targets) > 1:
            raise _RefusedError(f"assigns several names at once{_ONE_PER_LINE}")
        return _declare(statement.targets[0], None, statement.value)
    if isinstance(statement, ast.AnnAssign):
        if statement.value is None:
            raise _RefusedError("has no default value; give the parameter one")
        return _declare(statement.target, statement.annotation, statement.value)
    raise _RefusedError(f"is {_describe_statement(statement)}{_ONLY_ASSIGNMENTS}")


_ONLY_ASSIGNMENTS = "; the parameters cell may contain only literal assignments"
_ONE_PER_LINE = "; declare one parameter per statement"


def _describe_statement(statement: ast.stmt) -> str:
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return "an import (move it to another cell)"
    if isinstance(statement, ast.AugAssign):
        return "an augmented assignment"
    if isinstance(statement, ast.For | ast.AsyncFor | ast.While):
        return "a loop"
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return "a definition"
    return f"a {type(statement).__name__.lower()} statement"


def _declare(target: ast.expr, annotation: ast.expr | None, value: ast.expr) -> ParameterSpec:
    if isinstance(target, ast.Tuple | ast.List):
        raise _RefusedError(f"unpacks into several names{_ONE_PER_LINE}")
    if not isinstance(target, ast.Name):
        raise _RefusedError(
            f"assigns to {ast.unparse(target)}, not to a plain name{_ONLY_ASSIGNMENTS}"
        )
    default = _literal(value)

    declared, optional = (None, False) if annotation is None else _read_annotation(annotation)
    if declared is None:
        data_type = _type_of(default)
    else:
        if default is not None:
            _check_default(declared, default)
        data_type = declared
    return ParameterSpec(
        name=target.id,
        data_type=data_type,
        default=default,
        annotation=None if annotation is None else ast.unparse(annotation),
        nullable=optional or default is None or data_type is ParamType.NONE,
    )


def _literal(node: ast.expr) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError) as exc:
        raise _RefusedError(f"is not a literal{_date_hint(node)}{_ONLY_ASSIGNMENTS}") from exc
    except RecursionError as exc:
        raise _RefusedError("is nested too deeply") from exc
    problem = _json_problem(value)
    if problem:
        raise _RefusedError(problem)
    return value


def _date_hint(node: ast.expr) -> str:
    """Point an author who wrote `date(2024, 1, 1)` to the form that works."""
    if isinstance(node, ast.Call) and _dotted(node.func) in _DATE_CALLS:
        return ' (write dates as ISO strings: `day: date = "2024-01-01"`)'
    return ""


_DATE_CALLS = {"date", "datetime", "datetime.date", "datetime.datetime", "date.fromisoformat"}


def _json_problem(value: Any) -> str | None:
    """Why `value` is not a JSON value (phrased to follow "it"), or None if it is one."""
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"holds {value!r}, which is not a finite number"
    if isinstance(value, list):
        return next((p for p in map(_json_problem, value) if p), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"holds a dict key that is not a string ({key!r}); JSON keys are strings"
            problem = _json_problem(item)
            if problem:
                return problem
        return None
    if isinstance(value, tuple):
        return "holds a tuple; write a list [...] instead"
    if isinstance(value, set | frozenset):
        return "holds a set; write a list [...] instead"
    if isinstance(value, bytes):
        return "holds bytes; write a string instead"
    return f"holds a {type(value).__name__}, which is not a JSON value"


def _type_of(value: Any) -> ParamType:
    if isinstance(value, bool):  # before int: bool is a subclass of int
        return ParamType.BOOL
    if isinstance(value, int):
        return ParamType.INT
    if isinstance(value, float):
        return ParamType.FLOAT
    if isinstance(value, str):
        return ParamType.STR
    if isinstance(value, list):
        return ParamType.LIST
    if isinstance(value, dict):
        return ParamType.DICT
    return ParamType.NONE


_NAMED_TYPES = {
    "int": ParamType.INT,
    "float": ParamType.FLOAT,
    "str": ParamType.STR,
    "bool": ParamType.BOOL,
    "list": ParamType.LIST,
    "List": ParamType.LIST,
    "typing.List": ParamType.LIST,
    "dict": ParamType.DICT,
    "Dict": ParamType.DICT,
    "typing.Dict": ParamType.DICT,
    "date": ParamType.DATE,
    "datetime.date": ParamType.DATE,
    "datetime": ParamType.DATETIME,
    "datetime.datetime": ParamType.DATETIME,
    "Any": ParamType.NONE,
    "typing.Any": ParamType.NONE,
    "object": ParamType.NONE,
    "NoneType": ParamType.NONE,
}


def _read_annotation(node: ast.expr) -> tuple[ParamType | None, bool]:
    """(type, nullable) an annotation declares; type None if we do not recognise it."""
    if isinstance(node, ast.Constant):
        if node.value is None:
            return ParamType.NONE, True
        if isinstance(node.value, str):  # a quoted annotation: x: "int" = 1
            try:
                inner = ast.parse(node.value, mode="eval").body
            except (SyntaxError, ValueError, RecursionError):
                return None, False
            return _read_annotation(inner)
        return None, False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _read_union(_union_members(node))
    if isinstance(node, ast.Subscript):
        base = _dotted(node.value)
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base in {"Optional", "typing.Optional"}:
            declared = _read_annotation(args[0])[0] if len(args) == 1 else None
            return declared, True
        if base in {"Union", "typing.Union"}:
            return _read_union(args)
        if base in {"Annotated", "typing.Annotated"} and args:
            return _read_annotation(args[0])
        return _NAMED_TYPES.get(base or ""), False
    return _NAMED_TYPES.get(_dotted(node) or ""), False


def _union_members(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union_members(node.left) + _union_members(node.right)
    return [node]


def _read_union(members: list[ast.expr]) -> tuple[ParamType | None, bool]:
    read = [_read_annotation(member) for member in members]
    nullable = any(optional for _, optional in read)
    types = {declared for declared, _ in read if declared is not ParamType.NONE}
    if not types:
        return ParamType.NONE, True
    if types == {ParamType.INT, ParamType.FLOAT}:
        return ParamType.FLOAT, nullable  # every int is a valid float input
    if len(types) == 1:
        return types.pop(), nullable
    return None, nullable


def _dotted(node: ast.expr) -> str | None:
    """`datetime.date` for an attribute chain of names, None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value)
        return f"{owner}.{node.attr}" if owner else None
    return None


def _check_default(declared: ParamType, default: Any) -> None:
    """Raise _RefusedError unless the literal default is exactly of the declared type."""
    if not _FITS[declared](default):
        raise _RefusedError(f"has a default, {_show(default)}, that is not {_A_TYPE[declared]}")


_FITS: dict[ParamType, Callable[[Any], bool]] = {
    ParamType.INT: lambda v: _is_int(v),
    ParamType.FLOAT: lambda v: _is_int(v) or isinstance(v, float),
    ParamType.STR: lambda v: isinstance(v, str),
    ParamType.BOOL: lambda v: isinstance(v, bool),
    ParamType.LIST: lambda v: isinstance(v, list),
    ParamType.DICT: lambda v: isinstance(v, dict),
    ParamType.NONE: lambda v: True,
    ParamType.DATE: lambda v: isinstance(v, str) and _parses(date.fromisoformat, v),
    ParamType.DATETIME: lambda v: isinstance(v, str) and _parses(datetime.fromisoformat, v),
}


_A_TYPE = {
    ParamType.INT: "an int",
    ParamType.FLOAT: "a float",
    ParamType.STR: "a str",
    ParamType.BOOL: "a bool",
    ParamType.LIST: "a list",
    ParamType.DICT: "a dict",
    ParamType.NONE: "a value",
    ParamType.DATE: 'an ISO date string ("2024-01-31")',
    ParamType.DATETIME: 'an ISO datetime string ("2024-01-31T09:00:00")',
}


def _parses(parse: Callable[[str], object], text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def _snippet(source: str, node: ast.stmt) -> str:
    """The statement's first line, shortened, to quote in an error message."""
    text = ast.get_source_segment(source, node) or ast.unparse(node)
    lines = text.strip().splitlines() or [""]
    first = lines[0].rstrip()
    if len(first) > 60:
        return first[:59] + "…"
    return first + (" …" if len(lines) > 1 else "")


# ---------------------------------------------------------------------------------------
# Coercing run inputs

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


def _to_int(value: Any) -> int:
    if _is_int(value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    # The regex keeps out what int() would also take but a user would not mean: "1_000",
    # non-ASCII digits.
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        try:
            return int(value.strip())
        except ValueError:  # past Python's 4300-digit conversion limit
            pass
    raise _RefusedError(f"expected an integer, got {_show(value)}")


def _to_float(value: Any) -> float:
    number: float | None = None
    if _is_int(value) or isinstance(value, float):
        try:
            number = float(value)
        except OverflowError:  # an int beyond float's range
            number = math.inf
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        number = float(value.strip())
    if number is None:
        raise _RefusedError(f"expected a number, got {_show(value)}")
    if not math.isfinite(number):
        raise _RefusedError(f"expected a finite number, got {_show(value)}")
    return number


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _RefusedError(f"expected a string, got {_show(value)}")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise _RefusedError(f"expected true or false, got {_show(value)}")


def _to_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        _require_json(value, "a list of JSON values")
        return value
    raise _RefusedError(f"expected a list, got {_show(value)}")


def _to_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        _require_json(value, "an object of JSON values")
        return value
    raise _RefusedError(f"expected an object, got {_show(value)}")


def _to_date(value: Any) -> str:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise _RefusedError(f"expected an ISO date (YYYY-MM-DD), got {_show(value)}")


def _to_datetime(value: Any) -> str:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise _RefusedError(f"expected an ISO datetime (YYYY-MM-DDTHH:MM:SS), got {_show(value)}")


def _to_any(value: Any) -> Any:
    _require_json(value, "a JSON value")
    return value


def _require_json(value: Any, expected: str) -> None:
    # Python's json module (and so the API's request parsing) lets NaN and Infinity through;
    # the runs table and the kernel take inputs as strict JSON. Stop them here, as a 422,
    # rather than as a failed INSERT later.
    try:
        problem = _json_problem(value)
    except RecursionError:
        problem = "is nested too deeply"
    if problem:
        raise _RefusedError(f"expected {expected}, but it {problem}")


_COERCERS: dict[ParamType, Callable[[Any], Any]] = {
    ParamType.INT: _to_int,
    ParamType.FLOAT: _to_float,
    ParamType.STR: _to_str,
    ParamType.BOOL: _to_bool,
    ParamType.LIST: _to_list,
    ParamType.DICT: _to_dict,
    ParamType.DATE: _to_date,
    ParamType.DATETIME: _to_datetime,
    ParamType.NONE: _to_any,
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: Any) -> str:
    """A value as an error message quotes it: strings as Python would ('ten'), the JSON
    constants as a JSON client sent them (true, null), containers by kind only."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if isinstance(value, int):
        # str() of an int past 4300 digits raises; nobody wants to read it anyway.
        return str(value) if value.bit_length() < 200 else "a very large integer"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
