"""Screenshots of the widget and the console for the README, from a real stack in Debian's chromium.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts the whole stack (backend, actions, Rasa with the model of the current data, else models/current.tar.gz;
handoff) on free loopback ports with fresh demo data in a temporary directory (tests/support/stack.py), then:
- widget-desktop.png: Hiro asks why his bill is higher, on a 1280x800 desktop;
- widget-phone.png: Alice asks for her balance on a 375x740 phone (the widget opens full screen);
- console-queue.png: Ben asked for a person, his chat waits in Dana's queue;
- console-conversation.png: Dana claimed it: transcript, context and the account panel;
- console-reports.png: Sam's supervisor reports; console-trainer.png: Tess's review, retrain and ship page.
PNGs are reduced to a 256-colour palette when that keeps them under 300 KB. Nothing is asserted: a step that
times out is reported and the screenshot taken as the page is.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import Browser, Page  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from tests.support.browser import chromium  # noqa: E402
from tests.support.demo_page import pick_demo_customer, sign_in_to_console  # noqa: E402
from tests.support.stack import Stack, current_model  # noqa: E402

MAX_BYTES = 300_000
DESKTOP = {"width": 1280, "height": 800}
CONSOLE = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 740}


def step(name: str, action: Callable[[], object]) -> None:
    try:
        action()
    except PlaywrightTimeout as error:
        print(f"  ({name}: {str(error).splitlines()[0]}; taking the screenshot as it is)")


def save(page: Page, path: Path, *, full_page: bool = False) -> None:
    page.screenshot(path=str(path), full_page=full_page)
    if path.stat().st_size > MAX_BYTES:
        with Image.open(path) as image:
            reduced = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
            reduced.save(path, optimize=True)
    print(f"  {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}: "
          f"{path.stat().st_size // 1000} KB")


def chat(page: Page, text: str, *, replies: int = 1) -> None:
    """Send `text` and wait until the bot (or the status banner) has answered."""
    bot = page.locator("[data-testid=chat-message][data-sender=bot]")
    before = bot.count()
    page.fill("[data-testid=chat-input]", text)
    page.click("[data-testid=chat-send]")
    step(f"answer to {text!r}", lambda: page.wait_for_function(
        "([n]) => document.querySelectorAll('[data-testid=chat-message][data-sender=bot]').length >= n",
        arg=[before + replies], timeout=45_000))
    step("typing indicator gone", lambda: page.wait_for_selector("[data-testid=chat-typing]", state="hidden",
                                                                 timeout=45_000))
    page.wait_for_timeout(800)  # the list scrolls to the end


def open_widget(browser: Browser, base_url: str, customer: tuple[int, str], viewport: dict, **context: object
                ) -> Page:
    page = browser.new_context(viewport=viewport, **context).new_page()  # type: ignore[arg-type]
    page.goto(base_url + "/")
    pick_demo_customer(page, *customer)
    page.click("[data-testid=chat-launcher]")
    page.wait_for_selector("[data-testid=chat-connection][data-state=connected]", timeout=30_000)
    step("greeting", lambda: page.wait_for_selector("[data-testid=chat-message][data-sender=bot]",
                                                    timeout=30_000))
    return page


def tap_first(page: Page, titles: tuple[str, ...], timeout: int = 30_000) -> None:
    selector = ", ".join(f"[data-testid=chat-button]:has-text('{title}'):not([disabled])" for title in titles)
    page.wait_for_selector(selector, timeout=timeout)
    page.locator(selector).last.click()


def take(stack: Stack, out: Path) -> None:
    base = stack.handoff_url
    with chromium() as browser:
        print("widget, desktop")
        hiro = open_widget(browser, base, (8, "Hiro"), DESKTOP)
        chat(hiro, "why is my bill higher this month?")
        save(hiro, out / "widget-desktop.png")

        print("widget, phone")
        alice = open_widget(browser, base, (1, "Alice"), PHONE, is_mobile=True, has_touch=True,
                            device_scale_factor=2)
        chat(alice, "what is my balance?")
        chat(alice, "when is it due?")
        save(alice, out / "widget-phone.png")

        print("console: queue")
        console = browser.new_context(viewport=CONSOLE).new_page()
        sign_in_to_console(console, base, "dana", "dana-demo-pass")
        console.wait_for_selector("[data-testid=console-connection][data-state=connected]", timeout=30_000)
        ben = open_widget(browser, base, (2, "Ben"), DESKTOP)
        chat(ben, "what is my balance?")
        chat(ben, "I want to talk to a person")
        step("confirm the handoff", lambda: tap_first(ben, ("Yes", "Talk to a person", "person"), 3_000))
        step("queued", lambda: ben.wait_for_selector("[data-testid=chat-status][data-state=queued]",
                                                     timeout=30_000))
        step("queue item", lambda: console.wait_for_selector("[data-testid=queue-item]", timeout=30_000))
        console.wait_for_timeout(800)
        save(console, out / "console-queue.png")

        print("console: conversation with the account panel")
        step("claim", lambda: console.click("[data-testid=queue-claim]", timeout=10_000))
        step("account", lambda: console.wait_for_selector("[data-testid=account-invoice]", timeout=30_000))
        step("joined", lambda: ben.wait_for_selector("[data-testid=chat-message][data-sender=system]",
                                                     timeout=15_000))
        console.fill("[data-testid=agent-input]", "Hi Ben, this is Dana. I can see your account: how can I "
                     "help?")
        console.click("[data-testid=agent-send]")
        step("agent line", lambda: ben.wait_for_selector("[data-testid=chat-message][data-sender=agent]",
                                                         timeout=15_000))
        ben.fill("[data-testid=chat-input]", "Thanks Dana, I'd like to check my last payment.")
        ben.click("[data-testid=chat-send]")
        step("customer line", lambda: console.wait_for_selector(
            "[data-testid=transcript-message][data-sender=customer] >> text=last payment", timeout=15_000))
        console.wait_for_timeout(800)
        save(console, out / "console-conversation.png")

        print("console: supervisor reports")
        sam = browser.new_context(viewport=CONSOLE).new_page()
        sign_in_to_console(sam, base, "sam", "sam-demo-pass")
        step("reports", lambda: sam.click("[data-testid=nav-supervisor]", timeout=30_000))
        step("figures", lambda: sam.wait_for_selector("[data-testid=figure-conversations-value]",
                                                      timeout=30_000))
        sam.wait_for_timeout(1500)
        save(sam, out / "console-reports.png")

        print("console: trainer")
        tess = browser.new_context(viewport=CONSOLE).new_page()
        sign_in_to_console(tess, base, "tess", "tess-demo-pass")
        step("trainer page", lambda: tess.wait_for_selector("[data-testid=model-panel][data-job-state]",
                                                            timeout=30_000))
        tess.wait_for_timeout(1000)
        save(tess, out / "console-trainer.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        current_model()
    except RuntimeError:  # data changed since the last training: the model the stack ran last time
        os.environ["STACK_MODEL"] = str(REPO_ROOT / "models" / "current.tar.gz")
    with tempfile.TemporaryDirectory(prefix="screenshots-") as workdir:
        print("starting the stack (Rasa loads its model: a minute or two)")
        stack = Stack(Path(workdir)).start(rasa_timeout=300)
        try:
            take(stack, args.out.resolve())
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
