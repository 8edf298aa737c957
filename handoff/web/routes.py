"""Pages (demo website, console), static files and the development-only demo token route."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from handoff.config import Settings
from handoff.conversations.customer_token import mint_customer_token
from handoff.deps import SettingsDep

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
    # the account check's demo customers (issue 18, docs/demo-data.md): one billing error each
    (9, "Ivy", "Brooks", "late fee although autopay paid on time"),
    (10, "Jonas", "Weber", "loyalty discount missing"),
    (11, "Kemal", "Arslan", "sales tax on the wrong base"),
    (12, "Lena", "Fischer", "usage charge above the usage"),
    (13, "Marco", "Rossi", "bill shock after heavy usage"),
    (14, "Nadia", "Costa", "technician visit billed twice"),
]


class DemoTokenRequest(BaseModel):
    customer_id: int


class HealthResponse(BaseModel):
    status: Literal["ok"]


class DemoCustomer(BaseModel):
    customer_id: int
    first_name: str
    last_name: str
    scenario: str


class DemoCustomersResponse(BaseModel):
    customers: list[DemoCustomer]


class DemoTokenCustomer(BaseModel):
    customer_id: int
    first_name: str
    last_name: str


class DemoTokenResponse(BaseModel):
    token: str = Field(description="The signed customer token (JWT) the widget is mounted with")
    customer: DemoTokenCustomer


@router.get("/health", response_model=HealthResponse)
async def health() -> dict:
    return {"status": "ok"}


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(PAGES / "index.html", media_type="text/html")


@router.get("/console", include_in_schema=False)
async def console() -> FileResponse:
    return FileResponse(PAGES / "console.html", media_type="text/html")


def _development_only(settings: SettingsDep) -> Settings:
    if not settings.is_development:
        raise HTTPException(status_code=404, detail="Not found.")
    return settings


DevelopmentSettingsDep = Annotated[Settings, Depends(_development_only)]


@router.get("/demo/customers", response_model=DemoCustomersResponse)
async def demo_customers(_settings: DevelopmentSettingsDep) -> dict:
    return {"customers": [{"customer_id": cid, "first_name": first, "last_name": last, "scenario": scenario}
                          for cid, first, last, scenario in DEMO_CUSTOMERS]}


@router.post("/demo/token", response_model=DemoTokenResponse)
async def demo_token(body: DemoTokenRequest, settings: DevelopmentSettingsDep) -> dict:
    """Stands in for the company's own login: mints the signed customer token the widget passes on."""
    match = next((c for c in DEMO_CUSTOMERS if c[0] == body.customer_id), None)
    if match is None:
        raise HTTPException(status_code=404, detail="No demo customer with that id.")
    customer_id, first_name, last_name, _scenario = match
    token = mint_customer_token(customer_id=customer_id, first_name=first_name,
                                secret=settings.customer_jwt_secret)
    return {"token": token,
            "customer": {"customer_id": customer_id, "first_name": first_name, "last_name": last_name}}
