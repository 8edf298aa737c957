"""What the trainer's page reads and answers (/api/console/training/...), for /openapi.json.

The answers are the JSON of handoff/training/service.py, key for key."""

from __future__ import annotations

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
