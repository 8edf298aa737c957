"""The console page for each staff role in Debian's chromium: its ES modules load as JavaScript under the CSP,
run without script errors, leave no globals behind and show the screen that role works in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Response, expect

from tests.handoff.conftest import HandoffProcess
from tests.support.browser import chromium
from tests.support.demo_page import sign_in_to_console

JAVASCRIPT_TYPES = ("text/javascript", "application/javascript")
# What a browser logs when a script is refused, throws, or a module is not served as JavaScript. The
# 4xx/5xx answers the console shows the user (the trainer's review without a tracker store) are logged too.
SCRIPT_FAILURES = ("Content Security Policy", "Uncaught", "module script")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


class ConsolePage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.script_types: dict[str, str] = {}
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._on_console)
        page.on("response", self._on_response)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and any(failure in message.text for failure in SCRIPT_FAILURES):
            self.errors.append(message.text)

    def _on_response(self, response: Response) -> None:
        if "/static/" in response.url and response.url.endswith(".js"):
            self.script_types[response.url.split("/static/", 1)[1]] = response.headers.get("content-type", "")

    def part(self, test_id: str) -> Locator:
        return self.page.locator(f"[data-testid={test_id}]")

    def globals_added(self) -> list[str]:
        """Window properties the page's scripts added, against a page of the same origin that runs none."""
        blank = self.page.context.new_page()
        try:
            blank.goto(self.page.url.split("/console", 1)[0] + "/static/console.css")
            baseline = set(blank.evaluate("() => Object.keys(window)"))
        finally:
            blank.close()
        return sorted(set(self.page.evaluate("() => Object.keys(window)")) - baseline)


@contextmanager
def signed_in(browser: Browser, base_url: str, username: str) -> Iterator[ConsolePage]:
    context = browser.new_context()
    try:
        console = ConsolePage(context.new_page())
        sign_in_to_console(console.page, base_url, username, f"{username}-demo-pass")
        expect(console.part("app-view")).to_be_visible()
        yield console
        assert console.errors == [], console.errors
        assert console.globals_added() == []
    finally:
        context.close()


def assert_modules_served_as_javascript(console: ConsolePage) -> None:
    types = console.script_types
    assert "console.js" in types and "console/api.js" in types and "console/socket.js" in types, types
    assert all(value.startswith(JAVASCRIPT_TYPES) for value in types.values()), types


@pytest.mark.browser
def test_specialist_console_loads_its_modules_resumes_and_signs_out(
        handoff: HandoffProcess, browser: Browser) -> None:
    with signed_in(browser, handoff.url, "dana") as console:
        expect(console.part("console-connection")).to_have_attribute("data-state", "connected")
        expect(console.part("console-user")).to_have_attribute("data-role", "specialist")
        expect(console.part("work-view")).to_be_visible()
        expect(console.part("queue-empty")).to_be_visible()
        expect(console.part("nav-supervisor")).to_be_hidden()
        expect(console.part("trainer-view")).to_be_hidden()
        assert_modules_served_as_javascript(console)

        console.page.reload()  # the session cookie signs her straight back in, without the form
        expect(console.part("console-connection")).to_have_attribute("data-state", "connected")
        expect(console.part("login-view")).to_be_hidden()

        console.page.click("[data-testid=logout-button]")
        expect(console.part("login-view")).to_be_visible()
        expect(console.part("app-view")).to_be_hidden()


@pytest.mark.browser
def test_supervisor_console_shows_the_report_then_the_queue(
        handoff: HandoffProcess, browser: Browser) -> None:
    with signed_in(browser, handoff.url, "sam") as console:
        expect(console.part("console-user")).to_have_attribute("data-role", "supervisor")
        expect(console.part("console-connection")).to_have_attribute("data-state", "connected")
        console.page.click("[data-testid=nav-supervisor]")
        expect(console.part("supervisor-view")).to_be_visible()
        expect(console.part("work-view")).to_be_hidden()
        expect(console.part("figure-conversations-value")).to_have_text("0")
        expect(console.part("chart-by-day").locator("[data-testid=chart-bar]")).to_have_count(1)
        expect(console.part("chart-csat").locator("[data-testid=chart-bar]")).to_have_count(5)
        expect(console.part("audit-entry")).not_to_have_count(0)  # sam's own sign-in is audited
        console.page.click("[data-testid=nav-queue]")
        expect(console.part("work-view")).to_be_visible()
        expect(console.part("supervisor-view")).to_be_hidden()


@pytest.mark.browser
def test_trainer_console_shows_review_and_teach_only(
        handoff: HandoffProcess, browser: Browser) -> None:
    with signed_in(browser, handoff.url, "tess") as console:
        expect(console.part("console-user")).to_have_attribute("data-role", "trainer")
        expect(console.part("trainer-view")).to_be_visible()
        expect(console.part("work-view")).to_be_hidden()
        expect(console.part("nav-queue")).to_be_hidden()
        expect(console.part("nav-supervisor")).to_be_hidden()
        # Trainers have no chats, so no console socket: the indicator follows the page's polls of the service.
        expect(console.part("console-connection")).to_have_attribute("data-state", "connected")
        expect(console.part("console-connection")).to_have_text("connected")
        assert_modules_served_as_javascript(console)
