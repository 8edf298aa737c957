"""Why in-scope messages are rejected, and what the out-of-scope detector and FallbackClassifier settings
would change, measured on a trained model without retraining it.

    .venv-bot/bin/python bench/nlu_rejections.py models/billing-<hash>.tar.gz [--show]
        [--frozen-for "0.4 0.1 0.35 0.04 3"]

Parses every message of the development sets once with the model's own pipeline (bench/nlu_blend.parse_with:
the blended ranking as it reaches MiniLMOutOfScopeDetector), then:
1. splits the in-scope messages the model rejects (out_of_scope or nlu_fallback) by cause: which rule of the
   detector fired, DIET and the regression putting out_of_scope first, the fallback threshold, the ambiguity
   threshold; and says how often the right intent was first or second in the ranking;
2. recomputes the decision of every message for each setting of threshold, ambiguity_threshold,
   min_similarity, oos_margin and min_out_of_scope_neighbours, and scores it with scripts/nlu_eval.py. The row
   of config.yml's own setting must equal the model as trained (the emulation's check).
Settings are chosen on the development sets; the frozen sets are printed, as aggregates, for the one setting
named by --frozen-for only.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nlu_blend import REPO_ROOT, ModelRun, parse_with, silence_rasa_logging
from nlu_eval import load_cases, score

DEV_SETS = {
    "dev": ["tests/nlu/dev/test_nlu.yml", "tests/nlu/dev/payments.yml", "tests/nlu/dev/documents.yml"],
    "indep": ["tests/nlu/dev/independent_dev.yml"],
    "dev-v2": ["tests/nlu/dev/independent_dev_v2.yml"],
}
FROZEN_SETS = {"frozen": ["tests/nlu/frozen"], "frozen-v2": ["tests/nlu/frozen_v2"]}
DETECTOR_KEYS = ("min_similarity", "oos_margin", "min_out_of_scope_neighbours")
GRID = {"threshold": (0.25, 0.3, 0.35, 0.4), "ambiguity": (0.0, 0.03, 0.05, 0.1),
        "min_similarity": (0.30, 0.35),
        "oos_margin": (0.04, 0.08), "min_out_of_scope_neighbours": (3, 4)}


def cause(run: ModelRun, text: str) -> str:
    """Which rule rejects this message under the run's current settings ("" when none does)."""
    return run.verdict(run.rankings[text], run.vectors[text])[1]


def apply(run: ModelRun, setting: dict) -> None:
    run.fallback = (setting["threshold"], setting["ambiguity"])
    run.detector._config = {**run.detector._config, **{k: setting[k] for k in DETECTOR_KEYS}}


def label(setting: dict) -> str:
    return " ".join(f"{setting[k]:g}" for k in GRID)


def headline(report: dict) -> list[float]:
    return [report["billing_accuracy"], report["out_of_scope_recall"], report["in_scope_wrongly_rejected"]]


def answered_out_of_scope(report: dict) -> float:
    """Share of out-of-scope messages given an in-scope answer (not even "Did you mean ...?")."""
    return 1 - report["out_of_scope_not_answered_as_billing"]


def dev_mean(report: dict) -> float:
    cells = [v for name in DEV_SETS for v in headline(report[name])]
    return sum(c if k % 3 != 2 else 1 - c for k, c in enumerate(cells)) / len(cells)


def causes(run: ModelRun, cases: dict[str, list], counts: Counter, show: bool) -> None:
    for name in DEV_SETS:
        for case in cases[name]:
            why = cause(run, case.text)
            if case.intent == "out_of_scope" or not why:
                continue
            names = [r["name"] for r in run.rankings[case.text]]
            counts[name, why, "n"] += 1
            counts[name, why, "first"] += names[:1] == [case.intent]
            counts[name, why, "second"] += names[1:2] == [case.intent]
            if show and name == "dev-v2":
                print(f"  {why} | {case.intent} | {names[:3]} | {case.text[:140]}", file=sys.stderr)


def sweep(run: ModelRun, cases: dict[str, list]) -> dict[str, list[float]]:
    """Every setting of GRID -> its cells (per development set: billing, oos recall, rejected, wrong, oos
    answered) and the mean; checks first that config.yml's own setting reproduces the model as trained."""
    shipped = {"threshold": run.fallback[0], "ambiguity": run.fallback[1],
               **{k: run.detector._config[k] for k in DETECTOR_KEYS}}
    as_trained = {n: headline(score(cases[n], [run.parsed[c.text] for c in cases[n]])[0]) for n in DEV_SETS}
    rows = {}
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values, strict=True))
        apply(run, setting)
        measured = run.measure()
        if setting == shipped and any(headline(measured[n]) != as_trained[n] for n in DEV_SETS):
            raise SystemExit(f"{run.name}: the emulation of config.yml's setting differs from the model")
        cells = [v for n in DEV_SETS for v in
                 [*headline(measured[n]), measured[n]["in_scope_answered_as_another_intent"],
                  answered_out_of_scope(measured[n])]]
        rows[label(setting) + (" (config.yml)" if setting == shipped else "")] = [*cells, dev_mean(measured)]
    apply(run, shipped)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path,
                        help="one or more (e.g. DIET seeds): the tables average them")
    parser.add_argument("--frozen-for", help="the one setting (threshold ambiguity min_similarity oos_margin "
                        "neighbours) whose frozen-set aggregates are printed")
    parser.add_argument("--top", type=int, default=15, help="rows of the sweep printed, best dev mean first")
    parser.add_argument("--show", action="store_true", help="print the rejected development-v2 messages")
    args = parser.parse_args()
    silence_rasa_logging()
    sets = {**DEV_SETS, **(FROZEN_SETS if args.frozen_for else {})}
    cases = {name: [c for path in paths for c in load_cases(REPO_ROOT / path)]
             for name, paths in sets.items()}
    counts: Counter = Counter()
    sweeps, frozen = [], []
    for model in args.models:
        run = parse_with(model, cases)
        causes(run, cases, counts, args.show)
        sweeps.append(sweep(run, cases))
        if args.frozen_for:
            values = [float(v) for v in args.frozen_for.split()]
            setting = dict(zip(GRID, values, strict=True))
            setting["min_out_of_scope_neighbours"] = int(setting["min_out_of_scope_neighbours"])
            apply(run, setting)
            measured = run.measure()
            frozen.append([[measured[n]["billing_accuracy"],
                            measured[n]["weakest_billing_intent"]["accuracy"], *headline(measured[n])[1:]]
                           for n in FROZEN_SETS])

    print(f"Models: {', '.join(m.name for m in args.models)}. In-scope messages rejected by the models as "
          "trained, by cause (summed over the models; right intent 1st / 2nd in the ranking the detector "
          "saw):\n")
    print("| set | cause | messages | right intent 1st | right intent 2nd |")
    print("|---|---|---|---|---|")
    for name, why in sorted({(n, w) for n, w, _ in counts}):
        print(f"| {name} | {why} | {counts[name, why, 'n']} | {counts[name, why, 'first']} "
              f"| {counts[name, why, 'second']} |")

    mean = {key: [sum(s[key][k] for s in sweeps) / len(sweeps) for k in range(len(cells))]
            for key, cells in sweeps[0].items()}
    print("\nSetting = threshold, ambiguity_threshold, min_similarity, oos_margin, "
          "min_out_of_scope_neighbours (config.yml's own reproduces each model as trained: checked). Mean of "
          "the models. Mean = of billing accuracy, out-of-scope recall and 1 - rejected over the three "
          "development sets; wrong = in-scope messages answered as another intent; oos answered = "
          "out-of-scope messages given an in-scope answer.\n")
    print("| setting | " + " | ".join(f"{n} billing | {n} oos | {n} rejected | {n} wrong | {n} oos answered"
                                     for n in DEV_SETS) + " | mean |")
    print("|---|" + "---|" * (5 * len(DEV_SETS) + 1))
    best = sorted(mean, key=lambda key: -mean[key][-1])[:args.top]
    for key in [*(k for k in mean if "config.yml" in k), *(k for k in best if "config.yml" not in k)]:
        print(f"| {key} | " + " | ".join(f"{c:.3f}" for c in mean[key][:-1]) + f" | {mean[key][-1]:.4f} |")

    if args.frozen_for:
        print(f"\nFrozen sets (aggregates, mean of the models), setting {args.frozen_for}:\n")
        print("| set | billing | weakest | oos recall | rejected |")
        print("|---|---|---|---|---|")
        for k, name in enumerate(FROZEN_SETS):
            cells = [sum(f[k][j] for f in frozen) / len(frozen) for j in range(4)]
            print(f"| {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
