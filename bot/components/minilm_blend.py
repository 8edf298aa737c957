"""A second opinion on the intent from the MiniLM sentence embedding, blended with DIET's.

DIET learns from the project's own word and character n-grams as well as the embedding, so it is sure of
phrasings like the training data and less so of the words customers use instead; a linear model on the
all-MiniLM-L6-v2 embedding alone reads meaning rather than wording. `MiniLMIntentBlender` runs right after
DIET: it fits a multinomial logistic regression on the training examples' embeddings (deterministic, a few
seconds) and, per message, replaces DIET's confidences by their weighted geometric mean with the regression's
(`DIET^(1 - weight) * regression^weight`, normalised). The later components (the out-of-scope detector,
FallbackClassifier's threshold and ambiguity checks) see the blend.

The message's embedding comes from the encoder the featurizer already ran (bot/components/minilm.py's
shared encoder and its cache), so the extra cost per message is one 384 x intents product.

A long story that ends in a plain question is mostly story, and so is its embedding: with
`closing_question_min_words` set, the regression reads a message of at least that many words and two sentences
by its closing question alone (the last sentence ending in "?", else the last sentence); DIET and the
out-of-scope detector still read the whole message. That costs one more embedding, for long messages only.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.minilm import BACKEND, MODEL_PATH, REQUIRED_PACKAGES, _texts, shared_encoder
from bot.components.minilm_encoder import DEFAULT_MODEL_DIR, REPO_ROOT

logger = logging.getLogger(__name__)

SCORE_KEY = "minilm_blend"  # in the parse output: the regression's top intent and DIET's, before the blend
RANKING_LENGTH = 10  # as DIET's default ranking_length
DIET_FLOOR = 1e-4  # DIET's confidence of an intent it did not rank, and the least any intent counts for
REGRESSION_FLOOR = 1e-6
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
MIN_SENTENCE_WORDS = 3  # "Hi." or "Thanks!" is not the sentence that carries the question


def closing_question(text: str, min_words: int) -> str | None:
    """A long message's last question (else its last sentence); None for a short message, one sentence, or
    min_words 0 (off)."""
    if min_words <= 0 or len(text.split()) < min_words:
        return None
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if len(s.split()) >= MIN_SENTENCE_WORDS]
    if len(sentences) < 2:
        return None
    questions = [s for s in sentences if s.endswith("?")]
    return (questions or sentences)[-1]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def blend(diet_ranking: list[dict[str, Any]], regression: dict[str, float],
          weight: float) -> list[dict[str, Any]]:
    """The blended ranking, best first: the normalised weighted geometric mean of the two confidences.

    A geometric mean (log-linear pooling) needs both opinions for a high score, so an intent only one of
    them believes in drops back instead of tying with the other's choice; on the development sets it beat
    the arithmetic mean at every weight tried (bench/results/nlu.md, session 15). An intent outside DIET's
    top ten counts as `DIET_FLOOR` on DIET's side.
    """
    diet = {entry[INTENT_NAME_KEY]: float(entry[PREDICTED_CONFIDENCE_KEY]) for entry in diet_ranking}
    names = dict.fromkeys([*diet, *regression])
    logs = {name: (1.0 - weight) * math.log(max(diet.get(name, 0.0), DIET_FLOOR))
            + weight * math.log(max(regression.get(name, 0.0), REGRESSION_FLOOR)) for name in names}
    top = max(logs.values())
    scores = {name: math.exp(value - top) for name, value in logs.items()}
    total = sum(scores.values())
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:RANKING_LENGTH]
    return [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: score / total} for name, score in ranked]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class MiniLMIntentBlender(GraphComponent, IntentClassifier):
    """DIET's intent confidences blended with a logistic regression on the MiniLM embedding.

    `weight` is the regression's share (0 leaves DIET's ranking as it is); `C` is the regression's inverse
    regularisation strength (scikit-learn's LogisticRegression).
    """

    @staticmethod
    def required_packages() -> list[str]:
        return [*REQUIRED_PACKAGES, "sklearn"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {MODEL_PATH: str(DEFAULT_MODEL_DIR.relative_to(REPO_ROOT)), BACKEND: "onnxruntime",
                "weight": 0.5, "C": 30.0, "closing_question_min_words": 0}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 weights: np.ndarray | None = None, bias: np.ndarray | None = None,
                 intents: list[str] | None = None) -> None:
        if not 0.0 <= float(config["weight"]) <= 1.0:
            raise ValueError(f"weight must be between 0 and 1, not {config['weight']!r}")
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.encoder = shared_encoder(config[MODEL_PATH], config[BACKEND])
        self.weights = weights
        self.bias = bias
        self.intents = list(intents or [])

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> MiniLMIntentBlender:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        examples = [m for m in training_data.intent_examples if m.get(TEXT) is not None]
        labels = [m.get(INTENT) for m in examples]
        if len(set(labels)) < 2:
            logger.warning(f"{type(self).__name__} needs two intents to learn from: DIET's ranking stays")
            return self._resource
        vectors = self.encoder.encode([m.get(TEXT) for m in examples])
        regression = LogisticRegression(C=float(self._config["C"]), max_iter=2000)
        regression.fit(vectors, labels)
        self.weights = regression.coef_.astype(np.float32)
        self.bias = regression.intercept_.astype(np.float32)
        self.intents = [str(name) for name in regression.classes_]
        self.persist()
        return self._resource

    def persist(self) -> None:
        if self.weights is None or self.bias is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            np.save(directory / "weights.npy", self.weights)
            np.save(directory / "bias.npy", self.bias)
            (directory / "intents.json").write_text(json.dumps(self.intents))

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> MiniLMIntentBlender:
        try:
            with model_storage.read_from(resource) as directory:
                weights = np.load(directory / "weights.npy")
                bias = np.load(directory / "bias.npy")
                intents = json.loads((directory / "intents.json").read_text())
        except (ValueError, FileNotFoundError):
            logger.warning(f"{cls.__name__} found no trained regression: DIET's ranking stays as it is")
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, weights, bias, intents)

    def regression(self, vector: np.ndarray) -> dict[str, float]:
        assert self.weights is not None and self.bias is not None
        probabilities = softmax(self.weights @ vector + self.bias)
        return dict(zip(self.intents, probabilities.tolist(), strict=True))

    def process(self, messages: list[Message]) -> list[Message]:
        weight = float(self._config["weight"])
        if self.weights is None or weight == 0.0:
            return messages
        min_words = int(self._config.get("closing_question_min_words") or 0)
        pairs = [(m, closing_question(text, min_words) or text)
                 for m, text in _texts(messages) if (m.get(INTENT) or {}).get(INTENT_NAME_KEY)]
        vectors = self.encoder.encode([text for _, text in pairs])
        for (message, _), vector in zip(pairs, vectors, strict=True):
            with self.encoder.single_thread_blas():
                regression = self.regression(vector)
            diet = message.get(INTENT)
            ranking = blend(message.get(INTENT_RANKING_KEY) or [diet], regression, weight)
            confidence = round(float(diet.get(PREDICTED_CONFIDENCE_KEY) or 0), 4)
            message.set(SCORE_KEY, {"diet_intent": diet[INTENT_NAME_KEY], "diet_confidence": confidence,
                                    "regression_intent": max(regression, key=regression.__getitem__)},
                        add_to_output=True)
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
