"""Button clicks in the review's transcripts read as the button's title the customer saw, not the payload
Rasa stored (`/inform{"line_item_id": "30"}`), and the best guess under a fallback is flagged as a guess.
In process: Rasa's `events` rows written with the JSON a running Rasa stores for BotUttered/UserUttered."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from handoff.training.service import review
from trainer.review import find_review_messages

PAYLOAD = '/inform{"line_item_id": "30"}'


def _bot(text: str, buttons: list[tuple[str, str]] | None = None) -> tuple[str, dict]:
    data = {"elements": None, "quick_replies": None, "attachment": None, "image": None, "custom": None,
            "buttons": [{"title": t, "payload": p} for t, p in buttons] if buttons else None}
    return "bot", {"event": "bot", "text": text, "data": data, "metadata": {}}


def _user(text: str, intent: str, confidence: float, ranking: list[tuple[str, float]] | None = None
          ) -> tuple[str, dict]:
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": [],
             "intent_ranking": [{"name": n, "confidence": c} for n, c in (ranking or [(intent, confidence)])]}
    return "user", {"event": "user", "text": text, "parse_data": parse, "input_channel": "rest"}


def write_events(path: Path, conversation: list[tuple[str, dict]]) -> str:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                   "timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)")
        for index, (kind, data) in enumerate(conversation):
            db.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                       ("chat-1", kind, 1_780_000_000.0 + index, json.dumps(data)))
    return f"sqlite:///{path}"


CONVERSATION = [
    _bot("Which charge do you mean?", [("Installation fee $49.00", PAYLOAD),
                                       ("Late fee $10.00", '/inform{"line_item_id": "31"}')]),
    _user(PAYLOAD, "inform", 0.99),
    _bot("The installation fee is a one-time charge."),
    _user("can i have it back as store credit", "nlu_fallback", 0.5,
          [("nlu_fallback", 0.5), ("open_dispute", 0.42)]),
    _bot("Sorry, I didn't get that. Could you rephrase?"),
    _user("/request_human", "request_human", 1.0),  # typed payload, no button offered: left as it is
]


def test_a_button_click_reads_as_the_buttons_title(tmp_path: Path) -> None:
    url = write_events(tmp_path / "tracker.db", CONVERSATION)
    [message] = find_review_messages(database_url=url, threshold=0.6)
    assert message.text == "can i have it back as store credit"
    lines = [(line.speaker, line.text, line.button) for line in message.transcript]
    assert ("customer", "Installation fee $49.00", True) in lines
    assert not any(text == PAYLOAD for _, text, _ in lines)
    assert ("customer", "/request_human", False) in lines


def test_the_page_gets_titles_and_a_guess_flag(tmp_path: Path) -> None:
    url = write_events(tmp_path / "tracker.db", CONVERSATION)
    [cluster] = review(tracker_database_url=url, threshold=0.6)["clusters"]
    assert cluster["suggested_intent"] == "open_dispute"
    assert cluster["suggested_intent_is_guess"] is True  # a fallback's runner-up: never pre-selected
    transcript = cluster["examples"][0]["transcript"]
    assert {"speaker": "customer", "text": "Installation fee $49.00", "flagged": False, "button": True} \
        in transcript
