"""all-MiniLM-L6-v2 in numpy (bot/components/minilm_encoder.py) and its Rasa components
(bot/components/minilm.py).

The encoder runs in .venv-bot (tests/bot/minilm_check.py), on the model `make minilm` unpacks and verifies.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.trainer.repo_copy import BOT_PYTHON, REPO_ROOT

MODEL_DIR = REPO_ROOT / "build" / "minilm" / "all-MiniLM-L6-v2"
# sentence-transformers' all-MiniLM-L6-v2 on "hello world", as pinned by fastembed's tests (independent of
# this project's code): our forward pass must reproduce the published model, not just be self-consistent.
PUBLISHED_HELLO_WORLD_FIRST5 = [-0.034478, 0.03102, 0.00673, 0.02611, -0.039362]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def check(tmp_path_factory: pytest.TempPathFactory) -> dict:
    built = subprocess.run([str(BOT_PYTHON), "bot/minilm_model.py", "--out", str(MODEL_DIR)],
                           cwd=REPO_ROOT, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    completed = subprocess.run(
        [
            str(BOT_PYTHON), "tests/bot/minilm_check.py", str(MODEL_DIR),
            str(tmp_path_factory.mktemp("minilm")),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_tokenizer_is_bert_uncased_wordpiece(check: dict) -> None:
    assert check["tokens"] == [
        "[CLS]", "why", "was", "i", "charged", "twice", "for", "my", "cafe", "bill", "?", "[SEP]",
    ]


def test_the_forward_pass_reproduces_the_published_model(check: dict) -> None:
    assert check["backend"] == "onnxruntime"
    assert check["hello_world_first5"] == pytest.approx(PUBLISHED_HELLO_WORLD_FIRST5, abs=1e-5)
    assert check["numpy_hello_world_first5"] == pytest.approx(PUBLISHED_HELLO_WORLD_FIRST5, abs=1e-5)
    assert check["numpy_vs_onnxruntime_max_diff"] < 1e-5, (
        "the ONNX graph must compute what the numpy reference does"
    )
    assert check["shape"] == [6, 384]
    assert check["norms"] == pytest.approx([1.0] * 6, abs=1e-5)
    assert check["batched_vs_alone_max_diff"] < 1e-5, "padding must not change a sentence's vector"


def test_the_int8_graph_stays_close_to_the_float_model(check: dict) -> None:
    assert check["int8_min_cosine"] > 0.95


def test_paraphrases_are_close_and_unrelated_sentences_far(check: dict) -> None:
    assert min(check["paraphrase_cosines"]) > 0.5, check["paraphrase_cosines"]
    assert max(check["unrelated_cosines"]) < 0.2, check["unrelated_cosines"]


def test_a_long_message_is_truncated_not_an_error(check: dict) -> None:
    assert check["long_text_tokens"] == 256
    assert check["long_text_norm"] == pytest.approx(1.0, abs=1e-5)


def test_a_changed_or_missing_model_file_is_refused(check: dict) -> None:
    for name, error in check["refused"].items():
        assert error and "not the published all-MiniLM-L6-v2" in error, name
    assert check["refused_missing"] and "make minilm" in check["refused_missing"]


def test_the_featurizer_adds_one_dense_sentence_feature(check: dict) -> None:
    assert check["components"]["dense"] == [["sentence", [1, 384], "minilm"]]


def test_a_message_without_words_is_left_alone(check: dict) -> None:
    """DIET fails on a sentence feature without the sparse ones; Rasa answers such a message with
    nlu_fallback."""
    components = check["components"]
    assert components["empty_message_features"] == 0
    assert components["empty_message_detector"]["score"] is None
    assert components["empty_message_detector"]["intent"] == {"name": "check_balance", "confidence": 0.8}


def test_the_detector_keeps_a_message_like_its_intents_examples(check: dict) -> None:
    kept = check["components"]["in_scope"]
    assert kept["intent"] == {"name": "check_balance", "confidence": 0.8}
    assert kept["score"]["overruled"] is False
    assert kept["score"]["intent_similarity"] > 0.4


def test_the_detector_turns_a_far_message_into_out_of_scope_with_a_clear_ranking(check: dict) -> None:
    far = check["components"]["far"]
    assert far["score"]["overruled"] is True and far["score"]["diet_intent"] == "check_balance"
    assert far["intent"] == {"name": "out_of_scope", "confidence": 0.9}
    ranking = far["ranking"]
    assert [entry["name"] for entry in ranking] == ["out_of_scope", "check_balance"]
    # FallbackClassifier's ambiguity check must see a clear winner, not a tie.
    assert ranking[0]["confidence"] - ranking[1]["confidence"] > 0.5


def test_the_detectors_grouped_scores_equal_the_plain_computation(check: dict) -> None:
    # three messages x three intents, one of them not trained ("pay_bill": -1.0 similarity)
    assert check["components"]["scores_checked"] == [True] * 9


def test_an_unknown_detector_setting_is_a_clear_error(check: dict) -> None:
    assert "similarity_to must be one of" in check["components"]["bad_setting"]


def test_the_blender_learns_the_examples_and_persists_them(check: dict) -> None:
    assert check["blender"]["intents"] == ["ask_due_date", "check_balance", "out_of_scope"]


def test_the_blender_lets_the_embedding_decide_where_diet_is_unsure(check: dict) -> None:
    unsure = check["blender"]["unsure"]
    assert unsure["score"] == {"diet_intent": "check_balance", "diet_confidence": 0.55,
                               "regression_intent": "ask_due_date"}
    assert unsure["intent"]["name"] == "ask_due_date"
    assert unsure["intent"] == unsure["ranking"][0]
    assert sum(entry["confidence"] for entry in unsure["ranking"]) == pytest.approx(1.0)


def test_the_blender_keeps_a_clear_agreeing_answer_clear(check: dict) -> None:
    sure = check["blender"]["sure"]
    assert sure["intent"]["name"] == "check_balance" and sure["intent"]["confidence"] > 0.9


def test_the_blend_is_the_normalised_geometric_mean(check: dict) -> None:
    # sqrt(0.8 * 0.2) for a and b alike: a tie, broken by name; c only the regression floor can give.
    pure = check["blender"]["pure"]
    assert [entry["name"] for entry in pure] == ["a", "b", "c"]
    assert pure[0]["confidence"] == pytest.approx(0.5, abs=1e-4)
    assert pure[1]["confidence"] == pytest.approx(0.5, abs=1e-4)
    assert pure[2]["confidence"] < 1e-4


def test_without_weight_training_or_words_the_blender_leaves_diets_ranking(check: dict) -> None:
    unsure = [{"name": "check_balance", "confidence": 0.55}, {"name": "ask_due_date", "confidence": 0.45}]
    for case in ("weight_zero", "untrained", "no_words"):
        result = check["blender"][case]
        assert result["ranking"] == unsure and result["score"] is None, case
    assert "weight must be between 0 and 1" in check["blender"]["bad_weight"]


def test_a_long_story_is_read_by_its_closing_question(check: dict) -> None:
    story = check["blender"]["story"]
    assert story["score"]["regression_intent"] == "check_balance"
    # read whole, the trip, the weather and the flights win (the option is off by default)
    assert check["blender"]["story_whole"]["score"]["regression_intent"] == "out_of_scope"
    closing = list(check["blender"]["closing"].values())
    assert closing == ["What is my balance?", None, "Please tell me when my bill is due.", None]
