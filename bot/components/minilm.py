"""all-MiniLM-L6-v2 sentence embeddings in Rasa: a dense featurizer for DIET, and an out-of-scope detector.

`MiniLMFeaturizer` adds one 384-dimensional sentence feature per message (no sequence features: MiniLM's
word pieces do not line up with SpacyTokenizer's tokens, and DIET combines dense sentence features with
the sparse sequence features of the CountVectorsFeaturizers).

`MiniLMOutOfScopeDetector` runs after DIET. It keeps the embeddings of the training examples and, for a
message DIET answered with an in-scope intent, measures how close the message is to that intent's own
training examples. A message unlike anything the bot was taught (a recipe, the Superbowl, a vacation-days
balance) is far from every in-scope example even when it shares a word with one; then the intent becomes
`out_of_scope`. Thresholds are tuned on the development sets only (bench/nlu_minilm.py).

Both share one encoder per model directory (bot/components/minilm_encoder.py), so a message is embedded once.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.minilm_encoder import DEFAULT_MODEL_DIR, REPO_ROOT, MiniLMEncoder

logger = logging.getLogger(__name__)

MODEL_PATH = "model_path"
BACKEND = "backend"  # bot/components/minilm_encoder.py's BACKENDS
REQUIRED_PACKAGES = ["tokenizers", "safetensors", "onnx", "onnxruntime"]
OUT_OF_SCOPE = "out_of_scope"
SCORE_KEY = "minilm_out_of_scope"  # in the parse output: why the detector decided what it did

NEIGHBOURS = 5  # the nearest training examples counted for `min_out_of_scope_neighbours`
SIMILARITY_TO = {"predicted_intent": "intent_similarity", "any_in_scope": "in_scope_similarity"}

_encoders: dict[tuple[Path, str], MiniLMEncoder] = {}


def shared_encoder(model_path: str | Path, backend: str = "onnxruntime") -> MiniLMEncoder:
    """One encoder (and embedding cache) per model directory and backend in this process. A relative path is
    taken from the working directory, as SpacyNLP's `model` is (Rasa runs in the repository's root)."""
    key = (Path(model_path).resolve(), backend)
    if key not in _encoders:
        _encoders[key] = MiniLMEncoder(key[0], backend=backend)
    return _encoders[key]


def _texts(messages: list[Message]) -> list[tuple[Message, str]]:
    # Only messages the tokenizer found words in: DIET needs every feature of a message to share its tokens,
    # so a sentence feature on an empty message (no sparse features) fails DIET's input signature.
    return [(message, message.get(TEXT)) for message in messages
            if message.get(TEXT) is not None and message.get(TOKENS_NAMES[TEXT])]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """A 384-dimensional all-MiniLM-L6-v2 sentence feature for each message's text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(), MODEL_PATH: str(DEFAULT_MODEL_DIR.relative_to(REPO_ROOT)),
            BACKEND: "onnxruntime",
        }

    @staticmethod
    def required_packages() -> list[str]:
        return REQUIRED_PACKAGES

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.encoder = shared_encoder(config[MODEL_PATH], config[BACKEND])

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> MiniLMFeaturizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if not config.get(MODEL_PATH):
            raise ValueError(f"{cls.__name__} needs `{MODEL_PATH}` (the directory `make minilm` writes)")

    def process(self, messages: list[Message]) -> list[Message]:
        pairs = _texts(messages)
        vectors = self.encoder.encode([text for _, text in pairs])
        for (message, _), vector in zip(pairs, vectors, strict=True):
            message.add_features(
                Features(vector[np.newaxis, :], FEATURE_TYPE_SENTENCE, TEXT, self._identifier)
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class MiniLMOutOfScopeDetector(GraphComponent, IntentClassifier):
    """Turns an in-scope prediction into `out_of_scope` when the message is unlike that intent's examples.

    Rule (tuned on the development sets): with s = the highest cosine similarity between the message and a
    training example of DIET's predicted intent (`similarity_to: predicted_intent`) or of any in-scope intent
    (`any_in_scope`), and s_oos = the highest to an out_of_scope example, the message is out of scope when
    s < `min_similarity`, or when s_oos - s > `oos_margin` (clearly closer to something the bot was taught
    to refuse), or when at least `min_out_of_scope_neighbours` of its 5 nearest training examples are
    out_of_scope ones (6, the default, switches that part off).
    """

    @staticmethod
    def required_packages() -> list[str]:
        return REQUIRED_PACKAGES

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {MODEL_PATH: str(DEFAULT_MODEL_DIR.relative_to(REPO_ROOT)), BACKEND: "onnxruntime",
                "similarity_to": "predicted_intent",
                "min_similarity": 0.45, "oos_margin": 0.15, "min_out_of_scope_neighbours": NEIGHBOURS + 1,
                "confidence": 0.9}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 embeddings: np.ndarray | None = None, intents: list[str] | None = None) -> None:
        if config["similarity_to"] not in SIMILARITY_TO:
            raise ValueError(
                f"similarity_to must be one of {sorted(SIMILARITY_TO)}, not {config['similarity_to']!r}"
            )
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.encoder = shared_encoder(config[MODEL_PATH], config[BACKEND])
        self._index(embeddings if embeddings is not None else np.zeros((0, 384), dtype=np.float32),
                    list(intents or []))

    def _index(self, embeddings: np.ndarray, intents: list[str]) -> None:
        """Keeps the examples grouped by intent, so one `maximum.reduceat` gives every intent's best
        similarity (boolean masks over ~2,000 examples per message cost more than the similarity product)."""
        order = sorted(range(len(intents)), key=lambda k: intents[k])  # stable: ties keep training order
        grouped = [intents[k] for k in order]
        self.embeddings = embeddings[order] if order else embeddings
        self.intents = np.array(grouped, dtype=object)
        self._names = sorted(set(grouped))
        self._starts = np.array([grouped.index(name) for name in self._names], dtype=np.intp)
        self._in_scope_groups = [g for g, name in enumerate(self._names) if name != OUT_OF_SCOPE]
        self._is_out_of_scope = self.intents == OUT_OF_SCOPE

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> MiniLMOutOfScopeDetector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) is not None]
        self._index(self.encoder.encode([m.get(TEXT) for m in examples]), [m.get(INTENT) for m in examples])
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            np.save(directory / "embeddings.npy", self.embeddings)
            (directory / "intents.json").write_text(json.dumps(self.intents.tolist()))

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> MiniLMOutOfScopeDetector:
        try:
            with model_storage.read_from(resource) as directory:
                embeddings = np.load(directory / "embeddings.npy")
                intents = json.loads((directory / "intents.json").read_text())
        except (ValueError, FileNotFoundError):
            logger.warning(f"{cls.__name__} found no trained examples: it will leave every intent as it is")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, embeddings, intents)

    def scores(self, vector: np.ndarray, intent: str) -> dict[str, float]:
        similarities = self.embeddings @ vector
        group_best = np.maximum.reduceat(similarities, self._starts).tolist()
        best = dict(zip(self._names, group_best, strict=True))
        in_scope = max((group_best[g] for g in self._in_scope_groups), default=-1.0)
        # the NEIGHBOURS nearest as a set (their order does not matter for the count)
        nearest = (np.argpartition(-similarities, NEIGHBOURS)[:NEIGHBOURS] if len(similarities) > NEIGHBOURS
                   else np.arange(len(similarities)))
        return {"intent_similarity": round(best.get(intent, -1.0), 4),
                "in_scope_similarity": round(in_scope, 4),
                "out_of_scope_similarity": round(best.get(OUT_OF_SCOPE, -1.0), 4),
                "out_of_scope_neighbours": int(self._is_out_of_scope[nearest].sum())}

    def out_of_scope_rule(self, scores: dict[str, float]) -> str | None:
        """The first of the three rules that makes the message out of scope, or None (bench/nlu_rejections.py
        counts rejections by it)."""
        similarity = scores[SIMILARITY_TO[self._config["similarity_to"]]]
        if similarity < self._config["min_similarity"]:
            return "unlike every in-scope example"
        if scores["out_of_scope_similarity"] - similarity > self._config["oos_margin"]:
            return "nearer an out_of_scope example"
        if scores["out_of_scope_neighbours"] >= self._config["min_out_of_scope_neighbours"]:
            return "out_of_scope neighbours"
        return None

    def is_out_of_scope(self, scores: dict[str, float]) -> bool:
        return self.out_of_scope_rule(scores) is not None

    def process(self, messages: list[Message]) -> list[Message]:
        if not len(self.embeddings):
            return messages
        pairs = [(m, text) for m, text in _texts(messages) if (m.get(INTENT) or {}).get(INTENT_NAME_KEY)]
        vectors = self.encoder.encode([text for _, text in pairs])
        for (message, _), vector in zip(pairs, vectors, strict=True):
            intent = message.get(INTENT)
            with self.encoder.single_thread_blas():
                scores = self.scores(vector, intent[INTENT_NAME_KEY])
            decided = intent[INTENT_NAME_KEY] != OUT_OF_SCOPE and self.is_out_of_scope(scores)
            message.set(
                SCORE_KEY,
                {
                    **scores, "diet_intent": intent[INTENT_NAME_KEY],
                    "diet_confidence": round(float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0), 4),
                    "overruled": decided,
                },
                add_to_output=True,
            )
            if decided:
                self._overrule(message)
        return messages

    def _overrule(self, message: Message) -> None:
        # out_of_scope on top with `confidence`; the rest scaled below it, so FallbackClassifier's threshold
        # and ambiguity checks see a clear decision rather than a tie.
        confidence = float(self._config["confidence"])
        ranking = [
            {**entry, PREDICTED_CONFIDENCE_KEY: float(entry[PREDICTED_CONFIDENCE_KEY]) * (1.0 - confidence)}
            for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get(INTENT_NAME_KEY) != OUT_OF_SCOPE
        ]
        decision = {INTENT_NAME_KEY: OUT_OF_SCOPE, PREDICTED_CONFIDENCE_KEY: confidence}
        message.set(INTENT, decision, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [decision, *ranking], add_to_output=True)
