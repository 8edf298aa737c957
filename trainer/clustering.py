"""Group near-paraphrases of customer messages, in pure Python (no numpy in .venv/).

Each text becomes a TF-IDF vector of word-bounded character n-grams (3-5, like Rasa's `char_wb`
featurizer) plus whole words, so typos and word order matter little. Clustering is "leader"
clustering with one knob, a cosine threshold (see cluster_texts). Measured on a labelled sample
(tests/trainer/test_clustering.py) and on the NLU data (bench/review_clustering.py; numbers in
bench/results/training.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

DEFAULT_SIMILARITY = 0.3
# A message joins a cluster when it is similar enough to one of the cluster's first members (its
# most frequent wordings). More representatives find more paraphrases; too many would let a cluster
# chain its way to unrelated questions.
REPRESENTATIVES = 5

_NON_WORD = re.compile(r"[^\w\s]+")
_DIGITS = re.compile(r"\d")
_SPACES = re.compile(r"\s+")
# Words that carry no meaning for "which question is this".
_STOP_WORDS = frozenset(
    "a an the i im i'm me my we our you your u to of for on in at is are was be it its this that "
    "do does did can could would please pls plz hi hello hey and or so just".split()
)

Vector = dict[str, float]


def normalise(text: str) -> str:
    """Lowercase, punctuation to spaces, digits to 0 (account and invoice numbers look alike)."""
    text = _DIGITS.sub("0", text.casefold())
    return _SPACES.sub(" ", _NON_WORD.sub(" ", text)).strip()


def _features(text: str) -> Counter[str]:
    words = [w for w in normalise(text).split() if w not in _STOP_WORDS] or normalise(text).split()
    features: Counter[str] = Counter(f"w:{w}" for w in words)
    for word in words:
        padded = f" {word} "
        for n in (3, 4, 5):
            for i in range(max(1, len(padded) - n + 1)):
                features[padded[i : i + n]] += 1
    return features


def vectorise(texts: Sequence[str]) -> list[Vector]:
    """L2-normalised TF-IDF vectors (sublinear tf, smoothed idf) as sparse dicts."""
    counts = [_features(text) for text in texts]
    document_frequency: Counter[str] = Counter()
    for features in counts:
        document_frequency.update(features.keys())
    n = len(texts)
    vectors = []
    for features in counts:
        vector = {
            f: (1 + math.log(c)) * (math.log((1 + n) / (1 + document_frequency[f])) + 1)
            for f, c in features.items()
        }
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({f: v / norm for f, v in vector.items()})
    return vectors


def cosine(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(f, 0.0) for f, v in a.items())
    norm_a = math.sqrt(sum(v * v for v in a.values()))
    norm_b = math.sqrt(sum(v * v for v in b.values()))
    return dot / (norm_a * norm_b) if norm_a and norm_b else 0.0


def cluster_texts(
    texts: Sequence[str],
    *,
    similarity: float = DEFAULT_SIMILARITY,
    weights: Sequence[int] | None = None,
    representatives: int = REPRESENTATIVES,
) -> list[list[int]]:
    """Indices of `texts` grouped into clusters, biggest first.

    Leader clustering: texts are visited most frequent first (`weights`, e.g. how often a wording was
    seen); each joins the cluster of its most similar representative (a cluster's first few members)
    if the cosine reaches `similarity`, else starts a new cluster. Comparing with a few fixed
    members, not a growing centroid or every member, keeps clusters from drifting or chaining into
    each other. An inverted index over features keeps it fast on thousands of messages.
    """
    if not texts:
        return []
    weights = list(weights) if weights is not None else [1] * len(texts)
    vectors = vectorise(texts)
    order = sorted(range(len(texts)), key=lambda i: (-weights[i], normalise(texts[i]), i))
    clusters: list[list[int]] = []
    postings: dict[str, list[tuple[int, float]]] = {}  # feature -> (representative, value)
    cluster_of: dict[int, int] = {}
    for index in order:
        scores: dict[int, float] = {}  # representative -> cosine (vectors are unit length)
        for feature, value in vectors[index].items():
            for representative, other in postings.get(feature, ()):
                scores[representative] = scores.get(representative, 0.0) + value * other
        best = max(scores, key=lambda r: (scores[r], -r)) if scores else None
        if best is not None and scores[best] >= similarity:
            cluster = cluster_of[best]
            clusters[cluster].append(index)
        else:
            cluster = len(clusters)
            clusters.append([index])
        if len(clusters[cluster]) <= representatives:
            cluster_of[index] = cluster
            for feature, value in vectors[index].items():
                postings.setdefault(feature, []).append((index, value))

    def size(members: list[int]) -> int:
        return sum(weights[i] for i in members)

    return sorted(clusters, key=lambda members: (-size(members), min(members)))
