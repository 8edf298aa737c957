"""DIET trained on batches of messages of similar length (issue 13: the full training under 6 minutes).

Rasa pads every batch to its longest message. The training examples are short (median 7 tokens) with a tail
of long stories (up to ~55), so a shuffled batch of 64-256 nearly always holds one: ~4x the real tokens go
through DIET's layers and ~12x the attention work. `LengthBucketedDIETClassifier` keeps Rasa's epoch (the same
shuffled, class-balanced examples, each once) and only regroups it: every window of `length_bucket_window`
batches is sorted by length and cut into batches, and the batches are shuffled. Classes stay balanced over the
window. Prediction is untouched (one message at a time).

Off by default (`length_bucket_window: 0` trains exactly as Rasa does): a window of 8 halved DIET's time per
epoch, but three seeds were a little behind on action intents and the simulated customers of seed 7 on every
set (bench/results/training.md, session 20). Kept to try smaller windows: `bench/nlu_seeds.py --diet
length_bucket_window=N`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils import train_utils
from rasa.utils.tensorflow.constants import SEQUENCE_LENGTH
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import Data, RasaModelData

LENGTH_BUCKET_WINDOW = "length_bucket_window"


def bucketed_order(lengths: np.ndarray, batch_size: int, window: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the examples in their new order: each window of `window` batches sorted by length (stable,
    so equal lengths keep the order Rasa's shuffle gave them), cut into batches, the batches shuffled."""
    span = batch_size * window
    batches = []
    for start in range(0, len(lengths), span):
        positions = start + np.argsort(lengths[start:start + span], kind="stable")
        batches.extend(np.split(positions, range(batch_size, len(positions), batch_size)))
    return np.concatenate([batches[i] for i in rng.permutation(len(batches))]) if batches else np.arange(0)


def reordered(data: Data, order: np.ndarray) -> Data:
    """`data` with every feature array's examples taken in `order`."""
    result: Data = defaultdict(lambda: defaultdict(list))
    for key, attribute_data in data.items():
        for sub_key, features in attribute_data.items():
            result[key][sub_key] = [feature[order] for feature in features]
    return result


class LengthBucketedBatchGenerator(RasaBatchDataGenerator):
    """Rasa's batch generator (growing batch size, shuffle, balance) whose epochs come in length buckets."""

    def __init__(self, model_data: RasaModelData, *args: Any, window: int, seed: int | None = None,
                 **kwargs: Any) -> None:
        self.window = window
        self.rng = np.random.default_rng(seed)
        super().__init__(model_data, *args, **kwargs)

    def _shuffle_and_balance(self, batch_size: int) -> Data:
        data = super()._shuffle_and_balance(batch_size)
        lengths = data.get(TEXT, {}).get(SEQUENCE_LENGTH)
        if self.window < 1 or not lengths:
            return data
        return reordered(data, bucketed_order(np.asarray(lengths[0]), batch_size, self.window, self.rng))


class LengthBucketedDIETClassifier(DIETClassifier):
    """DIETClassifier trained on length-bucketed batches (`length_bucket_window` batches a sorted window)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DIETClassifier.get_default_config(), LENGTH_BUCKET_WINDOW: 0}

    def train(self, training_data: TrainingData) -> Resource:
        if self.component_config[LENGTH_BUCKET_WINDOW] < 1:
            return super().train(training_data)  # Rasa's own batches, untouched
        with self._length_bucketed_generators():
            return super().train(training_data)

    @contextmanager
    def _length_bucketed_generators(self) -> Iterator[None]:
        # DIETClassifier.train makes its generators with train_utils.create_data_generators and has no hook
        # for another generator: swap that one function for the length of this training.
        original = train_utils.create_data_generators
        window, seed = self.component_config[LENGTH_BUCKET_WINDOW], self.component_config["random_seed"]

        def create(model_data: RasaModelData, batch_sizes: Any, epochs: int, batch_strategy: str,
                   eval_num_examples: int = 0, random_seed: int | None = None, shuffle: bool = True,
                   drop_small_last_batch: bool = False) -> tuple[RasaBatchDataGenerator, Any]:
            if eval_num_examples > 0:  # Rasa's validation split: not used here, so not re-implemented
                return original(model_data, batch_sizes, epochs, batch_strategy, eval_num_examples,
                                random_seed, shuffle, drop_small_last_batch)
            return LengthBucketedBatchGenerator(
                model_data, batch_size=batch_sizes, epochs=epochs, batch_strategy=batch_strategy,
                shuffle=shuffle, drop_small_last_batch=drop_small_last_batch, window=window, seed=seed,
            ), None

        train_utils.create_data_generators = create
        try:
            yield
        finally:
            train_utils.create_data_generators = original
