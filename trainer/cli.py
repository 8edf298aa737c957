"""`python -m trainer COMMAND`: the trainers' loop from a terminal (guide: docs/teaching-the-bot.md)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from trainer.errors import TrainerError
from trainer.settings import REPO_ROOT, TrainerSettings


def _review(args: argparse.Namespace, settings: TrainerSettings) -> int:
    from trainer.review import find_review_items, render_json, render_markdown

    threshold = args.threshold if args.threshold is not None else settings.review_confidence_threshold
    since = datetime.now(UTC) - timedelta(days=args.days) if args.days else None
    clusters = find_review_items(
        args.database_url or settings.tracker_database_url, threshold, since=since
    )
    text = (
        render_json(clusters, threshold=threshold)
        if args.json
        else render_markdown(clusters, threshold=threshold)
    )
    if args.out:
        Path(args.out).write_text(text)
        print(f"{sum(c.count for c in clusters)} messages in {len(clusters)} groups -> {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _teach(args: argparse.Namespace, settings: TrainerSettings) -> int:
    from trainer.teach import add_examples, examples_from_review

    examples = list(args.examples)
    if args.examples_file:
        examples += Path(args.examples_file).read_text(encoding="utf-8").splitlines()
    if args.from_review:
        examples += examples_from_review(Path(args.from_review), cluster_ids=args.cluster)
    result = add_examples(
        repo_root=Path(args.repo), intent=args.intent, examples=examples, nlu_file=args.file
    )
    for text in result.skipped:
        print(f"already there, skipped: {text}")
    print(f"added {len(result.added)} example(s) to intent {args.intent!r} in {result.path}")
    return 0


def _new_intent(args: argparse.Namespace, settings: TrainerSettings) -> int:
    from trainer.scaffold import new_intent
    from trainer.teach import examples_from_review

    examples = list(args.examples)
    if args.examples_file:
        examples += Path(args.examples_file).read_text(encoding="utf-8").splitlines()
    if args.from_review:
        examples += examples_from_review(Path(args.from_review), cluster_ids=args.cluster)
    result = new_intent(
        repo_root=Path(args.repo),
        name=args.name,
        examples=examples,
        test_examples=list(args.test_examples),
        nlu_file=args.file,
    )
    print(result.instructions())
    return 0


def _check(args: argparse.Namespace, settings: TrainerSettings) -> int:
    from trainer.check import check_data

    report = check_data(repo_root=Path(args.repo), min_examples=args.min_examples)
    print(report.render())
    return 0 if report.ok else 1


def _train(args: argparse.Namespace, settings: TrainerSettings) -> int:
    from trainer.training import train

    result = train(repo_root=Path(args.repo), mode=args.mode, epoch_fraction=args.epoch_fraction)
    print(result.model)
    return 0


def _ship(args: argparse.Namespace, settings: TrainerSettings) -> int:
    from trainer.ship import ship

    entry = ship(repo_root=Path(args.repo), model=args.model, rasa_url=settings.rasa_url,
                 token=settings.rasa_auth_token)
    print(f"Rasa now serves {entry.model}")
    return 0


def _rollback(args: argparse.Namespace, settings: TrainerSettings) -> int:
    from trainer.ship import rollback

    entry = rollback(repo_root=Path(args.repo), rasa_url=settings.rasa_url, token=settings.rasa_auth_token)
    print(f"rolled back: Rasa now serves {entry.model}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainer", description=__doc__)
    parser.add_argument("--repo", default=str(REPO_ROOT), help="repository root (default: this checkout)")
    commands = parser.add_subparsers(dest="command", required=True)

    review = commands.add_parser("review", help="list the messages the bot handled badly, grouped")
    review.add_argument("--database-url", help="tracker store (default: $TRACKER_DATABASE_URL)")
    review.add_argument(
        "--threshold", type=float, help="intent confidence below this is listed (default 0.6)"
    )
    review.add_argument("--days", type=int, help="only the last N days")
    review.add_argument("--out", help="write to this file instead of stdout")
    review.add_argument("--json", action="store_true", help="JSON instead of Markdown")
    review.set_defaults(handler=_review)

    teach = commands.add_parser("teach", help="add examples to an existing intent")
    teach.add_argument("--intent", required=True)
    teach.add_argument("examples", nargs="*", help="example messages")
    teach.add_argument("--examples-file", help="a file with one example per line")
    teach.add_argument("--from-review", help="a review file written with --json")
    teach.add_argument("--cluster", action="append", default=[], help="cluster id(s) of that review file")
    teach.add_argument("--file", help="NLU file for the examples (default: where the intent lives)")
    teach.set_defaults(handler=_teach)

    new = commands.add_parser("new-intent", help="scaffold a new intent: NLU, domain, rule, tests")
    new.add_argument("name")
    new.add_argument(
        "--example", dest="examples", action="append", default=[], help="training example (>= 2)"
    )
    new.add_argument("--test-example", dest="test_examples", action="append", default=[],
                     help="held-out example for tests/nlu (default: every 5th example is held out)")
    new.add_argument("--examples-file", help="a file with one example per line")
    new.add_argument("--from-review", help="a review file written with --json")
    new.add_argument("--cluster", action="append", default=[], help="cluster id(s) of that review file")
    new.add_argument("--file", help="NLU file for the new intent (default bot/data/nlu/taught_intents.yml)")
    new.set_defaults(handler=_new_intent)

    check = commands.add_parser("check", help="the project's data checks (part of make validate)")
    check.add_argument("--min-examples", type=int, default=None)
    check.set_defaults(handler=_check)

    train = commands.add_parser("train", help="train the model the data maps to")
    train.add_argument(
        "--mode", choices=("full", "auto", "finetune"), default="auto",
        help="auto (default): finetune the previous model when only examples changed, else full",
    )
    train.add_argument("--epoch-fraction", type=float, default=None)
    train.set_defaults(handler=_train)

    ship = commands.add_parser("ship", help="load a model into the running Rasa server, without downtime")
    ship.add_argument("model", nargs="?", help="model file (default: the one the current data maps to)")
    ship.set_defaults(handler=_ship)

    rollback = commands.add_parser("rollback", help="load the previously shipped model again")
    rollback.set_defaults(handler=_rollback)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args, TrainerSettings())
        return code
    except TrainerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
