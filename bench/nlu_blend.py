"""Would blending DIET with a logistic regression on MiniLM (bot/components/minilm_blend.py) help? Measured on
a trained model without retraining it.

    .venv-bot/bin/python bench/nlu_blend.py models/billing-<hash>.tar.gz [more models, e.g. other seeds]

Per model: parses every message of the development sets (and the frozen set, aggregates only) once with the
model's own pipeline, keeping DIET's ranking as it reaches the out-of-scope detector; fits the regression on
bot/data/nlu as MiniLMIntentBlender.train does; then, for each blend setting, recomputes what the rest of the
pipeline decides (the model's own MiniLMOutOfScopeDetector, then config.yml's FallbackClassifier threshold and
ambiguity) and scores it with scripts/nlu_eval.py. The `weight 0` row must equal the `model as trained` row:
that checks the emulation. Settings are chosen on the development sets; the frozen set is printed for the
setting named by --frozen-for only, so nobody picks a setting by its frozen numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "scripts")]

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from nlu_configs import component_class  # noqa: E402  (bench/, on sys.path when run as a script)
from nlu_eval import load_cases, score  # noqa: E402

SETS = {"dev": ["tests/nlu/dev/test_nlu.yml", "tests/nlu/dev/payments.yml", "tests/nlu/dev/documents.yml"],
        "indep": ["tests/nlu/dev/independent_dev.yml"], "frozen": ["tests/nlu/frozen"]}


def silence_rasa_logging() -> None:
    """Rasa logs every parse with its text through structlog at debug level: never for a frozen set's."""
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.disable(logging.WARNING)


def fallback_settings(config: Path = REPO_ROOT / "config.yml") -> tuple[float, float]:
    """config.yml's FallbackClassifier threshold and ambiguity_threshold (the models were trained with it)."""
    for component in yaml.safe_load(config.read_text())["pipeline"]:
        if component_class(component) == "FallbackClassifier":
            return float(component["threshold"]), float(component["ambiguity_threshold"])
    raise SystemExit(f"{config} has no FallbackClassifier to emulate")


def linear(ranking: list[dict], regression: dict[str, float], weight: float) -> list[dict]:
    diet = {e["name"]: e["confidence"] for e in ranking}
    scores = {n: (1 - weight) * diet.get(n, 0.0) + weight * regression.get(n, 0.0)
              for n in {*diet, *regression}}
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return [{"name": n, "confidence": c} for n, c in ranked]


@dataclass
class ModelRun:
    """One model's parses: DIET's rankings before the detector, the detector itself, the message vectors."""

    name: str
    cases: dict[str, list]
    rankings: dict[str, list[dict]]
    parsed: dict[str, dict]
    detector: Any
    vectors: dict[str, np.ndarray]
    fallback: tuple[float, float]  # threshold, ambiguity_threshold

    def verdict(self, ranking: list[dict], vector: np.ndarray) -> tuple[str, str]:
        """The pipeline's decision on DIET's ranking and the rule behind it ("" when the top intent
        stands): the detector first, then the FallbackClassifier, which also turns a low-confidence
        out_of_scope into nlu_fallback."""
        top, (threshold, ambiguity) = ranking[0], self.fallback
        if top["name"] != "out_of_scope":
            rule = self.detector.out_of_scope_rule(self.detector.scores(vector, top["name"]))
            if rule:
                return "out_of_scope", f"detector: {rule}"
        if top["confidence"] < threshold:
            return "nlu_fallback", "fallback: below threshold"
        if len(ranking) > 1 and top["confidence"] - ranking[1]["confidence"] < ambiguity:
            return "nlu_fallback", "fallback: top two close"
        if top["name"] == "out_of_scope":
            return "out_of_scope", "ranked out_of_scope first"
        return top["name"], ""

    def decided(self, ranking: list[dict], vector: np.ndarray) -> str:
        return self.verdict(ranking, vector)[0]

    def measure(self, pool: Any = None, regression: Any = None, weight: float = 0.0) -> dict:
        from bot.components.minilm_blend import softmax

        report = {}
        for name, group in self.cases.items():
            parses = []
            for case in group:
                ranking, vector = self.rankings[case.text], self.vectors[case.text]
                if pool is not None:
                    probabilities = softmax(regression.coef_ @ vector + regression.intercept_).tolist()
                    opinion = dict(zip(regression.classes_, probabilities, strict=True))
                    ranking = pool(ranking, opinion, weight)
                intent = self.decided(ranking, vector)
                undo = [{"name": "nlu_fallback", "confidence": 0.0}] if intent == "nlu_fallback" else []
                parses.append({"intent": {"name": intent, "confidence": ranking[0]["confidence"]},
                               "intent_ranking": undo + ranking,
                               "entities": self.parsed[case.text].get("entities", [])})
            report[name] = score(group, parses)[0]
        return report

    def row(self, label: str, report: dict, frozen: bool) -> str:
        dev, indep, fz = report["dev"], report["indep"], report["frozen"]
        mean = np.mean([dev["billing_accuracy"], indep["billing_accuracy"], indep["out_of_scope_recall"],
                        1 - dev["in_scope_wrongly_rejected"], 1 - indep["in_scope_wrongly_rejected"]])
        cells = [dev["billing_accuracy"], dev["in_scope_wrongly_rejected"], indep["billing_accuracy"],
                 indep["billing_accuracy_by_intent"]["how_to_pay"], indep["out_of_scope_recall"],
                 indep["in_scope_wrongly_rejected"], mean]
        if frozen:
            cells += [fz["billing_accuracy"], fz["weakest_billing_intent"]["accuracy"],
                      fz["out_of_scope_recall"], fz["in_scope_wrongly_rejected"]]
        return (f"| {self.name} | {label} | " + " | ".join(f"{c:.3f}" for c in cells)
                + (" |" if frozen else " | - | - | - | - |"))


def parse_with(model: Path, cases: dict[str, list]) -> ModelRun:
    """Parses every message once, keeping what DIET ranked before the out-of-scope detector changed it."""
    from rasa.core.agent import Agent

    from bot.components import parse_shortcut

    detector_class = parse_shortcut.GuardedMiniLMOutOfScopeDetector
    process = detector_class.process
    rankings: dict[str, list[dict]] = {}
    detectors: list[Any] = []

    def keep_diets_ranking(self: Any, messages: list, *rest: Any, **kwargs: Any) -> list:
        detectors[:] = [self]
        for message in messages:
            rankings[message.get("text")] = list(message.get("intent_ranking") or [message.get("intent")])
        return process(self, messages, *rest, **kwargs)

    detector_class.process = keep_diets_ranking
    try:
        agent = Agent.load(str(model))
        texts = sorted({case.text for group in cases.values() for case in group})

        async def parse_all() -> list[dict]:
            return [await agent.parse_message(text) for text in texts]

        parsed = dict(zip(texts, asyncio.run(parse_all()), strict=True))
    finally:
        detector_class.process = process
    vectors = dict(zip(texts, detectors[0].encoder.encode(texts), strict=True))
    return ModelRun(model.name, cases, rankings, parsed, detectors[0], vectors, fallback_settings())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--data", default="bot/data/nlu")
    parser.add_argument("--frozen-for", default="geometric C=30 weight=0.5",
                        help="the one blend setting whose frozen-set numbers are printed")
    args = parser.parse_args()
    silence_rasa_logging()
    from rasa.shared.nlu.training_data.loading import load_data
    from sklearn.linear_model import LogisticRegression

    from bot.components.minilm_blend import blend

    cases = {name: [c for path in paths for c in load_cases(REPO_ROOT / path)]
             for name, paths in SETS.items()}
    examples = [m for m in load_data(str(REPO_ROOT / args.data)).intent_examples if m.get("text")]
    print("| model | blend | dev billing | dev rejected | indep billing | indep how_to_pay | indep oos | "
          "indep rejected | dev mean | frozen billing | frozen weakest | frozen oos | frozen rejected |")
    print("|---|---|" + "---|" * 11)
    for model in args.models:
        run = parse_with(model, cases)
        as_trained = {n: score(g, [run.parsed[c.text] for c in g])[0] for n, g in cases.items()}
        print(run.row("model as trained", as_trained, True))
        print(run.row("weight 0 (emulated)", run.measure(), True), flush=True)
        train_x = run.detector.encoder.encode([m.get("text") for m in examples])
        train_y = [m.get("intent") for m in examples]
        for c in (10.0, 30.0):
            regression = LogisticRegression(C=c, max_iter=3000).fit(train_x, train_y)
            for pool_name, pool, weights in (("geometric", blend, (0.35, 0.5, 0.65)),
                                             ("linear", linear, (0.35,))):
                for weight in weights:
                    label = f"{pool_name} C={c:g} weight={weight}"
                    print(run.row(label, run.measure(pool, regression, weight), label == args.frozen_for),
                          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
