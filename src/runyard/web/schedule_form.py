"""The add-schedule form: its fields, and the submitted text turned into a `ScheduleSpec`.

The form has a field for every cadence's values (time, minute, weekday, day of the month,
cron); only the chosen cadence's are read, so the others may hold anything. The values are
checked where the API checks them, by the domain's `Cadence` and then by the schedule
service, and each problem is shown next to its field.

Parameters are the run form's fields (`forms.fields`). A field left at the notebook's
default is not saved with the schedule: the schedule then follows the notebook's default,
also after a republish changes it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from starlette.datastructures import FormData

from runyard.domain.cadence import Cadence, CadenceKind, DayOfWeek
from runyard.domain.parameters import ParameterSpec
from runyard.domain.slot_policy import CatchUp, Overlap
from runyard.errors import BadRequest, InvalidField
from runyard.services.schedules import ScheduleSpec
from runyard.web import forms

CADENCES: list[tuple[str, str]] = [
    (CadenceKind.HOURLY.value, "Hourly"),
    (CadenceKind.DAILY.value, "Daily"),
    (CadenceKind.WEEKLY.value, "Weekly"),
    (CadenceKind.MONTHLY.value, "Monthly"),
    (CadenceKind.CUSTOM.value, "Cron expression"),
]
DAYS_OF_WEEK = [day.value for day in DayOfWeek]
CATCH_UP = [policy.value for policy in CatchUp]
OVERLAP = [policy.value for policy in Overlap]

# What a fresh form shows. `enabled` and `publish` are checkboxes: present means ticked.
DEFAULTS = {
    "cadence": CadenceKind.DAILY.value,
    "at": "06:00",
    "minute": "0",
    "day_of_week": DayOfWeek.MONDAY.value,
    "day": "1",
    "cron": "",
    "timezone": "UTC",
    "catch_up": CatchUp.LATEST.value,
    "overlap": Overlap.ALLOW.value,
    "enabled": "on",
    "publish": "on",
}
_CHECKBOXES = ("enabled", "publish")
_TEXT_FIELDS = tuple(name for name in DEFAULTS if name not in _CHECKBOXES)
_Policy = TypeVar("_Policy", CatchUp, Overlap)

# The domain names a cadence's fields as Hex does (`daily.hour`); the form has its own.
_FORM_FIELD = {"hour": "at", "dayOfWeek": "day_of_week", "day": "day", "cron": "cron"}


@dataclass(frozen=True)
class ScheduleForm:
    """The form as it was sent (or as a fresh one shows), with each field's problem."""

    texts: dict[str, str]  # the schedule's fields by name, checkboxes only when ticked
    param_texts: dict[str, str] = field(default_factory=dict)  # by parameter name
    errors: dict[str, str] = field(default_factory=dict)  # by schedule field name
    param_errors: dict[str, str] = field(default_factory=dict)  # by parameter name
    form_errors: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.param_errors or self.form_errors)

    def with_issues(
        self, issues: Sequence[str], message: str, declared: Collection[str]
    ) -> ScheduleForm:
        """The form with the service's `issues` ("inputParams.days: …") shown by the fields
        of the `declared` parameters; any other issue, or a refusal without issues, goes
        above the form."""
        param_errors = dict(self.param_errors)
        form_errors = list(self.form_errors)
        for issue in issues or [message]:
            name, sep, reason = issue.partition(": ")
            param = name.removeprefix("inputParams.")
            if sep and name.startswith("inputParams.") and param in declared:
                param_errors[param] = reason
            else:
                form_errors.append(issue)
        return replace(self, param_errors=param_errors, form_errors=form_errors)


def blank() -> ScheduleForm:
    return ScheduleForm(texts=dict(DEFAULTS))


def read(
    specs: Sequence[ParameterSpec], form: FormData
) -> tuple[ScheduleForm, ScheduleSpec | None]:
    """The submitted form, and the schedule it asks for; no schedule if a field is wrong
    (the form then says which and why)."""
    texts = {name: _text(form, name) for name in _TEXT_FIELDS}
    for box in _CHECKBOXES:
        if form.get(box) is not None:
            texts[box] = "on"
    run_form = forms.read_run_form(specs, form)
    errors: dict[str, str] = {}
    cadence = _cadence(texts, errors)
    catch_up = _choice(CatchUp, texts["catch_up"], "catch_up", errors)
    overlap = _choice(Overlap, texts["overlap"], "overlap", errors)
    inputs = _changed_inputs(specs, run_form)
    read_form = ScheduleForm(
        texts=texts,
        param_texts=run_form.texts,
        errors=errors,
        param_errors=dict(run_form.json_errors),
    )
    if read_form.has_errors or cadence is None or catch_up is None or overlap is None:
        return read_form, None
    spec = ScheduleSpec(
        cadence=cadence,
        enabled="enabled" in texts,
        input_params=inputs,
        catch_up=catch_up,
        overlap=overlap,
        update_published_results="publish" in texts,
    )
    return read_form, spec


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name}: expected text, got a file upload")
    return value.strip()


def _cadence(texts: Mapping[str, str], errors: dict[str, str]) -> Cadence | None:
    try:
        kind = CadenceKind(texts["cadence"])
    except ValueError:
        errors["cadence"] = f"choose one of {', '.join(k for k, _ in CADENCES)}"
        return None
    values: dict[str, Any] = {}
    if kind is CadenceKind.HOURLY:
        values["minute"] = _number(texts["minute"], "minute", errors)
    elif kind is CadenceKind.CUSTOM:
        values["cron"] = texts["cron"]
    else:
        values.update(_time(texts["at"], errors))
        if kind is CadenceKind.WEEKLY:
            values["day_of_week"] = texts["day_of_week"]
        elif kind is CadenceKind.MONTHLY:
            values["day"] = _number(texts["day"], "day", errors)
    if errors:
        return None
    try:
        return Cadence(kind=kind, timezone=texts["timezone"], **values)
    except InvalidField as error:
        errors[_form_field(kind, error.field_name)] = error.reason
        return None


def _form_field(kind: CadenceKind, domain_name: str) -> str:
    """`daily.hour` -> `at`, `hourly.minute` -> `minute`, `custom.cron` -> `cron`."""
    _, _, name = domain_name.rpartition(".")
    if name == "minute":
        return "minute" if kind is CadenceKind.HOURLY else "at"
    return _FORM_FIELD.get(name, name)


def _number(text: str, name: str, errors: dict[str, str]) -> int | None:
    if not text.isdecimal():
        errors[name] = f"expected a whole number, got {text!r}" if text else "is required"
        return None
    return int(text)


def _time(text: str, errors: dict[str, str]) -> dict[str, int]:
    hour, sep, minute = text.partition(":")
    # isdecimal, not isdigit: int() refuses digits such as "²" that isdigit accepts.
    if not (sep and hour.isdecimal() and minute.isdecimal()):
        errors["at"] = f"expected a time HH:MM, got {text!r}" if text else "is required"
        return {}
    return {"hour": int(hour), "minute": int(minute)}


def _choice(policy: type[_Policy], text: str, name: str, errors: dict[str, str]) -> _Policy | None:
    try:
        return policy(text)
    except ValueError:
        errors[name] = f"choose one of {', '.join(policy)}"
        return None


def _changed_inputs(specs: Sequence[ParameterSpec], run_form: forms.RunForm) -> dict[str, Any]:
    """The run form's inputs but those whose field still shows the notebook's default."""
    defaults = {spec.name: forms.default_text(spec) for spec in specs}
    return {
        name: value
        for name, value in run_form.inputs.items()
        if name not in defaults or run_form.texts.get(name) != defaults[name]
    }
