"""How well the review groups messages, and how fast: the project's own NLU examples (training and
held-out) stand in for customer messages, their intents for the truth. Pairwise precision = of the
messages put in one group, how many pairs share an intent (an intent is broader than one question,
so recall is low by design; precision is what matters: unrelated questions must not be merged).

    .venv/bin/python bench/review_clustering.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.trainer.clustering_sample import (  # noqa: E402 - after the sys.path line
    labelled_sample,
    pairwise_scores,
)
from trainer.clustering import cluster_texts  # noqa: E402 - after the sys.path line
from trainer.nludata import load_examples  # noqa: E402 - after the sys.path line


def main() -> None:
    examples = load_examples(REPO_ROOT / "bot/data") + load_examples(REPO_ROOT / "tests/nlu")
    datasets = {
        "labelled paraphrase sample": labelled_sample(),
        "NLU examples (intent = truth)": ([e.text for e in examples], [e.intent for e in examples]),
    }
    print("| data | messages | similarity | groups | pairwise precision | pairwise recall | seconds |")
    print("|---|---|---|---|---|---|---|")
    for name, (texts, labels) in datasets.items():
        for similarity in (0.3, 0.4, 0.5):
            started = time.monotonic()
            clusters = cluster_texts(texts, similarity=similarity)
            seconds = time.monotonic() - started
            precision, recall = pairwise_scores(clusters, labels)
            print(
                f"| {name} | {len(texts)} | {similarity} | {len(clusters)} | {precision:.2f} | {recall:.2f} "
                f"| {seconds:.1f} |"
            )


if __name__ == "__main__":
    main()
