from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from tests.actions.fakes import FakeBilling, FakeHandoff


@pytest.fixture
def billing() -> FakeBilling:
    return FakeBilling()


@pytest.fixture
def handoff() -> FakeHandoff:
    return FakeHandoff()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


SIGNED_IN = {"customer_id": 4, "conversation_id": "conv-1"}


@pytest.fixture(scope="session")
def domain() -> dict:
    """The real domain.yml, as rasa-sdk receives it."""
    return yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text())
