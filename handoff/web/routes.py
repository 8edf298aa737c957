"""Pages (demo website, console), static files and the development-only demo token route."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from handoff.config import Settings
from handoff.conversations.customer_token import mint_customer_token
from handoff.deps import get_settings_dep

WEB_DIR = Path(__file__).resolve().parent
PAGES = WEB_DIR / "pages"
STATIC = WEB_DIR / "static"
router = APIRouter()

# The backend's deterministic demo seed (docs/contracts.md, "Demo customers").
DEMO_CUSTOMERS = [
    (1, "Alice", "Moreno", "late fee on the latest invoice"),
    (2, "Ben", "Okafor", "mid-cycle plan upgrade"),
    (3, "Carla", "Jensen", "usage overage"),
    (4, "David", "Kim", "one-time charge billed twice"),
    (5, "Elena", "Petrova", "payment still pending"),
    (6, "Farid", "Haddad", "autopay failed"),
    (7, "Grace", "Liu", "taxes and fees"),
    (8, "Hiro", "Tanaka", "promotion expired"),
]


class DemoTokenRequest(BaseModel):
    customer_id: int


@router.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(PAGES / "index.html", media_type="text/html")


@router.get("/console", include_in_schema=False)
async def console() -> FileResponse:
    return FileResponse(PAGES / "console.html", media_type="text/html")


def _development_only(settings: Settings = Depends(get_settings_dep)) -> Settings:
    if not settings.is_development:
        raise HTTPException(status_code=404, detail="Not found.")
    return settings


@router.get("/demo/customers")
async def demo_customers(_settings: Settings = Depends(_development_only)) -> dict:
    return {"customers": [{"customer_id": cid, "first_name": first, "last_name": last, "scenario": scenario}
                          for cid, first, last, scenario in DEMO_CUSTOMERS]}


@router.post("/demo/token")
async def demo_token(body: DemoTokenRequest, request: Request,
                     settings: Settings = Depends(_development_only)) -> dict:
    """Stands in for the company's own login: mints the signed customer token the widget passes on."""
    match = next((c for c in DEMO_CUSTOMERS if c[0] == body.customer_id), None)
    if match is None:
        raise HTTPException(status_code=404, detail="No demo customer with that id.")
    token = mint_customer_token(customer_id=match[0], first_name=match[1], secret=settings.customer_jwt_secret)
    return {"token": token, "customer": {"customer_id": match[0], "first_name": match[1], "last_name": match[2]}}
