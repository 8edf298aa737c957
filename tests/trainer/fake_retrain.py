"""A stand-in for `make retrain test-nlu` in the tests of the trainer page's jobs (the real training is
covered by tests/trainer/test_train_and_ship.py): prints progress like Rasa (a bar redrawn with \\r),
writes a new model file models/billing-fake-N.tar.gz and the evaluation scripts/nlu_gate.py reads
(results/nlu/eval.json, summary.md), every number above its floor with `pass`, the dev macro-F1
far below it with `fail`.

    python tests/trainer/fake_retrain.py pass|fail [SECONDS]     (run in the training repository)

A file `fake-verdict` in that repository (pass or fail) overrides the first argument, so a browser test can
see both outcomes from one running service.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def evaluation(model: str, passing: bool) -> dict:
    return {"model": model, "sets": {
        "dev": {"classifier_only": {"macro_f1": 0.97 if passing else 0.41, "out_of_scope_recall": 0.95}},
        "frozen": {"billing_accuracy": 0.96, "weakest_billing_intent": {"accuracy": 0.91},
                   "out_of_scope_recall": 0.95, "in_scope_wrongly_rejected": 0.01,
                   "entities": {name: {"f1": 0.99} for name in ("MONEY", "DATE", "account_number",
                                                                 "invoice_number")}},
        "frozen-v2": {"billing_accuracy": 0.96, "weakest_billing_intent": {"accuracy": 0.91},
                      "out_of_scope_recall": 0.95, "in_scope_wrongly_rejected": 0.01,
                      "action_intents_accuracy": 0.96,
                      "entities": {name: {"f1": 0.99} for name in ("MONEY", "DATE", "account_number",
                                                                   "invoice_number")}},
    }}


def say(text: str, *, end: str = "\n", stream=sys.stdout) -> None:
    stream.write(text + end)
    stream.flush()


def main() -> int:
    verdict = Path("fake-verdict")
    passing = (verdict.read_text().strip() if verdict.is_file() else sys.argv[1]) == "pass"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    models, results = Path("models"), Path("results/nlu")
    models.mkdir(exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    model = f"billing-fake-{len(list(models.glob('billing-fake-*.tar.gz'))) + 1}.tar.gz"
    say(f"[trainer] training {model} from scratch")
    steps = 5
    for step in range(1, steps + 1):
        say(f"\rEpochs: {step * 100 // steps}%|{'#' * step}{' ' * (steps - step)}| {step}/{steps}", end="")
        time.sleep(seconds / steps)
    say("")
    (models / model).write_bytes(b"not a real model")
    (results / "eval.json").write_text(json.dumps(evaluation(model, passing)))
    (results / "summary.md").write_text(f"# NLU on the held-out set: {model}\n\n- intent macro-F1: "
                                        f"**{0.97 if passing else 0.41:.3f}**\n")
    say(f"evaluated {model}")
    if not passing:
        say("QUALITY GATE FAILED: dev: intent macro-F1 (classifier only) 0.410, floor >= 0.86",
            stream=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
