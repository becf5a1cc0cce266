"""The web UI's router: sign-in and the pages, for `app.py` to include in one line."""

from __future__ import annotations

from fastapi import APIRouter

from runyard.web import embed, pages, signin

router = APIRouter(include_in_schema=False)
router.include_router(signin.router)
router.include_router(pages.router)
router.include_router(embed.router)
