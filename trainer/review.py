"""Find what to teach: customer messages the bot handled badly, from Rasa's SQL tracker store.

A message is listed when
- NLU fell back (`nlu_fallback`),
- the intent confidence was below a threshold,
- the customer's next message asked for a human (`request_human`), or
- the conversation was rated 1 or 2 in the CSAT question (`rate_chat` with a `csat_score` entity).
Similar messages are grouped (trainer.clustering) so forty phrasings of one new question are one row.

The table is Rasa's `events` (SQLTrackerStore): id, sender_id, type_name, timestamp, intent_name,
action_name, data (the event as JSON text). Read-only; works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from trainer.clustering import DEFAULT_SIMILARITY, cluster_texts, normalise
from trainer.errors import TrainerError
from trainer.settings import resolve_database_url

REASON_FALLBACK = "nlu_fallback"
REASON_LOW_CONFIDENCE = "low_confidence"
REASON_BEFORE_HUMAN = "then_asked_for_human"
REASON_LOW_CSAT = "low_csat"

REASON_LABELS = {
    REASON_FALLBACK: "NLU fallback",
    REASON_LOW_CONFIDENCE: "low confidence",
    REASON_BEFORE_HUMAN: "then asked for a human",
    REASON_LOW_CSAT: "conversation rated 1-2",
}

# In a badly rated conversation these messages say nothing about what the bot misunderstood.
_ROUTINE_INTENTS = frozenset(
    {"greet", "goodbye", "thank", "affirm", "deny", "inform", "rate_chat", "request_human", "bot_challenge"}
)
# Transcript excerpt: lines before the message, and after it (what the bot did, how it ended).
_LINES_BEFORE, _LINES_AFTER = 3, 5


@dataclass(frozen=True)
class TranscriptLine:
    speaker: str  # "customer", "bot", "agent" (a specialist, after a handoff)
    text: str
    flagged: bool = False  # the message under review
    button: bool = False  # a button click: `text` is the button's title, not its payload


@dataclass
class ReviewMessage:
    event_id: int
    sender_id: str
    timestamp: str  # ISO 8601 UTC
    text: str
    intent: str | None
    confidence: float | None
    suggested_intent: str | None  # best real intent in the ranking (the one under nlu_fallback)
    reasons: list[str]
    csat_score: int | None
    transcript: list[TranscriptLine] = field(default_factory=list)


@dataclass
class Cluster:
    cluster_id: str  # stable for the same representative text
    representative: str
    count: int  # messages
    conversations: int
    reasons: dict[str, int]
    predicted_intents: dict[str, int]
    suggested_intent: str | None
    messages: list[ReviewMessage]

    @property
    def distinct_texts(self) -> list[str]:
        seen: dict[str, str] = {}
        for message in self.messages:
            seen.setdefault(normalise(message.text), message.text)
        return list(seen.values())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "distinct_texts": self.distinct_texts}


@dataclass
class _Turn:
    event_id: int
    timestamp: float | None
    speaker: str
    text: str
    intent: str | None = None
    confidence: float | None = None
    ranking: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    button: bool = False


def _buttons_of(data: dict[str, Any]) -> dict[str, str]:
    """payload -> title of the buttons a bot message offered (Rasa keeps them under data.buttons)."""
    found: dict[str, str] = {}
    for item in (data.get("data") or {}).get("buttons") or []:
        if isinstance(item, dict) and item.get("payload") and item.get("title"):
            found[str(item["payload"]).strip()] = str(item["title"])
    return found


def _csat_score(turn: _Turn) -> int | None:
    if turn.intent != "rate_chat":
        return None
    for entity in turn.entities:
        if entity.get("entity") == "csat_score":
            try:
                return int(str(entity.get("value")).strip())
            except ValueError:
                return None
    return None


def _is_payload(text: str) -> bool:
    return text.startswith("/")


def _load_turns(database_url: str, since: datetime | None) -> dict[str, list[_Turn]]:
    url = resolve_database_url(database_url)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise TrainerError(
            f"no tracker store at {url.removeprefix('sqlite:///')}: has Rasa stored conversations yet?"
        )
    engine = sa.create_engine(url)
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("sender_id", sa.String),
        sa.column("type_name", sa.String),
        sa.column("timestamp", sa.Float),
        sa.column("data", sa.Text),
    )
    query = (
        sa.select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
        .where(events.c.type_name.in_(("user", "bot")))
        .order_by(events.c.sender_id, events.c.id)
    )
    if since is not None:
        query = query.where(events.c.timestamp >= since.timestamp())
    conversations: dict[str, list[_Turn]] = {}
    offered: dict[str, dict[str, str]] = {}  # per conversation: the buttons of the latest bot message
    try:
        with engine.connect() as connection:
            for row in connection.execute(query):
                try:
                    data = json.loads(row.data or "{}")
                except json.JSONDecodeError:
                    continue
                if row.type_name == "bot":
                    offered[row.sender_id] = _buttons_of(data)
                text = (data.get("text") or "").strip()
                if not text:
                    continue  # e.g. an intent triggered by the handoff service, buttons-only bot replies
                turn = _Turn(row.id, row.timestamp, "customer" if row.type_name == "user" else "bot", text)
                title = offered.get(row.sender_id, {}).get(text) if row.type_name == "user" else None
                if title:  # a click on a button of the message just before: show what the customer saw
                    turn.text, turn.button = title, True
                if row.type_name == "user":
                    parse = data.get("parse_data") or {}
                    intent = parse.get("intent") or {}
                    turn.intent = intent.get("name")
                    turn.confidence = intent.get("confidence")
                    turn.ranking = parse.get("intent_ranking") or []
                    turn.entities = parse.get("entities") or []
                else:
                    metadata = data.get("metadata") or {}
                    if metadata.get("handoff"):  # a line of the live chat, written back by handoff
                        turn.speaker = "customer" if metadata.get("sender") == "customer" else "agent"
                conversations.setdefault(row.sender_id, []).append(turn)
    except sa.exc.SQLAlchemyError as error:
        raise TrainerError(
            f"cannot read Rasa's `events` table from the tracker store ({type(error).__name__}: "
            f"{str(error).splitlines()[0]})"
        ) from error
    finally:
        engine.dispose()
    return conversations


def _suggested_intent(turn: _Turn) -> str | None:
    for candidate in turn.ranking:
        name = candidate.get("name")
        if name and name != "nlu_fallback":
            return str(name)
    return turn.intent if turn.intent != "nlu_fallback" else None


def find_review_messages(
    *, database_url: str, threshold: float = 0.6, since: datetime | None = None
) -> list[ReviewMessage]:
    """Every customer message the bot handled badly, with why and a transcript excerpt."""
    found: list[ReviewMessage] = []
    for sender_id, turns in _load_turns(database_url, since).items():
        customer = [i for i, t in enumerate(turns) if t.speaker == "customer" and t.intent is not None]
        scores = [s for s in (_csat_score(turns[i]) for i in customer) if s is not None]
        low_csat = scores[-1] if scores and scores[-1] <= 2 else None
        for position, index in enumerate(customer):
            turn = turns[index]
            intent = turn.intent or ""
            clicked = turn.button or _is_payload(turn.text)
            if clicked or intent == "rate_chat" or intent.startswith("EXTERNAL_"):
                continue
            reasons = []
            if turn.intent == "nlu_fallback":
                reasons.append(REASON_FALLBACK)
            elif turn.confidence is not None and turn.confidence < threshold:
                reasons.append(REASON_LOW_CONFIDENCE)
            later = [turns[i] for i in customer[position + 1 :]]  # a button click counts too
            if turn.intent != "request_human" and later and later[0].intent == "request_human":
                reasons.append(REASON_BEFORE_HUMAN)
            if low_csat is not None and (reasons or turn.intent not in _ROUTINE_INTENTS):
                reasons.append(REASON_LOW_CSAT)
            if not reasons:
                continue
            window = turns[max(0, index - _LINES_BEFORE) : index + _LINES_AFTER + 1]
            found.append(
                ReviewMessage(
                    event_id=turn.event_id,
                    sender_id=sender_id,
                    timestamp=(
                        datetime.fromtimestamp(turn.timestamp, UTC).isoformat(timespec="seconds")
                        if turn.timestamp
                        else ""
                    ),
                    text=turn.text,
                    intent=turn.intent,
                    confidence=round(turn.confidence, 3) if turn.confidence is not None else None,
                    suggested_intent=_suggested_intent(turn),
                    reasons=reasons,
                    csat_score=low_csat,
                    transcript=[TranscriptLine(t.speaker, t.text, t is turn, t.button) for t in window],
                )
            )
    return found


def find_review_items(
    database_url: str,
    threshold: float = 0.6,
    *,
    since: datetime | None = None,
    similarity: float = DEFAULT_SIMILARITY,
) -> list[Cluster]:
    """The review list as plain data for a page or a file: clusters of similar badly handled
    messages, biggest first, each with its messages and their conversations."""
    messages = find_review_messages(database_url=database_url, threshold=threshold, since=since)
    # Cluster each distinct wording once, weighted by how often it was seen.
    by_wording: dict[str, list[ReviewMessage]] = {}
    for message in messages:
        by_wording.setdefault(normalise(message.text), []).append(message)
    wordings = list(by_wording)
    groups = cluster_texts(
        [by_wording[w][0].text for w in wordings],
        similarity=similarity,
        weights=[len(by_wording[w]) for w in wordings],
    )
    clusters = []
    for members in groups:
        group = sorted(
            (m for i in members for m in by_wording[wordings[i]]), key=lambda m: (m.timestamp, m.event_id)
        )
        texts = Counter(normalise(m.text) for m in group)
        representative_key = min(texts, key=lambda t: (-texts[t], len(t), t))
        representative = next(m.text for m in group if normalise(m.text) == representative_key)
        reasons = Counter(r for m in group for r in m.reasons)
        predicted = Counter(m.intent or "-" for m in group)
        suggested = Counter(m.suggested_intent for m in group if m.suggested_intent)
        clusters.append(
            Cluster(
                cluster_id=hashlib.sha1(representative_key.encode()).hexdigest()[:8],
                representative=representative,
                count=len(group),
                conversations=len({m.sender_id for m in group}),
                reasons=dict(reasons.most_common()),
                predicted_intents=dict(predicted.most_common()),
                suggested_intent=suggested.most_common(1)[0][0] if suggested else None,
                messages=group,
            )
        )
    return clusters


def render_markdown(clusters: list[Cluster], *, threshold: float, max_conversations: int = 3) -> str:
    lines = [
        "# Messages to review",
        "",
        f"{sum(c.count for c in clusters)} messages in {len(clusters)} groups "
        f"(confidence threshold {threshold}). Teach a group with "
        "`python -m trainer teach --intent NAME --from-review var/review.json --cluster ID`.",
        "",
    ]
    for cluster in clusters:
        reasons = ", ".join(f"{REASON_LABELS.get(r, r)} {n}" for r, n in cluster.reasons.items())
        predicted = ", ".join(f"{i} {n}" for i, n in cluster.predicted_intents.items())
        lines += [
            f"## {cluster.representative!r} x{cluster.count}  (`{cluster.cluster_id}`)",
            "",
            f"- conversations: {cluster.conversations}; why: {reasons}",
            f"- the bot understood: {predicted}; best real guess: {cluster.suggested_intent or '-'}",
            "- phrasings:",
            *[f"  - {text}" for text in cluster.distinct_texts],
            "",
        ]
        for message in cluster.messages[:max_conversations]:
            lines.append(f"Conversation `{message.sender_id}` at {message.timestamp}:")
            lines.append("")
            for line in message.transcript:
                marker = ">>" if line.flagged else "  "
                lines.append(f"    {marker} {line.speaker}: {line.text}")
            lines.append("")
    return "\n".join(lines) + "\n"


def render_json(clusters: list[Cluster], *, threshold: float) -> str:
    return json.dumps(
        {"threshold": threshold, "clusters": [c.to_dict() for c in clusters]}, indent=2, ensure_ascii=False
    )
