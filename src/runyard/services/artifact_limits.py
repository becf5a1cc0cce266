"""The largest artifact a run may store (`RUNYARD_MAX_ARTIFACT_MB`): larger ones are refused
when they are written, and the run's log says so, rather than filling the store's disk."""

from __future__ import annotations

_MB = 1024 * 1024
# Room left in a cut log for the lines that pages refused later add (a few hundred bytes).
_HEADROOM = 1024


def refusal(name: str, size: int, limit: int) -> str:
    """The run-log line for an artifact that was not kept."""
    return (
        f"\n[runyard] The run's {name} ({size / _MB:.1f} MB) is larger than "
        f"RUNYARD_MAX_ARTIFACT_MB ({limit / _MB:.3g} MB) and was not kept.\n"
    )


def fits(content: bytes, limit: int | None) -> bool:
    return limit is None or len(content) <= limit


def bounded_log(text: str, limit: int | None, notes: str = "") -> bytes:
    """The log as stored, `notes` (refusal lines) at its end: whole if it fits, else the
    beginning of `text`, a line saying the rest was cut, and the notes, in less than
    `limit` by enough for the lines `refusal` may add later."""
    content = (text + notes).encode()
    if fits(content, limit):
        return content
    assert limit is not None
    tail = (
        f"\n[runyard] The log ({len(text.encode()) / _MB:.1f} MB) is larger than "
        f"RUNYARD_MAX_ARTIFACT_MB ({limit / _MB:.3g} MB); the rest was not kept.\n{notes}"
    ).encode()
    kept = text.encode()[: max(limit - _HEADROOM - len(tail), 0)].decode(errors="ignore").encode()
    return kept + tail
