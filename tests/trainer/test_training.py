"""When `make retrain` finetunes and when it must train from scratch (no training needed to tell)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.trainer.repo_copy import copy_repo
from tests.trainer.test_scaffold import EXAMPLES, NAME
from trainer.scaffold import new_intent
from trainer.teach import add_examples
from trainer.training import MANIFEST_SUFFIX, can_finetune, labels_signature


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path)


@pytest.fixture
def previous(repo: Path) -> Path:
    """A model as `trainer train` leaves it: the archive and its manifest of the data it was trained on."""
    model = repo / "models" / "billing-000000000000.tar.gz"
    model.parent.mkdir()
    model.write_bytes(b"")
    model.with_name(model.name.removesuffix(".tar.gz") + MANIFEST_SUFFIX).write_text(
        json.dumps({**labels_signature(repo), "mode": "full"})
    )
    return model


def test_new_examples_finetune(repo: Path, previous: Path) -> None:
    add_examples(repo_root=repo, intent="how_to_pay", examples=["where do i mail a check for my bill"])
    assert can_finetune(repo, previous)[0]


def test_a_new_intent_needs_a_full_training(repo: Path, previous: Path) -> None:
    new_intent(repo_root=repo, name=NAME, examples=EXAMPLES)
    allowed, why = can_finetune(repo, previous)
    assert not allowed and "finetuning cannot add labels" in why


def test_epochs_may_change_other_config_may_not(repo: Path, previous: Path) -> None:
    config = repo / "config.yml"
    original = config.read_text()
    config.write_text(re.sub(r"epochs: \d+", "epochs: 7", original))
    assert can_finetune(repo, previous)[0]
    config.write_text(original.replace("max_ngram: 4", "max_ngram: 5"))
    assert can_finetune(repo, previous) == (False, "config.yml changed")


def test_no_previous_model_means_full(repo: Path) -> None:
    assert can_finetune(repo, None) == (False, "no previous model")
