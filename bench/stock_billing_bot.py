"""A billing bot as a team would build it with stock Rasa defaults: the second baseline of bench/load.py.

spaCy (the same en_core_web_sm 3.6 base as the project) + DIET + TED + one custom action served by
rasa-sdk's stock action server, in-memory tracker store, default settings. Written into a directory at
benchmark time, trained there and served by `rasa run` + `rasa run actions`, so the baseline always runs the
installed Rasa on this machine. The examples are written for this benchmark only (not from bot/data or any
evaluation set): it measures serving cost, not understanding.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

CONFIG = """\
recipe: default.v1
language: en
assistant_id: stock-billing-baseline
pipeline:
  - name: SpacyNLP
    model: "{spacy_model}"
  - name: SpacyTokenizer
  - name: SpacyFeaturizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
  - name: EntitySynonymMapper
  - name: FallbackClassifier
    threshold: 0.3
policies:
  - name: MemoizationPolicy
  - name: RulePolicy
  - name: TEDPolicy
    max_history: 5
    epochs: 100
"""

INTENTS: dict[str, list[str]] = {
    "greet": ["hi", "hello", "hey", "good morning", "hi there", "hey there", "good evening", "hello bot"],
    "goodbye": ["bye", "goodbye", "see you", "that's all, bye", "talk later", "bye for now", "cya"],
    "thank": ["thanks", "thank you", "thanks a lot", "much appreciated", "cheers", "thank you so much"],
    "check_balance": [
        "what's my balance", "how much do I owe", "what do I owe you", "tell me my balance",
        "current balance please", "how much is outstanding on my account", "balance?",
        "what is the amount I need to pay", "show my account balance", "how much money do I owe",
    ],
    "ask_due_date": [
        "when is my bill due", "what's the due date", "when do I have to pay", "due date please",
        "by when must I pay", "when is the payment due", "what day is my bill due",
        "deadline for my payment", "when should I pay my bill", "is my bill due soon",
    ],
    "ask_late_fee": [
        "what is the late fee on my bill", "why was I charged a late fee", "late fee?",
        "how much is the late payment fee", "explain the late charge", "what's this late fee",
        "do you charge for paying late", "why is there a penalty on my bill",
    ],
}

DOMAIN = """\
version: "3.1"
intents: [{intents}]
responses:
  utter_greet:
    - text: "Hello! I can help with your bill."
  utter_goodbye:
    - text: "Goodbye!"
  utter_thank:
    - text: "You're welcome."
  utter_due_date:
    - text: "Your bill is due on the 17th."
  utter_late_fee:
    - text: "A late fee of $5.00 applies when a bill is paid after its due date."
  utter_default:
    - text: "Sorry, I didn't get that."
actions:
  - action_check_balance
session_config:
  session_expiration_time: 60
  carry_over_slots_to_new_session: true
"""

RULES = """\
version: "3.1"
rules:
{rules}
  - rule: fallback
    steps:
      - intent: nlu_fallback
      - action: utter_default
"""

STORIES = """\
version: "3.1"
stories:
  - story: balance then due date
    steps:
      - intent: greet
      - action: utter_greet
      - intent: check_balance
      - action: action_check_balance
      - intent: ask_due_date
      - action: utter_due_date
      - intent: thank
      - action: utter_thank
  - story: late fee then bye
    steps:
      - intent: greet
      - action: utter_greet
      - intent: ask_late_fee
      - action: utter_late_fee
      - intent: goodbye
      - action: utter_goodbye
"""

# The one custom action: what a billing bot's first action does, a lookup answered from data.
ACTIONS = '''\
from decimal import Decimal

from rasa_sdk import Action

BALANCES = {str(i): Decimal("42.50") + i for i in range(100)}


class ActionCheckBalance(Action):
    def name(self):
        return "action_check_balance"

    def run(self, dispatcher, tracker, domain):
        balance = BALANCES.get(str(len(tracker.sender_id) % 100), Decimal("0.00"))
        dispatcher.utter_message(text=f"Your balance is ${balance:.2f}.")
        return []
'''

ENDPOINTS = """\
action_endpoint:
  url: "http://127.0.0.1:{actions_port}/webhook"
"""

RESPONSE_OF = {"greet": "utter_greet", "goodbye": "utter_goodbye", "thank": "utter_thank",
               "check_balance": "action_check_balance", "ask_due_date": "utter_due_date",
               "ask_late_fee": "utter_late_fee"}

SCRIPT = ["hi there", "what's my balance", "what is the late fee on my bill", "thanks"]


def spacy_base_model() -> str:
    """The base model the project's own pipeline starts from (bot/spacy_pipeline.py, in Rasa's venv)."""
    code = "import sys; sys.path.insert(0, 'bot'); import spacy_pipeline as s; print(s.find_base_model())"
    return subprocess.run([str(REPO_ROOT / ".venv-bot" / "bin" / "python"), "-c", code], cwd=REPO_ROOT,
                          check=True, capture_output=True, text=True).stdout.strip()


def write(directory: Path, *, spacy_model: str, actions_port: int) -> None:
    (directory / "data").mkdir(parents=True, exist_ok=True)
    (directory / "actions").mkdir(exist_ok=True)
    (directory / "config.yml").write_text(CONFIG.format(spacy_model=spacy_model))
    (directory / "domain.yml").write_text(DOMAIN.format(intents=", ".join(INTENTS)))
    nlu = ["version: \"3.1\"", "nlu:"]
    for intent, examples in INTENTS.items():
        nlu.append(f"  - intent: {intent}")
        nlu.append("    examples: |")
        nlu.extend(f"      - {example}" for example in examples)
    (directory / "data" / "nlu.yml").write_text("\n".join(nlu) + "\n")
    rules = "\n".join(
        f"  - rule: {intent}\n    steps:\n      - intent: {intent}\n      - action: {action}"
        for intent, action in RESPONSE_OF.items()
    )
    (directory / "data" / "rules.yml").write_text(RULES.format(rules=rules))
    (directory / "data" / "stories.yml").write_text(STORIES)
    (directory / "actions" / "__init__.py").write_text("")
    (directory / "actions" / "actions.py").write_text(ACTIONS)
    (directory / "endpoints.yml").write_text(ENDPOINTS.format(actions_port=actions_port))
