"""Group near-paraphrases of customer messages, in pure Python (no numpy in .venv/).

Each text becomes a TF-IDF vector of word-bounded character n-grams (3-5, like Rasa's `char_wb`
featurizer) plus whole words, so typos and word order matter little. Clustering is centroid
"leader" clustering with a cosine threshold, followed by merge passes of clusters whose centroids are
similar: deterministic, linear in the number of clusters per message, and with one knob. Measured
on a labelled sample in tests/trainer/test_clustering.py (numbers in bench/results/training.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

DEFAULT_SIMILARITY = 0.3

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


def _centroid(members: list[int], vectors: list[Vector], weights: Sequence[int]) -> Vector:
    total: dict[str, float] = {}
    for index in members:
        for f, v in vectors[index].items():
            total[f] = total.get(f, 0.0) + v * weights[index]
    return total


def cluster_texts(
    texts: Sequence[str], *, similarity: float = DEFAULT_SIMILARITY, weights: Sequence[int] | None = None
) -> list[list[int]]:
    """Indices of `texts` grouped into clusters, biggest first. `weights` (e.g. how often a text was
    seen) make frequent phrasings the seeds of clusters."""
    if not texts:
        return []
    weights = list(weights) if weights is not None else [1] * len(texts)
    vectors = vectorise(texts)
    order = sorted(range(len(texts)), key=lambda i: (-weights[i], normalise(texts[i])))
    clusters: list[list[int]] = []
    centroids: list[Vector] = []
    for index in order:
        best, best_score = -1, similarity
        for c, centroid in enumerate(centroids):
            score = cosine(vectors[index], centroid)
            if score >= best_score:
                best, best_score = c, score
        if best < 0:
            clusters.append([index])
            centroids.append(dict(vectors[index]))
        else:
            clusters[best].append(index)
            centroids[best] = _centroid(clusters[best], vectors, weights)
    # Merge passes: two seeds of the same question may each have gathered their own phrasings.
    merged = True
    while merged:
        merged = False
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                if cosine(centroids[a], centroids[b]) >= similarity:
                    clusters[a].extend(clusters.pop(b))
                    centroids.pop(b)
                    centroids[a] = _centroid(clusters[a], vectors, weights)
                    merged = True
                    break
            if merged:
                break
    size = lambda members: sum(weights[i] for i in members)  # noqa: E731
    return sorted(clusters, key=lambda members: (-size(members), min(members)))
