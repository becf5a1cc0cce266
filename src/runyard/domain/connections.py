"""Data-connection types and the shapes of their `connectionDetails`.

Hex's wire contract (§9.3) wraps the details in one key named after the type:
`{"postgres": {"hostname": …, "password": …}}`. For each type the classes below say which
fields exist, which a create must give (no default), which may be null, and which are
secret. Secret fields are typed `SecretStr`: they are write-only (accepted on create and edit,
never read back), encrypted at rest by the services, and masked in any repr or log line.

An edit is partial: every field may be omitted, and an omitted secret keeps its stored value.
A field given as null clears it only where the contract allows null (`workgroup`, `role`,
`sslRootCert`, …); null for any other field is refused.

Error messages built here name the field and the rule it broke, never the value given, so a
rejected body cannot echo a secret back (pydantic's own error dicts carry the input).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, create_model
from pydantic.alias_generators import to_camel

from runyard.errors import BadRequest


class ConnectionType(StrEnum):
    ATHENA = "athena"
    BIGQUERY = "bigquery"
    CLICKHOUSE = "clickhouse"
    DATABRICKS = "databricks"
    POSTGRES = "postgres"
    REDSHIFT = "redshift"
    SNOWFLAKE = "snowflake"
    TRINO = "trino"
    # Runyard's own, for single-machine use (contract §16):
    SQLITE = "sqlite"
    DUCKDB = "duckdb"
    MYSQL = "mysql"


# The types Runyard's SQL cells can query; the others are stored for Hex compatibility.
QUERYABLE: frozenset[ConnectionType] = frozenset(
    {ConnectionType.SQLITE, ConnectionType.DUCKDB, ConnectionType.POSTGRES, ConnectionType.MYSQL}
)


class SharingAccess(StrEnum):
    NONE = "NONE"
    QUERY = "QUERY"
    VIEW_RESULTS = "VIEW_RESULTS"


class SchemaRefreshAccess(StrEnum):
    ADMINS = "ADMINS"
    USERS_WITH_QUERY_ACCESS = "USERS_WITH_QUERY_ACCESS"


Text = Annotated[str, Field(min_length=1, max_length=2000)]
Port = Annotated[int, Field(ge=1, le=65535)]
# Service-account JSON and PEM keys are long; a megabyte is far beyond any real one.
Secret = Annotated[SecretStr, Field(min_length=1, max_length=1_000_000)]


class Details(BaseModel):
    """Base of every type's details: unknown fields are refused, never stored in clear.
    Attributes are snake_case; the wire names are Hex's camelCase ones, and only those are
    accepted."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel)


class AthenaDetails(Details):
    secret_access_key: Secret
    access_key_id: Text
    workgroup: Text | None = None
    catalog: Text | None = None
    s3_output_path: Text
    port: Port
    hostname: Text


class BigQueryDetails(Details):
    service_account_json_config: Secret
    enable_storage_api: bool = False
    enable_drive_access: bool = False
    project_id: Text


class DatabricksDetails(Details):
    access_token: Secret
    jdbc_url: Text


class PostgresDetails(Details):
    password: Secret
    username: Text
    database: Text
    port: Port
    hostname: Text


class RedshiftDetails(Details):
    ssl_root_cert: Secret | None = None
    password: Secret
    username: Text
    database: Text
    port: Port
    host: Text


class SnowflakeDetails(Details):
    """Key-pair authentication only, as in Hex's API."""

    role: Text | None = None
    passphrase: Secret
    private_key: Secret
    username: Text
    # `schema` would shadow a BaseModel attribute; the wire name is kept through the alias.
    schema_: Text | None = Field(default=None, alias="schema")
    database: Text
    warehouse: Text
    account_name: Text


class SessionProperty(Details):
    key: Text
    value: Annotated[str, Field(max_length=2000)]


class TrinoDetails(Details):
    session_properties: list[SessionProperty] | None = None
    # Optional but not nullable: a null is refused, since pydantic validates a given null
    # and never the default (the ignores silence mypy's view that the default must fit).
    password: Secret = None  # type: ignore[assignment]
    username: Text
    schema_: Text = Field(default=None, alias="schema")  # type: ignore[assignment]
    catalog: Text = None  # type: ignore[assignment]
    port: Port
    hostname: Text


class ClickhouseDetails(Details):
    """Readable only: Hex's API lists ClickHouse connections but cannot create or edit them."""

    username: Text
    port: Port
    hostname: Text


class SqliteDetails(Details):
    path: Text


class DuckdbDetails(Details):
    path: Text


class MysqlDetails(Details):
    hostname: Text
    port: Port
    database: Text
    username: Text
    password: Secret


DETAILS: dict[ConnectionType, type[Details]] = {
    ConnectionType.ATHENA: AthenaDetails,
    ConnectionType.BIGQUERY: BigQueryDetails,
    ConnectionType.CLICKHOUSE: ClickhouseDetails,
    ConnectionType.DATABRICKS: DatabricksDetails,
    ConnectionType.POSTGRES: PostgresDetails,
    ConnectionType.REDSHIFT: RedshiftDetails,
    ConnectionType.SNOWFLAKE: SnowflakeDetails,
    ConnectionType.TRINO: TrinoDetails,
    ConnectionType.SQLITE: SqliteDetails,
    ConnectionType.DUCKDB: DuckdbDetails,
    ConnectionType.MYSQL: MysqlDetails,
}

# Types the API may create and edit; ClickHouse is absent from Hex's create and edit unions.
WRITABLE: frozenset[ConnectionType] = frozenset(DETAILS) - {ConnectionType.CLICKHOUSE}


def _mentions(annotation: Any, target: type) -> bool:
    """Whether `annotation` is `target`, or a union or `Annotated` that contains it."""
    return annotation is target or any(_mentions(arg, target) for arg in get_args(annotation))


def _is_secret(model: type[BaseModel], name: str) -> bool:
    return _mentions(model.model_fields[name].annotation, SecretStr)


def _wire_name(model: type[BaseModel], name: str) -> str:
    return model.model_fields[name].alias or name


def secret_fields(kind: ConnectionType) -> frozenset[str]:
    """The wire names of `kind`'s write-only fields."""
    model = DETAILS[kind]
    return frozenset(_wire_name(model, n) for n in model.model_fields if _is_secret(model, n))


def readable_fields(kind: ConnectionType) -> tuple[str, ...]:
    """The wire names of `kind`'s fields that responses show, in the contract's order."""
    model = DETAILS[kind]
    return tuple(_wire_name(model, n) for n in model.model_fields if not _is_secret(model, n))


def nullable_fields(kind: ConnectionType) -> frozenset[str]:
    model = DETAILS[kind]
    return frozenset(
        _wire_name(model, name)
        for name, info in model.model_fields.items()
        if _mentions(info.annotation, type(None))
    )


def _edit_model(model: type[Details]) -> type[Details]:
    """`model` with every field optional; a null still fails where the field is not
    nullable, because pydantic never validates the default but does validate a given null."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        optional = copy.copy(info)
        optional.default = None
        optional.default_factory = None
        fields[name] = (info.annotation, optional)
    edit: type[Details] = create_model(
        f"{model.__name__}Edit", __base__=Details, __doc__=model.__doc__, **fields
    )
    return edit


EDIT_DETAILS: dict[ConnectionType, type[Details]] = {
    kind: _edit_model(model) for kind, model in DETAILS.items()
}


@dataclass(frozen=True)
class ParsedDetails:
    """A type's details, split: `public` is stored as JSON and shown in responses; `secrets`
    are to be encrypted (a None value clears a nullable secret)."""

    public: dict[str, Any]
    secrets: dict[str, str | None]


class InvalidConnectionDetails(BadRequest):
    """The details do not fit the type's shape. Issues name fields, never values."""

    def __init__(self, issues: list[str]) -> None:
        super().__init__("Invalid connection details", issues=issues)


def parse_details(kind: ConnectionType, envelope: Any, *, partial: bool) -> ParsedDetails:
    """Validate Hex's `{type: {…}}` envelope for `kind` and split secrets from the rest.

    With `partial` (an edit), only the fields given are returned, and none is required.
    """
    if kind not in WRITABLE:
        raise InvalidConnectionDetails(
            [f"type: {kind.value} connections can be read but not created or edited"]
        )
    if not isinstance(envelope, Mapping) or set(envelope) != {kind.value}:
        raise InvalidConnectionDetails(
            [f"connectionDetails: expected exactly one key, '{kind.value}', matching the type"]
        )
    inner = envelope[kind.value]
    model = (EDIT_DETAILS if partial else DETAILS)[kind]
    issues: list[str] = []
    try:
        parsed = model.model_validate(inner)
    except ValidationError as error:
        issues = _issues(kind, error)
    if issues:
        # Raised outside the `except` block so the pydantic error, whose text carries the
        # input, is not even attached as this error's context.
        raise InvalidConnectionDetails(issues)
    given = parsed.model_dump(by_alias=True, exclude_unset=partial)
    secrets = secret_fields(kind)
    public: dict[str, Any] = {}
    hidden: dict[str, str | None] = {}
    for name, value in given.items():
        if name in secrets:
            if value is not None or partial:
                hidden[name] = value.get_secret_value() if value is not None else None
        else:
            public[name] = value
    return ParsedDetails(public=public, secrets=hidden)


def _issues(kind: ConnectionType, error: ValidationError) -> list[str]:
    # Only the location and pydantic's message: `input` (and `ctx`, for some rules) carry
    # the value given, which may be a secret.
    issues = []
    for item in error.errors(include_input=False, include_context=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"])
        path = f"connectionDetails.{kind.value}" + (f".{where}" if where else "")
        issues.append(f"{path}: {item['msg']}")
    return issues
