"""Rendering pages: the Jinja environment, its filters, and the headers every page carries."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, tzinfo
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from runyard.domain.run_page import run_page_path

# The pages run no script and load nothing from elsewhere; the only frame is the run's
# notebook HTML, served from this origin with its own `sandbox` policy. `frame-ancestors
# 'none'` keeps another site from framing the Cancel button under a decoy (clickjacking).
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    # Pages show what one token may see: never keep them for the next person at this browser.
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}

STYLESHEET = resources.files("runyard.web").joinpath("static", "style.css").read_bytes()
# The stylesheet's URL changes with its content, so browsers may cache it for long.
STYLESHEET_URL = f"/app/static/style.css?v={hashlib.sha256(STYLESHEET).hexdigest()[:12]}"

# Tracebacks come from IPython with colour codes; the kernel's log strips the same way.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def when(value: datetime | None) -> str:
    """A timestamp as the pages show it, in UTC to the second; '—' for none."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def in_zone(value: datetime | None, zone: tzinfo) -> str:
    """A time on the wall clock of `zone` (a schedule's), to the minute: `2026-03-09 06:00
    CET`; '—' for none."""
    if value is None:
        return "—"
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value is not None else ""


def duration(seconds: float) -> str:
    """`0.8 s`, `42.0 s`, `3 min 05 s`, `2 h 07 min`."""
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def ago(value: datetime | None, now: datetime) -> str:
    """How long before `now`, in words: `just now`, `5 min ago`, `3 h ago`, `2 days ago`."""
    if value is None:
        return "—"
    seconds = int((now - value).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return f"{days} day{'s' if days != 1 else ''} ago"


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def without_ansi(text: str) -> str:
    return _ANSI.sub("", text)


_env = Environment(
    loader=PackageLoader("runyard.web", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,  # a misspelt variable fails the test that renders it
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(
    when=when,
    in_zone=in_zone,
    iso=iso,
    duration=duration,
    json=as_json,
    without_ansi=without_ansi,
    ago=ago,
)
_env.globals.update(stylesheet_url=STYLESHEET_URL, run_page_path=run_page_path)


def page(
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})
