"""all-MiniLM-L6-v2 features and out-of-scope detection against the pipeline without them, on the development
sets.

    .venv-bot/bin/python bench/nlu_minilm.py [--variants baseline minilm ...] [--frozen] [--workdir DIR]

Each variant is config.yml (policies dropped, DIET seed 42, any MiniLM component taken out: `baseline`) with
the MiniLM components added as the variant says; it is trained
NLU-only into a temporary directory, loaded in-process and every development message is parsed the way
/model/parse does it (FallbackClassifier included). MiniLM variants are
trained with the out-of-scope detector present but switched off: its thresholds are then tuned on the
development sets only, and the messages are parsed again with the tuned detector switched on.
Requires `make minilm` (build/minilm/all-MiniLM-L6-v2). Prints Markdown (bench/results/nlu.md keeps it).

Per set: intent macro-F1 (nlu_fallback counts as a wrong answer), billing-intent accuracy, out_of_scope
recall, the share of in-scope messages wrongly rejected (out_of_scope or nlu_fallback). Then the CPU of one
parse (process time, in-process, no embedding cache), the variants taking turns on every development message.
--frozen adds tests/nlu/frozen last, with every setting fixed from the development sets, as aggregates only:
none of its messages is printed or written.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import yaml  # noqa: E402 - after the sys.path line
from nlu_configs import component_class  # noqa: E402 - bench/, on sys.path when run as a script

from bot.components.minilm import SIMILARITY_TO  # noqa: E402 - after the sys.path line

RASA = REPO_ROOT / ".venv-bot" / "bin" / "rasa"
DEV_SETS = REPO_ROOT / "tests" / "nlu" / "dev"
FROZEN_SET = REPO_ROOT / "tests" / "nlu" / "frozen"
BILLING_INTENTS = (  # as scripts/nlu_eval.py
    "check_balance", "ask_due_date", "list_charges", "explain_charge", "explain_bill_increase",
    "payment_status", "how_to_pay", "dispute_charge", "request_human",
)
REJECTED = {"out_of_scope", "nlu_fallback"}
FEATURIZER = {"name": "bot.components.minilm.MiniLMFeaturizer"}
DETECTOR = "bot.components.minilm.MiniLMOutOfScopeDetector"
DETECTOR_OFF = {"name": DETECTOR, "min_similarity": -2.0, "oos_margin": 2.0, "min_out_of_scope_neighbours": 6}
# The grid searched on the development sets.
MIN_SIMILARITY = [round(0.05 * i, 2) for i in range(0, 13)]
OOS_MARGIN = [0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 2.0]
OOS_NEIGHBOURS = [3, 4, 5, 6]


# "baseline": config.yml without any MiniLM component (the pipeline before issue 13); the others add to it.
# "-int8": MiniLM's matmul weights quantized (bot/components/minilm_onnx.py), in both components.
VARIANT_NAMES = ["baseline", "baseline-oos", "baseline-oos-int8", "minilm", "minilm-int8", "minilm-no-char"]


def variant_config(name: str) -> dict:
    config = yaml.safe_load((REPO_ROOT / "config.yml").read_text())
    config.pop("policies", None)
    backend = {"backend": "onnxruntime-int8"} if name.endswith("-int8") else {}
    pipeline = []
    for component in config["pipeline"]:
        if component_class(component) in ("MiniLMFeaturizer", "MiniLMOutOfScopeDetector"):
            continue
        if name.startswith("minilm-no-char") and component.get("analyzer") == "char_wb":
            continue
        if component_class(component) == "DIETClassifier":
            component = {**component, "random_seed": 42}
            if name.startswith("baseline-oos"):  # DIET as before; MiniLM only for the out-of-scope detector
                pipeline.extend([component, {**DETECTOR_OFF, **backend}])
                continue
            if name != "baseline":
                pipeline.extend([{**FEATURIZER, **backend}, component, {**DETECTOR_OFF, **backend}])
                continue
        pipeline.append(component)
    config["pipeline"] = pipeline
    return config


def train(name: str, workdir: Path, env: dict[str, str]) -> dict:
    config_path, timing = workdir / f"{name}.yml", workdir / f"{name}.training.json"
    config_text = yaml.safe_dump(variant_config(name), sort_keys=False)
    if timing.exists() and config_path.exists() and config_path.read_text() == config_text:
        return {**json.loads(timing.read_text()), "model": workdir / f"{name}.tar.gz"}  # --workdir: reused
    config_path.write_text(config_text)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    completed = subprocess.run(
        [str(RASA), "train", "nlu", "--config", str(config_path), "--nlu", str(workdir / "data"),
         "--out", str(workdir), "--fixed-model-name", name],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True,
    )
    if completed.returncode != 0:
        raise SystemExit(f"training {name} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    measured = {"train_wall_s": time.monotonic() - started,
                "train_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)}
    timing.write_text(json.dumps(measured))
    return {**measured, "model": workdir / f"{name}.tar.gz"}


def load_set(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


def detector_of(agent):
    for node in agent.processor.graph_runner._instantiated_nodes.values():
        if type(node._component).__name__ == "MiniLMOutOfScopeDetector":
            return node._component
    return None


async def parse_all(agent, texts: list[str]) -> list[dict]:
    return [await agent.parse_message(text) for text in texts]


def decide(parse: dict, similarity_to: str, min_similarity: float, margin: float, neighbours: int) -> str:
    """The detector's rule applied to a parse made with the detector off (bot/components/minilm.py)."""
    score = parse.get("minilm_out_of_scope")
    intent = parse["intent"]["name"]
    if not score or score["diet_intent"] == "out_of_scope":
        return intent
    similarity = score[SIMILARITY_TO[similarity_to]]
    far = similarity < min_similarity
    closer_to_refusals = score["out_of_scope_similarity"] - similarity > margin
    among_refusals = score["out_of_scope_neighbours"] >= neighbours
    return "out_of_scope" if far or closer_to_refusals or among_refusals else intent


def measure(cases: list[tuple[str, str]], predicted: list[str]) -> dict:
    from sklearn.metrics import f1_score

    gold = [intent for _, intent in cases]
    labels = sorted(set(gold))
    billing = [(g, p) for g, p in zip(gold, predicted, strict=True) if g in BILLING_INTENTS]
    oos = [p for g, p in zip(gold, predicted, strict=True) if g == "out_of_scope"]
    in_scope = [p for g, p in zip(gold, predicted, strict=True) if g != "out_of_scope"]
    return {
        "messages": len(cases),
        "macro_f1": f1_score(gold, predicted, labels=labels, average="macro", zero_division=0),
        "billing_accuracy": sum(g == p for g, p in billing) / max(1, len(billing)),
        "billing_by_intent": {
            i: sum(g == p for g, p in billing if g == i) / max(1, sum(g == i for g, _ in billing))
            for i in BILLING_INTENTS
            if any(g == i for g, _ in billing)
        },
        "oos_recall": sum(p == "out_of_scope" for p in oos) / max(1, len(oos)),
        "oos_not_billing": sum(p in REJECTED for p in oos) / max(1, len(oos)),
        "wrongly_rejected": sum(p in REJECTED for p in in_scope) / max(1, len(in_scope)),
    }


def tune(sets: dict[str, list], parses: dict[str, list[dict]]) -> tuple[dict, list[tuple]]:
    """Best detector settings on all development messages together: the most out-of-scope messages caught
    minus the in-scope messages lost (out-of-scope recall - in-scope wrongly rejected, both shares); ties ->
    higher macro-F1. A rejected customer can rephrase; a far-domain question answered as billing cannot."""
    cases = [case for name in sets for case in sets[name]]
    all_parses = [parse for name in sets for parse in parses[name]]
    grid = []
    for basis, threshold, margin, neighbours in itertools.product(SIMILARITY_TO, MIN_SIMILARITY, OOS_MARGIN,
                                                                  OOS_NEIGHBOURS):
        scores = measure(cases, [decide(p, basis, threshold, margin, neighbours) for p in all_parses])
        settings = {"similarity_to": basis, "min_similarity": threshold, "oos_margin": margin,
                    "min_out_of_scope_neighbours": neighbours}
        grid.append(
            (
                round(scores["oos_recall"] - scores["wrongly_rejected"], 4), scores["macro_f1"], settings,
                scores,
            )
        )
    grid.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return grid[0][2], [(settings, scores) for _, _, settings, scores in grid]


def row(variant: str, set_name: str, scores: dict) -> str:
    return (
        f"| {variant} | {set_name} ({scores['messages']}) | {scores['macro_f1']:.3f} | "
        f"{scores['billing_accuracy']:.3f} "
        f"| {scores['oos_recall']:.3f} ({scores['oos_not_billing']:.3f}) | {scores['wrongly_rejected']:.3f} |"
    )


def clear_embedding_caches() -> None:
    from bot.components.minilm import _encoders

    for encoder in _encoders.values():
        encoder._cache.clear()


async def interleaved_cpu(agents: dict, texts: list[str]) -> dict[str, list[float]]:
    """CPU ms of each parse, the variants taking turns on every text, so the machine's load (shared with
    other engineers) drifts over all of them alike; no embedding comes from a cache."""
    spent: dict[str, list[float]] = {name: [] for name in agents}
    for agent in agents.values():
        for warm_up in ("hello", "what do i owe"):  # first parses build TF graphs: not a message's cost
            await agent.parse_message(warm_up)
    for text in texts:
        for name, agent in agents.items():
            clear_embedding_caches()
            started = time.process_time()
            await agent.parse_message(text)
            spent[name].append((time.process_time() - started) * 1000)
    return spent


def print_development(args: argparse.Namespace, lines: list[str], report: dict, texts: list[str],
                      cpu_lines: list[str]) -> None:
    print(
        f"\nMachine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), shared; load "
        "average "
        f"{os.getloadavg()[0]:.1f} at the end. DIET seed 42, NLU-only trainings on bot/data as of the run.\n"
    )
    print("\n".join(lines))
    for variant, sets in report.items():
        if "grid_top" in sets:
            print(f"\n{variant}: best detector settings on the development sets "
                  "(-> oos recall / in-scope wrongly rejected / macro-F1):")
            for settings, scores in sets["grid_top"][:5]:
                print(f"- {settings}: {scores['oos_recall']:.3f} / {scores['wrongly_rejected']:.3f} "
                      f"/ {scores['macro_f1']:.3f}")
    print(f"\nCPU per parse, in-process, {len(texts)} development messages, variants taking turns on each:\n")
    print("\n".join(cpu_lines))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str) + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", nargs="+", default=VARIANT_NAMES, choices=VARIANT_NAMES)
    parser.add_argument(
        "--frozen", action="store_true", help="also the frozen set, aggregates only, at the end"
    )
    parser.add_argument("--json", type=Path, help="write every development number here")
    parser.add_argument("--workdir", type=Path, help="keep models, data snapshot and development parses here "
                        "(default: a temporary directory); a model whose config did not change is reused")
    args = parser.parse_args()
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's debug line per parse would be timed as the parse's CPU
    logging.disable(logging.WARNING)

    dev = {path.stem: load_set(path) for path in sorted(DEV_SETS.glob("*.yml"))}
    header = (
        "| variant | set (messages) | intent macro-F1 | billing accuracy | out_of_scope recall (incl. "
        "nlu_fallback) | in-scope wrongly rejected |\n|---|---|---|---|---|---|"
    )
    lines, report, agents, trainings, labels = [header], {}, {}, {}, {}
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nlu-minilm-")))
        workdir.mkdir(parents=True, exist_ok=True)
        # A snapshot, so editing the data while this runs does not mix two datasets into one table.
        if not (workdir / "data").exists():
            shutil.copytree(REPO_ROOT / "bot" / "data", workdir / "data")
        env = {**os.environ, "RASA_CACHE_DIRECTORY": str(workdir / "cache"), "TF_CPP_MIN_LOG_LEVEL": "2",
               "RASA_TELEMETRY_ENABLED": "false"}
        for variant in args.variants:
            trainings[variant] = train(variant, workdir, env)
            print(
                f"trained {variant}: {trainings[variant]['train_wall_s']:.0f} s", file=sys.stderr, flush=True
            )
            agent = Agent.load(str(trainings[variant]["model"]))
            parses = {
                name: asyncio.run(parse_all(agent, [t for t, _ in cases])) for name, cases in dev.items()
            }
            by_set = {
                name: [
                    {"text": t, "gold": g, "parse": p}
                    for (t, g), p in zip(dev[name], parses[name], strict=True)
                ]
                for name in dev
            }
            (workdir / f"parses-{variant}.json").write_text(json.dumps(by_set, default=str))
            report[variant] = {}
            for name, cases in dev.items():
                report[variant][name] = measure(cases, [p["intent"]["name"] for p in parses[name]])
                lines.append(row(variant, name, report[variant][name]))
            agents[variant] = agent
            detector = detector_of(agent)
            if detector is None:
                continue
            settings, grid = tune(dev, parses)
            labels[variant] = f"{variant}+oos ({', '.join(f'{k} {v}' for k, v in settings.items())})"
            report[variant]["detector"], report[variant]["grid_top"] = settings, grid[:10]
            detector._config = {**detector._config, **settings}
            for name, cases in dev.items():
                checked = asyncio.run(parse_all(agent, [t for t, _ in cases]))
                simulated = [decide(p, *settings.values()) for p in parses[name]]
                assert [p["intent"]["name"] for p in checked] == simulated, (
                    "the detector disagrees with its rule"
                )
                report[variant][f"{name}+oos"] = measure(cases, simulated)
                lines.append(row(labels[variant], name, report[variant][f"{name}+oos"]))

        texts = [text for cases in dev.values() for text, _ in cases]
        cpu = asyncio.run(interleaved_cpu(agents, texts))
        base = statistics.mean(cpu["baseline"]) if "baseline" in cpu else None
        cpu_lines = [
            "| variant (detector on where present) | CPU ms per parse: mean | median | 90th percentile "
            "| mean minus baseline | NLU training: wall (CPU) |",
            "|---|---|---|---|---|---|",
        ]
        for variant, spent in cpu.items():
            ordered = sorted(spent)
            report[variant]["cpu_ms"] = {"mean": statistics.mean(spent), "median": statistics.median(spent)}
            trained = trainings[variant]
            cpu_lines.append(
                f"| {variant} | {statistics.mean(spent):.1f} | {statistics.median(spent):.1f} "
                f"| {ordered[int(0.9 * len(ordered))]:.1f} | "
                f"{'' if base is None else f'{statistics.mean(spent) - base:+.1f}'} "
                f"| {trained['train_wall_s']:.0f} s ({trained['train_cpu_s']:.0f} s) |"
            )

        print_development(args, lines, report, texts, cpu_lines)
        frozen_lines = [header]
        if args.frozen:  # last, with every setting already fixed from the development sets; aggregates only
            frozen = [case for path in sorted(FROZEN_SET.glob("*.yml")) for case in load_set(path)]
            for variant, agent in agents.items():
                detector = detector_of(agent)
                predicted = [
                    p["intent"]["name"] for p in asyncio.run(parse_all(agent, [t for t, _ in frozen]))
                ]
                if detector is not None:
                    frozen_lines.append(row(labels[variant], "frozen", measure(frozen, predicted)))
                    detector._config = {
                        **detector._config, **{k: v for k, v in DETECTOR_OFF.items() if k != "name"},
                    }
                    predicted = [
                        p["intent"]["name"] for p in asyncio.run(parse_all(agent, [t for t, _ in frozen]))
                    ]
                frozen_lines.insert(
                    len(frozen_lines) - (detector is not None),
                    row(variant, "frozen", measure(frozen, predicted)),
                )
    if len(frozen_lines) > 1:
        print(
            "\nFrozen set (aggregates only; every setting fixed from the development sets before it was "
            "read):\n"
        )
        print("\n".join(frozen_lines))


if __name__ == "__main__":
    main()
