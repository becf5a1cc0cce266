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
        raise PayloadTooLarge(_too_large(int(declared), limit))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(_too_large(size, limit))
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
        raise PayloadTooLarge(_too_large(len(data), limit))
    return data, upload.filename


def _too_large(size: int, limit: int) -> str:
    return f"The notebook is {size / 1e6:.1f} MB, over the {limit / 1e6:.1f} MB limit"
