"""Where a run's page lives in the web UI (web/pages.py serves it).

API answers (`runUrl`), notifications and the web UI's own links and redirects all point
there, so they take the path from here.
"""

from __future__ import annotations


def run_page_path(project_id: str, run_id: str) -> str:
    return f"/app/projects/{project_id}/runs/{run_id}"
