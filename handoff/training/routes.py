"""Review and teach API for the `trainer` role (/api/console/training/...)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from handoff.config import Settings
from handoff.conversations.service import HandoffService, ServiceError, Staff
from handoff.deps import current_staff, get_service, get_settings_dep
from handoff.training import service as training

router = APIRouter(prefix="/api/console/training")
# One teach at a time per process: each one reads, checks and rewrites the NLU files.
_teach_lock = asyncio.Lock()


async def trainer_staff(staff: Staff = Depends(current_staff)) -> Staff:
    if staff.role != "trainer":
        raise HTTPException(status_code=403, detail="Only trainers can review and teach the bot.")
    return staff


class TeachRequest(BaseModel):
    intent: str = Field(min_length=1, max_length=64)
    examples: list[str] = Field(min_length=1, max_length=200)
    cluster_id: str | None = Field(default=None, max_length=40)


def _refused(error: training.TrainingRefused) -> ServiceError:
    return ServiceError(status_code=error.status_code, code=error.code, message=error.message)


@router.get("/review")
async def review(threshold: float | None = Query(default=None, ge=0.0, le=1.0),
                 staff: Staff = Depends(trainer_staff),
                 settings: Settings = Depends(get_settings_dep)) -> dict:
    try:
        return await asyncio.to_thread(training.review, tracker_database_url=settings.resolved_tracker_database_url,
                                       threshold=settings.review_threshold if threshold is None else threshold)
    except training.TrainingRefused as error:
        raise _refused(error) from error


@router.get("/intents")
async def intents(staff: Staff = Depends(trainer_staff), settings: Settings = Depends(get_settings_dep)) -> dict:
    try:
        return {"intents": await asyncio.to_thread(training.intents, repo_root=settings.training_repo_root)}
    except training.TrainingRefused as error:
        raise _refused(error) from error


@router.post("/examples")
async def teach(body: TeachRequest, staff: Staff = Depends(trainer_staff),
                settings: Settings = Depends(get_settings_dep),
                service: HandoffService = Depends(get_service)) -> dict:
    details = {"cluster_id": body.cluster_id, "examples": body.examples}
    try:
        async with _teach_lock:
            result = await asyncio.to_thread(training.teach, repo_root=settings.training_repo_root,
                                             intent=body.intent, examples=body.examples)
    except training.TrainingRefused as error:
        await service.record_audit(actor=staff.actor, action="training_teach_refused", target=body.intent,
                                   details={**details, "reason": error.message})
        raise _refused(error) from error
    await service.record_audit(actor=staff.actor, action="training_teach", target=result["intent"],
                               details={"cluster_id": body.cluster_id, "file": result["file"],
                                        "added": result["added"], "skipped": result["skipped"]})
    return result
