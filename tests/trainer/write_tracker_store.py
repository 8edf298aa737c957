"""Write conversations into a tracker store with Rasa's own SQLTrackerStore, so the review reads
exactly the schema and event JSON a running Rasa writes. Runs in .venv-bot:

    .venv-bot/bin/python tests/trainer/write_tracker_store.py DIALECT DB [HOST PORT USER] < conversations.json
"""

import asyncio
import json
import sys

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker


def events_for(turns, start):
    clock = start
    events = [ActionExecuted("action_session_start", timestamp=clock), SessionStarted(timestamp=clock),
              ActionExecuted("action_listen", timestamp=clock)]
    for turn in turns:
        clock += 1.0
        speaker, text = turn[0], turn[1]
        if speaker == "customer":
            intent, confidence = turn[2], turn[3]
            entities = [
                {"entity": e, "value": v, "start": 0, "end": 0} for e, v in (turn[4] if len(turn) > 4 else [])
            ]
            ranking = [
                {"name": n, "confidence": c}
                for n, c in (turn[5] if len(turn) > 5 else [(intent, confidence)])
            ]
            parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
                     "entities": entities, "intent_ranking": ranking}
            events.append(UserUttered(text, parse["intent"], entities, parse, timestamp=clock,
                                      input_channel="rest", metadata={"conversation_id": "x"}))
            events.append(ActionExecuted("action_listen", timestamp=clock))
        elif speaker == "bot":  # ("bot", text[, [[title, payload], ...]]): buttons as Rasa stores them
            offered = turn[2] if len(turn) > 2 else []
            buttons = [{"title": title, "payload": payload} for title, payload in offered]
            events.append(BotUttered(text, data={"buttons": buttons} if buttons else None, timestamp=clock))
        else:
            events.append(BotUttered(text, timestamp=clock,
                                     metadata={"handoff": True, "sender": speaker, "name": "Dana"}))
    return events


async def main():
    dialect, db, *rest = sys.argv[1:]
    host, port, username = [*rest, None, None, None][:3]
    store = SQLTrackerStore(Domain.empty(), dialect=dialect, db=db, host=host, port=port, username=username)
    conversations = json.load(sys.stdin)
    for index, (sender_id, turns) in enumerate(conversations.items()):
        tracker = DialogueStateTracker.from_events(
            sender_id, events_for(turns, 1_767_225_600.0 + index * 100)
        )
        await store.save(tracker)


asyncio.run(main())
