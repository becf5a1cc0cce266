"""The run form: one field per declared parameter, and the submitted text turned into inputs.

Values travel as text; the run service coerces them to the declared types exactly as it
does for the API and the CLI (`"10"` → 10, `"yes"` → True). Two things are the form's own:
lists and dicts (and untyped parameters) are written as JSON, and an empty field of any type
but `str` means "use the notebook's default" (a `str` parameter may well be empty on purpose).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from starlette.datastructures import FormData

from runyard.domain.parameters import ParameterSpec, ParamType
from runyard.errors import BadRequest

FIELD_PREFIX = "param."
_JSON_TYPES = {ParamType.LIST, ParamType.DICT, ParamType.NONE}

Widget = Literal["text", "textarea", "select", "date"]


@dataclass(frozen=True)
class ParamField:
    """What the template needs to draw one parameter's input."""

    spec: ParameterSpec
    name: str  # the form field's name
    value: str  # the text in the field: the default, or what was submitted
    widget: Widget
    hint: str
    error: str | None = None


def fields(
    specs: Sequence[ParameterSpec],
    submitted: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> list[ParamField]:
    """The form's fields, filled with the defaults or, after an error, with what was sent."""
    submitted = submitted or {}
    errors = errors or {}
    return [
        ParamField(
            spec=spec,
            name=FIELD_PREFIX + spec.name,
            value=submitted.get(spec.name, default_text(spec)),
            widget=_widget(spec),
            hint=_hint(spec),
            error=errors.get(spec.name),
        )
        for spec in specs
    ]


def default_text(spec: ParameterSpec) -> str:
    """A default as the user would type it into the form."""
    if spec.default is None:
        return ""
    if spec.data_type in _JSON_TYPES:
        return json.dumps(spec.default, ensure_ascii=False)
    if isinstance(spec.default, bool):
        return "true" if spec.default else "false"
    return str(spec.default)


@dataclass(frozen=True)
class RunForm:
    inputs: dict[str, Any]  # what to trigger the run with
    texts: dict[str, str]  # the text of each parameter field, to refill the form with
    json_errors: dict[str, str]  # JSON fields that did not parse, by parameter name


def read_run_form(specs: Sequence[ParameterSpec], form: FormData) -> RunForm:
    """Turn the submitted fields into run inputs.

    A field named for a parameter the project no longer declares (a form from before a
    republish) is passed on as given, so the service reports it like any unknown input.
    A JSON field that does not parse is passed on as its text, which the service refuses,
    and is also reported in `json_errors`, whose message explains it better.
    """
    by_name = {spec.name: spec for spec in specs}
    inputs: dict[str, Any] = {}
    texts: dict[str, str] = {}
    json_errors: dict[str, str] = {}
    for key, raw in form.multi_items():
        if not key.startswith(FIELD_PREFIX):
            continue
        name = key.removeprefix(FIELD_PREFIX)
        if not isinstance(raw, str):
            raise BadRequest(f"{name}: expected text, got a file upload")
        texts[name] = raw
        spec = by_name.get(name)
        if spec is None or spec.data_type is ParamType.STR:
            inputs[name] = raw
        elif not raw.strip():
            continue  # the notebook's default applies
        elif spec.data_type in _JSON_TYPES:
            try:
                inputs[name] = json.loads(raw)
            except json.JSONDecodeError as error:
                # Passed on as text: an untyped parameter takes it as a string; a list or
                # dict parameter refuses it, and the JSON error says why more plainly.
                inputs[name] = raw
                if spec.data_type is not ParamType.NONE:
                    json_errors[name] = (
                        f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
                    )
        else:
            inputs[name] = raw
    return RunForm(inputs=inputs, texts=texts, json_errors=json_errors)


def _widget(spec: ParameterSpec) -> Widget:
    if spec.data_type is ParamType.BOOL:
        return "select"
    if spec.data_type in (ParamType.LIST, ParamType.DICT):
        return "textarea"
    if spec.data_type is ParamType.DATE:
        return "date"
    return "text"


def _hint(spec: ParameterSpec) -> str:
    hints = {
        ParamType.INT: "a whole number",
        ParamType.FLOAT: "a number",
        ParamType.STR: "text",
        ParamType.BOOL: "true or false",
        ParamType.LIST: "a JSON list, e.g. [1, 2]",
        ParamType.DICT: 'a JSON object, e.g. {"key": "value"}',
        ParamType.DATE: "a date, YYYY-MM-DD",
        ParamType.DATETIME: "a date and time, YYYY-MM-DDTHH:MM:SS",
        ParamType.NONE: "any JSON value; other text is sent as a string",
    }
    hint = hints[spec.data_type]
    # An empty str is a value; a bool with a bool default has no empty choice to make.
    has_empty_choice = spec.data_type is not ParamType.STR and not (
        spec.data_type is ParamType.BOOL and isinstance(spec.default, bool)
    )
    return hint + "; leave empty for the default" if has_empty_choice else hint
