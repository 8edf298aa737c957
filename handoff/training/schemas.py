"""What the trainer's page reads and answers (/api/console/training/...), for /openapi.json.

The answers are the JSON of handoff/training/service.py, key for key."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TeachRequest(BaseModel):
    intent: str = Field(min_length=1, max_length=64)
    examples: list[str] = Field(min_length=1, max_length=200)
    cluster_id: str | None = Field(default=None, max_length=40)


class ReviewReason(BaseModel):
    code: str
    label: str
    count: int


class TranscriptLine(BaseModel):
    speaker: str = Field(description="customer, bot or agent (a specialist, after a handoff)")
    text: str
    flagged: bool = Field(description="The message under review")
    button: bool = Field(default=False,
                         description="A button click: text is the button's title, not its payload")


class ReviewExample(BaseModel):
    sender_id: str
    timestamp: str = Field(description="ISO 8601, UTC")
    text: str
    intent: str | None
    confidence: float | None
    transcript: list[TranscriptLine]


class ReviewCluster(BaseModel):
    """Badly handled messages that say the same thing."""

    cluster_id: str
    representative: str
    count: int = Field(description="Messages in the cluster")
    conversations: int
    reasons: list[ReviewReason]
    predicted_intents: dict[str, int]
    suggested_intent: str | None
    suggested_intent_is_guess: bool = Field(
        default=True, description="A fallback's or low confidence's runner-up: shown, never pre-selected")
    distinct_texts: list[str]
    examples: list[ReviewExample]


class ReviewResponse(BaseModel):
    threshold: float
    messages: int
    clusters: list[ReviewCluster]


class IntentsResponse(BaseModel):
    intents: list[str]


class TeachResponse(BaseModel):
    intent: str
    file: str = Field(description="The NLU file the examples went into, relative to the repository")
    added: list[str]
    skipped: list[str] = Field(description="Already examples of this intent")
    next_step: str


class JobRequest(BaseModel):
    kind: Literal["retrain", "ship", "rollback"]


class Quality(BaseModel):
    """The latest evaluation (results/nlu/eval.json) judged by scripts/nlu_gate.py's floors."""

    model: str | None
    model_exists: bool
    evaluated_at: str
    passed: bool = Field(description="Every floor of `make test-nlu` holds: only then can it be shipped")
    gates: list[str]
    failures: list[str]
    summary: str = Field(description="results/nlu/summary.md: per-intent F1 against the previous model")


class Job(BaseModel):
    id: str
    kind: str
    actor: str
    status: Literal["running", "succeeded", "failed"]
    started_at: str
    finished_at: str | None
    message: str
    model: str | None
    log: list[str] = Field(description="The last lines of the job's output")
    quality: Quality | None


class Shipped(BaseModel):
    model: str
    at: str
    action: str
    rolled_back: bool


class JobsResponse(BaseModel):
    job: Job | None = Field(description="The running job, else the last one since the service started")
    quality: Quality | None
    ship_blocked: str | None = Field(description="Why shipping is refused now (None: it is allowed)")
    shipped: list[Shipped] = Field(description="models/history.json, newest first")


class JobStarted(BaseModel):
    job: Job
