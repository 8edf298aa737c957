#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed. The model file is named by the content of its
# inputs (config, domain, training data, the project's own components, spaCy pipeline), so the same data always maps to the same
# file and `models/` keeps earlier versions for rollback.
#   scripts/train.sh            train if needed, print the model path last
#   scripts/train.sh --path     only print the path the current inputs map to
set -euo pipefail
cd "$(dirname "$0")/.."

fingerprint() {
  { sha256sum config.yml domain.yml
    find bot/data -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.txt' \) -print0 | sort -z | xargs -0 sha256sum
    find bot/components -type f -name '*.py' -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum
    cat build/spacy/en_billing/billing_pipeline.json 2>/dev/null || true
  } | sha256sum | cut -c1-12
}

model="models/billing-$(fingerprint).tar.gz"
if [ "${1:-}" = "--path" ]; then echo "$model"; exit 0; fi

if [ -f "$model" ]; then
  echo "==> model up to date: $model" >&2
else
  echo "==> training $model (inputs changed)" >&2
  mkdir -p models
  .venv-bot/bin/rasa train --config config.yml --domain domain.yml --data bot/data \
    --out models --fixed-model-name "$(basename "$model" .tar.gz)" >&2
fi
ln -sfn "$(basename "$model")" models/current.tar.gz
echo "$model"
