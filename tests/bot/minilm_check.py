"""Run in .venv-bot by tests/bot/test_minilm.py: the MiniLM encoder and components on a few sentences.

    python tests/bot/minilm_check.py MODEL_DIR SCRATCH_DIR

Prints one JSON object with what the tests assert on.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from bot.components.minilm_encoder import (  # noqa: E402 - after the sys.path line
    LOADED_FILES,
    MiniLMEncoder,
    ModelFileMismatch,
)

# Paraphrase pairs and unrelated pairs (none of them is a training or evaluation message).
PARAPHRASES = [
    ("how much money do i owe you right now", "what is the amount outstanding on my account"),
    ("when do i have to pay the invoice", "what is the payment deadline for my bill"),
    ("why did my bill get bigger this month", "my invoice went up compared to last month, why"),
]
UNRELATED = [
    ("how much money do i owe you right now", "recommend a good recipe for banana bread"),
    ("when do i have to pay the invoice", "which planet is closest to the sun"),
    ("why did my bill get bigger this month", "my dog keeps barking at night"),
]


def tampered_copy(model_dir: Path, scratch: Path, name: str) -> Path:
    """The model with every loaded file linked, except `name`, which is copied with one byte changed."""
    copy = scratch / f"tampered-{name.replace('/', '_')}"
    copy.mkdir(parents=True)
    for loaded in LOADED_FILES:
        if loaded == name:
            data = bytearray((model_dir / loaded).read_bytes())
            data[-2] ^= 1
            (copy / loaded).write_bytes(bytes(data))
        else:
            os.symlink((model_dir / loaded).resolve(), copy / loaded)
    return copy


def refused(model_dir: Path) -> str | None:
    try:
        MiniLMEncoder(model_dir)
    except ModelFileMismatch as error:
        return str(error)
    return None


def components(model_dir: Path) -> dict:
    """The Rasa components on hand-made messages: features, and the detector's decision and ranking."""
    from rasa.nlu.constants import TOKENS_NAMES
    from rasa.nlu.tokenizers.tokenizer import Token
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.components.minilm import MiniLMFeaturizer, MiniLMOutOfScopeDetector, shared_encoder

    def tokenized(text: str, **data: object) -> Message:
        """A message as the tokenizer leaves it (the components skip messages without tokens)."""
        tokens, offset = [], 0
        for word in text.split():
            offset = text.index(word, offset)
            tokens.append(Token(word, offset))
            offset += len(word)
        return Message(data={TEXT: text, TOKENS_NAMES[TEXT]: tokens, **data})

    featurizer = MiniLMFeaturizer(
        {**MiniLMFeaturizer.get_default_config(), "model_path": str(model_dir)}, "minilm"
    )
    message, empty = tokenized("what do i owe"), tokenized("   ")
    featurizer.process([message, empty])
    dense = [(f.type, f.features.shape, f.origin) for f in message.features]

    taught = {"check_balance": ["what is my balance", "how much do i owe you"],
              "out_of_scope": ["what is the weather tomorrow", "tell me a joke"]}
    encoder = shared_encoder(model_dir)
    texts = [t for examples in taught.values() for t in examples]
    intents = [i for i, examples in taught.items() for _ in examples]
    config = {**MiniLMOutOfScopeDetector.get_default_config(), "model_path": str(model_dir),
              "similarity_to": "predicted_intent", "min_similarity": 0.4, "oos_margin": 0.1}
    detector = MiniLMOutOfScopeDetector(config, None, None, encoder.encode(texts), intents)

    def classify(text: str) -> dict:
        ranking = [{"name": "check_balance", "confidence": 0.8}, {"name": "out_of_scope", "confidence": 0.2}]
        message = tokenized(text, **{INTENT: dict(ranking[0]), INTENT_RANKING_KEY: ranking})
        detector.process([message])
        return {"intent": message.get(INTENT), "ranking": message.get(INTENT_RANKING_KEY),
                "score": message.get("minilm_out_of_scope")}

    def plain_scores(vector: object, intent: str) -> dict:
        """The detector's scores the obvious way (masks, a full sort), to check its grouped shortcut."""
        similarities = detector.embeddings @ vector
        def best(mask: object) -> float:
            return round(float(similarities[mask].max()), 4) if mask.any() else -1.0
        return {"intent_similarity": best(detector.intents == intent),
                "in_scope_similarity": best(detector.intents != "out_of_scope"),
                "out_of_scope_similarity": best(detector.intents == "out_of_scope"),
                "out_of_scope_neighbours": int((detector.intents[similarities.argsort()[::-1][:5]]
                                                == "out_of_scope").sum())}

    probes = encoder.encode(["how much money do i still owe", "how long do i boil an egg", "joke please"])
    scores_checked = [detector.scores(vector, intent) == plain_scores(vector, intent)
                      for vector in probes for intent in ("check_balance", "out_of_scope", "pay_bill")]
    try:
        MiniLMOutOfScopeDetector({**config, "similarity_to": "nearest"}, None, None)
        bad_setting = None
    except ValueError as error:
        bad_setting = str(error)
    return {"dense": [[kind, list(shape), origin] for kind, shape, origin in dense],
            "empty_message_features": len(empty.features),
            "empty_message_detector": classify("   "),
            "in_scope": classify("how much money do i still owe"),
            "far": classify("how long do i boil an egg"),
            "scores_checked": scores_checked,
            "bad_setting": bad_setting}


def blender(model_dir: Path, scratch: Path) -> dict:
    """The intent blender trained on a few examples, persisted, loaded back and run on DIET-like rankings."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.constants import TOKENS_NAMES
    from rasa.nlu.tokenizers.tokenizer import Token
    from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.components.minilm_blend import MiniLMIntentBlender, blend, closing_question

    taught = {"check_balance": ["what is my balance", "how much do i owe you", "what's left to pay"],
              "ask_due_date": ["when is my bill due", "what is the due date", "by when do i have to pay"],
              "out_of_scope": ["what is the weather tomorrow", "tell me a joke", "book me a flight"]}
    examples = [Message(data={TEXT: text, INTENT: intent})
                for intent, texts in taught.items() for text in texts]
    (scratch / "blender-storage").mkdir()
    storage = LocalModelStorage(scratch / "blender-storage")
    resource = Resource("blender")
    config = {**MiniLMIntentBlender.get_default_config(), "model_path": str(model_dir)}
    MiniLMIntentBlender.create(config, storage, resource, None).train(TrainingData(examples))
    loaded = MiniLMIntentBlender.load(config, storage, resource, None)
    untrained = MiniLMIntentBlender.load(config, storage, Resource("never-trained"), None)

    def run(component: MiniLMIntentBlender, text: str, ranking: list[dict]) -> dict:
        tokens = [Token(word, text.index(word)) for word in text.split()]
        message = Message(data={TEXT: text, INTENT: dict(ranking[0]), INTENT_RANKING_KEY: ranking,
                                **({TOKENS_NAMES[TEXT]: tokens} if tokens else {})})
        component.process([message])
        return {"intent": message.get(INTENT), "ranking": message.get(INTENT_RANKING_KEY),
                "score": message.get("minilm_blend")}

    unsure = [{"name": "check_balance", "confidence": 0.55}, {"name": "ask_due_date", "confidence": 0.45}]
    sure = [{"name": "check_balance", "confidence": 0.98}, {"name": "ask_due_date", "confidence": 0.02}]
    try:
        MiniLMIntentBlender({**config, "weight": 1.5}, storage, resource)
        bad_weight = None
    except ValueError as error:
        bad_weight = str(error)
    return {
        "intents": loaded.intents,
        "unsure": run(loaded, "which day is the payment deadline", unsure),
        "sure": run(loaded, "how much is on my account", sure),
        "weight_zero": run(MiniLMIntentBlender({**config, "weight": 0.0}, storage, resource, loaded.weights,
                                               loaded.bias, loaded.intents),
                           "which day is the payment deadline", unsure),
        "untrained": run(untrained, "which day is the payment deadline", unsure),
        "no_words": run(loaded, "", unsure),
        "pure": blend([{"name": "a", "confidence": 0.8}, {"name": "b", "confidence": 0.2}],
                      {"a": 0.2, "b": 0.8, "c": 0.0}, 0.5),
        "bad_weight": bad_weight,
        "story": run(MiniLMIntentBlender({**config, "closing_question_min_words": 20}, storage, resource,
                                         loaded.weights, loaded.bias, loaded.intents), STORY, unsure),
        "story_whole": run(loaded, STORY, unsure),
        "closing": {text: closing_question(text, 20) for text in CLOSING_CASES},
    }


# A long story that ends in a plain question; the story is made of the out_of_scope examples
STORY = ("The weather tomorrow is meant to be awful and I still have to book a flight home, so tell me a "
         "joke to cheer me up, what a week. The weather, the flight, the joke. What is my balance?")
CLOSING_CASES = (
    STORY,
    "what is my balance",  # short: the whole message
    "I am back from a trip and catching up on all the post and the bills and the emails this week so bear "
    "with me. Please tell me when my bill is due. Thanks!",  # no question mark: the last sentence of 3+ words
    "one long sentence without any full stop that goes on and on about a trip and the weather and the post "
    "and what is my balance",  # one sentence: the whole message
)


def main() -> None:
    model_dir, scratch = Path(sys.argv[1]), Path(sys.argv[2])
    encoder = MiniLMEncoder(model_dir)
    text = "Why was I charged TWICE for my café bill?"
    tokens = encoder.tokenizer.encode(text).tokens
    hello = encoder.encode(["hello world", "flag embedding"])
    pairs = PARAPHRASES + UNRELATED
    left = encoder.encode([a for a, _ in pairs], batch_size=4)
    right = encoder.encode([b for _, b in pairs], batch_size=4)
    cosines = (left * right).sum(axis=1)
    alone = MiniLMEncoder(model_dir, verify=False)
    one_by_one = np.stack([alone.encode([a])[0] for a, _ in pairs])
    # The numpy forward pass is the reference: a second implementation of the same model.
    reference = MiniLMEncoder(model_dir, verify=False, backend="numpy")
    texts = ["hello world", text, *[a for a, _ in pairs], " ".join(["my bill is wrong"] * 40)]
    long_text = " ".join(["my bill is wrong"] * 200)
    print(
        json.dumps(
            {
                "tokens": tokens, "hello_world_first5": hello[0, :5].tolist(), "shape": list(left.shape),
                "norms": np.linalg.norm(left, axis=1).tolist(),
                "paraphrase_cosines": cosines[: len(PARAPHRASES)].tolist(),
                "unrelated_cosines": cosines[len(PARAPHRASES) :].tolist(),
                "batched_vs_alone_max_diff": float(np.abs(one_by_one - left).max()),
                "backend": encoder.backend,
                "numpy_vs_onnxruntime_max_diff": float(
                    np.abs(reference.encode(texts) - encoder.encode(texts)).max()
                ),
                "numpy_hello_world_first5": reference.encode(["hello world"])[0, :5].tolist(),
                "int8_min_cosine": float(
                    (
                        MiniLMEncoder(model_dir, verify=False, backend="onnxruntime-int8").encode(texts)
                        * encoder.encode(texts)
                    )
                    .sum(axis=1)
                    .min()
                ),
                "long_text_tokens": len(encoder.token_ids(long_text)),
                "long_text_norm": float(np.linalg.norm(encoder.encode([long_text])[0])),
                "refused": {name: refused(tampered_copy(model_dir, scratch, name)) for name in LOADED_FILES},
                "refused_missing": refused(scratch / "no-such-model"),
                "components": components(model_dir),
                "blender": blender(model_dir, scratch),
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main()
