"""Glue between the console and the trainer package: read the review list, list intents, teach.

Plain synchronous functions (file and database work); the router runs them in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainer.errors import TrainerError
from trainer.nludata import domain_intents
from trainer.review import REASON_FALLBACK, REASON_LABELS, REASON_LOW_CONFIDENCE, Cluster, find_review_items
from trainer.teach import ExampleConflict, add_examples

# Enough context to judge a cluster on the page; the CLI review has the full list.
EXAMPLE_CONVERSATIONS_PER_CLUSTER = 3
NEXT_STEP = "run make validate && make retrain && make test-nlu, then make ship"


@dataclass
class TrainingRefused(Exception):
    """The trainer package refused: `message` is its human explanation, shown as is."""

    status_code: int
    code: str
    message: str


def _cluster_json(cluster: Cluster) -> dict:
    return {
        "cluster_id": cluster.cluster_id,
        "representative": cluster.representative,
        "count": cluster.count,
        "conversations": cluster.conversations,
        "reasons": [
            {"code": code, "label": REASON_LABELS.get(code, code), "count": count}
            for code, count in cluster.reasons.items()
        ],
        "predicted_intents": cluster.predicted_intents,
        "suggested_intent": cluster.suggested_intent,
        # Under a fallback or a low confidence the best guess is the classifier's runner-up, not an answer:
        # the page leaves the choice to the trainer instead of pre-selecting it.
        "suggested_intent_is_guess": any(code in (REASON_FALLBACK, REASON_LOW_CONFIDENCE)
                                         for code in cluster.reasons),
        "distinct_texts": cluster.distinct_texts,
        "examples": [
            {
                "sender_id": message.sender_id,
                "timestamp": message.timestamp,
                "text": message.text,
                "intent": message.intent,
                "confidence": message.confidence,
                "transcript": [
                    {"speaker": line.speaker, "text": line.text, "flagged": line.flagged,
                     "button": line.button}
                    for line in message.transcript
                ],
            }
            for message in cluster.messages[:EXAMPLE_CONVERSATIONS_PER_CLUSTER]
        ],
    }


def review(*, tracker_database_url: str, threshold: float) -> dict:
    try:
        clusters = find_review_items(tracker_database_url, threshold)
    except TrainerError as error:
        raise TrainingRefused(503, "tracker_store_unavailable", str(error)) from error
    return {
        "threshold": threshold,
        "messages": sum(c.count for c in clusters),
        "clusters": [_cluster_json(c) for c in clusters],
    }


def intents(*, repo_root: Path) -> list[str]:
    """The domain's intents that can take examples (EXTERNAL_ ones are triggered, never typed)."""
    domain = repo_root / "domain.yml"
    try:
        names = domain_intents(domain)
    except (OSError, TrainerError) as error:
        raise TrainingRefused(503, "domain_unavailable",
                              f"cannot read the intents from {domain}: {error}") from error
    return sorted(name for name in names if not name.startswith("EXTERNAL_"))


def teach(*, repo_root: Path, intent: str, examples: list[str]) -> dict:
    """Append examples to an existing intent; refusals carry the trainer's own message."""
    try:
        result = add_examples(repo_root=repo_root, intent=intent.strip(), examples=examples)
    except ExampleConflict as error:
        raise TrainingRefused(409, "example_conflict", str(error)) from error
    except TrainerError as error:
        raise TrainingRefused(400, "cannot_teach", str(error)) from error
    path = result.path
    try:
        path = path.resolve().relative_to(repo_root.resolve())
    except ValueError:
        pass
    return {
        "intent": intent.strip(),
        "file": str(path),
        "added": result.added,
        "skipped": result.skipped,
        "next_step": NEXT_STEP if result.added else "nothing new was added, so there is nothing to retrain",
    }

