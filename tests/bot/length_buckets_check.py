"""Run in .venv-bot by tests/bot/test_length_buckets.py: length-bucketed batches, and a DIET trained on them.

    python tests/bot/length_buckets_check.py SCRATCH_DIR

Prints one JSON object with what the tests assert on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils import train_utils
from rasa.utils.tensorflow.constants import SEQUENCE, SEQUENCE_LENGTH
from rasa.utils.tensorflow.model_data import FeatureArray, RasaModelData

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from bot.components.length_buckets import (  # noqa: E402 - after the sys.path line
    LengthBucketedBatchGenerator,
    LengthBucketedDIETClassifier,
)


def model_data(lengths: list[int]) -> RasaModelData:
    """Examples with sparse sequence features of the given lengths, their lengths and a label (as DIET's)."""
    sequences = np.empty(len(lengths), dtype=object)
    for i, length in enumerate(lengths):
        sequences[i] = scipy.sparse.coo_matrix(np.ones((length, 3)))
    data = RasaModelData(label_key="label", label_sub_key="ids", data={
        "text": {SEQUENCE: [FeatureArray(sequences, number_of_dimensions=3)]},
        "label": {"ids": [
            FeatureArray(np.array([[i % 3] for i in range(len(lengths))]), number_of_dimensions=2)
        ]},
    })
    data.add_lengths("text", SEQUENCE_LENGTH, "text", SEQUENCE)
    return data


def one_epoch(generator: LengthBucketedBatchGenerator) -> list[list[int]]:
    """The examples' lengths, batch by batch, of the generator's current epoch."""
    batches = []
    for index in range(len(generator)):
        start = index * generator._current_batch_size
        lengths = generator._data["text"][SEQUENCE_LENGTH][0][start:start + generator._current_batch_size]
        batches.append([int(length) for length in lengths])
    return batches


def batching(lengths: list[int], window: int) -> dict:
    generator = LengthBucketedBatchGenerator(model_data(lengths), batch_size=[16, 32], epochs=3,
                                             batch_strategy="sequence", window=window, seed=1)
    epochs = []
    for _ in range(3):
        batches = one_epoch(generator)
        epochs.append({
            "batch_size": generator._current_batch_size,
            "lengths_seen": sorted(length for batch in batches for length in batch),
            "padded_tokens": sum(len(batch) * max(batch) for batch in batches),
            "first_batch": batches[0],
        })
        generator.on_epoch_end()
    return {"epochs": epochs}


def diet_training(scratch: Path) -> dict:
    """A real DIETClassifier training through the subclass: its generators are the bucketed ones."""
    texts = {
        "greet": ["hi", "hello there", "good morning to you", "hey"],
        "check_balance": ["how much do i owe", "what is my balance right now please",
                          "balance", "tell me the total amount outstanding on my account today"],
    }
    messages = [
        Message(data={"text": text, "intent": intent}) for intent, group in texts.items() for text in group
    ]
    training_data = TrainingData(training_examples=messages)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(training_data)
    storage = LocalModelStorage(scratch)
    context = ExecutionContext(GraphSchema({}), "length-buckets-check")
    featurizer = CountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage,
                                               Resource("cvf"), context)
    featurizer.train(training_data)
    featurizer.process_training_data(training_data)
    made = []
    original = train_utils.create_data_generators

    class Recording(LengthBucketedBatchGenerator):
        def __init__(self, *args: object, **kwargs: object) -> None:
            made.append(kwargs.get("window"))
            super().__init__(*args, **kwargs)

    import bot.components.length_buckets as module

    module.LengthBucketedBatchGenerator = Recording  # type: ignore[misc]
    config = {**LengthBucketedDIETClassifier.get_default_config(), "epochs": 2, "random_seed": 3,
              "entity_recognition": False, "length_bucket_window": 2}
    diet = LengthBucketedDIETClassifier.create(config, storage, Resource("diet"), context)
    diet.train(training_data)
    off = LengthBucketedDIETClassifier.create({**config, "length_bucket_window": 0}, storage, Resource("off"),
                                              context)
    off.train(training_data)  # the default: Rasa's own generator, so nothing is recorded
    asked = [Message(data={"text": "what is my balance"})]
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process(asked)
    featurizer.process(asked)
    parsed = diet.process(asked)
    return {
        "generators_made_with_window": made,
        "create_data_generators_restored": train_utils.create_data_generators is original,
        "parsed_intent_exists": bool(parsed[0].get("intent")),
    }


def main() -> None:
    scratch = Path(sys.argv[1])
    rng = np.random.default_rng(0)
    lengths = [int(x) for x in rng.choice([3, 4, 5, 6, 7, 8, 9, 12, 40, 55], size=200)]
    print(json.dumps({  # noqa: T201 - the test reads this line
        "lengths": sorted(lengths),
        "bucketed": batching(lengths, window=4),
        "rasa": batching(lengths, window=0),
        "diet": diet_training(scratch),
    }))


if __name__ == "__main__":
    main()
