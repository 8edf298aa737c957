"""Plugins for every test session: the trust report (issue 8) from the tests marked `trust_case`."""

pytest_plugins = ["tests.support.trust_report"]
