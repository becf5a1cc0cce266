"""Reading request bodies with a size limit, before anything parses them."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from runyard.errors import BadRequest, PayloadTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 once it passes `limit` bytes (checked while streaming,
    so a client that lies about Content-Length cannot make us buffer more)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise body_too_large("notebook", int(declared), limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise body_too_large("notebook", size, limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body:
        raise BadRequest("The request body is empty; send the notebook's JSON")
    return body


async def read_notebook_upload(request: Request, limit: int) -> tuple[bytes, str | None]:
    """A notebook sent as multipart (`file` field) or as the raw JSON body."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return await read_body(request, limit), None
    form = await request.form(max_files=1, max_fields=10, max_part_size=limit)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise BadRequest(
            "multipart upload needs a 'file' field with the .ipynb", issues=["file: missing"]
        )
    data = await upload.read(limit + 1)
    await form.close()
    if len(data) > limit:
        raise body_too_large("notebook", len(data), limit)
    return data, upload.filename


def body_too_large(what: str, size: int, limit: int) -> PayloadTooLarge:
    size_text, limit_text = _format_size(size), _format_size(limit)
    if size_text == limit_text:
        # "16.0 KB, over the 16.0 KB limit" would read as a bug; exact counts settle it.
        size_text, limit_text = f"{size} bytes", f"{limit} bytes"
    return PayloadTooLarge(f"The {what} is {size_text}, over the {limit_text} limit")


def _format_size(size: int) -> str:
    # As domain/notebook.py words the limit when it measures a parsed notebook.
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"
