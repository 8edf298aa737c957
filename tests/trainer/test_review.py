"""The review finds exactly the badly handled messages in a tracker store written by Rasa."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.trainer.conftest import REPO_ROOT
from tests.trainer.tracker_conversations import EXPECTED_REASONS
from trainer.review import find_review_items, find_review_messages


def test_lists_each_bad_message_with_its_reason(sqlite_tracker_url: str) -> None:
    messages = find_review_messages(database_url=sqlite_tracker_url, threshold=0.6)
    assert {m.text: m.reasons for m in messages} == EXPECTED_REASONS


def test_threshold_decides_what_counts_as_low_confidence(sqlite_tracker_url: str) -> None:
    strict = {m.text for m in find_review_messages(database_url=sqlite_tracker_url, threshold=0.95)}
    # 0.91, 0.93 and 0.88 are now low; rate_chat button payloads never are.
    assert {
        "why was i charged twice for my payment", "what is this late fee", "stop sending me paper bills",
    } <= strict
    assert not any(text.startswith("/") for text in strict)
    lenient = {m.text for m in find_review_messages(database_url=sqlite_tracker_url, threshold=0.5)}
    assert "can i get an extension on my payment" not in lenient


def test_similar_messages_form_one_cluster_with_their_conversations(sqlite_tracker_url: str) -> None:
    clusters = find_review_items(sqlite_tracker_url, 0.6)
    biggest = clusters[0]
    assert biggest.count == 3 and biggest.conversations == 3
    assert {m.sender_id for m in biggest.messages} == {
        "conv-fallback-1", "conv-fallback-2", "conv-fallback-3",
    }
    assert biggest.suggested_intent == "how_to_pay"
    assert biggest.reasons == {"nlu_fallback": 3}
    assert all(len(c.messages) == 1 for c in clusters[1:]), "unrelated questions stay apart"
    gift_cards = next(c for c in clusters if c.representative == "do you sell gift cards")
    # The transcript excerpt is the conversation around the message, the message itself flagged.
    flagged = [line for line in gift_cards.messages[0].transcript if line.flagged]
    assert [line.text for line in flagged] == ["do you sell gift cards"]
    assert gift_cards.messages[0].transcript[0].text == "update my card details please"


def test_live_chat_lines_show_as_the_agent(sqlite_tracker_url: str) -> None:
    messages = find_review_messages(database_url=sqlite_tracker_url, threshold=0.6)
    human = next(m for m in messages if m.sender_id == "conv-then-human")
    assert ("agent", "Hi, this is Dana. I see two payments, let me refund one.") in [
        (line.speaker, line.text) for line in human.transcript
    ]


def test_low_csat_carries_the_score(sqlite_tracker_url: str) -> None:
    messages = find_review_messages(database_url=sqlite_tracker_url, threshold=0.6)
    assert [m.csat_score for m in messages if "low_csat" in m.reasons] == [2]


@pytest.mark.postgres
def test_reads_the_production_postgresql_tracker_store(postgres_tracker_url: str) -> None:
    messages = find_review_messages(database_url=postgres_tracker_url, threshold=0.6)
    assert {m.text: m.reasons for m in messages} == EXPECTED_REASONS


def test_review_command_writes_markdown_and_json(sqlite_tracker_url: str, tmp_path) -> None:
    markdown, as_json = tmp_path / "review.md", tmp_path / "review.json"
    for out, extra in ((markdown, []), (as_json, ["--json"])):
        subprocess.run(
            [sys.executable, "-m", "trainer", "review", "--database-url", sqlite_tracker_url,
             "--threshold", "0.6", "--out", str(out), *extra],
            check=True, cwd=REPO_ROOT, capture_output=True, text=True,
        )
    text = markdown.read_text()
    assert "how do i update my card details" in text and "conv-fallback-2" in text
    data = json.loads(as_json.read_text())
    assert data["threshold"] == 0.6
    assert data["clusters"][0]["count"] == 3
    assert sum(c["count"] for c in data["clusters"]) == len(EXPECTED_REASONS)


def test_a_missing_or_foreign_database_is_a_clear_error(tmp_path) -> None:
    from trainer.errors import TrainerError

    with pytest.raises(TrainerError, match="no tracker store"):
        find_review_messages(database_url=f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists(), "the review never creates a database"
    other = tmp_path / "other.db"
    import sqlite3

    sqlite3.connect(other).execute("create table something (id integer)").connection.commit()
    with pytest.raises(TrainerError, match="cannot read Rasa's `events` table"):
        find_review_messages(database_url=f"sqlite:///{other}")
