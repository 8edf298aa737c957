"""Near-paraphrases cluster, unrelated questions don't (measured on a labelled sample)."""

from tests.trainer.clustering_sample import PARAPHRASE_GROUPS, labelled_sample, pairwise_scores
from trainer.clustering import cluster_texts, normalise


def test_paraphrases_cluster_and_unrelated_questions_stay_apart() -> None:
    texts, labels = labelled_sample()
    clusters = cluster_texts(texts)
    precision, recall = pairwise_scores(clusters, labels)
    assert precision >= 0.95, "unrelated questions merged"
    assert recall >= 0.45, "paraphrases split"
    # The biggest group of the sample is found, mostly in one cluster, with nothing else in it.
    biggest = {texts[i] for i in clusters[0]}
    assert biggest <= set(PARAPHRASE_GROUPS["update_payment_method"]) and len(biggest) >= 8


def test_weights_make_frequent_phrasings_come_first() -> None:
    clusters = cluster_texts(
        ["are you hiring", "refund please", "refund my payment please"], weights=[1, 5, 5]
    )
    assert sorted(clusters[0]) == [1, 2]


def test_normalise_ignores_case_punctuation_and_digits() -> None:
    assert normalise("Why is INV-2025-000123 so HIGH?!") == normalise("why is inv 2026 000999 so high")


def test_empty_input() -> None:
    assert cluster_texts([]) == []
