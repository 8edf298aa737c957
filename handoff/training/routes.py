"""Review and teach API for the `trainer` role (/api/console/training/...)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from handoff.conversations import store
from handoff.deps import ModelOperatorDep, ServiceDep, SettingsDep, TrainerDep
from handoff.errors import ServiceError
from handoff.specialists.schemas import ERROR_RESPONSES
from handoff.training import jobs as training_jobs
from handoff.training import service as training
from handoff.training.jobs import runner, shipped
from handoff.training.schemas import (
    IntentsResponse,
    JobRequest,
    JobsResponse,
    JobStarted,
    ReviewResponse,
    TeachRequest,
    TeachResponse,
)

router = APIRouter(prefix="/api/console/training", responses=ERROR_RESPONSES)
# One teach at a time per process: each one reads, checks and rewrites the NLU files.
_teach_lock = asyncio.Lock()


def _refused(error: training.TrainingRefused) -> ServiceError:
    return ServiceError(status_code=error.status_code, code=error.code, message=error.message)


@router.get("/review", response_model=ReviewResponse)
async def review(staff: TrainerDep, settings: SettingsDep,
                 threshold: Annotated[float | None, Query(ge=0.0, le=1.0)] = None) -> dict:
    try:
        return await asyncio.to_thread(
            training.review, tracker_database_url=settings.resolved_tracker_database_url,
            threshold=settings.review_threshold if threshold is None else threshold)
    except training.TrainingRefused as error:
        raise _refused(error) from error


@router.get("/intents", response_model=IntentsResponse)
async def intents(staff: TrainerDep, settings: SettingsDep) -> dict:
    try:
        return {"intents": await asyncio.to_thread(training.intents, repo_root=settings.training_repo_root)}
    except training.TrainingRefused as error:
        raise _refused(error) from error


@router.post("/examples", response_model=TeachResponse)
async def teach(body: TeachRequest, staff: TrainerDep, settings: SettingsDep, service: ServiceDep) -> dict:
    details = {"cluster_id": body.cluster_id, "examples": body.examples}
    try:
        async with _teach_lock:
            result = await asyncio.to_thread(training.teach, repo_root=settings.training_repo_root,
                                             intent=body.intent, examples=body.examples)
    except training.TrainingRefused as error:
        await service.db.run(store.audit, actor=staff.actor, action="training_teach_refused",
                             target=body.intent, details={**details, "reason": error.message})
        raise _refused(error) from error
    await service.db.run(store.audit, actor=staff.actor, action="training_teach", target=result["intent"],
                         details={"cluster_id": body.cluster_id, "file": result["file"],
                                  "added": result["added"], "skipped": result["skipped"]})
    return result


@router.get("/jobs", response_model=JobsResponse)
async def jobs(staff: ModelOperatorDep, settings: SettingsDep) -> dict:
    """What the page polls: the job (state and log tail), the quality report, whether shipping is allowed."""
    repo_root = settings.training_repo_root
    try:
        quality = await asyncio.to_thread(training_jobs.read_quality, repo_root)
        blocked = await asyncio.to_thread(runner.ship_blocker, repo_root)
    except training.TrainingRefused as error:
        raise _refused(error) from error
    return {"job": runner.current.to_dict() if runner.current else None, "quality": quality,
            "ship_blocked": blocked, "shipped": await asyncio.to_thread(shipped, repo_root)}


@router.post("/jobs", response_model=JobStarted, status_code=202)
async def start_job(body: JobRequest, staff: ModelOperatorDep, settings: SettingsDep,
                    service: ServiceDep) -> dict:
    """Start a retrain, ship or rollback in the background; one at a time, a failed gate blocks shipping."""

    async def audit(action: str, details: dict) -> None:
        await service.db.run(store.audit, actor=staff.actor, action=action, target=body.kind, details=details)

    try:
        job = runner.start(kind=body.kind, actor=staff.actor, settings=settings, audit=audit)
    except training.TrainingRefused as error:
        await audit("training_job_refused", {"code": error.code, "reason": error.message[:500]})
        raise _refused(error) from error
    await audit("training_job_started", {"job_id": job.id})
    return {"job": job.to_dict()}
