"""One replicated topology (tests/support/replicas.py) shared by the tests of this folder."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.support.replicas import Replicas


@pytest.fixture(scope="module")
def replicas(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    failed_before = request.session.testsfailed
    running = Replicas(workdir=tmp_path_factory.mktemp("replicas")).start()
    try:
        yield running
    finally:
        if request.session.testsfailed > failed_before:  # the processes' own words, past pytest's capture
            print(running.dump_logs(80), file=sys.__stderr__)
        running.stop()
