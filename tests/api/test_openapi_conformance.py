"""The server does what `/openapi.json` says: schemathesis runs every operation of the
document against the real app on a real store and checks each answer's status code,
content type, headers and body against what the document declares for it.

The seed is fixed and the number of examples bounded, so a run is repeatable and takes a
few minutes at most; a failure names the check, the operation and the request (as a curl
command) that reproduces it.

It drives schemathesis' engine (what `schemathesis run` does) rather than its pytest
integration: the engine runs the examples, coverage and fuzzing phases in one pass over the
whole document, on the one app the `runtime` fixture built for each store.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.engine import Status, events, from_schema

from runyard.app import Runtime, create_app
from tests.conftest import BOOTSTRAP_TOKEN

SEED = 13
EXAMPLES_PER_OPERATION = 25

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "unsupported_method",
    "allow_header_conformance",
    # Each operation declares a bearer token: without one (or with a wrong one) it is a 401.
    "ignored_auth",
]


def conformance_config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {BOOTSTRAP_TOKEN}"},
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                # No example database on disk: each run generates the same cases from the seed.
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "operations": [
                {
                    # `/users/me` is also `/users/{userId}` with the id "me", which PATCH
                    # serves: PATCH /users/me is a 400 ("userId: not a UUID"), not a 405,
                    # and its Allow says "GET, PATCH" where the document's `/users/me` has
                    # GET alone. So for `/projects/import` and `/projects/{projectId}`.
                    "include-path": path,
                    "checks": {
                        "unsupported_method": {"enabled": False},
                        "allow_header_conformance": {"enabled": False},
                    },
                }
                for path in ("/api/v1/users/me", "/api/v1/projects/import")
            ],
        }
    )


@pytest.fixture
def served(runtime: Runtime) -> Iterator[TestClient]:
    # Entered, the test client runs the lifespan: executor and scheduler, as `runyard serve`.
    with TestClient(create_app(runtime)) as client:
        yield client


def failures_of(stream: events.EventStream) -> tuple[list[str], int]:
    """Each failed check as text, and the number of operations tested."""
    found: list[str] = []
    tested: set[str] = set()
    for event in stream:
        if isinstance(event, events.NonFatalError | events.FatalError):
            found.append(f"error: {event!r}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        if event.status is not Status.SKIP and event.label:
            tested.add(event.label)
        for checks in event.recorder.checks.values():
            for check in checks:
                if check.status is Status.FAILURE and check.failure_info is not None:
                    failure = check.failure_info.failure
                    found.append(
                        f"{check.name} on {failure.operation}: {failure.title}\n"
                        f"{failure.message}\n{check.failure_info.code_sample}"
                    )
    return sorted(set(found)), len(tested)


@pytest.mark.slow
def test_every_answer_is_one_the_document_declares(served: TestClient) -> None:
    config = conformance_config()
    schema = schemathesis.openapi.from_asgi("/openapi.json", served.app, config=config)
    operations = len(list(schema.get_all_operations()))

    found, tested = failures_of(from_schema(schema).execute())

    assert found == [], f"{len(found)} failure(s):\n\n" + "\n\n".join(found)
    assert tested == operations
