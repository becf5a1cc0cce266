"""A run's HTML pages: the whole executed notebook (`html`) and its outputs alone (`app`).

They are rendered just after the run ends, in a transaction of their own (execution.py),
so that the run is COMPLETED as soon as its cells and executed notebook are recorded. Asked
for in between, a page is rendered from the executed notebook: never answered half-written,
never missing.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from runyard.kernel.artifacts import render_pages
from runyard.store import runs as run_store


def page_of(session: Session, run_id: str, name: str) -> bytes | None:
    """The run's `html` or `app` page; None before the run has an executed notebook."""
    row = run_store.get_artifact(session, run_id, name)
    if row is not None:
        return row.content
    executed = run_store.get_artifact(session, run_id, "notebook")
    if executed is None:
        return None
    pages = render_pages(json.loads(executed.content))
    return (pages.notebook if name == "html" else pages.app).encode()
