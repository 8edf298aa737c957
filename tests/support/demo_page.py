"""The demo website's chat widget in a real browser: sign in as a demo customer and chat."""

from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, ElementHandle, Page, expect


class DemoPage:
    def __init__(self, browser: Browser, base_url: str) -> None:
        self.context: BrowserContext = browser.new_context()
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(base_url + "/")

    def sign_in(self, customer_id: int, first_name: str) -> None:
        pick_demo_customer(self.page, customer_id, first_name)

    def open_chat(self) -> None:
        self.page.click("[data-testid=chat-launcher]")
        self.page.wait_for_selector("[data-testid=chat-connection][data-state=connected]")

    def send(self, text: str) -> None:
        self.page.fill("[data-testid=chat-input]", text)
        self.page.click("[data-testid=chat-send]")

    def wait_for_bot_text(self, text: str, timeout_ms: int = 30_000) -> ElementHandle:
        return self.page.wait_for_selector(
            f"[data-testid=chat-message][data-sender=bot] >> text={text}", timeout=timeout_ms
        )

    def close(self) -> None:
        self.context.close()


def pick_demo_customer(page: Page, customer_id: int, first_name: str) -> None:
    """Sign in on the demo website as a demo customer and wait until the page says so.

    A locator assertion, not wait_for_function: the page's CSP (no 'unsafe-eval') blocks the eval that
    Playwright's polling of a string predicate uses, which failed whenever the first check came too early."""
    page.select_option("[data-testid=customer-picker]", str(customer_id))
    expect(page.locator("[data-testid=signed-in-as]")).to_contain_text(first_name, timeout=30_000)


def sign_in_to_console(page: Page, base_url: str, username: str, password: str) -> None:
    """Open the specialist console in `page` and submit the sign-in form (demo staff: docs/contracts.md)."""
    page.goto(base_url + "/console")
    page.fill("[data-testid=login-username]", username)
    page.fill("[data-testid=login-password]", password)
    page.click("[data-testid=login-submit]")
